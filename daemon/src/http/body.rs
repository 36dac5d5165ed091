//! The body of a POST to `/mcp`, checked before rmcp reads it. rmcp answers a body that is not
//! one JSON-RPC message with 415 and a line of text; MCP clients expect 400 with a JSON-RPC
//! error: -32700 for text that is not JSON, -32600 for JSON that is not one JSON-RPC 2.0 message
//! (batches included, which MCP dropped in its 2025-06-18 revision).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The largest body read. MCP requests carry tool arguments, a few kilobytes at most.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// `request` as it came, when it is not a POST or its body is one JSON-RPC message; else the
/// answer that says what is wrong.
pub async fn checked(request: Request) -> Result<Request, Response> {
    if request.method() != Method::POST {
        return Ok(request);
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_BODY) {
        return Err(refusal(StatusCode::PAYLOAD_TOO_LARGE, -32600, too_large()));
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let why = format!("cannot read the request body ({error}); {}", too_large());
            return Err(refusal(StatusCode::BAD_REQUEST, -32600, why));
        }
    };
    match problem(&bytes) {
        Some((code, why)) => Err(refusal(StatusCode::BAD_REQUEST, code, why)),
        None => Ok(Request::from_parts(parts, Body::from(bytes))),
    }
}

fn too_large() -> String {
    format!("bodies are limited to {} MiB", MAX_BODY >> 20)
}

/// What is wrong with `body` as one JSON-RPC message: the error code and why.
fn problem(body: &[u8]) -> Option<(i64, String)> {
    let message: Value = match serde_json::from_slice(body) {
        Ok(message) => message,
        Err(error) => {
            return Some((
                -32700,
                format!("parse error: the body is not JSON ({error})"),
            ));
        }
    };
    match &message {
        Value::Array(_) => Some((
            -32600,
            "batches are not supported: since MCP 2025-06-18 each request carries one message"
                .to_owned(),
        )),
        Value::Object(fields) if fields.get("jsonrpc") == Some(&json!("2.0")) => None,
        _ => Some((
            -32600,
            "invalid request: the body is not a JSON-RPC 2.0 message (an object with \
             \"jsonrpc\": \"2.0\")"
                .to_owned(),
        )),
    }
}

fn refusal(status: StatusCode, code: i64, message: String) -> Response {
    let error = json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    (status, axum::Json(error)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_json_rpc_message_passes() {
        assert_eq!(
            problem(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
            None
        );
        assert_eq!(problem(b"{bad").map(|(code, _)| code), Some(-32700));
        assert_eq!(problem(b"").map(|(code, _)| code), Some(-32700));
        let batch = problem(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#);
        assert!(batch.is_some_and(|(code, why)| code == -32600 && why.contains("batches")));
        assert_eq!(problem(br#"{"id":1}"#).map(|(code, _)| code), Some(-32600));
        assert_eq!(problem(b"42").map(|(code, _)| code), Some(-32600));
    }
}
