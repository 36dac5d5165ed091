//! How a running daemon was started, so that `ozm daemon restart` starts the next one the same
//! way: its arguments, the variables ozmd reads, and its working directory (for relative paths
//! in its arguments), all read from `/proc`. The socket is the one being restarted, whatever the
//! old arguments said.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::connect::{self, Launch};

/// What `/proc` tells of how a daemon was started.
pub struct Previous {
    /// How to start the next one the same way.
    pub launch: Launch,
    /// Its working directory when that has been removed since: the next daemon then runs in
    /// this command's, where a relative path in its options may name another file or none.
    pub lost_dir: Option<PathBuf>,
}

/// How the ozmd with process id `pid` that listens on `socket` was started. Fails when its
/// `/proc` entries cannot be read (another user's daemon, or it has just exited).
pub fn launch_of(pid: u32, socket: &Path) -> std::io::Result<Previous> {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let command_line = std::fs::read(proc.join("cmdline"))?;
    let environment = std::fs::read(proc.join("environ"))?;
    let (cwd, lost_dir) = match std::fs::read_link(proc.join("cwd")) {
        Ok(dir) if dir.is_dir() => (Some(dir), None),
        Ok(removed) => (None, Some(without_deleted_mark(removed))),
        Err(_) => (None, None),
    };

    // The new daemon runs in the old one's directory, where a socket path relative to this
    // command's directory would name another file.
    let mut args = vec![
        OsString::from("--socket"),
        std::path::absolute(socket)?.into(),
    ];
    args.extend(without_socket(nul_separated(&command_line).skip(1)));
    let env = nul_separated(&environment)
        .filter_map(|entry| {
            let split = entry.iter().position(|&byte| byte == b'=')?;
            let name = OsStr::from_bytes(&entry[..split]);
            let value = OsStr::from_bytes(&entry[split + 1..]);
            kept(name).then(|| (name.to_owned(), value.to_owned()))
        })
        .collect();
    let launch = Launch { args, env, cwd };
    Ok(Previous { launch, lost_dir })
}

/// What `launch` gives beyond a plain start, in words: its arguments other than the socket and
/// the names (never the values, which may hold a token) of its ozm settings. `None` when
/// nothing.
pub fn summary(launch: &Launch) -> Option<String> {
    let args: Vec<String> = launch.args[2..].iter().map(|arg| shown(arg)).collect();
    let settings: Vec<String> = launch
        .env
        .iter()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .filter(|name| is_setting(name))
        .collect();
    let mut parts = Vec::new();
    if !args.is_empty() {
        parts.push(format!("its options {}", args.join(" ")));
    }
    if !settings.is_empty() {
        parts.push(format!("its settings {}", settings.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join(" and "))
}

/// An argument as the user reads it in one line: quoted when it is empty or holds spaces.
fn shown(arg: &OsStr) -> String {
    let text = arg.to_string_lossy();
    if text.is_empty() || text.contains(char::is_whitespace) {
        format!("{text:?}")
    } else {
        text.into_owned()
    }
}

/// The arguments without `--socket PATH` or `--socket=PATH`.
fn without_socket<'a>(args: impl Iterator<Item = &'a [u8]>) -> Vec<OsString> {
    let mut kept = Vec::new();
    let mut skip_value = false;
    for arg in args {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        if arg == b"--socket" {
            skip_value = true;
        } else if !arg.starts_with(b"--socket=") {
            kept.push(OsStr::from_bytes(arg).to_owned());
        }
    }
    kept
}

/// The entries of a `/proc` file whose entries end in NUL. An empty entry is kept: it is an
/// argument given as `""`, and leaving it out would give its option the next argument instead.
fn nul_separated(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .strip_suffix(b"\0")
        .unwrap_or(bytes)
        .split(|&byte| byte == b'\0')
}

/// The path of a removed directory, without the ` (deleted)` the kernel puts after it.
fn without_deleted_mark(dir: PathBuf) -> PathBuf {
    match dir.as_os_str().as_bytes().strip_suffix(b" (deleted)") {
        Some(path) => PathBuf::from(OsStr::from_bytes(path)),
        None => dir,
    }
}

/// Whether a variable of the old daemon is given to the new one: what a shim's daemon keeps, and
/// every setting ozmd reads but the socket, which is given as an argument.
fn kept(name: &OsStr) -> bool {
    connect::inherited(name) || is_setting(&name.to_string_lossy())
}

/// The variables ozmd reads as its options (`ozmd --help` names them), but the socket, which is
/// given as an argument. Other `OZM_*` variables (a test's, a script's) are not ozmd's.
const DAEMON_VARIABLES: [&str; 6] = [
    "OZM_LOG",
    "OZM_LOG_TARGET",
    "OZM_CACHE_DIR",
    "OZM_INDEX_BUILDS",
    "OZM_INDEX_JOBS",
    "OZM_OWN_INDEX",
];

/// Whether ozmd reads `name` as a setting: one of its options, or openzim-mcp's.
fn is_setting(name: &str) -> bool {
    DAEMON_VARIABLES.contains(&name) || name.starts_with("OPENZIM_MCP_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter()
            .map(|arg| arg.into_string().expect("UTF-8"))
            .collect()
    }

    #[test]
    fn the_socket_is_taken_out_in_both_spellings() {
        let line = b"--socket\0/a.sock\0--log\0debug\0--socket=/b.sock\0--socket-group\0x\0";
        assert_eq!(
            strings(without_socket(nul_separated(line))),
            ["--log", "debug", "--socket-group", "x"]
        );
    }

    #[test]
    fn an_empty_argument_is_kept_and_shown_quoted() {
        let line = b"ozmd\0--log\0\0--config\0my ozmd.toml\0";
        let args = without_socket(nul_separated(line).skip(1));
        assert_eq!(
            strings(args.clone()),
            ["--log", "", "--config", "my ozmd.toml"]
        );
        let launch = Launch {
            args: [vec!["--socket".into(), "/s".into()], args].concat(),
            env: Vec::new(),
            cwd: None,
        };
        assert_eq!(
            summary(&launch).as_deref(),
            Some(r#"its options --log "" --config "my ozmd.toml""#)
        );
    }

    #[test]
    fn only_the_variables_ozmd_reads_are_kept() {
        for name in [
            "OZM_LOG",
            "OZM_INDEX_JOBS",
            "OPENZIM_MCP_PORT",
            "HOME",
            "XDG_CACHE_HOME",
        ] {
            assert!(kept(OsStr::new(name)), "{name}");
        }
        for name in ["OZM_SOCKET", "OZM_TEST_DATA", "NOTIFY_SOCKET", "LD_PRELOAD"] {
            assert!(!kept(OsStr::new(name)), "{name}");
        }
    }

    #[test]
    fn the_summary_names_options_and_settings_but_no_values() {
        let launch = Launch {
            args: ["--socket", "/s", "--index-builds", "lazy"]
                .map(OsString::from)
                .to_vec(),
            env: vec![
                ("HOME".into(), "/home/u".into()),
                ("OPENZIM_MCP_AUTH_TOKEN".into(), "secret".into()),
            ],
            cwd: None,
        };
        let said = summary(&launch).expect("a summary");
        assert_eq!(
            said,
            "its options --index-builds lazy and its settings OPENZIM_MCP_AUTH_TOKEN"
        );
        let plain = Launch {
            args: launch.args[..2].to_vec(),
            env: launch.env[..1].to_vec(),
            cwd: None,
        };
        assert_eq!(summary(&plain), None);
    }
}
