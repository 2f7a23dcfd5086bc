//! The pipeline's screens and their keys: the action menu, the confirmation
//! dialog, the run view, the `:` command line and the audit trail. A modal
//! gets every key first; typed text goes to its fields, never to the keymap.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{AppState, Effect};
use crate::action::Action;
use crate::ops::catalog::ActionDef;
use crate::ops::guard::Confirmation;
use crate::ops::plan::{self, Context};
use crate::ops::precondition::FieldValue;
use crate::ops::target::Target;

pub use super::dialog::{Dialog, Field};
use super::pipeline::Submission;

/// What the command line completes to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    /// Typed so far.
    pub text: String,
}

/// A modal screen of the pipeline.
#[derive(Debug, Clone)]
pub enum Modal {
    /// Choose an action for one of the tab's targets.
    Menu {
        /// (action, target) pairs.
        items: Vec<(Arc<ActionDef>, Target)>,
        /// Highlighted item.
        selected: usize,
    },
    /// Confirm.
    Dialog(Box<Dialog>),
    /// Watch a run.
    Run {
        /// The run's ticket.
        ticket: u64,
    },
    /// `:` and a name.
    CommandLine(CommandLine),
    /// Alertmanager silences in force; `x` expires the highlighted one.
    Silences {
        /// The highlighted silence's target id.
        selected: Option<String>,
    },
    /// The audit trail.
    Audit {
        /// The highlighted row's id: rows arrive on top as actions run, and
        /// the highlight (and an open record) must stay on the same row.
        selected: Option<i64>,
        /// Showing the highlighted row's whole record.
        detail: bool,
    },
}

/// Words the command line knows besides action names.
pub const COMMANDS: [&str; 6] = ["arm", "disarm", "audit", "help", "last", "silences"];

impl AppState {
    /// Open the menu for the current tab's targets.
    pub fn open_menu(&mut self) {
        let items: Vec<(Arc<ActionDef>, Target)> = self
            .tab_targets()
            .into_iter()
            .flat_map(|t| self.pipeline.actions_for(&t).into_iter().map(move |a| (a, t.clone())))
            .collect();
        if items.is_empty() {
            let hint = if self.pipeline.actions.is_empty() {
                "no actions configured: add [[actions]] to the config (see config.example.toml)"
            } else {
                "no action applies here: select a row (a process, a catalog) or see the help (?)"
            };
            self.notify(hint);
            return;
        }
        self.modal = Some(Modal::Menu { items, selected: 0 });
    }

    /// Open the dialog for `def` on the current tab's target of its kind.
    pub fn open_action(&mut self, def: Arc<ActionDef>) {
        // The most specific target first: a selected process before the node.
        let target = self.tab_targets().into_iter().rev().find(|t| def.applies_to_target(t));
        match target {
            Some(t) => self.open_dialog(def, t),
            None => self.notify(&format!("{}: select a {} first", def.name, def.applies_to.as_str())),
        }
    }

    pub(super) fn open_dialog(&mut self, def: Arc<ActionDef>, pinned: Target) {
        let form = match (&def.exec, pinned.fields.get("fingerprint")) {
            (crate::ops::catalog::Exec::Silence(_), Some(FieldValue::Text(fp))) => {
                self.alerts.queue.by_fingerprint(fp).map(crate::ops::silence::prefill).unwrap_or_default()
            }
            _ => Vec::new(),
        };
        let mut d = Dialog {
            def,
            live: Some(pinned.clone()),
            pinned,
            preview: Err(String::new()),
            checks: Vec::new(),
            name: String::new(),
            reason: String::new(),
            override_word: String::new(),
            form,
            focus: Field::Name,
            error: None,
        };
        self.refresh_dialog(&mut d, None);
        d.focus = d.fields().first().copied().unwrap_or(Field::Reason);
        self.modal = Some(Modal::Dialog(Box::new(d)));
    }

    /// Re-evaluate the open dialog against the latest data.
    pub fn refresh_open_dialog(&mut self) {
        if let Some(Modal::Dialog(d)) = &self.modal {
            let mut d = d.clone();
            self.refresh_dialog(&mut d, None);
            self.modal = Some(Modal::Dialog(d));
        }
    }

    /// Prepare the plan against the latest data, for the time `at` (now
    /// while the dialog is open; fixed at confirmation).
    fn refresh_dialog(&self, d: &mut Dialog, at: Option<jiff::Timestamp>) {
        d.live = self.find_target(&d.pinned);
        let basis = d.live.as_ref().unwrap_or(&d.pinned);
        d.checks = d.def.preconditions.iter().map(|c| c.check(&basis.fields)).collect();
        let ctx = Context {
            who: self.pipeline.operator.os_user.clone(),
            reason: d.reason.clone(),
            form: d.form_map(),
            at: Some(at.unwrap_or(self.wall)),
        };
        d.preview = plan::prepare(&d.def, basis, &ctx).map(|p| p.preview());
    }

