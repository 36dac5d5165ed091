//! Where the socket, the state and the caches live, the same for the daemon, the shim and the
//! operator's commands.
//!
//! The socket is `OZM_SOCKET` if set, else `$XDG_RUNTIME_DIR/ozm/ozmd.sock`, else
//! `ozmd.sock` inside a per-user directory `ozm-<uid>` under the temporary directory. That last
//! directory is created with mode 0700 and refused if another user owns it or can write to it,
//! so nobody else can plant a socket where a shim will look.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The environment variable that overrides the socket path for every command.
pub const SOCKET_ENV: &str = "OZM_SOCKET";

/// Why a directory for ozm cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// The directory could not be created or inspected.
    #[error("cannot prepare {path}: {source}")]
    Io {
        /// The directory in question.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The directory exists but someone else could tamper with it.
    #[error(
        "{path} is not private to this user (owner uid {owner}, mode {mode:o}): \
         remove it or set OZM_SOCKET to a path in a directory only you can write to"
    )]
    NotPrivate {
        /// The directory in question.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// Its permission bits.
        mode: u32,
    },
}

/// The socket path this process should use, following the rules above.
pub fn socket_path() -> PathBuf {
    if let Some(path) = std::env::var_os(SOCKET_ENV).filter(|value| !value.is_empty()) {
        return PathBuf::from(path);
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|value| !value.is_empty()) {
        Some(runtime) => PathBuf::from(runtime).join("ozm").join("ozmd.sock"),
        None => fallback_runtime_dir().join("ozmd.sock"),
    }
}

/// The socket of the system service (`ozmd.socket` under systemd), which members of the `ozm`
/// group may connect to. Commands fall back to it when the user gave no socket and no daemon
/// of their own answers (see the `ozm` command's connection rules).
pub fn system_socket_path() -> PathBuf {
    PathBuf::from("/run/ozm/ozmd.sock")
}

/// The per-user directory used when there is no `XDG_RUNTIME_DIR`.
fn fallback_runtime_dir() -> PathBuf {
    let uid = rustix::process::getuid().as_raw();
    std::env::temp_dir().join(format!("ozm-{uid}"))
}

/// Creates the socket's directory if needed (mode 0700) and checks that it is private.
///
/// A directory given through `OZM_SOCKET` that already exists is used as it is: the user chose it.
pub fn prepare_socket_dir(socket: &Path) -> Result<(), PathError> {
    let Some(dir) = socket.parent().filter(|dir| !dir.as_os_str().is_empty()) else {
        return Ok(());
    };
    let existed = dir.exists();
    create_private_dir(dir)?;
    if !existed || dir == fallback_runtime_dir() {
        check_private(dir)?;
    }
    Ok(())
}

/// Where the daemon keeps state (its log when a shim started it): `$XDG_STATE_HOME/ozm`, else
/// `~/.local/state/ozm`, else the socket's directory.
pub fn state_dir() -> PathBuf {
    xdg_dir("XDG_STATE_HOME", ".local/state").unwrap_or_else(|| {
        socket_path()
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    })
}

/// Where the daemon keeps its own indexes: `$XDG_CACHE_HOME/ozm`, else `~/.cache/ozm`.
pub fn cache_dir() -> Option<PathBuf> {
    xdg_dir("XDG_CACHE_HOME", ".cache")
}

fn xdg_dir(variable: &str, under_home: &str) -> Option<PathBuf> {
    let base = std::env::var_os(variable)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(under_home)))?;
    Some(base.join("ozm"))
}

/// Creates `dir` and its parents, the last one with mode 0700.
pub fn create_private_dir(dir: &Path) -> Result<(), PathError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| PathError::Io {
            path: dir.to_path_buf(),
            source,
        })
}

fn check_private(dir: &Path) -> Result<(), PathError> {
    let meta = std::fs::symlink_metadata(dir).map_err(|source| PathError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let uid = rustix::process::getuid().as_raw();
    let mode = meta.permissions().mode() & 0o7777;
    if meta.uid() != uid || mode & 0o022 != 0 || !meta.is_dir() {
        return Err(PathError::NotPrivate {
            path: dir.to_path_buf(),
            owner: meta.uid(),
            mode,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_others_can_write_is_refused() {
        let base = std::env::temp_dir().join(format!("ozm-paths-test-{}", std::process::id()));
        create_private_dir(&base).unwrap();
        check_private(&base).unwrap();

        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = check_private(&base).unwrap_err();
        assert!(matches!(error, PathError::NotPrivate { .. }), "{error}");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
