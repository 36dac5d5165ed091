//! Who a process is, as the kernel tells it through `/proc`: pid, parent, start time in clock
//! ticks since boot, name and command line.
//!
//! A pid alone is not an identity: pids are reused, so a process is named by `(pid,
//! start_ticks)` and every check compares both. Signals go through a pidfd, so a pid reused
//! between the check and the signal is never hit.
//!
//! Every call is blocking but cheap (a few small `/proc` reads, tens of microseconds), so async
//! callers may use it in place. Linux only: it relies on `/proc`, `/proc/<pid>/stat` and pidfds
//! (Linux 5.3 and later).

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::sync::OnceLock;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, Signal};

/// A process as the kernel knows it; `(pid, start_ticks)` never names two processes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProcessInfo {
    /// Its pid.
    pub pid: u32,
    /// Its parent's pid (0 for the kernel's own first processes).
    pub parent_pid: u32,
    /// When it started, in clock ticks since boot.
    pub start_ticks: u64,
    /// Its name (`comm`, at most 15 bytes, set by the program itself).
    pub name: String,
    /// Its arguments; empty for kernel threads, for processes that have exited, and for an
    /// instant while a program starts (the kernel sets them up after replacing the image).
    pub command_line: Vec<String>,
}

impl ProcessInfo {
    /// Reads `/proc/<pid>/stat` and `/proc/<pid>/cmdline`; `None` if the process is gone.
    pub fn read(pid: u32) -> Option<ProcessInfo> {
        // Both files are opened through one directory handle: it stays bound to the process it
        // was opened for, so a pid reused between the two reads makes the second fail instead
        // of mixing two processes.
        let dir = proc_dir(pid)?;
        let stat = read_at(&dir, "stat")?;
        let (name, parent_pid, start_ticks) = parse_stat(&stat)?;
        let cmdline = read_at(&dir, "cmdline")?;
        Some(ProcessInfo {
            pid,
            parent_pid,
            start_ticks,
            name,
            command_line: split_cmdline(&cmdline),
        })
    }

    /// When the process started, in seconds since the Unix epoch.
    ///
    /// The boot time the kernel reports is whole seconds, so this may be up to a second early.
    pub fn started_at_epoch(&self) -> f64 {
        boot_time() + self.start_ticks as f64 / clock_ticks_per_second() as f64
    }

    /// Whether `pid` still names this same process (alive, same start time).
    pub fn is_alive(&self) -> bool {
        start_ticks_of(self.pid) == Some(self.start_ticks)
    }
}

/// Whether any process has this pid, including another user's (`kill(pid, 0)`).
pub fn pid_exists(pid: u32) -> bool {
    let Some(pid) = to_pid(pid) else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        // The process exists; we may only not signal it.
        Err(err) => err == Errno::PERM,
    }
}

