//! A tiny loopback HTTP proxy in front of a simulator: every request is relayed unchanged
//! except the N-th one to a given path, which gets a bad response (a huge body streamed without
//! end, a huge `Content-Length`, or fixed bytes). It also samples the run's peak memory
//! (`VmHWM` of `/proc/<pid>/status`) on every request that arrives after the bad response.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The response the N-th matching request gets.
#[derive(Clone)]
pub enum Bad {
    /// 200, `application/json`, a JSON page that never ends: `total` bytes, close-delimited
    /// (no `Content-Length`), so only a cap applied while streaming can stop it.
    Endless { total: u64 },
    /// 200 announcing `Content-Length: total` (the body is streamed like `Endless`).
    Announced { total: u64 },
    /// 200 with these bytes and this content type.
    Body(Vec<u8>, &'static str),
}

struct Shared {
    upstream: String,
    path: String,
    nth: usize,
    bad: Bad,
    seen: AtomicUsize,
    bad_served: AtomicBool,
    bad_bytes_sent: AtomicU64,
    pid: AtomicU32,
    hwm_after_bad_kib: Mutex<Option<u64>>,
}

/// A running proxy (its threads end with the test process).
pub struct Proxy {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Relays to `upstream` (`http://HOST:PORT`); the `nth` (1-based) request to `path` gets `bad`.
    pub fn start(upstream: &str, path: &str, nth: usize, bad: Bad) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            upstream: upstream.trim_start_matches("http://").to_string(),
            path: path.to_string(),
            nth,
            bad,
            seen: AtomicUsize::new(0),
            bad_served: AtomicBool::new(false),
            bad_bytes_sent: AtomicU64::new(0),
            pid: AtomicU32::new(0),
            hwm_after_bad_kib: Mutex::new(None),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = serve(&s, conn);
                });
            }
        });
        Proxy { base, shared }
    }

    /// The run whose memory is sampled.
    pub fn watch(&self, pid: u32) {
        self.shared.pid.store(pid, Ordering::SeqCst);
    }

    /// Whether the bad response was (started to be) sent.
    pub fn bad_served(&self) -> bool {
        self.shared.bad_served.load(Ordering::SeqCst)
    }

    /// Bytes of the bad body written before the client stopped reading.
    pub fn bad_bytes_sent(&self) -> u64 {
        self.shared.bad_bytes_sent.load(Ordering::SeqCst)
    }

    /// Peak resident memory (KiB) of the watched run, sampled when a request arrived after
    /// the bad response was refused (so it includes whatever that response cost).
    pub fn hwm_after_bad_kib(&self) -> Option<u64> {
        *self.shared.hwm_after_bad_kib.lock().unwrap()
    }
}

/// `VmHWM` (peak resident set) of a live process, KiB.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn serve(s: &Shared, mut client: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let end = line == b"\r\n";
        head.push(String::from_utf8_lossy(&line).into_owned());
        if end {
            break;
        }
    }
    let content_length: usize = head
        .iter()
        .find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;
    let path = head[0].split_whitespace().nth(1).unwrap_or("").to_string();
    let path = path.split('?').next().unwrap_or("").to_string();

    if s.bad_served.load(Ordering::SeqCst) {
        let pid = s.pid.load(Ordering::SeqCst);
        if pid != 0 {
            let mut slot = s.hwm_after_bad_kib.lock().unwrap();
            if slot.is_none() {
                *slot = vm_hwm_kib(pid);
            }
        }
    }
    if path == s.path && s.seen.fetch_add(1, Ordering::SeqCst) + 1 == s.nth {
        s.bad_served.store(true, Ordering::SeqCst);
        return serve_bad(s, &mut client);
    }
    // Relay with `Connection: close` both ways, so every request gets its own connection.
    let mut upstream = TcpStream::connect(&s.upstream)?;
    let mut out = String::new();
    for h in &head[..head.len() - 1] {
        if !h.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(h);
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    upstream.write_all(out.as_bytes())?;
    upstream.write_all(&body)?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response)?;
    let status_end = response
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(0, |p| p + 2);
    client.write_all(&response[..status_end])?;
    client.write_all(b"Connection: close\r\n")?;
    client.write_all(&response[status_end..])?;
    Ok(())
}

fn serve_bad(s: &Shared, client: &mut TcpStream) -> std::io::Result<()> {
    let (total, announce) = match &s.bad {
        Bad::Body(bytes, content_type) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            );
            client.write_all(head.as_bytes())?;
            client.write_all(bytes)?;
            s.bad_bytes_sent.store(bytes.len() as u64, Ordering::SeqCst);
            return Ok(());
        }
        Bad::Endless { total } => (*total, false),
        Bad::Announced { total } => (*total, true),
    };
    let mut head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n".to_string();
    if announce {
        head.push_str(&format!("Content-Length: {total}\r\n"));
    }
    head.push_str("\r\n");
    client.write_all(head.as_bytes())?;
    let opening: &[u8] = br#"{"cursor":"c","has_more":false,"items":["#;
    client.write_all(opening)?;
    let mut sent = opening.len() as u64;
    let item = br#"{"uuid":"0123456789ABCDEFGHIJKLMNOP","timestamp":"2026-03-01T00:00:00Z"},"#;
    let chunk: Vec<u8> = item
        .iter()
        .copied()
        .cycle()
        .take(item.len() * 900)
        .collect();
    while sent + chunk.len() as u64 <= total {
        if client.write_all(&chunk).is_err() {
            break; // the client stopped reading: the cap worked
        }
        sent += chunk.len() as u64;
        s.bad_bytes_sent.store(sent, Ordering::SeqCst);
    }
    Ok(())
}
