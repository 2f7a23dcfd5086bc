//! The Alerts tab's state: the queue fed by the local rules and the alert
//! sources, what the operator filters, collapses and selects (pinned by
//! fingerprint, never by row), the silences, the selected alert's timeline,
//! and the history the loop must persist.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::alerts::history::{Event, History};
use crate::alerts::matcher::Filter;
use crate::alerts::queue::{Ack, Queue, Row, Transition, View};
use crate::alerts::rules::{RuleEngine, Sample, node_samples};
use crate::app::AppState;
use crate::config::Config;
use crate::model::metrics::NodeSample;
use crate::sources::{AlertBatch, HealthStatus, Silence};

/// Name of the local rule engine as a source.
pub const LOCAL: &str = "local";

/// State changes held for the store at most: while it is not open yet, or
/// when one poll brings more (a first poll of 100,000 alerts). The rest are
/// dropped, counted, and the count is stored as a gap in the history.
pub const PENDING_HISTORY_MAX: usize = 10_000;

/// What the selection follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selected {
    /// A group header, by key.
    Group(String),
    /// An alert, by fingerprint.
    Alert(String),
}

/// The Alerts tab.
#[derive(Debug)]
pub struct AlertsPane {
    /// Every alert, deduplicated, sorted, grouped.
    pub queue: Queue,
    rules: RuleEngine,
    /// The filter as typed.
    pub filter_text: String,
    filter: Filter,
    /// Why the typed filter does not parse (the last good one stays applied).
    pub filter_error: Option<String>,
    /// Typing into the filter.
    pub editing_filter: bool,
    /// Show acked, silenced and inhibited alerts.
    pub show_quiet: bool,
    collapsed: HashSet<String>,
    /// The rows drawn, rebuilt when the queue or the filter changes.
    pub view: View,
    /// The selection, if the operator made one.
    pub selected: Option<Selected>,
    /// Each Alertmanager's silences.
    pub silences: HashMap<String, Vec<Silence>>,
    /// The selected alert's stored timeline, and whose it is.
    pub timeline: (String, Vec<Event>),
    /// Until when the tab title flashes for a new critical alert.
    pub flash_until: Option<Instant>,
    /// Ring the terminal bell on the next frame.
    pub ring: bool,
    /// Transitions not yet written to the store.
    pub history_outbox: Vec<Transition>,
    /// At most this many transitions wait in `history_outbox`.
    history_cap: usize,
    /// Transitions dropped since the last `take_history` (the next gap to store).
    history_gap: u64,
    /// Transitions dropped in this session: the history has holes when above zero.
    pub history_dropped: u64,
    /// Acks whose alerts resolved or changed, to clear in the store.
    pub acks_to_clear: Vec<String>,
    timeline_requested: Option<String>,
    /// The store's acks changed (an ack ran): read them again.
    pub reload_acks: bool,
}

impl AlertsPane {
    /// An empty pane for this config.
    pub fn new(config: &Config) -> AlertsPane {
        AlertsPane::with_history_cap(config, PENDING_HISTORY_MAX)
    }

    /// An empty pane holding at most `history_cap` transitions for the store.
    pub fn with_history_cap(config: &Config, history_cap: usize) -> AlertsPane {
        let queue = Queue::from_config(&config.alerts);
        let filter = Filter::parse("").unwrap_or_default();
        AlertsPane {
            view: queue.view(&filter, false, &HashSet::new()),
            queue,
            rules: RuleEngine::new(
                &[config.rules.clone(), crate::config::alerts::lag_rules(&config.clusters)].concat(),
            ),
            filter_text: String::new(),
            filter,
            filter_error: None,
            editing_filter: false,
            show_quiet: false,
            collapsed: HashSet::new(),
            selected: None,
            silences: HashMap::new(),
            timeline: (String::new(), Vec::new()),
            flash_until: None,
            ring: false,
            history_outbox: Vec::new(),
            history_cap,
            history_gap: 0,
            history_dropped: 0,
            acks_to_clear: Vec::new(),
            timeline_requested: None,
            reload_acks: false,
        }
    }

