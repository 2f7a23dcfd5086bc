//! Sorting, grouping and the flat row list the tab draws. Groups are built
//! once per change of the queue; a view only filters them, holding indices,
//! so filtering a 10,000-alert queue copies no alert.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{Counts, Queue};
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

/// The queue's order: severity, then state (firing before pending, then
/// acked, silenced, inhibited), then oldest first (unknown start last), then
/// fingerprint (`key` orders as the hex string does), so equal alerts never
/// swap places between polls.
pub(super) fn sort_key(a: &Alert, key: u64) -> (Severity, AlertState, i128, u64) {
    (a.severity, a.state, a.starts_at.map_or(i128::MAX, |t| t.as_nanosecond()), key)
}

/// Groups of the sorted alerts: active groups, then quiet ones. Walking the
/// sorted list makes each group's first member its worst alert, and orders
/// groups by it.
pub(super) fn group(order: &[Arc<Alert>], group_by: &[String]) -> (Vec<Group>, Counts) {
    let mut counts = Counts::default();
    let mut active: Vec<Group> = Vec::new();
    let mut quiet: Vec<Group> = Vec::new();
    let mut index: [HashMap<Vec<&str>, usize>; 2] = [HashMap::new(), HashMap::new()];
    // One probe buffer, so a known group costs no allocation.
    let mut probe: Vec<&str> = Vec::with_capacity(group_by.len());
    for (i, a) in order.iter().enumerate() {
        counts.add(a);
        probe.clear();
        probe.extend(group_by.iter().map(|l| a.labels.get(l).map_or("", String::as_str)));
        let is_quiet = a.state.is_quiet();
        let (groups, lookup) =
            if is_quiet { (&mut quiet, &mut index[1]) } else { (&mut active, &mut index[0]) };
        let g = match lookup.get(probe.as_slice()) {
            Some(&g) => g,
            None => {
                lookup.insert(probe.clone(), groups.len());
                groups.push(Group::new(group_by, &probe, is_quiet));
                groups.len() - 1
            }
        };
        let group = &mut groups[g];
        group.members.push(i);
        group.counts.add(a.severity);
        group.pending += usize::from(a.state == AlertState::Pending);
    }
    active.append(&mut quiet);
    (active, counts)
}

impl Group {
    fn new(group_by: &[String], values: &[&str], quiet: bool) -> Group {
        let pairs: Vec<String> = group_by.iter().zip(values).map(|(l, v)| format!("{l}={v:?}")).collect();
        let key = format!("{}{{{}}}", if quiet { "quiet:" } else { "" }, pairs.join(","));
        let shown: Vec<String> = group_by
            .iter()
            .zip(values)
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
            View { rows: Vec::with_capacity(self.order.len() + self.groups.len()), ..View::default() };
        let mut shown: Vec<usize> = Vec::new();
        let mut scratch = String::new();
        for g in &self.groups {
            let (counts, pending) = if filter.is_empty() {
                (g.counts, g.pending)
            } else {
                shown.clear();
                shown.extend(
                    g.members.iter().copied().filter(|&i| filter.matches_with(&self.order[i], &mut scratch)),
                );
                let mut counts = SeverityCounts::default();
                for &i in &shown {
                    counts.add(self.order[i].severity);
                }
                let pending = shown.iter().filter(|&&i| self.order[i].state == AlertState::Pending).count();
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
