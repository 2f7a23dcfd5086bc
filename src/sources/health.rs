//! Each source's health as the status bar shows it: fine, stale, or failing
//! with the age of the last good data.

use std::time::{Duration, Instant};

/// What the app knows about one source's recent polls.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceHealth {
    /// Expected time between polls; `None` for one-shot sources.
    pub period: Option<Duration>,
    /// When a poll last worked.
    pub last_ok: Option<Instant>,
    /// When a poll last failed, and why.
    pub last_error: Option<(Instant, String)>,
    /// When the current run of failures began (`None` while polls work).
    pub failing_since: Option<Instant>,
}

/// A source's state at one moment.
#[derive(Debug, Clone, PartialEq)]
pub enum HealthStatus<'a> {
    /// Nothing heard yet.
    Pending,
    /// The last poll worked and is recent.
    Ok,
    /// The last poll worked but long ago: the poller is slow or hung.
    Stale {
        /// Age of the last good data.
        age: Duration,
    },
    /// The last poll failed.
    Failing {
        /// Age of the last good data, if there ever was any.
        last_ok_age: Option<Duration>,
        /// Why.
        error: &'a str,
    },
}

impl SourceHealth {
    /// A source polled every `period`, or once when `None`.
    pub fn new(period: Option<Duration>) -> SourceHealth {
        SourceHealth { period, last_ok: None, last_error: None, failing_since: None }
    }

    /// Record one poll's outcome.
    pub fn record(&mut self, at: Instant, result: Result<(), &str>) {
        match result {
            Ok(()) => {
                self.last_ok = Some(at);
                self.failing_since = None;
            }
            Err(e) => {
                self.last_error = Some((at, e.to_owned()));
                self.failing_since.get_or_insert(at);
            }
        }
    }

    /// How long the source has been failing at `now`, if it is.
    pub fn failing_for(&self, now: Instant) -> Option<Duration> {
        self.failing_since.map(|t| now.saturating_duration_since(t))
    }

    /// The state at `now`. Stale means more than three periods without news.
    pub fn status(&self, now: Instant) -> HealthStatus<'_> {
        let failing = match (&self.last_error, self.last_ok) {
            (Some((err_at, _)), Some(ok_at)) => *err_at > ok_at,
            (Some(_), None) => true,
            _ => false,
        };
        if failing {
            let error = self.last_error.as_ref().map_or("", |(_, e)| e.as_str());
            let last_ok_age = self.last_ok.map(|t| now.saturating_duration_since(t));
            return HealthStatus::Failing { last_ok_age, error };
        }
        match (self.last_ok, self.period) {
            (None, _) => HealthStatus::Pending,
            (Some(t), Some(p)) if now.saturating_duration_since(t) > p * 3 => {
                HealthStatus::Stale { age: now.saturating_duration_since(t) }
            }
            _ => HealthStatus::Ok,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut h = SourceHealth::new(Some(s));
        assert_eq!(h.status(t0), HealthStatus::Pending);
        h.record(t0, Err("connection refused"));
        assert_eq!(h.status(t0), HealthStatus::Failing { last_ok_age: None, error: "connection refused" });
        h.record(t0 + s, Ok(()));
        assert_eq!(h.status(t0 + s * 2), HealthStatus::Ok);
        assert_eq!(h.status(t0 + s * 5), HealthStatus::Stale { age: s * 4 });
        assert_eq!(h.failing_for(t0 + s * 2), None);
        h.record(t0 + s * 6, Err("timeout"));
        h.record(t0 + s * 8, Err("timeout"));
        assert_eq!(
            h.status(t0 + s * 9),
            HealthStatus::Failing { last_ok_age: Some(s * 8), error: "timeout" }
        );
        assert_eq!(h.failing_for(t0 + s * 9), Some(s * 3), "from the first failure in a row");
        let mut once = SourceHealth::new(None);
        once.record(t0, Ok(()));
        assert_eq!(once.status(t0 + s * 3600), HealthStatus::Ok);
    }
}
