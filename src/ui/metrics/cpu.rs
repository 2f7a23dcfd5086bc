//! CPU pane: total busy in the title, its history, and every core.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::AppState;
use crate::ui::widgets::{bar_spans, history_chart, level_style, pane};

/// One core as `12 ██▌    34` : index, bar, percent.
const CORE_BAR: usize = 6;

pub(super) fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let threshold = state.config.metrics.thresholds.cpu;
    let mut title = vec![Span::raw(" CPU ")];
    match &state.node {
        Some(node) if node.warming_up => title.push(Span::styled("measuring… ", theme.muted)),
        Some(node) => {
            let total = f64::from(node.cpu_total);
            let style = level_style(theme, threshold.level(total), theme.text);
            title.push(Span::styled(format!("{total:.1}% "), style));
        }
        None => {}
    }
    let block = pane(Line::from(title), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(node) = state.node.as_ref().filter(|n| !n.warming_up) else { return };

    let rows = usize::from(inner.height.max(1));
    let cores = &node.cpu_per_core;
    let label_w = (cores.len().saturating_sub(1)).to_string().len();
    let entry_w = label_w + 2 + CORE_BAR + 4;
    let columns = cores.len().div_ceil(rows);
    let roomy = columns * entry_w <= usize::from(inner.width) * 3 / 5;
    // Many cores on a small pane: one shaded cell per core instead of a bar.
    let cores_w = if roomy { columns * entry_w } else { columns * 2 };
    let [chart, per_core] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(cores_w as u16)]).areas(inner);
    history_chart(frame, chart, state, &state.history.cpu, theme.chart_cpu, Some(100.0));

    let lines: Vec<Line> = (0..rows.min(cores.len()))
        .map(|row| {
            let spans = (row..cores.len()).step_by(rows).flat_map(|i| {
                let pct = f64::from(cores[i]);
                let style = level_style(theme, threshold.level(pct), theme.chart_cpu);
                if roomy {
                    let [filled, empty] = bar_spans(pct, CORE_BAR, style, theme);
                    vec![
                        Span::styled(format!(" {i:>label_w$} "), theme.muted),
                        filled,
                        empty,
                        Span::styled(format!("{pct:>3.0}%"), theme.text),
                    ]
                } else {
                    vec![Span::styled(shade(pct).to_string(), style), Span::raw(" ")]
                }
            });
            Line::from(spans.collect::<Vec<_>>())
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), per_core);
}

fn shade(percent: f64) -> char {
    const LEVELS: [char; 9] = ['·', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    LEVELS[((percent.clamp(0.0, 100.0) / 100.0) * 8.0).round() as usize]
}