    /// Keys while a modal is open.
    pub fn modal_key(&mut self, key: &KeyEvent, action: Option<Action>) -> Effect {
        let Some(modal) = self.modal.take() else { return Effect::None };
        let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        self.modal = match modal {
            Modal::Menu { items, selected } => match (key.code, action) {
                (KeyCode::Enter, _) => {
                    if let Some((def, target)) = items.get(selected).cloned() {
                        self.open_dialog(def, target);
                    }
                    return Effect::None;
                }
                (KeyCode::Esc, _) | (_, Some(Action::ActionMenu)) => None,
                _ if ctrl_c => None,
                (_, Some(Action::Up)) => Some(Modal::Menu { selected: selected.saturating_sub(1), items }),
                (_, Some(Action::Down)) => {
                    Some(Modal::Menu { selected: (selected + 1).min(items.len().saturating_sub(1)), items })
                }
                _ => Some(Modal::Menu { items, selected }),
            },
            Modal::Dialog(d) => return self.dialog_key(*d, key, ctrl_c),
            Modal::Run { ticket } => {
                let active = self.pipeline.run(ticket).is_some_and(|r| r.active());
                if ctrl_c && active {
                    if let Some(r) = self.pipeline.run(ticket) {
                        r.cancel.cancel();
                    }
                    self.notify("cancelling: its process group gets SIGTERM, then SIGKILL");
                    Some(Modal::Run { ticket })
                } else if ctrl_c || matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
                    if active {
                        self.notify("still running in the background: :last reopens it");
                    }
                    None
                } else {
                    Some(Modal::Run { ticket })
                }
            }
            Modal::CommandLine(line) => return self.command_key(line, key, ctrl_c),
            Modal::Silences { selected } => {
                let targets: Vec<Target> = self
                    .alerts
                    .active_silences()
                    .into_iter()
                    .map(|(src, s)| Target::silence(src, s))
                    .collect();
                let at =
                    selected.as_ref().and_then(|id| targets.iter().position(|t| &t.id == id)).unwrap_or(0);
                let pick = |i: usize| targets.get(i).map(|t| t.id.clone());
                match (key.code, action) {
                    (KeyCode::Esc, _) => None,
                    _ if ctrl_c => None,
                    (_, Some(Action::Up)) => Some(Modal::Silences { selected: pick(at.saturating_sub(1)) }),
                    (_, Some(Action::Down)) => Some(Modal::Silences {
                        selected: pick((at + 1).min(targets.len().saturating_sub(1))),
                    }),
                    (_, Some(Action::ActionMenu)) | (KeyCode::Enter, _) => {
                        match (targets.get(at), self.pipeline.action("expire_silence")) {
                            (Some(t), Some(def)) => self.open_dialog(def, t.clone()),
                            _ => self.notify("no silence selected"),
                        }
                        return Effect::None;
                    }
                    _ => Some(Modal::Silences { selected }),
                }
            }
            Modal::Audit { selected, detail } => {
                let rows = &self.pipeline.audit;
                let at = selected.and_then(|id| rows.iter().position(|r| r.id == id)).unwrap_or(0);
                let last = rows.len().saturating_sub(1);
                let to = |i: usize| rows.get(i).map(|r| r.id);
                match (key.code, action) {
                    (KeyCode::Enter, _) => Some(Modal::Audit { selected: to(at), detail: !detail }),
                    (KeyCode::Esc, _) if detail => Some(Modal::Audit { selected, detail: false }),
                    (KeyCode::Esc, _) | (_, Some(Action::ToggleAudit)) => None,
                    _ if ctrl_c => None,
                    (_, Some(Action::Up)) => {
                        Some(Modal::Audit { selected: to(at.saturating_sub(1)), detail })
                    }
                    (_, Some(Action::Down)) => {
                        Some(Modal::Audit { selected: to((at + 1).min(last)), detail })
                    }
                    (_, Some(Action::Top)) => Some(Modal::Audit { selected: to(0), detail }),
                    (_, Some(Action::Bottom)) => Some(Modal::Audit { selected: to(last), detail }),
                    _ => Some(Modal::Audit { selected, detail }),
                }
            }
        };
        Effect::None
    }

    fn dialog_key(&mut self, mut d: Dialog, key: &KeyEvent, ctrl_c: bool) -> Effect {
        let plain = !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        let has_fields = d.wants_name() || d.wants_reason();
        match key.code {
            KeyCode::Esc => return self.back_out(d),
            _ if ctrl_c => return self.back_out(d),
            // y/N with the focus on No: only y confirms.
            KeyCode::Char('y' | 'Y') if !has_fields && plain => return self.confirm(d, "y".into()),
            KeyCode::Char('n' | 'N') | KeyCode::Enter if !has_fields => return self.back_out(d),
            KeyCode::Enter => {
                if d.focus != Field::Reason && d.wants_reason() && d.reason.trim().is_empty() {
                    d.focus = Field::Reason;
                } else {
                    let typed = if d.wants_name() { d.name.clone() } else { "y".into() };
                    return self.confirm(d, typed);
                }
            }
            KeyCode::Tab | KeyCode::BackTab => {
                let fields = d.fields();
                if let Some(at) = fields.iter().position(|f| *f == d.focus) {
                    let n = fields.len();
                    let next = if key.code == KeyCode::Tab { (at + 1) % n } else { (at + n - 1) % n };
                    d.focus = fields[next];
                }
            }
            KeyCode::Left | KeyCode::Right if matches!(d.focus, Field::Form(i) if d.form.get(i).is_some_and(|(k, _)| k == crate::ops::silence::DURATION)) => {
                if let Field::Form(i) = d.focus
                    && let Some((_, v)) = d.form.get_mut(i)
                {
                    *v = crate::ops::silence::cycle(v, key.code == KeyCode::Right);
                }
            }
            KeyCode::Backspace => {
                self.focused(&mut d).pop();
            }
            KeyCode::Char(c) if plain && has_fields => self.focused(&mut d).push(c),
            _ => {}
        }
        self.refresh_dialog(&mut d, None);
        self.modal = Some(Modal::Dialog(Box::new(d)));
        Effect::None
    }

    fn focused<'d>(&self, d: &'d mut Dialog) -> &'d mut String {
        match d.focus {
            Field::Name if d.wants_name() => &mut d.name,
            Field::Form(i) if i < d.form.len() => &mut d.form[i].1,
            Field::Override => &mut d.override_word,
            _ => &mut d.reason,
        }
    }

    fn confirm(&mut self, mut d: Dialog, typed: String) -> Effect {
        // The plan is fixed for this instant; the executor prepares it for the same one.
        let planned_at = self.wall;
        self.refresh_dialog(&mut d, Some(planned_at));
        let problem = if let Some(why) = d.blocked() {
            Some(format!("cannot confirm: {why}"))
        } else if d.wants_name() && typed != d.pinned.name {
            Some(format!("the name does not match: type {} exactly", d.pinned.name))
        } else if d.wants_reason() && d.reason.trim().is_empty() {
            Some(if d.overriding() { "overriding needs a reason" } else { "a reason is required" }.into())
        } else {
            None
        };
        if let Some(p) = problem {
            d.error = Some(p);
            self.modal = Some(Modal::Dialog(Box::new(d)));
            return Effect::None;
        }
        let sub = Submission {
            preview: d.preview.clone().unwrap_or_default(),
            confirmation: Confirmation { typed, reason: d.reason.clone(), overriding: d.overriding() },
            form: d.form_map(),
            planned_at,
            backed_out: false,
            def: d.def,
            target: d.pinned,
        };
        let ticket = self.pipeline.submit(self.now, self.config.read_only, sub);
        self.modal = Some(Modal::Run { ticket });
        Effect::None
    }

    /// Backing out is an attempt too: it is audited as cancelled.
    fn back_out(&mut self, d: Dialog) -> Effect {
        let sub = Submission {
            preview: d.preview.clone().unwrap_or_default(),
            confirmation: Confirmation { typed: String::new(), reason: d.reason.clone(), overriding: false },
            form: d.form_map(),
            planned_at: self.wall,
            backed_out: true,
            def: d.def,
            target: d.pinned,
        };
        self.pipeline.submit(self.now, self.config.read_only, sub);
        self.modal = None;
        Effect::None
    }

    /// Names the command line can complete to in this tab.
    pub fn command_names(&self) -> Vec<String> {
        let targets = self.tab_targets();
        let actions = self
            .pipeline
            .actions
            .iter()
            .filter(|a| targets.iter().any(|t| a.applies_to_target(t)))
            .map(|a| a.name.clone());
        actions.chain(COMMANDS.iter().map(|c| (*c).to_owned())).collect()
    }

    fn command_key(&mut self, mut line: CommandLine, key: &KeyEvent, ctrl_c: bool) -> Effect {
        match key.code {
            KeyCode::Esc => return Effect::None,
            _ if ctrl_c => return Effect::None,
            KeyCode::Enter => return self.run_command(line.text.trim()),
            KeyCode::Tab => line.text = complete(&line.text, &self.command_names()),
            KeyCode::Backspace => {
                line.text.pop();
            }
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                line.text.push(c);
            }
            _ => {}
        }
        self.modal = Some(Modal::CommandLine(line));
        Effect::None
    }

    fn run_command(&mut self, text: &str) -> Effect {
        match text {
            "" => Effect::None,
            "arm" => {
                self.arm(true);
                Effect::None
            }
            "disarm" => {
                self.arm(false);
                Effect::None
            }
            "audit" => self.apply(Action::ToggleAudit),
            "help" => self.apply(Action::ToggleHelp),
            "silences" => {
                let first = self.alerts.active_silences().first().map(|(src, s)| Target::silence(src, s).id);
                self.modal = Some(Modal::Silences { selected: first });
                Effect::None
            }
            "last" => {
                match self.pipeline.runs.last() {
                    Some(r) => self.modal = Some(Modal::Run { ticket: r.ticket }),
                    None => self.notify("no action has run in this session"),
                }
                Effect::None
            }
            name => {
                match self.pipeline.action(name) {
                    Some(def) => self.open_action(def),
                    None => self.notify(&format!("no action or command named {name:?} (Tab completes)")),
                }
                Effect::None
            }
        }
    }

    /// Arm (or disarm) the session.
    pub fn arm(&mut self, on: bool) {
        if !on {
            self.pipeline.arming.disarm();
            self.pipeline.was_armed = false;
            self.notify("disarmed");
            return;
        }
        let window = self.pipeline.arm_window;
        match self.pipeline.arming.arm(self.now, window, self.config.read_only) {
            Ok(()) => {
                self.pipeline.was_armed = true;
                let msg =
                    format!("ARMED for {}: mutating actions may run", humantime::format_duration(window));
                tracing::warn!("{msg}");
                self.notify(&msg);
            }
            Err(e) => self.notify(e),
        }
    }
}

