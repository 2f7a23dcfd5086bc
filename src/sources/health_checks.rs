//! Polls `[[health]]` checks: one task per check probes its URL every
//! `interval` and sends each outcome (up, slow or down with the reason) to
//! the app. A target that is down is news, not a poller failure: only a check
//! that cannot run at all (its secret or CA file unreadable) reports an error.

mod probe;
mod verdict;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use probe::{Outcome, Prober};
pub use verdict::{MAX_BODY, Verdict};

use crate::config::health_checks::HealthCheck;
use crate::sources::{BeatPoll, Payload, Update, leak_name, spawn_on_beat};

/// One probe of one check, as sent to the app.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    /// The check's configured name.
    pub name: String,
    /// What the probe found.
    pub outcome: Outcome,
}

/// Probe `check` every `interval`, the first at once, until `cancel` fires or
/// the app hangs up. Updates carry the source name `health <name>`, which is
/// returned. Probes start on a fixed beat (a slow probe delays only the next
/// one) so the latency sparkline's points are evenly spaced; there is no
/// backoff, since a target's health endpoint is meant to be polled and a
/// recovery should show within one interval.
pub fn spawn(check: HealthCheck, tx: mpsc::Sender<Update>, cancel: CancellationToken) -> &'static str {
    let source = leak_name(&source_name(&check.name));
    let interval = check.interval;
    spawn_on_beat(source, interval, HealthPoller { check, prober: None }, tx, cancel);
    source
}

/// A check and its prober, built on the first probe.
struct HealthPoller {
    check: HealthCheck,
    prober: Option<Prober>,
}

impl BeatPoll for HealthPoller {
    async fn poll(&mut self) -> Result<Payload, String> {
        probe_once(&self.check, &mut self.prober).await
    }
}

/// The name the updates of check `name` carry.
pub fn source_name(name: &str) -> String {
    format!("health {name}")
}

/// Build the prober if needed, probe, and drop the prober after the
/// credentials were refused so a rotated secret is read again next time.
async fn probe_once(check: &HealthCheck, prober: &mut Option<Prober>) -> Result<Payload, String> {
    let p = match prober {
        Some(p) => p,
        None => prober.insert(Prober::new(check).await.map_err(|e| format!("{}: {e}", check.name))?),
    };
    let outcome = p.probe().await;
    let has_credentials = check.password.is_some() || check.bearer_token.is_some();
    if has_credentials && matches!(outcome.status, Some(401 | 403)) {
        *prober = None;
    }
    Ok(Payload::HealthCheck(HealthReport { name: check.name.clone(), outcome }))
}
