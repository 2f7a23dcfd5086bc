//! Disks pane: every mounted file system's space and I/O, then I/O history.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row, Table};

use crate::app::AppState;
use crate::ui::format;
use crate::ui::widgets::{labeled_rate_chart, level_style, pane, table_and_charts};

pub(super) fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let threshold = state.config.metrics.thresholds.disk;
    let block = pane(" Disks ", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(node) = &state.node else { return };

    let (table_area, charts) = table_and_charts(inner, node.disks.len());
    let header = Row::new(["MOUNT", "USED", "FREE", "READ", "WRITE"]).style(theme.header);
    let rows = node.disks.iter().map(|d| {
        let used = d.used_percent();
        Row::new([
            Cell::from(d.mount.clone()).style(theme.text),
            Cell::from(format!("{used:>3.0}%")).style(level_style(theme, threshold.level(used), theme.text)),
            Cell::from(format::bytes(d.available as f64)).style(theme.text),
            Cell::from(format::sampled_rate(d.read_per_sec, node.warming_up)).style(theme.text),
            Cell::from(format::sampled_rate(d.write_per_sec, node.warming_up)).style(theme.text),
        ])
    });
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(4),
        Constraint::Length(5),
        Constraint::Length(7),
        Constraint::Length(7),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), table_area);
    if let Some((left, right)) = charts {
        labeled_rate_chart(frame, left, state, "read", &state.history.disk_read, theme.chart_disk_read);
        labeled_rate_chart(frame, right, state, "write", &state.history.disk_write, theme.chart_disk_write);
    }
}
