//! The Logs tab's keys: typing into the filter and search lines, and the
//! keymap's actions on the tab.

use super::{Editing, LogsPane};
use crate::logs::buffer::{Filter, search_pattern};

impl LogsPane {
    /// Typing into the filter or search line; returns whether the key was used.
    /// The filter applies as it is typed; the search highlights as it is
    /// typed and jumps on Enter.
    pub fn edit_key(&mut self, key: &crossterm::event::KeyEvent) -> bool {
        use crossterm::event::{KeyCode, KeyModifiers};
        let Some((what, mut text)) = self.editing.take() else { return false };
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return false; // ctrl-c always quits
        }
        match key.code {
            KeyCode::Enter => {
                if what == Editing::Search {
                    self.set_search(&text);
                }
                return true;
            }
            KeyCode::Esc => text.clear(),
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                text.push(c)
            }
            _ => {
                self.editing = Some((what, text));
                return false;
            }
        }
        match what {
            Editing::Filter => self.set_filter(&text),
            Editing::Search => match search_pattern(&text) {
                Ok(re) if !text.is_empty() => self.search = Some((text.clone(), re)),
                _ => self.search = None,
            },
        }
        if key.code != KeyCode::Esc {
            self.editing = Some((what, text));
        }
        true
    }

    /// A keymap action on the Logs tab; returns whether it was used.
    pub fn apply(&mut self, action: crate::action::Action) -> bool {
        use crate::action::Action as A;
        match action {
            A::Up => self.move_by(-1),
            A::Down => self.move_by(1),
            A::PageUp => self.move_by(-20),
            A::PageDown => self.move_by(20),
            A::Top => self.jump(false),
            A::Bottom => self.jump(true),
            A::Filter => self.editing = Some((Editing::Filter, self.buffer.filter().text.clone())),
            A::Search => self.editing = Some((Editing::Search, String::new())),
            A::SearchNext => self.search_step(true),
            A::SearchPrev => self.search_step(false),
            A::ToggleFollow => self.toggle_follow(),
            A::ToggleWrap => self.wrap = !self.wrap,
            A::ScrollLeft => self.hscroll = self.hscroll.saturating_sub(8),
            A::ScrollRight if !self.wrap => self.hscroll = self.hscroll.saturating_add(8),
            A::CycleSource => self.cycle_source(),
            A::CycleLevel => self.cycle_level(),
            A::Open if self.buffer.shown_len() > 0 => {
                if self.cursor.is_none() {
                    self.pause();
                    self.cursor = self.end_position().and_then(|p| self.buffer.shown(p)).map(|e| e.seq);
                }
                self.detail = true;
            }
            A::CopyLine => {
                self.copy_selected();
            }
            A::Back if self.detail => self.detail = false,
            A::Back if self.input_error.is_some() => self.input_error = None,
            A::Back if self.search.is_some() => self.search = None,
            A::Back if self.buffer.filter().is_active() || !self.buffer.filter().text.is_empty() => {
                self.buffer.set_filter(Filter::default());
            }
            A::Back if self.paused_at.is_some() => self.toggle_follow(),
            _ => return false,
        }
        true
    }
}
