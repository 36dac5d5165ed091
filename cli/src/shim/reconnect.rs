//! Finding a daemon again after the connection was lost.
//!
//! The shim tries the socket again and again, pausing a little longer each time, for at most
//! [`RECONNECT_LIMIT`]. Under systemd the socket unit keeps listening while ozmd restarts, so
//! the hello simply waits for the new daemon. Without systemd it depends on what happened:
//!
//! - The socket file is gone: a daemon that stops cleanly removes it, so somebody stopped it on
//!   purpose (`ozm daemon stop`, `ozm daemon restart`, SIGTERM). The shim waits for whoever
//!   starts it again and starts none itself, so a stop is not undone behind the operator's back.
//! - The socket file is there but nobody answers: the daemon died. After [`START_GRACE`], left
//!   to a supervisor that restarts it, the shim starts a daemon itself (never on the system
//!   socket, which only systemd serves).
//!
//! A daemon that refuses the hello, or a socket this user may not open, ends the attempts at
//! once: trying again would get the same answer.

use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::Duration;

use anyhow::bail;
use ozm_protocol::Peer;
use tokio::time::Instant;

use super::stdio::say;
use crate::connect::{self, AccessDenied, Greeted, NoDaemon, Refused};

/// How long a shim tries to reach a daemon again before it answers the requests in flight with
/// an error and exits. A restart under systemd takes well under a second and a daemon started
/// by a shim listens within seconds; a minute also covers a slow machine or an upgrade done by
/// hand, while an AI client still gets an answer before it gives up on its own.
pub const RECONNECT_LIMIT: Duration = Duration::from_secs(60);

/// What stands for a limit too large for the clock: more than any shim will run.
const NO_LIMIT: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// The environment variable that overrides [`RECONNECT_LIMIT`], in whole seconds.
pub const RECONNECT_LIMIT_ENV: &str = "OZM_RECONNECT_TIMEOUT_SECS";

/// How long a socket left by a daemon that died is left to whoever restarts it (systemd's
/// `Restart=`, an operator, a test) before the shim starts a daemon itself.
const START_GRACE: Duration = Duration::from_secs(2);

/// The first pause between attempts; each pause doubles up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(10);

/// The longest pause between attempts: an attempt on a Unix socket costs next to nothing, and
/// a short pause has the clients of a restarted daemon back within a tenth of a second.
const LONGEST_PAUSE: Duration = Duration::from_millis(100);

/// The reconnect limit: [`RECONNECT_LIMIT_ENV`] if set to a number of seconds, else the default.
pub fn limit() -> Duration {
    let Some(value) = std::env::var_os(RECONNECT_LIMIT_ENV) else {
        return RECONNECT_LIMIT;
    };
    match value.to_str().and_then(|text| text.trim().parse().ok()) {
        Some(seconds) => Duration::from_secs(seconds),
        None => {
            say(&format!(
                "{RECONNECT_LIMIT_ENV}={} is not a number of seconds; using {} s",
                value.to_string_lossy(),
                RECONNECT_LIMIT.as_secs()
            ));
            RECONNECT_LIMIT
        }
    }
}

/// Connects to a daemon on `socket` again, within `limit`.
pub async fn again(socket: &Path, peer: &Peer, limit: Duration) -> anyhow::Result<Greeted> {
    // A limit too large for the clock (`OZM_RECONNECT_TIMEOUT_SECS=18446744073709551615`)
    // means no limit.
    let deadline = Instant::now()
        .checked_add(limit)
        .unwrap_or_else(|| Instant::now() + NO_LIMIT);
    let mut start_at = Instant::now() + START_GRACE;
    let mut pause = FIRST_PAUSE;
    let mut last_error = None;
    loop {
        let attempt = async {
            match connect::greet(socket, peer.clone()).await {
                Err(error)
                    if error.is::<NoDaemon>()
                        && connect::may_start_daemon(socket)
                        && is_socket(socket)
                        && Instant::now() >= start_at =>
                {
                    // A daemon that failed to start is not started again at every attempt.
                    start_at = Instant::now() + START_GRACE;
                    connect::hello_starting_daemon(socket, peer.clone()).await
                }
                other => other,
            }
        };
        match tokio::time::timeout_at(deadline, attempt).await {
            Ok(Ok(greeted)) => return Ok(greeted),
            Ok(Err(error)) if error.is::<Refused>() || error.is::<AccessDenied>() => {
                return Err(error);
            }
            Ok(Err(error)) => last_error = Some(error),
            Err(_) => {}
        }
        if Instant::now() >= deadline {
            let seconds = limit.as_secs();
            match last_error {
                Some(error) => bail!("ozmd did not come back within {seconds} s ({error:#})"),
                None => bail!("ozmd did not come back within {seconds} s"),
            }
        }
        tokio::time::sleep_until((Instant::now() + pause).min(deadline)).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// Whether a socket file is at `path`, answering or not.
fn is_socket(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_socket())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any number of seconds is a limit the shim can keep, however large.
    #[tokio::test]
    async fn a_limit_too_large_for_the_clock_means_no_limit() {
        let dir = std::env::temp_dir().join(format!("ozm-reconnect-test-{}", std::process::id()));
        let socket = dir.join("no-daemon-here.sock");
        let peer = Peer::Cli;
        let attempts = again(&socket, &peer, Duration::MAX);
        let still_trying = tokio::time::timeout(Duration::from_millis(200), attempts).await;
        assert!(still_trying.is_err(), "gave up at once");
    }
}
