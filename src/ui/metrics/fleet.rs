//! Fleet pane: every node Prometheus (`[fleet]`) or a direct scrape
//! (`[[nodes]]`) reports, worst first — down nodes, then by how far the
//! worst of CPU, memory and disk is towards its critical threshold — with
//! this node's own row first when it is in the fleet. The pane keeps the
//! order (sorted when a report arrives, not per frame) and only the rows
//! that fit are built, so 1,000 nodes cost what 20 do.

use std::time::{Instant, SystemTime};

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use crate::action::Action;
use crate::app::AppState;
use crate::app::fleet::FleetRow;
use crate::config::{Level, Thresholds};
use crate::theme::Theme;
use crate::ui::format;
use crate::ui::widgets::{level_style, pane};

/// A node whose newest sample is older than this is marked stale.
const STALE_AFTER_SECS: u64 = 120;

/// Rows the pane wants: its nodes, a header and the border.
pub(super) fn height(state: &AppState) -> u16 {
    let n = state.fleet.visible().count();
    u16::try_from(n).unwrap_or(u16::MAX).saturating_add(3)
}

/// Whether the pane has anything to show: `[[nodes]]` targets (shown from
/// the start, waiting for their first scrape) or nodes a Prometheus reported.
pub(super) fn configured(state: &AppState) -> bool {
    !state.config.nodes.is_empty() || !state.fleet.is_empty()
}

pub(super) fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let th = &state.config.metrics.thresholds;
    let fleet = &state.fleet;
    let down = fleet.nodes().filter(|n| n.up == Some(false)).count();
    let mut title = vec![Span::raw(" Fleet "), Span::styled(format!("{} nodes ", fleet.len()), theme.muted)];
    if down > 0 {
        title.push(Span::styled(format!("{down} down "), theme.critical));
    }
    let keys = state.keymap();
    if fleet.editing_filter || !fleet.filter.is_empty() {
        let cursor = if fleet.editing_filter { "▏" } else { "" };
        title.push(Span::styled(format!("/{}{cursor} ", fleet.filter), theme.accent));
    } else if fleet.focused {
        let hint = format!("{} open · {} filter ", keys.hint(Action::Open), keys.hint(Action::Filter));
        title.push(Span::styled(hint, theme.muted));
    } else {
        title.push(Span::styled(format!("{} select ", keys.hint(Action::SwitchPane)), theme.muted));
    }
    let mut block = pane(Line::from(title), theme);
    if fleet.focused {
        block = block.border_style(theme.accent);
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let header = Row::new(["NODE", "UP", "CPU%", "MEM%", "DISK%", "LOAD", "RX", "TX", "AGE", "FROM"])
        .style(theme.header);
    let visible = usize::from(inner.height.saturating_sub(1));
    let selected = fleet.selected_index().filter(|_| fleet.focused);
    let offset = selected.map_or(0, |s| (s + 1).saturating_sub(visible));
    let wall = SystemTime::now();
    let rows = fleet.visible().enumerate().skip(offset).take(visible).map(|(i, r)| {
        let row = row(r, th, theme, wall, state.now);
        if Some(i) == selected { row.style(theme.selection) } else { row }
    });
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

/// One node's row. A value carried from an earlier report (its query
/// failed this round) is shown muted with a `~`: the figure is not current.
fn row<'a>(r: &'a FleetRow, th: &Thresholds, theme: &Theme, wall: SystemTime, now: Instant) -> Row<'a> {
    let n = &r.node;
    let stale = |i: usize| r.stale_value(i, now).is_some();
    let pct = |i: usize, v: Option<f64>, t: crate::config::Threshold| -> Cell<'a> {
        match v {
            Some(v) if stale(i) => Cell::from(format!("{v:>3.0}~")).style(theme.muted),
            Some(v) => Cell::from(format!("{v:>4.0}")).style(level_style(theme, t.level(v), theme.text)),
            None => Cell::from("   –").style(theme.muted),
        }
    };
    let other = |i: usize, v: Option<f64>, f: fn(f64) -> String| -> Cell<'a> {
        match v {
            Some(v) if stale(i) => Cell::from(format!("{}~", f(v))).style(theme.muted),
            Some(v) => Cell::from(f(v)).style(theme.text),
            None => Cell::from("–").style(theme.muted),
        }
    };
    let age = n.scraped_at.and_then(|t| wall.duration_since(t).ok());
    let old = age.is_some_and(|a| a.as_secs() > STALE_AFTER_SECS);
    let (up, up_style): (&str, Style) = match n.up {
        Some(true) if old => ("old", theme.warning),
        Some(true) => ("✓", theme.ok),
        Some(false) => ("✗", theme.critical),
        None => ("?", theme.muted),
    };
    let row = Row::new([
        Cell::from(n.instance.as_str()).style(theme.text),
        Cell::from(up).style(up_style),
        pct(0, n.cpu_percent, th.cpu),
        pct(1, n.memory_percent, th.memory),
        pct(2, n.filesystem_percent, th.disk),
        other(3, n.load1, |l| format!("{l:>5.2}")),
        other(4, n.rx_bytes_per_sec, format::rate),
        other(5, n.tx_bytes_per_sec, format::rate),
        Cell::from(age.map_or_else(|| "–".to_owned(), format::age)).style(if old {
            theme.warning
        } else {
            theme.muted
        }),
        match &n.down_reason {
            // The cause is the tail of Go's error chain (`Get "…": dial tcp …:
            // connect: connection refused`); the detail view has it whole.
            Some(why) if n.up == Some(false) => {
                Cell::from(format!("{}: {}", n.origin, why.rsplit(": ").next().unwrap_or(why)))
            }
            _ => Cell::from(n.origin.as_str()).style(theme.muted),
        },
    ]);
    if n.up == Some(false) { row.style(level_style(theme, Level::Critical, theme.text)) } else { row }
}
