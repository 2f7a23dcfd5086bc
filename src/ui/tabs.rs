//! The tab bar: numbered titles with badges, and the hit test the mouse uses.
//! Both come from `labels`, so what is drawn is what is clickable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Tab;
use crate::action::Action;
use crate::app::AppState;
use crate::config::Level;

/// Below this width the tab bar uses short titles so all five fit with badges.
const COMPACT_BELOW: u16 = 72;

/// One tab's title spans, without separators, for a bar `width` wide.
fn labels(state: &AppState, width: u16) -> Vec<(Tab, Vec<Span<'static>>)> {
    Tab::ALL
        .iter()
        .map(|&tab| {
            let style = if tab == state.tab { state.theme.tab_active } else { state.theme.tab_inactive };
            let title = if width < COMPACT_BELOW { tab.short_title() } else { tab.title() };
            let mut spans = vec![Span::styled(format!(" {} {title} ", tab.number()), style)];
            if let Some((text, badge_style)) = badge(state, tab) {
                // On the tab's own background, so the active tab reads as one block.
                spans.push(Span::styled(text, style.patch(badge_style)));
                spans.push(Span::styled(" ", style));
            }
            (tab, spans)
        })
        .collect()
}

/// The badge a tab carries once it has data.
fn badge(state: &AppState, tab: Tab) -> Option<(String, Style)> {
    match tab {
        Tab::Metrics => {
            let (count, level) = state.metrics_breaches()?;
            Some(match level {
                Level::Ok => ("✓".to_owned(), state.theme.ok),
                Level::Warning => (format!("⚠{count}"), state.theme.warning),
                Level::Critical => (format!("⚠{count}"), state.theme.critical),
            })
        }
        Tab::Alerts => Some(alerts_badge(state)),
        // Error lines in the last minute; nothing while there are none.
        Tab::Logs => {
            let n = state.logs.errors_last_minute();
            (n > 0).then(|| (format!("⚠{n}"), state.theme.warning))
        }
        Tab::Replication | Tab::Backups => None,
    }
}

/// The Alerts badge: firing criticals, else warnings, else ✓ — but never ✓
/// while a configured Alertmanager or Prometheus is failing or silent:
/// then "?" follows what is known ("✗2?", "?"), because its alerts are not.
pub fn alerts_badge(state: &AppState) -> (String, Style) {
    let c = state.alerts.queue.counts();
    let flashing = state.alerts.flash_until.is_some_and(|t| state.now < t);
    let flash = |s: Style| if flashing { s.add_modifier(ratatui::style::Modifier::REVERSED) } else { s };
    let unknown_sources = state.unknown_alert_sources();
    let blind = !unknown_sources.is_empty();
    let unknown = if blind { "?" } else { "" };
    // Not heard from yet (the first second of a run) is not yet alarming; failing is.
    let waiting = unknown_sources.iter().all(|u| u.blind == crate::app::Blind::Waiting);
    if c.critical > 0 {
        (format!("✗{}{unknown}", c.critical), flash(state.theme.critical))
    } else if c.warning > 0 {
        (format!("⚠{}{unknown}", c.warning), state.theme.warning)
    } else if blind {
        ("?".to_owned(), if waiting { state.theme.muted } else { state.theme.critical })
    } else {
        ("✓".to_owned(), state.theme.ok)
    }
}

const SEPARATOR: &str = "│";

/// Draw the tab bar with a help hint on the right.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let mut spans = Vec::new();
    for (i, (_, label)) in labels(state, area.width).into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(SEPARATOR, state.theme.border));
        }
        spans.extend(label);
    }
    let used: usize = spans.iter().map(Span::width).sum();
    let hint = format!("{} help ", state.keymap().hint(Action::ToggleHelp));
    if used + hint.len() < usize::from(area.width) {
        let pad = usize::from(area.width) - used - hint.chars().count();
        spans.push(Span::raw(" ".repeat(pad)));
        spans.push(Span::styled(hint, state.theme.muted));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The tab whose title is at column `x` of the tab bar.
pub fn tab_at(state: &AppState, x: u16, width: u16) -> Option<Tab> {
    let mut start = 0usize;
    for (i, (tab, label)) in labels(state, width).into_iter().enumerate() {
        if i > 0 {
            start += SEPARATOR.chars().count();
        }
        let end = start + label.iter().map(Span::width).sum::<usize>();
        if (start..end).contains(&usize::from(x)) && x < width {
            return Some(tab);
        }
        start = end;
    }
    None
}
