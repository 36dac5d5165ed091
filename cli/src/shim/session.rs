//! What the shim remembers of the client's MCP session so that a new daemon can take it over:
//! the `initialize` request that opened it, whether `notifications/initialized` followed, the
//! requests not answered yet, and what arrived while no daemon was connected.
//!
//! This is the only MCP the shim understands. It reads messages as plain JSON and keys requests
//! by their id's JSON text, so `1` and `"1"` stay apart. Clients of the stateless 2026-07-28
//! revision send no `initialize`: each request carries its protocol version in `_meta`, so
//! resending the request is all a new daemon needs.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

/// JSON-RPC error code of the answers the shim gives when no daemon can answer any more.
const UNREACHABLE_CODE: i64 = -32000;

/// A request of the client still waiting for its answer.
struct Pending {
    id: String,
    text: String,
}

/// What to do with a message from the daemon.
#[derive(Debug, PartialEq)]
pub enum Answer {
    /// Write it to stdout.
    Forward,
    /// The answer to a request already answered: drop it.
    Duplicate,
    /// The answer to the shim's own replayed `initialize`, never shown to the client; carries
    /// the daemon's error message when it refused the replay.
    Replayed(Option<String>),
}

/// The frames that restore the session on a new connection.
pub struct Restore {
    /// The messages to send first, in order.
    pub messages: Vec<String>,
    /// How many of them are requests of the client sent again.
    pub resent: usize,
    /// Whether they open with the replayed `initialize`.
    pub replayed: bool,
}

/// The session's state, kept across connections.
#[derive(Default)]
pub struct Session {
    /// Arrival number of the next message, which orders what is sent again.
    next: u64,
    /// The client's `initialize` that opened the session, once answered with a result.
    opening: Option<String>,
    /// The client's `notifications/initialized`.
    initialized: Option<String>,
    /// Requests sent and not yet answered, by arrival.
    in_flight: BTreeMap<u64, Pending>,
    /// Arrival number of each request in flight, by id.
    by_id: HashMap<String, u64>,
    /// Notifications and unreadable lines that arrived while no daemon was connected.
    held: BTreeMap<u64, String>,
    /// Ids of the shim's own replayed `initialize` requests awaiting their answer.
    replays: Vec<String>,
    /// Replays made so far, numbering the private ids.
    replay_count: u32,
}

impl Session {
    /// Notes a message from the client; says whether to send it now (a daemon is `connected`).
    /// A request is kept until answered and sent again on a new connection; so is everything
    /// else that arrives while no daemon is connected, except responses to the old daemon's
    /// requests, which no new daemon would understand.
    pub fn client_sent(&mut self, text: &str, connected: bool) -> bool {
        let arrival = self.next;
        self.next += 1;
        let Ok(message) = serde_json::from_str::<Value>(text) else {
            return self.hold_unless(connected, arrival, text);
        };
        let method = message.get("method").map(|method| method.as_str());
        match (method, request_id(&message)) {
            (Some(_), Some(id)) => {
                // A client that reuses the id of a request in flight gets one answer for both.
                if let Some(earlier) = self.by_id.insert(id.clone(), arrival) {
                    self.in_flight.remove(&earlier);
                }
                let text = text.to_owned();
                self.in_flight.insert(arrival, Pending { id, text });
                connected
            }
            (Some(Some("notifications/cancelled")), None) => {
                let cancelled = message["params"]["requestId"].to_string();
                if let Some(arrival) = self.by_id.remove(&cancelled) {
                    self.in_flight.remove(&arrival);
                }
                connected
            }
            (Some(Some("notifications/initialized")), None) => {
                self.initialized = Some(text.to_owned());
                if self.opening.is_some() {
                    // The replay after a reconnection sends it.
                    return connected;
                }
                self.hold_unless(connected, arrival, text)
            }
            (Some(_), None) => self.hold_unless(connected, arrival, text),
            (None, _) => connected,
        }
    }

    fn hold_unless(&mut self, connected: bool, arrival: u64, text: &str) -> bool {
        if !connected {
            self.held.insert(arrival, text.to_owned());
        }
        connected
    }

    /// Decides what becomes of a message from the daemon. An answer settles its request: the
    /// first answer to an id is forwarded, any later one is a duplicate.
    pub fn daemon_sent(&mut self, text: &str) -> Answer {
        let Ok(message) = serde_json::from_str::<Value>(text) else {
            return Answer::Forward;
        };
        if message.get("method").is_some() {
            return Answer::Forward;
        }
        let Some(id) = request_id(&message) else {
            return Answer::Forward;
        };
        if let Some(place) = self.replays.iter().position(|replay| *replay == id) {
            self.replays.remove(place);
            let refusal = message
                .get("error")
                .map(|error| match error["message"].as_str() {
                    Some(text) => text.to_owned(),
                    None => error.to_string(),
                });
            return Answer::Replayed(refusal);
        }
        let Some(arrival) = self.by_id.remove(&id) else {
            return Answer::Duplicate;
        };
        let request = self.in_flight.remove(&arrival).map(|pending| pending.text);
        if self.opening.is_none()
            && message.get("result").is_some()
            && let Some(request) = request
            && serde_json::from_str::<Value>(&request)
                .is_ok_and(|request| request["method"] == "initialize")
        {
            self.opening = Some(request);
        }
        Answer::Forward
    }

    /// The messages that restore the session on a new connection: the opening `initialize`
    /// under a private id and the `initialized` notification (when the session has them), then
    /// every request in flight and every message held, in the order they arrived.
    pub fn restore(&mut self) -> Restore {
        let mut messages = Vec::new();
        self.replays.clear();
        if let Some(opening) = &self.opening
            && let Ok(mut replay) = serde_json::from_str::<Value>(opening)
        {
            self.replay_count += 1;
            let id = format!(
                "ozm-shim-replay-{}-{}",
                std::process::id(),
                self.replay_count
            );
            replay["id"] = json!(id);
            self.replays.push(json!(id).to_string());
            messages.push(replay.to_string());
            messages.extend(self.initialized.clone());
        }
        let mut later: BTreeMap<u64, String> = std::mem::take(&mut self.held);
        later.extend(
            self.in_flight
                .iter()
                .map(|(arrival, pending)| (*arrival, pending.text.clone())),
        );
        messages.extend(later.into_values());
        Restore {
            replayed: !self.replays.is_empty(),
            messages,
            resent: self.in_flight.len(),
        }
    }

    /// Gives up: a JSON-RPC error saying `why` for each request in flight, in order.
    pub fn abandon(&mut self, why: &str) -> Vec<String> {
        self.by_id.clear();
        self.held.clear();
        std::mem::take(&mut self.in_flight)
            .into_values()
            .map(|pending| {
                let id: Value = serde_json::from_str(&pending.id).unwrap_or(Value::Null);
                let error = json!({"code": UNREACHABLE_CODE, "message": why});
                json!({"jsonrpc": "2.0", "id": id, "error": error}).to_string()
            })
            .collect()
    }

    /// Whether every request has its answer.
    pub fn settled(&self) -> bool {
        self.in_flight.is_empty()
    }
}

/// The id of a request or response, as a key; `None` when absent or null.
fn request_id(message: &Value) -> Option<String> {
    message
        .get("id")
        .filter(|id| !id.is_null())
        .map(Value::to_string)
}

#[cfg(test)]
mod tests;