    /// Evaluate the local rules on a new sample of this node.
    /// `extra`: the other tabs' samples (replication lag, …), their complete current set.
    pub fn on_node_sample(
        &mut self,
        host: &str,
        sample: &NodeSample,
        extra: &[Sample],
        now: Instant,
        bell: bool,
    ) {
        let mut samples = node_samples(host, sample);
        samples.extend_from_slice(extra);
        let alerts = self.rules.evaluate(jiff::Timestamp::now(), &samples);
        let transitions = self.queue.replace_source(LOCAL, alerts);
        self.absorb(transitions, now, bell);
    }

    /// Take a poll of an Alertmanager or Prometheus.
    pub fn on_batch(&mut self, batch: AlertBatch, now: Instant, bell: bool) {
        if batch.kind == crate::alerts::model::SourceKind::Alertmanager {
            self.silences.insert(batch.source_name.clone(), batch.silences);
        }
        let transitions = self.queue.replace_source(&batch.source_name, batch.alerts);
        self.absorb(transitions, now, bell);
    }

    /// The acks as the store holds them.
    pub fn on_acks(&mut self, acks: Vec<Ack>, now: Instant) {
        let transitions = self.queue.set_acks(acks);
        self.absorb(transitions, now, false);
    }

    fn absorb(&mut self, transitions: Vec<Transition>, now: Instant, bell: bool) {
        if transitions.iter().any(Transition::is_new_critical) {
            self.flash_until = Some(now + Duration::from_secs(5));
            self.ring |= bell;
        }
        self.history_outbox.extend(transitions);
        if self.history_outbox.len() > self.history_cap {
            // The oldest go: a cap is a cap, but the loss is counted, stored and shown.
            let excess = self.history_outbox.len() - self.history_cap;
            self.history_outbox.drain(..excess);
            self.history_gap += excess as u64;
            self.history_dropped += excess as u64;
        }
        for fp in self.queue.stale_acks() {
            if !self.acks_to_clear.contains(&fp) {
                self.acks_to_clear.push(fp);
            }
        }
        self.rebuild();
    }

    /// Recompute the rows after the queue, the filter or a toggle changed.
    pub fn rebuild(&mut self) {
        self.view = self.queue.view(&self.filter, self.show_quiet, &self.collapsed);
    }

    /// Set the filter text; a text that does not parse keeps the last good filter.
    pub fn set_filter(&mut self, text: String) {
        match Filter::parse(&text) {
            Ok(f) => {
                self.filter = f;
                self.filter_error = None;
            }
            Err(e) => self.filter_error = Some(e.to_string()),
        }
        self.filter_text = text;
        self.rebuild();
    }

    /// The row the selection is on now, if it is shown.
    pub fn selected_row(&self) -> Option<usize> {
        let sel = self.selected.as_ref()?;
        self.view.rows.iter().position(|r| match (r, sel) {
            (Row::Group { key, .. }, Selected::Group(k)) => key == k,
            (Row::Alert { index }, Selected::Alert(fp)) => {
                self.queue.get(*index).is_some_and(|a| &a.fingerprint == fp)
            }
            _ => false,
        })
    }

    fn select_row(&mut self, row: usize) {
        self.selected = self.view.rows.get(row).map(|r| match r {
            Row::Group { key, .. } => Selected::Group(key.clone()),
            Row::Alert { index } => {
                Selected::Alert(self.queue.get(*index).map(|a| a.fingerprint.clone()).unwrap_or_default())
            }
        });
    }

    /// Move the selection by `delta` rows; the first move selects the top row.
    pub fn move_by(&mut self, delta: isize) {
        let n = self.view.rows.len();
        if n == 0 {
            return;
        }
        let to = match self.selected_row() {
            Some(at) => at.saturating_add_signed(delta).min(n - 1),
            None => 0,
        };
        self.select_row(to);
    }

    /// Jump to the first or last row.
    pub fn jump(&mut self, to_end: bool) {
        let n = self.view.rows.len();
        if n > 0 {
            self.select_row(if to_end { n - 1 } else { 0 });
        }
    }

    /// Enter on a group header collapses or expands it.
    pub fn toggle_group(&mut self) -> bool {
        let Some(Selected::Group(key)) = &self.selected else { return false };
        if !self.collapsed.remove(key) {
            self.collapsed.insert(key.clone());
        }
        self.rebuild();
        true
    }

