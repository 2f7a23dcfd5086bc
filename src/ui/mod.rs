//! Views: functions from `&AppState` to a frame. They never change state and
//! never touch the network or the disk.
//!
//! ```text
//! ┌ tabs.rs ──────────────────────────────────────────────┐ row 0
//! │ metrics/ or empty.rs (the current tab's body)          │
//! │                                                        │
//! ├ status.rs ─────────────────────────────────────────────┤ last row
//! └ help.rs / internal_log.rs drawn on top when open ──────┘
//! ```

pub mod actions;
pub mod alerts;
pub mod audit;
pub mod backups;
pub mod empty;
pub mod format;
pub mod help;
pub mod internal_log;
pub mod jump;
pub mod logs;
pub mod metrics;
pub mod replication;
pub mod status;
pub mod tabs;
pub mod wall;
pub mod widgets;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::{AppState, Overlay};
use crate::config::backups::BackupKind;

/// Below this the screen says so instead of drawing a broken layout.
pub const MIN_WIDTH: u16 = 60;
/// Below this the screen says so instead of drawing a broken layout.
pub const MIN_HEIGHT: u16 = 16;

/// The five tabs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tab {
    /// This node (and later the fleet).
    Metrics,
    /// One queue of everything that is wrong.
    Alerts,
    /// Database topologies and lag.
    Replication,
    /// Backup catalog against the RPO.
    Backups,
    /// Live log tail.
    Logs,
}

impl Tab {
    /// All tabs, left to right.
    pub const ALL: [Tab; 5] = [Tab::Metrics, Tab::Alerts, Tab::Replication, Tab::Backups, Tab::Logs];

    /// The title in the tab bar.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Metrics => "Metrics",
            Tab::Alerts => "Alerts",
            Tab::Replication => "Replication",
            Tab::Backups => "Backups",
            Tab::Logs => "Logs",
        }
    }

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// The tab to the right, wrapping.
    pub fn next(self) -> Tab {
        Tab::ALL[(self.index() + 1) % Tab::ALL.len()]
    }

    /// The tab to the left, wrapping.
    pub fn previous(self) -> Tab {
        Tab::ALL[(self.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
    }

    /// A shorter title for narrow screens.
    pub fn short_title(self) -> &'static str {
        match self {
            Tab::Replication => "Repl",
            other => other.title(),
        }
    }

    /// Its number key, 1-based.
    pub fn number(self) -> usize {
        self.index() + 1
    }
}

/// Draw the whole screen.
pub fn render(frame: &mut Frame, state: &AppState) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        render_too_small(frame, area, state);
        return;
    }
    let [tab_bar, body, status_bar] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    tabs::render(frame, tab_bar, state);
    if state.wall_mode.as_ref().is_some_and(|w| w.summary) {
        wall::render(frame, body, state);
        status::render(frame, status_bar, state);
        return;
    }
    match state.tab {
        Tab::Metrics => metrics::render(frame, body, state),
        Tab::Alerts => alerts::render(frame, body, state),
        Tab::Replication if !state.config.clusters.is_empty() => replication::render(frame, body, state),
        Tab::Logs => logs::render(frame, body, state),
        Tab::Backups if state.config.backups.iter().any(|b| b.kind != BackupKind::Sqlite) => {
            backups::render(frame, body, state);
        }
        other => empty::render(frame, body, state, other),
    }
    status::render(frame, status_bar, state);
    match state.overlay {
        Some(Overlay::Help { scroll }) => help::render(frame, body, state, scroll),
        Some(Overlay::InternalLog) => internal_log::render(frame, body, state),
        None => {}
    }
    actions::render(frame, body, state);
    jump::render(frame, body, state);
}

fn render_too_small(frame: &mut Frame, area: Rect, state: &AppState) {
    let text = vec![
        Line::from(format!("Terminal too small: {}×{}", area.width, area.height)),
        Line::from(format!("opsdeck needs at least {MIN_WIDTH}×{MIN_HEIGHT}.")),
        Line::from(format!("Quit: {}", state.keymap().describe(crate::action::Action::Quit))),
    ];
    frame.render_widget(Paragraph::new(text).style(state.theme.warning).wrap(Wrap { trim: true }), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_cycle_both_ways() {
        assert_eq!(Tab::Logs.next(), Tab::Metrics);
        assert_eq!(Tab::Metrics.previous(), Tab::Logs);
        for t in Tab::ALL {
            assert_eq!(t.next().previous(), t);
        }
        assert_eq!(Tab::Backups.number(), 4);
    }
}
