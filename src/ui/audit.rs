//! The audit trail overlay: the newest attempts with outcome colours, and a
//! row's whole record on Enter.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Clear, Paragraph, Row, Table, TableState, Wrap};

use super::widgets::pane;
use crate::app::{AppState, Modal};
use crate::ops::audit::AuditRow;
use crate::theme::Theme;

/// The colour of an outcome: green for success, red for failure and refusal.
fn outcome_style(theme: &Theme, outcome: &str) -> Style {
    match outcome {
        "ok" | "exit 0" => theme.ok,
        "running" | "cancelled" => theme.muted,
        "outcome unknown" | "running, its opsdeck gone" => theme.warning,
        _ => theme.critical,
    }
}

/// Draw the trail over `area`.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let Some(Modal::Audit { selected, detail }) = &state.modal else { return };
    let theme = &state.theme;
    let rows = &state.pipeline.audit;
    let session = state.pipeline.session_id;
    frame.render_widget(Clear, area);
    let at = selected.and_then(|id| rows.iter().position(|r| r.id == id)).unwrap_or(0);
    if *detail && let Some(row) = rows.get(at) {
        let title = format!(" Audit row #{} — Esc back ", row.id);
        let p =
            Paragraph::new(record(row, session, theme)).block(pane(title, theme)).wrap(Wrap { trim: false });
        frame.render_widget(p, area);
        return;
    }
    let title = match (&state.store_path, tampered(state)) {
        (_, Some(why)) => format!(" Audit trail — {why} "),
        (Some(_), None) => format!(" Audit trail — {} rows — Enter shows one, Esc closes ", rows.len()),
        (None, None) => " Audit trail — the store is not open: no action can run ".to_owned(),
    };
    let table_rows = rows.iter().map(|r| {
        let outcome = r.outcome(session);
        let style = outcome_style(theme, &outcome);
        let when = r.started_at.get(..19).unwrap_or(&r.started_at).replace('T', " ");
        Row::new(vec![
            Cell::from(when).style(theme.muted),
            Cell::from(r.who.clone()),
            Cell::from(r.action.clone()),
            Cell::from(r.target_name.clone()),
            Cell::from(outcome).style(style),
        ])
    });
    let header = Row::new(["started (UTC)", "who", "action", "target", "outcome"]).style(theme.header);
    let widths = [
        Constraint::Length(19),
        Constraint::Length(14),
        Constraint::Length(20),
        Constraint::Length(18),
        Constraint::Fill(1),
    ];
    let table = Table::new(table_rows, widths)
        .header(header)
        .row_highlight_style(theme.selection)
        .block(pane(title, theme));
    let mut ts = TableState::default().with_selected((!rows.is_empty()).then_some(at));
    frame.render_stateful_widget(table, area, &mut ts);
}

/// The store source's error when it is the audit chain's verdict: a
/// tampered trail is said in the view's title, not only in the status bar.
fn tampered(state: &AppState) -> Option<&str> {
    let (_, health) = state.health.iter().find(|(name, _)| *name == crate::store::SOURCE)?;
    let (_, error) = health.last_error.as_ref()?;
    error.starts_with("AUDIT TRAIL TAMPERED").then_some(error.as_str())
}

fn record(r: &AuditRow, session: Option<i64>, theme: &Theme) -> Vec<Line<'static>> {
    let field = |k: &str, v: String| {
        Line::from(vec![Span::styled(format!("{k:>14}  "), theme.muted), Span::styled(v, theme.text)])
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let mut out = vec![
        field("started", r.started_at.clone()),
        field("finished", opt(&r.finished_at)),
        field("who", r.who.clone()),
        field("from", opt(&r.ssh_origin)),
        field("claimed", r.claims().unwrap_or_else(|| "—".into())),
        field("process", r.run_pid.map_or_else(|| "—".into(), |p| format!("supervisor pid {p}"))),
        field("tty", opt(&r.tty)),
        field("host", r.host.clone()),
        field("action", r.action.clone()),
        field("target", format!("{} {} ({})", r.target_kind, r.target_name, r.target_id)),
        field("guard", r.guard.clone()),
    ];
    let outcome = r.outcome(session);
    out.push(Line::from(vec![
        Span::styled(format!("{:>14}  ", "outcome"), theme.muted),
        Span::styled(outcome.clone(), outcome_style(theme, &outcome)),
    ]));
    if r.overridden {
        out.push(field("override", "yes: a failed precondition was overridden".into()));
    }
    out.push(field("reason", opt(&r.reason)));
    out.push(field("duration", r.duration_ms.map_or_else(|| "—".into(), |ms| format!("{ms} ms"))));
    for (i, l) in r.preview.lines().enumerate() {
        out.push(field(if i == 0 { "preview" } else { "" }, l.to_owned()));
    }
    for (i, l) in r.preconditions.lines().enumerate() {
        out.push(field(if i == 0 { "preconditions" } else { "" }, l.to_owned()));
    }
    if let Some(text) = &r.output_excerpt {
        out.push(field("output", String::new()));
        out.extend(
            text.lines().map(|l| Line::styled(format!("    {}", super::format::inert(l)), theme.text)),
        );
    }
    out
}
