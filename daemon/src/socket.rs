//! Owning the socket path: one daemon per path, stale sockets replaced, only our own socket
//! removed at exit.
//!
//! A lock file beside the socket (`ozmd.lock`, holding the owner's pid) decides which daemon
//! owns the path, so two daemons started at the same moment cannot both bind. The owner then
//! probes an existing socket file by connecting: an answer means some other daemon serves it
//! (refused), a refused connection means a daemon died without cleaning up (the file is
//! replaced). The socket is bound, restricted (0600 for its owner; 0660 with a group in system
//! mode), and only then listens, so nobody can connect through wider permissions. At exit the
//! file is removed only if it is still the one we created (same device and inode).
//!
//! A socket handed over by systemd never comes here: systemd owns its path (see `systemd.rs`).

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, flock};
use tokio::net::{UnixListener, UnixSocket};
use tracing::{info, warn};

/// Connections waiting to be accepted before new ones are refused.
const BACKLOG: u32 = 1024;

/// Why the socket could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Another daemon serves this path.
    #[error(
        "another ozmd (pid {}) is already serving {}: use it, stop it first, or give this one \
         another --socket",
        pid.map_or("unknown".into(), |p| p.to_string()),
        socket.display()
    )]
    AlreadyRunning {
        /// Its pid, when known.
        pid: Option<u32>,
        /// The path.
        socket: PathBuf,
    },
    /// The directory or socket could not be prepared.
    #[error("cannot prepare the socket directory: {0}")]
    Directory(#[from] ozm_protocol::paths::PathError),
    /// The socket or its directory cannot be given the group whose members may connect.
    #[error(
        "cannot give group {gid} to {}: {reason}; only root and the group's members may: run \
         ozmd as one of them, or name another group with --socket-group",
        path.display()
    )]
    Group {
        /// The group.
        gid: u32,
        /// The socket or its directory.
        path: PathBuf,
        /// What the system said.
        reason: std::io::Error,
    },
    /// A system call failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// Who may connect to a socket this daemon binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The daemon's own user (and root): mode 0600, in a directory of mode 0700.
    Owner,
    /// Also the members of this group: mode 0660, in a directory of mode 0750 of that group
    /// when the directory is made here (an existing one is used as it is).
    Group(u32),
}

/// The socket file this daemon created, removed when dropped if it is still ours.
pub struct OwnedSocket {
    path: PathBuf,
    device: u64,
    inode: u64,
    _lock: File,
}

impl OwnedSocket {
    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sets the socket's modification time to now, so that cleaners of temporary and runtime
    /// directories (which remove files untouched for hours) leave it alone.
    pub fn touch(&self) {
        use rustix::fs::{AtFlags, CWD, Timespec, Timestamps, UTIME_NOW, utimensat};
        let now = Timespec {
            tv_sec: 0,
            tv_nsec: UTIME_NOW,
        };
        let times = Timestamps {
            last_access: now,
            last_modification: now,
        };
        if let Err(error) = utimensat(CWD, &self.path, &times, AtFlags::empty()) {
            warn!(socket = %self.path.display(), %error, "cannot refresh the socket's timestamp");
        }
    }
}

impl Drop for OwnedSocket {
    fn drop(&mut self) {
        match std::fs::symlink_metadata(&self.path) {
            Ok(meta) if meta.dev() == self.device && meta.ino() == self.inode => {
                if let Err(error) = std::fs::remove_file(&self.path) {
                    warn!(socket = %self.path.display(), %error, "cannot remove the socket");
                }
            }
            Ok(_) => info!(socket = %self.path.display(), "socket was replaced; leaving it"),
            Err(_) => {}
        }
    }
}

