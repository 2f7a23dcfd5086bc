//! The pipeline's screens: the action menu, the confirmation dialog (what
//! will run, each precondition live, the guard's questions), the run view
//! and the `:` line. Everything the operator needs to decide is on screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::format;
use super::widgets::pane;
use crate::app::{AppState, Dialog, Field, Modal, Run, RunStatus};
use crate::ops::guard::{OVERRIDE_WORD, Tier};
use crate::ops::run::{Ending, Stream};

/// Draw the open modal, if any, over `area`.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    match &state.modal {
        Some(Modal::Menu { items, selected }) => {
            let theme = &state.theme;
            let lines: Vec<Line> = items
                .iter()
                .enumerate()
                .map(|(i, (def, target))| {
                    let style = if i == *selected { theme.selection } else { theme.text };
                    let mark = if def.mutating { "" } else { "  (read-only)" };
                    Line::from(vec![
                        Span::styled(format!(" {} ", def.label), style),
                        Span::styled(
                            format!("→ {} {}{mark} ", target.kind.as_str(), target.name),
                            theme.muted,
                        ),
                    ])
                })
                .collect();
            let title = " Actions — Enter opens, Esc closes ";
            let popup = centered(area, width_of(&lines, title), lines.len() as u16 + 2);
            frame.render_widget(Clear, popup);
            frame.render_widget(Paragraph::new(lines).block(pane(title, theme)), popup);
        }
        Some(Modal::Dialog(d)) => dialog(frame, area, state, d),
        Some(Modal::Run { ticket }) => {
            if let Some(run) = state.pipeline.run(*ticket) {
                run_view(frame, area, state, run);
            }
        }
        Some(Modal::CommandLine(line)) => {
            let theme = &state.theme;
            let row = Rect { y: area.bottom().saturating_sub(1), height: 1, ..area };
            let names = state.command_names();
            let matching: Vec<&str> =
                names.iter().filter(|n| n.starts_with(&line.text)).map(String::as_str).take(8).collect();
            let text = Line::from(vec![
                Span::styled(format!(":{}", line.text), theme.accent),
                Span::styled("█", theme.accent),
                Span::styled(format!("   {}", matching.join("  ")), theme.muted),
            ]);
            frame.render_widget(Clear, row);
            frame.render_widget(Paragraph::new(text).style(theme.status_bar), row);
        }
        Some(Modal::Audit { .. }) => super::audit::render(frame, area, state),
        Some(Modal::Silences { selected }) => silences(frame, area, state, selected.as_deref()),
        None => {}
    }
}

fn width_of(lines: &[Line], title: &str) -> u16 {
    let w = lines.iter().map(Line::width).max().unwrap_or(0).max(title.chars().count());
    u16::try_from(w + 2).unwrap_or(u16::MAX)
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))]).flex(Flex::Center).areas(area);
    let [r] = Layout::vertical([Constraint::Length(h.min(area.height))]).flex(Flex::Center).areas(r);
    r
}

