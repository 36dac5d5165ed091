//! `ozm-index-bench`: a load driver that prints what ozm's own full-text index costs and what it
//! gives on the 20,000-article benchmark archive: how long `ozmd` takes to build it, its size
//! beside the archive's, the daemon's memory meanwhile, and how fast `zim_search` answers from
//! it through the real shim. Figures, not assertions: run it on a quiet machine, from a release
//! build: `cargo build --release --workspace && cargo run --release -p ozm-tests --bin
//! ozm-index-bench [ARCHIVE]`.
//!
//! The benchmark archive carries a Xapian index of its own, so the daemon runs with
//! `OZM_OWN_INDEX=all` to index it again, and with `OZM_INDEX_BUILDS=lazy` so that nothing is
//! built before `ozm index` asks: the build is timed from that command to its return, which
//! waits for the index to be ready ([`build`]). The searches ([`search`]) are then made from the
//! own index, and again on a daemon left with its defaults, which answers from the embedded
//! Xapian index: the reference for latency, and the proof that the first daemon did answer from
//! its own index.
//!
//! Archive: `bench-20k.zim` in `OZM_BENCH_DATA` (default `../shared/bench`), or the one named.
//! Beside it, `<name>.json` (the generator's manifest) gives the needles, `<name>.report.json`
//! (its report) the number of articles and the bytes of their HTML.

mod build;
mod search;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use ozm_tests::bench::{data_dir, quantile_ms};
use ozm_tests::fixture::Daemon;
use serde_json::{Value, json};

/// The targets on a 2-core machine: seconds to build, median milliseconds per search.
const TARGETS: (f64, f64) = (30.0, 5.0);
/// The daemon's default log filter: the fixture's debug lines per request would be measured too.
const LOG: (&str, &str) = ("OZM_LOG", "info,rmcp=warn");

/// The archive measured, and what its generator says of it.
pub struct Archive {
    /// Its canonical path.
    path: PathBuf,
    /// Its file name: what `zim_file_path` takes.
    name: String,
    /// Its size in bytes.
    size: u64,
    /// Articles, from the generator's report.
    articles: Option<u64>,
    /// Bytes of article HTML, from the generator's report.
    html_bytes: Option<u64>,
}

fn main() -> anyhow::Result<()> {
    let archive = archive()?;
    ozm_tests::bench::release_binaries("ozm-index-bench")?;
    let directory = archive.path.parent().context("the archive's directory")?;
    let mut out = std::io::stdout().lock();
    let unknown = || "?".to_owned();
    writeln!(
        out,
        "ozm-index-bench: {} cores; {}: {:.1} MB, {} articles, {} MB of article HTML\n",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        archive.name,
        mb(archive.size),
        archive.articles.map_or_else(unknown, |n| n.to_string()),
        archive
            .html_bytes
            .map_or_else(unknown, |n| format!("{:.1}", mb(n))),
    )?;

    // The build, on a daemon that indexes every archive, and only when asked.
    let own_env = [("OZM_OWN_INDEX", "all"), ("OZM_INDEX_BUILDS", "lazy"), LOG];
    let daemon = Daemon::start_with_env(&own_env);
    let built = build::measure(&daemon, &archive.path)?;
    build::report(&mut out, &daemon, &built, &archive)?;

    // Searches from the own index, through a real shim.
    let mut shim = daemon.shim(&[directory]);
    shim.initialize();
    let arguments = json!({"zim_file_path": archive.name});
    let capabilities = shim.call_ok("zim_metadata", arguments)["index_capabilities"].take();
    let queries = search::queries(&archive, &mut shim)?;
    search::heading(&mut out, &queries, &capabilities["fulltext_search"])?;
    let own = search::run(&mut shim, &archive.name, &queries);
    own.report(&mut out, "own index")?;
    drop(shim);
    drop(daemon);

    // The reference: the embedded Xapian index, on a daemon with the default settings (lazy
    // builds, so that no title index is built while it is timed).
    let reference = if capabilities["has_fulltext_index"] == true {
        let daemon = Daemon::start_with_env(&[("OZM_INDEX_BUILDS", "lazy"), LOG]);
        let mut shim = daemon.shim(&[directory]);
        shim.initialize();
        let reference = search::run(&mut shim, &archive.name, &queries);
        reference.report(&mut out, "embedded index")?;
        Some(reference)
    } else {
        writeln!(out, "  (the archive has no embedded index to compare with)")?;
        None
    };

    let misses = search::check(&mut out, &queries, &own, reference.as_ref())?;
    let seconds = built.wall.as_secs_f64();
    let median = quantile_ms(&own.all(), 0.5);
    writeln!(
        out,
        "\nsummary: build {seconds:.1} s (target < {:.0} s: {}); search median {median:.2} ms \
         (target < {:.0} ms: {}); needle mismatches: {misses}",
        TARGETS.0,
        verdict(seconds < TARGETS.0),
        TARGETS.1,
        verdict(median < TARGETS.1),
    )?;
    Ok(())
}

/// The archive named on the command line, else the benchmark archive, with its report's figures.
fn archive() -> anyhow::Result<Archive> {
    let path = match std::env::args_os().nth(1) {
        Some(path) => std::fs::canonicalize(&path)
            .with_context(|| format!("{} not found", Path::new(&path).display()))?,
        None => data_dir("OZM_BENCH_DATA", "bench")?.join("bench-20k.zim"),
    };
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .context("an archive name in UTF-8")?
        .to_owned();
    let size = std::fs::metadata(&path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    let generated = read_json(&path.with_extension("report.json"));
    Ok(Archive {
        articles: generated["articles"].as_u64(),
        html_bytes: generated["article_html_bytes"]["total"].as_u64(),
        path,
        name,
        size,
    })
}

/// A JSON file, or `null` when it is absent or unreadable (every use has a fallback).
fn read_json(path: &Path) -> Value {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null)
}

/// Megabytes (10^6 bytes), as `ozm index` counts them.
fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}
