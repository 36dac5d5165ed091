use serde_json::{Value, json};

use super::{Answer, Session};

fn request(id: Value, method: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {}}).to_string()
}

fn answer(id: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "result": {}}).to_string()
}

const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// A session whose `initialize` (id 0) was answered and whose `initialized` was sent.
fn opened() -> Session {
    let mut session = Session::default();
    assert!(session.client_sent(&request(json!(0), "initialize"), true));
    assert_eq!(session.daemon_sent(&answer(json!(0))), Answer::Forward);
    assert!(session.client_sent(INITIALIZED, true));
    session
}

#[test]
fn a_restore_replays_the_opening_under_a_private_id_then_resends_in_order() {
    let mut session = opened();
    session.client_sent(&request(json!(1), "tools/call"), true);
    session.client_sent(&request(json!("b"), "tools/list"), true);
    session.client_sent(&request(json!(3), "ping"), true);
    assert_eq!(session.daemon_sent(&answer(json!("b"))), Answer::Forward);

    let restore = session.restore();
    assert_eq!(restore.resent, 2);
    let messages: Vec<Value> = restore
        .messages
        .iter()
        .map(|text| serde_json::from_str(text).unwrap())
        .collect();
    assert_eq!(messages[0]["method"], "initialize");
    let private = messages[0]["id"].as_str().expect("a string id").to_owned();
    assert!(private.starts_with("ozm-shim-replay-"), "{private}");
    assert_eq!(messages[1]["method"], "notifications/initialized");
    assert_eq!(messages[2]["id"], 1);
    assert_eq!(messages[3]["id"], 3);
    assert_eq!(messages.len(), 4);

    // The replay's answer is swallowed; the requests' answers go through once each.
    let replayed = session.daemon_sent(&answer(json!(private)));
    assert_eq!(replayed, Answer::Replayed(None));
    assert_eq!(session.daemon_sent(&answer(json!(3))), Answer::Forward);
    assert_eq!(session.daemon_sent(&answer(json!(3))), Answer::Duplicate);
    assert_eq!(session.daemon_sent(&answer(json!(1))), Answer::Forward);
    assert!(session.settled());
}

#[test]
fn an_unanswered_initialize_is_resent_as_it_is_not_replayed() {
    let mut session = Session::default();
    session.client_sent(&request(json!(0), "initialize"), true);
    let restore = session.restore();
    assert_eq!(restore.messages, [request(json!(0), "initialize")]);
    assert_eq!(restore.resent, 1);
}

#[test]
fn stateless_requests_are_resent_without_any_replay() {
    let mut session = Session::default();
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28"});
    let call =
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {"_meta": meta}})
            .to_string();
    session.client_sent(&call, true);
    assert_eq!(session.restore().messages, [call]);
}

#[test]
fn a_cancelled_request_is_not_resent_and_its_late_answer_is_dropped() {
    let mut session = opened();
    session.client_sent(&request(json!(5), "tools/call"), true);
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 5}});
    assert!(session.client_sent(&cancel.to_string(), true));
    assert!(session.settled());
    assert_eq!(session.restore().resent, 0);
    assert_eq!(session.daemon_sent(&answer(json!(5))), Answer::Duplicate);
}

#[test]
fn while_disconnected_notifications_are_held_and_responses_dropped() {
    let mut session = opened();
    let progress = json!({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"});
    assert!(!session.client_sent(&progress.to_string(), false));
    assert!(!session.client_sent(&answer(json!("server-1")), false));
    assert!(!session.client_sent(&request(json!(9), "tools/list"), false));
    let messages = session.restore().messages;
    assert_eq!(
        messages[2..],
        [progress.to_string(), request(json!(9), "tools/list")]
    );
}

#[test]
fn giving_up_answers_each_request_in_flight_with_the_reason() {
    let mut session = opened();
    session.client_sent(&request(json!(1), "tools/call"), true);
    session.client_sent(&request(json!("x"), "tools/call"), false);
    let errors: Vec<Value> = session
        .abandon("ozmd is gone")
        .iter()
        .map(|text| serde_json::from_str(text).unwrap())
        .collect();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["id"], 1);
    assert_eq!(errors[1]["id"], "x");
    assert_eq!(errors[1]["error"]["message"], "ozmd is gone");
    assert!(session.settled());
}

#[test]
fn server_requests_notifications_and_null_ids_are_forwarded() {
    let mut session = opened();
    let sampling = request(json!(1), "sampling/createMessage");
    assert_eq!(session.daemon_sent(&sampling), Answer::Forward);
    let parse_error = json!({"jsonrpc": "2.0", "id": null,
        "error": {"code": -32700, "message": "parse error"}});
    assert_eq!(
        session.daemon_sent(&parse_error.to_string()),
        Answer::Forward
    );
}

#[test]
fn an_id_reused_while_in_flight_is_settled_by_one_answer() {
    let mut session = opened();
    session.client_sent(&request(json!(4), "tools/call"), true);
    session.client_sent(&request(json!(4), "tools/list"), true);
    assert_eq!(session.daemon_sent(&answer(json!(4))), Answer::Forward);
    assert!(session.settled());
}