fn dialog(frame: &mut Frame, area: Rect, state: &AppState, d: &Dialog) {
    let theme = &state.theme;
    let label = |s: &str| Span::styled(format!("{s:<14}"), theme.muted);
    let mut lines = vec![Line::from(vec![
        label("target"),
        Span::styled(format!("{} {}", d.pinned.kind.as_str(), d.pinned.label()), theme.title),
        Span::styled(format!("  ({})", d.pinned.id), theme.muted),
    ])];
    if d.live.is_none() {
        lines.push(Line::styled(
            format!("  ✗ {} is gone: this action will not run", d.pinned.name),
            theme.critical,
        ));
    }
    lines.push(Line::raw(""));
    let preview = match &d.preview {
        Ok(p) => p.clone(),
        Err(e) => format!("cannot prepare: {e}"),
    };
    // Wrapped by hand under its label, so a long argv stays readable and the
    // dialog's height is known before drawing.
    let room = usize::from(area.width.saturating_sub(2 + 14)).max(20);
    let wrapped = preview.lines().flat_map(|l| {
        let chars: Vec<char> = l.chars().collect();
        let chunks: Vec<String> = chars.chunks(room).map(|c| c.iter().collect()).collect();
        if chunks.is_empty() { vec![String::new()] } else { chunks }
    });
    for (i, l) in wrapped.enumerate() {
        lines.push(Line::from(vec![
            label(if i == 0 { "will do" } else { "" }),
            Span::styled(l, if d.preview.is_ok() { theme.text } else { theme.critical }),
        ]));
    }
    let kind = if d.def.mutating { "mutating" } else { "read-only: changes nothing" };
    lines.push(Line::from(vec![label(""), Span::styled(kind, theme.muted)]));
    lines.push(Line::raw(""));
    if d.checks.is_empty() {
        lines.push(Line::from(vec![label("preconditions"), Span::styled("none", theme.muted)]));
    }
    for (i, c) in d.checks.iter().enumerate() {
        let (mark, style) = if c.passed { ("✓", theme.ok) } else { ("✗", theme.critical) };
        lines.push(Line::from(vec![
            label(if i == 0 { "preconditions" } else { "" }),
            Span::styled(format!("{mark} {:<28}", c.expr), style),
            Span::styled(format!(" now {}", c.value), theme.muted),
        ]));
    }
    if d.overriding() {
        lines.push(Line::styled(
            "  OVERRIDE: a precondition fails; this action allows it with a reason, audited as an override",
            theme.warning.add_modifier(Modifier::BOLD),
        ));
    }
    // The questions and blockers go in their own area at the bottom, which
    // is never clipped: the operator always sees what they are answering.
    let mut bottom = vec![Line::raw("")];
    for warning in session_warnings(state, d) {
        bottom.push(Line::styled(format!("  ⚠ {warning}"), theme.warning));
    }
    bottom.extend(questions(state, d));
    if let Some(why) = d.blocked() {
        bottom.push(Line::styled(format!("  confirm disabled: {why}"), theme.critical));
    }
    if let Some(e) = &d.error {
        bottom.push(Line::styled(format!("  {e}"), theme.critical));
    }
    let title = format!(" {} — {} ", d.def.name, d.def.label);
    let w = width_of(&lines, &title).max(width_of(&bottom, "")).max(60).min(area.width);
    let popup = centered(area, w, (lines.len() + bottom.len()) as u16 + 2);
    let block = pane(title, theme);
    let inner = block.inner(popup);
    let bottom_h = (bottom.len() as u16).min(inner.height);
    let [top_area, bottom_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(bottom_h)]).areas(inner);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), top_area);
    frame.render_widget(Paragraph::new(bottom).wrap(Wrap { trim: false }), bottom_area);
}

/// What the guard will say about the session, before the operator types.
fn session_warnings(state: &AppState, d: &Dialog) -> Vec<String> {
    let mut out = Vec::new();
    if d.def.mutating && state.config.read_only {
        out.push("read-only mode: this mutating action will be refused (and the refusal audited)".into());
    } else if d.def.mutating && state.pipeline.arming.remaining(state.now).is_none() {
        let key = state.keymap().hint(crate::action::Action::ToggleArm);
        out.push(format!("not armed: it will be refused; Esc, arm with {key}, and choose it again"));
    }
    if state.pipeline.active_runs().any(|r| r.target.id == d.pinned.id) {
        out.push(format!("another action is running on {}: it will be refused", d.pinned.name));
    }
    out
}

fn questions(state: &AppState, d: &Dialog) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let field = |name: &str, value: &str, focused: bool| {
        let cursor = if focused { "█" } else { "" };
        let style = if focused { theme.accent } else { theme.text };
        Line::from(vec![
            Span::styled(format!("  {name}: "), theme.muted),
            Span::styled(format!("{value}{cursor}"), style),
        ])
    };
    let mut out = Vec::new();
    if d.wants_name() {
        out.push(Line::styled(
            format!("  Type the target's name ({}) to confirm.", d.pinned.name),
            theme.text,
        ));
        out.push(field("name", &d.name, d.focus == Field::Name));
    }
    for (i, (key, value)) in d.form.iter().enumerate() {
        out.push(field(key, value, d.focus == Field::Form(i)));
        if key == crate::ops::silence::DURATION {
            out.push(Line::styled("            ←/→ cycles 1h 4h 1d, or type one (e.g. 90m)", theme.muted));
        }
        if key == crate::ops::silence::MATCHERS {
            let line = match crate::ops::silence::parse_matchers(value) {
                Ok(ms) => {
                    let n = crate::ops::silence::would_silence(&ms, state.alerts.queue.iter());
                    Line::styled(
                        format!("            would silence {n} alert(s) in the queue now"),
                        theme.accent,
                    )
                }
                Err(e) => Line::styled(format!("            {e}"), theme.critical),
            };
            out.push(line);
        }
    }
    if d.can_override() {
        out.push(Line::styled(
            format!(
                "  A precondition fails. Type {OVERRIDE_WORD} to run anyway: audited as an override, with your reason."
            ),
            theme.warning,
        ));
        out.push(field(OVERRIDE_WORD, &d.override_word, d.focus == Field::Override));
    }
    if d.wants_reason() {
        let label = if d.def.needs_reason { "comment" } else { "reason" };
        out.push(field(label, &d.reason, d.focus == Field::Reason));
    }
    let hint = match (d.def.guard, d.wants_reason()) {
        (Tier::Confirm, false) => Line::from(vec![
            Span::styled("  Run it? ", theme.text),
            Span::styled("[y] yes", theme.muted),
            Span::raw("  "),
            Span::styled("[N] no", theme.selection),
            Span::styled("   (Enter and Esc answer no)", theme.muted),
        ]),
        _ => Line::styled("  Enter confirms · Tab switches field · Esc cancels", theme.muted),
    };
    out.push(Line::raw(""));
    out.push(hint);
    out
}

