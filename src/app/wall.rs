//! `opsdeck --wall`, for the war-room screen nobody touches: a summary in
//! large type, then each tab in turn every `[wall] cycle`, and back to the
//! summary at once when a new critical alert fires.

use std::time::{Duration, Instant};

use crate::ui::Tab;

/// What the wall shows and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WallMode {
    /// Time on each screen.
    pub cycle: Duration,
    /// The summary is up (else the current tab is).
    pub summary: bool,
    /// When the current screen came up.
    pub since: Instant,
    /// The last critical flash seen, so each new one returns to the summary once.
    seen_flash: Option<Instant>,
}

impl WallMode {
    /// Start on the summary.
    pub fn new(cycle: Duration, now: Instant) -> WallMode {
        WallMode { cycle, summary: true, since: now, seen_flash: None }
    }

    /// Once a second: a new critical alert (`flash`, the Alerts tab's flash
    /// start) brings the summary back; otherwise move on when the cycle is
    /// up. `shown` says which tabs have something configured to show.
    pub fn tick(&mut self, now: Instant, flash: Option<Instant>, tab: &mut Tab, shown: impl Fn(Tab) -> bool) {
        if flash.is_some() && flash != self.seen_flash {
            self.seen_flash = flash;
            self.summary = true;
            self.since = now;
            return;
        }
        if now.saturating_duration_since(self.since) < self.cycle {
            return;
        }
        self.since = now;
        let order = [Tab::Metrics, Tab::Alerts, Tab::Replication, Tab::Backups, Tab::Logs];
        let start = if self.summary { 0 } else { order.iter().position(|t| t == tab).map_or(0, |i| i + 1) };
        match order.iter().skip(start).find(|t| shown(**t)) {
            Some(next) => {
                *tab = *next;
                self.summary = false;
            }
            None => self.summary = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_through_shown_tabs_and_returns_on_a_new_critical() {
        let t0 = Instant::now();
        let cycle = Duration::from_secs(10);
        let mut w = WallMode::new(cycle, t0);
        let mut tab = Tab::Metrics;
        let shown = |t: Tab| t != Tab::Replication; // no clusters configured
        let mut seen = Vec::new();
        for i in 1..=6 {
            w.tick(t0 + cycle * i, None, &mut tab, shown);
            seen.push(if w.summary { None } else { Some(tab) });
        }
        assert_eq!(
            seen,
            [
                Some(Tab::Metrics),
                Some(Tab::Alerts),
                Some(Tab::Backups),
                Some(Tab::Logs),
                None,
                Some(Tab::Metrics)
            ]
        );

        // Mid-cycle, a new critical flash: straight back to the summary, once.
        let flash = Some(t0 + cycle * 6 + Duration::from_secs(2));
        w.tick(t0 + cycle * 6 + Duration::from_secs(3), flash, &mut tab, shown);
        assert!(w.summary);
        w.tick(t0 + cycle * 6 + Duration::from_secs(4), flash, &mut tab, shown);
        assert!(w.summary, "the same flash does not move it, nor does the cycle before it is up");
        w.tick(t0 + cycle * 7 + Duration::from_secs(3), flash, &mut tab, shown);
        assert_eq!((w.summary, tab), (false, Tab::Metrics));
    }
}
