//! The Logs tab's state: the sources with their health and rates, the ring
//! buffer with its filter, and the view — following the end, or paused
//! (the view stays still while lines keep arriving and are counted), a
//! cursor, search, wrap and horizontal scroll.

use std::time::{Duration, Instant};

use regex::Regex;

use crate::alerts::rules::Sample;
use crate::logs::buffer::{Filter, LogBuffer, search_pattern};
use crate::logs::line::Level;
use crate::logs::rate::{RateCounts, counted_at};
use crate::model::history::History;
use crate::sources::logs::{LogBatch, LogState};

/// Rates are kept this long (in memory) for the sparklines.
const RATE_HISTORY: Duration = Duration::from_secs(300);

/// Errors are counted over this window for the badge and the rule.
const ERROR_WINDOW: Duration = Duration::from_secs(60);

/// One configured (or default) source.
#[derive(Debug, Clone)]
pub struct SourceState {
    /// Shown beside its lines.
    pub name: String,
    /// What it follows, for the header.
    pub what: String,
    /// The last problem it reported, `None` while it reads.
    pub error: Option<String>,
    /// The last note (rotated, truncated, appeared).
    pub note: Option<String>,
    /// Lines received so far.
    pub lines: u64,
    /// Its reader has reported once (its backlog read, or why it cannot be).
    pub answered: bool,
    /// Lines per second, one value per second (by each line's own time).
    pub rate: History,
    /// Errors (level error or worse) per second.
    pub errors: History,
    /// Lines and errors per second of their own time: what the rates and
    /// the `LogErrors` rule read (see `logs::rate`).
    pub counts: RateCounts,
}

impl SourceState {
    fn new(name: String, what: String) -> SourceState {
        let period = Duration::from_secs(1);
        SourceState {
            name,
            what,
            error: None,
            note: None,
            lines: 0,
            answered: false,
            rate: History::new(RATE_HISTORY, period),
            errors: History::new(RATE_HISTORY, period),
            counts: RateCounts::default(),
        }
    }

    /// Error lines of the last minute, by their own time.
    pub fn errors_last_minute(&self) -> u64 {
        self.counts.errors_recent(ERROR_WINDOW)
    }

    /// Error lines in the `window` ending at `now`, by their own time.
    pub fn errors_within(&self, window: Duration, now: jiff::Timestamp) -> u64 {
        self.counts.errors_within(window, now)
    }

    /// Redraw the sparklines from the counts: one point per second of the
    /// last `RATE_HISTORY`, up to the last whole second before `wall`, so a
    /// line that arrived late still lands in its own second.
    fn rebuild_histories(&mut self, now: Instant, wall: jiff::Timestamp) {
        let period = Duration::from_secs(1);
        let last = wall.as_second() - 1;
        let first = last - RATE_HISTORY.as_secs() as i64 + 1;
        let (mut rate, mut errors) = (History::new(RATE_HISTORY, period), History::new(RATE_HISTORY, period));
        for s in self.counts.dense(first, last) {
            let back = u64::try_from(wall.as_second() - s.at).unwrap_or(0);
            let Some(t) = now.checked_sub(Duration::from_secs(back)) else { continue };
            rate.push(t, s.lines as f64);
            errors.push(t, s.errors as f64);
        }
        (self.rate, self.errors) = (rate, errors);
    }
}

/// What the operator is typing at the bottom of the tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editing {
    /// The filter.
    Filter,
    /// The search.
    Search,
}

/// The tab.
#[derive(Debug)]
pub struct LogsPane {
    /// Every source, in config order.
    pub sources: Vec<SourceState>,
    /// The lines.
    pub buffer: LogBuffer,
    /// The newest shown line is at the bottom and stays there.
    pub follow: bool,
    /// While paused: the newest line when the pause began (the view ends there).
    pub paused_at: Option<u64>,
    /// The selected line (its sequence number), when not following.
    pub cursor: Option<u64>,
    /// Wrap long lines.
    pub wrap: bool,
    /// Columns scrolled right while not wrapping.
    pub hscroll: u16,
    /// The search, as typed and compiled.
    pub search: Option<(String, Regex)>,
    /// The line being typed and what for.
    pub editing: Option<(Editing, String)>,
    /// The selected line's details are open.
    pub detail: bool,
    /// A problem with what was typed (bad regex).
    pub input_error: Option<String>,
    /// Text to put on the clipboard (OSC 52) at the next draw.
    pub clipboard: Option<String>,
    last_second: Option<Instant>,
}