    /// Show or hide the quiet section.
    pub fn toggle_quiet(&mut self) {
        self.show_quiet = !self.show_quiet;
        self.rebuild();
    }

    /// The selected alert's fingerprint.
    pub fn selected_alert(&self) -> Option<&crate::alerts::model::Alert> {
        match &self.selected {
            Some(Selected::Alert(fp)) => self.queue.by_fingerprint(fp),
            _ => None,
        }
    }

    /// The history to write: the transitions held, and how many were dropped before them.
    pub fn take_history(&mut self) -> History {
        let transitions = std::mem::take(&mut self.history_outbox);
        if transitions
            .iter()
            .any(|t| matches!(&self.selected, Some(Selected::Alert(fp)) if fp == &t.alert.fingerprint))
        {
            self.timeline_requested = None; // its timeline grew: read it again
        }
        History { transitions, dropped: std::mem::take(&mut self.history_gap), cap: self.history_cap }
    }

    /// The fingerprint whose timeline the details pane needs read, once per selection.
    pub fn take_timeline_request(&mut self) -> Option<String> {
        let fp = match &self.selected {
            Some(Selected::Alert(fp)) => fp.clone(),
            _ => return None,
        };
        if self.timeline_requested.as_ref() == Some(&fp) {
            return None;
        }
        self.timeline_requested = Some(fp.clone());
        Some(fp)
    }

    /// Active (and pending) silences of every Alertmanager, newest end last.
    pub fn active_silences(&self) -> Vec<(&str, &Silence)> {
        use crate::sources::alertmanager::SilenceState;
        let mut out: Vec<(&str, &Silence)> = self
            .silences
            .iter()
            .flat_map(|(src, list)| list.iter().map(move |s| (src.as_str(), s)))
            .filter(|(_, s)| matches!(s.state, SilenceState::Active | SilenceState::Pending))
            .collect();
        out.sort_by(|a, b| a.1.ends_at.cmp(&b.1.ends_at).then(a.1.id.cmp(&b.1.id)));
        out
    }
}

/// Why an alert source's alerts are not known now.
#[derive(Debug, Clone, PartialEq)]
pub enum Blind {
    /// It has not answered since opsdeck started.
    Waiting,
    /// Its last poll worked, but long ago: a poll is hung or very slow.
    Stale {
        /// Age of its last good data.
        age: Duration,
    },
    /// Its polls fail.
    Failing {
        /// Since the first failure in a row.
        down_for: Duration,
        /// Age of its last good data (still on screen), if it ever answered.
        last_ok_age: Option<Duration>,
        /// The last failure.
        error: String,
    },
}

/// A configured Alertmanager or Prometheus whose alerts are not known now:
/// while any is, the Alerts tab never shows an all-clear.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownSource {
    /// The configured name.
    pub name: String,
    /// Why.
    pub blind: Blind,
}

impl AppState {
    /// The configured alert sources that are failing, stale, or not heard
    /// from yet, in config order (Alertmanagers, then Prometheus servers).
    pub fn unknown_alert_sources(&self) -> Vec<UnknownSource> {
        self.remote_alert_sources()
            .filter_map(|name| {
                let blind = match self.health.iter().find(|(n, _)| *n == name).map(|(_, h)| h) {
                    // Configured but never started or heard from: nothing is known.
                    None => Blind::Waiting,
                    Some(h) => match h.status(self.now) {
                        HealthStatus::Ok => return None,
                        HealthStatus::Pending => Blind::Waiting,
                        HealthStatus::Stale { age } => Blind::Stale { age },
                        HealthStatus::Failing { last_ok_age, error } => Blind::Failing {
                            down_for: h.failing_for(self.now).unwrap_or_default(),
                            last_ok_age,
                            error: error.to_owned(),
                        },
                    },
                };
                Some(UnknownSource { name: name.to_owned(), blind })
            })
            .collect()
    }

    /// The names of the configured Alertmanagers and Prometheus servers.
    pub fn remote_alert_sources(&self) -> impl Iterator<Item = &str> {
        let am = self.config.alertmanager.iter().map(|s| s.name.as_str());
        am.chain(self.config.prometheus.iter().map(|s| s.name.as_str()))
    }
}
