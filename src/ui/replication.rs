//! The Replication tab: each cluster as a tree (primary → replicas →
//! cascaded replicas), one line per member with role, link state, lag as
//! seconds and a bar against the cluster's thresholds, bytes behind, a lag
//! sparkline and the age of its last good poll; the selected member's
//! details beside it.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph, Wrap};

use super::format;
use super::widgets::{bar_spans, list_and_details, pane, spark};
use crate::app::AppState;
use crate::app::replication::{ClusterState, MemberState, RowId};
use crate::replication::model::{Downstream, Lag, LinkState, Role, Status};
use crate::replication::topology::NodeKind;
use crate::theme::Theme;

const SPARK_WIDTH: usize = 12;
/// Indentation plus address: the columns after it line up at every depth.
const ADDR_COLUMN: usize = 28;

fn indent(depth: usize) -> String {
    if depth == 0 { "  ".to_owned() } else { format!("  {}└ ", "  ".repeat(depth - 1)) }
}

/// Draw the tab.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let pane_state = &state.replication;
    let details =
        pane_state.selected_member().is_some() || matches!(pane_state.selected, Some(RowId::Discovered(..)));
    let (list_area, details_area) = list_and_details(area, details, 130, 62);
    render_list(frame, list_area, state);
    if let Some(d) = details_area {
        render_details(frame, d, state);
    }
}

fn render_list(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let p = &state.replication;
    let block = pane(
        Line::from(vec![
            Span::styled(" Replication ", theme.title),
            Span::styled(format!("{} clusters ", p.clusters.len()), theme.muted),
        ]),
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = p.rows();
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let line = match row {
            RowId::Cluster(ci) => cluster_line(&p.clusters[*ci], state.now, theme),
            RowId::Member(ci, mi) => {
                let c = &p.clusters[*ci];
                let depth = depth_of(c, |k| matches!(k, NodeKind::Member { index, .. } if index == mi));
                member_line(c, *mi, depth, state.now, state.epoch, theme)
            }
            RowId::Discovered(ci, parent, name) => {
                let c = &p.clusters[*ci];
                let found = c.tree.iter().find_map(|n| match &n.kind {
                    NodeKind::Discovered { parent: pi, downstream }
                        if pi == parent && &downstream.name == name =>
                    {
                        Some((n.depth, downstream))
                    }
                    _ => None,
                });
                match found {
                    Some((depth, d)) => discovered_line(c, d, depth, theme),
                    None => Line::raw(""),
                }
            }
        };
        items.push(ListItem::new(line));
    }
    let selected = p.selected.as_ref().and_then(|s| rows.iter().position(|r| r == s));
    let list = List::new(items).highlight_style(theme.selection);
    let mut ls = ListState::default().with_selected(selected);
    frame.render_stateful_widget(list, inner, &mut ls);
}

fn depth_of(c: &ClusterState, is: impl Fn(&NodeKind) -> bool) -> usize {
    c.tree.iter().find(|n| is(&n.kind)).map_or(0, |n| n.depth)
}

fn cluster_line(c: &ClusterState, now: Instant, theme: &Theme) -> Line<'static> {
    let down = c.members.iter().filter(|m| m.error.is_some() || m.status.is_none()).count();
    let primaries = c
        .members
        .iter()
        .filter(|m| m.error.is_none() && m.status.as_ref().is_some_and(|s| s.role == Role::Primary))
        .count();
    let mut spans = vec![
        Span::styled(format!("▾ {}", c.config.name), theme.title.add_modifier(Modifier::BOLD)),
        Span::styled(
            format!("  {} · {} members", c.config.kind.as_str(), c.config.members.len()),
            theme.muted,
        ),
        Span::styled(
            format!(
                "  warn {} · crit {}",
                humantime::format_duration(c.config.lag_warning),
                humantime::format_duration(c.config.lag_critical)
            ),
            theme.muted,
        ),
    ];
    let writable = c.writable();
    match primaries {
        0 if c.members.iter().any(|m| m.status.is_some()) => {
            spans.push(Span::styled("  no reachable primary", theme.critical));
        }
        0 => spans.push(Span::styled("  connecting…", theme.muted)),
        _ if writable.len() > 1 => {
            let names: Vec<String> = writable.iter().map(|&i| c.config.members[i].to_string()).collect();
            let text = format!("  SPLIT BRAIN: {} take writes ({})", writable.len(), names.join(", "));
            spans.push(Span::styled(text, theme.critical.add_modifier(Modifier::BOLD)));
        }
        1 => {}
        n => spans.push(Span::styled(format!("  {n} primaries (only one takes writes)"), theme.warning)),
    }
    if down > 0 && c.members.iter().any(|m| m.last_ok.is_some() || m.error.is_some()) {
        spans.push(Span::styled(format!("  {down} unreachable"), theme.critical));
    }
    let _ = now;
    Line::from(spans)
}

