//! The Alerts tab's single source of truth: every source's latest list,
//! deduplicated by fingerprint into one sorted, grouped queue.
//!
//! Merge rules when sources disagree about one fingerprint (sources in the
//! order they first reported):
//! - state: silenced (then inhibited) from any Alertmanager wins over
//!   firing, firing wins over pending; an ack then turns firing or pending
//!   into acked (silenced and inhibited stay);
//! - `starts_at`: the earliest any source gives;
//! - annotations, `generator_url`, `value`, `ends_at`: from the first source
//!   that has them; `silenced_by`, `inhibited_by`: the union;
//! - `seen_by`: every source; `source`, labels and severity: the first.
//!
//! Built for 10,000 alerts polled every second: a source that re-sends an
//! unchanged alert costs a comparison, not a copy (alerts are shared
//! through `Arc`, and only changed fingerprints are merged again);
//! fingerprints are keyed as the 64-bit hashes they are, not as strings; and
//! each row caches its sort key and group, so re-sorting and regrouping after
//! a change never walks 10,000 alerts' labels (a cache miss each).

mod merge;
mod view;

use std::sync::Arc;

use jiff::Timestamp;

use super::model::{Alert, AlertState, Severity, fingerprint};
use super::severity::SeverityMap;
use crate::config::alerts::AlertsConfig;
use merge::{FpMap, key};
pub use view::{Row, SeverityCounts, View};

/// An operator's acknowledgement of one alert (kept in the state store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// The acked alert.
    pub fingerprint: String,
    /// Who acked it.
    pub who: String,
    /// When.
    pub at: Timestamp,
    /// Why, or what is being done (may be empty).
    pub comment: String,
}

/// One change of an alert's merged state, for the timeline. Shares the
/// alert rather than copying its labels: a first poll of 10,000 alerts makes
/// 10,000 transitions, and copying their label sets was a third of its cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The alert as merged after the change; for `Resolved`, as last reported.
    pub alert: Arc<Alert>,
    /// The state before; `None` when it just appeared.
    pub from: Option<AlertState>,
    /// The state now; `Resolved` when no source reports it any more.
    pub to: AlertState,
    /// When the queue saw the change.
    pub at: Timestamp,
}

impl Transition {
    /// A critical alert that just started demanding attention: it appeared
    /// firing, or went firing from pending, silenced or inhibited (not from
    /// acked: un-acking is the operator's own doing). The UI rings the bell
    /// or flashes once per `replace_source` whose transitions contain one,
    /// so it fires once per new critical firing alert, never per redraw.
    pub fn is_new_critical(&self) -> bool {
        self.to == AlertState::Firing
            && self.alert.severity == Severity::Critical
            && !matches!(self.from, Some(AlertState::Firing | AlertState::Acked))
    }
}

/// The tab badge and status bar numbers. A partition: every alert counts
/// once. Severity counts are firing alerts only (not pending, not quiet), so
/// a red badge means something is firing now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Firing critical alerts.
    pub critical: usize,
    /// Firing warnings.
    pub warning: usize,
    /// Firing info alerts.
    pub info: usize,
    /// Firing alerts of unknown severity.
    pub unknown: usize,
    /// Acked, silenced or inhibited.
    pub quiet: usize,
    /// Pending (condition holds, `for` not passed), not quiet.
    pub pending: usize,
}

impl Counts {
    fn add(&mut self, severity: Severity, state: AlertState) {
        let slot = match (state, severity) {
            (s, _) if s.is_quiet() => &mut self.quiet,
            (AlertState::Pending, _) => &mut self.pending,
            (_, Severity::Critical) => &mut self.critical,
            (_, Severity::Warning) => &mut self.warning,
            (_, Severity::Info) => &mut self.info,
            (_, Severity::Unknown) => &mut self.unknown,
        };
        *slot += 1;
    }

    /// Every alert counted.
    pub fn total(&self) -> usize {
        self.critical + self.warning + self.info + self.unknown + self.quiet + self.pending
    }
}

/// One source's latest list.
#[derive(Debug)]
struct Source {
    name: String,
    alerts: FpMap<Arc<Alert>>,
}

/// One row of the queue, with what sorting and grouping need cached.
#[derive(Debug)]
struct Slot {
    key: u64,
    sort: view::SortKey,
    /// Hash of the `group_by` label values.
    group: u64,
    /// False once no source reports it; dropped at the next rebuild.
    alive: bool,
    alert: Arc<Alert>,
}

