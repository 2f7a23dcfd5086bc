//! Everything the views read, and the two ways it changes: a source's update
//! is folded in, or an action is applied. No I/O happens here.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, MouseButton, MouseEvent, MouseEventKind};

use super::keys::{LineEdit, line_edit};
use super::modal::{CommandLine, Modal};
use super::pipeline::Pipeline;
use super::processes::{ProcessList, ProcessSort};
use crate::action::Action;
use crate::config::{Config, Keymap, Level};
use crate::model::history::History;
use crate::model::metrics::NodeSample;
use crate::sources::maintenance::MaintenanceState;
use crate::sources::{HealthStatus, Payload, SourceHealth, Update};
use crate::theme::Theme;
use crate::ui::Tab;

/// What the loop must do after an input, beyond redrawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing more.
    None,
    /// Leave.
    Quit,
    /// Stop the process until `fg`.
    Suspend,
    /// Clear the terminal and repaint every cell.
    Repaint,
}

/// An overlay drawn over the tabs; it gets keys first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    /// The keymap, scrolled by this many lines.
    Help {
        /// First line shown.
        scroll: u16,
    },
    /// opsdeck's own log.
    InternalLog,
}

/// History series of this node for the charts.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeHistory {
    /// Total CPU percent.
    pub cpu: History,
    /// Memory used percent.
    pub memory: History,
    /// Bytes/s received, all interfaces but loopback.
    pub net_rx: History,
    /// Bytes/s sent, all interfaces but loopback.
    pub net_tx: History,
    /// Bytes/s read, all disks.
    pub disk_read: History,
    /// Bytes/s written, all disks.
    pub disk_write: History,
}

impl NodeHistory {
    fn new(window: Duration, period: Duration) -> NodeHistory {
        let h = || History::new(window, period);
        NodeHistory { cpu: h(), memory: h(), net_rx: h(), net_tx: h(), disk_read: h(), disk_write: h() }
    }

    fn push(&mut self, s: &NodeSample) {
        self.memory.push(s.at, s.memory.percent());
        if s.warming_up {
            return; // CPU and rates are not measured yet
        }
        self.cpu.push(s.at, f64::from(s.cpu_total));
        let nets = s.networks.iter().filter(|n| !n.is_loopback());
        let (rx, tx) = nets.fold((0.0, 0.0), |(rx, tx), n| (rx + n.rx_per_sec, tx + n.tx_per_sec));
        self.net_rx.push(s.at, rx);
        self.net_tx.push(s.at, tx);
        // One device mounted twice must not count its I/O twice.
        let mut devices = std::collections::HashSet::new();
        let disks = s.disks.iter().filter(|d| devices.insert(d.device.as_str()));
        let (r, w) = disks.fold((0.0, 0.0), |(r, w), d| (r + d.read_per_sec, w + d.write_per_sec));
        self.disk_read.push(s.at, r);
        self.disk_write.push(s.at, w);
    }
}

