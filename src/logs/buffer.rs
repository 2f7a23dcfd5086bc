//! The lines the Logs tab holds: one ring buffer for all sources (arrival
//! order is the merged view), bounded in lines, counting what it drops per
//! source; and the filter that picks what is shown, kept as a list of
//! matching sequence numbers so a new line costs one match, not a rescan.

use std::collections::VecDeque;

use regex::Regex;

use super::line::{Level, Parsed};

/// Lines kept by default across all sources.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// One line as the tab holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Arrival number, unique and increasing across all sources.
    pub seq: u64,
    /// Index of its source in the tab's source list.
    pub source: u16,
    /// The line, made safe and understood.
    pub line: Parsed,
    /// The level of the record it belongs to (a stack trace line takes the
    /// level of the line that started it).
    pub level: Option<Level>,
    /// Continues the previous line of its source (a stack trace line).
    pub continuation: bool,
}

/// What the view shows, as the operator typed it.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Substring (case-insensitive) or, with `regex`, a pattern.
    pattern: Option<Regex>,
    /// The text as typed, for the status line.
    pub text: String,
    /// Show the lines that do NOT match the pattern.
    pub invert: bool,
    /// At least this level (lines without a level are hidden while set).
    pub min_level: Option<Level>,
    /// Only this source.
    pub source: Option<u16>,
    /// A JSON field that must equal a value (`service_name=api`).
    pub field: Option<(String, String)>,
}

impl Filter {
    /// Parse what was typed: `field=value` for a JSON field matcher, `!text`
    /// to invert, `/regex/` for a regular expression, else a substring.
    pub fn parse(typed: &str) -> Result<Filter, String> {
        let mut f = Filter { text: typed.to_owned(), ..Filter::default() };
        let mut rest = typed.trim();
        if let Some(r) = rest.strip_prefix('!') {
            f.invert = true;
            rest = r.trim_start();
        }
        if rest.is_empty() {
            return Ok(f);
        }
        if let Some(body) = rest.strip_prefix('/').and_then(|r| r.strip_suffix('/')).filter(|b| !b.is_empty())
        {
            f.pattern = Some(Regex::new(body).map_err(|e| format!("bad regex: {e}"))?);
            return Ok(f);
        }
        if let Some((k, v)) = rest.split_once('=')
            && !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        {
            f.field = Some((k.to_owned(), v.to_owned()));
            return Ok(f);
        }
        f.pattern = Some(substring(rest)?);
        Ok(f)
    }

    /// Lines containing `text` (any case), taken literally: no `!`, `/…/`
    /// or `field=value` meaning.
    pub fn containing(text: &str) -> Filter {
        Filter { pattern: substring(text).ok(), text: text.to_owned(), ..Filter::default() }
    }

    /// Whether any part of the filter is set.
    pub fn is_active(&self) -> bool {
        self.pattern.is_some() || self.min_level.is_some() || self.source.is_some() || self.field.is_some()
    }

    /// Whether `e` is shown.
    pub fn matches(&self, e: &Entry) -> bool {
        if self.source.is_some_and(|s| s != e.source) {
            return false;
        }
        if let Some(min) = self.min_level
            && e.level.is_none_or(|l| l < min)
        {
            return false;
        }
        let hit = match (&self.pattern, &self.field) {
            (Some(re), _) => re.is_match(&e.line.text),
            (None, Some((k, v))) => e.line.fields().iter().any(|(fk, fv)| fk == k && fv == v),
            (None, None) => return true,
        };
        hit != self.invert
    }
}

/// A case-insensitive substring as a regex (the regex crate's literal
/// search is faster than lowercasing every line).
fn substring(text: &str) -> Result<Regex, String> {
    Regex::new(&format!("(?i){}", regex::escape(text))).map_err(|e| e.to_string())
}

/// The ring buffer and the filtered view over it.
#[derive(Debug)]
pub struct LogBuffer {
    entries: VecDeque<Entry>,
    capacity: usize,
    next_seq: u64,
    /// Lines dropped from the front, per source.
    dropped: Vec<u64>,
    /// The level of each source's current record, for its continuation lines.
    record_level: Vec<Option<Level>>,
    filter: Filter,
    /// Sequence numbers of the entries the filter shows, oldest first.
    shown: VecDeque<u64>,
}

