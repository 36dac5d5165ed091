//! The table of tools: which are listed in each tool mode, and which function answers each name.
//! A new tool adds one line to [`definitions`] and one arm to [`dispatch`].

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::args::ToolError;
use super::{Session, browse, get, health, links, metadata, query, search, section, server_tools};
use crate::settings::ToolMode;

/// The tools a session in `mode` lists. Simple mode lists only the natural-language front door;
/// the other tools still answer when called, so a client that remembers them keeps working.
pub fn definitions(mode: ToolMode) -> Vec<Tool> {
    let mut tools = vec![
        health::definition(),
        metadata::definition(),
        get::definition(),
        section::definition(),
        links::definition(),
        browse::definition(),
        search::definition(),
        query::definition(),
    ];
    tools.extend(server_tools::definitions());
    match mode {
        ToolMode::Advanced => tools,
        // Small models see the one tool that takes plain words.
        ToolMode::Simple => vec![query::definition()],
    }
}

/// Answers a call of the tool `name`.
pub async fn dispatch(
    session: Arc<Session>,
    name: &str,
    arguments: Option<JsonObject>,
    cancel: CancellationToken,
) -> Result<Value, ToolError> {
    match name {
        health::NAME => health::call(&session, arguments),
        metadata::NAME => metadata::call(session, arguments).await,
        get::NAME => get::call(session, arguments).await,
        section::NAME => section::call(session, arguments).await,
        browse::NAME => browse::call(session, arguments).await,
        search::NAME => search::call(session, arguments, cancel).await,
        query::NAME => query::call(session, arguments, cancel).await,
        links::NAME => links::call(session, arguments).await,
        name if server_tools::NAMES.contains(&name) => {
            server_tools::call(session, name, arguments).await
        }
        unknown => Err(unknown_tool(unknown, session.settings.tool_mode)),
    }
}

/// A name no tool has, answered with the tools the session's mode lists, so a small model in
/// simple mode is not sent to tools it does not see.
fn unknown_tool(name: &str, mode: ToolMode) -> ToolError {
    let available: Vec<String> = definitions(mode)
        .into_iter()
        .map(|tool| tool.name.to_string())
        .collect();
    let closest = super::args::closest(name, &available);
    let hint = closest
        .as_ref()
        .map(|close| format!(" Did you mean '{close}'?"))
        .unwrap_or_default();
    ToolError::new(
        "unknown_tool",
        format!(
            "there is no tool named {name}.{hint} Available: {}",
            available.join(", ")
        ),
    )
    .with("available_tools", available)
    .with("closest_match", closest)
}
