//! Sorting, grouping and the flat row list the tab draws. Groups are built
//! once per change of the queue; a view only filters them, holding indices,
//! so filtering a 10,000-alert queue copies no alert.

use std::collections::HashSet;

use super::merge::FpMap;
use super::{Counts, Queue, Slot};
use crate::alerts::matcher::Filter;
use crate::alerts::model::{Alert, AlertState, Severity};

/// How many alerts of a group per severity, whatever their state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeverityCounts {
    /// Critical.
    pub critical: usize,
    /// Warning.
    pub warning: usize,
    /// Info.
    pub info: usize,
    /// Unknown.
    pub unknown: usize,
}

impl SeverityCounts {
    fn add(&mut self, s: Severity) {
        *match s {
            Severity::Critical => &mut self.critical,
            Severity::Warning => &mut self.warning,
            Severity::Info => &mut self.info,
            Severity::Unknown => &mut self.unknown,
        } += 1;
    }

    /// The count of one severity.
    pub fn get(&self, s: Severity) -> usize {
        match s {
            Severity::Critical => self.critical,
            Severity::Warning => self.warning,
            Severity::Info => self.info,
            Severity::Unknown => self.unknown,
        }
    }

    /// All of them.
    pub fn total(&self) -> usize {
        self.critical + self.warning + self.info + self.unknown
    }
}

/// One line of the tab, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// A group header.
    Group {
        /// Stable identity for collapsing: the group's label set, e.g.
        /// `{alertname="DiskFull"}`, prefixed `quiet:` in the quiet section.
        key: String,
        /// For display: the group's label values joined by ` · `.
        label: String,
        /// Its shown (filter-matching) alerts per severity.
        counts: SeverityCounts,
        /// Of those, how many are pending.
        pending: usize,
        /// Its alert rows are left out.
        collapsed: bool,
        /// In the quiet section (acked, silenced, inhibited), after every active group.
        quiet_section: bool,
    },
    /// An alert: `Queue::alert(index)`.
    Alert {
        /// Index into the queue's sorted alerts, valid until the queue changes.
        index: usize,
    },
}

/// What the tab draws, built by `Queue::view`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// Group headers and alert rows, in order.
    pub rows: Vec<Row>,
    /// Alerts matching the filter in the sections shown (collapsed ones included).
    pub matched: usize,
    /// Quiet alerts matching the filter but not shown (`show_quiet` off).
    pub quiet_hidden: usize,
}

#[derive(Debug)]
pub(super) struct Group {
    key: String,
    label: String,
    quiet: bool,
    members: Vec<usize>,
    counts: SeverityCounts,
    pending: usize,
}

/// What rows sort by, cached per row: severity, then state (firing before
/// pending, then acked, silenced, inhibited), then oldest first (unknown
/// start last); ties break on the fingerprint key (which orders as the hex
/// string does), so equal alerts never swap places between polls.
pub(super) type SortKey = (Severity, AlertState, i128);

pub(super) fn sort_key(a: &Alert) -> SortKey {
    (a.severity, a.state, a.starts_at.map_or(i128::MAX, |t| t.as_nanosecond()))
}

/// A group's identity: FNV-1a over its label values, each followed by 0xff,
/// the way a fingerprint hashes a label set (a collision would need two
/// groups whose 64-bit hashes agree, as two alerts' fingerprints would).
pub(super) fn group_hash(a: &Alert, group_by: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for l in group_by {
        let v = a.labels.get(l).map_or("", String::as_str);
        for b in v.bytes().chain([0xff]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Groups of the sorted rows: active groups, then quiet ones. Walking the
/// sorted rows makes each group's first member its worst alert, and orders
/// groups by it. Only the cached keys are read, and a new group's first
/// alert for its label values.
pub(super) fn group(slots: &[Slot], group_by: &[String]) -> (Vec<Group>, Counts) {
    let mut counts = Counts::default();
    let mut active: Vec<Group> = Vec::new();
    let mut quiet: Vec<Group> = Vec::new();
    let mut by_hash: [FpMap<usize>; 2] = Default::default();
    for (i, s) in slots.iter().enumerate() {
        let (severity, state, _) = s.sort;
        counts.add(severity, state);
        let is_quiet = state.is_quiet();
        let (groups, lookup) =
            if is_quiet { (&mut quiet, &mut by_hash[1]) } else { (&mut active, &mut by_hash[0]) };
        let g = *lookup.entry(s.group).or_insert_with(|| {
            groups.push(Group::new(group_by, &s.alert, is_quiet));
            groups.len() - 1
        });
        let group = &mut groups[g];
        group.members.push(i);
        group.counts.add(severity);
        group.pending += usize::from(state == AlertState::Pending);
    }
    active.append(&mut quiet);
    (active, counts)
}

impl Group {
    fn new(group_by: &[String], first: &Alert, quiet: bool) -> Group {
        let values: Vec<&str> =
            group_by.iter().map(|l| first.labels.get(l).map_or("", String::as_str)).collect();
        let pairs: Vec<String> = group_by.iter().zip(&values).map(|(l, v)| format!("{l}={v:?}")).collect();
        let key = format!("{}{{{}}}", if quiet { "quiet:" } else { "" }, pairs.join(","));
        let shown: Vec<String> = group_by
            .iter()
            .zip(&values)
            .map(|(l, v)| if v.is_empty() { format!("(no {l})") } else { (*v).to_owned() })
            .collect();
        let label = if shown.is_empty() { "all alerts".to_owned() } else { shown.join(" · ") };
        Group { key, label, quiet, members: Vec::new(), counts: SeverityCounts::default(), pending: 0 }
    }
}

impl Queue {
    /// The rows to draw: active groups (worst first), each header followed by
    /// its alerts unless its key is in `collapsed`, then, with `show_quiet`,
    /// the quiet section's groups. With a filter, groups show only matching
    /// alerts, their counts count those, and groups left empty are omitted.
    pub fn view(&self, filter: &Filter, show_quiet: bool, collapsed: &HashSet<String>) -> View {
        let mut view =
            View { rows: Vec::with_capacity(self.slots.len() + self.groups.len()), ..View::default() };
        let mut shown: Vec<usize> = Vec::new();
        let mut scratch = String::new();
        for g in &self.groups {
            let (counts, pending) = if filter.is_empty() {
                (g.counts, g.pending)
            } else {
                shown.clear();
                shown.extend(
                    g.members
                        .iter()
                        .copied()
                        .filter(|&i| filter.matches_with(&self.slots[i].alert, &mut scratch)),
                );
                let mut counts = SeverityCounts::default();
                let mut pending = 0;
                for &i in &shown {
                    let (severity, state, _) = self.slots[i].sort;
                    counts.add(severity);
                    pending += usize::from(state == AlertState::Pending);
                }
                (counts, pending)
            };
            if counts.total() == 0 {
                continue;
            }
            if g.quiet && !show_quiet {
                view.quiet_hidden += counts.total();
                continue;
            }
            view.matched += counts.total();
            let is_collapsed = collapsed.contains(&g.key);
            view.rows.push(Row::Group {
                key: g.key.clone(),
                label: g.label.clone(),
                counts,
                pending,
                collapsed: is_collapsed,
                quiet_section: g.quiet,
            });
            if !is_collapsed {
                let members = if filter.is_empty() { &g.members } else { &shown };
                view.rows.extend(members.iter().map(|&index| Row::Alert { index }));
            }
        }
        view
    }
}
