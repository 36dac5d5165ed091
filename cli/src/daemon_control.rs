//! `ozm daemon start | stop | restart | status`: running the daemon by hand, without a service
//! manager.
//!
//! `start` starts `ozmd` exactly as a shim does when none answers (detached in its own process
//! group, with a clean environment, logging to `ozmd.log` in the state directory) and waits
//! until it answers. `stop` sends SIGTERM to the pid the daemon reports and waits until that
//! process is gone; the daemon removes its socket as it exits. A daemon of another version, which
//! refuses this `ozm` or answers in a form it cannot read, is found through the socket: the
//! kernel names the process listening on it, so a restart after an upgrade works. `restart`
//! starts the new daemon with the arguments, settings and working directory of the old one; it
//! leaves another user's daemon alone, which started from here would run as this user.
//! Shims connected to a daemon that is restarted reconnect on their own.
//!
//! A daemon systemd runs is left to `systemctl`: stopped by `ozm`, it would be started again by
//! the next connection to its socket, so `stop` and `restart` refuse and name the command to use.

mod previous;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use ozm_protocol::{CliRequest, CliResponse, Peer, StatusReport, Supervisor};
use rustix::io::Errno;
use rustix::process::{Pid, Signal};

use crate::connect::Launch;
use crate::request::{self, STATUS_WITHIN};
use crate::{EXIT_NO_DAEMON, connect, status};

/// What to do with the daemon.
pub enum Action {
    /// Start one unless one answers.
    Start,
    /// Stop the one that answers.
    Stop(StopOptions),
    /// Stop it, then start a new one.
    Restart(StopOptions),
    /// Say whether one answers.
    Status,
}

/// How patiently to stop.
pub struct StopOptions {
    /// How long the daemon gets to exit after SIGTERM.
    pub wait: Duration,
    /// Kill it with SIGKILL if it has not exited by then.
    pub force: bool,
}

/// How long a process killed with SIGKILL may take to disappear.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// How often the end of the process is checked for.
const POLL_EVERY: Duration = Duration::from_millis(20);

/// Carries out `action` for the daemon on `socket` and returns the exit code.
pub async fn run(socket: &Path, action: Action) -> anyhow::Result<u8> {
    match action {
        Action::Start => start(socket, &Launch::plain(socket)).await,
        Action::Stop(options) => stop(socket, &options, "stop").await.map(|_| 0),
        Action::Restart(options) => {
            let (launch, note) = relaunch(socket)?;
            if !stop(socket, &options, "restart").await? {
                say("starting one");
            }
            if let Some(note) = note {
                say(&note);
            }
            let started = start(socket, &launch).await;
            // Options that served the old daemon may not serve the new one (a config file
            // removed since, an option a new version dropped); the user is left with none.
            if previous::summary(&launch).is_some() {
                return started.context(
                    "the new ozmd did not start as the old one was started; `ozm daemon \
                     start` starts one with default options",
                );
            }
            started
        }
        Action::Status => match running(socket).await? {
            Some(daemon) if daemon.answers => {
                say(&daemon.summary);
                Ok(0)
            }
            Some(daemon) => bail!("{}", daemon.summary),
            None => {
                say(&format!("no ozmd runs on {}", socket.display()));
                Ok(EXIT_NO_DAEMON)
            }
        },
    }
}

/// What is known of a daemon that listens on the socket.
struct Running {
    /// Its process id, as it reports it or, for a daemon of another version, as the kernel
    /// names the process listening on the socket.
    pid: u32,
    /// The service manager running it, when it says so.
    supervisor: Option<Supervisor>,
    /// One line about it.
    summary: String,
    /// Whether it answered this `ozm`: one that did not (hung, of another version, or not ozmd
    /// at all) serves no shim of this `ozm` either.
    answers: bool,
}

/// The daemon listening on `socket`, or `None` when none does.
async fn running(socket: &Path) -> anyhow::Result<Option<Running>> {
    let error = match request::status(socket).await {
        Ok(report) => {
            return Ok(Some(Running {
                pid: report.daemon.pid,
                supervisor: report.supervisor.clone(),
                summary: describe(&report),
                answers: true,
            }));
        }
        Err(error) if error.is::<connect::NoDaemon>() => return Ok(None),
        Err(error) => error,
    };
    // A daemon of another version (the usual case after an upgrade, when a restart is due)
    // refuses this ozm or answers in a form it cannot read; it is found through the socket.
    let Some((pid, _)) = listener(socket) else {
        return Err(error);
    };
    let name = process_name(pid);
    let summary = if name == "ozmd" {
        format!(
            "ozmd (pid {pid}) on {} does not answer this ozm {}: {error:#}; if it hangs or is \
             of another version, `ozm daemon restart --force` replaces it",
            socket.display(),
            env!("CARGO_PKG_VERSION")
        )
    } else {
        format!(
            "{} is held by pid {pid} ({name:?}), which is not ozmd: {error:#}",
            socket.display()
        )
    };
    Ok(Some(Running {
        pid,
        supervisor: None,
        summary,
        answers: false,
    }))
}

