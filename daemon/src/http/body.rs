//! The body of a POST to `/mcp`, checked before rmcp reads it. rmcp answers a body that is not
//! one JSON-RPC message with 415 and a line of text; MCP clients expect 400 with a JSON-RPC
//! error: -32700 for text that is not JSON, -32600 for JSON that is not one JSON-RPC 2.0 message
//! (batches included, which MCP dropped in its 2025-06-18 revision, and objects rmcp cannot read
//! as a request, notification or response).
//!
//! A body is read whole before it is checked: at most [`MAX_BODY`] bytes (413 past that, however
//! it is sent), within [`BODY_WITHIN`] (408 past that), so a client that never finishes its body
//! holds its connection no longer than one that never finishes its head.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rmcp::model::ClientJsonRpcMessage;
use serde_json::{Value, json};

/// The largest body read. MCP requests carry tool arguments, a few kilobytes at most.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// How long a body may take to arrive: as long as a connection may idle.
const BODY_WITHIN: Duration = super::connections::IDLE;

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
    let bytes = match tokio::time::timeout(BODY_WITHIN, read(body)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(Unread::TooLarge)) => {
            return Err(refusal(StatusCode::PAYLOAD_TOO_LARGE, -32600, too_large()));
        }
        Ok(Err(Unread::Broken(error))) => {
            let why = format!("cannot read the request body: {error}");
            return Err(refusal(StatusCode::BAD_REQUEST, -32600, why));
        }
        Err(_) => {
            let why = format!(
                "the request body did not arrive within {} s",
                BODY_WITHIN.as_secs()
            );
            return Err(refusal(StatusCode::REQUEST_TIMEOUT, -32600, why));
        }
    };
    match problem(&bytes) {
        Some((code, why)) => Err(refusal(StatusCode::BAD_REQUEST, code, why)),
        None => Ok(Request::from_parts(parts, Body::from(bytes))),
    }
}

/// Why a body could not be read.
enum Unread {
    /// It is longer than [`MAX_BODY`]; sent in chunks, its length was not declared.
    TooLarge,
    /// The connection broke, or its framing did.
    Broken(axum::Error),
}

/// `body` whole, up to [`MAX_BODY`] bytes.
async fn read(body: Body) -> Result<Bytes, Unread> {
    let mut chunks = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(Unread::Broken)?;
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(Unread::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(bytes))
}

fn too_large() -> String {
    format!("bodies are limited to {} MiB", MAX_BODY >> 20)
}

/// What is wrong with `body` as one JSON-RPC message: the error code and why.
fn problem(body: &[u8]) -> Option<(i64, String)> {
    // A good message is parsed once here, as rmcp parses it (what rmcp cannot read it would
    // answer with 415); only a bad one is looked at again, to say what is wrong with it.
    let unread = serde_json::from_slice::<ClientJsonRpcMessage>(body).err()?;
    let why = match serde_json::from_slice::<Value>(body) {
        Err(error) => {
            return Some((
                -32700,
                format!("parse error: the body is not JSON ({error})"),
            ));
        }
        Ok(Value::Array(_)) => "batches are not supported: since MCP 2025-06-18 each request \
            carries one message"
            .to_owned(),
        Ok(Value::Object(fields)) if fields.get("jsonrpc") == Some(&json!("2.0")) => format!(
            "invalid request: the body is not a JSON-RPC request (\"method\" and \"id\"), \
             notification (\"method\") or response (\"result\" or \"error\"): {unread}"
        ),
        Ok(_) => "invalid request: the body is not a JSON-RPC 2.0 message (an object with \
            \"jsonrpc\": \"2.0\")"
            .to_owned(),
    };
    Some((-32600, why))
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

    /// Objects that say `"jsonrpc": "2.0"` but are no message rmcp reads: it would answer 415.
    #[test]
    fn a_json_rpc_object_that_is_no_message_is_an_invalid_request() {
        for body in [
            r#"{"jsonrpc":"2.0"}"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":5}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}"#,
        ] {
            let (code, why) = problem(body.as_bytes()).expect(body);
            assert_eq!(code, -32600, "{body}");
            assert!(why.contains("not a JSON-RPC request"), "{why}");
        }
        for body in [
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":3,"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"no"}}"#,
            r#"{"jsonrpc":"2.0","id":"x","method":"tools/list","params":{}}"#,
        ] {
            assert_eq!(problem(body.as_bytes()), None, "{body}");
        }
    }
}
