//! The Alerts tab: one queue of everything wrong now, grouped, worst first,
//! with the selected alert's labels, annotations and timeline beside it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph, Wrap};

use super::format;
use super::widgets::{list_and_details, pane};
use crate::alerts::model::{Alert, AlertState, Severity};
use crate::alerts::queue::Row;
use crate::app::{AppState, Blind, UnknownSource};
use crate::theme::Theme;

/// The style of a severity.
pub fn severity_style(theme: &Theme, s: Severity) -> Style {
    match s {
        Severity::Critical => theme.critical,
        Severity::Warning => theme.warning,
        Severity::Info => theme.accent,
        Severity::Unknown => theme.muted,
    }
}

/// How long ago, against the wall clock the app last read (views do no I/O,
/// but reading the clock is not I/O; the state's `wall` keeps frames consistent).
fn age(state: &AppState, at: Option<jiff::Timestamp>) -> String {
    let Some(at) = at else { return "—".into() };
    let secs = state.wall.as_second().saturating_sub(at.as_second()).max(0);
    format::age(std::time::Duration::from_secs(secs.unsigned_abs()))
}

/// Draw the tab.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let pane_state = &state.alerts;
    let show_details = pane_state.selected_alert().is_some();
    let (list_area, details_area) = list_and_details(area, show_details, 120, 58);
    render_list(frame, list_area, state);
    if let (Some(d), Some(alert)) = (details_area, pane_state.selected_alert()) {
        render_details(frame, d, state, alert);
    }
}

fn title(state: &AppState, unknown: &[UnknownSource]) -> Line<'static> {
    let theme = &state.theme;
    let c = state.alerts.queue.counts();
    let mut spans = vec![Span::styled(" Alerts ", theme.title)];
    for (n, label, style) in [
        (c.critical, "critical", theme.critical),
        (c.warning, "warning", theme.warning),
        (c.info, "info", theme.accent),
        (c.pending, "pending", theme.muted),
    ] {
        if n > 0 {
            spans.push(Span::styled(format!("{n} {label} "), style));
        }
    }
    let quiet = if state.alerts.show_quiet { "shown" } else { "hidden" };
    spans.push(Span::styled(format!("· {} quiet ({quiet}) ", c.quiet), theme.muted));
    if state.alerts.history_dropped > 0 {
        let n = state.alerts.history_dropped;
        spans.push(Span::styled(format!("· history: {n} changes not recorded "), theme.warning));
    }
    if !unknown.is_empty() {
        let names: Vec<String> = unknown.iter().map(|u| format::inert(&u.name)).collect();
        spans.push(Span::styled(format!("· ? unknown: {} ", names.join(", ")), theme.critical));
    }
    if !state.alerts.filter_text.is_empty() || state.alerts.editing_filter {
        let cursor = if state.alerts.editing_filter { "█" } else { "" };
        spans.push(Span::styled(format!("filter: {}{cursor} ", state.alerts.filter_text), theme.accent));
    }
    if let Some(e) = &state.alerts.filter_error {
        spans.push(Span::styled(format!("({e}) "), theme.critical));
    }
    Line::from(spans)
}

