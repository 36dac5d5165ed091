//! The session and the current connection, shared by the task reading stdin and the task
//! serving the connection. Every decision about a message is taken under one lock, together
//! with whether a daemon is connected, so a message is either sent on the connection it was
//! noted for or restored on the next one, never both and never neither (requests, that is:
//! a notification sent just as the connection fails may be lost with it).

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use ozm_protocol::ShimFrame;
use tokio::sync::{Notify, mpsc};

use super::session::{Answer, Restore, Session};

/// Messages from stdin kept while no daemon is connected; stdin is not read further until a
/// daemon is back, so a client that keeps sending cannot fill the shim's memory.
const MAX_QUEUED: usize = 1024;

/// State shared between the shim's tasks.
#[derive(Default)]
pub struct Shared {
    inner: Mutex<Inner>,
    /// Woken when a request is settled, a daemon is attached, or stdin closes.
    changed: Notify,
}

#[derive(Default)]
struct Inner {
    session: Session,
    /// Where messages for the connected daemon go; `None` while reconnecting.
    link: Option<mpsc::Sender<ShimFrame>>,
    /// Messages noted since the connection was lost.
    queued: usize,
    stdin_closed: bool,
    /// Once stdin is closed: when it closed, or the last answer came after that.
    last_progress: Option<Instant>,
}

impl Shared {
    /// Notes a message from the client; returns the connection to send it on now, if any.
    pub fn client_sent(&self, text: &str) -> Option<mpsc::Sender<ShimFrame>> {
        let mut inner = self.lock();
        let connected = inner.link.is_some();
        if !connected {
            inner.queued += 1;
        }
        let send = inner.session.client_sent(text, connected);
        if inner.session.settled() {
            // A cancellation may have settled the last request.
            self.changed.notify_waiters();
        }
        if send { inner.link.clone() } else { None }
    }

    /// Waits while no daemon is connected and [`MAX_QUEUED`] messages already wait for one.
    pub async fn room(&self) {
        loop {
            let changed = self.changed.notified();
            {
                let inner = self.lock();
                if inner.link.is_some() || inner.queued < MAX_QUEUED {
                    return;
                }
            }
            changed.await;
        }
    }

    /// Decides what becomes of a message from the daemon (see [`Session::daemon_sent`]).
    pub fn daemon_sent(&self, text: &str) -> Answer {
        let mut inner = self.lock();
        let answer = inner.session.daemon_sent(text);
        if answer == Answer::Forward && inner.stdin_closed {
            inner.last_progress = Some(Instant::now());
        }
        if inner.session.settled() {
            self.changed.notify_waiters();
        }
        answer
    }

    /// Makes `link` the current connection; returns what restores the session on it.
    pub fn attach(&self, link: mpsc::Sender<ShimFrame>) -> Restore {
        let mut inner = self.lock();
        let restore = inner.session.restore();
        inner.link = Some(link);
        inner.queued = 0;
        self.changed.notify_waiters();
        restore
    }

    /// Notes that the connection is lost: from now on messages wait for the next one.
    pub fn detach(&self) {
        self.lock().link = None;
    }

    /// Whether some request still waits for its answer.
    pub fn awaiting_answers(&self) -> bool {
        !self.lock().session.settled()
    }

    /// Gives up on the daemon: the errors to answer each request in flight with.
    pub fn abandon(&self, why: &str) -> Vec<String> {
        self.lock().session.abandon(why)
    }

    /// Notes that the client closed stdin.
    pub fn close_stdin(&self) {
        let mut inner = self.lock();
        inner.stdin_closed = true;
        inner.last_progress = Some(Instant::now());
        self.changed.notify_waiters();
    }

    /// Once stdin is closed, when the last answer came (or stdin closed, if none came since).
    pub fn last_progress(&self) -> Option<Instant> {
        self.lock().last_progress
    }

    /// Returns once stdin is closed.
    pub async fn stdin_closed(&self) {
        self.wait_for(|inner| inner.stdin_closed).await;
    }

    /// Returns once stdin is closed and every request has its answer: the shim's work is done.
    pub async fn finished(&self) {
        self.wait_for(|inner| inner.stdin_closed && inner.session.settled())
            .await;
    }

    async fn wait_for(&self, done: impl Fn(&Inner) -> bool) {
        loop {
            // Created before the check, so a change between the check and the wait still wakes it.
            let changed = self.changed.notified();
            if done(&self.lock()) {
                return;
            }
            changed.await;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A daemon that answers a long batch steadily is not cut off: the wait of a client that
    /// closed stdin counts from the last answer.
    #[test]
    fn once_stdin_closed_each_answer_counts_as_progress() {
        let shared = Shared::default();
        for id in 1..=2 {
            shared.client_sent(&format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#));
        }
        assert_eq!(shared.last_progress(), None);
        shared.close_stdin();
        let closed = shared.last_progress().expect("counted from the close");
        std::thread::sleep(std::time::Duration::from_millis(2));
        shared.daemon_sent(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
        let answered = shared.last_progress().expect("still counted");
        assert!(answered > closed, "{answered:?} {closed:?}");
        // A duplicate answer is no progress.
        shared.daemon_sent(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
        assert_eq!(shared.last_progress(), Some(answered));
    }
}
