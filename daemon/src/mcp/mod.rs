//! The MCP server each shim's AI client talks to: one [`OzmMcp`] per connection, run by rmcp
//! inside the daemon.
//!
//! Every rmcp type stays in this module, so that a new major version of rmcp changes one place.
//! Tools are read-only; each lives in a file of its own named after it, declares its arguments
//! as a struct (whose doc comments are the schema the client sees) and returns JSON text.

pub(crate) mod args;
mod browse;
mod completion;
mod entry;
mod get;
mod health;
mod links;
mod metadata;
mod prompts;
mod query;
mod resources;
mod search;
mod section;
mod server_tools;
mod service;
mod tools;

pub use service::{McpService, opens_session, params_error};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult,
    GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tracing::{debug, warn};

use crate::library::Library;
use crate::registry::Registry;
use crate::settings::{Settings, ToolMode};

/// What the model is told when a session starts in advanced mode: which tool answers what.
const ADVANCED_INSTRUCTIONS: &str = "ozm serves offline ZIM archives (Wikipedia, Wikibooks, \
Stack Exchange, ...), read-only. Which tool to use:
- A question in plain words, or unsure which tool: zim_query (\"tell me about X\", \"search for \
X\", \"summary of X\"); its answer shows the tool and arguments it used.
- Which archives there are: zim_health; each archive's `name` is the zim_file_path the other \
tools take. What one archive holds: zim_metadata.
- Finding articles: zim_search; mode=\"fulltext\" (default) for words in the text, \
mode=\"title\" for titles starting with the words, mode=\"suggest\" for completions; \
cross_file=true searches every archive.
- Reading: zim_get with the entry_path a search returned, or main_page=true; view=\"summary\" \
for the lead, \"toc\" for the headings; long texts go on with content_offset=next_offset. One \
section: zim_get_section with a section_id from the toc.
- Links of an article: zim_links (direction outbound, inbound for the pages that link to it, or \
related).
- Listing a namespace: zim_browse (mode=\"walk\" goes through all of it).
- The server itself: get_server_health, get_server_configuration, diagnose_server_state, \
resolve_server_conflicts.";

/// What the model is told in simple mode, where zim_query is the only tool.
const SIMPLE_INSTRUCTIONS: &str = "ozm serves offline ZIM archives (Wikipedia, Wikibooks, ...). \
Ask zim_query in plain words: \"list archives\", \"search for X\", \"tell me about X\", \
\"summary of X\", \"the History section of X\", \"what links to X\". When several archives are \
served, name one (\"... in NAME\"). The end of each answer says how to read on.";

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
    /// The daemon's own settings, as they are now (SIGHUP replaces them).
    pub daemon_settings: Arc<crate::config::Live>,
    /// Who the client is, from the kernel: what reports show and cleanup may act on.
    pub caller: crate::instances::Caller,
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
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_prompts()
            .enable_completions()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("ozm", env!("CARGO_PKG_VERSION")))
            .with_instructions(match self.session.settings.tool_mode {
                ToolMode::Advanced => ADVANCED_INSTRUCTIONS,
                ToolMode::Simple => SIMPLE_INSTRUCTIONS,
            })
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
        let session = Arc::clone(&self.session);
        Ok(tools::call(session, request, context.ct.clone())
            .await
            .into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let resources = resources::list(&self.session);
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let templates = resources::templates();
        Ok(ListResourceTemplatesResult::with_all_items(templates))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let read = resources::read(Arc::clone(&self.session), &request.uri).await;
        let instance = &self.session.instance_id;
        match &read {
            Ok(_) => debug!(instance, uri = ?request.uri, "resource read"),
            Err(error) => warn!(instance, uri = ?request.uri, reason = ?error.message,
                "resource read refused"),
        }
        read.map(Into::into)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let prompts = prompts::list(self.session.settings.tool_mode);
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let mode = self.session.settings.tool_mode;
        let prompt = prompts::get(mode, &request.name, request.arguments);
        if let Err(error) = &prompt {
            warn!(instance = self.session.instance_id, prompt = ?request.name,
                message = ?error.message, "prompt refused");
        }
        prompt.map(Into::into)
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        completion::complete(Arc::clone(&self.session), request).await
    }
}
