//! Following the daemon's index builds of one archive from outside: `ozm status --json` says
//! when each starts and is ready, /proc says how much memory the daemon holds meanwhile, and
//! its log says how long it took by its own clock.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ozm_tests::bench::status_fields;
use ozm_tests::fixture::{Daemon, binary, status_json};
use serde_json::Value;

use crate::{Run, memory_kb};

/// How long the builds may take before the run gives up on them.
const LIMIT: Duration = Duration::from_secs(900);
/// How often the daemon's memory is read.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);
/// Memory samples between two status polls (each runs `ozm status --json`).
const SAMPLES_PER_POLL: u32 = 2;
/// The indexes, in the order `ozm index` builds them, as `ozm status --json` names them.
const KINDS: [&str; 3] = ["Titles", "Fulltext", "Links"];
/// Where the link graph stands in [`KINDS`].
const LINKS: usize = 2;

/// When one index was seen building and ready, and the daemon's peak memory (VmRSS, RssAnon
/// in kB) while it was seen building.
#[derive(Default)]
struct Phase {
    building: Option<Duration>,
    ready: Option<Duration>,
    peak: [u64; 2],
}

/// What the daemon did while its builds were followed, from the moment they were asked for.
pub struct Followed {
    wall: Duration,
    phases: [Phase; 3],
    peak: [u64; 2],
}

/// Follows the link graph's build of `archive`, already asked for at `started`, to its end.
pub fn link_graph(daemon: &Daemon, archive: &Path, started: Instant) -> anyhow::Result<Followed> {
    follow(daemon, archive, started, |phases| {
        Ok(phases[LINKS].ready.is_some())
    })
}

/// Runs `ozm index ARCHIVE` to its return, following the builds it asks for.
pub fn ozm_index(daemon: &Daemon, archive: &Path) -> anyhow::Result<Followed> {
    // Files rather than pipes: nothing has to drain them while the loop samples.
    let printed = daemon.dir.path().join("ozm-index.out");
    let started = Instant::now();
    let mut child = Command::new(binary("ozm"))
        .arg("index")
        .arg(archive)
        .env("OZM_SOCKET", &daemon.socket)
        .stdin(Stdio::null())
        .stdout(File::create(&printed)?)
        .stderr(File::create(daemon.dir.path().join("ozm-index.err"))?)
        .spawn()
        .context("starting ozm index")?;
    let mut exit = None;
    let followed = follow(daemon, archive, started, |_| {
        exit = child.try_wait()?;
        Ok(exit.is_some())
    });
    if followed.is_err() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let followed = followed?;
    match exit {
        Some(status) if status.success() && followed.phases[LINKS].ready.is_some() => Ok(followed),
        _ => bail!(
            "ozm index ended ({exit:?}) without a link graph:\n{}\ndaemon log:\n{}",
            std::fs::read_to_string(&printed)?,
            daemon.log()
        ),
    }
}

/// Reads the daemon's memory every [`SAMPLE_EVERY`] and its status every few samples, until
/// `finished` (shown the phases so far) says the wait is over.
fn follow(
    daemon: &Daemon,
    archive: &Path,
    started: Instant,
    mut finished: impl FnMut(&[Phase; 3]) -> anyhow::Result<bool>,
) -> anyhow::Result<Followed> {
    let higher = |a: [u64; 2], b: [u64; 2]| [a[0].max(b[0]), a[1].max(b[1])];
    let mut phases: [Phase; 3] = Default::default();
    let (mut peak, mut building, mut samples) = ([0, 0], None, 0);
    loop {
        let now = memory_kb(daemon.pid())?;
        peak = higher(peak, now);
        if let Some(kind) = building {
            let phase: &mut Phase = &mut phases[kind];
            phase.peak = higher(phase.peak, now);
        }
        if samples % SAMPLES_PER_POLL == 0 {
            building = poll(&mut phases, &status_json(&daemon.socket), archive, started)?;
        }
        samples += 1;
        if finished(&phases)? {
            break;
        }
        if started.elapsed() > LIMIT {
            bail!(
                "the index builds of {} did not end within {LIMIT:?}",
                archive.display()
            );
        }
        std::thread::sleep(SAMPLE_EVERY);
    }
    poll(&mut phases, &status_json(&daemon.socket), archive, started)?;
    Ok(Followed {
        wall: started.elapsed(),
        phases,
        peak,
    })
}

/// Notes in `phases` what a status report says of the archive's builds; returns the index
/// being built, if any.
fn poll(
    phases: &mut [Phase; 3],
    status: &Value,
    archive: &Path,
    started: Instant,
) -> anyhow::Result<Option<usize>> {
    let archive = archive.to_str().context("a UTF-8 archive path")?;
    let mut building = None;
    let indexes = status["indexes"].as_array().into_iter().flatten();
    for index in indexes.filter(|index| index["archive"] == archive) {
        let Some(kind) = KINDS.iter().position(|kind| index["kind"] == *kind) else {
            continue;
        };
        let state = &index["state"];
        if let Some(reason) = state.get("Failed") {
            bail!("the {} build of {archive} failed: {reason}", KINDS[kind]);
        }
        if state.get("Building").is_some() {
            phases[kind].building.get_or_insert(started.elapsed());
            building = Some(kind);
        }
        if state.get("Ready").is_some() {
            phases[kind].ready.get_or_insert(started.elapsed());
        }
    }
    Ok(building)
}

/// Writes what was seen of the builds under `heading`, with the daemon's own account of the
/// link graph's, and its memory: `before` (VmRSS, RssAnon in kB) the builds were asked for,
/// at its peak, and the kernel's high-water mark.
pub fn describe(
    run: &mut Run,
    daemon: &Daemon,
    heading: &str,
    before: [u64; 2],
    followed: &Followed,
) -> anyhow::Result<()> {
    writeln!(
        run.out,
        "\n  {heading} {:.2} s",
        followed.wall.as_secs_f64()
    )?;
    for (kind, phase) in KINDS.iter().zip(&followed.phases) {
        let Some(ready) = phase.ready else { continue };
        let building = match phase.building {
            Some(at) => format!(
                "seen building from {:.2} s, peak meanwhile VmRSS {} kB, RssAnon {} kB",
                at.as_secs_f64(),
                phase.peak[0],
                phase.peak[1]
            ),
            None => format!("built between two polls ({} ms apart)", poll_ms()),
        };
        let ready = ready.as_secs_f64();
        writeln!(run.out, "    {kind:<8} ready at {ready:6.2} s; {building}")?;
    }
    for line in daemon.log().lines() {
        let finished = line.find("index build finished");
        if let Some(at) = finished.filter(|_| line.contains("kind=\"links\"")) {
            writeln!(run.out, "    ozmd log: {}", &line[at..])?;
        }
    }
    let pid = daemon.pid();
    let hwm = status_fields(pid, &["VmHWM"]).with_context(|| format!("reading /proc/{pid}"))?;
    writeln!(
        run.out,
        "    ozmd memory (kB): before, VmRSS {} and RssAnon {}; peak sampled every {} ms, {} and \
         {}; VmHWM {}",
        before[0],
        before[1],
        SAMPLE_EVERY.as_millis(),
        followed.peak[0],
        followed.peak[1],
        hwm[0]
    )?;
    Ok(())
}

/// Milliseconds between two status polls.
fn poll_ms() -> u128 {
    SAMPLE_EVERY.as_millis() * u128::from(SAMPLES_PER_POLL)
}