/// Sends SIGTERM to `expected` only if its pid still names the same process; returns whether
/// the signal was sent.
///
/// The pidfd is opened first and the start time checked after, so the pidfd is known to name
/// `expected` (the process it names cannot be swapped for another), and the signal goes to it
/// even if the pid is reused meanwhile.
pub fn terminate_exactly(expected: &ProcessInfo) -> std::io::Result<bool> {
    let Some(pid) = to_pid(expected.pid) else {
        return Ok(false);
    };
    let pidfd = match rustix::process::pidfd_open(pid, PidfdFlags::empty()) {
        Ok(fd) => fd,
        Err(Errno::SRCH) => return Ok(false),
        Err(err) => return Err(err.into()),
    };
    if start_ticks_of(expected.pid) != Some(expected.start_ticks) {
        return Ok(false);
    }
    match rustix::process::pidfd_send_signal(&pidfd, Signal::TERM) {
        Ok(()) => {
            // A stopped process would keep SIGTERM pending; continuing it lets it act on it.
            let _ = rustix::process::pidfd_send_signal(&pidfd, Signal::CONT);
            Ok(true)
        }
        // It exited between the check and the signal.
        Err(Errno::SRCH) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// The pid as the kernel's type; `None` for 0 and for values no process can have.
fn to_pid(pid: u32) -> Option<Pid> {
    Pid::from_raw(i32::try_from(pid).ok()?)
}

/// Only the start time, for the frequent "is it still the same process" check.
fn start_ticks_of(pid: u32) -> Option<u64> {
    let stat = read_at(&proc_dir(pid)?, "stat")?;
    parse_stat(&stat).map(|(_, _, start_ticks)| start_ticks)
}

/// A handle on `/proc/<pid>`, bound to the process that has the pid now.
fn proc_dir(pid: u32) -> Option<OwnedFd> {
    to_pid(pid)?;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    rustix::fs::open(format!("/proc/{pid}"), flags, Mode::empty()).ok()
}

/// One small file under a `/proc/<pid>` handle; `None` if the process has gone.
fn read_at(dir: &OwnedFd, name: &str) -> Option<Vec<u8>> {
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let mut bytes = Vec::with_capacity(512);
    File::from(fd).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Name, parent pid and start ticks from the contents of `/proc/<pid>/stat`.
///
/// The name sits in parentheses and may itself hold spaces and `)`, so the fields after it are
/// found from the last `)`.
fn parse_stat(stat: &[u8]) -> Option<(String, u32, u64)> {
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    let name = String::from_utf8_lossy(stat.get(open + 1..close)?).into_owned();

    // After the name come field 3 (state), 4 (ppid), … 22 (starttime).
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let parent_pid = fields.nth(1)?.parse().ok()?;
    let start_ticks = fields.nth(22 - 5)?.parse().ok()?;
    Some((name, parent_pid, start_ticks))
}

/// `/proc/<pid>/cmdline`: arguments separated and ended by NUL.
fn split_cmdline(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_suffix(b"\0").unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|&b| b == 0)
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

/// The boot time, in seconds since the epoch, from `btime` in `/proc/stat`.
///
/// Read each time rather than kept: the kernel derives it from the wall clock, which may be set
/// while the daemon runs, and start times must be compared with wall-clock stamps of that moment.
fn boot_time() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    stat.lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|secs| secs.trim().parse::<u64>().ok())
        .unwrap_or(0) as f64
}

/// `CLK_TCK`, the unit of `start_ticks`, from the `AT_CLKTCK` entry the kernel passes every
/// program in its auxiliary vector (which is where `sysconf` reads it); 100 if absent, the value
/// on every architecture ozm builds for.
fn clock_ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        const AT_CLKTCK: u64 = 17;
        const WORD: usize = size_of::<usize>();
        let auxv = std::fs::read("/proc/self/auxv").unwrap_or_default();
        let word = |chunk: &[u8]| {
            usize::from_ne_bytes(chunk.try_into().expect("chunk of one word")) as u64
        };
        auxv.chunks_exact(2 * WORD)
            .map(|entry| (word(&entry[..WORD]), word(&entry[WORD..])))
            .find(|&(key, value)| key == AT_CLKTCK && value > 0)
            .map_or(100, |(_, value)| value)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Child, Command};
    use std::time::{Duration, Instant};

    use super::*;

    /// A child process killed and reaped when the test ends, passed or not.
    pub(crate) struct Reaped(pub(crate) Child);

    impl Reaped {
        /// Starts `command`, which must not exit on its own before the test ends, and waits
        /// (bounded) until its command line shows: the kernel sets it up a little after `spawn`
        /// has returned.
        pub(crate) fn spawn(command: &mut Command) -> Reaped {
            let child = Reaped(command.spawn().expect("spawning a test process"));
            let deadline = Instant::now() + Duration::from_secs(5);
            while ProcessInfo::read(child.pid()).is_none_or(|p| p.command_line.is_empty()) {
                assert!(
                    Instant::now() < deadline,
                    "the test process never showed its arguments"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
            child
        }

        /// Its pid.
        pub(crate) fn pid(&self) -> u32 {
            self.0.id()
        }

        /// Kills and reaps it now, so its pid names no process.
        pub(crate) fn end(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    impl Drop for Reaped {
        fn drop(&mut self) {
            self.end();
        }
    }

    fn sleeper() -> Reaped {
        Reaped::spawn(Command::new("sleep").arg("30"))
    }

    #[test]
    fn reads_this_process() {
        let me = ProcessInfo::read(std::process::id()).expect("our own /proc entry");
        assert_eq!(me.pid, std::process::id());
        let parent = rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get() as u32);
        assert_eq!(me.parent_pid, parent);
        assert!(!me.command_line.is_empty());
        assert!(me.is_alive());

        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let started = me.started_at_epoch();
        assert!(
            started <= now.as_secs_f64() + 1.0,
            "started {started} is in the future"
        );
        assert!(
            started > now.as_secs_f64() - 3600.0,
            "started {started} over an hour ago"
        );
    }

    #[test]
    fn reads_a_child_until_it_is_reaped() {
        let me = ProcessInfo::read(std::process::id()).unwrap();
        let mut child = sleeper();
        let info = ProcessInfo::read(child.pid()).expect("the child's /proc entry");
        assert_eq!(info.name, "sleep");
        assert_eq!(info.parent_pid, std::process::id());
        assert_eq!(info.command_line, ["sleep", "30"]);
        assert!(info.start_ticks >= me.start_ticks);
        assert!(info.started_at_epoch() >= me.started_at_epoch());
        assert!(info.is_alive());
        assert!(pid_exists(info.pid));

        child.end();
        assert!(!info.is_alive());
        assert!(!pid_exists(info.pid));
        assert_eq!(ProcessInfo::read(info.pid), None);
    }

    #[test]
    fn terminates_only_the_same_process() {
        let mut child = sleeper();
        let info = ProcessInfo::read(child.pid()).unwrap();

        // Another start time stands for a process that had the pid before or will have it.
        let impostor = ProcessInfo {
            start_ticks: info.start_ticks + 1,
            ..info.clone()
        };
        assert!(!terminate_exactly(&impostor).unwrap());
        assert!(info.is_alive());

        assert!(terminate_exactly(&info).unwrap());
        let status = child.0.wait().unwrap();
        // SIGTERM, not SIGKILL: the refused call above sent nothing.
        assert_eq!(status.signal(), Some(Signal::TERM.as_raw()));
        assert!(
            !terminate_exactly(&info).unwrap(),
            "a reaped process is not signalled"
        );
    }

    #[test]
    fn a_refused_signal_is_never_sent() {
        let mut child = sleeper();
        let info = ProcessInfo::read(child.pid()).unwrap();
        let impostor = ProcessInfo {
            start_ticks: info.start_ticks.saturating_sub(1),
            ..info
        };
        assert!(!terminate_exactly(&impostor).unwrap());

        // Had SIGTERM been sent, the kernel would have recorded it as the cause of death
        // already, and the SIGKILL below would not show.
        child.0.kill().unwrap();
        assert_eq!(
            child.0.wait().unwrap().signal(),
            Some(Signal::KILL.as_raw())
        );
    }

    #[test]
    fn impossible_pids_name_no_process() {
        assert!(!pid_exists(0));
        assert!(!pid_exists(u32::MAX));
        assert_eq!(ProcessInfo::read(0), None);
        assert!(
            pid_exists(1),
            "init exists even when it is not ours to signal"
        );
    }

    #[test]
    fn parses_names_with_spaces_and_parentheses() {
        let stat = b"4242 (a) b (c)) S 17 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 \
                     987654 1000 100 18446744073709551615\n";
        let (name, parent, start) = parse_stat(stat).unwrap();
        assert_eq!(name, "a) b (c)");
        assert_eq!(parent, 17);
        assert_eq!(start, 987654);
        assert_eq!(parse_stat(b"4242 (truncated"), None);
    }

    #[test]
    fn splits_command_lines() {
        assert_eq!(
            split_cmdline(b"python3\0-m\0openzim_mcp\0"),
            ["python3", "-m", "openzim_mcp"]
        );
        assert_eq!(
            split_cmdline(b"title set by setproctitle"),
            ["title set by setproctitle"]
        );
        assert!(split_cmdline(b"").is_empty());
    }
}