/// The whole state of the screen.
pub struct AppState {
    /// Current tab.
    pub tab: Tab,
    /// This host's name.
    pub host: String,
    /// Wall clock as shown, set by the loop each second.
    pub clock: String,
    /// Monotonic now, set by the loop with the clock; views measure ages against it.
    pub now: Instant,
    /// When the app started; chart buckets align to it.
    pub epoch: Instant,
    /// The resolved config.
    pub config: Config,
    /// Where the config came from, for empty states.
    pub config_path: Option<PathBuf>,
    /// Styles.
    pub theme: Theme,
    /// Newest sample of this node.
    pub node: Option<Box<NodeSample>>,
    /// Chart series.
    pub history: NodeHistory,
    /// Process table.
    pub processes: ProcessList,
    /// Each source's health, in status-bar order.
    pub health: Vec<(&'static str, SourceHealth)>,
    /// The open overlay, if any.
    pub overlay: Option<Overlay>,
    /// True while the process filter is being typed.
    pub editing_filter: bool,
    /// The state store's file, once open.
    pub store_path: Option<PathBuf>,
    /// A short message for the status bar, and when it was posted.
    pub notice: Option<(Instant, String)>,
    /// Maintenance mode, when a flag file is configured and has been read.
    pub maintenance: Option<MaintenanceState>,
    /// Guarded actions: arming, runs, the audit trail.
    pub pipeline: Pipeline,
    /// The pipeline's open screen (menu, dialog, run, command line, audit).
    pub modal: Option<Modal>,
    /// The Backups tab.
    pub backups: super::backups::BackupsPane,
    /// The Logs tab.
    pub logs: super::logs::LogsPane,
    /// The Alerts tab.
    pub alerts: super::alerts::AlertsPane,
    /// The Replication tab.
    pub replication: super::replication::ReplicationPane,
    /// The Metrics tab's `[[health]]` checks.
    pub checks: super::checks::ChecksPane,
    /// The fleet's nodes, from Prometheus and `[[nodes]]` scrapes.
    pub fleet: super::fleet::FleetPane,
    /// The open jump menu (`J`), if any.
    pub jump: Option<super::jump::JumpMenu>,
    /// `--wall`: the war-room cycle, when on.
    pub wall_mode: Option<super::wall::WallMode>,
    /// Wall-clock now, read with the clock; alert ages are measured against it.
    pub wall: jiff::Timestamp,
    /// The zone times are shown in (this machine's; tests fix it).
    pub tz: jiff::tz::TimeZone,
}

/// How long a notice stays in the status bar.
pub const NOTICE_FOR: Duration = Duration::from_secs(5);

impl AppState {
    /// A fresh state before any source has reported.
    pub fn new(
        config: Config,
        config_path: Option<PathBuf>,
        theme: Theme,
        host: String,
        now: Instant,
    ) -> AppState {
        let history = NodeHistory::new(config.metrics.history, config.refresh);
        let mut health = vec![
            (crate::sources::node::SOURCE, SourceHealth::new(Some(config.refresh))),
            (crate::store::SOURCE, SourceHealth::new(None)),
        ];
        if config.maintenance.flag_file.is_some() {
            health.push((crate::sources::maintenance::SOURCE, SourceHealth::new(Some(config.refresh))));
        }
        let operator = crate::ops::audit::Operator::from_env(&host);
        let pipeline = Pipeline::new(crate::ops::catalog::all(&config), config.guard.arm_window, operator);
        AppState {
            pipeline,
            modal: None,
            backups: super::backups::BackupsPane::new(&config.backups),
            // The defaults (system logs, the journal) are found when the app runs.
            logs: super::logs::LogsPane::for_sources(&config.logs, config.tail.buffer_lines),
            alerts: super::alerts::AlertsPane::new(&config),
            replication: super::replication::ReplicationPane::new(&config.clusters, config.refresh),
            checks: super::checks::ChecksPane::new(&config.health),
            fleet: super::fleet::FleetPane::new(
                &host,
                config.metrics.thresholds,
                config.metrics.history,
                config.nodes.iter().map(|n| n.name.clone()).collect(),
            ),
            wall_mode: None,
            jump: None,
            wall: jiff::Timestamp::now(),
            tz: jiff::tz::TimeZone::system(),
            tab: Tab::Metrics,
            host,
            clock: String::new(),
            now,
            epoch: now,
            config,
            config_path,
            theme,
            node: None,
            history,
            processes: ProcessList::default(),
            health,
            overlay: None,
            editing_filter: false,
            store_path: None,
            notice: None,
            maintenance: None,
        }
    }

    /// Keep health for a source started at run time (an Alertmanager, a Prometheus).
    pub fn watch_source(&mut self, name: &'static str, period: Duration) {
        if !self.health.iter().any(|(n, _)| *n == name) {
            self.health.push((name, SourceHealth::new(Some(period))));
        }
    }

    /// Show `message` in the status bar for a few seconds.
    pub fn notify(&mut self, message: &str) {
        tracing::info!("{message}");
        self.notice = Some((self.now, message.to_owned()));
    }

    /// The notice to show now, if one is fresh.
    pub fn current_notice(&self) -> Option<&str> {
        self.notice
            .as_ref()
            .filter(|(at, _)| self.now.saturating_duration_since(*at) < NOTICE_FOR)
            .map(|(_, m)| m.as_str())
    }

    /// The keymap in force.
    pub fn keymap(&self) -> &Keymap {
        &self.config.keys
    }