fn member_line(
    c: &ClusterState,
    mi: usize,
    depth: usize,
    now: Instant,
    epoch: Instant,
    theme: &Theme,
) -> Line<'static> {
    let m = &c.members[mi];
    let addr = c.config.members[mi].to_string();
    let indent = indent(depth);
    // The address column shrinks as the tree deepens, so every other column lines up.
    let width = ADDR_COLUMN.saturating_sub(indent.chars().count()).max(8);
    let mut spans = vec![
        Span::raw(indent),
        Span::styled(format!("{:<width$}", format::truncate(&addr, width)), theme.text),
    ];
    let stale = c.is_stale(m, now);
    let Some(s) = &m.status else {
        let why = m.error.as_deref().unwrap_or("connecting…");
        spans.push(Span::styled(format!(" {:<8}", "?"), theme.muted));
        spans.push(Span::styled(format!(" {}", format::inert(why)), theme.critical));
        return Line::from(spans);
    };
    let (role, role_style) = match s.role {
        Role::Primary => ("primary", theme.ok.add_modifier(Modifier::BOLD)),
        Role::Replica => ("replica", theme.text),
    };
    spans.push(Span::styled(format!(" {role:<8}"), role_style));
    let channel = s.channels.first();
    let (state_text, state_style) = match channel.map(|ch| &ch.state) {
        None if s.role == Role::Primary && s.downstreams_unknown.is_some() => {
            ("downstream unknown".into(), theme.warning)
        }
        None if s.role == Role::Primary => (format!("{} downstream", s.downstreams.len()), theme.muted),
        None => ("no channel".into(), theme.warning),
        Some(LinkState::Streaming) => ("streaming".into(), theme.ok),
        Some(st @ LinkState::ReplayPaused) | Some(st @ LinkState::Connecting) => (st.label(), theme.warning),
        Some(st @ LinkState::Stopped { .. }) => (st.label(), theme.critical),
    };
    let more = if s.channels.len() > 1 { format!(" +{}", s.channels.len() - 1) } else { String::new() };
    // A member that stopped answering must not read as healthy at a glance:
    // its last state is shown as what it was.
    let (state_text, state_style) = if m.error.is_some() {
        (format!("no answer, was {state_text}"), theme.critical)
    } else {
        (state_text + &more, state_style)
    };
    spans.push(Span::styled(format!(" {:<22}", format::truncate(&state_text, 22)), state_style));
    if s.role == Role::Replica {
        spans.extend(lag_spans(c, m, s, theme));
        spans.push(Span::styled(format!(" {}", sparkline(m, now, epoch)), theme.accent));
    } else {
        spans.push(Span::raw(" ".repeat(8 + 1 + 10 + 10 + 1 + SPARK_WIDTH)));
    }
    let age = m.last_ok.map(|t| now.saturating_duration_since(t));
    match (&m.error, stale, age) {
        (Some(e), _, Some(a)) => spans.push(Span::styled(
            format!("  stale {} · {}", format::age(a), format::truncate(&format::inert(e), 60)),
            theme.critical,
        )),
        (None, true, Some(a)) => {
            spans.push(Span::styled(format!("  stale {}", format::age(a)), theme.warning))
        }
        (_, _, Some(a)) => spans.push(Span::styled(format!("  {} ago", format::age(a)), theme.muted)),
        _ => {}
    }
    if !s.warnings.is_empty() {
        spans.push(Span::styled(format!("  ⚠ {}", s.warnings.len()), theme.warning));
    }
    Line::from(spans)
}

