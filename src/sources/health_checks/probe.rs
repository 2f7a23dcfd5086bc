//! One probe of one check: a request on a fresh connection, the body read up
//! to a cap, and transport failures put in plain words.

use std::error::Error as StdError;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderValue, LOCATION};

use super::verdict::{Body, MAX_BODY, Verdict, judge};
use crate::config::health_checks::{HealthCheck, ProbeMethod};
use crate::sources::http::{Auth, innermost, with_ca_file};

/// What one probe found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// When the probe started (wall clock, for the UI and the report).
    pub at: SystemTime,
    /// From sending the request to having read the whole (capped) body, or
    /// to the failure.
    pub latency: Duration,
    /// The answer's status, if one came.
    pub status: Option<u16>,
    /// The judgement.
    pub verdict: Verdict,
}

/// A check ready to probe: its own HTTP client (the check's timeout and CA
/// roots) and its resolved credentials.
#[derive(Debug, Clone)]
pub struct Prober {
    check: HealthCheck,
    client: reqwest::Client,
    method: reqwest::Method,
    auth: Auth,
}

impl Prober {
    /// Resolve the check's secret and read its CA file; the error says which failed.
    pub async fn new(check: &HealthCheck) -> Result<Prober, String> {
        // Resolved once per `Prober`; `spawn` builds a new one after a 401/403.
        let auth =
            Auth::resolve(check.username.as_ref(), check.password.as_ref(), check.bearer_token.as_ref())
                .await?;
        let builder = reqwest::Client::builder()
            // A backstop only: `probe` keeps its own deadline so it can say
            // which phase ran out of time.
            .timeout(check.timeout)
            .connect_timeout(check.timeout)
            // Redirects are not followed, as `curl -f` (the handbooks' check)
            // does not: a health URL that redirects is nearly always a wrong
            // URL (http→https, a trailing slash, a login page), and following
            // it would judge the login page's 200 instead of the service. The
            // 3xx is reported with its target so the URL can be fixed, or
            // listed in `expect_status` when the redirect is the point.
            .redirect(reqwest::redirect::Policy::none())
            // A fresh connection per probe: a kept-alive one would hide a
            // server that no longer accepts connections, and would leave the
            // TCP and TLS handshakes out of the latency users compare with curl.
            .pool_max_idle_per_host(0)
            .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION")));
        let builder = with_ca_file(builder, check.ca_file.as_deref()).await?;
        let client =
            builder.build().map_err(|e| format!("cannot set up the HTTP client: {}", innermost(&e)))?;
        let method = match check.method {
            ProbeMethod::Get => reqwest::Method::GET,
            ProbeMethod::Head => reqwest::Method::HEAD,
            ProbeMethod::Post => reqwest::Method::POST,
        };
        Ok(Prober { check: check.clone(), client, method, auth })
    }

    /// The check this prober runs.
    pub fn check(&self) -> &HealthCheck {
        &self.check
    }

    /// Request the URL once and judge the answer. Returns within the check's
    /// timeout (plus scheduling noise) whatever the server does.
    pub async fn probe(&self) -> Outcome {
        let at = SystemTime::now();
        let start = Instant::now();
        let deadline = tokio::time::Instant::from_std(start) + self.check.timeout;
        let (status, result) = self.exchange(deadline).await;
        let latency = start.elapsed();
        let verdict = match result {
            Err(why) => Verdict::Down(why),
            Ok(()) if latency > self.check.slow => Verdict::Slow,
            Ok(()) => Verdict::Up,
        };
        Outcome { at, latency, status, verdict }
    }

