//! A TCP proxy on 127.0.0.1:0 in front of a real server that delays chosen
//! requests on purpose: it can hold a request before passing it on (a slow
//! server, a queueing proxy) or pass it on at once and hold the answer (a
//! lost or late reply). Everything else flows through untouched, so the
//! server behind it is the real thing. It counts the requests it matched.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

/// How to delay the requests that match.
#[derive(Debug, Clone)]
pub struct Delay {
    /// The request line's method, e.g. `POST`.
    pub method: &'static str,
    /// The request line's path starts with this.
    pub path_prefix: &'static str,
    /// Held this long before the server sees it.
    pub before_forward: Duration,
    /// The server's answer held this long before the client sees it.
    pub before_answer: Duration,
}

/// A running proxy; stops (with its connections) when dropped.
pub struct DelayProxy {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    matched: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DelayProxy {
    /// Proxy to `upstream` (`http://host:port`), delaying what `delay` matches.
    pub async fn start(upstream: &str, delay: Delay) -> DelayProxy {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let matched = Arc::new(AtomicUsize::new(0));
        let counter = matched.clone();
        let task = tokio::spawn(async move {
            // Connections live in the set, so aborting this task closes them too.
            let mut connections = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else { continue };
                connections.spawn(relay(client, server, delay.clone(), counter.clone()));
            }
        });
        DelayProxy { url, matched, task }
    }

    /// How many requests matched the delay so far.
    pub fn matched(&self) -> usize {
        self.matched.load(Ordering::SeqCst)
    }
}

/// One client connection: requests are read whole (head and Content-Length
/// body) and passed on, answers are copied back as bytes. Clients do not
/// pipeline, so the bytes after a held request are its answer.
async fn relay(client: TcpStream, server: TcpStream, delay: Delay, matched: Arc<AtomicUsize>) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // For each request passed on: how long to hold its answer.
    let (holds_tx, holds_rx) = mpsc::unbounded_channel::<Duration>();
    let requests = pass_requests(client_read, server_write, delay, matched, holds_tx);
    let answers = pass_answers(server_read, client_write, holds_rx);
    tokio::join!(requests, answers);
}

async fn pass_requests(
    from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    delay: Delay,
    matched: Arc<AtomicUsize>,
    holds: mpsc::UnboundedSender<Duration>,
) {
    let mut from = BufReader::new(from);
    while let Some(raw) = read_request(&mut from).await {
        let line = String::from_utf8_lossy(&raw[..raw.iter().position(|b| *b == b'\n').unwrap_or(0)]);
        let mut parts = line.split_whitespace();
        let hit = parts.next() == Some(delay.method)
            && parts.next().is_some_and(|path| path.starts_with(delay.path_prefix));
        let hold = if hit {
            matched.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(delay.before_forward).await;
            delay.before_answer
        } else {
            Duration::ZERO
        };
        if holds.send(hold).is_err() || to.write_all(&raw).await.is_err() {
            return;
        }
    }
    let _ = to.shutdown().await;
}

async fn pass_answers(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut holds: mpsc::UnboundedReceiver<Duration>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // The first bytes of an answer: hold them if its request said so.
        let mut hold = Duration::ZERO;
        while let Ok(h) = holds.try_recv() {
            hold = h;
        }
        if !hold.is_zero() {
            tokio::time::sleep(hold).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return; // the client gave up waiting
        }
    }
}

/// One request's bytes exactly as sent, or `None` at the end of the stream.
async fn read_request(from: &mut BufReader<OwnedReadHalf>) -> Option<Vec<u8>> {
    let mut raw = Vec::new();
    let mut length = 0usize;
    loop {
        let start = raw.len();
        let n = from.read_until(b'\n', &mut raw).await.ok()?;
        if n == 0 {
            return None;
        }
        let line = String::from_utf8_lossy(&raw[start..]).trim_end().to_ascii_lowercase();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
    }
    let head = raw.len();
    raw.resize(head + length, 0);
    from.read_exact(&mut raw[head..]).await.ok()?;
    Some(raw)
}