/// The deduplicated, sorted, grouped alerts of every source.
#[derive(Debug)]
pub struct Queue {
    group_by: Vec<String>,
    severities: SeverityMap,
    /// In the order they first reported: earlier sources win ties in merges.
    sources: Vec<Source>,
    /// Sorted: severity, state, oldest first, fingerprint.
    slots: Vec<Slot>,
    /// Fingerprint key to position in `slots`.
    index: FpMap<usize>,
    acks: FpMap<Ack>,
    groups: Vec<view::Group>,
    counts: Counts,
}

impl Queue {
    /// An empty queue grouping by `group_by` label values.
    pub fn new(group_by: Vec<String>, severities: SeverityMap) -> Queue {
        Queue {
            group_by,
            severities,
            sources: Vec::new(),
            slots: Vec::new(),
            index: FpMap::default(),
            acks: FpMap::default(),
            groups: Vec::new(),
            counts: Counts::default(),
        }
    }

    /// The queue `[alerts]` describes.
    pub fn from_config(c: &AlertsConfig) -> Queue {
        Queue::new(c.group_by.clone(), SeverityMap::from_config(c))
    }

    /// A source's complete current list replaces its previous one; returns
    /// every merged state change, in no particular order. A failed poll
    /// should not call this (an empty list resolves all the source reported).
    pub fn replace_source(&mut self, source: &str, alerts: Vec<Alert>) -> Vec<Transition> {
        self.replace_source_at(source, alerts, Timestamp::now())
    }

    /// `replace_source` with the time stamped on the transitions given.
    pub fn replace_source_at(&mut self, source: &str, alerts: Vec<Alert>, now: Timestamp) -> Vec<Transition> {
        let src = match self.sources.iter().position(|s| s.name == source) {
            Some(i) => i,
            None => {
                self.sources.push(Source { name: source.to_owned(), alerts: FpMap::default() });
                self.sources.len() - 1
            }
        };
        let old = std::mem::take(&mut self.sources[src].alerts);
        let mut new = FpMap::with_capacity_and_hasher(alerts.len(), Default::default());
        let mut dirty = Vec::new();
        for mut alert in alerts {
            if alert.state == AlertState::Resolved {
                continue;
            }
            // Normalize before comparing, so an unchanged re-sent alert is
            // equal to the stored one and costs nothing more.
            if alert.fingerprint.is_empty() {
                alert.fingerprint = fingerprint(&alert.labels);
            }
            if alert.source != source {
                alert.source = source.to_owned();
            }
            if alert.seen_by.len() != 1 || alert.seen_by[0] != source {
                alert.seen_by = vec![source.to_owned()];
            }
            let k = key(&alert.fingerprint);
            let std::collections::hash_map::Entry::Vacant(slot) = new.entry(k) else {
                continue; // a duplicate within one list: the first one stands
            };
            // Severity follows from the labels. Pollers map it on their own
            // task; an alert that comes unmapped keeps its stored severity
            // when unchanged, and only a new or changed one is mapped here.
            let prev = old.get(&k);
            let unmapped = alert.severity == Severity::Unknown;
            if unmapped {
                alert.severity = prev.map_or(Severity::Unknown, |p| p.severity);
            }
            match prev {
                Some(prev) if **prev == alert => {
                    slot.insert(Arc::clone(prev));
                }
                _ => {
                    if unmapped {
                        alert.severity = self.severities.severity(&alert.labels);
                    }
                    slot.insert(Arc::new(alert));
                    dirty.push(k);
                }
            }
        }
        // What this source no longer reports.
        dirty.extend(old.keys().filter(|k| !new.contains_key(*k)));
        self.sources[src].alerts = new;
        self.remerge(dirty, now)
    }

    /// Replace the acks; returns the state changes they cause.
    pub fn set_acks(&mut self, acks: Vec<Ack>) -> Vec<Transition> {
        self.set_acks_at(acks, Timestamp::now())
    }

    /// `set_acks` with the time stamped on the transitions given.
    pub fn set_acks_at(&mut self, acks: Vec<Ack>, now: Timestamp) -> Vec<Transition> {
        let new: FpMap<Ack> = acks.into_iter().map(|a| (key(&a.fingerprint), a)).collect();
        let gone = self.acks.keys().filter(|k| !new.contains_key(*k));
        let added = new.keys().filter(|k| !self.acks.contains_key(*k));
        let dirty: Vec<u64> = gone.chain(added).copied().collect();
        self.acks = new;
        self.remerge(dirty, now)
    }

    /// The ack of an alert, if any (who, when, why).
    pub fn ack(&self, fingerprint: &str) -> Option<&Ack> {
        self.acks.get(&key(fingerprint))
    }