impl LogBuffer {
    /// An empty buffer for `sources` sources holding at most `capacity` lines.
    pub fn new(sources: usize, capacity: usize) -> LogBuffer {
        LogBuffer {
            // The whole ring at once: growing by doubling would copy it and
            // hold old and new together (a third more than the target RSS at
            // 100,000 lines), and pages not yet written cost no memory.
            entries: VecDeque::with_capacity(capacity.max(1)),
            capacity: capacity.max(1),
            next_seq: 0,
            dropped: vec![0; sources],
            record_level: vec![None; sources],
            filter: Filter::default(),
            shown: VecDeque::new(),
        }
    }

    /// Append a line of `source`; the oldest line goes when the buffer is full.
    pub fn push(&mut self, source: u16, line: Parsed, continuation: bool) -> u64 {
        let s = usize::from(source);
        if s >= self.dropped.len() {
            self.dropped.resize(s + 1, 0);
            self.record_level.resize(s + 1, None);
        }
        let level = if continuation { line.level.or(self.record_level[s]) } else { line.level };
        if !continuation {
            self.record_level[s] = line.level;
        }
        if self.entries.len() == self.capacity
            && let Some(old) = self.entries.pop_front()
        {
            self.dropped[usize::from(old.source)] += 1;
            if self.shown.front() == Some(&old.seq) {
                self.shown.pop_front();
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let entry = Entry { seq, source, line, level, continuation };
        if self.filter.matches(&entry) {
            self.shown.push_back(seq);
        }
        self.entries.push_back(entry);
        seq
    }

    /// Replace the filter and recompute what is shown.
    pub fn set_filter(&mut self, filter: Filter) {
        self.filter = filter;
        self.shown = self.entries.iter().filter(|e| self.filter.matches(e)).map(|e| e.seq).collect();
    }

    /// The filter in effect.
    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// Lines held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every line held, oldest first, whatever the filter.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Lines the filter shows.
    pub fn shown_len(&self) -> usize {
        self.shown.len()
    }

    /// The `i`-th shown line, oldest first.
    pub fn shown(&self, i: usize) -> Option<&Entry> {
        self.get(*self.shown.get(i)?)
    }

    /// The entry with sequence number `seq`, if still held.
    pub fn get(&self, seq: u64) -> Option<&Entry> {
        let front = self.entries.front()?.seq;
        self.entries.get(usize::try_from(seq.checked_sub(front)?).ok()?)
    }

    /// Position among the shown lines of the last one at or before `seq`.
    pub fn shown_position(&self, seq: u64) -> Option<usize> {
        match self.shown.binary_search(&seq) {
            Ok(i) => Some(i),
            Err(0) => None,
            Err(i) => Some(i - 1),
        }
    }

    /// Lines of `source` dropped from the front so far.
    pub fn dropped(&self, source: u16) -> u64 {
        self.dropped.get(usize::from(source)).copied().unwrap_or(0)
    }

    /// Lines dropped in all.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }

    /// The next sequence number (how many lines ever arrived).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Shown positions whose text matches `search`, after (or before) `from`.
    pub fn find(&self, search: &Regex, from: usize, forward: bool) -> Option<usize> {
        let hit = |i: &usize| self.shown(*i).is_some_and(|e| search.is_match(&e.line.text));
        let n = self.shown.len();
        if forward { (from + 1..n).find(hit) } else { (0..from.min(n)).rev().find(hit) }
    }
}

/// A search pattern: case-insensitive substring unless written `/regex/`.
pub fn search_pattern(typed: &str) -> Result<Regex, String> {
    match typed.strip_prefix('/').and_then(|r| r.strip_suffix('/')).filter(|b| !b.is_empty()) {
        Some(body) => Regex::new(body).map_err(|e| format!("bad regex: {e}")),
        None => substring(typed),
    }
}

#[cfg(test)]
mod tests;
