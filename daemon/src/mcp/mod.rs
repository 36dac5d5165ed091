//! The MCP server each shim's AI client talks to: one [`OzmMcp`] per connection, run by rmcp
//! inside the daemon.
//!
//! Every rmcp type stays in this module, so that a new major version of rmcp changes one place.
//! Tools are read-only; each lives in a file of its own named after it, declares its arguments
//! as a struct (whose doc comments are the schema the client sees) and returns JSON text.

mod args;
mod browse;
mod entry;
mod get;
mod health;
mod metadata;
mod search;
mod server_tools;
mod tools;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tracing::{debug, warn};

use crate::library::Library;
use crate::registry::Registry;
use crate::settings::Settings;

/// What the model is told about the tools when a session starts.
const INSTRUCTIONS: &str = "ozm serves offline ZIM archives (Wikipedia, Wikibooks, Stack \
Exchange, ...). Call zim_health to list the archives and their paths. zim_search with \
mode=\"title\" finds articles by title; zim_get reads an article as Markdown (page through long \
ones with content_offset) or the main page with main_page=true; zim_browse lists the entries of \
a namespace; zim_metadata describes an archive.";

/// Facts about the daemon that tools report.
#[derive(Debug, Clone)]
pub struct DaemonInfo {
    /// When the daemon started.
    pub started: Instant,
    /// The daemon's process id.
    pub pid: u32,
}

/// What one connected shim may see.
pub struct Session {
    /// The shared library.
    pub library: Arc<Library>,
    /// The shim's directories, canonical.
    pub directories: Vec<PathBuf>,
    /// The connection's id.
    pub instance_id: String,
    /// The daemon's own facts.
    pub daemon: DaemonInfo,
    /// Every connected shim.
    pub registry: Arc<Registry>,
    /// The daemon's own settings.
    pub daemon_settings: Arc<Settings>,
    /// The shim's uid, from the kernel: what cleanup may act on.
    pub uid: u32,
    /// The shim's own settings (content limits and the like apply to its session alone).
    pub settings: Settings,
}

/// The MCP server of one session.
#[derive(Clone)]
pub struct OzmMcp {
    session: Arc<Session>,
}

impl OzmMcp {
    /// A server for `session`.
    pub fn new(session: Session) -> Self {
        OzmMcp {
            session: Arc::new(session),
        }
    }
}

impl ServerHandler for OzmMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("ozm", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = tools::definitions(self.session.settings.tool_mode);
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let started = Instant::now();
        let session = Arc::clone(&self.session);
        let outcome = tools::dispatch(
            session,
            &request.name,
            request.arguments,
            context.ct.clone(),
        )
        .await;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let instance = &self.session.instance_id;
        let result = match outcome {
            Ok(value) => {
                debug!(instance, tool = %request.name, elapsed_ms, "tool answered");
                args::success(value)
            }
            Err(error) => {
                let (operation, message) = (&error.operation, &error.message);
                // Debug formatting escapes control characters a client may have put in its
                // arguments, so they cannot forge log lines.
                warn!(instance, tool = ?request.name, operation, message = ?message,
                    "tool call refused");
                error.into_result()
            }
        };
        Ok(result.into())
    }
}
