//! `ozm index [ARCHIVE…]`: has the daemon build ozm's own indexes now, and follows the builds.
//!
//! The daemon does the work; this command only asks for it and watches. It sends one
//! [`CliRequest::Index`], then polls [`CliRequest::Status`] on the same connection a few times a
//! second until every build it was answered with is ready or failed. Progress goes to stderr
//! (bars on a terminal, otherwise one line when a build starts and one when it ends, so that
//! logs stay short); the outcome of each build goes to stdout, a table on a terminal or one
//! `index` record a line (see [`crate::table`]). Interrupting the command stops the watching,
//! not the builds.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use ozm_protocol::{
    BuildState, CliRequest, CliResponse, Connection, FrameError, IndexKind, IndexStatus, Peer,
};

use crate::connect;
use crate::request::STATUS_WITHIN;
use crate::status::duration;
use crate::table::{Cell, Fit, Mode, Report, Table, shown};

/// How long the daemon may take to answer the request: naming an archive it does not know yet
/// has it open that archive first.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// Time between two status requests: about four a second, smooth enough for a bar.
const POLL_EVERY: Duration = Duration::from_millis(250);

/// Why a build is taken for failed when the daemon stops listing it (its archive turned out
/// damaged, for example).
const STOPPED_LISTING: &str = "ozmd stopped listing it; `ozm status` tells whether the archive \
                               is still readable";

