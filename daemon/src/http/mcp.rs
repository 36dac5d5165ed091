//! MCP over streamable HTTP: rmcp's `StreamableHttpService`, with one [`HttpMcp`] per session
//! built the way a shim's session is, over the directories HTTP serves and with the daemon's own
//! settings (tool mode, content limits) as the session's.
//!
//! A session opened with `initialize` is registered as an instance of transport `http` until it
//! ends (`DELETE`, idle for rmcp's five minutes, or the daemon stopping), so `ozm status`, the
//! conflicts and `/health/instances` show it. A stateless request of the 2026-07-28 revision is
//! answered by a handler of its own and registers nothing: it is over when answered.
//!
//! Unlike the socket, HTTP does not answer `ping` in the stateless revision (rmcp refuses it
//! there before any handler is asked); sessions opened with `initialize` answer it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult, CustomRequest,
    CustomResult, GetPromptRequestParams, GetPromptResponse, InitializeRequestParams,
    InitializeResult, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::StreamableHttpServerConfig;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;
use tracing::info;

use super::connections::Peer;
use crate::mcp::{OzmMcp, Session, params_error};
use crate::registry::Registration;
use crate::server::Daemon;
use crate::settings::HttpSettings;

/// The rmcp service mounted at `/mcp`.
pub type McpHttpService = rmcp::transport::StreamableHttpService<HttpMcp, LocalSessionManager>;

/// Numbers HTTP handlers (`http_1`, `http_2`, …): a session keeps its handler's number; a
/// stateless request's handler takes one too, which its log lines show.
static SESSIONS: AtomicU64 = AtomicU64::new(1);

/// The service of `/mcp`, its sessions ended when the daemon stops. The guard in front of it
/// checks `Host` and `Origin` (loopback addresses included, which rmcp's list would refuse).
pub fn service(daemon: &Arc<Daemon>, settings: &HttpSettings) -> McpHttpService {
    let config = StreamableHttpServerConfig::default()
        .disable_allowed_hosts()
        .with_cancellation_token(daemon.shutdown.child_token());
    let daemon = Arc::clone(daemon);
    let directories = settings.directories.clone();
    McpHttpService::new(
        move || Ok(HttpMcp::new(&daemon, directories.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}

/// One HTTP session's MCP server: ozm's, plus its place in the registry.
pub struct HttpMcp {
    inner: OzmMcp,
    instance_id: String,
    daemon: Arc<Daemon>,
    directories: Vec<PathBuf>,
    /// Set by `initialize`; dropping it (the session ended) removes the instance.
    registration: OnceLock<Registration>,
}

impl HttpMcp {
    fn new(daemon: &Arc<Daemon>, directories: Vec<PathBuf>) -> Self {
        let instance_id = format!("http_{}", SESSIONS.fetch_add(1, Ordering::Relaxed));
        let session = Session {
            library: Arc::clone(&daemon.library),
            directories: directories.clone(),
            instance_id: instance_id.clone(),
            daemon: daemon.info.clone(),
            registry: Arc::clone(&daemon.registry),
            daemon_settings: Arc::clone(&daemon.settings),
            // An HTTP caller has no uid the kernel vouches for: it acts as the daemon's user,
            // whose token (or loopback address) it holds.
            caller: daemon.caller(rustix::process::geteuid().as_raw()),
            settings: (*daemon.settings.settings()).clone(),
        };
        HttpMcp {
            inner: OzmMcp::new(session),
            instance_id,
            daemon: Arc::clone(daemon),
            directories,
            registration: OnceLock::new(),
        }
    }
}

impl Drop for HttpMcp {
    fn drop(&mut self) {
        if self.registration.get().is_some() {
            info!(instance = self.instance_id, "HTTP session ended");
        }
    }
}

impl ServerHandler for HttpMcp {
    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        let peer = context
            .extensions
            .get::<Parts>()
            .and_then(|parts| parts.extensions.get::<ConnectInfo<Peer>>())
            .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |info| info.0.address);
        let client: String = request.client_info.name.chars().take(100).collect();
        let answer = self.inner.initialize(request, context).await;
        if answer.is_ok() && self.registration.get().is_none() {
            let registration = self.daemon.registry.register_http(
                self.instance_id.clone(),
                peer,
                self.directories.clone(),
                (*self.daemon.settings.settings()).clone(),
            );
            let _ = self.registration.set(registration);
            info!(instance = self.instance_id, %peer, client = ?client,
                directories = ?self.directories, "HTTP session started");
        }
        answer
    }

    fn get_info(&self) -> ServerConfig {
        self.inner.get_info()
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        self.inner.list_tools(request, context).await
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.inner.call_tool(request, context).await
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        self.inner.list_resources(request, context).await
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        self.inner.list_resource_templates(request, context).await
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        self.inner.read_resource(request, context).await
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        self.inner.list_prompts(request, context).await
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        self.inner.get_prompt(request, context).await
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        self.inner.complete(request, context).await
    }

    /// A protocol method whose params do not fit (`tools/call` without a name) reaches here as
    /// an unknown method; it gets -32602 with what does not fit, as on the socket.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        let params = request.params.clone().unwrap_or(Value::Null);
        if let Some(error) = params_error(&request.method, params) {
            let message = format!("invalid params for {}: {error}", request.method);
            return Err(ErrorData::invalid_params(message, None));
        }
        self.inner.on_custom_request(request, context).await
    }
}
