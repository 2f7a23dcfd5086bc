//! The Logs tab: a strip with each source's rate and error sparklines and
//! its state, then the merged (or one-source) view of its lines — tagged and
//! coloured by source, coloured by level, search matches highlighted —
//! following the end or paused, with wrap or horizontal scroll; the typed
//! filter or search at the bottom; a line's details over it on Enter.
//!
//! Only the rows that fit are built: a buffer of 100,000 lines costs what a
//! screen shows. Every string drawn was sanitized when it was read.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::format;
use super::widgets::{pane, spark};
use crate::app::AppState;
use crate::app::logs::{Editing, LogsPane};
use crate::logs::buffer::Entry;
use crate::logs::line::Level;
use crate::theme::Theme;

/// Sparkline width in the source strip.
const SPARK_WIDTH: usize = 12;
/// Most sources listed in the strip (the rest are summarised).
const STRIP_MAX: usize = 4;
/// Width of the source tag column.
const TAG_WIDTH: usize = 10;

/// Draw the tab.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let p = &state.logs;
    let strip_h = (p.sources.len().min(STRIP_MAX) as u16 + 2).min(area.height / 3);
    let [strip, body, input] =
        Layout::vertical([Constraint::Length(strip_h), Constraint::Fill(1), Constraint::Length(1)])
            .areas(area);
    render_strip(frame, strip, state);
    render_lines(frame, body, state);
    render_input(frame, input, state);
    if p.detail {
        render_detail(frame, body, state);
    }
}

fn source_style(theme: &Theme, source: u16) -> Style {
    let palette = [
        theme.accent,
        theme.chart_memory,
        theme.chart_net_rx,
        theme.chart_net_tx,
        theme.chart_disk_read,
        theme.chart_disk_write,
        theme.chart_cpu,
    ];
    palette[usize::from(source) % palette.len()]
}

fn level_style(theme: &Theme, level: Option<Level>) -> Style {
    match level {
        Some(l) if l >= Level::Error => theme.critical,
        Some(Level::Warn) => theme.warning,
        Some(Level::Debug | Level::Trace) => theme.muted,
        _ => theme.text,
    }
}

