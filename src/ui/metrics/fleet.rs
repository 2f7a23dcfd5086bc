//! Fleet pane: every node Prometheus (`[fleet]`) or a direct scrape
//! (`[[nodes]]`) reports, worst first — down nodes, then by how far the
//! worst of CPU, memory and disk is towards its critical threshold — with
//! this node's own row first when it is in the fleet. Only the rows that fit
//! are built, so 1,000 nodes cost what 20 do (plus one sort).

use std::time::SystemTime;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use crate::app::AppState;
use crate::config::{Level, Thresholds};
use crate::sources::fleet::FleetNode;
use crate::theme::Theme;
use crate::ui::format;
use crate::ui::widgets::{level_style, pane};

/// A node whose newest sample is older than this is marked stale.
const STALE_AFTER_SECS: u64 = 120;

/// Rows the pane wants: its nodes, a header and the border.
pub(super) fn height(state: &AppState) -> u16 {
    let n = state.fleet.nodes().count();
    u16::try_from(n).unwrap_or(u16::MAX).saturating_add(3)
}

/// Whether the pane has anything to show: `[[nodes]]` targets (shown from
/// the start, waiting for their first scrape) or nodes a Prometheus reported.
pub(super) fn configured(state: &AppState) -> bool {
    !state.config.nodes.is_empty() || state.fleet.nodes().next().is_some()
}

pub(super) fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let th = &state.config.metrics.thresholds;
    let mut nodes: Vec<&FleetNode> = state.fleet.nodes().collect();
    let this_host = |n: &FleetNode| n.instance.split(':').next() == Some(state.host.as_str());
    nodes.sort_by(|a, b| {
        this_host(b)
            .cmp(&this_host(a))
            .then(badness(b, th).total_cmp(&badness(a, th)))
            .then(a.instance.cmp(&b.instance))
    });
    let down = nodes.iter().filter(|n| n.up == Some(false)).count();
    let mut title = vec![Span::raw(" Fleet "), Span::styled(format!("{} nodes ", nodes.len()), theme.muted)];
    if down > 0 {
        title.push(Span::styled(format!("{down} down "), theme.critical));
    }
    let block = pane(Line::from(title), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let header = Row::new(["NODE", "UP", "CPU%", "MEM%", "DISK%", "LOAD", "RX", "TX", "AGE", "FROM"])
        .style(theme.header);
    let visible = usize::from(inner.height.saturating_sub(1));
    let now = SystemTime::now();
    let rows = nodes.iter().take(visible).map(|n| row(n, th, theme, now));
    let widths = [
        Constraint::Fill(2),
        Constraint::Length(4),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), inner);
}

/// How bad a node is, for sorting: down beats everything; otherwise the
/// largest share of a critical threshold among CPU, memory and disk.
fn badness(n: &FleetNode, th: &Thresholds) -> f64 {
    if n.up == Some(false) {
        return f64::INFINITY;
    }
    [
        (n.cpu_percent, th.cpu.critical),
        (n.memory_percent, th.memory.critical),
        (n.filesystem_percent, th.disk.critical),
    ]
    .into_iter()
    .filter_map(|(v, crit)| v.map(|v| v / crit.max(1.0)))
    .fold(0.0, f64::max)
}

fn row<'a>(n: &'a FleetNode, th: &Thresholds, theme: &Theme, now: SystemTime) -> Row<'a> {
    let pct = |v: Option<f64>, t: crate::config::Threshold| -> Cell<'a> {
        match v {
            Some(v) => Cell::from(format!("{v:>4.0}")).style(level_style(theme, t.level(v), theme.text)),
            None => Cell::from("   –").style(theme.muted),
        }
    };
    let opt = |v: Option<f64>, f: fn(f64) -> String| v.map_or_else(|| "–".to_owned(), f);
    let age = n.scraped_at.and_then(|t| now.duration_since(t).ok());
    let stale = age.is_some_and(|a| a.as_secs() > STALE_AFTER_SECS);
    let (up, up_style): (&str, Style) = match n.up {
        Some(true) if stale => ("old", theme.warning),
        Some(true) => ("✓", theme.ok),
        Some(false) => ("✗", theme.critical),
        None => ("?", theme.muted),
    };
    let row = Row::new([
        Cell::from(n.instance.as_str()).style(theme.text),
        Cell::from(up).style(up_style),
        pct(n.cpu_percent, th.cpu),
        pct(n.memory_percent, th.memory),
        pct(n.filesystem_percent, th.disk),
        Cell::from(opt(n.load1, |l| format!("{l:>5.2}"))).style(theme.text),
        Cell::from(opt(n.rx_bytes_per_sec, format::rate)).style(theme.text),
        Cell::from(opt(n.tx_bytes_per_sec, format::rate)).style(theme.text),
        Cell::from(age.map_or_else(|| "–".to_owned(), format::age)).style(if stale {
            theme.warning
        } else {
            theme.muted
        }),
        Cell::from(n.origin.as_str()).style(theme.muted),
    ]);
    if n.up == Some(false) { row.style(level_style(theme, Level::Critical, theme.text)) } else { row }
}
