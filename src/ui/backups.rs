//! The Backups tab: one summary row per catalog (newest backup's age
//! coloured against the RPO, count, size, a size-trend sparkline, findings,
//! last verification), the selected catalog's details below or beside it;
//! Enter drills into the catalog's backups, newest first, each with type,
//! time, age, size, checksum and verification state.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph, Wrap};

use super::format;
use super::widgets::{list_and_details, pane, spark};
use crate::alerts::model::Severity;
use crate::app::AppState;
use crate::app::backups::CatalogState;
use crate::backups::checks::CheckKind;
use crate::backups::findings::{self, Freshness};
use crate::backups::model::{Backup, BackupType};
use crate::config::backups::BackupKind;
use crate::theme::Theme;

/// Backups shown in the size-trend sparkline.
const TREND_WIDTH: usize = 10;
const NAME_WIDTH: usize = 14;
/// Keys in the details panes.
const KEY_WIDTH: usize = 14;
/// Narrower than this, the summary drops its size-trend column.
const TREND_FROM_WIDTH: u16 = 100;

/// Draw the tab.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let p = &state.backups;
    let (list_area, details_area) = list_and_details(area, p.selected.is_some(), 140, 58);
    if p.drilled {
        render_backups(frame, list_area, state);
    } else {
        render_catalogs(frame, list_area, state);
    }
    if let Some(d) = details_area {
        if p.drilled {
            render_backup_details(frame, d, state);
        } else {
            render_catalog_details(frame, d, state);
        }
    }
}

fn freshness_style(theme: &Theme, f: Freshness) -> Style {
    match f {
        Freshness::Fresh => theme.ok,
        Freshness::Due => theme.warning,
        Freshness::Stale | Freshness::Critical => theme.critical,
    }
}

fn severity_style(theme: &Theme, s: Severity) -> Style {
    match s {
        Severity::Critical => theme.critical,
        Severity::Warning => theme.warning,
        Severity::Info | Severity::Unknown => theme.muted,
    }
}

fn header(theme: &Theme, trend: bool) -> Line<'static> {
    let trend = if trend { format!("{:<TREND_WIDTH$} ", "TREND") } else { String::new() };
    Line::styled(
        format!(
            "  {:<NAME_WIDTH$} {:<10} {:>7} {:>5} {:>5} {:>7} {trend}STATE",
            "CATALOG", "KIND", "NEWEST", "RPO", "COUNT", "SIZE"
        ),
        theme.header,
    )
}

