//! The instance files of the Python openzim-mcp server (versions 0.2 to 0.9): reading them,
//! telling whether the process behind each still runs, and removing the stale ones.
//!
//! That server wrote `~/.openzim_mcp_instances/server_<pid>.json` when it started and removed it
//! at a clean exit, so a crash or SIGKILL left the file behind. It judged liveness by pid alone;
//! here a file is live only if its pid names a process that started before the file was written
//! and whose command line is openzim-mcp's, so a pid reused by another program is seen for what
//! it is.
//!
//! Every call is blocking but cheap (a few small file and `/proc` reads, tens of microseconds per
//! file). Linux only, through [`crate::process`]. Nothing here ever signals a process: removing
//! a file is the only action.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};

use crate::process::{ProcessInfo, pid_exists};

/// Largest file read; the Python server wrote a few hundred bytes.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// How much later than a file's `start_time` its process may seem to have started. The kernel's
/// boot time has whole seconds, and Python stamped the file after its process had started, so a
/// process that started later than this cannot have written the file.
const START_SLACK_SECS: f64 = 2.0;

/// One `server_<pid>.json` file left by the Python openzim-mcp server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceFile {
    /// Where it is.
    #[serde(skip_deserializing)]
    pub path: PathBuf,
    /// The server's pid.
    pub pid: u32,
    /// The server's name setting.
    #[serde(default)]
    pub server_name: String,
    /// The server's hash of its settings.
    #[serde(default)]
    pub config_hash: String,
    /// The directories it served.
    #[serde(default)]
    pub allowed_directories: Vec<String>,
    /// When it registered, in seconds since the epoch.
    pub start_time: f64,
    /// Its last heartbeat in seconds since the epoch; the Python server never updated it.
    #[serde(default)]
    pub last_heartbeat: f64,
}

/// What the process behind a file is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FileState {
    /// The server that wrote it is still running.
    Live,
    /// No process has its pid.
    Gone,
    /// Its pid now belongs to another program, described by its command line.
    PidReused { now: String },
    /// It could not be read as an instance file, for this reason.
    Unreadable { reason: String },
}

/// One `*.json` file found by [`scan`]: what it says, if it could be read, and its state.
#[derive(Debug, Clone, Serialize)]
pub struct ScannedFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its contents, when it could be read as an instance file.
    pub instance: Option<InstanceFile>,
    /// What its process is now.
    pub state: FileState,
    /// Device and inode, when it was a regular file; [`remove_stale`] removes only this file.
    #[serde(skip)]
    identity: Option<(u64, u64)>,
}

/// What [`remove_stale`] did with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Removal {
    /// The file was stale and is removed.
    Removed,
    /// Its server runs (or, for a file that cannot be read, the pid in its name is a running
    /// openzim-mcp that may be writing it): kept.
    StillLive,
    /// Its name is not `server_<pid>.json`, or it is not a regular file: kept, as the Python
    /// server never wrote it.
    NotAnInstanceFile,
    /// The path no longer names the file that was scanned (removed or replaced meanwhile).
    Changed,
}

/// Reads every `*.json` file in `dir`, sorted by path; a missing `dir` holds none.
///
/// A file that cannot be read or parsed is reported as [`FileState::Unreadable`]; only a
/// directory that exists but cannot be listed is an error.
pub fn scan(dir: &Path) -> io::Result<Vec<ScannedFile>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "json") {
            files.push(inspect(&path));
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Decides: [`FileState::Gone`] if no process has the pid; [`FileState::PidReused`] if its
/// process started after the file was written or is not openzim-mcp; [`FileState::Live`]
/// otherwise.
pub fn state_of(file: &InstanceFile) -> FileState {
    let Some(process) = ProcessInfo::read(file.pid) else {
        // `/proc` may hide other users' processes (mount option hidepid) while kill() still
        // finds them; a process we cannot see might be the server, so its file stays.
        return if pid_exists(file.pid) {
            FileState::Live
        } else {
            FileState::Gone
        };
    };
    let started_later = process.started_at_epoch() > file.start_time + START_SLACK_SECS;
    if started_later || !looks_like_openzim(&process) {
        return FileState::PidReused {
            now: describe(&process),
        };
    }
    FileState::Live
}

/// Removes a stale file (gone, reused pid, unreadable), only if it is still the file that was
/// scanned and is named `server_<pid>.json` (digits only); says what it did.
///
/// The state is decided again from the file as it is now: a new server whose pid happens to be
/// the old one's rewrites the same file in place, and a scan may catch a file half-written.
/// Unlinking goes by path, so a file renamed over this one in the microseconds between the last
/// check and the unlink would be removed in its place.
pub fn remove_stale(file: &ScannedFile) -> io::Result<Removal> {
    let Some(scanned) = file.identity.filter(|_| pid_in_name(&file.path).is_some()) else {
        return Ok(Removal::NotAnInstanceFile);
    };
    if file.state == FileState::Live {
        return Ok(Removal::StillLive);
    }

    let again = inspect(&file.path);
    if again.identity != Some(scanned) {
        return Ok(Removal::Changed);
    }
    let live = match again.state {
        FileState::Live => true,
        FileState::Unreadable { .. } => named_server_runs(&file.path),
        FileState::Gone | FileState::PidReused { .. } => false,
    };
    if live {
        return Ok(Removal::StillLive);
    }

    // A last look just before unlinking, to keep the window for a replacement small.
    if regular_file_identity(&file.path)? != Some(scanned) {
        return Ok(Removal::Changed);
    }
    match fs::remove_file(&file.path) {
        Ok(()) => Ok(Removal::Removed),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Removal::Changed),
        Err(err) => Err(err),
    }
}

