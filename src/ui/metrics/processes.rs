//! Process table: sorted, filtered, with the selection following a pid.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Row, Table};

use crate::action::Action;
use crate::app::{AppState, ProcessSort};
use crate::ui::format;
use crate::ui::widgets::{level_style, pane};

pub(super) fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let list = &state.processes;
    let total = state.node.as_ref().map_or(0, |n| n.processes.len());
    let keys = state.keymap();
    let mut title = vec![
        Span::raw(" Processes "),
        Span::styled(format!("{}/{total} ", list.rows.len()), theme.muted),
        Span::styled(format!("sort {} ", list.sort.label()), theme.accent),
        Span::styled(
            format!("({}/{}) ", keys.describe(Action::SortByCpu), keys.describe(Action::SortByMemory)),
            theme.muted,
        ),
    ];
    if state.editing_filter || !list.filter.is_empty() {
        let cursor = if state.editing_filter { "▏" } else { "" };
        title.push(Span::styled(format!("filter: {}{cursor} ", list.filter), theme.accent));
    } else {
        title.push(Span::styled(format!("filter {} ", keys.describe(Action::Filter)), theme.muted));
    }
    let block = pane(Line::from(title), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(node) = &state.node else { return };

    // Only the visible slice is built: a host with 10,000 processes costs the
    // same to draw as one with 50.
    let visible = usize::from(inner.height.saturating_sub(1));
    let selected = list.selected_row();
    let offset = selected.map_or(0, |s| (s + 1).saturating_sub(visible));
    let threshold = state.config.metrics.thresholds.cpu;
    let mem_total = node.memory.total.max(1) as f64;
    let rows = list.rows.iter().enumerate().skip(offset).take(visible).map(|(i, &idx)| {
        let p = &node.processes[idx];
        let cpu = f64::from(p.cpu);
        let row = Row::new([
            format!("{:>7}", p.pid),
            if node.warming_up { format!("{:>5}", "…") } else { format!("{cpu:>5.1}") },
            format!("{:>6}", format::bytes(p.memory as f64)),
            format!("{:>5.1}", p.memory as f64 * 100.0 / mem_total),
            p.name.clone(),
        ]);
        if Some(i) == selected {
            row.style(theme.selection)
        } else {
            row.style(level_style(theme, threshold.level(cpu), theme.text))
        }
    });
    let header_style = |sort: Option<ProcessSort>| {
        if sort == Some(list.sort) { theme.header.patch(theme.accent) } else { theme.header }
    };
    // Numbers first and the name last, as top and htop do: the eye finds
    // the figures in the same place at any width.
    let header = Row::new([
        Span::styled("    PID", header_style(None)),
        Span::styled(" CPU%", header_style(Some(ProcessSort::Cpu))),
        Span::styled("   MEM", header_style(Some(ProcessSort::Memory))),
        Span::styled(" MEM%", header_style(Some(ProcessSort::Memory))),
        Span::styled("NAME", header_style(None)),
    ]);
    let widths = [
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), inner);
}
