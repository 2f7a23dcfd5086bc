//! The whole vocabulary of the program: what a key, a mouse click or a
//! command means, independent of which key produced it. The keymap (data)
//! maps keys to these; the help overlay is generated from them.

use serde::{Deserialize, Serialize};

use crate::ui::Tab;

/// Something the operator asked for. Serialized in snake_case in the `[keys]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Quit opsdeck.
    Quit,
    /// Suspend to the shell; `fg` brings opsdeck back.
    Suspend,
    /// Repaint the whole screen (after line noise on a flaky SSH link).
    Redraw,
    /// Go to the next tab.
    NextTab,
    /// Go to the previous tab.
    PrevTab,
    /// Go to the Metrics tab.
    TabMetrics,
    /// Go to the Alerts tab.
    TabAlerts,
    /// Go to the Replication tab.
    TabReplication,
    /// Go to the Backups tab.
    TabBackups,
    /// Go to the Logs tab.
    TabLogs,
    /// Show or hide this help.
    ToggleHelp,
    /// Show or hide opsdeck's own log.
    ToggleInternalLog,
    /// Move the selection up.
    Up,
    /// Move the selection down.
    Down,
    /// Move the selection up a page.
    PageUp,
    /// Move the selection down a page.
    PageDown,
    /// Jump to the first row.
    Top,
    /// Jump to the last row.
    Bottom,
    /// Sort processes by CPU use.
    SortByCpu,
    /// Sort processes by memory use.
    SortByMemory,
    /// Show or hide kernel threads in the process list.
    ToggleKernelThreads,
    /// Filter the list (type, Enter to keep, Esc to clear).
    Filter,
    /// Close the open overlay, or clear the filter.
    Back,
    /// Open the menu of actions for the selected row.
    ActionMenu,
    /// Type an action's name (with completion) and run it on the selected row.
    CommandLine,
    /// Arm the session for mutating actions, or disarm it.
    ToggleArm,
    /// Show or hide the audit trail.
    ToggleAudit,
    /// Show or hide acked, silenced and inhibited alerts.
    ToggleQuiet,
    /// Open the selected row: a backup catalog's list of backups; a log line's details.
    Open,
    /// Logs: search (a substring, or /regex/); matches are highlighted.
    Search,
    /// Logs: next search match.
    SearchNext,
    /// Logs: previous search match.
    SearchPrev,
    /// Logs: pause / resume following (paused, lines keep arriving and are counted).
    ToggleFollow,
    /// Logs: wrap long lines on/off.
    ToggleWrap,
    /// Logs: scroll left (wrap off).
    ScrollLeft,
    /// Logs: scroll right (wrap off).
    ScrollRight,
    /// Logs: copy the selected line to the clipboard (OSC 52, works over SSH).
    CopyLine,
    /// Logs: all sources merged, then one at a time.
    CycleSource,
    /// Logs: minimum level: all, warning, error.
    CycleLevel,
    /// Metrics: move the keys between the process list and the fleet table.
    SwitchPane,
    /// Jump from the selected row to what it concerns on another tab.
    Jump,
}

impl Action {
    /// Every action, in the order the help overlay lists them.
    pub const ALL: [Action; 41] = [
        Action::Quit,
        Action::Suspend,
        Action::Redraw,
        Action::NextTab,
        Action::PrevTab,
        Action::TabMetrics,
        Action::TabAlerts,
        Action::TabReplication,
        Action::TabBackups,
        Action::TabLogs,
        Action::ToggleHelp,
        Action::ToggleInternalLog,
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::SortByCpu,
        Action::SortByMemory,
        Action::ToggleKernelThreads,
        Action::Filter,
        Action::Back,
        Action::ActionMenu,
        Action::CommandLine,
        Action::ToggleArm,
        Action::ToggleAudit,
        Action::ToggleQuiet,
        Action::Open,
        Action::Search,
        Action::SearchNext,
        Action::SearchPrev,
        Action::ToggleFollow,
        Action::ToggleWrap,
        Action::ScrollLeft,
        Action::ScrollRight,
        Action::CopyLine,
        Action::CycleSource,
        Action::CycleLevel,
        Action::SwitchPane,
        Action::Jump,
    ];

