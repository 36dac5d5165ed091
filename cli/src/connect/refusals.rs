//! Why a connection to the daemon failed, in words that say what to do: nobody listens, the
//! kernel refused this user, or the daemon refused the hello.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use ozm_protocol::paths;

/// No daemon answers on the socket.
#[derive(Debug)]
pub struct NoDaemon(pub PathBuf);

impl std::fmt::Display for NoDaemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 == paths::system_socket_path() {
            return write!(
                f,
                "no daemon at {}: start the service with `sudo systemctl start ozmd.socket`",
                self.0.display()
            );
        }
        write!(
            f,
            "no daemon at {}: start it with `ozmd` (or `systemctl --user start ozmd`), \
             or run `ozm mcp DIR` once to have it started",
            self.0.display()
        )
    }
}

impl std::error::Error for NoDaemon {}

/// The daemon answered the hello with a refusal; trying again gets the same answer.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ozmd refused the connection: {}", self.0)
    }
}

impl std::error::Error for Refused {}

/// The kernel refused to connect this user to the socket (EACCES): the socket, or a directory
/// above it, lets in only the members of its group.
#[derive(Debug)]
pub struct AccessDenied {
    socket: PathBuf,
    /// The socket, or the nearest directory above it that this user can inspect, with its group
    /// and permission bits.
    guard: Option<(PathBuf, String, u32)>,
}

impl AccessDenied {
    /// Inspects `socket` (or what is above it) to say whose group guards it.
    pub fn of(socket: &Path) -> AccessDenied {
        let guard = socket.ancestors().find_map(|path| {
            let meta = std::fs::metadata(path).ok()?;
            Some((
                path.to_path_buf(),
                group_name(meta.gid()),
                meta.mode() & 0o7777,
            ))
        });
        AccessDenied {
            socket: socket.to_path_buf(),
            guard,
        }
    }
}

impl std::fmt::Display for AccessDenied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let socket = self.socket.display();
        let Some((path, group, mode)) = &self.guard else {
            return write!(
                f,
                "permission denied connecting to {socket}: ask the administrator to add your \
                 user to the socket's group"
            );
        };
        let what = if *path == self.socket {
            "the socket".to_owned()
        } else {
            format!("its directory {}", path.display())
        };
        write!(
            f,
            "permission denied connecting to {socket}: {what} belongs to group {group} (mode \
             {mode:04o}) and only members of {group} may connect; add your user to it with \
             `sudo usermod -aG {group} $USER`, then log out and in again"
        )
    }
}

impl std::error::Error for AccessDenied {}

/// The name of group `gid` from `/etc/group`, else the number.
fn group_name(gid: u32) -> String {
    let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
    groups
        .lines()
        .find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id = fields.nth(1)?;
            (id.parse() == Ok(gid)).then(|| name.to_owned())
        })
        .unwrap_or_else(|| format!("gid {gid}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_group_is_named_from_etc_group() {
        assert_eq!(group_name(0), "root");
        assert_eq!(group_name(4_000_000_000), "gid 4000000000");
    }
}
