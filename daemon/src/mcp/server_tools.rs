//! The four management tools of openzim-mcp's guide: `get_server_health`,
//! `get_server_configuration`, `diagnose_server_state` and `resolve_server_conflicts`. They are
//! thin: each asks [`crate::instances`] for the document the operator's commands also print.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Session;
use super::args::{self, ToolError};
use crate::instances::{self, View};

/// Names of the tools, in the order they are listed.
pub const NAMES: [&str; 4] = [
    "get_server_health",
    "get_server_configuration",
    "diagnose_server_state",
    "resolve_server_conflicts",
];

/// No arguments.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ResolveArgs {
    /// Only report what would be done (default false).
    dry_run: Option<bool>,
}

/// The tools as clients see them.
pub fn definitions() -> Vec<Tool> {
    let resolve = args::tool::<ResolveArgs>(
        NAMES[3],
        "Settle instance conflicts: remove stale instance files of the Python openzim-mcp \
         server and end ozm shims whose AI client has exited. Reports every action; \
         dry_run=true only says what it would do.",
    )
    .with_annotations(
        ToolAnnotations::new()
            .read_only(false)
            .destructive(true)
            .open_world(false),
    );
    vec![
        args::tool::<NoArgs>(
            NAMES[0],
            "Server health: uptime, archives, cache figures, \
            instance tracking (active instances, conflicts) and recommendations.",
        ),
        args::tool::<NoArgs>(
            NAMES[1],
            "The effective settings of this session and the \
            daemon's daemon-wide settings, with config_hash; warns where this session asked \
            for a daemon-wide value the daemon does not use.",
        ),
        args::tool::<NoArgs>(
            NAMES[2],
            "Conflicts between server instances (configuration \
            mismatch, multiple instances, stale instance files, orphaned or unresponsive \
            shims), checks of each served directory, and recommendations.",
        ),
        resolve,
    ]
}

/// Answers a call to one of [`NAMES`].
pub async fn call(
    session: Arc<Session>,
    name: &str,
    arguments: Option<JsonObject>,
) -> Result<Value, ToolError> {
    let dry_run = if name == NAMES[3] {
        args::parse::<ResolveArgs>(name, arguments)?
            .dry_run
            .unwrap_or(false)
    } else {
        args::parse::<NoArgs>(name, arguments)?;
        false
    };
    let name = name.to_owned();
    args::blocking(move || {
        let settings = session.daemon_settings.settings();
        let view = View {
            registry: &session.registry,
            library: &session.library,
            daemon_settings: &settings,
            info: &session.daemon,
            viewpoint: Some(&session.instance_id),
            caller: session.caller,
        };
        Ok(match name.as_str() {
            "get_server_health" => {
                let mut health = instances::health(&view, cache_figures(&session));
                health["index_builds"] = index_builds(&session);
                health
            }
            "get_server_configuration" => instances::configuration(&view),
            "diagnose_server_state" => instances::diagnose(&view),
            _ => instances::cleanup(&view, dry_run),
        })
    })
    .await
}

/// Where the builds of ozm's own indexes of the session's archives stand, each archive named as
/// the session names it.
fn index_builds(session: &Session) -> Value {
    let mut builds = Vec::new();
    for (name, archive) in session.library.visible_from(&session.directories) {
        if let Ok(open) = archive.open() {
            for (kind, state) in open.own.states() {
                builds.push(crate::ownindex::state_json(&name, kind, &state));
            }
        }
    }
    Value::Array(builds)
}

/// Hit counts and sizes of the shared caches.
pub fn cache_figures(session: &Session) -> Value {
    let clusters = session.library.clusters().stats();
    let (hits, misses) = session.library.rendered().counts();
    json!({
        "clusters": {"hits": clusters.hits, "misses": clusters.misses,
                     "entries": clusters.clusters, "size_bytes": clusters.bytes},
        "rendered_articles": {"hits": hits, "misses": misses},
    })
}