fn run_view(frame: &mut Frame, area: Rect, state: &AppState, run: &Run) {
    let theme = &state.theme;
    let end = run.ended.unwrap_or(state.now);
    let elapsed = format::age(end.saturating_duration_since(run.started));
    let (status, style): (String, Style) = match &run.status {
        RunStatus::Checking => ("checking the guard…".into(), theme.muted),
        RunStatus::Running => (format!("running {elapsed} — Ctrl-C cancels"), theme.accent),
        RunStatus::Finished(o) => {
            let style = if o.ending.succeeded() { theme.ok } else { theme.critical };
            (
                format!("{} after {}", crate::ops::audit::ending_text(&o.ending), format::age(o.duration)),
                style,
            )
        }
        RunStatus::Refused(_, why) => (why.clone(), theme.critical),
    };
    let inner_h = area.height.saturating_sub(2);
    let mut lines = vec![
        Line::from(vec![Span::styled(format!("{} ", run.preview.lines().next().unwrap_or("")), theme.muted)]),
        Line::styled(status, style.add_modifier(Modifier::BOLD)),
    ];
    if let Some(id) = run.audit_id {
        lines.push(Line::styled(format!("audit row #{id}"), theme.muted));
    }
    if run.dropped > 0 {
        lines.push(Line::styled(format!("… {} earlier lines not kept here", run.dropped), theme.muted));
    }
    let room = usize::from(inner_h).saturating_sub(lines.len() + 1);
    let skip = run.lines.len().saturating_sub(room);
    for (stream, text) in run.lines.iter().skip(skip) {
        let style = if *stream == Stream::Stderr { theme.warning } else { theme.text };
        lines.push(Line::styled(format::inert(text), style));
    }
    if matches!(&run.status, RunStatus::Finished(o) if o.ending == Ending::TimedOut) {
        lines.push(Line::styled("its process group was killed at the timeout", theme.critical));
    }
    let title = format!(" {} on {} — Esc closes ", run.def.name, run.target.label());
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(pane(title, theme)), area);
}

fn silences(frame: &mut Frame, area: Rect, state: &AppState, selected: Option<&str>) {
    let theme = &state.theme;
    let list = state.alerts.active_silences();
    let mut lines = Vec::new();
    if list.is_empty() {
        lines.push(Line::styled(" No active silences.", theme.muted));
    }
    for (src, s) in &list {
        let id = crate::ops::target::Target::silence(src, s).id;
        let style = if selected == Some(id.as_str()) { theme.selection } else { theme.text };
        let ends = s.ends_at.map_or_else(
            || "—".to_owned(),
            |t| {
                format::age(std::time::Duration::from_secs(
                    t.as_second().saturating_sub(state.wall.as_second()).max(0).unsigned_abs(),
                ))
            },
        );
        let matchers: Vec<String> = s.matchers.iter().map(crate::ops::silence::matcher_text).collect();
        lines.push(Line::from(vec![
            Span::styled(
                format!(" {:<8} {:<8} ends in {:>5}  ", s.id.chars().take(8).collect::<String>(), src, ends),
                style,
            ),
            Span::styled(format!("{}  ", format::inert(&matchers.join(" "))), style),
            Span::styled(
                format!("{}: {}", format::inert(&s.created_by), format::inert(&s.comment)),
                theme.muted,
            ),
        ]));
    }
    let title = " Silences — x or Enter expires the highlighted one, Esc closes ";
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(pane(title, theme)), area);
}