/// The command name of process `pid` (its `comm`), empty if it cannot be read.
fn process_name(pid: u32) -> String {
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    name.trim_end().to_owned()
}

/// The process listening on `socket` and its user id, as the kernel tells the peer of a
/// connection.
fn listener(socket: &Path) -> Option<(u32, u32)> {
    let stream = std::os::unix::net::UnixStream::connect(socket).ok()?;
    let credentials = rustix::net::sockopt::socket_peercred(&stream).ok()?;
    let pid = u32::try_from(credentials.pid.as_raw_nonzero().get()).ok()?;
    Some((pid, credentials.uid.as_raw()))
}

/// How to start the daemon on `socket` again: as the ozmd listening there was started, when this
/// user may read how; else plainly. The note, if any, says which. Fails for the daemon of
/// another user: started from here, the new one would run as this user, with files and a
/// socket its own user could not use.
fn relaunch(socket: &Path) -> anyhow::Result<(Launch, Option<String>)> {
    let Some((pid, owner)) = listener(socket).filter(|(pid, _)| process_name(*pid) == "ozmd")
    else {
        return Ok((Launch::plain(socket), None));
    };
    let me = rustix::process::geteuid().as_raw();
    if owner != me {
        bail!(
            "ozmd (pid {pid}) on {} runs as uid {owner}: restarted by this user (uid {me}) it \
             would run as uid {me}; run `ozm daemon restart` as uid {owner}",
            socket.display()
        );
    }
    let previous = match previous::launch_of(pid, socket) {
        Ok(previous) => previous,
        Err(error) => {
            let note = format!(
                "cannot read how ozmd (pid {pid}) was started ({error}): starting it with \
                 default options"
            );
            return Ok((Launch::plain(socket), Some(note)));
        }
    };
    let mut notes: Vec<String> = previous::summary(&previous.launch)
        .map(|said| format!("starting it with {said}"))
        .into_iter()
        .collect();
    if let Some(lost) = &previous.lost_dir {
        let here = std::env::current_dir().unwrap_or_default();
        notes.push(format!(
            "its working directory {} is gone, so it starts in {}, where relative paths in its \
             options are read",
            lost.display(),
            here.display()
        ));
    }
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    Ok((previous.launch, note))
}

async fn start(socket: &Path, launch: &Launch) -> anyhow::Result<u8> {
    if let Some(daemon) = running(socket).await? {
        if !daemon.answers {
            bail!("cannot start ozmd: {}", daemon.summary);
        }
        say(&format!("already running: {}", daemon.summary));
        return Ok(0);
    }
    let mut connection = connect::hello_launching(socket, Peer::Cli, launch)
        .await
        .map_err(|error| anyhow!("{error:#}"))?
        .connection;
    let report = match request::ask_on(&mut connection, &CliRequest::Status, STATUS_WITHIN).await? {
        CliResponse::Status(report) => *report,
        other => request::unexpected(other)?,
    };
    say(&format!(
        "started ozmd (pid {}) on {}; it logs to {}",
        report.daemon.pid,
        report.daemon.socket,
        connect::log_path().display()
    ));
    Ok(0)
}

/// Stops the daemon on `socket`; returns whether one was running. `verb` names the command for
/// the advice given when systemd runs the daemon.
async fn stop(socket: &Path, options: &StopOptions, verb: &str) -> anyhow::Result<bool> {
    let Some(daemon) = running(socket).await? else {
        say(&format!(
            "no ozmd runs on {}: nothing to stop",
            socket.display()
        ));
        return Ok(false);
    };
    let pid = daemon.pid;
    if let Some(supervisor) = &daemon.supervisor {
        bail!("{}", left_to_systemd(supervisor, pid, verb));
    }
    let Some(process) = Pid::from_raw(i32::try_from(pid).unwrap_or(0)) else {
        bail!(
            "ozmd on {} gives pid {pid}, which is no process id",
            socket.display()
        );
    };
    // A pid the daemon reports is its own view (another pid namespace would make it another
    // process here); the kernel names systemd for a socket that systemd listens on.
    let name = process_name(pid);
    if name != "ozmd" && !daemon.answers {
        bail!("{}; it is left alone", daemon.summary);
    } else if name != "ozmd" {
        bail!(
            "the daemon on {} is pid {pid}, which here is {name:?}, not ozmd: if systemd runs \
             it, use `systemctl {verb}` on its units; else stop it where it runs",
            socket.display(),
        );
    }

    signal(process, Signal::TERM)?;
    if ended_within(process, options.wait).await {
        say(&format!("stopped ozmd (pid {pid})"));
    } else if options.force {
        signal(process, Signal::KILL)?;
        if !ended_within(process, KILL_WAIT).await {
            bail!("ozmd (pid {pid}) is still there after SIGKILL");
        }
        let socket_file = if remove_left_socket(socket).await {
            "its socket file is removed"
        } else {
            "its socket file stays until the next ozmd replaces it"
        };
        say(&format!(
            "ozmd (pid {pid}) did not stop within {}s and was killed; {socket_file}",
            options.wait.as_secs()
        ));
    } else {
        bail!(
            "ozmd (pid {pid}) did not stop within {}s (see {}); `ozm daemon {verb} --force` \
             kills it",
            options.wait.as_secs(),
            connect::log_path().display()
        );
    }
    Ok(true)
}

