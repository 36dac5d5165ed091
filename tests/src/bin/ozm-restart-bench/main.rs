//! `ozm-restart-bench`: shims keep calling tools while their daemon is restarted again and
//! again, and the driver prints how many calls failed (it must be none) and how long a call
//! waited at worst, which is what a restart costs an AI client.
//!
//! `ozm-restart-bench [SHIMS] [RESTARTS]` (default 4 shims, 6 restarts): each shim pipelines
//! windows of calls of the restart tests (searches and reads of the real test archives, each
//! answer compared with a calm daemon's) without pause; the daemon is killed with SIGKILL and
//! stopped with SIGTERM in turn, each time once every shim has had answers from it, and started
//! again on the same socket, as systemd would. The longest restart is printed beside the longest
//! wait: the difference is what the shims add. Figures, not assertions: run it on a quiet
//! machine, from a release build: `cargo build --release --workspace &&
//! target/release/ozm-restart-bench`. Archives: `OZM_TEST_DATA` (default `../shared/zim`).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use ozm_tests::bench::{data_dir, release_binaries};
use ozm_tests::fixture::{Daemon, DaemonSweeper, Load, Outcome, expected_answers, wait_until};

/// Calls a shim sends before it reads their answers.
const WINDOW: usize = 8;

/// How long the driver waits for every shim to get answers from a new daemon.
const PROGRESS_WAIT: Duration = Duration::from_secs(60);

fn main() -> anyhow::Result<()> {
    release_binaries("ozm-restart-bench")?;
    let mut args = std::env::args().skip(1);
    let shims: usize = args
        .next()
        .map_or(Ok(4), |arg| arg.parse())
        .context("SHIMS")?;
    let restarts: usize = args
        .next()
        .map_or(Ok(6), |arg| arg.parse())
        .context("RESTARTS")?;
    let data = data_dir("OZM_TEST_DATA", "zim")?;

    let mut daemon = Daemon::start();
    let _sweeper = DaemonSweeper::new(&daemon.socket);
    let expected = {
        let mut shim = daemon.shim(&[&data]);
        shim.initialize();
        expected_answers(&mut shim)
    };

    // Each shim counts its answers, so the driver knows when every one has been served.
    let stop = Arc::new(AtomicBool::new(false));
    let answered: Vec<Arc<AtomicUsize>> = (0..shims).map(|_| Arc::default()).collect();
    let workers: Vec<_> = answered
        .iter()
        .map(|count| {
            let mut shim = daemon.shim(&[&data]);
            shim.initialize();
            let (stop, count, expected) = (Arc::clone(&stop), Arc::clone(count), expected.clone());
            std::thread::spawn(move || {
                let mut load = Load::new(shim, false);
                while !stop.load(Ordering::Relaxed) {
                    load.send(WINDOW);
                    load.read_all();
                    count.fetch_add(WINDOW, Ordering::Relaxed);
                }
                load.finish(&expected)
            })
        })
        .collect();

    let started = Instant::now();
    let mut longest_down = Duration::ZERO;
    for restart in 0..restarts {
        let marks: Vec<usize> = answered.iter().map(|n| n.load(Ordering::Relaxed)).collect();
        wait_until(PROGRESS_WAIT, "every shim answered by the daemon", || {
            answered
                .iter()
                .zip(&marks)
                .all(|(count, mark)| count.load(Ordering::Relaxed) > *mark)
        });
        let down = Instant::now();
        if restart % 2 == 0 {
            daemon.kill();
        } else {
            daemon.terminate();
        }
        daemon.restart();
        longest_down = longest_down.max(down.elapsed());
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = Outcome::default();
    for worker in workers {
        match worker.join() {
            Ok(outcome) => {
                total.calls += outcome.calls;
                total.failures.extend(outcome.failures);
                total.longest_wait = total.longest_wait.max(outcome.longest_wait);
            }
            Err(_) => total
                .failures
                .push("a shim's driver failed (see above)".to_owned()),
        }
    }

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "ozm-restart-bench: {shims} shims, {restarts} restarts (SIGKILL and SIGTERM in turn) \
         in {:.1} s",
        started.elapsed().as_secs_f64()
    )?;
    writeln!(out, "calls:          {}", total.calls)?;
    writeln!(out, "failed calls:   {}", total.failures.len())?;
    writeln!(
        out,
        "longest wait:   {:.0} ms",
        total.longest_wait.as_secs_f64() * 1000.0
    )?;
    writeln!(
        out,
        "longest restart: {:.0} ms (from the signal until the new daemon accepts connections)",
        longest_down.as_secs_f64() * 1000.0
    )?;
    for failure in total.failures.iter().take(20) {
        writeln!(out, "  {failure}")?;
    }
    anyhow::ensure!(total.failures.is_empty(), "some calls failed");
    Ok(())
}
