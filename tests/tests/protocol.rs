//! Clients that misbehave on the socket or on the shim's stdin, alone and many at once: each
//! failure stays with its own connection, and a shim in the middle of its session keeps
//! answering. Also: the shim's stdout carries JSON-RPC and nothing else.
//!
//! The raw clients are written here with `ozm_protocol`'s types and plain byte writes, so they
//! can break the protocol in every way the daemon must survive.

use std::future::Future;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ozm_protocol::{
    CliRequest, CliResponse, Connection, FrameError, Hello, HelloReply, MAGIC, MAX_FRAME_LEN,
    PROTOCOL_MAJOR, PROTOCOL_MINOR, Peer, ShimRegistration,
};
use ozm_tests::fixture::{Daemon, Shim, WAIT, assert_jsonrpc, status_json, wait_until};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;

/// How long the daemon waits for a hello (`HANDSHAKE_TIMEOUT` in daemon/src/server.rs).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `future` on a runtime of its own, on the calling thread.
fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

/// A frame as the wire carries it: a 4-byte big-endian length, then the body.
fn frame(body: &[u8]) -> Vec<u8> {
    let length = u32::try_from(body.len()).expect("a small body");
    [&length.to_be_bytes()[..], body].concat()
}

/// The postcard bytes of a hello prefix (magic, major, minor, build) for small numbers, written
/// out by hand so that tests can append payloads no real client would send.
fn hello_prefix(major: u8, minor: u8) -> Vec<u8> {
    [&MAGIC[..], &[major, minor, 1, b'9']].concat()
}

/// A shim's hello over a directory the test owns.
fn shim_hello(directory: &Path) -> Hello {
    let registration = ShimRegistration {
        directories: vec![directory.display().to_string()],
        settings: Vec::new(),
    };
    Hello::new("test", Peer::Shim(registration))
}

/// Writes `bytes` on a new connection and returns the daemon's refusal, checking that the
/// daemon then closes the connection.
async fn refused_after(socket: &Path, bytes: &[u8]) -> String {
    let mut stream = UnixStream::connect(socket).await.expect("connecting");
    // The daemon may close before reading everything; its answer is what counts.
    let _ = stream.write_all(bytes).await;
    let mut connection = Connection::new(stream);
    let reply = connection.recv_within::<HelloReply>(WAIT).await;
    let Ok(HelloReply::Refused { reason }) = reply else {
        panic!("expected a refusal after {bytes:?}, got {reply:?}");
    };
    assert_closed(&mut connection).await;
    reason
}

/// Says `hello` on a new connection and returns the connection and the daemon's answer.
async fn say_hello(socket: &Path, hello: &Hello) -> (Connection, HelloReply) {
    let stream = UnixStream::connect(socket).await.expect("connecting");
    let mut connection = Connection::new(stream);
    connection.send(hello).await.expect("sending the hello");
    let reply = connection
        .recv_within(WAIT)
        .await
        .expect("an answer to the hello");
    (connection, reply)
}

/// Writes raw bytes on a connection past the framing layer.
async fn write_raw(connection: &Connection, mut bytes: &[u8]) {
    let stream = connection.stream();
    while !bytes.is_empty() {
        stream.writable().await.expect("a writable stream");
        match stream.try_write(bytes) {
            Ok(written) => bytes = &bytes[written..],
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) => panic!("writing raw bytes: {error}"),
        }
    }
}

/// Reads (and drops, such as pings) until the daemon closes the connection; fails after
/// [`WAIT`].
async fn assert_closed(connection: &mut Connection) {
    let closed = tokio::time::timeout(WAIT, async {
        loop {
            match connection.recv_raw().await {
                Ok(_) => continue,
                Err(FrameError::Closed | FrameError::Io(_)) => return,
                Err(error) => panic!("unexpected error instead of the end: {error}"),
            }
        }
    });
    closed.await.expect("the daemon left the connection open");
}

/// A welcomed raw shim that then sends `bytes`, which the daemon must answer by closing.
async fn shim_closed_after(socket: &Path, directory: &Path, bytes: &[u8]) {
    let (mut connection, reply) = say_hello(socket, &shim_hello(directory)).await;
    assert!(matches!(reply, HelloReply::Welcome { .. }), "{reply:?}");
    write_raw(&connection, bytes).await;
    assert_closed(&mut connection).await;
}

