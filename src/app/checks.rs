//! The Metrics tab's health checks: each `[[health]]` check's latest probe,
//! a short latency history for its sparkline, and the samples its built-in
//! rules (`HealthCheckDown`, `HealthCheckSlow`) read.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::alerts::rules::Sample;
use crate::config::health_checks::HealthCheck;
use crate::sources::health_checks::{HealthReport, Outcome, Verdict, source_name};

/// Probes kept per check for the sparkline: at the default 15 s interval,
/// the last 10 minutes.
pub const HISTORY: usize = 40;

/// One check as the tab shows it.
#[derive(Debug, Clone)]
pub struct CheckState {
    /// The configured name.
    pub name: String,
    /// The URL probed, for the alert labels and the pane.
    pub url: String,
    /// The name its updates carry.
    pub source: String,
    /// Expected time between probes.
    pub interval: Duration,
    /// The latest probe and when it arrived.
    pub last: Option<(Instant, Outcome)>,
    /// When a probe last found it healthy (up or slow).
    pub last_healthy: Option<Instant>,
    /// The check could not run at all (a secret or CA file unreadable); cleared by the next probe.
    pub error: Option<(Instant, String)>,
    /// Latency of the last probes in seconds, oldest first; `None` for a failed probe.
    pub latencies: VecDeque<Option<f64>>,
}

impl CheckState {
    /// The latest verdict, if a probe came back.
    pub fn verdict(&self) -> Option<&Verdict> {
        self.last.as_ref().map(|(_, o)| &o.verdict)
    }

    /// The latest probe is older than three intervals: the poller is stuck.
    pub fn is_stale(&self, now: Instant) -> bool {
        self.last.as_ref().is_some_and(|(at, _)| now.saturating_duration_since(*at) > self.interval * 3)
    }
}

/// Every configured check, in config order.
#[derive(Debug, Clone, Default)]
pub struct ChecksPane {
    /// One per `[[health]]` entry.
    pub checks: Vec<CheckState>,
}

impl ChecksPane {
    /// The pane for `checks`, in config order.
    pub fn new(checks: &[HealthCheck]) -> ChecksPane {
        let checks = checks
            .iter()
            .map(|c| CheckState {
                name: c.name.clone(),
                url: c.url.clone(),
                source: source_name(&c.name),
                interval: c.interval,
                last: None,
                last_healthy: None,
                error: None,
                latencies: VecDeque::with_capacity(HISTORY),
            })
            .collect();
        ChecksPane { checks }
    }

    /// A probe came back.
    pub fn on_report(&mut self, report: HealthReport, now: Instant) {
        let Some(check) = self.checks.iter_mut().find(|c| c.name == report.name) else { return };
        let healthy = !matches!(report.outcome.verdict, Verdict::Down(_));
        if healthy {
            check.last_healthy = Some(now);
        }
        if check.latencies.len() == HISTORY {
            check.latencies.pop_front();
        }
        check.latencies.push_back(healthy.then_some(report.outcome.latency.as_secs_f64()));
        check.error = None;
        check.last = Some((now, report.outcome));
    }

    /// A check's poller could not probe (its update failed).
    pub fn on_error(&mut self, source: &str, error: &str, now: Instant) {
        if let Some(check) = self.checks.iter_mut().find(|c| c.source == source) {
            check.error = Some((now, error.to_owned()));
        }
    }

    /// Checks that are down now (a failed probe, not a check that cannot run).
    pub fn down(&self) -> usize {
        self.checks.iter().filter(|c| matches!(c.verdict(), Some(Verdict::Down(_)))).count()
    }