impl AppState {
    #[cfg(test)]
    fn apply_key_code(&mut self, code: KeyCode) {
        self.handle_key(&KeyEvent::new(code, KeyModifiers::NONE));
    }
}

/// Complete `text` to the longest prefix shared by the names it starts.
pub fn complete(text: &str, names: &[String]) -> String {
    let matching: Vec<&String> = names.iter().filter(|n| n.starts_with(text)).collect();
    let Some(first) = matching.first() else { return text.to_owned() };
    let mut prefix = first.as_str();
    for n in &matching[1..] {
        let common = prefix.chars().zip(n.chars()).take_while(|(a, b)| a == b).count();
        prefix = &prefix[..prefix.char_indices().nth(common).map_or(prefix.len(), |(i, _)| i)];
    }
    prefix.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::audit::AuditRow;

    fn row(id: i64) -> AuditRow {
        AuditRow {
            id,
            started_at: String::new(),
            session_id: None,
            who: "u".into(),
            ssh_origin: None,
            tty: None,
            host: "h".into(),
            action: format!("a{id}"),
            target_kind: "node".into(),
            target_id: "node:h".into(),
            target_name: "h".into(),
            preview: String::new(),
            preconditions: String::new(),
            guard: "confirmed".into(),
            overridden: false,
            reason: None,
            ending: Some("exit 0".into()),
            finished_at: None,
            duration_ms: None,
            output_excerpt: None,
            session_alive: false,
            ..AuditRow::default()
        }
    }

    #[test]
    fn the_audit_highlight_stays_on_its_row_when_newer_rows_arrive() {
        let theme = crate::theme::Theme::load("mono", None, false).unwrap();
        let now = std::time::Instant::now();
        let mut state = AppState::new(crate::config::Config::default(), None, theme, "h".into(), now);
        state.pipeline.audit = vec![row(2), row(1)];
        state.apply(Action::ToggleAudit);
        state.apply_key_code(KeyCode::Down);
        state.apply_key_code(KeyCode::Enter); // the record of row 1
        state.pipeline.audit = vec![row(3), row(2), row(1)];
        state.apply_key_code(KeyCode::Up);
        assert!(
            matches!(state.modal, Some(Modal::Audit { selected: Some(2), detail: true })),
            "{:?}",
            state.modal
        );
    }

    #[test]
    fn completes_to_the_common_prefix() {
        let names: Vec<String> = ["maintenance_on", "maintenance_off", "audit"].map(String::from).into();
        assert_eq!(complete("ma", &names), "maintenance_o");
        assert_eq!(complete("maintenance_of", &names), "maintenance_off");
        assert_eq!(complete("au", &names), "audit");
        assert_eq!(complete("zz", &names), "zz");
    }
}
