//! `opsdeck check`: the handbooks' daily inspection in one shot, no TUI.
//!
//! It runs the cockpit's own pollers and panes headless (`app::spawn_sources`
//! and `AppState::apply_update`, the very code the tabs use) until every
//! configured source has answered once, or its timeout has passed; then it
//! judges what it holds against every enabled rule and prints one line per
//! thing checked, grouped by area, with an exit code a monitoring system
//! understands.

mod lines;
mod render;

use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::AppState;
use crate::config::Config;
use crate::sources::Update;
use crate::theme::Theme;

pub use render::{json, markdown, text};

/// How one thing checked is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Within its thresholds.
    Ok,
    /// Past a warning threshold.
    Warn,
    /// The source could not be checked (no answer, unreadable): nobody knows.
    Unknown,
    /// Past a critical threshold, or down.
    Crit,
}

impl Status {
    /// `OK`, `WARN`, `UNKNOWN`, `CRIT`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warn => "WARN",
            Status::Unknown => "UNKNOWN",
            Status::Crit => "CRIT",
        }
    }
}

/// The report's sections, in the order the handbooks' inspection goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// `[[health]]` checks.
    Health,
    /// Alertmanager and Prometheus alerts.
    Alerts,
    /// This node: CPU, memory, disks.
    Resources,
    /// Database replication.
    Replication,
    /// Backup catalogs against their RPO.
    Backups,
    /// Error lines in the logs.
    Logs,
}

impl Area {
    /// The section heading.
    pub fn title(self) -> &'static str {
        match self {
            Area::Health => "services/health",
            Area::Alerts => "alerts",
            Area::Resources => "resources",
            Area::Replication => "replication",
            Area::Backups => "backups",
            Area::Logs => "error logs",
        }
    }
}

/// One thing checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// Its section.
    pub area: Area,
    /// How it is.
    pub status: Status,
    /// What was checked: a check, a mount, a member, a catalog, a source.
    pub subject: String,
    /// The value against its threshold, or what is wrong.
    pub detail: String,
    /// The rule that judged it, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// Everything one run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// This node's name.
    pub host: String,
    /// When the run started.
    pub at: Timestamp,
    /// How long it took.
    #[serde(serialize_with = "millis")]
    pub took: Duration,
    /// Sorted by area, worst first within an area.
    pub lines: Vec<Line>,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Report {
    /// The run's verdict: critical beats unknown (something known to be
    /// broken matters most), unknown beats a warning (a blind spot is worse
    /// than a known warning), then warning, then OK.
    pub fn status(&self) -> Status {
        self.lines.iter().map(|l| l.status).max().unwrap_or(Status::Ok)
    }

    /// The monitoring-plugin exit code: 0 OK, 1 warning, 2 critical, 3 unknown.
    pub fn exit_code(&self) -> u8 {
        match self.status() {
            Status::Ok => 0,
            Status::Warn => 1,
            Status::Crit => 2,
            Status::Unknown => 3,
        }
    }

    /// How many lines have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.lines.iter().filter(|l| l.status == status).count()
    }
}

/// Poll every configured source once and judge the result.
pub async fn run(config: Config, host: String) -> Result<Report, String> {
    let started = Instant::now();
    let at = Timestamp::now();
    let theme = Theme::load("mono", None, false).map_err(|e| e.to_string())?;
    let budget = budget(&config);
    let mut state = AppState::new(config, None, theme, host, started);
    let (tx, mut updates) = mpsc::channel::<Update>(256);
    let cancel = CancellationToken::new();
    crate::app::spawn_sources(&mut state, None, &tx, &cancel);
    // The stored verifies judge the catalogs as on the Backups tab: held
    // before the first listing arrives, so every assessment includes them.
    let mut store_error = None;
    if !state.config.backups.is_empty() {
        match stored_checks(crate::store::default_path(), budget).await {
            Ok(records) => state.backups.on_checks(records, Timestamp::now()),
            Err(e) => store_error = Some(e),
        }
    }
    let deadline = tokio::time::Instant::from_std(started + budget);
    while !lines::all_answered(&state) {
        tokio::select! {
            update = updates.recv() => match update {
                Some(update) => {
                    state.now = Instant::now();
                    state.wall = Timestamp::now();
                    state.apply_update(update);
                }
                None => break,
            },
            () = tokio::time::sleep_until(deadline) => break,
        }
    }
    cancel.cancel();
    state.now = Instant::now();
    state.wall = Timestamp::now();
    let mut lines = lines::judge(&state, budget);
    if let Some(e) = store_error {
        lines.push(lines::stored_checks_unreadable(e));
    }
    lines.sort_by(|a, b| a.area.cmp(&b.area).then(b.status.cmp(&a.status)).then(a.subject.cmp(&b.subject)));
    Ok(Report { host: state.host.clone(), at, took: started.elapsed(), lines })
}

/// The latest backup checks in the state store at `path`; none when there
/// is no store yet (nothing was ever verified on this host).
async fn stored_checks(
    path: Option<std::path::PathBuf>,
    budget: Duration,
) -> Result<Vec<crate::backups::checks::CheckRecord>, String> {
    let Some(path) = path.filter(|p| p.exists()) else { return Ok(Vec::new()) };
    let read = async {
        let store = crate::store::Store::open(&path).await?;
        let records = crate::backups::checks::latest(&store).await;
        store.close().await;
        records
    };
    let took = humantime::format_duration(budget);
    tokio::time::timeout(budget, read)
        .await
        .map_err(|_| format!("{}: no answer within {took}", path.display()))?
}

/// How long the run may wait: the slowest configured source's timeout, and
/// at least two node samples (the first has no CPU figure yet), plus a second.
fn budget(c: &Config) -> Duration {
    let http = c.alertmanager.iter().chain(&c.prometheus).map(|s| s.timeout);
    let clusters = c.clusters.iter().map(|s| s.timeout);
    let backups = c.backups.iter().map(|s| s.timeout);
    let health = c.health.iter().map(|s| s.timeout);
    let slowest = http.chain(clusters).chain(backups).chain(health).max().unwrap_or_default();
    slowest.max(c.refresh * 2) + Duration::from_secs(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(status: Status) -> Line {
        Line { area: Area::Resources, status, subject: "x".into(), detail: String::new(), rule: None }
    }

    fn report(statuses: &[Status]) -> Report {
        Report {
            host: "h".into(),
            at: Timestamp::UNIX_EPOCH,
            took: Duration::ZERO,
            lines: statuses.iter().map(|s| line(*s)).collect(),
        }
    }

    #[test]
    fn exit_codes_follow_the_worst_line_with_critical_over_unknown_over_warning() {
        assert_eq!(report(&[]).exit_code(), 0);
        assert_eq!(report(&[Status::Ok, Status::Ok]).exit_code(), 0);
        assert_eq!(report(&[Status::Ok, Status::Warn]).exit_code(), 1);
        assert_eq!(report(&[Status::Warn, Status::Unknown]).exit_code(), 3);
        assert_eq!(report(&[Status::Unknown, Status::Crit, Status::Warn]).exit_code(), 2);
    }

    #[test]
    fn the_budget_is_the_slowest_timeout_or_two_refreshes() {
        let mut c = Config::default();
        assert_eq!(budget(&c), Duration::from_secs(3));
        let toml = "[[health]]\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\ntimeout = \"7s\"\n";
        c.health =
            crate::config::parse(toml, std::path::Path::new("t.toml")).map(|c| c.health).unwrap_or_default();
        assert_eq!(budget(&c), Duration::from_secs(8));
    }
}
