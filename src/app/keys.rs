//! Keys shared by the typed filters, and each tab's own keys (kept apart
//! from `state.rs`, which routes keys: overlays and modals first, then the
//! current tab's, then the global ones).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::AppState;
use crate::action::Action;

/// What a key did to a line being typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LineEdit {
    /// Enter: keep the text, stop typing.
    Keep,
    /// Esc: the text was cleared, stop typing.
    Clear,
    /// A character was added or removed.
    Changed,
}

/// Apply `key` to `text` as a one-line editor; `None` when the key is not
/// an edit (arrows still move the list; ctrl-c still quits).
pub(super) fn line_edit(key: &KeyEvent, action: Option<Action>, text: &mut String) -> Option<LineEdit> {
    if matches!(action, Some(Action::Quit)) && key.modifiers.contains(KeyModifiers::CONTROL) {
        return None;
    }
    match key.code {
        KeyCode::Enter => Some(LineEdit::Keep),
        KeyCode::Esc => {
            text.clear();
            Some(LineEdit::Clear)
        }
        KeyCode::Backspace => {
            text.pop();
            Some(LineEdit::Changed)
        }
        KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
            text.push(c);
            Some(LineEdit::Changed)
        }
        _ => None,
    }
}

/// Rows a page key moves.
const PAGE: isize = 10;

impl AppState {
    /// The Alerts tab's keys; returns whether the action was the tab's.
    pub(super) fn apply_alerts(&mut self, action: Action) -> bool {
        let a = &mut self.alerts;
        match action {
            Action::Up => a.move_by(-1),
            Action::Down => a.move_by(1),
            Action::PageUp => a.move_by(-PAGE),
            Action::PageDown => a.move_by(PAGE),
            Action::Top => a.jump(false),
            Action::Bottom => a.jump(true),
            Action::Filter => a.editing_filter = true,
            Action::ToggleQuiet => a.toggle_quiet(),
            Action::Back if !a.filter_text.is_empty() => a.set_filter(String::new()),
            Action::Back if a.selected.is_some() => a.selected = None,
            _ => return false,
        }
        true
    }

    /// The Replication tab's keys; returns whether the action was the tab's.
    pub(super) fn apply_replication(&mut self, action: Action) -> bool {
        let r = &mut self.replication;
        match action {
            Action::Up => r.move_by(-1),
            Action::Down => r.move_by(1),
            Action::PageUp => r.move_by(-PAGE),
            Action::PageDown => r.move_by(PAGE),
            Action::Top => r.jump(false),
            Action::Bottom => r.jump(true),
            Action::Back if r.selected.is_some() => r.selected = None,
            _ => return false,
        }
        true
    }

    /// The Backups tab's keys; returns whether the action was the tab's.
    pub(super) fn apply_backups(&mut self, action: Action) -> bool {
        let b = &mut self.backups;
        match action {
            Action::Up => b.move_by(-1),
            Action::Down => b.move_by(1),
            Action::PageUp => b.move_by(-PAGE),
            Action::PageDown => b.move_by(PAGE),
            Action::Top => b.jump(false),
            Action::Bottom => b.jump(true),
            Action::Open => b.enter(),
            Action::Back if b.selected.is_some() => {
                b.back();
            }
            _ => return false,
        }
        true
    }

    /// The Logs tab's keys; returns whether the action was the tab's.
    pub(super) fn apply_logs(&mut self, action: Action) -> bool {
        if !self.logs.apply(action) {
            return false;
        }
        if action == Action::CopyLine && self.logs.clipboard.is_some() {
            self.notify("copied the line to the clipboard (OSC 52)");
        }
        true
    }

    /// Typing into the fleet filter; returns whether the key was consumed.
    pub(super) fn edit_fleet_filter(&mut self, key: &KeyEvent, action: Option<Action>) -> bool {
        let mut text = self.fleet.filter.clone();
        let Some(edit) = line_edit(key, action, &mut text) else { return false };
        self.fleet.editing_filter = edit == LineEdit::Changed;
        if edit != LineEdit::Keep {
            self.fleet.set_filter(text);
        }
        true
    }

    /// The Metrics tab's fleet keys: `switch_pane` moves the keys between
    /// the process list and the fleet table; while the table has them, the
    /// selection keys move it, Enter opens the node's charts and Esc steps
    /// back (charts, then filter, then the process list). Returns whether
    /// the action was the table's.
    pub(super) fn apply_fleet(&mut self, action: Action) -> bool {
        let fleet = &mut self.fleet;
        if action == Action::SwitchPane {
            if fleet.is_empty() && self.config.nodes.is_empty() {
                self.notify("no fleet to select: configure [fleet] with a [[prometheus]], or [[nodes]]");
            } else {
                fleet.focused = !fleet.focused;
                if fleet.focused && fleet.selected_index().is_none() {
                    fleet.jump(false);
                }
            }
            return true;
        }
        if action == Action::Back && fleet.detail.is_some() {
            fleet.detail = None;
            return true;
        }
        if !fleet.focused {
            return false;
        }
        match action {
            Action::Up => fleet.move_by(-1),
            Action::Down => fleet.move_by(1),
            Action::PageUp => fleet.move_by(-PAGE),
            Action::PageDown => fleet.move_by(PAGE),
            Action::Top => fleet.jump(false),
            Action::Bottom => fleet.jump(true),
            Action::Filter => fleet.editing_filter = true,
            Action::Open => fleet.open_selected(self.now),
            Action::Back if !fleet.filter.is_empty() => fleet.set_filter(String::new()),
            Action::Back => fleet.focused = false,
            _ => return false,
        }
        true
    }
}
