//! Line and error rates by each line's own time, not by when it was read.
//!
//! At start a follower reads the last lines of every file: hours of history
//! arriving in one burst. Counted on arrival they were "475 errors a minute"
//! and a `LogErrors` alert on every start. So a line counts at its own
//! parsed time; a line without one counts when it was read, but only if it
//! was written after start (a backlog line without a time cannot be placed,
//! and counts nowhere). The Logs tab's rates and `opsdeck check`'s window
//! both read these counts.

use std::collections::VecDeque;
use std::time::Duration;

use jiff::Timestamp;

/// How far back counts are kept: the longest window read from them
/// (`opsdeck check`'s 15 minutes).
pub const KEPT: Duration = Duration::from_secs(15 * 60);

const KEPT_SECONDS: i64 = KEPT.as_secs() as i64;

/// When a line counts: its parsed `time`, but no later than `read_at` (a
/// writer's clock ahead of ours must not park errors in the future, where
/// no window would see them yet); without a time, `read_at`, unless the
/// line is part of the `backlog` read at start.
pub fn counted_at(time: Option<Timestamp>, read_at: Timestamp, backlog: bool) -> Option<Timestamp> {
    match time {
        Some(t) => Some(t.min(read_at)),
        None if backlog => None,
        None => Some(read_at),
    }
}

/// One second's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Second {
    /// Seconds since the Unix epoch.
    pub at: i64,
    /// Lines in it.
    pub lines: u64,
    /// Error lines (level error or worse, not counting a record's continuation lines).
    pub errors: u64,
}

/// Lines and error lines per wall-clock second over the last [`KEPT`].
/// Sparse: only seconds that had lines are held (at most 900).
#[derive(Debug, Clone, Default)]
pub struct RateCounts {
    /// Ascending by second.
    seconds: VecDeque<Second>,
    /// The newest wall time seen, in seconds: what "now" is.
    now: Option<i64>,
}

impl RateCounts {
    /// Time has reached `now`: forget what fell out of [`KEPT`].
    pub fn advance(&mut self, now: Timestamp) {
        let now = self.now.map_or(now.as_second(), |n| n.max(now.as_second()));
        self.now = Some(now);
        while self.seconds.front().is_some_and(|s| s.at <= now - KEPT_SECONDS) {
            self.seconds.pop_front();
        }
    }

    /// Count one line at `at`. Lines older than [`KEPT`] count nothing.
    pub fn add(&mut self, at: Timestamp, error: bool) {
        let at = at.as_second();
        if self.now.is_some_and(|now| at <= now - KEPT_SECONDS) {
            return;
        }
        let errors = u64::from(error);
        // Lines mostly come in time order: the search from the back is short.
        match self.seconds.iter().rposition(|s| s.at <= at) {
            Some(i) if self.seconds[i].at == at => {
                self.seconds[i].lines += 1;
                self.seconds[i].errors += errors;
            }
            found => {
                let i = found.map_or(0, |i| i + 1);
                self.seconds.insert(i, Second { at, lines: 1, errors });
            }
        }
    }

    /// Error lines in the `window` that ends at `now` (its second included).
    pub fn errors_within(&self, window: Duration, now: Timestamp) -> u64 {
        let now = now.as_second();
        let from = now.saturating_sub(i64::try_from(window.as_secs()).unwrap_or(i64::MAX));
        self.seconds.iter().filter(|s| s.at > from && s.at <= now).map(|s| s.errors).sum()
    }

    /// Error lines in the `window` ending at the newest time seen.
    pub fn errors_recent(&self, window: Duration) -> u64 {
        match self.now.and_then(|n| Timestamp::from_second(n).ok()) {
            Some(now) => self.errors_within(window, now),
            None => 0,
        }
    }

    /// Every second from `from` to `to` (both included), oldest first, with
    /// zeros where nothing was counted: what the sparklines draw.
    pub fn dense(&self, from: i64, to: i64) -> Vec<Second> {
        let mut held = self.seconds.iter().filter(|s| s.at >= from).peekable();
        let mut out = Vec::with_capacity(usize::try_from(to.saturating_sub(from) + 1).unwrap_or(0));
        for at in from..=to {
            while held.peek().is_some_and(|s| s.at < at) {
                held.next();
            }
            match held.peek() {
                Some(s) if s.at == at => out.push(**s),
                _ => out.push(Second { at, ..Second::default() }),
            }
        }
        out
    }

    /// The newest wall time seen, in seconds since the epoch.
    pub fn now(&self) -> Option<i64> {
        self.now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn a_line_counts_at_its_own_time_a_timeless_one_only_after_start() {
        let read = at(100);
        assert_eq!(counted_at(Some(at(10)), read, true), Some(at(10)));
        assert_eq!(counted_at(Some(at(10)), read, false), Some(at(10)));
        assert_eq!(counted_at(Some(at(500)), read, false), Some(read), "a clock ahead counts as now");
        assert_eq!(counted_at(None, read, false), Some(read));
        assert_eq!(counted_at(None, read, true), None, "a timeless backlog line counts nowhere");
    }

    #[test]
    fn old_lines_count_nothing_and_windows_count_by_second() {
        let mut c = RateCounts::default();
        c.advance(at(2_000));
        c.add(at(0), true); // long before the kept window
        c.add(at(1_990), true);
        c.add(at(1_950), true);
        c.add(at(1_990), false);
        c.add(at(1_999), true);
        assert_eq!(c.errors_within(Duration::from_secs(60), at(2_000)), 3);
        assert_eq!(c.errors_within(Duration::from_secs(10), at(2_000)), 1);
        assert_eq!(c.errors_recent(Duration::from_secs(60)), 3);
        let second = |s: i64| at(s).as_second();
        let dense = c.dense(second(1_989), second(1_991));
        assert_eq!(
            dense.iter().map(|s| (s.at - second(0), s.lines, s.errors)).collect::<Vec<_>>(),
            [(1_989, 0, 0), (1_990, 2, 1), (1_991, 0, 0)]
        );
        // Time moves on: the kept window drops what fell out of it.
        c.advance(at(1_950 + KEPT_SECONDS));
        assert_eq!(c.errors_within(KEPT, at(1_950 + KEPT_SECONDS)), 2);
    }
}
