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
//! through `Arc`, and only changed fingerprints are merged again), and
//! fingerprints are keyed as the 64-bit hashes they are, not as strings.

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

/// One change of an alert's merged state, for the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The alert.
    pub fingerprint: String,
    /// Its `alertname`.
    pub name: String,
    /// Its severity.
    pub severity: Severity,
    /// Its labels.
    pub labels: std::collections::BTreeMap<String, String>,
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
            && self.severity == Severity::Critical
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
    fn add(&mut self, a: &Alert) {
        let slot = match (a.state, a.severity) {
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

/// One row of the queue.
#[derive(Debug)]
struct Entry {
    merged: Arc<Alert>,
    /// Position in `Queue::order`.
    index: usize,
}

/// The deduplicated, sorted, grouped alerts of every source.
#[derive(Debug)]
pub struct Queue {
    group_by: Vec<String>,
    severities: SeverityMap,
    /// In the order they first reported: earlier sources win ties in merges.
    sources: Vec<Source>,
    entries: FpMap<Entry>,
    acks: FpMap<Ack>,
    /// Merged alerts, sorted: severity, state, oldest first, fingerprint.
    order: Vec<Arc<Alert>>,
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
            entries: FpMap::default(),
            acks: FpMap::default(),
            order: Vec::new(),
            groups: Vec::new(),
            counts: Counts::default(),
        }
    }

    /// The queue `[alerts]` describes.
    pub fn from_config(c: &AlertsConfig) -> Queue {
        Queue::new(c.group_by.clone(), SeverityMap::from_config(c))
    }

    /// A source's complete current list replaces its previous one; returns
    /// every merged state change. A failed poll should not call this (an
    /// empty list resolves everything the source reported).
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
            alert.severity = self.severities.severity(&alert.labels);
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
            match old.get(&k) {
                Some(prev) if **prev == alert => {
                    slot.insert(Arc::clone(prev));
                }
                _ => {
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
            .filter(|(k, _)| !self.entries.contains_key(*k))
            .map(|(_, a)| a.fingerprint.clone())
            .collect();
        stale.sort();
        stale
    }

    /// Merge the `dirty` fingerprints again from every source's list.
    fn remerge(&mut self, dirty: Vec<u64>, now: Timestamp) -> Vec<Transition> {
        let mut transitions = Vec::new();
        let mut changed = false;
        let mut parts = Vec::with_capacity(self.sources.len());
        self.entries.reserve(dirty.len());
        for k in dirty {
            parts.clear();
            parts.extend(
                self.sources.iter().enumerate().filter_map(|(i, s)| s.alerts.get(&k).map(|a| (i, a))),
            );
            if parts.is_empty() {
                if let Some(old) = self.entries.remove(&k) {
                    transitions.push(transition(
                        &old.merged,
                        Some(old.merged.state),
                        AlertState::Resolved,
                        now,
                    ));
                    changed = true;
                }
                continue;
            }
            let merged = merge::merge(&parts, &self.sources, self.acks.contains_key(&k));
            match self.entries.get_mut(&k) {
                Some(e) => {
                    if e.merged.state != merged.state {
                        transitions.push(transition(&merged, Some(e.merged.state), merged.state, now));
                    }
                    changed |= !Arc::ptr_eq(&e.merged, &merged) && *e.merged != *merged;
                    e.merged = merged;
                }
                None => {
                    transitions.push(transition(&merged, None, merged.state, now));
                    self.entries.insert(k, Entry { merged, index: 0 });
                    changed = true;
                }
            }
        }
        if changed {
            self.rebuild();
        }
        transitions
    }

    /// Sort, index, group and count from the entries.
    fn rebuild(&mut self) {
        // Sorting precomputed keys keeps the comparisons off the heap.
        let mut keyed: Vec<_> =
            self.entries.iter().map(|(k, e)| (view::sort_key(&e.merged, *k), *k)).collect();
        keyed.sort_unstable();
        self.order.clear();
        for (i, (_, k)) in keyed.iter().enumerate() {
            if let Some(e) = self.entries.get_mut(k) {
                e.index = i;
                self.order.push(Arc::clone(&e.merged));
            }
        }
        let (groups, counts) = view::group(&self.order, &self.group_by);
        self.groups = groups;
        self.counts = counts;
    }

    /// How many alerts (deduplicated).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// No alerts at all.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The alert at `index` of the sorted queue, as `Row::Alert` gives it.
    /// Indices are valid until the queue next changes; panics past the end
    /// (use `get` with an index that may be stale).
    pub fn alert(&self, index: usize) -> &Alert {
        &self.order[index]
    }

    /// The alert at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&Alert> {
        self.order.get(index).map(|a| &**a)
    }

    /// An alert by fingerprint (the selection follows the alert, not the row).
    pub fn by_fingerprint(&self, fingerprint: &str) -> Option<&Alert> {
        self.entry(fingerprint).map(|e| &*e.merged)
    }

    /// Where an alert sits in the sorted queue.
    pub fn index_of(&self, fingerprint: &str) -> Option<usize> {
        self.entry(fingerprint).map(|e| e.index)
    }

    fn entry(&self, fingerprint: &str) -> Option<&Entry> {
        self.entries.get(&key(fingerprint)).filter(|e| e.merged.fingerprint == fingerprint)
    }

    /// Every alert, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &Alert> {
        self.order.iter().map(|a| &**a)
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

fn transition(a: &Alert, from: Option<AlertState>, to: AlertState, at: Timestamp) -> Transition {
    Transition {
        fingerprint: a.fingerprint.clone(),
        name: a.name.clone(),
        severity: a.severity,
        labels: a.labels.clone(),
        from,
        to,
        at,
    }
}

#[cfg(test)]
mod tests;