/// A well-behaved operator client: its status request is answered.
async fn status_answered(socket: &Path) {
    let (mut connection, reply) = say_hello(socket, &Hello::new("test", Peer::Cli)).await;
    assert!(matches!(reply, HelloReply::Welcome { .. }), "{reply:?}");
    connection
        .send(&CliRequest::Status)
        .await
        .expect("asking for status");
    let answer = connection.recv_within(WAIT).await.expect("a status answer");
    assert!(matches!(answer, CliResponse::Status(_)), "{answer:?}");
}

/// A daemon and a shim of it in the middle of an initialised MCP session.
fn daemon_with_session() -> (Daemon, Shim) {
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[daemon.dir.path()]);
    let init = shim.initialize();
    assert_eq!(init["result"]["serverInfo"]["name"], "ozm", "{init}");
    (daemon, shim)
}

/// The shim still answers, and it is the only client `ozm status` lists.
fn assert_shim_unharmed(daemon: &Daemon, shim: &mut Shim) {
    let tools = shim.request("tools/list", json!({}));
    assert!(tools["result"]["tools"].is_array(), "{tools}");
    wait_until(WAIT, "only the shim is listed", || {
        let status = status_json(&daemon.socket);
        let shims = status["shims"].as_array().expect("a shim list");
        shims.len() == 1 && shims[0]["pid"] == shim.pid()
    });
}

/// Sends one line and returns the next message the shim writes.
fn answer_to(shim: &mut Shim, line: &str) -> Value {
    shim.send_raw(line);
    shim.read_message()
}

#[test]
fn garbage_bytes_are_refused_and_the_shim_keeps_answering() {
    let (daemon, mut shim) = daemon_with_session();

    // An HTTP request: its first four bytes read as a length far beyond the limit.
    let http = b"GET /mcp HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let reason = block_on(refused_after(&daemon.socket, http));
    assert!(!reason.is_empty());
    assert_shim_unharmed(&daemon, &mut shim);

    // A frame of the right shape from a program that is not an ozm client.
    let stranger = frame(b"SSH-2.0-OpenSSH_9.6");
    let reason = block_on(refused_after(&daemon.socket, &stranger));
    assert!(reason.contains("not an ozm"), "{reason}");
    assert_shim_unharmed(&daemon, &mut shim);
    shim.close_cleanly();
}

#[test]
fn a_frame_announcing_more_than_the_limit_is_refused_at_once() {
    let (daemon, mut shim) = daemon_with_session();
    let too_long = u32::try_from(MAX_FRAME_LEN + 1)
        .expect("limit fits u32")
        .to_be_bytes();

    // As the first frame: refused from the header alone, without waiting for the body.
    let started = Instant::now();
    let reason = block_on(refused_after(&daemon.socket, &too_long));
    assert!(
        started.elapsed() < HANDSHAKE_TIMEOUT,
        "the daemon waited for the body"
    );
    assert!(reason.contains("too big"), "{reason}");
    assert_shim_unharmed(&daemon, &mut shim);

    // After a shim's handshake: the connection is closed.
    block_on(shim_closed_after(
        &daemon.socket,
        daemon.dir.path(),
        &too_long,
    ));
    assert_shim_unharmed(&daemon, &mut shim);
    shim.close_cleanly();
}

#[test]
fn a_frame_with_a_garbled_body_is_refused() {
    let (daemon, mut shim) = daemon_with_session();
    let garbled_hellos = [
        // Not even a hello's prefix.
        frame(&[0xff; 16]),
        // A valid prefix followed by a role that does not exist.
        frame(&[hello_prefix(PROTOCOL_MAJOR as u8, 0), vec![9, 9, 9]].concat()),
        // An empty frame.
        frame(&[]),
    ];
    for bytes in &garbled_hellos {
        let reason = block_on(refused_after(&daemon.socket, bytes));
        assert!(!reason.is_empty());
        assert_shim_unharmed(&daemon, &mut shim);
    }

    // After a shim's handshake: an unknown frame kind, then a JSON-RPC frame that is not UTF-8.
    for body in [&[7u8][..], &[0, 2, 0xff, 0xfe][..]] {
        block_on(shim_closed_after(
            &daemon.socket,
            daemon.dir.path(),
            &frame(body),
        ));
        assert_shim_unharmed(&daemon, &mut shim);
    }

    // An operator request the daemon cannot decode is answered with an error, and the
    // connection stays usable.
    block_on(async {
        let (mut connection, _) = say_hello(&daemon.socket, &Hello::new("test", Peer::Cli)).await;
        write_raw(&connection, &frame(&[42])).await;
        let answer = connection.recv_within(WAIT).await.expect("an answer");
        assert!(matches!(answer, CliResponse::Error(_)), "{answer:?}");
        connection
            .send(&CliRequest::Status)
            .await
            .expect("asking for status");
        let answer = connection.recv_within(WAIT).await.expect("a status answer");
        assert!(matches!(answer, CliResponse::Status(_)), "{answer:?}");
    });
    assert_shim_unharmed(&daemon, &mut shim);
    shim.close_cleanly();
}