fn render_strip(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let p = &state.logs;
    let dropped = p.buffer.dropped_total();
    let mut title = vec![Span::styled(" Logs ", theme.title)];
    title.push(Span::styled(format!("{} lines ", p.buffer.len()), theme.muted));
    if dropped > 0 {
        title.push(Span::styled(format!("({dropped} dropped: buffer full) "), theme.warning));
    }
    if state.config.logs.is_empty() {
        title.push(Span::styled(
            "defaults: add [[logs]] name and path (or a glob) to follow your files ",
            theme.muted,
        ));
    }
    let block = pane(Line::from(title), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let now = state.now;
    let mut lines = Vec::new();
    for (i, s) in p.sources.iter().enumerate().take(usize::from(inner.height)) {
        let i = i as u16;
        let rate = s.rate.latest().unwrap_or(0.0);
        let mut spans = vec![
            Span::styled(
                format!("{:<TAG_WIDTH$} ", format::truncate(&s.name, TAG_WIDTH)),
                source_style(theme, i),
            ),
            Span::styled(format!("{:>7} lines/s ", count(rate)), theme.text),
            Span::styled(spark(s.rate.columns(SPARK_WIDTH, state.epoch, now)), theme.accent),
            Span::styled(format!(" err {:>4}/min ", s.errors_last_minute()), theme.muted),
            Span::styled(spark(s.errors.columns(SPARK_WIDTH, state.epoch, now)), theme.critical),
            Span::raw(" "),
        ];
        match (&s.error, &s.note) {
            (Some(e), _) => spans.push(Span::styled(format!("✗ {e}"), theme.critical)),
            (None, Some(n)) => spans.push(Span::styled(format!("{}  ({n})", s.what), theme.muted)),
            (None, None) => spans.push(Span::styled(s.what.clone(), theme.muted)),
        }
        lines.push(Line::from(spans));
    }
    if p.sources.len() > usize::from(inner.height) && !lines.is_empty() {
        let more = p.sources.len() - lines.len() + 1;
        lines.pop();
        lines.push(Line::styled(format!("… and {more} more sources"), theme.muted));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A count in a few characters: `950`, `12.5k`, `1.2M`.
fn count(n: f64) -> String {
    match n {
        n if n >= 1e6 => format!("{:.1}M", n / 1e6),
        n if n >= 1e4 => format!("{:.0}k", n / 1e3),
        n if n >= 1e3 => format!("{:.1}k", n / 1e3),
        n => format!("{n:.0}"),
    }
}

/// The state of the view for the block title.
fn view_title(p: &LogsPane, theme: &Theme, state: &AppState) -> Line<'static> {
    let mut spans = Vec::new();
    if p.paused_at.is_some() {
        let new = p.new_since_pause();
        spans.push(Span::styled(" PAUSED ", theme.warning.add_modifier(Modifier::REVERSED)));
        spans.push(Span::styled(format!(" {new} new "), theme.warning));
        spans.push(Span::styled(
            format!("({} resumes) ", state.keymap().hint(crate::action::Action::ToggleFollow)),
            theme.muted,
        ));
    } else {
        spans.push(Span::styled(" following ", theme.ok));
    }
    let f = p.buffer.filter();
    spans.push(Span::styled(format!("{} of {} ", p.buffer.shown_len(), p.buffer.len()), theme.muted));
    if let Some(s) = f.source.and_then(|s| p.sources.get(usize::from(s))) {
        spans.push(Span::styled(format!("source {} ", s.name), theme.accent));
    }
    if let Some(l) = f.min_level {
        spans.push(Span::styled(format!("level ≥ {} ", l.as_str()), theme.accent));
    }
    if !f.text.trim().is_empty() {
        spans.push(Span::styled(format!("filter {} ", format::inert(&f.text)), theme.accent));
    }
    if let Some((typed, _)) = &p.search {
        spans.push(Span::styled(format!("search {} ", format::inert(typed)), theme.accent));
    }
    if p.wrap {
        spans.push(Span::styled("wrap ", theme.muted));
    }
    Line::from(spans)
}

fn render_lines(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let p = &state.logs;
    let block = pane(view_title(p, theme, state), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let Some(end) = p.end_position() else {
        let hint = if p.sources.is_empty() {
            "No log sources: add [[logs]] entries (name, path or glob) to the config."
        } else if p.buffer.is_empty() {
            "Waiting for lines…"
        } else {
            "No line matches the filter."
        };
        frame.render_widget(Paragraph::new(Line::styled(hint, theme.muted)), inner);
        return;
    };
    let cursor = p.cursor.and_then(|_| p.cursor_position());
    // Keep the cursor on screen: the view ends at the cursor when it is above the window.
    let height = usize::from(inner.height);
    let width = usize::from(inner.width);
    let bottom = match cursor {
        Some(c) if c + height <= end => c + height / 2,
        _ => end,
    }
    .min(end);
    // Walk back from the bottom until the rows are filled.
    let mut rows: Vec<Line> = Vec::with_capacity(height);
    let mut pos = bottom as isize;
    let mut used = 0usize;
    while pos >= 0 && used < height {
        let Some(e) = p.buffer.shown(pos as usize) else { break };
        let line = entry_line(e, p, theme, cursor == Some(pos as usize));
        let need = if p.wrap { line.width().div_ceil(width).max(1) } else { 1 };
        if used + need > height && used > 0 {
            break;
        }
        used += need;
        rows.push(line);
        pos -= 1;
    }
    rows.reverse();
    let mut para = Paragraph::new(rows);
    if p.wrap {
        para = para.wrap(Wrap { trim: false });
    } else {
        para = para.scroll((0, p.hscroll));
    }
    frame.render_widget(para, inner);
}

fn entry_line(e: &Entry, p: &LogsPane, theme: &Theme, selected: bool) -> Line<'static> {
    let name = p.sources.get(usize::from(e.source)).map_or("?", |s| s.name.as_str());
    let tag = if e.continuation {
        format!("{:<TAG_WIDTH$} ", "")
    } else {
        format!("{:<TAG_WIDTH$} ", format::truncate(name, TAG_WIDTH))
    };
    let style = level_style(theme, e.level);
    let mut spans = vec![Span::styled(tag, source_style(theme, e.source))];
    let text = &e.line.text;
    match &p.search {
        Some((_, re)) => {
            let mut at = 0;
            for m in re.find_iter(text) {
                if m.start() > at {
                    spans.push(Span::styled(text[at..m.start()].to_owned(), style));
                }
                spans
                    .push(Span::styled(m.as_str().to_owned(), theme.accent.add_modifier(Modifier::REVERSED)));
                at = m.end();
            }
            if at < text.len() {
                spans.push(Span::styled(text[at..].to_owned(), style));
            }
        }
        None => spans.push(Span::styled(text.to_string(), style)),
    }
    if e.line.truncated {
        spans.push(Span::styled(" [… line cut at the length cap]", theme.warning));
    }
    let line = Line::from(spans);
    if selected { line.style(theme.selection) } else { line }
}

fn render_input(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let p = &state.logs;
    let line = match (&p.editing, &p.input_error) {
        (Some((what, text)), _) => {
            let label = if *what == Editing::Filter { "filter" } else { "search" };
            Line::from(vec![
                Span::styled(format!(" {label}: "), theme.accent),
                Span::styled(format!("{}▏", format::inert(text)), theme.text),
                Span::styled(
                    "  Enter applies · Esc cancels · !text inverts · /regex/ · field=value",
                    theme.muted,
                ),
            ])
        }
        (None, Some(e)) => Line::styled(format!(" {e}"), theme.critical),
        (None, None) => {
            let k = state.keymap();
            use crate::action::Action as A;
            Line::styled(
                format!(
                    " {} filter · {} search · {}/{} next/prev · {} follow · {} wrap · {} source · {} level · {} details · {} copy",
                    k.hint(A::Filter),
                    k.hint(A::Search),
                    k.hint(A::SearchNext),
                    k.hint(A::SearchPrev),
                    k.hint(A::ToggleFollow),
                    k.hint(A::ToggleWrap),
                    k.hint(A::CycleSource),
                    k.hint(A::CycleLevel),
                    k.hint(A::Open),
                    k.hint(A::CopyLine)
                ),
                theme.muted,
            )
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn render_detail(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let p = &state.logs;
    let Some(e) = p.cursor_position().and_then(|i| p.buffer.shown(i)) else { return };
    let w = area.width.saturating_sub(4).max(20).min(area.width);
    let h = area.height.saturating_sub(2).max(5).min(area.height);
    let rect =
        Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    frame.render_widget(Clear, rect);
    let name = p.sources.get(usize::from(e.source)).map_or("?", |s| s.name.as_str());
    let block = pane(format!(" line {} of {name} — Esc closes ", e.seq + 1), theme);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let kv = |k: &str, v: String| {
        Line::from(vec![Span::styled(format!("{k:<14}"), theme.muted), Span::styled(v, theme.text)])
    };
    let mut lines = vec![
        kv("level", e.level.map_or_else(|| "-".to_owned(), |l| l.as_str().to_owned())),
        kv("time", e.line.time.map_or_else(|| "-".to_owned(), |t| t.to_zoned(state.tz.clone()).to_string())),
    ];
    if let Some(s) = e.line.service() {
        lines.push(kv("service", s.to_owned()));
    }
    if let Some(t) = e.line.trace_id() {
        lines.push(kv("trace_id", t.to_owned()));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(e.line.text.to_string(), level_style(theme, e.level)));
    if !e.line.fields().is_empty() {
        lines.push(Line::raw(""));
        for (k, v) in e.line.fields() {
            lines.push(kv(k, v.clone()));
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
