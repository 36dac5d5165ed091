//! The HTTP listeners' connections, kept from harming the rest of the daemon.
//!
//! Every connection holds a file descriptor, and the socket's shims and the archives need theirs:
//! at most [`limit`] HTTP connections are open at once, across listeners, and the others wait in
//! the kernel's queue. A connection with no request in progress and nothing written to it for
//! [`IDLE`] is closed, so a client that sends its request head a byte at a time (or never) holds
//! its place for that long at most, token or not (the token is read once the head is complete).
//! Streams stay open: rmcp writes a keep-alive to each every 15 s.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::IncomingStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tracing::warn;

/// How long a connection may stay without a request in progress and without a byte written.
pub const IDLE: Duration = Duration::from_secs(30);

/// The most HTTP connections open at once: a quarter of the file descriptors ozmd may open,
/// between 16 and 1024.
pub fn limit() -> usize {
    use rustix::process::{Resource, getrlimit};
    let descriptors = getrlimit(Resource::Nofile).current.unwrap_or(4096);
    usize::try_from(descriptors / 4).map_or(1024, |quarter| quarter.clamp(16, 1024))
}

/// The places shared by every HTTP listener.
fn places() -> Arc<Semaphore> {
    static PLACES: OnceLock<Arc<Semaphore>> = OnceLock::new();
    Arc::clone(PLACES.get_or_init(|| Arc::new(Semaphore::new(limit()))))
}

/// A TCP listener that accepts a connection only when one of the places is free.
pub struct Listener {
    tcp: TcpListener,
    places: Arc<Semaphore>,
}

impl Listener {
    /// Wraps a bound listener.
    pub fn new(tcp: TcpListener) -> Listener {
        Listener {
            tcp,
            places: places(),
        }
    }
}

impl axum::serve::Listener for Listener {
    type Io = Connection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Connection, SocketAddr) {
        let place = Arc::clone(&self.places)
            .acquire_owned()
            .await
            .expect("the places are never closed");
        loop {
            match self.tcp.accept().await {
                Ok((stream, peer)) => return (Connection::new(stream, place), peer),
                // The client gave up before it was accepted: nothing to say.
                Err(error) if error.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(error) => {
                    warn!(%error, "accepting an HTTP connection failed; trying again in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// Whether a connection is busy, shared by the connection and its requests.
#[derive(Debug)]
pub struct Activity {
    requests: AtomicUsize,
    last_finished: Mutex<Instant>,
}

impl Activity {
    /// Marks a request in progress until the returned guard is dropped.
    fn begin(self: &Arc<Self>) -> InProgress {
        self.requests.fetch_add(1, Ordering::SeqCst);
        InProgress(Arc::clone(self))
    }

    /// Since when nothing has been in progress, or `None` while a request is.
    fn idle_since(&self) -> Option<Instant> {
        if self.requests.load(Ordering::SeqCst) > 0 {
            return None;
        }
        Some(*self.last_finished.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// A request in progress on its connection.
struct InProgress(Arc<Activity>);

impl Drop for InProgress {
    fn drop(&mut self) {
        *self
            .0
            .last_finished
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Instant::now();
        self.0.requests.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One accepted connection: its stream, its place, and the clock of its idleness.
pub struct Connection {
    stream: TcpStream,
    activity: Arc<Activity>,
    last_written: Instant,
    idle: Pin<Box<Sleep>>,
    _place: OwnedSemaphorePermit,
}

impl Connection {
    fn new(stream: TcpStream, place: OwnedSemaphorePermit) -> Connection {
        let now = Instant::now();
        Connection {
            stream,
            activity: Arc::new(Activity {
                requests: AtomicUsize::new(0),
                last_finished: Mutex::new(now),
            }),
            last_written: now,
            idle: Box::pin(tokio::time::sleep_until(now + IDLE)),
            _place: place,
        }
    }

    /// Whether the connection has been idle for [`IDLE`]; otherwise the clock is set to wake the
    /// reader when it might be.
    fn idle_too_long(&mut self, cx: &mut Context<'_>) -> bool {
        while self.idle.as_mut().poll(cx).is_ready() {
            let Some(finished) = self.activity.idle_since() else {
                self.idle.as_mut().reset(Instant::now() + IDLE);
                continue;
            };
            let deadline = finished.max(self.last_written) + IDLE;
            if deadline <= Instant::now() {
                return true;
            }
            self.idle.as_mut().reset(deadline);
        }
        false
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.idle_too_long(cx) {
            let idle = io::Error::new(io::ErrorKind::TimedOut, "idle HTTP connection closed");
            return Poll::Ready(Err(idle));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.last_written = Instant::now();
        }
        written
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// What a request knows of its connection: the client's address, and the connection's activity.
#[derive(Clone, Debug)]
pub struct Peer {
    /// The client's address.
    pub address: SocketAddr,
    activity: Arc<Activity>,
}

impl Connected<IncomingStream<'_, Listener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Listener>) -> Self {
        Peer {
            address: *stream.remote_addr(),
            activity: Arc::clone(&stream.io().activity),
        }
    }
}

/// The client's address of a request, for the log.
pub fn peer_of(request: &Request) -> String {
    let peer = request.extensions().get::<ConnectInfo<Peer>>();
    peer.map(|info| info.0.address.to_string())
        .unwrap_or_default()
}

/// Keeps the connection busy while a request is answered; a streamed answer keeps it busy by
/// what it writes.
pub async fn track(ConnectInfo(peer): ConnectInfo<Peer>, request: Request, next: Next) -> Response {
    let _in_progress = peer.activity.begin();
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_leaves_most_descriptors_to_the_rest() {
        let limit = limit();
        assert!((16..=1024).contains(&limit), "{limit}");
    }

    #[test]
    fn a_connection_is_idle_only_without_a_request_in_progress() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let activity = Arc::new(Activity {
                requests: AtomicUsize::new(0),
                last_finished: Mutex::new(Instant::now()),
            });
            let busy = activity.begin();
            let nested = activity.begin();
            assert_eq!(activity.idle_since(), None);
            drop(busy);
            assert_eq!(
                activity.idle_since(),
                None,
                "one request is still in progress"
            );
            let before = Instant::now();
            drop(nested);
            assert!(activity.idle_since().is_some_and(|since| since >= before));
        });
    }
}