#[test]
fn a_hello_of_another_major_version_is_refused_with_what_to_do() {
    let (daemon, mut shim) = daemon_with_session();

    let mut hello = shim_hello(daemon.dir.path());
    hello.major = PROTOCOL_MAJOR + 1;
    let (mut connection, reply) = block_on(say_hello(&daemon.socket, &hello));
    let HelloReply::Refused { reason } = reply else {
        panic!("a hello of major {} was accepted: {reply:?}", hello.major);
    };
    assert!(
        reason.contains("run the same version of ozm and ozmd"),
        "{reason}"
    );
    assert!(reason.contains("restart ozmd"), "{reason}");
    block_on(assert_closed(&mut connection));
    assert_shim_unharmed(&daemon, &mut shim);

    // A later major may change everything after the prefix; the reason is still the version.
    let future = frame(&[hello_prefix(PROTOCOL_MAJOR as u8 + 1, 0), vec![0xee; 8]].concat());
    let reason = block_on(refused_after(&daemon.socket, &future));
    assert!(
        reason.contains("run the same version of ozm and ozmd"),
        "{reason}"
    );
    assert_shim_unharmed(&daemon, &mut shim);
    shim.close_cleanly();
}

#[test]
fn a_hello_of_a_newer_minor_version_is_refused_with_what_to_do() {
    let (daemon, mut shim) = daemon_with_session();

    let mut hello = shim_hello(daemon.dir.path());
    hello.minor = PROTOCOL_MINOR + 1;
    let (mut connection, reply) = block_on(say_hello(&daemon.socket, &hello));
    let HelloReply::Refused { reason } = reply else {
        panic!("a hello of minor {} was accepted: {reply:?}", hello.minor);
    };
    assert!(reason.contains("newer than this daemon"), "{reason}");
    assert!(reason.contains("restart ozmd"), "{reason}");
    block_on(assert_closed(&mut connection));
    assert_shim_unharmed(&daemon, &mut shim);
    shim.close_cleanly();
}

#[test]
fn a_silent_peer_is_closed_after_the_handshake_timeout_while_the_shim_answers() {
    let (daemon, mut shim) = daemon_with_session();

    // One peer says nothing; another starts a frame and never finishes it.
    let (done, outcomes) = mpsc::channel();
    let socket = daemon.socket.clone();
    std::thread::spawn(move || {
        let outcome = block_on(async {
            let peer = |bytes: &'static [u8]| {
                let socket = socket.clone();
                async move {
                    let started = Instant::now();
                    let reason = refused_after(&socket, bytes).await;
                    (reason, started.elapsed())
                }
            };
            tokio::join!(peer(b""), peer(&[0, 0, 0, 100, 1, 2, 3]))
        });
        let _ = done.send(outcome);
    });

    // The shim answers all along.
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT + WAIT;
    let mut answers = 0;
    let (silent, partial) = loop {
        let tools = shim.request("tools/list", json!({}));
        assert!(tools["result"]["tools"].is_array(), "{tools}");
        answers += 1;
        match outcomes.recv_timeout(Duration::from_millis(100)) {
            Ok(outcome) => break outcome,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                assert!(
                    Instant::now() < deadline,
                    "the silent peers were never closed"
                );
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the silent peers' thread failed"),
        }
    };
    assert!(answers > 1, "the shim answered only {answers} time(s)");
    for (reason, elapsed) in [silent, partial] {
        assert!(reason.contains("no hello within"), "{reason}");
        assert!(
            elapsed >= HANDSHAKE_TIMEOUT - Duration::from_millis(100),
            "{elapsed:?}"
        );
    }
    assert_shim_unharmed(&daemon, &mut shim);
    shim.close_cleanly();
}

#[test]
fn malformed_json_from_the_client_gets_a_parse_error_and_the_session_continues() {
    let (daemon, mut shim) = daemon_with_session();
    for line in [
        r#"{"jsonrpc": "2.0", "id": 1, "method":"#,
        "not json at all",
        "{]",
    ] {
        let answer = answer_to(&mut shim, line);
        assert_eq!(answer["error"]["code"], -32700, "{line}: {answer}");
        assert_eq!(answer["id"], Value::Null, "{answer}");
        assert_shim_unharmed(&daemon, &mut shim);
    }
    shim.close_cleanly();
}