/// Reads one file and decides its state.
fn inspect(path: &Path) -> ScannedFile {
    let identity = regular_file_identity(path).ok().flatten();
    let (instance, state) = match read_instance(path, identity) {
        Ok(instance) => {
            let state = state_of(&instance);
            (Some(instance), state)
        }
        Err(reason) => (None, FileState::Unreadable { reason }),
    };
    ScannedFile {
        path: path.to_owned(),
        instance,
        state,
        identity,
    }
}

/// Parses the file that has `identity`, or says in words why it cannot.
fn read_instance(path: &Path, identity: Option<(u64, u64)>) -> Result<InstanceFile, String> {
    let Some(identity) = identity else {
        return Err("not a regular file".into());
    };

    // No following links out of the directory, and no waiting on a FIFO someone named *.json.
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let file = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => File::from(fd),
        Err(Errno::LOOP) => return Err("a symbolic link".into()),
        Err(err) => return Err(format!("cannot open it: {}", io::Error::from(err))),
    };
    let meta = file
        .metadata()
        .map_err(|err| format!("cannot stat it: {err}"))?;
    if (meta.dev(), meta.ino()) != identity {
        return Err("replaced while being read".into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("larger than {} KiB", MAX_FILE_BYTES / 1024));
    }

    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|err| format!("cannot read it: {err}"))?;
    let mut file: InstanceFile =
        serde_json::from_slice(&bytes).map_err(|err| format!("not an instance file: {err}"))?;
    file.path = path.to_owned();
    Ok(file)
}

/// Device and inode of the regular file at `path`, links not followed; `None` if there is none.
fn regular_file_identity(path: &Path) -> io::Result<Option<(u64, u64)>> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => Ok(Some((meta.dev(), meta.ino()))),
        Ok(_) => Ok(None),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

/// The pid in a `server_<pid>.json` file name.
/// Whether a scanned file is one the Python server could have written: a regular file named
/// `server_<pid>.json`. Nothing else is reported or removed.
pub fn is_instance_file(file: &ScannedFile) -> bool {
    file.identity.is_some() && pid_in_name(&file.path).is_some()
}

