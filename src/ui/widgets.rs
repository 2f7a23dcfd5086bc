//! Small drawing pieces shared by the panes: history charts, text bars,
//! bordered blocks, threshold colours.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Sparkline, SparklineBar};

use super::format;

use crate::app::AppState;
use crate::config::Level;
use crate::model::history::History;
use crate::theme::Theme;

/// A pane with a title, drawn in the theme's border style.
pub fn pane<'a>(title: impl Into<Line<'a>>, theme: &Theme) -> Block<'a> {
    Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border)
        .title(title.into().style(theme.title))
}

/// The style for a value at `level`, `normal` when it is fine.
pub fn level_style(theme: &Theme, level: Level, normal: Style) -> Style {
    match level {
        Level::Ok => normal,
        Level::Warning => theme.warning,
        Level::Critical => theme.critical,
    }
}

/// A history series as a bar sparkline filling `area`, newest on the right.
/// `max` fixes the scale (100 for percentages); `None` scales to what is shown.
pub fn history_chart(
    frame: &mut Frame,
    area: Rect,
    state: &AppState,
    history: &History,
    style: Style,
    max: Option<f64>,
) {
    history_chart_from(frame, area, history, style, max, (state.epoch, state.now));
}

/// `history_chart` with its own bucket epoch and now (`clock`): a series
/// that reaches back before opsdeck started needs an earlier epoch.
pub fn history_chart_from(
    frame: &mut Frame,
    area: Rect,
    history: &History,
    style: Style,
    max: Option<f64>,
    clock: (std::time::Instant, std::time::Instant),
) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let cols = history.columns(usize::from(area.width), clock.0, clock.1);
    let top = max.unwrap_or_else(|| cols.iter().flatten().copied().fold(0.0, f64::max)).max(1.0);
    // Sparkline takes integers: keep two decimals of resolution.
    let bars: Vec<SparklineBar> =
        cols.iter().map(|c| SparklineBar::from(c.map(|v| (v * 100.0) as u64))).collect();
    let spark = Sparkline::default().data(bars).max((top * 100.0) as u64).style(style);
    frame.render_widget(spark, area);
}

/// Split a pane's inside into a table of `rows` lines (plus header) on top
/// and, if at least two lines are left, two side-by-side chart areas below.
pub fn table_and_charts(inner: Rect, rows: usize) -> (Rect, Option<(Rect, Rect)>) {
    let table_h = (rows as u16 + 1).min(inner.height);
    let [table, rest] = Layout::vertical([Constraint::Length(table_h), Constraint::Fill(1)]).areas(inner);
    if rest.height < 2 {
        return (table, None);
    }
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(rest);
    (table, Some((left, right)))
}

/// A chart with a one-line label above it: `rx 1.2M/s  peak 5.0M/s`.
pub fn labeled_rate_chart(
    frame: &mut Frame,
    area: Rect,
    state: &AppState,
    label: &str,
    history: &History,
    style: Style,
) {
    let [label_area, chart] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let now = history.latest().map_or_else(|| "-".into(), format::rate);
    let peak = history.max().map_or_else(|| "-".into(), format::rate);
    let mut spans = vec![Span::styled(format!(" {label} "), state.theme.muted), Span::styled(now, style)];
    let peak = format!(" peak {peak}");
    // The peak is context; the current rate must never be the part cut off.
    if spans.iter().map(Span::width).sum::<usize>() + peak.len() <= usize::from(area.width) {
        spans.push(Span::styled(peak, state.theme.muted));
    }
    let line = Line::from(spans);
    frame.render_widget(Paragraph::new(line), label_area);
    history_chart(frame, chart, state, history, style, None);
}

/// A list with a details pane for its selection: beside it (the list
/// `list_percent` wide) when the area is at least `wide_at` columns, else
/// below it in the lower half; no pane while nothing is selected.
pub fn list_and_details(area: Rect, show: bool, wide_at: u16, list_percent: u16) -> (Rect, Option<Rect>) {
    use ratatui::layout::{Constraint, Layout};
    match (show, area.width >= wide_at) {
        (false, _) => (area, None),
        (true, true) => {
            let [l, d] =
                Layout::horizontal([Constraint::Percentage(list_percent), Constraint::Fill(1)]).areas(area);
            (l, Some(d))
        }
        (true, false) => {
            let [l, d] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(area.height / 2)]).areas(area);
            (l, Some(d))
        }
    }
}

/// Values as a one-line bar sparkline, scaled to their maximum; `None` is a gap.
pub fn spark(values: impl IntoIterator<Item = Option<f64>>) -> String {
    const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let values: Vec<Option<f64>> = values.into_iter().collect();
    let max = values.iter().flatten().copied().fold(0.0_f64, f64::max);
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(_) if max <= 0.0 => SPARK[0],
            Some(v) => SPARK[((v / max) * 7.0).round().clamp(0.0, 7.0) as usize],
        })
        .collect()
}

/// A bar as two spans: the filled part in `style`, the rest as faint dots so
/// an empty bar still reads as a bar.
pub fn bar_spans(percent: f64, width: usize, style: Style, theme: &Theme) -> [Span<'static>; 2] {
    let full = bar(percent, width);
    let filled = full.trim_end_matches(' ');
    let rest = width - filled.chars().count();
    [Span::styled(filled.to_owned(), style), Span::styled("·".repeat(rest), theme.border)]
}

/// A horizontal bar of `width` cells, `percent` full, in eighths of a cell.
pub fn bar(percent: f64, width: usize) -> String {
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = ((percent.clamp(0.0, 100.0) / 100.0) * (width * 8) as f64).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    if eighths / 8 < width {
        s.push(EIGHTHS[eighths % 8]);
        s.push_str(&" ".repeat(width - eighths / 8 - 1));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_have_exact_width() {
        for p in [0.0, 12.5, 50.0, 99.0, 100.0, 150.0, -3.0] {
            assert_eq!(bar(p, 10).chars().count(), 10, "{p}");
        }
        assert_eq!(bar(50.0, 4), "██  ");
        assert_eq!(bar(100.0, 3), "███");
    }
}