/// Removes the socket file a killed daemon left, as a daemon that stops cleanly does, so that
/// connected shims wait for the operator's next start instead of starting a daemon themselves.
/// Done under the daemons' lock (`ozmd.lock` beside the socket) and only when nobody listens,
/// so the socket of a daemon started meanwhile stays. Returns whether it was removed.
///
/// A killed daemon's main thread may show as exited while its other threads still hold its
/// files, the lock among them, so the lock is tried for a while.
async fn remove_left_socket(socket: &Path) -> bool {
    let Ok(lock) = std::fs::File::open(socket.with_extension("lock")) else {
        return false;
    };
    let deadline = tokio::time::Instant::now() + KILL_WAIT;
    while rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    let refused = std::os::unix::net::UnixStream::connect(socket)
        .is_err_and(|error| error.kind() == std::io::ErrorKind::ConnectionRefused);
    refused && std::fs::remove_file(socket).is_ok()
}

/// Sends `signal`; a process already gone is fine.
fn signal(process: Pid, signal: Signal) -> anyhow::Result<()> {
    match rustix::process::kill_process(process, signal) {
        Ok(()) | Err(Errno::SRCH) => Ok(()),
        Err(Errno::PERM) => bail!(
            "not allowed to signal ozmd (pid {}): it runs as another user",
            process.as_raw_nonzero()
        ),
        Err(error) => bail!(
            "cannot signal ozmd (pid {}): {error}",
            process.as_raw_nonzero()
        ),
    }
}

/// Waits until `process` has exited, at most `limit`; returns whether it did.
async fn ended_within(process: Pid, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if ended(process) {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Whether `process` has exited: it is gone, or a zombie its parent has not reaped yet.
fn ended(process: Pid) -> bool {
    if rustix::process::test_kill_process(process) == Err(Errno::SRCH) {
        return true;
    }
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", process.as_raw_nonzero()));
    // The state follows the command name, which is in parentheses and may hold anything.
    let state = stat
        .ok()
        .and_then(|stat| stat[stat.rfind(')')? + 1..].trim_start().chars().next());
    matches!(state, Some('Z' | 'X'))
}

/// Why `ozm daemon VERB` leaves a daemon systemd runs alone, and the command to use instead.
fn left_to_systemd(supervisor: &Supervisor, pid: u32, verb: &str) -> String {
    let user = if supervisor.user { " --user" } else { "" };
    let unit = &supervisor.unit;
    let command = if verb == "stop" {
        // Its socket unit would start it again at the next connection.
        let socket_unit = format!("{}.socket", unit.trim_end_matches(".service"));
        format!("systemctl{user} stop {socket_unit} {unit}")
    } else {
        format!("systemctl{user} {verb} {unit}")
    };
    format!(
        "ozmd (pid {pid}) is run by {} as {unit}, which would start it again: use `{command}`",
        supervisor.manager
    )
}

/// One line on a running daemon.
fn describe(report: &StatusReport) -> String {
    let daemon = &report.daemon;
    let service = match &report.supervisor {
        Some(supervisor) => {
            let user = if supervisor.user { " --user" } else { "" };
            format!(
                ", run by {}{user} as {}",
                supervisor.manager, supervisor.unit
            )
        }
        None => String::new(),
    };
    format!(
        "ozmd {} (pid {}) on {}, up {}, {} shims, {} archives{service}",
        daemon.version,
        daemon.pid,
        daemon.socket,
        status::duration(daemon.uptime_seconds),
        report.shims.len(),
        report.archives.len()
    )
}

/// Prints one line of what happened on stdout; a closed stdout is no reason to stop.
fn say(line: &str) {
    let _ = crate::table::print(format!("{line}\n").as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_daemon_systemd_runs_is_left_to_systemctl() {
        let user = Supervisor {
            manager: "systemd".into(),
            unit: "ozmd.service".into(),
            user: true,
        };
        let advice = left_to_systemd(&user, 42, "stop");
        assert!(
            advice.contains("`systemctl --user stop ozmd.socket ozmd.service`"),
            "{advice}"
        );
        let system = Supervisor {
            user: false,
            ..user
        };
        let advice = left_to_systemd(&system, 42, "restart");
        assert!(
            advice.contains("`systemctl restart ozmd.service`"),
            "{advice}"
        );
    }

    #[test]
    fn this_process_runs_and_a_free_pid_has_ended() {
        let me = Pid::from_raw(std::process::id() as i32).expect("a pid");
        assert!(!ended(me));
        // Above /proc/sys/kernel/pid_max's largest possible value: never a live process.
        let free = Pid::from_raw(0x7fff_fff0).expect("a pid");
        assert!(ended(free));
    }
}