/// Takes `path` for this daemon and starts listening on it, open to whom `access` says.
pub fn bind(path: &Path, access: Access) -> Result<(UnixListener, OwnedSocket), BindError> {
    let io = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| BindError::Io {
            action,
            path,
            source,
        }
    };
    match access {
        Access::Owner => ozm_protocol::paths::prepare_socket_dir(path)?,
        Access::Group(gid) => prepare_shared_dir(path, gid)?,
    }
    let lock = take_lock(path)?;

    if std::fs::symlink_metadata(path).is_ok() {
        match std::os::unix::net::UnixStream::connect(path) {
            Ok(stream) => {
                // The peer of a connected socket is the process that listens on it.
                let pid = rustix::net::sockopt::socket_peercred(&stream)
                    .ok()
                    .and_then(|cred| u32::try_from(cred.pid.as_raw_nonzero().get()).ok());
                return Err(BindError::AlreadyRunning {
                    pid,
                    socket: path.into(),
                });
            }
            Err(error) if error.kind() == ErrorKind::ConnectionRefused => {
                info!(socket = %path.display(), "replacing a socket left by a daemon that died");
                std::fs::remove_file(path).map_err(io("remove stale socket", path))?;
            }
            Err(error) => return Err(io("probe existing socket", path)(error)),
        }
    }

    let socket = UnixSocket::new_stream().map_err(io("create socket", path))?;
    socket.bind(path).map_err(io("bind", path))?;
    let mode = match access {
        Access::Owner => 0o600,
        Access::Group(gid) => {
            give_group(path, gid)?;
            0o660
        }
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io("restrict permissions of", path))?;
    let listener = socket.listen(BACKLOG).map_err(io("listen on", path))?;
    let meta = std::fs::symlink_metadata(path).map_err(io("inspect", path))?;
    let owned = OwnedSocket {
        path: path.into(),
        device: meta.dev(),
        inode: meta.ino(),
        _lock: lock,
    };
    Ok((listener, owned))
}

/// Makes the socket's directory if it is missing, mode 0750 of group `gid`, so that the group's
/// members can reach the socket; an existing directory is used as it is, with a warning if it
/// keeps them out.
fn prepare_shared_dir(socket: &Path, gid: u32) -> Result<(), BindError> {
    use std::os::unix::fs::DirBuilderExt;
    let Some(dir) = socket.parent().filter(|dir| !dir.as_os_str().is_empty()) else {
        return Ok(());
    };
    if let Ok(meta) = std::fs::metadata(dir) {
        let mode = meta.mode() & 0o7777;
        let passes = mode & 0o001 != 0 || (meta.gid() == gid && mode & 0o010 != 0);
        if !passes {
            warn!(directory = %dir.display(), mode = format!("{mode:o}"), group = gid,
                "the socket's directory keeps the group out, so its members cannot connect: \
                 give it the group with mode 0750, or remove it for ozmd to make");
        }
        return Ok(());
    }
    let io = |action| {
        let path = dir.to_path_buf();
        move |source| BindError::Io {
            action,
            path,
            source,
        }
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(dir)
        .map_err(io("create the socket directory"))?;
    give_group(dir, gid)?;
    // Whatever the umask took away from the mode asked for.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750))
        .map_err(io("set the permissions of"))
}

/// Makes `gid` the group of `path`.
fn give_group(path: &Path, gid: u32) -> Result<(), BindError> {
    let group = Some(rustix::fs::Gid::from_raw(gid));
    rustix::fs::chown(path, None, group).map_err(|errno| BindError::Group {
        gid,
        path: path.to_path_buf(),
        reason: errno.into(),
    })
}

/// The id of the group named `name` (or given as a number), from `/etc/group`, where
/// `systemd-sysusers` and `groupadd` put it. Groups known only to a directory service (LDAP, …)
/// are not found by name; give their number.
pub fn group_id(name: &str) -> Option<u32> {
    if let Ok(gid) = name.parse() {
        return Some(gid);
    }
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|line| {
        let mut fields = line.split(':');
        let found = fields.next()? == name;
        let gid = fields.nth(1)?.parse().ok()?;
        found.then_some(gid)
    })
}

/// Locks `ozmd.lock` beside the socket and writes our pid into it.
fn take_lock(socket: &Path) -> Result<File, BindError> {
    let path = socket.with_extension("lock");
    let io = |action| {
        let path = path.clone();
        move |source| BindError::Io {
            action,
            path,
            source,
        }
    };
    // Private like the socket, whatever the umask: nobody else may hold the lock or rewrite
    // the pid in it.
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io("open lock file"))?;
    if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
        let mut pid = String::new();
        let _ = file.read_to_string(&mut pid);
        return Err(BindError::AlreadyRunning {
            pid: pid.trim().parse().ok(),
            socket: socket.to_path_buf(),
        });
    }
    file.set_len(0).map_err(io("write lock file"))?;
    file.rewind().map_err(io("write lock file"))?;
    write!(file, "{}", std::process::id()).map_err(io("write lock file"))?;
    Ok(file)
}