    /// Acked fingerprints no source reports any more (resolved, or its labels
    /// changed and so did its fingerprint): the app clears them from the store.
    pub fn stale_acks(&self) -> Vec<String> {
        let mut stale: Vec<String> = self
            .acks
            .iter()
            .filter(|(k, _)| !self.index.contains_key(*k))
            .map(|(_, a)| a.fingerprint.clone())
            .collect();
        stale.sort();
        stale
    }

    /// Merge the `dirty` fingerprints again from every source's list.
    fn remerge(&mut self, dirty: Vec<u64>, now: Timestamp) -> Vec<Transition> {
        let mut transitions = Vec::with_capacity(dirty.len());
        let mut changed = false;
        let mut parts = Vec::with_capacity(self.sources.len());
        self.slots.reserve(dirty.len());
        self.index.reserve(dirty.len());
        for k in dirty {
            parts.clear();
            parts.extend(
                self.sources.iter().enumerate().filter_map(|(i, s)| s.alerts.get(&k).map(|a| (i, a))),
            );
            let at = self.index.get(&k).copied();
            if parts.is_empty() {
                if let Some(slot) = at.and_then(|i| self.slots.get_mut(i)).filter(|s| s.alive) {
                    slot.alive = false;
                    let a = &slot.alert;
                    transitions.push(transition(a, Some(a.state), AlertState::Resolved, now));
                    self.index.remove(&k);
                    changed = true;
                }
                continue;
            }
            let merged = merge::merge(&parts, &self.sources, self.acks.contains_key(&k));
            match at.and_then(|i| self.slots.get_mut(i)) {
                Some(slot) => {
                    if slot.alert.state != merged.state {
                        transitions.push(transition(&merged, Some(slot.alert.state), merged.state, now));
                    }
                    // A dirty fingerprint's merge is new almost always: replace
                    // it rather than compare two alerts field by field.
                    if !Arc::ptr_eq(&slot.alert, &merged) {
                        *slot = Slot::new(k, merged, &self.group_by);
                        changed = true;
                    }
                }
                None => {
                    transitions.push(transition(&merged, None, merged.state, now));
                    self.index.insert(k, self.slots.len());
                    self.slots.push(Slot::new(k, merged, &self.group_by));
                    changed = true;
                }
            }
        }
        if changed {
            self.rebuild();
        }
        transitions
    }

    /// Sort, index, group and count from the cached slot keys.
    fn rebuild(&mut self) {
        self.slots.retain(|s| s.alive);
        self.slots.sort_unstable_by_key(|s| (s.sort, s.key));
        self.index.clear();
        self.index.extend(self.slots.iter().enumerate().map(|(i, s)| (s.key, i)));
        let (groups, counts) = view::group(&self.slots, &self.group_by);
        self.groups = groups;
        self.counts = counts;
    }

    /// How many alerts (deduplicated).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// No alerts at all.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The alert at `index` of the sorted queue, as `Row::Alert` gives it.
    /// Indices are valid until the queue next changes; panics past the end
    /// (use `get` with an index that may be stale).
    pub fn alert(&self, index: usize) -> &Alert {
        &self.slots[index].alert
    }

    /// The alert at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&Alert> {
        self.slots.get(index).map(|s| &*s.alert)
    }

    /// An alert by fingerprint (the selection follows the alert, not the row).
    pub fn by_fingerprint(&self, fingerprint: &str) -> Option<&Alert> {
        self.index_of(fingerprint).map(|i| &*self.slots[i].alert)
    }

    /// Where an alert sits in the sorted queue.
    pub fn index_of(&self, fingerprint: &str) -> Option<usize> {
        let i = *self.index.get(&key(fingerprint))?;
        self.slots.get(i).filter(|s| s.alert.fingerprint == fingerprint).map(|_| i)
    }

    /// Every alert, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &Alert> {
        self.slots.iter().map(|s| &*s.alert)
    }

    /// The numbers for the tab badge and status bar.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The sources that have reported, in the order they first did.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        self.sources.iter().map(|s| s.name.as_str())
    }
}

impl Slot {
    fn new(key: u64, alert: Arc<Alert>, group_by: &[String]) -> Slot {
        let sort = view::sort_key(&alert);
        let group = view::group_hash(&alert, group_by);
        Slot { key, sort, group, alive: true, alert }
    }
}

fn transition(a: &Arc<Alert>, from: Option<AlertState>, to: AlertState, at: Timestamp) -> Transition {
    Transition { alert: Arc::clone(a), from, to, at }
}

#[cfg(test)]
mod tests;
