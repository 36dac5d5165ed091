//! `ozm-http-bench`: a load driver that prints how fast ozm answers over streamable HTTP with
//! several clients at once, beside the same load through shims on the Unix socket.
//!
//! Each client opens its own session (an HTTP session, or a shim) and makes the same calls in
//! turn: `zim_get` of an article (served from the shared caches after the first read) and a
//! full-text `zim_search` answered by the archive's Xapian index, both in
//! `libkiwix/zimfile.zim`. It prints calls per second over all clients and the latency of each
//! call (min / median / p90 / p99 / max). The HTTP client opens one connection per request, as
//! the test fixture does; a client that keeps its connection saves that connect.
//!
//! `ozm-http-bench [CLIENTS] [CALLS]` (default 4 clients, 200 calls each). Figures, not
//! assertions: run it on a quiet machine, from a release build:
//! `cargo build --release --workspace && target/release/ozm-http-bench`.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;
use ozm_tests::bench::{data_dir, quantile_ms, release_binaries};
use ozm_tests::fixture::{HttpClient, http_daemon, wait_ready};
use serde_json::{Value, json};

const ARCHIVE: &str = "zimfile.zim";

fn main() -> anyhow::Result<()> {
    release_binaries("ozm-http-bench")?;
    let mut args = std::env::args().skip(1);
    let clients: usize = args
        .next()
        .map_or(Ok(4), |n| n.parse())
        .context("CLIENTS")?;
    let calls: usize = args
        .next()
        .map_or(Ok(200), |n| n.parse())
        .context("CALLS")?;
    let zim = data_dir("OZM_TEST_DATA", "zim")?.join("libkiwix");

    let (daemon, address) = http_daemon(&zim, &[]);
    wait_ready(address);

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "ozm-http-bench: {} cores, {clients} clients x {calls} calls (zim_get, zim_search in \
         turn); latency in ms: min / median / p90 / p99 / max\n",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    )?;
    let over_http = run(clients, calls, |_| {
        let mut client = HttpClient::new(address, None);
        client.initialize();
        Box::new(move |name: &str, arguments: Value| {
            client.call_ok(name, arguments);
        })
    });
    print_line(&mut out, "streamable HTTP (/mcp)", &over_http)?;
    let over_socket = run(clients, calls, |_| {
        let mut shim = daemon.shim(&[&zim]);
        shim.initialize();
        Box::new(move |name: &str, arguments: Value| {
            shim.call_ok(name, arguments);
        })
    });
    print_line(&mut out, "ozm mcp shim (Unix socket)", &over_socket)?;
    Ok(())
}

/// One client's way of making a call.
type Caller<'a> = Box<dyn FnMut(&str, Value) + Send + 'a>;

/// What a run measured: the latency of every call and the wall time of the whole run.
struct Measured {
    latencies: Vec<Duration>,
    wall: Duration,
}

/// Runs `clients` clients at once, each made by `connect` and making `calls` calls.
fn run<'a>(clients: usize, calls: usize, connect: impl Fn(usize) -> Caller<'a> + Sync) -> Measured {
    let callers: Vec<Caller> = (0..clients).map(&connect).collect();
    let started = Instant::now();
    let latencies = std::thread::scope(|scope| {
        let running: Vec<_> = callers
            .into_iter()
            .map(|mut call| {
                scope.spawn(move || {
                    let mut latencies = Vec::with_capacity(calls);
                    for number in 0..calls {
                        let (name, arguments) = request(number);
                        let sent = Instant::now();
                        call(name, arguments);
                        latencies.push(sent.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        running
            .into_iter()
            .flat_map(|client| client.join().expect("a client thread"))
            .collect()
    });
    Measured {
        latencies,
        wall: started.elapsed(),
    }
}

/// The `number`th call of a client: reads and searches in turn.
fn request(number: usize) -> (&'static str, Value) {
    if number.is_multiple_of(2) {
        let read = json!({"zim_file_path": ARCHIVE, "entry_path": "A/Ray_Charles"});
        ("zim_get", read)
    } else {
        (
            "zim_search",
            json!({"zim_file_path": ARCHIVE, "query": "piano"}),
        )
    }
}

fn print_line(out: &mut impl Write, what: &str, measured: &Measured) -> std::io::Result<()> {
    let per_second = measured.latencies.len() as f64 / measured.wall.as_secs_f64();
    let at = |q| quantile_ms(&measured.latencies, q);
    writeln!(
        out,
        "{what:<28} {per_second:8.0} calls/s   {:6.2} / {:6.2} / {:6.2} / {:6.2} / {:6.2}",
        at(0.0),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    )
}
