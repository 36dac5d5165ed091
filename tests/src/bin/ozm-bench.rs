//! `ozm-bench`: a load driver that prints how fast ozm answers through the real shim.
//!
//! It measures what an AI client waits for: from launching `ozm mcp` to the answer of the first
//! `tools/list`, with a daemon already running and with none (the shim starts it); and the
//! latency of `zim_get` through the shim for articles in a zstd archive and in an xz archive,
//! on first read (the cluster is decompressed) and on repeated reads (the cluster is cached).
//! Figures, not assertions: run it on a quiet machine, from a release build:
//! `cargo build --release --workspace && target/release/ozm-bench`.
//!
//! Archives: `OZM_BENCH_DATA` (default `../shared/bench`) for `bench-20k.zim` (zstd) and
//! `OZM_TEST_DATA` (default `../shared/zim`) for `libkiwix/zimfile.zim` (xz).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use ozm_tests::bench::{data_dir, report, status_fields};
use ozm_tests::fixture::{Daemon, Shim, signal, wait_for_socket};
use serde_json::json;

/// Launches measured with a daemon running.
const WARM_SPAWNS: usize = 30;
/// Launches measured with no daemon (each starts a fresh one).
const COLD_SPAWNS: usize = 5;
/// The quantile reported between the median and the maximum.
const TAIL: f64 = 0.9;
/// Repeated reads measured per article.
const REPEATS: usize = 50;

fn main() -> anyhow::Result<()> {
    let bench = data_dir("OZM_BENCH_DATA", "bench")?;
    let zim = data_dir("OZM_TEST_DATA", "zim")?;
    let xz_dir = zim.join("libkiwix");
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "ozm-bench: {} cores; times in milliseconds (min / median / p90 / max)\n",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    )?;

    let daemon = Daemon::start();
    let warm: Vec<Duration> = (0..WARM_SPAWNS)
        .map(|_| spawn_to_tools_list(&daemon.socket, daemon.dir.path(), &bench))
        .collect();
    report(
        &mut out,
        "shim spawn -> tools/list, daemon running",
        &warm,
        TAIL,
    )?;
    let cold: Vec<Duration> = (0..COLD_SPAWNS)
        .map(|_| cold_spawn(&bench))
        .collect::<Result<_, _>>()?;
    report(
        &mut out,
        "shim spawn -> tools/list, no daemon (shim starts it)",
        &cold,
        TAIL,
    )?;

    let mut shim = daemon.shim(&[&bench, &xz_dir]);
    shim.initialize();
    let samples = zstd_samples(&bench)?;
    let (first, repeated) = reads(&mut shim, "bench-20k.zim", &samples);
    report(&mut out, "zim_get, zstd archive, first read", &first, TAIL)?;
    report(
        &mut out,
        "zim_get, zstd archive, repeated read",
        &repeated,
        TAIL,
    )?;
    let xz = ["A/Ray_Charles".to_owned(), "A/Hank_Crawford".to_owned()];
    let (first, repeated) = reads(&mut shim, "zimfile.zim", &xz);
    report(&mut out, "zim_get, xz archive, first read", &first, TAIL)?;
    report(
        &mut out,
        "zim_get, xz archive, repeated read",
        &repeated,
        TAIL,
    )?;

    // File-backed pages are the mapped archives (the checksum check reads them all); the
    // kernel reclaims them under pressure. Anonymous memory is the daemon's own.
    let memory = status_fields(daemon.pid(), &["VmRSS", "RssAnon", "RssFile"])?;
    writeln!(
        out,
        "\nozmd memory after the run: {} KiB resident, of which {} KiB its own (anonymous) and \
         {} KiB mapped archive pages",
        memory[0], memory[1], memory[2]
    )?;
    Ok(())
}

fn spawn_to_tools_list(socket: &Path, state: &Path, served: &Path) -> Duration {
    let started = Instant::now();
    let mut shim = Shim::start(socket, state, &[served], &[]);
    shim.initialize();
    let answer = shim.request("tools/list", json!({}));
    let elapsed = started.elapsed();
    assert!(
        answer["result"]["tools"].is_array(),
        "tools/list failed: {answer}"
    );
    shim.close();
    elapsed
}

fn cold_spawn(served: &Path) -> anyhow::Result<Duration> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("ozmd.sock");
    let elapsed = spawn_to_tools_list(&socket, dir.path(), served);
    wait_for_socket(&socket);
    let pid = std::fs::read_to_string(socket.with_extension("lock"))?;
    signal(pid.trim().parse()?, "TERM");
    Ok(elapsed)
}

/// Paths of sample articles from the benchmark archive's manifest.
fn zstd_samples(bench: &Path) -> anyhow::Result<Vec<String>> {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bench.join("bench-20k.json"))?)?;
    Ok(manifest["samples"]
        .as_array()
        .context("manifest has no samples")?
        .iter()
        .filter_map(|sample| sample["path"].as_str().map(str::to_owned))
        .collect())
}

/// The first read of each article, then [`REPEATS`] reads of each.
fn reads(shim: &mut Shim, archive: &str, paths: &[String]) -> (Vec<Duration>, Vec<Duration>) {
    let mut timed = |path: &str| {
        let started = Instant::now();
        let result = shim.call_tool(
            "zim_get",
            json!({"zim_file_path": archive, "entry_path": path}),
        );
        let elapsed = started.elapsed();
        assert!(
            !result.is_error,
            "zim_get {archive} {path} failed: {}",
            result.body
        );
        elapsed
    };
    let first = paths.iter().map(|path| timed(path)).collect();
    let repeated = paths
        .iter()
        .flat_map(|path| (0..REPEATS).map(|_| timed(path)).collect::<Vec<_>>());
    (first, repeated.collect())
}
