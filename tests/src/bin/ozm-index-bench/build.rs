//! The build: `ozm index ARCHIVE` timed to its return while the daemon's memory is read from
//! /proc, then the daemon's own account of it (`ozm status --json`, its log) and the index's
//! size on disk.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ozm_tests::bench::status_fields;
use ozm_tests::fixture::{Daemon, binary, status_json};

use crate::{Archive, mb};

/// How long `ozm index` may take before the run gives up on it.
const LIMIT: Duration = Duration::from_secs(600);
/// How often the daemon's memory is read during the build: often enough to see a short peak,
/// at a cost (one small /proc read) the build does not feel.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// How long after the build the idle daemon's memory is read: the build thread gives its free
/// memory back just after it marks the index ready, which may be after `ozm index` returns.
const SETTLE: Duration = Duration::from_millis(500);

/// What the build cost, seen from outside the daemon.
pub struct Built {
    /// From starting `ozm index` to its return.
    pub wall: Duration,
    /// What `ozm index` printed on stdout: one line per index.
    printed: String,
    /// The daemon's VmRSS before the build, in kB.
    rss_before: u64,
    /// The largest VmRSS and RssAnon sampled during the build, in kB.
    peak: (u64, u64),
    /// The kernel's high-water mark of VmRSS after the build (kB): it catches a peak between
    /// samples, and covers the daemon's whole life, which before the build is small.
    hwm: u64,
    /// VmRSS and RssAnon of the idle daemon after the build, in kB.
    after: (u64, u64),
}

/// Runs `ozm index ARCHIVE` to its return, reading the daemon's memory all the while.
pub fn measure(daemon: &Daemon, archive: &Path) -> anyhow::Result<Built> {
    // Files rather than pipes: nothing has to drain them while the loop samples.
    let stdout = daemon.dir.path().join("ozm-index.out");
    let stderr = daemon.dir.path().join("ozm-index.err");
    let rss_before = memory(daemon.pid())?[0];
    let started = Instant::now();
    let mut child = Command::new(binary("ozm"))
        .arg("index")
        .arg(archive)
        .env("OZM_SOCKET", &daemon.socket)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout)?)
        .stderr(File::create(&stderr)?)
        .spawn()
        .context("starting ozm index")?;
    let mut peak = (0, 0);
    let status = loop {
        let [rss, anon, _] = memory(daemon.pid())?;
        peak = (peak.0.max(rss), peak.1.max(anon));
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            bail!("ozm index did not return within {LIMIT:?}");
        }
        std::thread::sleep(SAMPLE_EVERY);
    };
    let wall = started.elapsed();
    let printed = std::fs::read_to_string(&stdout)?;
    if !status.success() {
        bail!(
            "ozm index failed ({status}):\n{printed}{}\ndaemon log:\n{}",
            std::fs::read_to_string(&stderr)?,
            daemon.log()
        );
    }
    std::thread::sleep(SETTLE);
    let [rss_after, anon_after, hwm] = memory(daemon.pid())?;
    Ok(Built {
        wall,
        printed,
        rss_before,
        peak,
        hwm,
        after: (rss_after, anon_after),
    })
}