impl LogsPane {
    /// A pane for `sources` (name, what it follows) holding `capacity` lines.
    pub fn new(sources: Vec<(String, String)>, capacity: usize) -> LogsPane {
        let n = sources.len();
        LogsPane {
            sources: sources.into_iter().map(|(name, what)| SourceState::new(name, what)).collect(),
            buffer: LogBuffer::new(n, capacity),
            follow: true,
            paused_at: None,
            cursor: None,
            wrap: false,
            hscroll: 0,
            search: None,
            editing: None,
            detail: false,
            input_error: None,
            clipboard: None,
            last_second: None,
        }
    }

    /// A pane for the resolved sources keeping `capacity` lines.
    pub fn for_sources(sources: &[crate::config::sources::LogSource], capacity: usize) -> LogsPane {
        let described = sources
            .iter()
            .map(|s| {
                let what = match s.kind {
                    crate::config::sources::LogKind::File => s.path.clone(),
                    crate::config::sources::LogKind::Journald if s.units.is_empty() => "journal".to_owned(),
                    crate::config::sources::LogKind::Journald => format!("journal: {}", s.units.join(", ")),
                };
                (s.name.clone(), what)
            })
            .collect();
        LogsPane::new(described, capacity)
    }

    /// Fold in lines (already parsed on the reader's task) and state. Each
    /// line counts toward the rates at its own time (`logs::rate`).
    pub fn on_batch(&mut self, batch: LogBatch) {
        let Some(src) = self.sources.get_mut(usize::from(batch.source)) else { return };
        src.answered = true;
        match batch.state {
            Some(LogState::Error(e)) => src.error = Some(e),
            Some(LogState::Note(n)) => {
                src.error = None;
                src.note = Some(n);
            }
            Some(LogState::Reading) => src.error = None,
            None => {}
        }
        src.counts.advance(batch.read_at);
        for (line, continuation) in batch.lines {
            src.lines += 1;
            if let Some(at) = counted_at(line.time, batch.read_at, batch.backlog) {
                // A stack trace's lines belong to the record above, counted once.
                let error = !continuation && line.level.is_some_and(|l| l >= Level::Error);
                src.counts.add(at, error);
            }
            self.buffer.push(batch.source, line, continuation);
        }
    }

    /// Once a second: time moves on for the counts, and the sparklines are
    /// drawn again from them.
    pub fn tick(&mut self, now: Instant, wall: jiff::Timestamp) {
        if self.last_second.is_some_and(|t| now.saturating_duration_since(t) < Duration::from_millis(900)) {
            return;
        }
        self.last_second = Some(now);
        for s in &mut self.sources {
            s.counts.advance(wall);
            s.rebuild_histories(now, wall);
        }
    }

    /// Errors in the last minute across sources: the tab's badge.
    pub fn errors_last_minute(&self) -> u64 {
        self.sources.iter().map(SourceState::errors_last_minute).sum()
    }

    /// `log_errors_per_minute{source}` for the rule engine.
    pub fn samples(&self) -> Vec<Sample> {
        self.sources
            .iter()
            .map(|s| Sample {
                metric: "log_errors_per_minute".into(),
                labels: std::collections::BTreeMap::from([("source".to_owned(), s.name.clone())]),
                value: s.errors_last_minute() as f64,
            })
            .collect()
    }

    /// The shown position the view ends at: the newest line while
    /// following, the pause point while paused.
    pub fn end_position(&self) -> Option<usize> {
        let n = self.buffer.shown_len();
        if n == 0 {
            return None;
        }
        match self.paused_at {
            Some(seq) => self.buffer.shown_position(seq).or(Some(0)),
            None => Some(n - 1),
        }
    }

    /// Lines that arrived (and pass the filter) since the pause.
    pub fn new_since_pause(&self) -> usize {
        match (self.paused_at, self.end_position()) {
            (Some(_), Some(end)) => self.buffer.shown_len().saturating_sub(end + 1),
            _ => 0,
        }
    }

    /// The selected shown position (the cursor, else the end).
    pub fn cursor_position(&self) -> Option<usize> {
        match self.cursor {
            Some(seq) => self.buffer.shown_position(seq).or(Some(0)),
            None => self.end_position(),
        }
    }

    /// Pause (the view freezes where it is) or resume following the end.
    pub fn toggle_follow(&mut self) {
        if self.paused_at.is_some() {
            self.paused_at = None;
            self.cursor = None;
            self.follow = true;
        } else {
            self.pause();
        }
    }

    fn pause(&mut self) {
        if self.paused_at.is_none() {
            self.follow = false;
            self.paused_at = self.buffer.next_seq().checked_sub(1);
        }
    }

