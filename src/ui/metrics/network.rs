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
    // Totals since boot only when the rates leave room for the names.
    let totals = inner.width >= 56;
    let mut header = vec!["INTERFACE", "RX", "TX"];
    let mut widths = vec![Constraint::Fill(1), Constraint::Length(8), Constraint::Length(8)];
    if totals {
        header.extend(["RX TOTAL", "TX TOTAL"]);
        widths.extend([Constraint::Length(8), Constraint::Length(8)]);
    }
    let header = Row::new(header).style(theme.header);
    let rows = node.networks.iter().map(|n| {
        let style = if n.is_loopback() { theme.muted } else { theme.text };
        let mut cells = vec![
            n.name.clone(),
            format::sampled_rate(n.rx_per_sec, node.warming_up),
            format::sampled_rate(n.tx_per_sec, node.warming_up),
        ];
        if totals {
            cells.extend([format::bytes(n.rx_total as f64), format::bytes(n.tx_total as f64)]);
        }
        Row::new(cells).style(style)
    });
    frame.render_widget(Table::new(rows, widths).header(header), table_area);
    if let Some((left, right)) = charts {
        labeled_rate_chart(frame, left, state, "rx", &state.history.net_rx, theme.chart_net_rx);
        labeled_rate_chart(frame, right, state, "tx", &state.history.net_tx, theme.chart_net_tx);
    }
}
