//! What every HTTP source shares: a client per configured server (its own
//! timeout, CA file and credentials, so one hung server never slows another)
//! and JSON requests whose failures read as one clear line. The poll loop
//! with its backoff is in `poller`.

mod client;
mod poller;

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use client::{Auth, innermost, one_line, with_ca_file};
pub use poller::{Backoff, MAX_BACKOFF, PollError, spawn_poller};

use crate::config::sources::HttpSource;

/// Largest answer read: a runaway or hostile server cannot exhaust memory.
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// One configured HTTP server: a client with its timeout, TLS roots and
/// credentials, and the base URL paths are appended to.
#[derive(Debug, Clone)]
pub struct Endpoint {
    client: reqwest::Client,
    base: String,
    timeout: Duration,
    auth: Auth,
}

impl Endpoint {
    /// Build the client for `source`: resolves its secret and reads its CA file.
    pub async fn connect(source: &HttpSource) -> Result<Endpoint, String> {
        let auth =
            Auth::resolve(source.username.as_ref(), source.password.as_ref(), source.bearer_token.as_ref())
                .await?;
        let builder = reqwest::Client::builder()
            .timeout(source.timeout)
            .connect_timeout(source.timeout)
            .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION")));
        let builder = with_ca_file(builder, source.ca_file.as_deref()).await?;
        let client =
            builder.build().map_err(|e| format!("cannot set up the HTTP client: {}", innermost(&e)))?;
        let base = source.url.trim_end_matches('/').to_owned();
        Ok(Endpoint { client, base, timeout: source.timeout, auth })
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `GET base + path` and parse the JSON answer.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, FetchError> {
        let body = self.request(Method::GET, path, None::<&()>).await?;
        parse_json(path, &body)
    }

    /// `method base + path` with an optional JSON body; returns the raw 2xx answer.
    pub async fn request<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Vec<u8>, FetchError> {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        req = self.auth.apply(req);
        if let Some(b) = body {
            req = req.json(b);
        }
        let mut resp = req.send().await.map_err(|e| self.transport_error(&e))?;
        let status = resp.status();
        let is_html = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/html"));
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport_error(&e))? {
            if bytes.len() + chunk.len() > MAX_BODY {
                return Err(FetchError::TooLarge { path: path.to_owned() });
            }
            bytes.extend_from_slice(&chunk);
        }
        let looks_html = is_html || starts_like_html(&bytes);
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let detail = if looks_html { html_title(&text) } else { json_message(&text) }
                .or_else(|| first_line(&text))
                .unwrap_or_default();
            return Err(FetchError::Status { status, path: path.to_owned(), detail, body: text });
        }
        if looks_html {
            let title = html_title(&String::from_utf8_lossy(&bytes));
            return Err(FetchError::Html { path: path.to_owned(), title });
        }
        Ok(bytes)
    }

    fn transport_error(&self, e: &reqwest::Error) -> FetchError {
        if e.is_timeout() {
            return FetchError::Timeout(self.timeout);
        }
        let refused = std::iter::successors(Some(e as &dyn std::error::Error), |e| e.source())
            .filter_map(|e| e.downcast_ref::<std::io::Error>())
            .any(|io| io.kind() == std::io::ErrorKind::ConnectionRefused);
        let host = e
            .url()
            .map(|u| format!("{}:{}", u.host_str().unwrap_or("?"), u.port_or_known_default().unwrap_or(0)));
        let host = host.unwrap_or_else(|| self.base.clone());
        if refused {
            return FetchError::Refused(host);
        }
        if e.is_connect() {
            return FetchError::Connect { host, why: innermost(e) };
        }
        FetchError::Other(innermost(e))
    }
}

/// Parse a JSON answer, naming the path in the error.
pub fn parse_json<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, FetchError> {
    serde_json::from_slice(body)
        .map_err(|e| FetchError::Json { path: path.to_owned(), message: e.to_string() })
}