    /// Move the cursor; moving pauses following.
    pub fn move_by(&mut self, delta: isize) {
        let n = self.buffer.shown_len();
        if n == 0 {
            return;
        }
        let from = self.cursor_position().unwrap_or(n - 1);
        self.pause();
        let to = from.saturating_add_signed(delta).min(n - 1);
        self.cursor = self.buffer.shown(to).map(|e| e.seq);
        // Scrolling past the pause point reads the newer lines.
        if let (Some(c), Some(p)) = (self.cursor, self.paused_at)
            && c > p
        {
            self.paused_at = Some(c);
        }
    }

    /// Top, or the end (which resumes following).
    pub fn jump(&mut self, end: bool) {
        if end {
            self.paused_at = None;
            self.cursor = None;
            self.follow = true;
        } else {
            self.pause();
            self.cursor = self.buffer.shown(0).map(|e| e.seq);
        }
    }

    /// Show `source` alone (or all), lines containing `text` (or all), with
    /// the cursor on the first line stamped at or after `at` (the newest
    /// line when none is): where a jump from an alert lands. Following
    /// pauses there so new lines do not scroll it away.
    pub fn show_around(&mut self, source: Option<u16>, text: Option<&str>, at: Option<jiff::Timestamp>) {
        let mut f = text.map_or_else(Filter::default, Filter::containing);
        (f.min_level, f.source) = (self.buffer.filter().min_level, source);
        self.buffer.set_filter(f);
        self.input_error = None;
        let n = self.buffer.shown_len();
        let Some(at) = at.filter(|_| n > 0) else {
            self.jump(true);
            return;
        };
        let hit = (0..n).find(|&i| self.buffer.shown(i).and_then(|e| e.line.time).is_some_and(|t| t >= at));
        self.pause();
        self.cursor = self.buffer.shown(hit.unwrap_or(n - 1)).map(|e| e.seq);
        if let (Some(c), Some(p)) = (self.cursor, self.paused_at)
            && c > p
        {
            self.paused_at = Some(c);
        }
    }

    /// Apply the typed filter (or report why it is not one).
    pub fn set_filter(&mut self, typed: &str) {
        match Filter::parse(typed) {
            Ok(mut f) => {
                let old = self.buffer.filter();
                (f.min_level, f.source) = (old.min_level, old.source);
                self.buffer.set_filter(f);
                self.input_error = None;
            }
            Err(e) => self.input_error = Some(e),
        }
    }

    /// Apply the typed search and jump to the nearest match backwards.
    pub fn set_search(&mut self, typed: &str) {
        if typed.is_empty() {
            self.search = None;
            return;
        }
        match search_pattern(typed) {
            Ok(re) => {
                self.search = Some((typed.to_owned(), re));
                self.input_error = None;
                let from = self.cursor_position().map_or(0, |p| p + 1);
                self.find(from, false);
            }
            Err(e) => self.input_error = Some(e),
        }
    }

    /// Jump to the next (`forward`) or previous match from the cursor.
    pub fn search_step(&mut self, forward: bool) {
        if let Some(from) = self.cursor_position() {
            self.find(from, forward);
        }
    }

    fn find(&mut self, from: usize, forward: bool) {
        let Some((_, re)) = &self.search else { return };
        if let Some(hit) = self.buffer.find(re, from, forward) {
            self.pause();
            self.cursor = self.buffer.shown(hit).map(|e| e.seq);
            if let (Some(c), Some(p)) = (self.cursor, self.paused_at)
                && c > p
            {
                self.paused_at = Some(c);
            }
        }
    }

    /// Next source shown alone (after the last: all merged again).
    pub fn cycle_source(&mut self) {
        let mut f = self.buffer.filter().clone();
        f.source = match f.source {
            None if !self.sources.is_empty() => Some(0),
            Some(s) if usize::from(s) + 1 < self.sources.len() => Some(s + 1),
            _ => None,
        };
        self.buffer.set_filter(f);
    }

    /// Minimum level: all → warning → error → all.
    pub fn cycle_level(&mut self) {
        let mut f = self.buffer.filter().clone();
        f.min_level = match f.min_level {
            None => Some(Level::Warn),
            Some(Level::Warn) => Some(Level::Error),
            _ => None,
        };
        self.buffer.set_filter(f);
    }

    /// Queue the selected line for the clipboard.
    pub fn copy_selected(&mut self) -> Option<usize> {
        let pos = self.cursor_position()?;
        let text = self.buffer.shown(pos)?.line.text.to_string();
        let n = text.chars().count();
        self.clipboard = Some(text);
        Some(n)
    }
}

mod keys;
