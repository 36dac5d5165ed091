//! The links of the benchmark archive's articles: `zim_links` outbound, and related before the
//! link graph exists (the first related call has a daemon with lazy builds build the graph,
//! which is followed to its end); then `ozm index bench-20k.zim` has a daemon build every own
//! index (`OZM_OWN_INDEX=all`: titles, full text and links, one at a time), and once that
//! daemon is restarted, inbound and related are listed with the graph. `ozm index` rather than
//! eager builds: those would start on every archive the shim serves, and the benchmark
//! directory holds two.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ozm_tests::fixture::{Daemon, Shim};
use serde_json::{Value, json};

use crate::{LOG, Run, builds, memory_kb};

/// The benchmark archive's file name.
pub const ARCHIVE: &str = "bench-20k.zim";
/// Articles whose links are listed.
const ARTICLES: usize = 200;

/// Times the link listings and the graph's build; returns the daemon that built it, restarted,
/// with every index of the benchmark archive ready.
pub fn run(run: &mut Run, bench: &Path, manifest: &Value) -> anyhow::Result<Daemon> {
    let needles = manifest["needles"]
        .as_object()
        .context("a manifest without needles")?;
    let paths: Vec<&str> = needles
        .values()
        .filter_map(Value::as_str)
        .take(ARTICLES)
        .collect();
    let archive = bench.join(ARCHIVE);
    writeln!(
        run.out,
        "\n2. zim_links on {} articles of {ARCHIVE}: {} clusters, {:.1} MB of article HTML; \
         decompressed, they fit the daemon's cluster cache, so a cluster read once is not \
         decompressed again",
        paths.len(),
        cluster_count(&archive)?,
        manifest["article_html_bytes"]["total"]
            .as_f64()
            .unwrap_or(0.0)
            / 1e6
    )?;

    // Outbound and related on a daemon that has built nothing.
    let daemon = Daemon::start_with_env(&[("OZM_INDEX_BUILDS", "lazy"), LOG]);
    let mut shim = daemon.shim(&[bench]);
    shim.initialize();
    let (outbound, total) = each(run, &mut shim, &paths, "outbound")?;
    let mean = total as f64 / paths.len() as f64;
    let meaning =
        format!("internal links in document order (a page of 100 at most); {mean:.1} per article");
    run.row("zim_links outbound", &outbound, &meaning)?;
    let (before, asked) = (memory_kb(daemon.pid())?, Instant::now());
    let (related, _) = each(run, &mut shim, &paths, "related")?;
    let meaning = "entries each links to most, before the link graph is built (the first call \
                   queues its build, which runs meanwhile at low priority)";
    run.row("zim_links related, graph building", &related, meaning)?;
    let alone = builds::link_graph(&daemon, &archive, asked)?;
    let heading = "link graph alone, queued by the first related call: ready after";
    builds::describe(run, &daemon, heading, before, &alone)?;
    drop(shim);
    drop(daemon);

    // Every own index, on a daemon that also indexes the full text of archives that have a
    // Xapian index; `ozm index` asks for them.
    let mut daemon =
        Daemon::start_with_env(&[("OZM_OWN_INDEX", "all"), ("OZM_INDEX_BUILDS", "lazy"), LOG]);
    let before = memory_kb(daemon.pid())?;
    let all = builds::ozm_index(&daemon, &archive)?;
    let heading = format!("`ozm index {ARCHIVE}`, OZM_OWN_INDEX=all: returned after");
    builds::describe(run, &daemon, &heading, before, &all)?;
    writeln!(run.out)?;

    // Restarted, the daemon loads the built indexes from disk, as after a reboot, and holds
    // none of the builds' memory: what follows is what a daemon in everyday use answers.
    daemon.restart();
    let mut shim = daemon.shim(&[bench]);
    shim.initialize();
    let (inbound, total) = each(run, &mut shim, &paths, "inbound")?;
    let mean = total as f64 / paths.len() as f64;
    let meaning = format!(
        "articles linking to each ({mean:.1} on average), from the graph; each source page \
         is read for its anchor text (its cluster decompressed on the first read)"
    );
    run.row("zim_links inbound, restarted daemon", &inbound, &meaning)?;
    let (again, _) = each(run, &mut shim, &paths, "inbound")?;
    let meaning = "the same calls again: the source pages' clusters are decompressed already";
    run.row("zim_links inbound, repeated", &again, meaning)?;
    let (related, _) = each(run, &mut shim, &paths, "related")?;
    let meaning = "as before the graph, with links_back from it";
    run.row("zim_links related, with the link graph", &related, meaning)?;
    run.memory(daemon.pid(), "after the builds and these calls")?;
    Ok(daemon)
}

/// The number of clusters, from the archive's header.
fn cluster_count(archive: &Path) -> anyhow::Result<u32> {
    let mut header = [0; 32];
    File::open(archive)
        .and_then(|mut file| file.read_exact(&mut header))
        .with_context(|| format!("reading the header of {}", archive.display()))?;
    Ok(u32::from_le_bytes([
        header[28], header[29], header[30], header[31],
    ]))
}

/// One `zim_links` call per article in `direction`: the timings and the sum of the totals.
fn each(
    run: &mut Run,
    shim: &mut Shim,
    paths: &[&str],
    direction: &str,
) -> anyhow::Result<(Vec<Duration>, u64)> {
    let (mut timings, mut total) = (Vec::new(), 0);
    for path in paths {
        let arguments =
            json!({"zim_file_path": ARCHIVE, "entry_path": path, "direction": direction});
        let (elapsed, answer) = run.call_ok(shim, "zim_links", arguments)?;
        if direction == "inbound" && answer["graph"]["state"] != "ready" {
            bail!("inbound links of {path} answered without the graph: {answer}");
        }
        timings.push(elapsed);
        total += answer["total"].as_u64().unwrap_or(0);
    }
    Ok((timings, total))
}