/// Asks for the indexes of `archives` (every archive the daemon knows when empty), follows
/// the builds and returns the exit code: 0 when every index is ready, 1 when one failed.
pub async fn run(socket: &Path, archives: &[PathBuf]) -> anyhow::Result<u8> {
    let archives = archives
        .iter()
        .map(|path| absolute(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let asked_for_all = archives.is_empty();

    let mut connection = connect::hello(socket, Peer::Cli).await?;
    let request = CliRequest::Index { archives };
    connection.send(&request).await.map_err(lost)?;
    let mut builds = match connection.recv_within(ANSWER_WITHIN).await.map_err(lost)? {
        CliResponse::Indexing(builds) => builds,
        CliResponse::Error(message) => bail!("ozmd cannot index: {message}"),
        _ => bail!("ozmd answered with the wrong report"),
    };
    if builds.is_empty() {
        let why = if asked_for_all {
            "ozmd knows no archive yet: name one, or connect an `ozm mcp` to it first"
        } else {
            "ozmd has no index to build for these archives"
        };
        let _ = writeln!(std::io::stderr(), "ozm: nothing to index: {why}");
        return Ok(0);
    }

    // The bars or lines are closed whatever happens, so that an error is not printed over them.
    let mut view = View::new(&builds);
    let followed = follow(&mut connection, &mut builds, &mut view).await;
    view.close(followed.is_ok());
    followed?;

    let mut outcomes = table(format!("Indexes ({})", builds.len()));
    for build in &builds {
        add_row(&mut outcomes, build);
    }
    let mut out = Report::new(Mode::detect());
    out.table(&outcomes);
    out.print()?;
    let all_ready = builds
        .iter()
        .all(|build| matches!(build.state, BuildState::Ready { .. }));
    Ok(if all_ready { 0 } else { 1 })
}

/// The path as the daemon must receive it: absolute, since the daemon's current directory is
/// not ours. Symlinks are left for the daemon to judge.
fn absolute(path: &Path) -> anyhow::Result<String> {
    let absolute = std::path::absolute(path)
        .with_context(|| format!("making {} an absolute path", path.display()))?;
    match absolute.into_os_string().into_string() {
        Ok(text) => Ok(text),
        Err(_) => bail!("{}: ozmd takes only UTF-8 paths", path.display()),
    }
}

/// Polls the daemon until no build in `builds` is queued or running, showing each change.
async fn follow(
    connection: &mut Connection,
    builds: &mut [IndexStatus],
    view: &mut View,
) -> anyhow::Result<()> {
    view.update(builds);
    while !builds.iter().all(|build| finished(&build.state)) {
        tokio::time::sleep(POLL_EVERY).await;
        connection.send(&CliRequest::Status).await.map_err(lost)?;
        let report = match connection.recv_within(STATUS_WITHIN).await.map_err(lost)? {
            CliResponse::Status(report) => *report,
            CliResponse::Error(message) => bail!("ozmd could not report on the builds: {message}"),
            _ => bail!("ozmd answered with the wrong report"),
        };
        for build in builds.iter_mut().filter(|build| !finished(&build.state)) {
            let now = report
                .indexes
                .iter()
                .find(|index| index.archive == build.archive && index.kind == build.kind);
            // An index the daemon stops listing would otherwise be waited for forever.
            build.state = match now {
                Some(index) => index.state.clone(),
                None => BuildState::Failed(STOPPED_LISTING.to_owned()),
            };
        }
        view.update(builds);
    }
    Ok(())
}

/// The error for a daemon that stopped answering. It keeps the cause as text only: a broken
/// pipe in the chain would pass for a closed stdout, which `main` takes for success.
fn lost(error: FrameError) -> anyhow::Error {
    match error {
        FrameError::Timeout(limit) => anyhow!(
            "ozmd did not answer within {}s; its builds go on: see `ozm status`",
            limit.as_secs()
        ),
        other => anyhow!(
            "lost the connection to ozmd ({other}); the builds it had not finished stopped with \
             it: start ozmd and run `ozm index` again"
        ),
    }
}

fn finished(state: &BuildState) -> bool {
    matches!(state, BuildState::Ready { .. } | BuildState::Failed(_))
}

/// How the builds are shown while they run, on stderr.
enum View {
    /// A terminal: one bar per build, redrawn in place.
    Bars {
        bars: MultiProgress,
        each: Vec<ProgressBar>,
    },
    /// A file or a pipe: a line when a build starts running and one when it ends. Builds that
    /// had ended before the command asked get no line.
    Lines {
        started: Vec<bool>,
        ended: Vec<bool>,
    },
}

impl View {
    fn new(builds: &[IndexStatus]) -> View {
        if !std::io::stderr().is_terminal() {
            let ended: Vec<bool> = builds.iter().map(|build| finished(&build.state)).collect();
            return View::Lines {
                started: ended.clone(),
                ended,
            };
        }
        let style = ProgressStyle::with_template("{prefix} [{bar:20}] {msg}")
            .expect("the bar's template is valid")
            .progress_chars("=> ");
        let bars = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let each = builds
            .iter()
            .map(|build| {
                let name = Path::new(&build.archive).file_name().map_or_else(
                    || build.archive.clone(),
                    |name| name.to_string_lossy().into(),
                );
                let bar = ProgressBar::no_length()
                    .with_style(style.clone())
                    .with_prefix(format!("{} {}", shown(&name), kind(build.kind)));
                bars.add(bar)
            })
            .collect();
        View::Bars { bars, each }
    }

    fn update(&mut self, builds: &[IndexStatus]) {
        match self {
            View::Bars { each, .. } => {
                for (bar, build) in each.iter().zip(builds) {
                    if bar.is_finished() {
                        continue;
                    }
                    match &build.state {
                        BuildState::Queued => bar.set_message("queued"),
                        BuildState::Building { done, total, .. } => {
                            // A length of 0 would draw a full bar before anything is counted.
                            if *total > 0 {
                                bar.set_length(*total);
                            }
                            bar.set_position(*done);
                            bar.set_message(state(build.kind, &build.state));
                        }
                        BuildState::Ready { documents, .. } => {
                            bar.set_length(*documents);
                            bar.set_position(*documents);
                            bar.finish_with_message(state(build.kind, &build.state));
                        }
                        BuildState::Failed(_) => {
                            bar.abandon_with_message(state(build.kind, &build.state))
                        }
                    }
                }
            }
            View::Lines { started, ended } => {
                let mut err = std::io::stderr().lock();
                for (i, build) in builds.iter().enumerate() {
                    let running = matches!(build.state, BuildState::Building { .. });
                    let line = if finished(&build.state) && !ended[i] {
                        (started[i], ended[i]) = (true, true);
                        describe(build)
                    } else if running && !started[i] {
                        started[i] = true;
                        describe(build)
                    } else {
                        continue;
                    };
                    // A closed stderr must not stop the builds being followed.
                    let _ = writeln!(err, "{line}");
                }
            }
        }
    }

    /// Clears the bars once every build has ended, since stdout then tells the outcome; leaves
    /// them as they stood when following failed, to show how far the builds got.
    fn close(self, completed: bool) {
        if let View::Bars { bars, each } = self {
            if completed {
                let _ = bars.clear();
            } else {
                each.iter().for_each(ProgressBar::abandon);
            }
        }
    }
}

/// One line on an index, as `ozm status` lists it: `/a/x.zim full-text: queued`.
pub fn describe(index: &IndexStatus) -> String {
    format!(
        "{} {}: {}",
        shown(&index.archive),
        kind(index.kind),
        state(index.kind, &index.state)
    )
}

/// An empty table of indexes, as `ozm status` and `ozm index` print them.
pub fn table(title: String) -> Table {
    Table::new(
        "index",
        title,
        &[
            ("archive", Fit::Middle),
            ("index", Fit::Keep),
            ("state", Fit::End),
        ],
    )
}

/// Adds an index to a [`table`]: a failed build in red.
pub fn add_row(table: &mut Table, index: &IndexStatus) {
    let words = state(index.kind, &index.state);
    let state = match index.state {
        BuildState::Failed(_) => Cell::error(words),
        _ => Cell::new(words),
    };
    table.row(vec![
        Cell::new(&index.archive),
        Cell::new(kind(index.kind)),
        state,
    ]);
}

fn kind(kind: IndexKind) -> &'static str {
    match kind {
        IndexKind::Fulltext => "full-text",
        IndexKind::Titles => "titles",
        IndexKind::Links => "links",
    }
}

/// Where a build stands, in words: `building 1,200/20,000 articles (850/s, about 22s left)`.
/// The full-text index and the link graph count articles; the titles index counts titles,
/// redirects included.
fn state(kind: IndexKind, state: &BuildState) -> String {
    let noun = match kind {
        IndexKind::Fulltext | IndexKind::Links => ("article", "articles"),
        IndexKind::Titles => ("title", "titles"),
    };
    let items = |n: u64| match n {
        1 => format!("1 {}", noun.0),
        _ => format!("{} {}", count(n), noun.1),
    };
    match state {
        BuildState::Queued => "queued".to_owned(),
        // Nothing is counted yet: the build has just started.
        BuildState::Building { total: 0, .. } => "building".to_owned(),
        // Every item is read and the index is being written: the rate says nothing any more.
        BuildState::Building { done, total, .. } if done >= total => {
            format!("building {}/{} (finishing)", count(*done), items(*total))
        }
        BuildState::Building {
            done,
            total,
            per_second,
            seconds_left,
        } => {
            // The rate and the time left are unknown until the first items are read.
            let rate = (per_second.is_finite() && *per_second > 0.0).then(|| rate(*per_second));
            let left = seconds_left.map(|seconds| format!("about {} left", duration(seconds)));
            let pace: Vec<String> = rate.into_iter().chain(left).collect();
            let pace = if pace.is_empty() {
                String::new()
            } else {
                format!(" ({})", pace.join(", "))
            };
            format!("building {}/{}{pace}", count(*done), items(*total))
        }
        BuildState::Ready {
            documents,
            size_bytes,
        } => format!("ready ({}, {})", items(*documents), size(*size_bytes)),
        BuildState::Failed(reason) => format!("FAILED: {}", shown(reason)),
    }
}

/// Items a second: whole numbers, but a slow build still shows that it moves.
fn rate(per_second: f64) -> String {
    if per_second < 10.0 {
        format!("{per_second:.1}/s")
    } else {
        format!("{}/s", count(per_second.round() as u64))
    }
}

/// A count with thousands separated, as in the daemon's own notes: `20,000`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// A size in decimal units, one decimal: `3.1 MB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(kind: IndexKind, state: BuildState) -> IndexStatus {
        IndexStatus {
            archive: "/zim/x.zim".to_owned(),
            kind,
            state,
        }
    }

    #[test]
    fn a_running_build_shows_counts_rate_and_time_left() {
        let building = BuildState::Building {
            done: 1200,
            total: 20000,
            per_second: 850.4,
            seconds_left: Some(22),
        };
        assert_eq!(
            describe(&index(IndexKind::Fulltext, building)),
            "/zim/x.zim full-text: building 1,200/20,000 articles (850/s, about 22s left)"
        );
    }

    #[test]
    fn each_phase_of_a_build_says_only_what_is_known() {
        let building = |done, total, per_second, seconds_left| BuildState::Building {
            done,
            total,
            per_second,
            seconds_left,
        };
        let full_text = |build| state(IndexKind::Fulltext, &build);
        assert_eq!(full_text(building(0, 0, 0.0, None)), "building");
        assert_eq!(full_text(building(0, 1, 0.0, None)), "building 0/1 article");
        assert_eq!(
            full_text(building(3, 7_000_000, 2.46, Some(4000))),
            "building 3/7,000,000 articles (2.5/s, about 1h6m left)"
        );
        assert_eq!(
            full_text(building(20_001, 20_001, 854.0, Some(0))),
            "building 20,001/20,001 articles (finishing)"
        );
        assert_eq!(
            state(IndexKind::Titles, &building(10, 2101, 0.0, Some(3))),
            "building 10/2,101 titles (about 3s left)"
        );
    }

    #[test]
    fn ended_builds_say_how_they_ended() {
        let ready = BuildState::Ready {
            documents: 2000,
            size_bytes: 3_141_592,
        };
        assert_eq!(
            describe(&index(IndexKind::Fulltext, ready)),
            "/zim/x.zim full-text: ready (2,000 articles, 3.1 MB)"
        );
        let failed = BuildState::Failed("disk full\n\x1b[2J".to_owned());
        assert_eq!(
            describe(&index(IndexKind::Titles, failed)),
            "/zim/x.zim titles: FAILED: disk full\\n\\u{1b}[2J"
        );
        let one = BuildState::Ready {
            documents: 1,
            size_bytes: 63,
        };
        assert_eq!(
            describe(&index(IndexKind::Titles, one)),
            "/zim/x.zim titles: ready (1 title, 63 bytes)"
        );
        assert_eq!(
            describe(&index(IndexKind::Titles, BuildState::Queued)),
            "/zim/x.zim titles: queued"
        );
        let graph = BuildState::Ready {
            documents: 20_000,
            size_bytes: 4_200_000,
        };
        assert_eq!(
            describe(&index(IndexKind::Links, graph)),
            "/zim/x.zim links: ready (20,000 articles, 4.2 MB)"
        );
    }

    #[test]
    fn figures_read_easily() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(12_345_678), "12,345,678");
        assert_eq!(size(999), "999 bytes");
        assert_eq!(size(1000), "1.0 kB");
        assert_eq!(size(12_300_000), "12.3 MB");
        assert_eq!(size(999_999_999), "1.0 GB");
        assert_eq!(rate(850.5), "851/s");
    }
}
