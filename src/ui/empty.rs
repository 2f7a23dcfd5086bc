//! Honest empty states for tabs whose sources are not configured (or not
//! polled by this build yet): what to configure, and the snippet that does it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::Tab;
use super::widgets::pane;
use crate::app::AppState;

struct EmptyState {
    what: &'static str,
    snippet: &'static str,
}

fn empty_state(tab: Tab) -> EmptyState {
    match tab {
        Tab::Alerts => EmptyState {
            what: "Alerts gathers one queue from Alertmanager (API v2) and Prometheus (/api/v1/alerts). \
                   Name the servers to read:",
            snippet: "[[alertmanager]]\nname = \"am\"\nurl = \"http://127.0.0.1:9093\"\n\n\
                      [[prometheus]]\nname = \"prom\"\nurl = \"http://127.0.0.1:9090\"",
        },
        Tab::Replication => EmptyState {
            what: "Replication shows each database cluster as a topology with lag. \
                   List the members; roles are discovered:",
            snippet: "[[clusters]]\nname = \"main-pg\"\nkind = \"postgres\"   # postgres | mysql | redis\n\
                      members = [\"127.0.0.1:5432\", \"127.0.0.1:5433\"]",
        },
        Tab::Backups => EmptyState {
            what: "Backups catalogs what your backups promise, against the RPO. Name where they land:",
            snippet: "[[backups]]\nname = \"nightly-dumps\"\nkind = \"dir\"        # dir | restic | pgbackrest | walg\n\
                      path = \"/var/backups/mysql\"\nrpo = \"26h\"",
        },
        Tab::Logs | Tab::Metrics => EmptyState {
            what: "Logs tails files live, merged or one by one. Name the files:",
            snippet: "[[logs]]\nname = \"syslog\"\npath = \"/var/log/syslog\"",
        },
    }
}

/// Names of what the config already lists for this tab.
fn configured(state: &AppState, tab: Tab) -> Vec<String> {
    let c = &state.config;
    match tab {
        Tab::Alerts => c
            .alertmanager
            .iter()
            .map(|s| format!("alertmanager {} ({})", s.name, s.url))
            .chain(c.prometheus.iter().map(|s| format!("prometheus {} ({})", s.name, s.url)))
            .collect(),
        Tab::Replication => c
            .clusters
            .iter()
            .map(|s| format!("{} ({:?}, {} members)", s.name, s.kind, s.members.len()))
            .collect(),
        Tab::Backups => {
            c.backups.iter().map(|s| format!("{} ({:?} at {})", s.name, s.kind, s.path)).collect()
        }
        Tab::Logs => c.logs.iter().map(|s| format!("{} ({})", s.name, s.path)).collect(),
        Tab::Metrics => Vec::new(),
    }
}

/// Draw the empty state for `tab`.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState, tab: Tab) {
    let theme = &state.theme;
    let block = pane(format!(" {} ", tab.title()), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let es = empty_state(tab);
    let listed = configured(state, tab);
    let config_path =
        state.config_path.as_ref().map_or_else(|| "your config file".to_owned(), |p| p.display().to_string());
    let mut text = Vec::new();
    if listed.is_empty() {
        text.push(Line::styled("Nothing configured for this tab yet.", theme.title));
    } else {
        text.push(Line::styled("Configured, but this build does not poll these yet:", theme.warning));
        // Backups rows are selectable already: a SQLite catalog has its backup action.
        let selected = if tab == Tab::Backups { state.backups.selected } else { None };
        text.extend(listed.into_iter().enumerate().map(|(i, s)| {
            if selected == Some(i) {
                Line::styled(format!("› • {s}"), theme.selection)
            } else {
                Line::styled(format!("  • {s}"), theme.text)
            }
        }));
        if tab == Tab::Backups
            && state.config.backups.iter().any(|b| b.kind == crate::config::backups::BackupKind::Sqlite)
        {
            let keys = state.keymap();
            text.push(Line::styled(
                format!(
                    "  {}/{} selects; {} on a sqlite catalog backs it up now",
                    keys.hint(crate::action::Action::Down),
                    keys.hint(crate::action::Action::Up),
                    keys.hint(crate::action::Action::ActionMenu)
                ),
                theme.muted,
            ));
        }
    }
    text.push(Line::raw(""));
    text.push(Line::styled(es.what, theme.text));
    text.push(Line::from(vec![
        Span::styled("Add to ", theme.muted),
        Span::styled(config_path, theme.accent),
        Span::styled(" (`opsdeck config init` writes a commented example):", theme.muted),
    ]));
    text.push(Line::raw(""));
    // One paragraph, so wrapped prose pushes the snippet down instead of
    // being clipped by a height computed from unwrapped lines.
    text.extend(es.snippet.lines().map(|l| Line::styled(format!("    {l}"), theme.accent)));
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), inner);
}
