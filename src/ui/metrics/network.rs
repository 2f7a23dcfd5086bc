//! Network pane: every interface's throughput, then history of the total.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Row, Table};

use crate::app::AppState;
use crate::ui::format;
use crate::ui::widgets::{labeled_rate_chart, pane, table_and_charts};

pub(super) fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let block = pane(" Network ", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(node) = &state.node else { return };

    let (table_area, charts) = table_and_charts(inner, node.networks.len());
    let header = Row::new(["INTERFACE", "RX", "TX", "RX TOTAL", "TX TOTAL"]).style(theme.header);
    let rows = node.networks.iter().map(|n| {
        let style = if n.is_loopback() { theme.muted } else { theme.text };
        Row::new([
            n.name.clone(),
            format::rate(n.rx_per_sec),
            format::rate(n.tx_per_sec),
            format::bytes(n.rx_total as f64),
            format::bytes(n.tx_total as f64),
        ])
        .style(style)
    });
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(8),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), table_area);
    if let Some((left, right)) = charts {
        labeled_rate_chart(frame, left, state, "rx", &state.history.net_rx, theme.chart_net_rx);
        labeled_rate_chart(frame, right, state, "tx", &state.history.net_tx, theme.chart_net_tx);
    }
}