/// Lag seconds (8), a bar against the critical threshold (10), bytes behind (10).
fn lag_spans(c: &ClusterState, m: &MemberState, s: &Status, theme: &Theme) -> Vec<Span<'static>> {
    let ch = s.channels.iter().max_by(|a, b| {
        a.lag.seconds().unwrap_or(f64::INFINITY).total_cmp(&b.lag.seconds().unwrap_or(f64::INFINITY))
    });
    let Some(ch) = ch else { return vec![Span::raw(" ".repeat(29))] };
    let warn = c.config.lag_warning.as_secs_f64();
    let crit = c.config.lag_critical.as_secs_f64();
    let (text, style, pct) = match &ch.lag {
        Lag::Behind(d) => {
            let secs = d.as_secs_f64();
            let style = if secs >= crit {
                theme.critical
            } else if secs >= warn {
                theme.warning
            } else {
                theme.ok
            };
            (lag_text(secs), style, secs / crit * 100.0)
        }
        Lag::Idle => ("idle".to_owned(), theme.ok, 0.0),
        Lag::Unknown(_) => ("unknown".to_owned(), theme.warning, 0.0),
        Lag::NoPermission => ("no perm".to_owned(), theme.warning, 0.0),
    };
    let mut out = vec![Span::styled(format!(" {text:>8}"), style), Span::raw(" ")];
    out.extend(bar_spans(pct, 10, style, theme));
    let bytes = byte_lag(c, m, s);
    out.push(Span::styled(
        format!(" {:>9}", bytes.map_or("—".into(), |b| format::bytes(b as f64))),
        theme.muted,
    ));
    out
}

fn lag_text(secs: f64) -> String {
    if secs < 10.0 { format!("{secs:.1}s") } else { format::age(std::time::Duration::from_secs_f64(secs)) }
}

/// Bytes behind: what the replica reports waiting to apply, else its
/// upstream's position minus what it applied.
fn byte_lag(c: &ClusterState, _m: &MemberState, s: &Status) -> Option<u64> {
    let ch = s.channels.first()?;
    if let Some(b) = ch.apply_backlog_bytes.filter(|b| *b > 0) {
        return Some(b);
    }
    let upstream = ch.upstream.as_deref()?;
    let pi =
        c.config.members.iter().position(|a| crate::replication::topology::same_endpoint(a, upstream))?;
    let up = c.members.get(pi)?.status.as_ref()?.position?;
    Some(up.saturating_sub(ch.applied_position?))
}

fn sparkline(m: &MemberState, now: Instant, epoch: Instant) -> String {
    spark(m.lag.columns(SPARK_WIDTH, epoch, now))
}

fn discovered_line(c: &ClusterState, d: &Downstream, depth: usize, theme: &Theme) -> Line<'static> {
    let indent = indent(depth);
    let width = ADDR_COLUMN.saturating_sub(indent.chars().count()).max(8);
    let name = d.addr.clone().unwrap_or_else(|| d.name.clone());
    let lag = match &d.lag {
        Lag::Behind(x) => lag_text(x.as_secs_f64()),
        Lag::Idle => "idle".into(),
        Lag::Unknown(_) => "—".into(),
        Lag::NoPermission => "no perm".into(),
    };
    let _ = c;
    Line::from(vec![
        Span::raw(indent),
        Span::styled(format!("{:<width$}", format::truncate(&format::inert(&name), width)), theme.muted),
        Span::styled(format!(" {:<8}", "replica"), theme.muted),
        Span::styled(format!(" {:<22}", format::truncate(&format::inert(&d.state), 22)), theme.muted),
        Span::styled(format!(" {lag:>8}"), theme.muted),
        Span::styled("  discovered, not configured", theme.muted.add_modifier(Modifier::ITALIC)),
    ])
}

fn render_details(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let p = &state.replication;
    let mut lines: Vec<Line<'static>> = Vec::new();
    let kv = |k: &str, v: String, style: Style| {
        Line::from(vec![
            Span::styled(format!("{k:<24} "), theme.muted),
            Span::styled(format::inert(&v), style),
        ])
    };
    let title = match &p.selected {
        Some(RowId::Member(ci, mi)) => {
            let c = &p.clusters[*ci];
            let m = &c.members[*mi];
            let addr = c.config.members[*mi].to_string();
            lines.push(kv("cluster", c.config.name.clone(), theme.text));
            lines.push(kv("member", addr.clone(), theme.text));
            lines.push(kv("user", c.config.user_or_default().unwrap_or("(none)").to_owned(), theme.text));
            if let Some(t) = m.took {
                lines.push(kv("last poll took", format!("{} ms", t.as_millis()), theme.muted));
            }
            if let Some(e) = &m.error {
                lines.push(kv("last poll", e.clone(), theme.critical));
            }
            if let Some(s) = &m.status {
                status_lines(s, &mut lines, theme, &kv);
            }
            format!(" {addr} ")
        }
        Some(RowId::Discovered(ci, parent, name)) => {
            let c = &p.clusters[*ci];
            if let Some(d) = c.members[*parent]
                .status
                .as_ref()
                .and_then(|s| s.downstreams.iter().find(|d| &d.name == name))
            {
                lines.push(kv("reported by", c.config.members[*parent].to_string(), theme.text));
                downstream_lines(d, &mut lines, theme, &kv);
            }
            format!(" {name} (discovered) ")
        }
        _ => String::new(),
    };
    let block = pane(Span::styled(title, theme.title), theme);
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), area);
}

