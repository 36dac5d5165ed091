//! `ozm-content-bench`: a load driver that prints what an AI client waits for with the content
//! tools, through the real shim: paging a ~1 MB article and reading its outline and sections
//! ([`article`]), the links of articles of the 20,000-article benchmark archive and the time to
//! build its link graph ([`links`], [`builds`]), and requests in plain words ([`query`]).
//! Figures, not assertions, except that the pages of the long article must add up to its whole
//! text: run it on a quiet machine, from a release build:
//! `cargo build --release --workspace && target/release/ozm-content-bench`.
//!
//! Memory is the daemon's as /proc tells it; its anonymous part includes the cache of
//! decompressed clusters, bounded by bytes, which any run of reads fills.
//!
//! Archives: the long article is written by the driver into a temporary directory;
//! `bench-20k.zim` and its manifest are in `OZM_BENCH_DATA` (default `../shared/bench`).

mod article;
mod builds;
mod links;
mod query;

use std::io::{StdoutLock, Write};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ozm_tests::bench::{data_dir, report, status_fields};
use ozm_tests::fixture::{Shim, ToolResult};
use serde_json::Value;

/// The quantile reported between the median and the maximum.
const TAIL: f64 = 0.9;
/// The daemon's default log filter: the fixture's debug lines per request would be measured too.
const LOG: (&str, &str) = ("OZM_LOG", "info,rmcp=warn");
/// A call slower than this is listed at the end of the run.
const SLOW: Duration = Duration::from_millis(50);
/// How many of the slow calls are listed.
const SLOW_SHOWN: usize = 12;

/// The output, and the calls that were slow.
pub struct Run {
    /// Standard output.
    pub out: StdoutLock<'static>,
    /// Every call slower than [`SLOW`]: its time and what it was.
    slow: Vec<(Duration, String)>,
}

impl Run {
    /// Calls a tool through `shim` and times it, from the request written to the answer read.
    pub fn call(
        &mut self,
        shim: &mut Shim,
        tool: &str,
        arguments: Value,
    ) -> (Duration, ToolResult) {
        let described = format!("{tool} {arguments}");
        let started = Instant::now();
        let result = shim.call_tool(tool, arguments);
        let elapsed = started.elapsed();
        if elapsed > SLOW {
            self.slow.push((elapsed, described));
        }
        (elapsed, result)
    }

    /// Like [`Run::call`], for a call that must succeed.
    pub fn call_ok(
        &mut self,
        shim: &mut Shim,
        tool: &str,
        arguments: Value,
    ) -> anyhow::Result<(Duration, Value)> {
        let shown = arguments.to_string();
        let (elapsed, result) = self.call(shim, tool, arguments);
        if result.is_error {
            bail!("{tool} {shown} failed: {:#}", result.body);
        }
        Ok((elapsed, result.body))
    }

    /// Writes one row of figures and, below it, what the row measures.
    pub fn row(&mut self, what: &str, samples: &[Duration], meaning: &str) -> anyhow::Result<()> {
        report(&mut self.out, what, samples, TAIL)?;
        writeln!(self.out, "    {meaning}")?;
        Ok(())
    }

    /// Writes the daemon's resident and anonymous memory now, under `when`.
    pub fn memory(&mut self, pid: u32, when: &str) -> anyhow::Result<()> {
        let [rss, anon] = memory_kb(pid)?;
        writeln!(
            self.out,
            "  ozmd memory {when}: VmRSS {rss} kB, RssAnon {anon} kB"
        )?;
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let bench = data_dir("OZM_BENCH_DATA", "bench")?;
    ozm_tests::bench::release_binaries("ozm-content-bench")?;
    let mut run = Run {
        out: std::io::stdout().lock(),
        slow: Vec::new(),
    };
    writeln!(
        run.out,
        "ozm-content-bench: {} cores; times in milliseconds through `ozm mcp` \
         (min / median / p90 / max)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    )?;

    article::run(&mut run)?;
    let manifest = manifest(&bench)?;
    let daemon = links::run(&mut run, &bench, &manifest)?;
    query::run(&mut run, &daemon, &bench, &manifest)?;
    drop(daemon);

    // The slowest calls, to tell an outlier from a pattern.
    let mut slow = std::mem::take(&mut run.slow);
    slow.sort_by_key(|(elapsed, _)| std::cmp::Reverse(*elapsed));
    writeln!(
        run.out,
        "\ncalls slower than {} ms: {}",
        SLOW.as_millis(),
        slow.len()
    )?;
    for (elapsed, call) in slow.iter().take(SLOW_SHOWN) {
        let call: String = call.chars().take(110).collect();
        writeln!(
            run.out,
            "  {:8.2} ms  {call}",
            elapsed.as_secs_f64() * 1000.0
        )?;
    }
    Ok(())
}

/// The benchmark archive's manifest: sample titles, first articles, needle paths.
fn manifest(bench: &std::path::Path) -> anyhow::Result<Value> {
    let path = bench.join("bench-20k.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The daemon's VmRSS and RssAnon in kB (0 where the kernel does not say).
pub fn memory_kb(pid: u32) -> anyhow::Result<[u64; 2]> {
    let fields = status_fields(pid, &["VmRSS", "RssAnon"])
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    Ok([0, 1].map(|i| fields[i].parse().unwrap_or(0)))
}