fn render_catalogs(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let p = &state.backups;
    let block = pane(
        Line::from(vec![
            Span::styled(" Backups ", theme.title),
            Span::styled(format!("{} catalogs ", p.catalogs.len()), theme.muted),
        ]),
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let trend = area.width >= TREND_FROM_WIDTH;
    frame.render_widget(Paragraph::new(header(theme, trend)), Rect { height: 1, ..inner });
    let items: Vec<ListItem> =
        p.catalogs.iter().map(|c| ListItem::new(catalog_line(c, state, trend))).collect();
    let list =
        List::new(items).highlight_style(theme.selection.add_modifier(Modifier::BOLD)).highlight_symbol("›");
    let mut ls = ListState::default().with_selected(p.selected);
    let body = Rect { y: inner.y + 1, height: inner.height.saturating_sub(1), ..inner };
    frame.render_stateful_widget(list, body, &mut ls);
}

fn catalog_line(c: &CatalogState, state: &AppState, show_trend: bool) -> Line<'static> {
    let theme = &state.theme;
    let name = format!(" {:<NAME_WIDTH$} ", format::truncate(&c.config.name, NAME_WIDTH));
    let kind = format!("{:<10} ", c.config.kind.as_str());
    let rpo = format!("{:>5} ", format::period(c.config.rpo));
    let mut spans = vec![Span::styled(name, theme.text), Span::styled(kind, theme.muted)];
    if c.config.kind == BackupKind::Sqlite {
        spans.push(Span::styled(format!("{:>7} ", "-"), theme.muted));
        spans.push(Span::styled(rpo, theme.muted));
        spans.push(Span::styled("online backup on demand (x)", theme.muted));
        return Line::from(spans);
    }
    let Some(a) = &c.assessment else {
        spans.push(Span::styled(format!("{:>7} ", "-"), theme.muted));
        spans.push(Span::styled(rpo, theme.muted));
        spans.push(match &c.error {
            Some(e) => Span::styled(format!("✗ {e}"), theme.critical),
            None => Span::styled("reading…", theme.muted),
        });
        return Line::from(spans);
    };
    let newest = a.newest.map_or_else(|| "none".to_owned(), |t| format::age(findings::age(t, state.wall)));
    spans.push(Span::styled(format!("{newest:>7} "), freshness_style(theme, a.freshness)));
    spans.push(Span::styled(rpo, theme.muted));
    spans.push(Span::styled(format!("{:>5} ", a.count), theme.text));
    let sized = c.catalog.as_ref().is_some_and(|k| k.backups.iter().any(|b| b.size.is_some()));
    let size = if sized { format::bytes(a.bytes as f64) } else { "-".to_owned() };
    spans.push(Span::styled(format!("{size:>7} "), theme.text));
    if show_trend {
        spans.push(Span::styled(format!("{:<TREND_WIDTH$} ", trend(c)), theme.accent));
    }
    if let Some(e) = &c.error {
        let age =
            c.last_ok.map_or_else(String::new, |t| format!(", data {} old", format::age(state.now - t)));
        spans.push(Span::styled(format!("✗ {}{age} ", e.state.label()), theme.critical));
    }
    match a.findings.iter().filter(|f| f.severity <= Severity::Warning).min_by_key(|f| f.severity) {
        Some(worst) => {
            let n = a.findings.iter().filter(|f| f.severity <= Severity::Warning).count();
            let more = if n > 1 { format!(" (+{})", n - 1) } else { String::new() };
            spans.push(Span::styled(
                format!(
                    "{} {}{more}",
                    if worst.severity == Severity::Critical { "✗" } else { "⚠" },
                    worst.kind.label()
                ),
                severity_style(theme, worst.severity),
            ));
        }
        None if c.error.is_none() => spans.push(Span::styled("✓ ok", theme.ok)),
        None => {}
    }
    if let Some(v) = c.last_verification() {
        let mark = if v.ok { "✓" } else { "✗" };
        spans.push(Span::styled(
            format!("  verified {mark} {} ago", format::age(findings::age(v.at, state.wall))),
            if v.ok { theme.muted } else { theme.critical },
        ));
    }
    Line::from(spans)
}

/// Sizes of the most common data type's last backups, oldest to newest.
fn trend(c: &CatalogState) -> String {
    let Some(catalog) = &c.catalog else { return String::new() };
    let main = BackupType::ALL
        .iter()
        .filter(|k| **k != BackupType::Wal)
        .max_by_key(|k| catalog.backups.iter().filter(|b| b.kind == **k && b.size.is_some()).count());
    let Some(main) = main else { return String::new() };
    let sizes: Vec<f64> = catalog
        .backups
        .iter()
        .rev()
        .filter(|b| b.kind == *main)
        .filter_map(|b| b.size)
        .take(TREND_WIDTH)
        .map(|s| s as f64)
        .collect();
    spark(sizes.into_iter().rev().map(Some))
}

