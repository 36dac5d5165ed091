//! The rmcp service a connection runs: [`OzmMcp`], plus two answers rmcp's dispatch gets wrong
//! for ozm's clients.
//!
//! - `ping`: rmcp answers it only in sessions opened with `initialize`; the stateless 2026-07-28
//!   revision dropped the method and rmcp refuses it there. Clients still send it to learn
//!   whether the server is alive, so it is answered in every revision, with or without `_meta`,
//!   as openzim-mcp answers it.
//! - A protocol method whose params do not fit (`tools/call` without a name): rmcp takes it for
//!   an unknown method and answers -32601 with the method's name, which reads as "no such
//!   method". It gets -32602 with what does not fit instead.
//!
//! One thing cannot be mended here: until a session's lifecycle has started, rmcp ends the
//! session at any message that is not a request. [`opens_session`] tells the relay which
//! message starts it, so the relay can hold back what would end it.

use std::borrow::Cow;

use rmcp::model::{
    CallToolRequestParams, ClientNotification, ClientRequest, CompleteRequestParams,
    GetPromptRequestParams, PaginatedRequestParams, ProtocolVersion, ReadResourceRequestParams,
    ServerConfig, ServerResult,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ErrorData, RoleServer, Service};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{OzmMcp, Session};

/// The `_meta` key of a stateless request's protocol version.
const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";

/// The `_meta` key of a stateless request's client capabilities.
const CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";

/// One session's MCP service.
pub struct McpService {
    handler: OzmMcp,
}

impl McpService {
    /// The service of `session`.
    pub fn new(session: Session) -> Self {
        McpService {
            handler: OzmMcp::new(session),
        }
    }
}

impl Service<RoleServer> for McpService {
    async fn handle_request(
        &self,
        request: ClientRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<ServerResult, ErrorData> {
        match &request {
            ClientRequest::PingRequest(_) => return Ok(ServerResult::empty(())),
            ClientRequest::CustomRequest(custom) => {
                let params = custom.params.clone().unwrap_or(Value::Null);
                if let Some(error) = params_error(&custom.method, params) {
                    let message = format!("invalid params for {}: {error}", custom.method);
                    return Err(ErrorData::invalid_params(message, None));
                }
            }
            _ => {}
        }
        self.handler.handle_request(request, context).await
    }

    async fn handle_notification(
        &self,
        notification: ClientNotification,
        context: NotificationContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.handler
            .handle_notification(notification, context)
            .await
    }

    fn get_info(&self) -> ServerConfig {
        Service::get_info(&self.handler)
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Service::supported_protocol_versions(&self.handler)
    }
}

/// Why `params` do not fit `method`, when it is one of the protocol's methods ozm answers.
pub fn params_error(method: &str, params: Value) -> Option<String> {
    fn misfit<T: DeserializeOwned>(params: Value) -> Option<String> {
        serde_json::from_value::<T>(params)
            .err()
            .map(|error| error.to_string())
    }
    match method {
        "tools/call" => misfit::<CallToolRequestParams>(params),
        "resources/read" => misfit::<ReadResourceRequestParams>(params),
        "prompts/get" => misfit::<GetPromptRequestParams>(params),
        "completion/complete" => misfit::<CompleteRequestParams>(params),
        "tools/list" | "resources/list" | "resources/templates/list" | "prompts/list" => {
            misfit::<Option<PaginatedRequestParams>>(params)
        }
        _ => None,
    }
}

/// Whether rmcp starts a session's lifecycle with `message`: an `initialize` request, or a
/// request other than `ping` and `server/discover` whose `_meta` names a protocol version this
/// server speaks and the client's capabilities (a stateless client's first real request).
pub fn opens_session(message: &Value) -> bool {
    if message.get("id").is_none() {
        return false;
    }
    match message["method"].as_str() {
        Some("initialize") => true,
        Some("ping" | "server/discover") | None => false,
        Some(_) => {
            let meta = &message["params"]["_meta"];
            let known = |version: &str| {
                ProtocolVersion::KNOWN_VERSIONS
                    .iter()
                    .any(|known| known.as_str() == version)
            };
            meta[CAPABILITIES_KEY].is_object()
                && meta[PROTOCOL_VERSION_KEY].as_str().is_some_and(known)
        }
    }
}