fn render_list(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let p = &state.alerts;
    let unknown = state.unknown_alert_sources();
    let block = pane(title(state, &unknown), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if p.view.rows.is_empty() {
        frame.render_widget(Paragraph::new(empty_text(state, &unknown)).wrap(Wrap { trim: false }), inner);
        return;
    }
    // What is known is listed; above it, one line per source that is not
    // (at most three, and never the whole pane).
    let banner = u16::try_from(unknown.len().min(3)).unwrap_or(3).min(inner.height.saturating_sub(1));
    let [banner_area, list_area] =
        Layout::vertical([Constraint::Length(banner), Constraint::Min(0)]).areas(inner);
    let width = usize::from(inner.width);
    let lines: Vec<Line> = unknown
        .iter()
        .take(usize::from(banner))
        .map(|u| {
            Line::styled(
                format::truncate(&format!("? alerts unknown: {}", describe(u)), width),
                theme.critical,
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), banner_area);
    // Only the rows on screen are built: a 10,000-alert queue costs what a screenful does.
    let height = usize::from(list_area.height).max(1);
    let selected = p.selected_row();
    let offset = selected.map_or(0, |s| (s + 1).saturating_sub(height));
    let items: Vec<ListItem> = p
        .view
        .rows
        .iter()
        .skip(offset)
        .take(height)
        .map(|row| match row {
            Row::Group { label, counts, pending, collapsed, quiet_section, .. } => {
                let mark = if *collapsed { "▸" } else { "▾" };
                let mut spans = vec![Span::styled(format!("{mark} {label} "), theme.header)];
                for s in [Severity::Critical, Severity::Warning, Severity::Info, Severity::Unknown] {
                    let n = counts.get(s);
                    if n > 0 {
                        spans.push(Span::styled(format!(" {n} {}", s.as_str()), severity_style(theme, s)));
                    }
                }
                if *pending > 0 {
                    spans.push(Span::styled(format!(" ({pending} pending)"), theme.muted));
                }
                if *quiet_section {
                    spans.push(Span::styled("  quiet", theme.muted));
                }
                ListItem::new(Line::from(spans))
            }
            Row::Alert { index } => match p.queue.get(*index) {
                Some(a) => ListItem::new(alert_line(state, a, width)),
                None => ListItem::new(""),
            },
        })
        .collect();
    let mut ls = ListState::default().with_selected(selected.map(|s| s - offset));
    let list = List::new(items).highlight_style(theme.selection);
    frame.render_stateful_widget(list, list_area, &mut ls);
}

/// What is not known about one source, and since when: "am down 40s: why;
/// its alerts shown are 2m old".
pub fn describe(u: &UnknownSource) -> String {
    let name = format::inert(&u.name);
    match &u.blind {
        Blind::Waiting => format!("{name} has not answered yet"),
        Blind::Stale { age } => {
            format!(
                "{name} silent for {} (no poll has finished since); its alerts shown are that old",
                format::age(*age)
            )
        }
        Blind::Failing { down_for, last_ok_age, error } => {
            let error = format::inert(error);
            match last_ok_age {
                Some(a) => format!(
                    "{name} down {}: {error}; its alerts shown are {} old",
                    format::age(*down_for),
                    format::age(*a)
                ),
                None => format!("{name} down {}, never answered: {error}", format::age(*down_for)),
            }
        }
    }
}

fn alert_line(state: &AppState, a: &Alert, width: usize) -> Line<'static> {
    let theme = &state.theme;
    let sev = severity_style(theme, a.severity);
    let state_style = match a.state {
        AlertState::Firing => sev.add_modifier(Modifier::BOLD),
        _ => theme.muted,
    };
    let instance = a.labels.get("instance").map(String::as_str).unwrap_or("");
    let head =
        format!("  {:<8} {:<9} {:>5}  ", a.severity.as_str(), a.state.as_str(), age(state, a.starts_at));
    let rest_w = width.saturating_sub(head.chars().count());
    let text = format::truncate(&format!("{instance}  {}", format::inert(a.headline())), rest_w);
    Line::from(vec![
        Span::styled(format!("  {:<8} ", a.severity.as_str()), sev),
        Span::styled(format!("{:<9} ", a.state.as_str()), state_style),
        Span::styled(format!("{:>5}  ", age(state, a.starts_at)), theme.muted),
        Span::styled(text, if a.state.is_quiet() { theme.muted } else { theme.text }),
    ])
}

fn empty_text(state: &AppState, unknown: &[UnknownSource]) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let rules: Vec<String> =
        state.config.rules.iter().filter(|r| r.enabled).map(|r| r.name.clone()).collect();
    let mut out = Vec::new();
    if unknown.is_empty() {
        out.push(Line::styled("Nothing is wrong right now.", theme.ok));
    } else {
        // Blind is not fine: say what is not known, then what is.
        out.extend(
            unknown.iter().map(|u| Line::styled(format!("Alerts unknown: {}", describe(u)), theme.critical)),
        );
        let answering: Vec<String> = state
            .remote_alert_sources()
            .filter(|n| !unknown.iter().any(|u| u.name == *n))
            .map(format::inert)
            .chain((!rules.is_empty()).then(|| "the local rules".to_owned()))
            .collect();
        if let Some((last, rest)) = answering.split_last() {
            let from = if rest.is_empty() { last.clone() } else { format!("{} and {last}", rest.join(", ")) };
            out.push(Line::styled(format!("Nothing firing from {from}."), theme.text));
        }
    }
    out.push(Line::raw(""));
    out.push(Line::styled(format!("Local rules watching this node: {}", rules.join(", ")), theme.text));
    if state.config.alertmanager.is_empty() && state.config.prometheus.is_empty() {
        out.push(Line::styled(
            "Add [[alertmanager]] (API v2) or [[prometheus]] to the config to see their alerts here:",
            theme.muted,
        ));
        out.push(Line::styled("    [[alertmanager]]", theme.accent));
        out.push(Line::styled("    name = \"am\"", theme.accent));
        out.push(Line::styled("    url = \"http://127.0.0.1:9093\"", theme.accent));
    }
    if state.alerts.view.quiet_hidden > 0 {
        out.push(Line::styled(
            format!(
                "{} acked/silenced/inhibited alerts are hidden ({} shows them).",
                state.alerts.view.quiet_hidden,
                state.keymap().hint(crate::action::Action::ToggleQuiet)
            ),
            theme.muted,
        ));
    }
    out
}

