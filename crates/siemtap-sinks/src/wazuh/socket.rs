//! The `wazuh-socket` sink: one AF_UNIX datagram per event to analysisd's queue socket
//! (`queue/sockets/queue`), `1:<escaped location>:<compact JSON>` (spec/wazuh.md §3).
//!
//! - **Location** (§3.2, §3.3): escaped `|` → `||` first, then `:` → `|:`; optionally
//!   agent-attributed as `[<id>] (<name>) <ip|any>-><location>`.
//! - **Size** (§3.4): every event is prepared by [`WazuhPrep`] (Wazuh-safe shaping and the
//!   65,535-byte rule for the whole datagram), so nothing is ever cut by analysisd.
//! - **No acknowledgement** (§3.5): a successful `send` only means the kernel took the
//!   datagram. An optional events-per-second cap paces sending.
//! - **Sending a page**: the page's datagrams are built into one buffer, then sent back to back
//!   with non-blocking sends; the sink waits for writability (at most the send timeout per
//!   datagram) only when the kernel says the queue is full (`EAGAIN`), then resumes at the
//!   datagram that did not fit.
//! - **Reconnects** (§3.6): ECONNREFUSED / ENOENT and other transient errors close the socket
//!   and retry with backoff (100 ms doubling to 5 s) for at most the retry budget, never past
//!   the run deadline. Until then the batch is not accepted, so the runner does not commit the
//!   cursor; a batch given up returns [`SinkError`] and is fetched again by the next run
//!   (datagrams of it already sent are then sent again: delivery is at-least-once).
//!   EACCES, EPROTOTYPE and EMSGSIZE are configuration problems and fail at once.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use siemtap_core::{Batch, BoxFuture, Delivery, Sink, SinkError};
use std::os::unix::net::UnixDatagram as StdDatagram;

use tokio::net::UnixDatagram;
use tokio::time::Instant;

use crate::wazuh::line::{WazuhPrep, WazuhStats};
use crate::wazuh::size::MAX_DATAGRAM_BYTES;

/// analysisd's queue socket in a default 4.x install.
pub const DEFAULT_QUEUE_SOCKET: &str = "/var/ossec/queue/sockets/queue";

/// Queue id for wodles and integrations (`LOCALFILE_MQ`).
const QUEUE_ID: &str = "1";

/// Longest accepted location (escaped), so events keep almost all of the datagram.
pub const MAX_LOCATION_BYTES: usize = 1024;

const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Retries get at least this long even when the run deadline has passed (the run summary).
const MIN_RETRY_WINDOW: Duration = Duration::from_secs(1);

// Linux errno values (analysisd runs on Linux).
const ENOBUFS: i32 = 105;
const EMSGSIZE: i32 = 90;
const EPROTOTYPE: i32 = 91;

/// Escapes a location as analysisd's `OS_CleanMSG` requires: `|` → `||` first, then
/// `:` → `|:`.
pub fn escape_location(raw: &str) -> String {
    raw.replace('|', "||").replace(':', "|:")
}

/// An agent to attribute events to (copy it from a real alert's `agent` block).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentAttribution {
    /// `agent.id`, e.g. `001`.
    pub id: String,
    /// `agent.name`.
    pub name: String,
    /// `agent.ip`; `None` writes `any`.
    pub ip: Option<String>,
}

/// The event location: what the alert's `location` shows and `<location>` rules match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    raw: String,
}

impl Location {
    /// A plain location (alerts are attributed to the manager, agent 000).
    pub fn plain(location: impl Into<String>) -> Self {
        Self {
            raw: location.into(),
        }
    }

    /// `[<id>] (<name>) <ip|any>-><location>`: alerts carry that agent's id, name and ip.
    pub fn agent(agent: &AgentAttribution, location: &str) -> Self {
        let ip = agent.ip.as_deref().unwrap_or("any");
        Self {
            raw: format!("[{}] ({}) {ip}->{location}", agent.id, agent.name),
        }
    }

    /// The unescaped location.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The escaped location as it appears in the datagram.
    pub fn escaped(&self) -> String {
        escape_location(&self.raw)
    }
}