    /// One line for the help overlay.
    pub fn description(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Suspend => "suspend to the shell (fg to return)",
            Action::Redraw => "repaint the whole screen",
            Action::NextTab => "next tab",
            Action::PrevTab => "previous tab",
            Action::TabMetrics => "Metrics tab",
            Action::TabAlerts => "Alerts tab",
            Action::TabReplication => "Replication tab",
            Action::TabBackups => "Backups tab",
            Action::TabLogs => "Logs tab",
            Action::ToggleHelp => "show/hide this help",
            Action::ToggleInternalLog => "show/hide opsdeck's own log",
            Action::Up => "selection up",
            Action::Down => "selection down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "first row",
            Action::Bottom => "last row",
            Action::SortByCpu => "sort processes by CPU",
            Action::SortByMemory => "sort processes by memory",
            Action::ToggleKernelThreads => "show/hide kernel threads",
            Action::Filter => "filter the list: text or matchers (Enter keeps, Esc clears)",
            Action::Back => "close overlay / clear filter",
            Action::ActionMenu => "actions for the selected row",
            Action::CommandLine => "run an action by name (Tab completes)",
            Action::ToggleArm => "arm / disarm mutating actions",
            Action::ToggleAudit => "show/hide the audit trail",
            Action::ToggleQuiet => "show/hide acked, silenced and inhibited alerts",
            Action::Open => "open the selected row (a catalog's backups, a log line's details)",
            Action::Search => "Logs: search (a substring, or /regex/); matches are highlighted",
            Action::SearchNext => "Logs: next search match",
            Action::SearchPrev => "Logs: previous search match",
            Action::ToggleFollow => {
                "Logs: pause / resume following (paused, lines keep arriving and are counted)"
            }
            Action::ToggleWrap => "Logs: wrap long lines on/off",
            Action::ScrollLeft => "Logs: scroll left (wrap off)",
            Action::ScrollRight => "Logs: scroll right (wrap off)",
            Action::CopyLine => "Logs: copy the selected line to the clipboard (OSC 52, works over SSH)",
            Action::CycleSource => "Logs: all sources merged, then one at a time",
            Action::CycleLevel => "Logs: minimum level: all, warning, error",
            Action::SwitchPane => "Metrics: keys move the process list or the fleet table",
            Action::Jump => {
                "jump: an alert to its node (1), member (3) or logs (5); a member or backup to its alerts (2)"
            }
        }
    }

    /// The name used in the `[keys]` table.
    pub fn config_name(self) -> String {
        // serde is the one source of truth for the spelling.
        toml::Value::try_from(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("{self:?}"))
    }

    /// The tab this action jumps to, if it is a tab jump.
    pub fn target_tab(self) -> Option<Tab> {
        match self {
            Action::TabMetrics => Some(Tab::Metrics),
            Action::TabAlerts => Some(Tab::Alerts),
            Action::TabReplication => Some(Tab::Replication),
            Action::TabBackups => Some(Tab::Backups),
            Action::TabLogs => Some(Tab::Logs),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_action_once() {
        let mut seen = std::collections::BTreeSet::new();
        for a in Action::ALL {
            assert!(seen.insert(a), "{a:?} listed twice");
            assert!(!a.description().is_empty());
        }
        // A variant missing from ALL would be missing from help: the match in
        // description() is exhaustive, so count the variants by name too.
        assert_eq!(seen.len(), Action::ALL.len());
    }

    #[test]
    fn config_names_are_snake_case() {
        assert_eq!(Action::ToggleInternalLog.config_name(), "toggle_internal_log");
        assert_eq!(Action::Quit.config_name(), "quit");
    }
}