    /// Fold one source update into the state. Returns true when it is the
    /// source's first news: an empty pane filling (or failing) is worth a
    /// frame at once, while routine updates may wait to share one.
    pub fn apply_update(&mut self, update: Update) -> bool {
        let outcome = update.result.as_ref().map(|_| ()).map_err(String::as_str);
        let mut first_news = false;
        if let Some((name, h)) = self.health.iter_mut().find(|(name, _)| *name == update.source) {
            first_news = h.last_ok.is_none() && h.last_error.is_none();
            // Log transitions, not every poll: the log says when a source broke and mended.
            let was_failing = matches!(h.status(update.at), HealthStatus::Failing { .. });
            match outcome {
                Err(e) if !was_failing => tracing::warn!(source = %name, "failing: {e}"),
                Ok(()) if was_failing => tracing::info!(source = %name, "recovered"),
                _ => {}
            }
            h.record(update.at, outcome);
        }
        match update.result {
            Ok(Payload::Node(sample)) => {
                self.history.push(&sample);
                let mut extra = self.replication.samples();
                extra.extend(self.backups.samples(self.wall));
                extra.extend(self.logs.samples());
                extra.extend(self.checks.samples());
                extra.extend(self.fleet.samples());
                self.alerts.on_node_sample(&self.host, &sample, &extra, self.now, self.config.alerts.bell);
                self.processes.rebuild(&sample.processes);
                self.node = Some(sample);
            }
            Ok(Payload::Store(info)) => {
                self.store_path = Some(info.path);
                self.pipeline.session_id = Some(info.session_id);
            }
            Ok(Payload::Maintenance(m)) => self.maintenance = Some(m),
            Ok(Payload::Action(ev)) => {
                // An ack lands in the store: read the acks again so the queue shows it.
                if let crate::ops::executor::Event::Ended { ticket, .. } = &ev
                    && self
                        .pipeline
                        .run(*ticket)
                        .is_some_and(|r| r.def.exec == crate::ops::catalog::Exec::Ack)
                {
                    self.alerts.reload_acks = true;
                }
                // A backup check landed in the store; a backup may have landed on disk.
                if let crate::ops::executor::Event::Ended { ticket, .. } = &ev
                    && self
                        .pipeline
                        .run(*ticket)
                        .is_some_and(|r| matches!(r.def.exec, crate::ops::catalog::Exec::Backup(..)))
                {
                    self.backups.reload_checks = true;
                    self.backups.rescan = true;
                }
                self.pipeline.apply(self.now, ev);
                first_news = true; // the operator is watching it
            }
            Ok(Payload::Audit(rows)) => self.set_audit(rows),
            Ok(Payload::Alerts(batch)) => self.alerts.on_batch(batch, self.now, self.config.alerts.bell),
            Ok(Payload::Acks(acks)) => self.alerts.on_acks(acks, self.now),
            Ok(Payload::Timeline(fingerprint, events)) => self.alerts.timeline = (fingerprint, events),
            Ok(Payload::Replication(report)) => self.replication.on_report(report, self.now),
            Ok(Payload::Logs(batch)) => self.logs.on_batch(batch),
            Ok(Payload::Backups(report)) => self.backups.on_report(report, self.now, self.wall),
            Ok(Payload::BackupChecks(records)) => self.backups.on_checks(records, self.wall),
            Ok(Payload::HealthCheck(report)) => self.checks.on_report(report, self.now),
            Ok(Payload::Fleet(report)) => self.fleet.on_report(report, self.now),
            Ok(Payload::FleetHistory(h)) => self.fleet.on_history(h, self.now, std::time::SystemTime::now()),
            Err(e) if update.source == crate::sources::fleet::HISTORY_SOURCE => {
                self.fleet.on_history_error(e)
            }
            // Kept in health; the last good data stays on screen. A health
            // check is not in the status bar (there may be dozens): its pane says.
            Err(e) => self.checks.on_error(update.source, &e, self.now),
        }
        self.refresh_open_dialog();
        first_news
    }

    fn set_audit(&mut self, rows: Vec<crate::ops::audit::AuditRow>) {
        let first_load = self.pipeline.audit.is_empty() && self.pipeline.session_id.is_some();
        let session = self.pipeline.session_id;
        self.pipeline.unknown_outcomes =
            rows.iter().filter(|r| r.outcome(session) == "outcome unknown").count();
        if first_load && self.pipeline.unknown_outcomes > 0 {
            let n = self.pipeline.unknown_outcomes;
            let msg = format!(
                "{n} earlier action(s) have no recorded outcome (opsdeck stopped mid-run): see the audit trail"
            );
            tracing::warn!("{msg}");
            self.notify(&msg);
        }
        self.pipeline.audit = rows;
    }

    /// Once a second: the arming window may have ended.
    pub fn tick(&mut self) {
        self.backups.tick(self.now, self.wall);
        self.logs.tick(self.now, self.wall);
        if let Some(wall) = &mut self.wall_mode {
            let flash = self.alerts.flash_until;
            let (clusters, backups) = (!self.config.clusters.is_empty(), !self.config.backups.is_empty());
            wall.tick(self.now, flash, &mut self.tab, |t| match t {
                Tab::Replication => clusters,
                Tab::Backups => backups,
                _ => true,
            });
        }
        if self.pipeline.was_armed && self.pipeline.arming.remaining(self.now).is_none() {
            self.pipeline.was_armed = false;
            self.notify("disarmed: the arming window ended");
        }
    }