    /// Send, read, judge: the status if one came, and the judgement's failure.
    async fn exchange(&self, deadline: tokio::time::Instant) -> (Option<u16>, Result<(), String>) {
        let timed_out = || format!("timed out after {}", humantime::format_duration(self.check.timeout));
        let mut req = self.client.request(self.method.clone(), &self.check.url);
        req = self.auth.apply(req);
        if self.method == reqwest::Method::POST {
            // An explicit empty body, so the request carries `Content-Length: 0`
            // (some servers answer 411 to a bodiless POST).
            req = req.body(Vec::new());
        }
        let mut resp = match tokio::time::timeout_at(deadline, req.send()).await {
            Err(_) => return (None, Err(timed_out())),
            Ok(Err(e)) if e.is_timeout() => return (None, Err(timed_out())),
            Ok(Err(e)) => return (None, Err(transport_error(&e))),
            Ok(Ok(resp)) => resp,
        };
        let status = resp.status().as_u16();
        let location = resp.headers().get(LOCATION).and_then(|v: &HeaderValue| v.to_str().ok());
        let location = location.map(str::to_owned);
        let mut body = Body::default();
        loop {
            let chunk = match tokio::time::timeout_at(deadline, resp.chunk()).await {
                Err(_) => return (Some(status), Err(format!("{} reading the body", timed_out()))),
                Ok(Err(e)) if e.is_timeout() => {
                    return (Some(status), Err(format!("{} reading the body", timed_out())));
                }
                Ok(Err(e)) => {
                    return (Some(status), Err(format!("reading the body: {}", transport_error(&e))));
                }
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            let room = MAX_BODY - body.bytes.len();
            if chunk.len() > room {
                // Stop here: the rest is never read, and dropping the response
                // closes the connection (there is no pool to return it to).
                body.bytes.extend_from_slice(&chunk[..room]);
                body.truncated = true;
                break;
            }
            body.bytes.extend_from_slice(&chunk);
        }
        (Some(status), judge(&self.check, status, location.as_deref(), &body))
    }
}

/// A failure before any answer, in the words an operator would use.
fn transport_error(e: &reqwest::Error) -> String {
    let chain = || std::iter::successors(Some(e as &(dyn StdError + 'static)), |&e| e.source());
    let io_kind = chain().filter_map(|e| e.downcast_ref::<std::io::Error>()).map(|io| io.kind()).next();
    match io_kind {
        Some(std::io::ErrorKind::ConnectionRefused) => return "connection refused".into(),
        Some(std::io::ErrorKind::ConnectionReset) => return "connection reset by the server".into(),
        _ => {}
    }
    let why = innermost(e);
    if let Some(tls) = tls_words(&why) {
        return tls;
    }
    if chain().any(|e| e.to_string().starts_with("dns error")) {
        let host = e.url().and_then(|u| u.host_str()).unwrap_or("the host");
        return format!("cannot resolve {host}: {why}");
    }
    if chain().any(|e| e.to_string().contains("connection closed before message completed")) {
        return "the server closed the connection without answering".into();
    }
    if e.is_connect() {
        return format!("cannot connect: {why}");
    }
    why
}

/// rustls's error texts (it is not a direct dependency, so its error type
/// cannot be matched) turned into what an operator would check.
pub(super) fn tls_words(why: &str) -> Option<String> {
    let plain = if why.contains("UnknownIssuer") {
        "TLS: the server's certificate is not signed by a trusted CA (set ca_file?)".to_owned()
    } else if why.contains("certificate not valid for name") || why.contains("NotValidForName") {
        format!("TLS: the certificate is for another host name ({})", after_colon(why))
    } else if why.contains("certificate expired") || why.contains("Expired") {
        "TLS: the server's certificate has expired".to_owned()
    } else if why.contains("certificate not valid yet") || why.contains("NotValidYet") {
        "TLS: the server's certificate is not valid yet (is the clock right?)".to_owned()
    } else if why.contains("corrupt message") || why.contains("InvalidContentType") {
        "TLS handshake failed: the server does not speak TLS on this port (http:// instead?)".to_owned()
    } else if why.contains("tls handshake eof") {
        "TLS handshake failed: the server hung up (does it speak TLS on this port?)".to_owned()
    } else if why.contains("invalid peer certificate") {
        format!("TLS: the server's certificate was rejected ({})", after_colon(why))
    } else if why.contains("received fatal alert") {
        format!("TLS: the server refused the handshake ({})", after_colon(why))
    } else if why.contains("peer is incompatible") {
        format!("TLS: no protocol version or cipher in common ({})", after_colon(why))
    } else {
        return None;
    };
    Some(plain)
}

fn after_colon(s: &str) -> &str {
    s.split_once(": ").map_or(s, |(_, rest)| rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_errors_in_plain_words() {
        let table = [
            ("invalid peer certificate: UnknownIssuer", "not signed by a trusted CA (set ca_file?)"),
            (
                "invalid peer certificate: certificate not valid for name \"10.0.0.1\"; certificate is only valid for localhost",
                "for another host name (certificate not valid for name \"10.0.0.1\"; certificate is only valid for localhost)",
            ),
            ("invalid peer certificate: certificate expired: verification time 1", "has expired"),
            ("received corrupt message of type InvalidContentType", "does not speak TLS on this port"),
            ("received fatal alert: HandshakeFailure", "refused the handshake (HandshakeFailure)"),
            ("tls handshake eof", "the server hung up (does it speak TLS on this port?)"),
            ("invalid peer certificate: BadSignature", "was rejected (BadSignature)"),
        ];
        for (raw, want) in table {
            let got = tls_words(raw).unwrap_or_default();
            assert!(got.starts_with("TLS") && got.contains(want), "{raw}: {got}");
        }
        assert_eq!(tls_words("operation timed out"), None);
    }
}
