//! Memory pane: RAM and swap as bars with used/total, then RAM history.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::AppState;
use crate::config::Threshold;
use crate::model::metrics::MemoryStat;
use crate::theme::Theme;
use crate::ui::format;
use crate::ui::widgets::{bar_spans, history_chart, level_style, pane};

pub(super) fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let thresholds = &state.config.metrics.thresholds;
    let block = pane(" Memory ", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(node) = &state.node else { return };

    let [mem_line, swap_line, chart] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    let width = usize::from(inner.width);
    frame.render_widget(
        Paragraph::new(usage_line("mem ", node.memory, thresholds.memory, theme, width)),
        mem_line,
    );
    let swap = if node.swap.total == 0 {
        Line::from(vec![Span::styled("swap", theme.muted), Span::styled(" none", theme.muted)])
    } else {
        usage_line("swap", node.swap, thresholds.swap, theme, width)
    };
    frame.render_widget(Paragraph::new(swap), swap_line);
    history_chart(frame, chart, state, &state.history.memory, theme.chart_memory, Some(100.0));
}

/// `mem  ████▌      3.2G/7.8G  41%`, the bar taking what the numbers leave.
fn usage_line(
    label: &'static str,
    stat: MemoryStat,
    threshold: Threshold,
    theme: &Theme,
    width: usize,
) -> Line<'static> {
    let pct = stat.percent();
    let style = level_style(theme, threshold.level(pct), theme.chart_memory);
    let numbers =
        format!(" {}/{} {pct:>3.0}%", format::bytes(stat.used as f64), format::bytes(stat.total as f64));
    let bar_w = width.saturating_sub(label.len() + 1 + numbers.chars().count());
    let [filled, empty] = bar_spans(pct, bar_w, style, theme);
    Line::from(vec![
        Span::styled(label, theme.muted),
        Span::raw(" "),
        filled,
        empty,
        Span::styled(numbers, level_style(theme, threshold.level(pct), theme.text)),
    ])
}
