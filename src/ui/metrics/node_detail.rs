//! A fleet node opened from the Fleet pane: the charts this node has (CPU,
//! memory, network) plus its fullest file system and load, over the same
//! window, with the row's current figures in the titles. Esc goes back.
//!
//! ```text
//!  node db1:9100 from prom │ up │ scraped 4s ago │ esc back
//! ┌ CPU 42% ─────────────┐┌ Memory 61% ──────────┐┌ Disk (fullest) 70% ──┐
//! └──────────────────────┘└──────────────────────┘└──────────────────────┘
//! ┌ Load 1.20 ───────────┐┌ Network rx 1.2M/s ───┐┌ Network tx 80K/s ────┐
//! └──────────────────────┘└──────────────────────┘└──────────────────────┘
//! ```

use std::time::SystemTime;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::action::Action;
use crate::app::AppState;
use crate::app::fleet::NodeDetail;
use crate::config::Threshold;
use crate::model::history::History;
use crate::sources::fleet::FleetNode;
use crate::ui::format;
use crate::ui::widgets::{history_chart_from, level_style, pane};

/// Draw `detail` into the Metrics tab's `area`.
pub(super) fn render(frame: &mut Frame, area: Rect, state: &AppState, detail: &NodeDetail) {
    let theme = &state.theme;
    let row = state.fleet.nodes().find(|n| n.origin == detail.key.0 && n.instance == detail.key.1);
    let [summary, top, bottom] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Fill(1)]).areas(area);
    render_summary(frame, summary, state, detail, row);

    let th = &state.config.metrics.thresholds;
    let thirds = Layout::horizontal([Constraint::Ratio(1, 3); 3]);
    let [cpu, mem, disk] = thirds.areas(top);
    let [load, rx, tx] = thirds.areas(bottom);
    let s = &detail.series;
    let chart = |frame: &mut Frame, area, title: &str, now: Option<String>, style, h: &History, max| {
        let mut spans = vec![Span::raw(format!(" {title} "))];
        if let Some(now) = now {
            spans.push(Span::styled(format!("{now} "), style));
        }
        let block = pane(Line::from(spans), theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        history_chart_from(frame, inner, h, style, max, (detail.epoch, state.now));
    };
    let pct = |v: Option<f64>, t: Threshold, base: Style| {
        (v.map(|v| format!("{v:.0}%")), v.map_or(base, |v| level_style(theme, t.level(v), base)))
    };
    let n = row.cloned().unwrap_or_default();
    let (v, st) = pct(n.cpu_percent, th.cpu, theme.chart_cpu);
    chart(frame, cpu, "CPU", v, st, &s.cpu, Some(100.0));
    let (v, st) = pct(n.memory_percent, th.memory, theme.chart_memory);
    chart(frame, mem, "Memory", v, st, &s.memory, Some(100.0));
    let (v, st) = pct(n.filesystem_percent, th.disk, theme.chart_disk_write);
    chart(frame, disk, "Disk (fullest)", v, st, &s.filesystem, Some(100.0));
    chart(frame, load, "Load", n.load1.map(|l| format!("{l:.2}")), theme.text, &s.load, None);
    let rate = |v: Option<f64>| v.map(format::rate);
    chart(frame, rx, "Network rx", rate(n.rx_bytes_per_sec), theme.chart_net_rx, &s.rx, None);
    chart(frame, tx, "Network tx", rate(n.tx_bytes_per_sec), theme.chart_net_tx, &s.tx, None);
}

fn render_summary(frame: &mut Frame, area: Rect, state: &AppState, d: &NodeDetail, row: Option<&FleetNode>) {
    let theme = &state.theme;
    let sep = || Span::styled(" │ ", theme.border);
    let mut spans = vec![
        Span::styled(" node ", theme.muted),
        Span::styled(d.key.1.clone(), theme.accent),
        Span::styled(format!(" from {}", d.key.0), theme.muted),
        sep(),
    ];
    match row.map(|n| n.up) {
        Some(Some(true)) => spans.push(Span::styled("up", theme.ok)),
        Some(Some(false)) => {
            spans.push(Span::styled("DOWN", theme.critical));
            if let Some(why) = row.and_then(|n| n.down_reason.as_deref()) {
                spans.push(Span::styled(format!(": {why}"), theme.critical));
            }
        }
        Some(None) => spans.push(Span::styled("up?", theme.muted)),
        None => spans.push(Span::styled("no longer reported", theme.warning)),
    }
    if let Some(age) = row.and_then(|n| n.scraped_at).and_then(|t| SystemTime::now().duration_since(t).ok()) {
        spans.extend([sep(), Span::styled(format!("scraped {} ago", format::age(age)), theme.muted)]);
    }
    if d.loading {
        spans.extend([sep(), Span::styled("loading history…", theme.muted)]);
    }
    if let Some(e) = &d.error {
        spans.extend([sep(), Span::styled(e.clone(), theme.warning)]);
    }
    let back = state.keymap().hint(Action::Back);
    spans.extend([sep(), Span::styled(format!("{back} back"), theme.muted)]);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