/// Prints the build's figures beside the daemon's own account of them.
pub fn report(
    out: &mut impl Write,
    daemon: &Daemon,
    built: &Built,
    archive: &Archive,
) -> anyhow::Result<()> {
    let seconds = built.wall.as_secs_f64();
    writeln!(
        out,
        "full-text index build (OZM_OWN_INDEX=all)\n  ozm index returned after {seconds:.2} s"
    )?;
    for line in built.printed.lines() {
        writeln!(out, "  ozm index: {line}")?;
    }

    // The daemon's view: its status entries for the archive, and its log lines on builds.
    let status = status_json(&daemon.socket);
    let mut documents = None;
    for index in status["indexes"].as_array().into_iter().flatten() {
        let path = Path::new(index["archive"].as_str().unwrap_or_default());
        if path.file_name() != archive.path.file_name() {
            continue;
        }
        writeln!(out, "  ozm status: {} {}", index["kind"], index["state"])?;
        if index["kind"] == "Fulltext" {
            documents = index["state"]["Ready"]["documents"].as_u64();
        }
    }
    let mut daemon_seconds = None;
    for line in daemon.log().lines() {
        let found = ["index build finished", "index build failed"]
            .iter()
            .find_map(|what| line.find(what));
        let Some(at) = found else { continue };
        writeln!(out, "  ozmd log: {}", &line[at..])?;
        if line.contains("index build finished") && field(line, "kind") == Some("\"fulltext\"") {
            daemon_seconds = field(line, "seconds").and_then(|value| value.parse().ok());
        }
    }

    // Articles and HTML per second, by the command's clock and by the daemon's own (which
    // leaves out the scan of the directory and `ozm index`'s polling, a quarter of a second).
    if let Some(documents) = documents {
        let rates = |seconds: f64| {
            let html = archive.html_bytes.map_or(String::new(), |bytes| {
                format!(", {:.1} MB of HTML/s", mb(bytes) / seconds)
            });
            format!("{:.0} articles/s{html}", documents as f64 / seconds)
        };
        writeln!(out, "  throughput by ozm index's clock: {}", rates(seconds))?;
        if let Some(seconds) = daemon_seconds {
            writeln!(
                out,
                "  throughput by ozmd's {seconds:.2} s: {}",
                rates(seconds)
            )?;
        }
    }
    let (fulltext, titles, partial) = on_disk(&daemon.index_dir());
    writeln!(
        out,
        "  on disk: fulltext-1 {:.1} MB ({:.2} × the archive's {:.1} MB), titles-1.fst {:.2} MB",
        mb(fulltext),
        fulltext as f64 / archive.size as f64,
        mb(archive.size),
        mb(titles),
    )?;
    for directory in partial {
        writeln!(out, "  left partial after the build: {directory}")?;
    }
    writeln!(
        out,
        "  daemon memory (kB): VmRSS {} before; during, peak VmRSS {} and RssAnon {}; VmHWM {}",
        built.rss_before, built.peak.0, built.peak.1, built.hwm
    )?;
    writeln!(
        out,
        "  daemon memory once idle (kB): VmRSS {}, RssAnon {}",
        built.after.0, built.after.1
    )?;
    Ok(())
}

/// The value of a `name=value` field of a log line, as the daemon's log writes it.
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let mut words = line.split_whitespace();
    words.find_map(|word| word.strip_prefix(name)?.strip_prefix('='))
}

/// The daemon's VmRSS, RssAnon and VmHWM in kB (0 where the kernel does not say).
fn memory(pid: u32) -> anyhow::Result<[u64; 3]> {
    let fields = status_fields(pid, &["VmRSS", "RssAnon", "VmHWM"])
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    Ok([0, 1, 2].map(|i| fields[i].parse().unwrap_or(0)))
}

/// Bytes of the complete full-text indexes and of the title indexes under the cache's
/// `indexes/`, and the directories of builds left partial.
fn on_disk(indexes: &Path) -> (u64, u64, Vec<String>) {
    let (mut fulltext, mut titles, mut partial) = (0, 0, Vec::new());
    let keys = std::fs::read_dir(indexes).into_iter().flatten().flatten();
    let entries = keys.flat_map(|key| std::fs::read_dir(key.path()).into_iter().flatten());
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if file == "fulltext-1" {
            fulltext += tree_size(&entry.path());
        } else if file == "titles-1.fst" {
            titles += entry.metadata().map_or(0, |metadata| metadata.len());
        } else if file.starts_with("fulltext-1.partial") {
            partial.push(entry.path().display().to_string());
        }
    }
    (fulltext, titles, partial)
}

/// The bytes of every file under `path`.
fn tree_size(path: &Path) -> u64 {
    let entries = std::fs::read_dir(path).into_iter().flatten().flatten();
    entries
        .map(|entry| match entry.metadata() {
            Ok(metadata) if metadata.is_dir() => tree_size(&entry.path()),
            Ok(metadata) => metadata.len(),
            Err(_) => 0,
        })
        .sum()
}