#[test]
fn a_json_rpc_batch_gets_an_invalid_request_error_and_the_session_continues() {
    let (daemon, mut shim) = daemon_with_session();
    let batch = json!([
        {"jsonrpc": "2.0", "id": 91, "method": "tools/list", "params": {}},
        {"jsonrpc": "2.0", "id": 92, "method": "ping"}
    ]);
    let answer = answer_to(&mut shim, &batch.to_string());
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    assert_shim_unharmed(&daemon, &mut shim);

    // A JSON object that is no JSON-RPC message: the error carries the request's id.
    let answer = answer_to(&mut shim, r#"{"jsonrpc": "2.0", "id": 93, "method": 5}"#);
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    assert_eq!(answer["id"], 93, "{answer}");
    assert_shim_unharmed(&daemon, &mut shim);
    shim.close_cleanly();
}

#[test]
fn many_misbehaving_clients_at_once_leave_the_shim_and_each_other_alone() {
    const EACH: usize = 32;
    let (daemon, mut shim) = daemon_with_session();
    let too_long = u32::try_from(MAX_FRAME_LEN + 1)
        .expect("limit fits u32")
        .to_be_bytes();

    let (done, finished) = mpsc::channel();
    let socket = daemon.socket.clone();
    let directory = daemon.dir.path().to_path_buf();
    std::thread::spawn(move || {
        block_on(async {
            let mut clients = tokio::task::JoinSet::new();
            for _ in 0..EACH {
                let (socket, directory) = (socket.clone(), directory.clone());
                clients.spawn(async move {
                    let mut wrong_major = shim_hello(&directory);
                    wrong_major.major += 1;
                    let mut newer_minor = shim_hello(&directory);
                    newer_minor.minor += 1;
                    refused_after(&socket, b"GET / HTTP/1.1\r\n\r\n").await;
                    refused_after(&socket, &too_long).await;
                    refused_after(&socket, &frame(&[0xff; 16])).await;
                    for hello in [wrong_major, newer_minor] {
                        let (_, reply) = say_hello(&socket, &hello).await;
                        assert!(matches!(reply, HelloReply::Refused { .. }), "{reply:?}");
                    }
                    shim_closed_after(&socket, &directory, &frame(&[7])).await;
                    shim_closed_after(&socket, &directory, &too_long).await;
                    status_answered(&socket).await;
                });
            }
            while let Some(client) = clients.join_next().await {
                if let Err(error) = client {
                    std::panic::resume_unwind(error.into_panic());
                }
            }
        });
        let _ = done.send(());
    });

    // The shim answers while they run.
    let deadline = Instant::now() + WAIT;
    loop {
        let tools = shim.request("tools/list", json!({}));
        assert!(tools["result"]["tools"].is_array(), "{tools}");
        match finished.recv_timeout(Duration::from_millis(50)) {
            Ok(()) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                assert!(
                    Instant::now() < deadline,
                    "the misbehaving clients did not finish"
                );
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("a misbehaving client failed"),
        }
    }
    assert_shim_unharmed(&daemon, &mut shim);
    assert_eq!(status_json(&daemon.socket)["daemon"]["pid"], daemon.pid());
    shim.close_cleanly();
}

#[test]
fn the_shim_writes_only_json_rpc_to_stdout() {
    let (_daemon, mut shim) = daemon_with_session();
    shim.request("tools/list", json!({}));
    shim.request("ping", json!({}));
    shim.request("no/such/method", json!({}));
    shim.request(
        "tools/call",
        json!({"name": "no_such_tool", "arguments": {}}),
    );
    shim.request("tools/call", json!({"name": "zim_get", "arguments": {}}));
    shim.send_raw("");
    shim.send_raw("   ");
    answer_to(&mut shim, "not json");
    answer_to(&mut shim, "[1, 2]");
    shim.send_raw(
        &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 99}})
        .to_string(),
    );
    shim.request("tools/list", json!({}));

    let (status, transcript) = shim.close_with_transcript();
    assert!(status.success(), "the shim exited with {status}");
    // initialize, five requests, two errors, tools/list: at least nine lines.
    assert!(transcript.len() >= 9, "{transcript:#?}");
    transcript.iter().for_each(|line| assert_jsonrpc(line));
}