    /// `health_check_down` and `health_check_slow` (1 or 0) per probed
    /// check, labelled `check` and `url`. A check not yet probed, or one
    /// that cannot run, has no sample: that is the status bar's news, and an
    /// unreadable secret is not an outage of the service.
    pub fn samples(&self) -> Vec<Sample> {
        let mut out = Vec::with_capacity(self.checks.len() * 2);
        for check in &self.checks {
            let Some(verdict) = check.verdict() else { continue };
            let labels = BTreeMap::from([
                ("check".to_owned(), check.name.clone()),
                ("url".to_owned(), check.url.clone()),
            ]);
            let flag = |b: bool| if b { 1.0 } else { 0.0 };
            out.push(Sample {
                metric: "health_check_down".into(),
                labels: labels.clone(),
                value: flag(matches!(verdict, Verdict::Down(_))),
            });
            out.push(Sample {
                metric: "health_check_slow".into(),
                labels,
                value: flag(matches!(verdict, Verdict::Slow)),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn check(name: &str) -> HealthCheck {
        #[derive(serde::Deserialize)]
        struct File {
            health: Vec<HealthCheck>,
        }
        let toml = format!("[[health]]\nname = \"{name}\"\nurl = \"http://127.0.0.1:1/health\"\n");
        let file: File = toml::from_str(&toml).expect("a valid check");
        file.health.into_iter().next().expect("one check")
    }

    fn report(name: &str, verdict: Verdict, ms: u64) -> HealthReport {
        let outcome =
            Outcome { at: SystemTime::now(), latency: Duration::from_millis(ms), status: Some(200), verdict };
        HealthReport { name: name.into(), outcome }
    }

    fn value(samples: &[Sample], metric: &str) -> Option<f64> {
        samples.iter().find(|s| s.metric == metric).map(|s| s.value)
    }

    #[test]
    fn probes_become_samples_history_and_counts() {
        let t0 = Instant::now();
        let mut pane = ChecksPane::new(&[check("api"), check("db")]);
        assert!(pane.samples().is_empty(), "no probe yet, no sample");

        pane.on_report(report("api", Verdict::Up, 40), t0);
        pane.on_report(report("db", Verdict::Down("503 Service Unavailable (expected 2xx)".into()), 5), t0);
        let samples = pane.samples();
        assert_eq!(samples.len(), 4);
        let api: Vec<_> = samples.iter().filter(|s| s.labels["check"] == "api").collect();
        assert_eq!(api.iter().map(|s| s.value).sum::<f64>(), 0.0);
        assert_eq!(api[0].labels["url"], "http://127.0.0.1:1/health");
        let db: Vec<_> = samples.iter().filter(|s| s.labels["check"] == "db").cloned().collect();
        assert_eq!(value(&db, "health_check_down"), Some(1.0));
        assert_eq!(pane.down(), 1);

        pane.on_report(report("api", Verdict::Slow, 700), t0);
        assert_eq!(value(&pane.samples(), "health_check_slow"), Some(1.0));
        assert_eq!(pane.checks[0].latencies, [Some(0.04), Some(0.7)]);
        assert_eq!(pane.checks[1].latencies, [None], "a failed probe has no latency point");
        assert_eq!(pane.checks[1].last_healthy, None);
    }

    #[test]
    fn history_is_bounded_errors_clear_and_staleness_shows() {
        let t0 = Instant::now();
        let mut pane = ChecksPane::new(&[check("api")]);
        for i in 0..(HISTORY as u64 + 5) {
            pane.on_report(report("api", Verdict::Up, i), t0);
        }
        assert_eq!(pane.checks[0].latencies.len(), HISTORY);
        assert_eq!(pane.checks[0].latencies.back(), Some(&Some((HISTORY as f64 + 4.0) / 1000.0)));

        pane.on_error("health api", "password: command failed", t0);
        pane.on_error("health other", "not ours", t0);
        assert!(pane.checks[0].error.as_ref().is_some_and(|(_, e)| e.contains("password")));
        pane.on_report(report("api", Verdict::Up, 1), t0);
        assert!(pane.checks[0].error.is_none(), "a probe that ran clears the error");

        let interval = pane.checks[0].interval;
        assert!(!pane.checks[0].is_stale(t0 + interval * 3));
        assert!(pane.checks[0].is_stale(t0 + interval * 3 + Duration::from_secs(1)));
    }
}