fn render_catalog_details(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let Some(c) = state.backups.selected_catalog() else { return };
    let block = pane(format!(" {} ", c.config.name), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = vec![source_line(c, state)];
    let kv = |k: &str, v: String, style: Style| {
        Line::from(vec![Span::styled(format!("{k:<KEY_WIDTH$}"), theme.muted), Span::styled(v, style)])
    };
    if let Some(e) = &c.error {
        lines.push(kv("error", e.to_string(), theme.critical));
    }
    if let Some(a) = &c.assessment {
        for t in &a.types {
            let newest = t.newest.map_or_else(
                || "no good backup".to_owned(),
                |n| {
                    format!(
                        "{} ago ({})",
                        format::age(findings::age(n, state.wall)),
                        local_time(n, &state.tz)
                    )
                },
            );
            let mut promise = Vec::new();
            if let Some(every) = c.config.cadence.get(&t.kind) {
                promise.push(format!("every {}", format::period(*every)));
            }
            if let Some(keep) = c.config.retention.get(&t.kind) {
                promise.push(format!("keep {}", format::period(*keep)));
            }
            lines.push(kv(
                t.kind.as_str(),
                format!(
                    "{newest}  {} backup(s)  {}  {}",
                    t.count,
                    format::bytes(t.bytes as f64),
                    promise.join(", ")
                ),
                theme.text,
            ));
        }
        let newest = a.newest.map_or_else(
            || "no backup".to_owned(),
            |t| format!("newest {} old", format::age(findings::age(t, state.wall))),
        );
        let verdict = match a.freshness {
            Freshness::Fresh => "fresh",
            Freshness::Due => "due (past 0.8 × RPO)",
            Freshness::Stale => "stale (past the RPO)",
            Freshness::Critical => "critical (past 2 × RPO)",
        };
        lines.push(kv(
            "rpo",
            format!("{} · {newest}: {verdict}", format::period(c.config.rpo)),
            freshness_style(theme, a.freshness),
        ));
        for f in &a.findings {
            lines.push(Line::from(vec![
                Span::styled(format!("{:<KEY_WIDTH$}", f.kind.label()), severity_style(theme, f.severity)),
                Span::styled(format::inert(&f.message), severity_style(theme, f.severity)),
            ]));
        }
    }
    for (label, kind) in [
        ("verified", CheckKind::Verify),
        ("restore test", CheckKind::RestoreTest),
        ("backup now", CheckKind::BackupNow),
    ] {
        if let Some(v) = c.last_of(kind) {
            let mark = if v.ok { "✓" } else { "✗" };
            lines.push(kv(
                label,
                format!(
                    "{mark} {} ago: {}",
                    format::age(findings::age(v.at, state.wall)),
                    format::inert(&v.detail)
                ),
                if v.ok { theme.ok } else { theme.critical },
            ));
        }
    }
    if let Some(catalog) = &c.catalog {
        if let Some(archive) = &catalog.archive {
            let range = format!(
                "{} … {}",
                archive.min.as_deref().unwrap_or("?"),
                archive.max.as_deref().unwrap_or("?")
            );
            lines.push(kv("archive", range, theme.text));
        }
        for n in &catalog.notes {
            lines.push(kv("note", format::inert(n), theme.warning));
        }
    }
    let keys = state.keymap();
    lines.push(Line::styled(
        format!(
            "{} lists the backups · {} acts on the catalog · {} back",
            keys.hint(crate::action::Action::Open),
            keys.hint(crate::action::Action::ActionMenu),
            keys.hint(crate::action::Action::Back)
        ),
        theme.muted,
    ));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// Where the catalog is and how its last poll went.
fn source_line(c: &CatalogState, state: &AppState) -> Line<'static> {
    let theme = &state.theme;
    let place = match c.config.kind {
        BackupKind::Pgbackrest => format!("stanza {}", c.config.stanza.as_deref().unwrap_or("?")),
        BackupKind::Walg => "wal-g storage".to_owned(),
        _ => c.config.path.clone(),
    };
    let polled = match (c.last_ok, c.took) {
        (Some(t), Some(took)) => {
            format!("  read {} ago in {} ms", format::age(state.now - t), took.as_millis())
        }
        _ => "  not read yet".to_owned(),
    };
    Line::from(vec![
        Span::styled(format!("{:<KEY_WIDTH$}", c.config.kind.as_str()), theme.muted),
        Span::styled(format::inert(&place), theme.text),
        Span::styled(polled, theme.muted),
    ])
}

fn local_time(t: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string()
}

fn render_backups(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let p = &state.backups;
    let Some(c) = p.selected_catalog() else { return };
    let count = c.catalog.as_ref().map_or(0, |k| k.backups.len());
    let block = pane(
        Line::from(vec![
            Span::styled(format!(" {} ", c.config.name), theme.title),
            Span::styled(format!("{count} backups, newest first "), theme.muted),
        ]),
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let head =
        format!("  {:<16} {:>5} {:<5} {:>7} {:<6} {:<6} ID", "TIME", "AGE", "TYPE", "SIZE", "SUM", "CHECK");
    frame.render_widget(Paragraph::new(Line::styled(head, theme.header)), Rect { height: 1, ..inner });
    let body = Rect { y: inner.y + 1, height: inner.height.saturating_sub(1), ..inner };
    // Only the rows that fit are built: a catalog of 10,000 files costs what a screen shows.
    let selected = p.open.as_deref().and_then(|o| c.newest_first().position(|b| b.id == o)).unwrap_or(0);
    let visible = usize::from(body.height).max(1);
    let first = selected.saturating_sub(visible - 1);
    let items: Vec<ListItem> =
        c.newest_first().skip(first).take(visible).map(|b| ListItem::new(backup_line(c, b, state))).collect();
    let list =
        List::new(items).highlight_style(theme.selection.add_modifier(Modifier::BOLD)).highlight_symbol("›");
    let mut ls = ListState::default().with_selected(Some(selected - first));
    frame.render_stateful_widget(list, body, &mut ls);
}

fn backup_line(c: &CatalogState, b: &Backup, state: &AppState) -> Line<'static> {
    let theme = &state.theme;
    let flagged =
        c.assessment.as_ref().and_then(|a| a.findings.iter().find(|f| f.backup.as_deref() == Some(&b.id)));
    let sum = match &b.checksum {
        Some(s) => s.algorithm.as_str().to_owned(),
        None => "-".to_owned(),
    };
    let (check, check_style) = match c.check(&b.id, CheckKind::Verify) {
        Some(v) if v.ok => ("✓ ok".to_owned(), theme.ok),
        Some(_) => ("✗ bad".to_owned(), theme.critical),
        None => ("-".to_owned(), theme.muted),
    };
    let size = b.size.map_or_else(|| "-".to_owned(), |s| format::bytes(s as f64));
    let mut spans = vec![
        Span::styled(format!(" {:<16} ", local_time(b.time, &state.tz)), theme.text),
        Span::styled(format!("{:>5} ", format::age(findings::age(b.time, state.wall))), theme.muted),
        Span::styled(format!("{:<5} ", b.kind.short()), theme.muted),
        Span::styled(
            format!("{size:>7} "),
            flagged.map_or(theme.text, |f| severity_style(theme, f.severity)),
        ),
        Span::styled(format!("{sum:<6} "), theme.muted),
        Span::styled(format!("{check:<6} "), check_style),
        Span::styled(format::inert(&b.id), theme.text),
    ];
    if let Some(e) = &b.error {
        spans.push(Span::styled(format!("  ✗ {}", format::inert(e)), theme.critical));
    }
    Line::from(spans)
}

fn render_backup_details(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let Some((c, b)) = state.backups.selected_backup() else { return };
    let block =
        pane(format!(" {} ", format::truncate(&b.id, usize::from(area.width.saturating_sub(4)))), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let kv = |k: &str, v: String, style: Style| {
        Line::from(vec![Span::styled(format!("{k:<KEY_WIDTH$}"), theme.muted), Span::styled(v, style)])
    };
    let mut lines = vec![
        kv("type", b.kind.as_str().to_owned(), theme.text),
        kv(
            "taken",
            format!(
                "{} ({} ago)",
                local_time(b.time, &state.tz),
                format::age(findings::age(b.time, state.wall))
            ),
            theme.text,
        ),
    ];
    if let Some(s) = b.started {
        lines.push(kv("started", local_time(s, &state.tz), theme.text));
    }
    if let Some(s) = b.size {
        lines.push(kv("size", format!("{} ({s} bytes)", format::bytes(s as f64)), theme.text));
    }
    if let Some(s) = b.original_size {
        lines.push(kv("data size", format::bytes(s as f64), theme.text));
    }
    if let Some(p) = &b.path {
        lines.push(kv("path", format::inert(&p.display().to_string()), theme.text));
    }
    if let Some(h) = &b.host {
        lines.push(kv("host", format::inert(h), theme.text));
    }
    match &b.checksum {
        Some(sum) => lines.push(kv(sum.algorithm.as_str(), sum.hex.clone(), theme.text)),
        None => lines.push(kv("checksum", "no sidecar".to_owned(), theme.muted)),
    }
    for (k, v) in &b.detail {
        lines.push(kv(k, format::inert(v), theme.text));
    }
    if let Some(e) = &b.error {
        lines.push(kv("error", format::inert(e), theme.critical));
    }
    match c.check(&b.id, CheckKind::Verify) {
        Some(v) => lines.push(kv(
            "verified",
            format!(
                "{} {} ago in {:.1} s: {}",
                if v.ok { "✓" } else { "✗" },
                format::age(findings::age(v.at, state.wall)),
                v.duration.as_secs_f64(),
                format::inert(&v.detail)
            ),
            if v.ok { theme.ok } else { theme.critical },
        )),
        None => lines.push(kv("verified", "never".to_owned(), theme.muted)),
    }
    if let Some(a) = &c.assessment {
        for f in a.findings.iter().filter(|f| f.backup.as_deref() == Some(&b.id)) {
            lines.push(kv(f.kind.label(), format::inert(&f.message), severity_style(theme, f.severity)));
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
