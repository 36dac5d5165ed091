//! The table of tools: which are listed in each tool mode, and which function answers each name.
//! A new tool adds one line to [`definitions`] and one arm to [`dispatch`].
//!
//! Every call is timed, counted in the metrics and logged with `instance`, `pid` (the shim's;
//! none for an HTTP session), `tool`, `archive` (when the call names one), `duration_ms` and
//! `outcome` (`ok` or the error code). Levels are chosen for a busy daemon, where the log must
//! stay readable at INFO:
//!
//! - DEBUG for a call answered within [`SLOW_CALL`]: the bulk of the traffic, counted in the
//!   metrics already;
//! - INFO for a slow answer (an operator looks for these when clients complain) and for a call
//!   refused because of the caller's arguments (a missing entry, a bad mode): the model is told
//!   and corrects itself, but the line shows what a client saw;
//! - WARN for a failure caused by the daemon or its archives (an unreadable archive, a
//!   redirect loop, no archives at all): something an operator may have to fix.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject, Tool};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::args::{self, ToolError};
use super::{Session, browse, get, health, links, metadata, query, search, section, server_tools};
use crate::metrics;
use crate::settings::ToolMode;

/// Successful calls slower than this are logged at INFO.
pub const SLOW_CALL: Duration = Duration::from_secs(1);

/// The most characters of a client's text (a message, a tool or archive name) written to the log.
const LOGGED_CHARS: usize = 300;

/// Error codes that point at the daemon or its archives rather than at the caller.
const SERVER_FAULTS: [&str; 5] = [
    "archive_unreadable",
    "internal_error",
    "redirect_loop",
    "too_many_redirects",
    "no_archives_loaded",
];

/// Every tool's name, listed or not.
const KNOWN_TOOLS: [&str; 12] = [
    health::NAME,
    metadata::NAME,
    get::NAME,
    section::NAME,
    links::NAME,
    browse::NAME,
    search::NAME,
    query::NAME,
    server_tools::NAMES[0],
    server_tools::NAMES[1],
    server_tools::NAMES[2],
    server_tools::NAMES[3],
];

/// Answers a call of a tool: dispatches it, then times, counts and logs it.
pub async fn call(
    session: Arc<Session>,
    request: CallToolRequestParams,
    cancel: CancellationToken,
) -> CallToolResult {
    let started = Instant::now();
    let archive = request
        .arguments
        .as_ref()
        .and_then(|arguments| arguments.get("zim_file_path"))
        .and_then(Value::as_str)
        .map(loggable);
    let name = request.name;
    let outcome = dispatch(Arc::clone(&session), &name, request.arguments, cancel).await;
    let elapsed = started.elapsed();

    let tool = metric_label(&name);
    let code = outcome.as_ref().err().map(|error| error.operation.as_str());
    metrics::tool_call(tool, code, elapsed.as_secs_f64());

    log_call(&session, &name, archive, elapsed, &outcome);
    match outcome {
        Ok(value) => args::success(value),
        Err(error) => error.into_result(),
    }
}

/// Writes the call's log line, at the level the module documentation gives.
fn log_call(
    session: &Session,
    name: &str,
    archive: Option<String>,
    elapsed: Duration,
    outcome: &Result<Value, ToolError>,
) {
    let instance = session.instance_id.as_str();
    let pid = session.registry.pid(instance);
    let duration_ms = (elapsed.as_secs_f64() * 10_000.0).round() / 10.0;
    let tool = loggable(name);
    let error = match outcome {
        Ok(_) if elapsed < SLOW_CALL => {
            let outcome = "ok";
            debug!(
                instance,
                pid, tool, archive, duration_ms, outcome, "tool answered"
            );
            return;
        }
        Ok(_) => {
            let outcome = "ok";
            info!(
                instance,
                pid, tool, archive, duration_ms, outcome, "slow tool call answered"
            );
            return;
        }
        Err(error) => error,
    };
    let outcome = error.operation.as_str();
    let reason = loggable(&error.message);
    if SERVER_FAULTS.contains(&outcome) {
        warn!(
            instance,
            pid, tool, archive, duration_ms, outcome, reason, "tool call failed"
        );
    } else {
        info!(
            instance,
            pid, tool, archive, duration_ms, outcome, reason, "tool call refused"
        );
    }
}

/// A client's text as a log field: control characters (which could forge log lines) dropped,
/// and cut so that a huge argument cannot flood the log.
fn loggable(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(LOGGED_CHARS)
        .collect()
}

/// The name a tool is counted under: its own, or `unknown` for a name no tool has, so that
/// clients cannot make up label values.
fn metric_label(name: &str) -> &'static str {
    KNOWN_TOOLS
        .iter()
        .copied()
        .find(|known| *known == name)
        .unwrap_or("unknown")
}

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