/// Settings of a [`WazuhSocketSink`].
#[derive(Clone, Debug)]
pub struct WazuhSocketConfig {
    /// The datagram socket (default [`DEFAULT_QUEUE_SOCKET`]).
    pub path: PathBuf,
    /// Event location.
    pub location: Location,
    /// Events per second cap (datagrams, health events included); `None` = unpaced.
    pub max_eps: Option<f64>,
    /// How long one batch may wait for an unusable socket before it is refused.
    pub retry_budget: Duration,
    /// The run deadline: retries never go past it (but get [`MIN_RETRY_WINDOW`] at least).
    pub deadline: Option<Instant>,
    /// Per-datagram send timeout (a full kernel queue); a timeout is retried like an error.
    pub send_timeout: Duration,
    /// Apply Wazuh-safe shaping (the size rule applies regardless).
    pub shaping: bool,
    /// Emit health events for truncated, over-wide and unparsable events.
    pub health_events: bool,
}

impl WazuhSocketConfig {
    /// Defaults for `path` and `location`: shaping and health events on, no pacing, a 60 s
    /// retry budget, no deadline, 5 s send timeout.
    pub fn new(path: impl Into<PathBuf>, location: Location) -> Self {
        Self {
            path: path.into(),
            location,
            max_eps: None,
            retry_budget: Duration::from_secs(60),
            deadline: None,
            send_timeout: Duration::from_secs(5),
            shaping: true,
            health_events: true,
        }
    }
}

/// Counters of a [`WazuhSocketSink`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocketStats {
    /// Datagrams the kernel took.
    pub datagrams_sent: u64,
    /// Send or connect failures that were retried.
    pub retries: u64,
    /// Times the socket was (re)opened.
    pub connects: u64,
    /// Times a send found the socket not writable (queue full, or not yet polled after a
    /// connect) and waited for writability.
    pub full_waits: u64,
}

/// A page's datagrams in one buffer (one allocation per page, not per event).
#[derive(Debug, Default)]
struct Datagrams {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Datagrams {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }
}

/// Sends events to analysisd's queue socket. See the module docs.
#[derive(Debug)]
pub struct WazuhSocketSink {
    config: WazuhSocketConfig,
    id: String,
    prefix: Vec<u8>,
    /// A plain non-blocking socket: it is registered with the reactor only while a send waits
    /// for room, so the writable edge each datagram read by analysisd raises does not wake the
    /// runtime (that was one `epoll_wait` per datagram).
    socket: Option<StdDatagram>,
    prep: WazuhPrep,
    next_send: Option<Instant>,
    stats: SocketStats,
}

enum SendFailure {
    /// Close, back off, reopen.
    Retry(String),
    /// Configuration: fail the batch now.
    Fatal(String),
}

