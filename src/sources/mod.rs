//! Sources are pollers: tokio tasks that talk to one backend each and send
//! model updates to the app over a channel. They know nothing of the screen.
//! Every update says which source it came from and whether the poll worked,
//! so health (last success, last error) is kept in one place for all of them.

pub mod alertmanager;
pub mod backups;
pub mod fleet;
pub mod health;
pub mod health_checks;
pub mod http;
pub mod logs;
pub mod maintenance;
pub mod mysql;
pub mod node;
pub mod postgres;
pub mod prometheus;
pub mod redis;
pub mod replication;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::alerts::model::{Alert, SourceKind};
use crate::config::Config;
use crate::model::metrics::NodeSample;
use crate::store::StoreInfo;

pub use alertmanager::Silence;

pub use health::{HealthStatus, SourceHealth};

/// What a source hands to the app.
#[derive(Debug)]
pub enum Payload {
    /// A fresh sample of this node.
    Node(Box<NodeSample>),
    /// The state store is open.
    Store(StoreInfo),
    /// The maintenance flag file's state.
    Maintenance(maintenance::MaintenanceState),
    /// Progress of a guarded action.
    Action(crate::ops::executor::Event),
    /// The newest rows of the audit trail.
    Audit(Vec<crate::ops::audit::AuditRow>),
    /// Everything an Alertmanager or Prometheus holds now (a whole snapshot, not a diff).
    Alerts(AlertBatch),
    /// The open acks, as the store holds them.
    Acks(Vec<crate::alerts::queue::Ack>),
    /// An alert's stored timeline: its fingerprint and its events.
    Timeline(String, Vec<crate::alerts::history::Event>),
    /// One database member's poll.
    Replication(replication::MemberReport),
    /// One backup catalog's poll.
    Backups(backups::CatalogReport),
    /// Lines from a log source.
    Logs(logs::LogBatch),
    /// The latest backup checks (verify, restore test, backup now), as the store holds them.
    BackupChecks(Vec<crate::backups::checks::CheckRecord>),
    /// One `[[health]]` check's probe.
    HealthCheck(health_checks::HealthReport),
    /// One Prometheus server's node table, or one `[[nodes]]` scrape.
    Fleet(fleet::FleetReport),
    /// The open fleet node's chart history from its Prometheus.
    FleetHistory(fleet::FleetHistory),
}

/// One poll of an alert source: all its current alerts (and silences).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertBatch {
    /// The configured name of the source.
    pub source_name: String,
    /// Alertmanager or Prometheus.
    pub kind: SourceKind,
    /// Every alert it holds, silenced and inhibited ones included.
    pub alerts: Vec<Alert>,
    /// Its silences, expired ones included while it keeps them (Alertmanager only).
    pub silences: Vec<Silence>,
    /// Warnings the server attached to a good answer (Prometheus), shown beside its health.
    pub warnings: Vec<String>,
}

impl AlertBatch {
    /// Map every alert's severity from its labels (pollers do, off the UI thread).
    pub fn map_severities(&mut self, map: &crate::alerts::severity::SeverityMap) {
        for a in &mut self.alerts {
            a.severity = map.severity(&a.labels);
        }
    }
}

/// A source the app should keep health for: the name its updates carry and
/// how often it polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spawned {
    /// `Update::source` of its updates.
    pub name: &'static str,
    /// Its kind.
    pub kind: SourceKind,
    /// Its poll interval while healthy.
    pub period: Duration,
}

/// Start one poller task per configured Alertmanager and Prometheus. Each has
/// its own client and timeout, so one hung server never delays another.
pub fn spawn_all(config: &Config, tx: &mpsc::Sender<Update>, cancel: &CancellationToken) -> Vec<Spawned> {
    let severities = crate::alerts::severity::SeverityMap::from_config(&config.alerts);
    let am = config.alertmanager.iter().map(|s| Spawned {
        name: alertmanager::spawn(s.clone(), severities.clone(), tx.clone(), cancel.clone()),
        kind: SourceKind::Alertmanager,
        period: s.interval,
    });
    let prom = config.prometheus.iter().map(|s| Spawned {
        name: prometheus::spawn(s.clone(), severities.clone(), tx.clone(), cancel.clone()),
        kind: SourceKind::Prometheus,
        period: s.interval,
    });
    am.chain(prom).collect()
}

/// Poll an Alertmanager or Prometheus with `poll` (see `spawn_poller`) and
/// map each batch's severities on the poller's own task, so the UI thread's
/// queue only compares what arrives. Returns the name its updates carry.
pub fn spawn_alert_source<F, Fut>(
    source: crate::config::sources::HttpSource,
    severities: crate::alerts::severity::SeverityMap,
    tx: mpsc::Sender<Update>,
    cancel: CancellationToken,
    poll: F,
) -> &'static str
where
    F: Fn(http::Endpoint, &'static str) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<AlertBatch, http::PollError>> + Send + 'static,
{
    let severities = std::sync::Arc::new(severities);
    let name = leak_name(&source.name);
    http::spawn_poller(name, source, tx, cancel, move |ep| {
        let severities = std::sync::Arc::clone(&severities);
        let batch = poll(ep, name);
        async move {
            let mut batch = batch.await?;
            batch.map_severities(&severities);
            Ok(Payload::Alerts(batch))
        }
    });
    name
}

/// A source polled on a fixed beat, keeping what it needs between polls (a
/// prober with resolved credentials, the previous scrape for rates).
pub trait BeatPoll: Send + 'static {
    /// One poll: a payload, or why the source could not be polled at all.
    fn poll(&mut self) -> impl std::future::Future<Output = Result<Payload, String>> + Send;
}

/// Poll `poller` every `interval`, the first at once, until `cancel` fires or
/// the app hangs up; updates carry `source`. A fixed beat with no backoff,
/// for small requests whose recovery should show within one interval: a
/// slow poll delays only the next, and evenly spaced points keep a
/// sparkline honest.
pub fn spawn_on_beat(
    source: &'static str,
    interval: Duration,
    mut poller: impl BeatPoll,
    tx: mpsc::Sender<Update>,
    cancel: CancellationToken,
) {
    tokio::spawn(async move {
        let mut beat = tokio::time::interval(interval);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = beat.tick() => {}
            }
            let result = tokio::select! {
                () = cancel.cancelled() => return,
                r = poller.poll() => r,
            };
            let sent = tokio::select! {
                () = cancel.cancelled() => return,
                r = tx.send(Update::now(source, result)) => r,
            };
            if sent.is_err() {
                return;
            }
        }
    });
}

/// A configured source's name as the `&'static str` that `Update::source` and
/// the health list use. Leaked once per source when its poller starts: the
/// config is read once per run, so this is bounded.
pub fn leak_name(name: &str) -> &'static str {
    Box::leak(name.to_owned().into_boxed_str())
}

/// One poll's outcome.
#[derive(Debug)]
pub struct Update {
    /// The source's name as the status bar shows it.
    pub source: &'static str,
    /// When the poll finished.
    pub at: Instant,
    /// The data, or why there is none this time.
    pub result: Result<Payload, String>,
}

/// The next wall-clock second plus `offset`. Pollers and the clock tick on
/// the same boundary so their changes land in one frame, not two.
pub fn next_wall_second(offset: Duration) -> tokio::time::Instant {
    let into = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let wait = Duration::from_nanos(u64::from(1_000_000_000 - into)) + offset;
    tokio::time::Instant::now() + wait
}

impl Update {
    /// An update stamped now.
    pub fn now(source: &'static str, result: Result<Payload, String>) -> Update {
        Update { source, at: Instant::now(), result }
    }
}