fn pid_in_name(path: &Path) -> Option<u32> {
    let name = path.file_name()?.to_str()?;
    let digits = name.strip_prefix("server_")?.strip_suffix(".json")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether the pid in the file's name is a running openzim-mcp, which may be writing the file.
fn named_server_runs(path: &Path) -> bool {
    pid_in_name(path)
        .and_then(ProcessInfo::read)
        .is_some_and(|p| looks_like_openzim(&p))
}

/// Whether a command line is the Python server's (`openzim-mcp`, `python -m openzim_mcp`, …).
fn looks_like_openzim(process: &ProcessInfo) -> bool {
    process
        .command_line
        .iter()
        .any(|arg| arg.to_ascii_lowercase().contains("openzim"))
}

/// A process in a few words for a report: its command line, or `[name]` when it has none.
fn describe(process: &ProcessInfo) -> String {
    const MAX_CHARS: usize = 200;
    let text = match process.command_line.is_empty() {
        true => format!("[{}]", process.name),
        false => process.command_line.join(" "),
    };
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    use super::*;
    use crate::process::tests::Reaped;

    /// A fresh directory, removed when the test ends.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let path = std::env::temp_dir().join(format!("ozmd-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }

        /// Writes a file as the Python server did: pretty JSON, every field.
        fn instance(&self, name: &str, pid: u32, start_time: f64) -> PathBuf {
            let json = serde_json::json!({
                "pid": pid, "config_hash": "c0ffee", "allowed_directories": ["/srv/zim"],
                "start_time": start_time, "server_name": "openzim-mcp",
                "last_heartbeat": start_time, "start_time_iso": "2025-09-01T10:00:00.000000",
                "last_heartbeat_iso": "2025-09-01T10:00:00.000000",
            });
            let path = self.0.join(name);
            fs::write(&path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn now() -> f64 {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        since.unwrap().as_secs_f64()
    }

    /// A process that is no openzim-mcp.
    fn other_program() -> Reaped {
        Reaped::spawn(Command::new("sleep").arg("30"))
    }

    /// A process whose command line is `openzim-mcp 30`.
    fn server() -> Reaped {
        Reaped::spawn(Command::new("sleep").arg0("openzim-mcp").arg("30"))
    }

    /// The only file in `dir`.
    fn only(dir: &TempDir) -> ScannedFile {
        let mut files = scan(&dir.0).unwrap();
        assert_eq!(files.len(), 1, "{files:?}");
        files.pop().unwrap()
    }

    fn name(pid: u32) -> String {
        format!("server_{pid}.json")
    }

    #[test]
    fn sorts_out_every_kind_of_file() {
        let dir = TempDir::new("instances");
        let (mut dead, mut other_process, mut server) =
            (other_program(), other_program(), server());
        dead.end();
        for pid in [dead.pid(), other_process.pid(), server.pid()] {
            dir.instance(&name(pid), pid, now());
        }
        fs::write(dir.0.join("server_4194305.json"), "{\"pid\": ").unwrap();
        fs::write(dir.0.join("notes.txt"), "not an instance file").unwrap();
        dir.instance("backup.json", dead.pid(), now());

        let files = scan(&dir.0).unwrap();
        assert_eq!(files.len(), 5, "{files:?}");
        let file = |name: &str| files.iter().find(|f| f.path.ends_with(name)).unwrap();
        let (dead, other, live) = (
            name(dead.pid()),
            name(other_process.pid()),
            name(server.pid()),
        );
        assert_eq!(file(&dead).state, FileState::Gone);
        let reused = FileState::PidReused {
            now: "sleep 30".into(),
        };
        assert_eq!(file(&other).state, reused);
        assert_eq!(file(&live).state, FileState::Live);
        let instance = file(&live).instance.as_ref().unwrap();
        assert_eq!(
            (instance.pid, instance.config_hash.as_str()),
            (server.pid(), "c0ffee")
        );
        assert_eq!(instance.allowed_directories, ["/srv/zim"]);
        let malformed = &file("server_4194305.json").state;
        assert!(
            matches!(malformed, FileState::Unreadable { .. }),
            "{malformed:?}"
        );
        assert_eq!(file("backup.json").state, FileState::Gone);

        let removal = |name: &str| remove_stale(file(name)).unwrap();
        assert_eq!(removal(&dead), Removal::Removed);
        assert_eq!(removal(&other), Removal::Removed);
        assert!(
            other_process.0.try_wait().unwrap().is_none(),
            "the other program is left alone"
        );
        assert_eq!(removal("server_4194305.json"), Removal::Removed);
        assert_eq!(removal(&live), Removal::StillLive);
        assert!(server.0.try_wait().unwrap().is_none());
        assert_eq!(removal("backup.json"), Removal::NotAnInstanceFile);
        let left: Vec<_> = scan(&dir.0).unwrap().into_iter().map(|f| f.path).collect();
        assert_eq!(left, [dir.0.join("backup.json"), dir.0.join(&live)]);
    }

    #[test]
    fn a_missing_directory_holds_no_files() {
        let missing = scan(Path::new("/nonexistent/ozm/.openzim_mcp_instances"));
        assert!(missing.unwrap().is_empty());
    }

    #[test]
    fn a_server_keeps_its_file_only_while_it_is_the_writer() {
        let dir = TempDir::new("writer");
        let server = server();

        // A file caught half-written by its running server is left for it to finish.
        fs::write(dir.0.join(name(server.pid())), "").unwrap();
        let half_written = only(&dir);
        assert!(matches!(half_written.state, FileState::Unreadable { .. }));
        assert_eq!(remove_stale(&half_written).unwrap(), Removal::StillLive);

        // A file written an hour before its process started names an earlier owner of the pid.
        dir.instance(&name(server.pid()), server.pid(), now() - 3600.0);
        let earlier = only(&dir);
        let reused = FileState::PidReused {
            now: "openzim-mcp 30".into(),
        };
        assert_eq!(earlier.state, reused);
        assert_eq!(remove_stale(&earlier).unwrap(), Removal::Removed);
    }

    #[test]
    fn a_file_replaced_after_the_scan_is_kept() {
        let dir = TempDir::new("replaced");
        let path = dir.instance("server_4194305.json", 4194305, now());
        let scanned = only(&dir);
        assert_eq!(scanned.state, FileState::Gone);

        // Renamed over the old file while that still exists, so the inode differs.
        let newer = dir.instance("next.tmp", 4194305, now());
        fs::rename(&newer, &path).unwrap();
        assert_eq!(remove_stale(&scanned).unwrap(), Removal::Changed);
        assert!(path.exists());
    }
}