impl WazuhSocketSink {
    /// A sink for `config`. The socket is opened lazily, so a manager that is not up yet only
    /// delays the first batch. Fails on an over-long location or an invalid pacing value.
    pub fn new(config: WazuhSocketConfig) -> Result<Self, SinkError> {
        let id = format!("wazuh-socket:{}", config.path.display());
        let escaped = config.location.escaped();
        if escaped.is_empty() || escaped.len() > MAX_LOCATION_BYTES {
            return Err(SinkError {
                sink: id,
                message: format!(
                    "the event location must be 1 to {MAX_LOCATION_BYTES} bytes (escaped); got {}",
                    escaped.len()
                ),
            });
        }
        if let Some(eps) = config.max_eps
            && !(eps.is_finite() && eps > 0.0)
        {
            return Err(SinkError {
                sink: id,
                message: format!("the events-per-second cap must be positive; got {eps}"),
            });
        }
        let prefix = format!("{QUEUE_ID}:{escaped}:").into_bytes();
        let prep = WazuhPrep::new(config.shaping, config.health_events);
        Ok(Self {
            config,
            id,
            prefix,
            socket: None,
            prep,
            next_send: None,
            stats: SocketStats::default(),
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.config.path
    }

    /// Largest encoded event that fits one datagram with this location.
    pub fn max_event_bytes(&self) -> usize {
        MAX_DATAGRAM_BYTES - self.prefix.len()
    }

    /// Socket counters.
    pub fn socket_stats(&self) -> &SocketStats {
        &self.stats
    }

    /// Shaping and size counters.
    pub fn prep_stats(&self) -> &WazuhStats {
        self.prep.stats()
    }

    fn datagrams(&mut self, batch: &Batch) -> Datagrams {
        let max = self.max_event_bytes();
        let mut out = Datagrams {
            bytes: Vec::new(),
            ends: Vec::with_capacity(batch.len()),
        };
        for line in batch.lines() {
            let prepared = self.prep.prepare(line, max);
            for event in std::iter::once(prepared.event).chain(prepared.health) {
                let start = out.bytes.len();
                out.bytes.extend_from_slice(&self.prefix);
                out.bytes.extend_from_slice(&event);
                debug_assert!(out.bytes.len() - start <= MAX_DATAGRAM_BYTES);
                out.ends.push(out.bytes.len());
            }
        }
        out
    }

    async fn pace(&mut self) {
        let Some(eps) = self.config.max_eps else {
            return;
        };
        let now = Instant::now();
        let at = self.next_send.unwrap_or(now).max(now);
        tokio::time::sleep_until(at).await;
        self.next_send = Some(at + Duration::from_secs_f64(1.0 / eps));
    }

    fn connect(&mut self) -> Result<(), SendFailure> {
        if self.socket.is_none() {
            let socket = StdDatagram::unbound()
                .and_then(|s| s.connect(&self.config.path).map(|()| s))
                .and_then(|s| s.set_nonblocking(true).map(|()| s))
                .map_err(|e| self.classify("connecting to", &e))?;
            self.stats.connects += 1;
            if self.stats.connects > 1 {
                tracing::info!(socket = %self.config.path.display(), "reconnected to the Wazuh queue socket");
            }
            self.socket = Some(socket);
        }
        Ok(())
    }

    /// Sends datagrams `*next..` back to back, advancing `*next` past each one the kernel
    /// took. Waits for writability only on `EAGAIN`, at most the send timeout per datagram.
    async fn send_from(&mut self, page: &Datagrams, next: &mut usize) -> Result<(), SendFailure> {
        self.connect()?;
        while *next < page.len() {
            self.pace().await;
            let datagram = page.get(*next);
            let mut timeout_at: Option<Instant> = None;
            loop {
                let Some(socket) = self.socket.as_ref() else {
                    return Err(SendFailure::Retry("no socket".into()));
                };
                match socket.send(datagram) {
                    Ok(n) if n == datagram.len() => break,
                    Ok(n) => {
                        return Err(SendFailure::Retry(format!(
                            "short send ({n} of {} bytes)",
                            datagram.len()
                        )));
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.stats.full_waits += 1;
                        let at = *timeout_at
                            .get_or_insert_with(|| Instant::now() + self.config.send_timeout);
                        match self.wait_writable(at).await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => return Err(self.classify("sending to", &e)),
                            Err(_) => {
                                return Err(SendFailure::Retry(format!(
                                    "send timed out after {:?}: the queue is full (analysisd busy)",
                                    self.config.send_timeout
                                )));
                            }
                        }
                    }
                    Err(e) => return Err(self.classify("sending to", &e)),
                }
            }
            self.stats.datagrams_sent += 1;
            *next += 1;
        }
        Ok(())
    }

    /// Registers the socket with the reactor until it is writable or `at` passes, then takes
    /// it back (deregistered). `Err` is the timeout; the socket is then closed.
    async fn wait_writable(
        &mut self,
        at: Instant,
    ) -> Result<io::Result<()>, tokio::time::error::Elapsed> {
        let Some(socket) = self.socket.take() else {
            return Ok(Err(io::Error::other("no socket")));
        };
        let registered = match UnixDatagram::from_std(socket) {
            Ok(registered) => registered,
            Err(e) => return Ok(Err(e)),
        };
        let ready = tokio::time::timeout_at(at, registered.writable()).await;
        match registered.into_std() {
            Ok(socket) => self.socket = Some(socket),
            Err(e) => return Ok(Err(e)),
        }
        ready
    }

    fn classify(&self, what: &str, e: &io::Error) -> SendFailure {
        let path = self.config.path.display();
        match (e.kind(), e.raw_os_error()) {
            (io::ErrorKind::PermissionDenied, _) => SendFailure::Fatal(format!(
                "{what} {path}: {e}; run siemtap as root or as a member of group wazuh"
            )),
            (_, Some(EPROTOTYPE)) => SendFailure::Fatal(format!(
                "{what} {path}: {e}; this is not a datagram socket (the 4.x queue is \
                 queue/sockets/queue under the Wazuh home)"
            )),
            (_, Some(EMSGSIZE)) => SendFailure::Fatal(format!(
                "{what} {path}: {e}; the socket send buffer is below 65,792 bytes: raise \
                 net.core.wmem_default"
            )),
            (io::ErrorKind::NotFound, _) => SendFailure::Retry(format!(
                "{what} {path}: no socket file (Wazuh stopped, or the wrong path / install prefix)"
            )),
            (io::ErrorKind::ConnectionRefused, _) => {
                SendFailure::Retry(not_listening(what, &self.config.path))
            }
            (_, Some(ENOBUFS)) => SendFailure::Retry(format!("{what} {path}: kernel buffers full")),
            _ => SendFailure::Retry(format!("{what} {path}: {e}")),
        }
    }

    fn retry_until(&self) -> Instant {
        let now = Instant::now();
        let until = now + self.config.retry_budget;
        match self.config.deadline {
            Some(d) => until.min(d.max(now + MIN_RETRY_WINDOW)),
            None => until,
        }
    }

    async fn send_all(&mut self, datagrams: &Datagrams) -> Result<(), SinkError> {
        let mut i = 0;
        let mut backoff = BACKOFF_START;
        let mut until: Option<Instant> = None;
        while i < datagrams.len() {
            let before = i;
            let result = self.send_from(datagrams, &mut i).await;
            if i > before {
                backoff = BACKOFF_START;
                until = None;
            }
            match result {
                Ok(()) => {}
                Err(SendFailure::Fatal(message)) => {
                    self.socket = None;
                    return Err(self.refused(message, i, datagrams.len()));
                }
                Err(SendFailure::Retry(message)) => {
                    self.socket = None;
                    self.stats.retries += 1;
                    let deadline = *until.get_or_insert_with(|| self.retry_until());
                    let now = Instant::now();
                    if now + backoff > deadline {
                        return Err(self.refused(
                            format!("{message}; gave up after retrying for the retry budget"),
                            i,
                            datagrams.len(),
                        ));
                    }
                    tracing::warn!(
                        "{message}; retrying in {} ms (the page is held, the cursor is not advanced)",
                        backoff.as_millis()
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        Ok(())
    }

    fn refused(&self, message: String, sent: usize, total: usize) -> SinkError {
        SinkError {
            sink: self.id.clone(),
            message: format!(
                "{message}. {sent} of {total} datagrams of this page were sent; the page is not \
                 committed and the next run fetches it again"
            ),
        }
    }
}

impl Sink for WazuhSocketSink {
    fn output_id(&self) -> Option<&str> {
        None
    }

    fn send<'a>(&'a mut self, batch: &'a Batch) -> BoxFuture<'a, Result<Delivery, SinkError>> {
        Box::pin(async move {
            let datagrams = self.datagrams(batch);
            self.send_all(&datagrams).await?;
            Ok(Delivery::default())
        })
    }

    /// Up when analysisd's socket takes a connection now (nothing is sent).
    fn health(&mut self) -> BoxFuture<'_, siemtap_core::Health> {
        Box::pin(async move {
            match UnixDatagram::unbound().and_then(|s| s.connect(&self.config.path)) {
                Ok(()) => siemtap_core::Health::Up,
                Err(e) => match self.classify("connecting to", &e) {
                    SendFailure::Retry(m) | SendFailure::Fatal(m) => {
                        siemtap_core::Health::Down(format!("{}: {m}", self.id))
                    }
                },
            }
        })
    }
}

/// Why a connect was refused: a path that is not a socket at all (a regular file, a
/// directory) is said so; only a socket nobody listens on means analysisd is not running.
fn not_listening(what: &str, path: &std::path::Path) -> String {
    use std::os::unix::fs::FileTypeExt;
    let shown = path.display();
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_socket() => format!(
            "{what} {shown}: this path is not a socket but a {}; fix: point --output \
             wazuh-socket:PATH at analysisd's queue socket (queue/sockets/queue under the Wazuh \
             home) or remove what is there and restart Wazuh",
            if m.is_dir() {
                "directory"
            } else if m.is_file() {
                "regular file"
            } else {
                "non-socket file"
            }
        ),
        _ => format!("{what} {shown}: connection refused (analysisd is not running)"),
    }
}

#[cfg(test)]
mod tests;
