//! A bounded, time-windowed series for the history charts.
//!
//! Charts are drawn from fixed time buckets aligned to an epoch, so between
//! bucket boundaries only the newest column changes: the screen diff stays
//! small (few bytes to the terminal over SSH) and the chart does not shimmer.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Samples of one value over the last `window`.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    window: Duration,
    period: Duration,
    cap: usize,
    points: VecDeque<(Instant, f64)>,
}

impl History {
    /// A series keeping `window` of samples taken every `period`.
    pub fn new(window: Duration, period: Duration) -> History {
        let period = period.max(Duration::from_millis(1));
        // +2: the window's both ends. The cap holds even if samples come faster.
        let cap = (window.as_nanos() / period.as_nanos()) as usize + 2;
        History { window, period, cap, points: VecDeque::with_capacity(cap) }
    }

    /// Add a sample and forget what fell out of the window.
    pub fn push(&mut self, at: Instant, value: f64) {
        self.points.push_back((at, value));
        while let Some(&(t, _)) = self.points.front() {
            if at.saturating_duration_since(t) > self.window || self.points.len() > self.cap {
                self.points.pop_front();
            } else {
                break;
            }
        }
    }

    /// The newest value.
    pub fn latest(&self) -> Option<f64> {
        self.points.back().map(|&(_, v)| v)
    }

    /// The largest value in the window.
    pub fn max(&self) -> Option<f64> {
        self.points.iter().map(|&(_, v)| v).reduce(f64::max)
    }

    /// How far back it keeps.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The samples held, oldest first.
    pub fn points(&self) -> impl Iterator<Item = (Instant, f64)> + '_ {
        self.points.iter().copied()
    }

    /// Number of samples held.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when nothing has been recorded yet.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// `width` columns ending at `now`, oldest first: each the maximum of the
    /// samples in its bucket (a spike must not vanish by averaging), `None`
    /// where there are none.
    pub fn columns(&self, width: usize, epoch: Instant, now: Instant) -> Vec<Option<f64>> {
        let mut cols = vec![None; width];
        if width == 0 {
            return cols;
        }
        let bucket = (self.window / width as u32).max(self.period).as_nanos().max(1);
        let index = |t: Instant| t.saturating_duration_since(epoch).as_nanos() / bucket;
        let last = index(now);
        for &(t, v) in &self.points {
            let b = index(t);
            // Column width-1 is the newest bucket; older ones go leftwards.
            let Some(back) = last.checked_sub(b).filter(|back| *back < width as u128) else {
                continue;
            };
            let col = &mut cols[width - 1 - back as usize];
            *col = Some(col.map_or(v, |c: f64| c.max(v)));
        }
        cols
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn keeps_only_the_window() {
        let t0 = Instant::now();
        let mut h = History::new(Duration::from_secs(10), S);
        for i in 0..100u32 {
            h.push(t0 + S * i, f64::from(i));
        }
        assert!(h.len() <= 12, "{}", h.len());
        assert_eq!(h.latest(), Some(99.0));
        assert_eq!(h.max(), Some(99.0));
    }

    #[test]
    fn cap_holds_when_samples_come_faster_than_the_period() {
        let t0 = Instant::now();
        let mut h = History::new(Duration::from_secs(10), S);
        for i in 0..1000u32 {
            h.push(t0 + Duration::from_millis(u64::from(i)), 1.0);
        }
        assert_eq!(h.len(), 12);
    }

    #[test]
    fn columns_take_the_bucket_maximum_and_align_to_the_epoch() {
        let epoch = Instant::now();
        // 20 s window over 10 columns: 2 s buckets.
        let mut h = History::new(Duration::from_secs(20), S);
        for (i, v) in [1.0, 5.0, 2.0, 3.0].into_iter().enumerate() {
            h.push(epoch + S * i as u32, v);
        }
        let now = epoch + S * 3;
        let cols = h.columns(10, epoch, now);
        assert_eq!(cols.len(), 10);
        assert_eq!(&cols[8..], &[Some(5.0), Some(3.0)]);
        assert!(cols[..8].iter().all(Option::is_none));
        // Half a bucket later nothing shifts.
        let later = h.columns(10, epoch, now + Duration::from_millis(500));
        assert_eq!(cols, later);
    }

    #[test]
    fn zero_width_is_empty() {
        let h = History::new(Duration::from_secs(20), S);
        assert!(h.columns(0, Instant::now(), Instant::now()).is_empty());
    }
}