/// Why a request gave no usable answer. `Display` is the one line the status bar shows.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    /// Nothing listens at `host:port`.
    Refused(String),
    /// Connecting failed otherwise (DNS, TLS, unreachable).
    Connect {
        /// `host:port`.
        host: String,
        /// The lowest-level reason.
        why: String,
    },
    /// No complete answer within the timeout.
    Timeout(Duration),
    /// A non-2xx status.
    Status {
        /// The status.
        status: StatusCode,
        /// The request path.
        path: String,
        /// The page title or first line of the body.
        detail: String,
        /// The whole body (bounded by `MAX_BODY`), for APIs with JSON error bodies.
        body: String,
    },
    /// A 2xx HTML page where JSON was expected.
    Html {
        /// The request path.
        path: String,
        /// The page's `<title>`, if any.
        title: Option<String>,
    },
    /// The answer was not the JSON expected.
    Json {
        /// The request path.
        path: String,
        /// serde's message, with line and column.
        message: String,
    },
    /// The answer was over `MAX_BODY`.
    TooLarge {
        /// The request path.
        path: String,
    },
    /// Anything else reqwest reports.
    Other(String),
}

impl FetchError {
    /// True when the request may have reached the server and been acted on
    /// without us hearing back: a retry of a non-idempotent request must check first.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            FetchError::Timeout(_) | FetchError::Other(_) => true,
            FetchError::Status { status, .. } => status.is_server_error(),
            _ => false,
        }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Refused(host) => write!(f, "connection refused by {host}: is the server running?"),
            FetchError::Connect { host, why } => write!(f, "cannot connect to {host}: {why}"),
            FetchError::Timeout(d) => write!(f, "no answer in {}", humantime::format_duration(*d)),
            FetchError::Status { status, path, detail, .. } => {
                write!(f, "HTTP {status} from {path}")?;
                if !detail.is_empty() {
                    write!(f, ": {detail}")?;
                }
                if matches!(status.as_u16(), 401 | 403) {
                    write!(f, " (check username/password or bearer_token)")?;
                }
                Ok(())
            }
            FetchError::Html { path, title } => {
                write!(f, "answered HTML, not JSON: is the URL the API? ({path}")?;
                match title {
                    Some(t) => write!(f, " is a page titled {t:?})"),
                    None => write!(f, ")"),
                }
            }
            FetchError::Json { path, message } => write!(f, "invalid JSON from {path}: {message}"),
            FetchError::TooLarge { path } => write!(f, "{path} answered more than {} MiB", MAX_BODY >> 20),
            FetchError::Other(why) => f.write_str(why),
        }
    }
}

fn first_line(text: &str) -> Option<String> {
    Some(one_line(text)).filter(|l| !l.is_empty())
}

/// The message in a JSON error body: a bare string (Alertmanager's
/// `"silence not found"`) or an object's `message` or `error` field.
fn json_message(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let msg = match &v {
        serde_json::Value::String(s) => s.as_str(),
        serde_json::Value::Object(o) => o.get("message").or_else(|| o.get("error"))?.as_str()?,
        _ => return None,
    };
    first_line(msg)
}

fn starts_like_html(body: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&body[..body.len().min(64)]).trim_start().to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html") || head.starts_with("<head")
}

fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let end = open_end + lower[open_end..].find("</title")?;
    Some(one_line(&text[open_end..end])).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_lines() {
        let page = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head></html>";
        assert!(starts_like_html(page.as_bytes()));
        assert_eq!(html_title(page).as_deref(), Some("502 Bad Gateway"));
        assert!(!starts_like_html(b"{\"status\":\"success\"}"));
        assert_eq!(first_line("\n  oops: bad\nmore").as_deref(), Some("oops: bad"));
        assert_eq!(one_line(&"x".repeat(200)).chars().count(), 161);
        assert_eq!(json_message("\"silence not found\"\n").as_deref(), Some("silence not found"));
        assert_eq!(json_message(r#"{"code":601,"message":"bad id"}"#).as_deref(), Some("bad id"));
        assert_eq!(json_message("404 page not found"), None);
    }

    #[test]
    fn messages() {
        let timeout = FetchError::Timeout(Duration::from_secs(5));
        assert_eq!(timeout.to_string(), "no answer in 5s");
        assert!(timeout.is_ambiguous());
        assert!(!FetchError::Refused("127.0.0.1:1".into()).is_ambiguous());
        let html = FetchError::Html { path: "/api/v1/alerts".into(), title: Some("Grafana".into()) };
        assert_eq!(
            html.to_string(),
            "answered HTML, not JSON: is the URL the API? (/api/v1/alerts is a page titled \"Grafana\")"
        );
    }
}
