//! Health pane: each `[[health]]` check's state, status code, latency, a
//! latency sparkline and why it fails (or how old its last probe is).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use crate::app::AppState;
use crate::app::checks::{CheckState, HISTORY};
use crate::sources::health_checks::Verdict;
use crate::theme::Theme;
use crate::ui::format;
use crate::ui::widgets::{pane, spark};

/// Rows the pane wants: its checks, a header and the border.
pub(super) fn height(state: &AppState) -> u16 {
    u16::try_from(state.checks.checks.len()).unwrap_or(u16::MAX).saturating_add(3)
}

pub(super) fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let pane_state = &state.checks;
    let total = pane_state.checks.len();
    let down = pane_state.down();
    let mut title = vec![Span::raw(" Health ")];
    if down > 0 {
        title.push(Span::styled(format!("{down}/{total} down "), theme.critical));
    } else {
        title.push(Span::styled(format!("{total} checks "), theme.muted));
    }
    let block = pane(Line::from(title), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let header = Row::new(["CHECK", "STATE", "CODE", "LATENCY", "HISTORY", "DETAIL"]).style(theme.header);
    let rows = pane_state.checks.iter().map(|c| row(c, state));
    let widths = [
        Constraint::Max(20),
        Constraint::Length(9),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Length(HISTORY as u16 / 2),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), inner);
}

fn row<'a>(c: &'a CheckState, state: &AppState) -> Row<'a> {
    let theme = &state.theme;
    let now = state.now;
    let (label, style) = state_cell(c, now, theme);
    let last = c.last.as_ref().map(|(_, o)| o);
    let code = last.and_then(|o| o.status).map_or_else(|| "–".to_owned(), |s| s.to_string());
    let latency = last.map_or_else(|| "–".to_owned(), |o| format!("{}ms", o.latency.as_millis()));
    // Half the history fits beside the table on 80 columns; the newest half shows.
    let history = spark(c.latencies.iter().skip(c.latencies.len().saturating_sub(HISTORY / 2)).copied());
    let detail = match (&c.error, last.map(|o| &o.verdict)) {
        (Some((_, e)), _) => format!("cannot check: {}", format::inert(e)),
        (None, Some(Verdict::Down(why))) => {
            let since = c.last_healthy.map_or_else(
                || "never up since start".to_owned(),
                |t| format!("last up {} ago", format::age(now.saturating_duration_since(t))),
            );
            format!("{}; {since}", format::inert(why))
        }
        (None, Some(_)) => c.url.clone(),
        (None, None) => format!("probing {}…", c.url),
    };
    Row::new([
        Cell::from(c.name.as_str()).style(theme.text),
        Cell::from(label).style(style),
        Cell::from(code).style(theme.text),
        Cell::from(latency).style(if matches!(last.map(|o| &o.verdict), Some(Verdict::Slow)) {
            theme.warning
        } else {
            theme.text
        }),
        Cell::from(history).style(theme.accent),
        Cell::from(detail).style(theme.muted),
    ])
}

/// `✓ up`, `▲ slow`, `✗ down`, `… wait`, or `stale 3m` when the probes stopped arriving.
fn state_cell(c: &CheckState, now: std::time::Instant, theme: &Theme) -> (String, ratatui::style::Style) {
    if let Some((at, _)) = c.last.as_ref().filter(|_| c.is_stale(now)) {
        return (format!("stale {}", format::age(now.saturating_duration_since(*at))), theme.warning);
    }
    if c.error.is_some() {
        return ("? error".into(), theme.warning);
    }
    match c.verdict() {
        None => ("… wait".into(), theme.muted),
        Some(Verdict::Up) => ("✓ up".into(), theme.ok),
        Some(Verdict::Slow) => ("▲ slow".into(), theme.warning),
        Some(Verdict::Down(_)) => ("✗ down".into(), theme.critical),
    }
}
