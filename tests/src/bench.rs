//! What the load drivers (`ozm-bench`, `ozm-search-bench`, `ozm-index-bench`,
//! `ozm-content-bench`) share: where the archives are, that release binaries are measured, the
//! quantiles of a set of timings, and the daemon's memory as the kernel reports it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

/// The shared archives: `variable` if set, else `../shared/<shared>` beside the workspace.
pub fn data_dir(variable: &str, shared: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared")
                .join(shared)
        });
    std::fs::canonicalize(&path)
        .with_context(|| format!("{} not found: set {variable}", path.display()))
}

/// Timings in milliseconds, sorted, to read quantiles off.
struct Timings(Vec<f64>);

impl Timings {
    /// The samples, in milliseconds.
    fn new(samples: &[Duration]) -> Self {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        Timings(ms)
    }

    /// The sample at quantile `q` (0 is the fastest, 1 the slowest); 0 with no samples.
    fn at(&self, q: f64) -> f64 {
        match self.0.len() {
            0 => 0.0,
            n => self.0[((n - 1) as f64 * q).round() as usize],
        }
    }
}

/// The sample at quantile `q` of `samples` in milliseconds, as [`report`] reads it (0 if none).
pub fn quantile_ms(samples: &[Duration], q: f64) -> f64 {
    Timings::new(samples).at(q)
}

/// Fields of `/proc/<pid>/status` (sizes in kB), each `?` where absent.
pub fn status_fields(pid: u32, names: &[&str]) -> std::io::Result<Vec<String>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(names
        .iter()
        .map(|name| {
            status
                .lines()
                .find(|line| {
                    line.strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with(':'))
                })
                .and_then(|line| line.split_whitespace().nth(1))
                .unwrap_or("?")
                .to_owned()
        })
        .collect())
}

/// Writes one line: `what`, the count, then min / median / `tail` quantile / max in ms.
pub fn report(
    out: &mut impl Write,
    what: &str,
    samples: &[Duration],
    tail: f64,
) -> std::io::Result<()> {
    let ms = Timings::new(samples);
    writeln!(
        out,
        "{what:<56} n={:<4} {:7.2} / {:7.2} / {:7.2} / {:7.2}",
        samples.len(),
        ms.at(0.0),
        ms.at(0.5),
        ms.at(tail),
        ms.at(1.0)
    )
}

/// Fails unless `ozm` and `ozmd` sit beside the driver `driver`, which is where the fixture
/// takes them; warns when the driver is a debug build.
pub fn release_binaries(driver: &str) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("the path of this driver")?;
    for name in ["ozm", "ozmd"] {
        let path = exe.with_file_name(name);
        if !path.is_file() {
            anyhow::bail!(
                "{} is missing: build the binaries first with `cargo build --release --workspace`",
                path.display()
            );
        }
    }
    if cfg!(debug_assertions) {
        // A debug build drives the debug daemon, many times slower than what users run.
        writeln!(
            std::io::stderr(),
            "warning: a debug build; `cargo build --release --workspace` and \
             `target/release/{driver}` give figures that mean something"
        )?;
    }
    Ok(())
}