    /// Apply a key press.
    pub fn handle_key(&mut self, key: &KeyEvent) -> Effect {
        let action = self.keymap().action_for(key);
        if self.modal.is_some() {
            return self.modal_key(key, action);
        }
        // The jump menu takes the next key, except ctrl-c, which always quits.
        let ctrl_c =
            action == Some(Action::Quit) && key.modifiers.contains(crossterm::event::KeyModifiers::CONTROL);
        if self.jump.is_some() && !ctrl_c {
            self.jump_key(action.and_then(Action::target_tab));
            return Effect::None;
        }
        if action.is_none()
            && let Some(spec) = crate::config::keymap::KeySpec::from_event(key)
            && let Some(def) = self.pipeline.actions.iter().find(|a| a.key == Some(spec)).cloned()
        {
            self.open_action(def);
            return Effect::None;
        }
        if self.editing_filter && self.edit_filter(key, action) {
            return Effect::None;
        }
        if self.tab == Tab::Metrics && self.fleet.editing_filter && self.edit_fleet_filter(key, action) {
            return Effect::None;
        }
        if self.tab == Tab::Logs
            && self.overlay.is_none()
            && self.logs.editing.is_some()
            && self.logs.edit_key(key)
        {
            return Effect::None;
        }
        if self.tab == Tab::Alerts && self.overlay.is_none() {
            if self.alerts.editing_filter && self.edit_alert_filter(key, action) {
                return Effect::None;
            }
            if key.code == KeyCode::Enter {
                self.alerts.toggle_group();
                return Effect::None;
            }
        }
        match action {
            Some(action) => self.apply(action),
            None => Effect::None,
        }
    }

    /// Typing into the process filter; returns whether the key was consumed.
    fn edit_filter(&mut self, key: &KeyEvent, action: Option<Action>) -> bool {
        let mut text = self.processes.filter.clone();
        let Some(edit) = line_edit(key, action, &mut text) else { return false };
        self.editing_filter = edit == LineEdit::Changed;
        if edit != LineEdit::Keep {
            self.set_filter(text);
        }
        true
    }

    /// Typing into the alerts filter; returns whether the key was consumed.
    fn edit_alert_filter(&mut self, key: &KeyEvent, action: Option<Action>) -> bool {
        let mut text = self.alerts.filter_text.clone();
        let Some(edit) = line_edit(key, action, &mut text) else { return false };
        self.alerts.editing_filter = edit == LineEdit::Changed;
        if edit != LineEdit::Keep {
            self.alerts.set_filter(text);
        }
        true
    }

    fn set_filter(&mut self, filter: String) {
        self.processes.filter = filter;
        self.rebuild_processes();
    }

    fn rebuild_processes(&mut self) {
        let all = self.node.as_ref().map_or(&[][..], |n| n.processes.as_slice());
        self.processes.rebuild(all);
    }

