//! Binding, serving and stopping a simulator, plus the per-connection kill switch behind the
//! `drop_connection` fault.
//!
//! axum hands a handler no way to drop its connection, so every accepted socket is wrapped in
//! [`KillableStream`]. The handler flips the connection's flag (reached through
//! `ConnectInfo<ConnCtl>`); from then on writes fail and reads see EOF, so hyper abandons the
//! response and closes the socket. The client sees the connection close with no response bytes.
//!
//! The `cut_body_at` fault uses the same wrapper: a response carrying a [`CutBody`] extension
//! arms its connection (in the [`arm_cut`] middleware) to pass the head and only that many body
//! bytes, then fail. The head still declares the whole body's `Content-Length`, so the client
//! reads a body cut off mid-read ("end of file before message length reached").

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A TCP stream that can be cut from a request handler.
#[derive(Debug)]
pub(crate) struct KillableStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
    /// Body bytes the next response may send before the connection fails (`cut_body_at`).
    arm: Arc<Mutex<Option<u64>>>,
    cut: Option<Cut>,
}

/// The response being cut: how far its head has been written, then its body budget.
#[derive(Debug)]
struct Cut {
    /// Bytes of the `\r\n\r\n` head terminator matched so far (4 = in the body).
    head: usize,
    /// Body bytes still allowed.
    left: u64,
}

/// The next state of the head-terminator match after byte `b`.
fn head_step(head: usize, b: u8) -> usize {
    match (head, b) {
        (0 | 2, b'\r') | (1 | 3, b'\n') => head + 1,
        (_, b'\r') => 1,
        _ => 0,
    }
}

impl Cut {
    /// How many bytes of `buf` may be written now.
    fn allowed(&self, buf: &[u8]) -> usize {
        let (mut head, mut left) = (self.head, self.left);
        for (i, &b) in buf.iter().enumerate() {
            if head < 4 {
                head = head_step(head, b);
            } else if left == 0 {
                return i;
            } else {
                left -= 1;
            }
        }
        buf.len()
    }

    /// Accounts for `written` bytes (at most [`Cut::allowed`] of them).
    fn advance(&mut self, written: &[u8]) {
        for &b in written {
            if self.head < 4 {
                self.head = head_step(self.head, b);
            } else {
                self.left = self.left.saturating_sub(1);
            }
        }
    }
}

/// Marks a response whose body is to be cut after this many bytes (`cut_body_at`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CutBody(pub(crate) u64);

/// Middleware: a response marked [`CutBody`] arms its connection's cut.
pub(crate) async fn arm_cut(
    axum::extract::ConnectInfo(conn): axum::extract::ConnectInfo<ConnCtl>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let resp = next.run(req).await;
    if let Some(CutBody(n)) = resp.extensions().get::<CutBody>() {
        *conn.arm.lock().unwrap_or_else(|p| p.into_inner()) = Some(*n);
    }
    resp
}

fn killed_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "connection dropped by an injected fault",
    )
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.killed.load(Ordering::Acquire) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.killed.load(Ordering::Acquire) {
            return Poll::Ready(Err(killed_error()));
        }
        let armed = self.arm.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(left) = armed {
            self.cut = Some(Cut { head: 0, left });
        }
        let Some(cut) = &self.cut else {
            return Pin::new(&mut self.inner).poll_write(cx, buf);
        };
        let allowed = cut.allowed(buf);
        if allowed == 0 && !buf.is_empty() {
            // The budget is spent: fail the connection, hyper closes it mid-body.
            self.killed.store(true, Ordering::Release);
            return Poll::Ready(Err(killed_error()));
        }
        let poll = Pin::new(&mut self.inner).poll_write(cx, &buf[..allowed]);
        if let Poll::Ready(Ok(n)) = poll
            && let Some(cut) = &mut self.cut
        {
            cut.advance(&buf[..n]);
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed.load(Ordering::Acquire) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Listener producing [`KillableStream`]s.
#[derive(Debug)]
pub(crate) struct KillableListener {
    inner: TcpListener,
}

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!("sim: set_nodelay failed: {e}");
                    }
                    let io = KillableStream {
                        inner: stream,
                        killed: Arc::new(AtomicBool::new(false)),
                        arm: Arc::new(Mutex::new(None)),
                        cut: None,
                    };
                    return (io, addr);
                }
                Err(e) => {
                    // Typically EMFILE; back off briefly instead of spinning.
                    tracing::warn!("sim: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Handle on the current connection, available to handlers as `ConnectInfo<ConnCtl>`.
#[derive(Debug, Clone)]
pub(crate) struct ConnCtl {
    killed: Arc<AtomicBool>,
    arm: Arc<Mutex<Option<u64>>>,
}

impl ConnCtl {
    /// Makes the connection fail: the response being produced is never sent.
    pub(crate) fn kill(&self) {
        self.killed.store(true, Ordering::Release);
    }

    /// Whether [`ConnCtl::kill`] was called.
    pub(crate) fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for ConnCtl {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        Self {
            killed: stream.io().killed.clone(),
            arm: stream.io().arm.clone(),
        }
    }
}

/// A running simulator. Dropping it stops the server too (gracefully, in the background).
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SimHandle {
    /// The bound address (with the real port when `--listen` asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, e.g. `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish (at most 5 s), then returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            tracing::warn!(
                "sim {}: graceful shutdown took over 5 s; aborting",
                self.addr
            );
            task.abort();
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds `listen` and serves `router` on the current tokio runtime.
pub(crate) async fn serve(listen: SocketAddr, router: Router) -> io::Result<SimHandle> {
    let tcp = TcpListener::bind(listen)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("--listen {listen}: cannot bind: {e}")))?;
    let addr = tcp.local_addr()?;
    if !addr.ip().is_loopback() {
        tracing::warn!("sim listening on non-loopback address {addr}; it has no real security");
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let service = router
        .layer(axum::middleware::from_fn(arm_cut))
        .into_make_service_with_connect_info::<ConnCtl>();
    let task = tokio::spawn(async move {
        let result = axum::serve(KillableListener { inner: tcp }, service)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        if let Err(e) = result {
            tracing::error!("sim {addr}: server stopped: {e}");
        }
    });
    Ok(SimHandle {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}
