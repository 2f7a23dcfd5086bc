//! `[[nodes]]`: a node_exporter scraped directly, for fleets too small for a
//! Prometheus. Each scrape is parsed and reduced to a row; CPU and network
//! are rates between this scrape and the one before. A node that does not
//! answer is news, not a failure of the source: its row says down, with why.

use std::time::{Instant, SystemTime};

use reqwest::Method;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::exposition;
use super::reading::Reading;
use super::{FleetNode, FleetReport};
use crate::config::fleet::NodeTarget;
use crate::sources::http::{Endpoint, FetchError};
use crate::sources::{BeatPoll, Payload, Update, leak_name, spawn_on_beat};

/// What the rows of a target's first scrape say instead of CPU and network.
pub const MEASURING: &str = "measuring: CPU and network rates need a second scrape";

/// One target's scrapes, with the previous one kept for rates.
#[derive(Debug)]
pub struct Scraper {
    target: NodeTarget,
    instance: String,
    path: String,
    endpoint: Option<Endpoint>,
    previous: Option<Reading>,
    last_success: Option<SystemTime>,
}

impl Scraper {
    /// A scraper for `target`; nothing is fetched yet.
    pub fn new(target: NodeTarget) -> Scraper {
        let url = reqwest::Url::parse(&target.url).ok();
        // The row is named as Prometheus would name it (host:port), so a
        // node seen both ways reads the same.
        let instance = url
            .as_ref()
            .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
            .unwrap_or_else(|| target.name.clone());
        let path = url.map_or_else(|| "/metrics".to_owned(), |u| u.path().to_owned());
        Scraper { target, instance, path, endpoint: None, previous: None, last_success: None }
    }

    /// Scrape once. A node that is down, or answers something that is not
    /// the text format, is a report with `up = Some(false)` and the reason
    /// as a warning; only a target that cannot be scraped at all (its secret
    /// or CA file unreadable) is an error.
    pub async fn scrape(&mut self) -> Result<FleetReport, String> {
        let endpoint = match &self.endpoint {
            Some(ep) => ep.clone(),
            None => {
                let ep = Endpoint::connect(&self.target.http_source())
                    .await
                    .map_err(|e| format!("{}: {e}", self.target.name))?;
                self.endpoint.insert(ep).clone()
            }
        };
        let answer = endpoint.request(Method::GET, "", None::<&()>).await;
        let (at, now) = (Instant::now(), SystemTime::now());
        let body = match answer {
            Ok(body) => body,
            Err(e) => {
                if matches!(&e, FetchError::Status { status, .. } if matches!(status.as_u16(), 401 | 403)) {
                    self.endpoint = None; // resolve the secret again: it may have been rotated
                }
                return Ok(self.down(describe(e, &self.path)));
            }
        };
        let Ok(text) = std::str::from_utf8(&body) else {
            return Ok(self.down(format!("{} answered bytes that are not UTF-8 text", self.path)));
        };
        let samples = match exposition::parse(text) {
            Ok(samples) => samples,
            Err(e) => return Ok(self.down(format!("{} is not the Prometheus text format: {e}", self.path))),
        };
        let reading = Reading::new(&samples, at);
        let mut warnings = Vec::new();
        if !reading.is_node_exporter() {
            warnings.push(format!(
                "{} has no node_exporter series (node_cpu_seconds_total, node_memory_*, node_filesystem_*, \
                 node_load1): is it a node_exporter?",
                self.path
            ));
        }
        let (cpu, (rx, tx)) = match &self.previous {
            Some(prev) => (reading.cpu_percent_since(prev), reading.network_since(prev)),
            None => {
                warnings.push(MEASURING.to_owned());
                (None, (None, None))
            }
        };
        let node = FleetNode {
            cpu_percent: cpu,
            memory_percent: reading.memory_percent,
            filesystem_percent: reading.filesystem_percent,
            load1: reading.load1,
            rx_bytes_per_sec: rx,
            tx_bytes_per_sec: tx,
            up: Some(true),
            scraped_at: Some(now),
            ..self.row()
        };
        self.previous = Some(reading);
        self.last_success = Some(now);
        Ok(FleetReport { origin: self.target.name.clone(), nodes: vec![node], warnings })
    }

    /// The report of a failed scrape. Rates start over when it answers
    /// again: an average over the outage would hide what it is doing now.
    fn down(&mut self, why: String) -> FleetReport {
        self.previous = None;
        let node = FleetNode {
            up: Some(false),
            scraped_at: self.last_success,
            down_reason: Some(why.clone()),
            ..self.row()
        };
        FleetReport { origin: self.target.name.clone(), nodes: vec![node], warnings: vec![why] }
    }

    fn row(&self) -> FleetNode {
        FleetNode {
            instance: self.instance.clone(),
            origin: self.target.name.clone(),
            ..FleetNode::default()
        }
    }
}

/// A failed request in the words of a scrape: the URL's path, not the JSON
/// wording the shared client uses for APIs.
fn describe(mut e: FetchError, url_path: &str) -> String {
    match &mut e {
        FetchError::Html { title, .. } => {
            let page = title.as_ref().map(|t| format!(" titled {t:?}")).unwrap_or_default();
            return format!(
                "{url_path} answered an HTML page{page}, not metrics: is the URL the exporter's /metrics?"
            );
        }
        FetchError::Status { path, .. } | FetchError::Json { path, .. } | FetchError::TooLarge { path } => {
            url_path.clone_into(path);
        }
        _ => {}
    }
    e.to_string()
}

/// The name the updates of `[[nodes]]` entry `name` carry.
pub fn source_name(name: &str) -> String {
    format!("node {name}")
}

/// Scrape `target` every `interval`, the first at once, until `cancel` fires
/// or the app hangs up; returns the name its updates carry. Scrapes keep a
/// fixed beat with no backoff (one small GET; a recovery should show within
/// one interval), and a slow one delays only the next.
pub fn spawn(target: NodeTarget, tx: mpsc::Sender<Update>, cancel: CancellationToken) -> &'static str {
    let source = leak_name(&source_name(&target.name));
    let interval = target.interval;
    spawn_on_beat(source, interval, Scraper::new(target), tx, cancel);
    source
}

impl BeatPoll for Scraper {
    async fn poll(&mut self) -> Result<Payload, String> {
        self.scrape().await.map(Payload::Fleet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_metrics_path() {
        let html = FetchError::Html { path: String::new(), title: Some("Node Exporter".into()) };
        assert_eq!(
            describe(html, "/"),
            "/ answered an HTML page titled \"Node Exporter\", not metrics: is the URL the exporter's /metrics?"
        );
        let status = FetchError::Status {
            status: reqwest::StatusCode::NOT_FOUND,
            path: String::new(),
            detail: "404 page not found".into(),
            body: String::new(),
        };
        assert_eq!(describe(status, "/metric"), "HTTP 404 Not Found from /metric: 404 page not found");
    }

    #[test]
    fn rows_are_named_like_prometheus_instances() {
        let target = |url: &str| NodeTarget {
            name: "db1".into(),
            url: url.into(),
            interval: crate::config::fleet::DEFAULT_INTERVAL,
            timeout: crate::config::fleet::DEFAULT_TIMEOUT,
            ca_file: None,
            username: None,
            password: None,
            bearer_token: None,
        };
        let s = Scraper::new(target("http://db1.example:9100/metrics"));
        assert_eq!((s.instance.as_str(), s.path.as_str()), ("db1.example:9100", "/metrics"));
        assert_eq!(Scraper::new(target("https://[::1]/node")).instance, "[::1]:443");
    }
}