    /// Apply an action; overlays see it first.
    pub fn apply(&mut self, action: Action) -> Effect {
        match action {
            Action::Quit => return self.quit(),
            Action::Suspend => return Effect::Suspend,
            Action::Redraw => return Effect::Repaint,
            _ => {}
        }
        match self.overlay {
            Some(Overlay::Help { scroll }) => {
                self.overlay = match action {
                    Action::ToggleHelp | Action::Back => None,
                    Action::Up => Some(Overlay::Help { scroll: scroll.saturating_sub(1) }),
                    Action::Down => Some(Overlay::Help { scroll: scroll.saturating_add(1) }),
                    Action::PageUp => Some(Overlay::Help { scroll: scroll.saturating_sub(10) }),
                    Action::PageDown => Some(Overlay::Help { scroll: scroll.saturating_add(10) }),
                    Action::Top => Some(Overlay::Help { scroll: 0 }),
                    Action::ToggleInternalLog => Some(Overlay::InternalLog),
                    _ => self.overlay,
                };
                return Effect::None;
            }
            Some(Overlay::InternalLog) => {
                self.overlay = match action {
                    Action::ToggleInternalLog | Action::Back => None,
                    Action::ToggleHelp => Some(Overlay::Help { scroll: 0 }),
                    _ => self.overlay,
                };
                return Effect::None;
            }
            None => {}
        }
        match action {
            Action::ActionMenu => {
                self.open_menu();
                return Effect::None;
            }
            Action::CommandLine => {
                self.modal = Some(Modal::CommandLine(CommandLine::default()));
                return Effect::None;
            }
            Action::ToggleArm => {
                let armed = self.pipeline.arming.remaining(self.now).is_some();
                self.arm(!armed);
                return Effect::None;
            }
            Action::ToggleAudit => {
                let newest = self.pipeline.audit.first().map(|r| r.id);
                self.modal = Some(Modal::Audit { selected: newest, detail: false });
                return Effect::None;
            }
            Action::Jump => {
                self.open_jump();
                return Effect::None;
            }
            _ => {}
        }
        let handled = match self.tab {
            Tab::Metrics => self.apply_fleet(action),
            Tab::Alerts => self.apply_alerts(action),
            Tab::Replication => self.apply_replication(action),
            Tab::Backups => self.apply_backups(action),
            Tab::Logs => self.apply_logs(action),
        };
        if handled {
            return Effect::None;
        }
        let all_len = self.node.as_ref().map_or(0, |n| n.processes.len());
        let page = 10;
        match action {
            Action::NextTab => self.tab = self.tab.next(),
            Action::PrevTab => self.tab = self.tab.previous(),
            Action::ToggleHelp => self.overlay = Some(Overlay::Help { scroll: 0 }),
            Action::ToggleInternalLog => self.overlay = Some(Overlay::InternalLog),
            Action::SortByCpu => self.set_sort(ProcessSort::Cpu),
            Action::SortByMemory => self.set_sort(ProcessSort::Memory),
            Action::ToggleKernelThreads => {
                self.processes.show_kernel_threads = !self.processes.show_kernel_threads;
                self.rebuild_processes();
            }
            Action::Filter if self.tab == Tab::Metrics => self.editing_filter = true,
            Action::Back if !self.processes.filter.is_empty() => self.set_filter(String::new()),
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::PageUp => self.move_selection(-page),
            Action::PageDown => self.move_selection(page),
            Action::Top | Action::Bottom if all_len > 0 => {
                if let Some(node) = &self.node {
                    self.processes.jump(action == Action::Bottom, &node.processes);
                }
            }
            other => {
                if let Some(tab) = other.target_tab() {
                    self.tab = tab;
                }
            }
        }
        Effect::None
    }

    /// Quit, unless an action is running: then the first press warns and a
    /// second within a few seconds quits (and cancels it).
    fn quit(&mut self) -> Effect {
        let running: Vec<String> =
            self.pipeline.active_runs().map(|r| format!("{} on {}", r.def.name, r.target.name)).collect();
        if running.is_empty() {
            return Effect::Quit;
        }
        if self.pipeline.quit_pressed.is_some_and(|t| self.now.saturating_duration_since(t) < NOTICE_FOR) {
            return Effect::Quit;
        }
        self.pipeline.quit_pressed = Some(self.now);
        let msg = format!("running: {}; quit again to cancel it and leave", running.join(", "));
        self.notify(&msg);
        Effect::None
    }

    fn set_sort(&mut self, sort: ProcessSort) {
        self.processes.sort = sort;
        self.rebuild_processes();
    }

    fn move_selection(&mut self, delta: isize) {
        if self.tab != Tab::Metrics {
            return;
        }
        if let Some(node) = &self.node {
            self.processes.move_by(delta, &node.processes);
        }
    }

    /// Apply a mouse event; `area` is the terminal size the last frame used.
    pub fn handle_mouse(&mut self, ev: &MouseEvent, width: u16) -> Effect {
        match ev.kind {
            MouseEventKind::Down(MouseButton::Left) if ev.row == 0 => {
                if let Some(tab) = crate::ui::tabs::tab_at(self, ev.column, width) {
                    self.overlay = None;
                    self.tab = tab;
                }
                Effect::None
            }
            MouseEventKind::ScrollDown if self.overlay.is_none() => self.apply(Action::Down),
            MouseEventKind::ScrollUp if self.overlay.is_none() => self.apply(Action::Up),
            _ => Effect::None,
        }
    }

    /// How many values on this node are above their warning threshold, and
    /// the worst level among them. `None` before the first sample.
    pub fn metrics_breaches(&self) -> Option<(usize, Level)> {
        let node = self.node.as_ref()?;
        let t = &self.config.metrics.thresholds;
        let cpu = if node.warming_up { Level::Ok } else { t.cpu.level(f64::from(node.cpu_total)) };
        let levels = [cpu, t.memory.level(node.memory.percent()), t.swap.level(node.swap.percent())]
            .into_iter()
            .chain(node.disks.iter().map(|d| t.disk.level(d.used_percent())));
        let breaching: Vec<Level> = levels.filter(|l| *l > Level::Ok).collect();
        Some((breaching.len(), breaching.into_iter().max().unwrap_or(Level::Ok)))
    }
}
