//! The Metrics tab: this node.
//!
//! ```text
//! up 3d 4h │ load 0.52 0.48 0.40 │ 4 cores │ 312 processes
//! ┌ CPU ───────────────────────┐┌ Memory ───────────────────┐
//! │ history         │ per core  ││ mem / swap bars, history  │
//! └────────────────────────────┘└───────────────────────────┘
//! ┌ Disks ─────────────────────┐┌ Network ──────────────────┐
//! │ mount used free read write ││ iface rx tx, history      │
//! └────────────────────────────┘└───────────────────────────┘
//! ┌ Health (only with [[health]] checks) ────────────────────┐
//! │ check state code latency history detail                  │
//! └──────────────────────────────────────────────────────────┘
//! ┌ Fleet (only with [fleet] or [[nodes]]) ──────────────────┐
//! │ node up cpu mem disk load rx tx age from, worst first    │
//! └──────────────────────────────────────────────────────────┘
//! ┌ Processes ───────────────────────────────────────────────┐
//! └──────────────────────────────────────────────────────────┘
//! ```
//!
//! A fleet node opened from the Fleet pane replaces all of it (`node_detail`).

mod checks;
mod cpu;
mod disks;
mod fleet;
mod memory;
mod network;
mod node_detail;
mod processes;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format;
use crate::app::AppState;

/// Draw the Metrics tab into `area`.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    if let Some(detail) = &state.fleet.detail {
        node_detail::render(frame, area, state, detail);
        return;
    }
    let rest = area.height.saturating_sub(1);
    // Small screens keep every pane readable; big ones give the charts room.
    let top_h = (rest * 27 / 100).max(7);
    let mid_h = (rest * 25 / 100).max(6);
    let [summary, top, mid, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(top_h),
        Constraint::Length(mid_h),
        Constraint::Fill(1),
    ])
    .areas(area);
    let halves = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]);
    let [cpu_area, mem_area] = halves.areas(top);
    let [disk_area, net_area] = halves.areas(mid);

    render_summary(frame, summary, state);
    cpu::render(frame, cpu_area, state);
    memory::render(frame, mem_area, state);
    disks::render(frame, disk_area, state);
    network::render(frame, net_area, state);
    // Health checks and the fleet take what they need, up to half the rest
    // between them; processes keep the remainder.
    let budget = bottom.height / 2;
    let checks_h = if state.checks.checks.is_empty() { 0 } else { checks::height(state).min(budget) };
    let fleet_h = if fleet::configured(state) { fleet::height(state).min(budget - checks_h) } else { 0 };
    let [checks_area, fleet_area, procs_area] =
        Layout::vertical([Constraint::Length(checks_h), Constraint::Length(fleet_h), Constraint::Fill(1)])
            .areas(bottom);
    if checks_h > 0 {
        checks::render(frame, checks_area, state);
    }
    if fleet_h > 0 {
        fleet::render(frame, fleet_area, state);
    }
    processes::render(frame, procs_area, state);
}

fn render_summary(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let Some(node) = &state.node else {
        let line = Line::styled(" collecting the first sample of this node…", theme.muted);
        frame.render_widget(Paragraph::new(line), area);
        return;
    };
    let sep = || Span::styled(" │ ", theme.border);
    let label = |s: &'static str| Span::styled(s, theme.muted);
    let [l1, l5, l15] = node.load;
    let cores = node.cpu_per_core.len();
    // Load above the core count means runnable work is queueing.
    let load_style = if l1 > cores as f64 { theme.warning } else { theme.text };
    let line = Line::from(vec![
        label(" up "),
        Span::styled(format::uptime(node.uptime), theme.text),
        sep(),
        label("load "),
        Span::styled(format!("{l1:.2} {l5:.2} {l15:.2}"), load_style),
        sep(),
        Span::styled(format!("{cores}"), theme.text),
        label(" cores"),
        sep(),
        Span::styled(format!("{}", node.processes.len()), theme.text),
        label(" processes"),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}