fn render_details(frame: &mut Frame, area: Rect, state: &AppState, a: &Alert) {
    let theme = &state.theme;
    let field = |k: &str, v: String, style: Style| {
        Line::from(vec![
            Span::styled(format!("{k:>11} "), theme.muted),
            Span::styled(format::inert(&v), style),
        ])
    };
    let mut lines = vec![
        field("severity", a.severity.as_str().into(), severity_style(theme, a.severity)),
        field("state", a.state.as_str().into(), theme.text),
        field(
            "since",
            a.starts_at.map_or_else(|| "—".into(), |t| format!("{t} ({} ago)", age(state, Some(t)))),
            theme.text,
        ),
        field("seen by", a.seen_by.join(", "), theme.text),
    ];
    if let Some(v) = &a.value {
        lines.push(field("value", v.clone(), theme.text));
    }
    if let Some(ack) = state.alerts.queue.ack(&a.fingerprint) {
        lines.push(field("acked", format!("by {} at {}: {}", ack.who, ack.at, ack.comment), theme.muted));
    }
    if !a.silenced_by.is_empty() {
        lines.push(field("silenced by", a.silenced_by.join(", "), theme.muted));
    }
    if !a.inhibited_by.is_empty() {
        lines.push(field("inhibited by", a.inhibited_by.join(", "), theme.muted));
    }
    lines.push(Line::styled(" labels", theme.header));
    lines.extend(a.labels.iter().map(|(k, v)| field(k, v.clone(), theme.text)));
    if !a.annotations.is_empty() {
        lines.push(Line::styled(" annotations", theme.header));
        lines.extend(a.annotations.iter().map(|(k, v)| field(k, v.clone(), theme.text)));
    }
    if let Some(url) = &a.generator_url {
        lines.push(field("source", url.clone(), theme.muted));
    }
    let (whose, events) = &state.alerts.timeline;
    if whose == &a.fingerprint && !events.is_empty() {
        lines.push(Line::styled(" timeline", theme.header));
        if state.alerts.history_dropped > 0 {
            let n = state.alerts.history_dropped;
            let text = format!(" may be incomplete: {n} state changes were not recorded in this session");
            lines.push(Line::styled(text, theme.warning));
        }
        for e in events {
            if e.to == crate::alerts::history::OLDER_NOT_SHOWN {
                lines.push(Line::styled(format!(" … {}", e.summary.as_deref().unwrap_or("")), theme.muted));
                continue;
            }
            let when = e.at.get(11..19).unwrap_or(&e.at).to_owned();
            let change =
                e.from.as_deref().map_or_else(|| format!("→ {}", e.to), |f| format!("{f} → {}", e.to));
            lines.push(field(&when, change, theme.text));
        }
    }
    let block = pane(format!(" {} ", format::inert(&a.name)), theme);
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), area);
}
