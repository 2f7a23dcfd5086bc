//! A tiny hand-rolled HTTP/1.1 server on 127.0.0.1:0 for fault tests: the
//! test's handler sees each request and picks the answer, including none at
//! all. Keep-alive is honoured so clients behave as they do with real servers.

use std::future::Future;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (by Content-Length).
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value by (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// What the server does with a request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Answer with this status, content type and body.
    Respond {
        /// HTTP status.
        status: u16,
        /// Content-Type header.
        content_type: String,
        /// Body.
        body: String,
    },
    /// Keep the connection open and never answer.
    Hang,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply::Respond { status, content_type: "application/json".into(), body: body.into() }
    }

    /// An HTML answer.
    pub fn html(status: u16, body: impl Into<String>) -> Reply {
        Reply::Respond { status, content_type: "text/html; charset=utf-8".into(), body: body.into() }
    }
}

/// A running fake server; stops (with every open connection) when dropped.
pub struct FakeServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    task: JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    /// Serve every request with `handler`.
    pub async fn start<H, Fut>(handler: H) -> FakeServer
    where
        H: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            // Connections live in the set, so aborting this task closes them too.
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(serve(stream, handler.clone()));
            }
        });
        FakeServer { url, task }
    }

    /// Answer every request with `reply`.
    pub async fn answering(reply: Reply) -> FakeServer {
        FakeServer::start(move |_| {
            let reply = reply.clone();
            async move { reply }
        })
        .await
    }
}

async fn serve<H, Fut>(stream: TcpStream, handler: Arc<H>)
where
    H: Fn(Request) -> Fut,
    Fut: Future<Output = Reply>,
{
    let mut stream = BufReader::new(stream);
    while let Some(req) = read_request(&mut stream).await {
        match handler(req).await {
            Reply::Hang => std::future::pending::<()>().await,
            Reply::Respond { status, content_type, body } => {
                let head = format!(
                    "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                    reason(status),
                    body.len()
                );
                let out = stream.get_mut();
                if out.write_all(head.as_bytes()).await.is_err()
                    || out.write_all(body.as_bytes()).await.is_err()
                {
                    return; // the client gave up waiting
                }
            }
        }
    }
}

async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    stream.read_line(&mut line).await.ok().filter(|n| *n > 0)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        line.clear();
        stream.read_line(&mut line).await.ok().filter(|n| *n > 0)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (name, value) = l.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let len =
        headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; len];
    stream.read_exact(&mut body).await.ok()?;
    Some(Request { method, path, headers, body })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        410 => "Gone",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "Whatever",
    }
}

/// Forward `req` to `upstream` (a base URL) and return its answer, for
/// proxies that misbehave on purpose around a real server.
pub async fn forward(upstream: &str, req: &Request) -> Reply {
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).expect("method");
    let mut out =
        reqwest::Client::new().request(method, format!("{upstream}{}", req.path)).body(req.body.clone());
    if let Some(ct) = req.header("content-type") {
        out = out.header("content-type", ct);
    }
    let resp = out.send().await.expect("upstream answers");
    let status = resp.status().as_u16();
    let content_type =
        resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("text/plain").to_owned();
    Reply::Respond { status, content_type, body: resp.text().await.expect("upstream body") }
}
