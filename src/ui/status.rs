//! The status bar: host, READ-ONLY badge, each source's health, theme, clock.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format;
use crate::app::AppState;
use crate::sources::HealthStatus;
use crate::sources::maintenance::MaintenanceState;

/// Draw the status bar.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let mut left = vec![Span::styled(format!(" {} ", state.host), theme.status_bar.patch(theme.title))];
    if state.config.read_only {
        left.push(Span::styled(" READ-ONLY ", theme.read_only));
    }
    if let Some(left_armed) = state.pipeline.arming.remaining(state.now) {
        let secs = left_armed.as_secs();
        let text = format!(" ARMED {}:{:02} ", secs / 60, secs % 60);
        left.push(Span::styled(text, theme.critical.add_modifier(ratatui::style::Modifier::REVERSED)));
    }
    for run in state.pipeline.active_runs() {
        let secs = state.now.saturating_duration_since(run.started).as_secs();
        left.push(Span::styled(format!(" ⏵ {} {}s ", run.def.name, secs), theme.accent));
    }
    if state.pipeline.unknown_outcomes > 0 {
        let n = state.pipeline.unknown_outcomes;
        left.push(Span::styled(format!(" ⚠ {n} outcome unknown "), theme.warning));
    }
    let alerts = state.alerts.queue.counts();
    if alerts.critical + alerts.warning > 0 {
        left.push(Span::styled(" alerts", theme.muted));
        if alerts.critical > 0 {
            left.push(Span::styled(format!(" ✗{}", alerts.critical), theme.critical));
        }
        if alerts.warning > 0 {
            left.push(Span::styled(format!(" ⚠{}", alerts.warning), theme.warning));
        }
    }
    if let Some(MaintenanceState::On { note }) = &state.maintenance {
        let text = if note.is_empty() {
            " MAINTENANCE ".to_owned()
        } else {
            format!(" MAINTENANCE: {} ", format::truncate(note, 30))
        };
        left.push(Span::styled(text, theme.warning.add_modifier(ratatui::style::Modifier::REVERSED)));
    }
    for (name, health) in &state.health {
        left.push(Span::raw(" "));
        let (mark, style, detail) = match health.status(state.now) {
            HealthStatus::Pending => ("…", theme.muted, String::new()),
            HealthStatus::Ok => ("✓", theme.ok, String::new()),
            HealthStatus::Stale { age } => ("⚠", theme.warning, format!(" {} old", format::age(age))),
            HealthStatus::Failing { last_ok_age, error } => {
                let age = last_ok_age
                    .map_or_else(|| " no data".to_owned(), |a| format!(" data {} old", format::age(a)));
                ("✗", theme.critical, format!("{age}: {}", format::truncate(error, 40)))
            }
        };
        left.push(Span::styled(format!("{name} {mark}{detail}"), style));
    }
    if let Some(notice) = state.current_notice() {
        left.push(Span::styled(format!("  {notice}"), theme.accent));
    }
    let right = format!(" {} │ {} ", state.theme.name, state.clock);
    let used: usize = left.iter().map(Span::width).sum();
    let width = usize::from(area.width);
    let right_w = right.chars().count();
    if used + right_w <= width {
        left.push(Span::raw(" ".repeat(width - used - right_w)));
        left.push(Span::raw(right));
    }
    frame.render_widget(Paragraph::new(Line::from(left)).style(theme.status_bar), area);
}
