//! `ozm-search-bench`: a load driver that prints how fast `zim_search` answers through the real
//! shim and daemon, on the 20,000-article benchmark archive, and what the searches cost in
//! memory. Figures, not assertions: run it on a quiet machine, from a release build:
//! `cargo build --release --workspace && target/release/ozm-search-bench`.
//!
//! The queries are the 200 of `tests/data/bench20k_queries.json`, with libzim's top ten for
//! each, so the run also reports how often ozm's top ten is libzim's. "Cold" is each query's
//! first answer from a freshly started daemon (the archive's pages may still be in the kernel's
//! cache); "warm" is every later answer. Archives: `OZM_BENCH_DATA` (default `../shared/bench`).

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use ozm_tests::bench::{data_dir, report, status_fields};
use ozm_tests::fixture::{Daemon, Shim};
use serde_json::{Value, json};

/// Searches made to compare memory before and after.
const SEARCHES: usize = 1000;
/// The quantile reported between the median and the maximum.
const TAIL: f64 = 0.99;
/// Fresh daemons started for cold figures.
const COLD_DAEMONS: usize = 5;

fn main() -> anyhow::Result<()> {
    let bench = data_dir("OZM_BENCH_DATA", "bench")?;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/bench20k_queries.json");
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(&data)?)?;
    let cases: Vec<(String, Vec<String>)> = cases["queries"]
        .as_array()
        .context("a query list")?
        .iter()
        .map(|case| {
            let paths = case["paths"].as_array().into_iter().flatten();
            let paths = paths
                .filter_map(|path| path.as_str().map(str::to_owned))
                .collect();
            (case["query"].as_str().unwrap_or_default().to_owned(), paths)
        })
        .collect();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "ozm-search-bench: {} cores, {} queries on bench-20k.zim; milliseconds \
         (min / median / p99 / max)\n",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        cases.len()
    )?;

    let mut cold = Vec::new();
    for round in 0..COLD_DAEMONS {
        let daemon = Daemon::start();
        let mut shim = daemon.shim(&[&bench]);
        shim.initialize();
        for (query, _) in cases.iter().skip(round * 10).take(10) {
            cold.push(timed_search(&mut shim, query).0);
        }
    }
    report(
        &mut out,
        "zim_search fulltext, cold (fresh daemon)",
        &cold,
        TAIL,
    )?;

    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[&bench]);
    shim.initialize();
    let before = memory(daemon.pid())?;
    let (mut warm, mut same_top_ten) = (Vec::new(), 0);
    for round in 0..SEARCHES.div_ceil(cases.len()) {
        for (query, want) in &cases {
            let (elapsed, answer) = timed_search(&mut shim, query);
            if round > 0 {
                warm.push(elapsed);
                continue;
            }
            let got: HashSet<&str> = answer["results"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|row| row["path"].as_str())
                .collect();
            if got == want.iter().map(String::as_str).collect() {
                same_top_ten += 1;
            }
        }
    }
    let after = memory(daemon.pid())?;
    report(&mut out, "zim_search fulltext, warm", &warm, TAIL)?;
    writeln!(
        out,
        "\ntop ten as libzim's: {same_top_ten} of {} queries",
        cases.len()
    )?;
    writeln!(
        out,
        "daemon memory (VmRSS / RssAnon, kB): before searches {before}, after {} searches {after}",
        warm.len() + cases.len()
    )?;
    Ok(())
}

fn timed_search(shim: &mut Shim, query: &str) -> (Duration, Value) {
    let arguments = json!({"zim_file_path": "bench-20k.zim", "query": query, "limit": 10});
    let started = Instant::now();
    let answer = shim.call_ok("zim_search", arguments);
    (started.elapsed(), answer)
}

/// The daemon's resident and anonymous memory, in kB.
fn memory(pid: u32) -> std::io::Result<String> {
    let fields = status_fields(pid, &["VmRSS", "RssAnon"])?;
    Ok(format!("{} / {}", fields[0], fields[1]))
}