fn status_lines(
    s: &Status,
    lines: &mut Vec<Line<'static>>,
    theme: &Theme,
    kv: &dyn Fn(&str, String, Style) -> Line<'static>,
) {
    lines.push(kv("role", s.role.as_str().into(), theme.text));
    lines.push(kv("version", s.version.clone(), theme.text));
    if let Some(ro) = s.read_only {
        lines.push(kv("read only", if ro { "yes" } else { "no" }.into(), theme.text));
    }
    for w in &s.warnings {
        lines.push(kv("warning", w.clone(), theme.warning));
    }
    for (k, v) in &s.facts {
        lines.push(kv(k, v.clone(), theme.text));
    }
    for ch in &s.channels {
        lines.push(Line::raw(""));
        let name = if ch.name.is_empty() { "channel".to_owned() } else { format!("channel {}", ch.name) };
        lines.push(Line::styled(name, theme.header));
        lines.push(kv("upstream", ch.upstream.clone().unwrap_or_else(|| "—".into()), theme.text));
        lines.push(kv("state", ch.state.label(), theme.text));
        let lag = match &ch.lag {
            Lag::Behind(d) => format!("{} ({})", lag_text(d.as_secs_f64()), ch.lag_source),
            Lag::Idle => format!("idle: caught up, nothing to apply ({})", ch.lag_source),
            Lag::Unknown(why) => format!("unknown: {why}"),
            Lag::NoPermission => "no permission".into(),
        };
        lines.push(kv("lag", lag, theme.text));
        if let Some(b) = ch.apply_backlog_bytes {
            lines.push(kv("to apply", format::bytes(b as f64), theme.text));
        }
        if let Some(e) = &ch.last_error {
            lines.push(kv("last error", e.clone(), theme.critical));
        }
        for (k, v) in &ch.facts {
            lines.push(kv(k, v.clone(), theme.text));
        }
    }
    if let Some(why) = &s.downstreams_unknown {
        lines.push(kv("downstreams", format!("unknown: {why}"), theme.warning));
    }
    for d in &s.downstreams {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("downstream {}", d.name), theme.header));
        downstream_lines(d, lines, theme, kv);
    }
    for slot in &s.slots {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("slot {} ({})", slot.name, slot.kind), theme.header));
        let active_style = if slot.active { theme.ok } else { theme.warning };
        lines.push(kv("active", if slot.active { "yes" } else { "no" }.into(), active_style));
        if let Some(w) = &slot.wal_status {
            let st = if matches!(w.as_str(), "lost" | "unreserved") { theme.critical } else { theme.text };
            lines.push(kv("wal_status", w.clone(), st));
        }
        if let Some(b) = slot.safe_wal_size {
            lines.push(kv("safe_wal_size", format::bytes(b as f64), theme.text));
        }
        if let Some(b) = slot.retained_bytes {
            lines.push(kv("retained WAL", format::bytes(b as f64), theme.text));
        }
    }
}

fn downstream_lines(
    d: &Downstream,
    lines: &mut Vec<Line<'static>>,
    theme: &Theme,
    kv: &dyn Fn(&str, String, Style) -> Line<'static>,
) {
    if let Some(a) = &d.addr {
        lines.push(kv("address", a.clone(), theme.text));
    }
    if !d.state.is_empty() {
        lines.push(kv("state", d.state.clone(), theme.text));
    }
    if let Some(s) = &d.sync {
        lines.push(kv("sync", s.clone(), theme.text));
    }
    let lag = match &d.lag {
        Lag::Behind(x) => lag_text(x.as_secs_f64()),
        Lag::Idle => "idle".into(),
        Lag::Unknown(why) => format!("unknown: {why}"),
        Lag::NoPermission => "no permission".into(),
    };
    lines.push(kv("lag", lag, theme.text));
    if let Some(b) = d.lag_bytes {
        lines.push(kv("bytes behind", format::bytes(b as f64), theme.text));
    }
    for (k, v) in &d.facts {
        lines.push(kv(k, v.clone(), theme.text));
    }
}
