//! The war-room summary (`opsdeck --wall`): six tiles in large type that a
//! room can read from the back — firing critical alerts, warnings, the worst
//! replication lag, the stalest backup against its RPO, fleet nodes down and
//! failing health checks. Each value is drawn in a 3×5 block font, scaled
//! up to 4× as far as the tile has room (a 4K screen), and as plain text
//! when it has none.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::app::AppState;
use crate::sources::health_checks::Verdict;
use crate::theme::Theme;
use crate::ui::widgets::pane;

/// One tile: what it counts, its value, a note under it, and how bad it is.
struct Tile {
    title: &'static str,
    value: String,
    note: String,
    style: Style,
}

pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let tiles = tiles(state);
    let rows = Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).split(area);
    for (row, chunk) in rows.iter().zip(tiles.chunks(3)) {
        let cols = Layout::horizontal([Constraint::Fill(1); 3]).split(*row);
        for (cell, tile) in cols.iter().zip(chunk) {
            render_tile(frame, *cell, tile, &state.theme);
        }
    }
}

fn render_tile(frame: &mut Frame, area: Rect, tile: &Tile, theme: &Theme) {
    let block = pane(format!(" {} ", tile.title), theme).border_style(tile.style);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let height = usize::from(inner.height);
    // The largest scale whose glyphs and the note fit.
    let scale = [4, 3, 2, 1].into_iter().find(|&s| big_width(&tile.value, s) <= width && 5 * s + 2 <= height);
    let mut lines: Vec<Line> = match scale {
        Some(s) => big_lines(&tile.value, s).into_iter().map(|l| Line::styled(l, tile.style)).collect(),
        None => vec![Line::styled(tile.value.clone(), tile.style)],
    };
    lines.push(Line::raw(""));
    lines.push(Line::styled(tile.note.clone(), theme.muted));
    let top = height.saturating_sub(lines.len()) / 2;
    let mut padded: Vec<Line> = vec![Line::raw(""); top];
    padded.extend(lines);
    frame.render_widget(Paragraph::new(padded).alignment(Alignment::Center), inner);
}

fn tiles(state: &AppState) -> Vec<Tile> {
    let theme = &state.theme;
    let counts = state.alerts.queue.counts();
    let by = |bad: bool, critical: bool| match (bad, critical) {
        (false, _) => theme.ok,
        (true, true) => theme.critical,
        (true, false) => theme.warning,
    };
    let none = |why: &str| (String::from("-"), why.to_owned(), theme.muted);

    // Split brain outranks any lag figure: "2/2" members take writes.
    let split = state.replication.clusters.iter().map(|c| (c, c.writable().len())).find(|(_, n)| *n > 1);
    let (lag, lag_note, lag_style) = match (split, state.replication.worst_lag()) {
        (Some((c, n)), _) => {
            let note = format!("SPLIT BRAIN · take writes in {}", c.config.name);
            (format!("{n}/{}", c.members.len()), note, theme.critical)
        }
        (None, Some((secs, cluster))) => {
            let c = state.replication.clusters.iter().find(|c| c.config.name == cluster);
            let (warn, crit) = c.map_or((5.0, 60.0), |c| {
                (c.config.lag_warning.as_secs_f64(), c.config.lag_critical.as_secs_f64())
            });
            (format!("{secs:.1}s"), cluster.to_owned(), by(secs > warn, secs > crit))
        }
        (None, None) if state.config.clusters.is_empty() => none("no clusters configured"),
        (None, None) => none("no lag reported yet"),
    };

    let stalest = state
        .backups
        .samples(state.wall)
        .into_iter()
        .filter(|s| s.metric == "backup_age_rpo_ratio")
        .max_by(|a, b| a.value.total_cmp(&b.value));
    let (backup, backup_note, backup_style) = match stalest {
        Some(s) => {
            let name = s.labels.get("catalog").cloned().unwrap_or_default();
            (format!("{:.1}x", s.value), format!("of RPO · {name}"), by(s.value > 1.0, s.value > 2.0))
        }
        None if state.config.backups.is_empty() => none("no backups configured"),
        None => none("no catalog read yet"),
    };

    let nodes: Vec<_> = state.fleet.nodes().collect();
    let down = nodes.iter().filter(|n| n.up == Some(false)).count();
    let (fleet, fleet_note, fleet_style) = if nodes.is_empty() {
        none("no fleet configured")
    } else {
        (format!("{down}/{}", nodes.len()), "nodes down".to_owned(), by(down > 0, true))
    };

    let checks = &state.checks.checks;
    let failing = checks.iter().filter(|c| matches!(c.verdict(), Some(Verdict::Down(_)))).count();
    let (health, health_note, health_style) = if checks.is_empty() {
        none("no checks configured")
    } else {
        (format!("{failing}/{}", checks.len()), "checks failing".to_owned(), by(failing > 0, true))
    };

    // While an alert source is failing or silent the counts are a floor, not
    // a fact: "0?" on a warning colour, never a green 0.
    let unknown: Vec<String> = state.unknown_alert_sources().into_iter().map(|u| u.name).collect();
    let blind = !unknown.is_empty();
    let count = |n: usize| if blind { format!("{n}?") } else { n.to_string() };
    let alert_style =
        |n: usize, critical: bool| if blind && n == 0 { theme.warning } else { by(n > 0, critical) };
    let alert_note = |what: &str| {
        if blind { format!("{what} · unknown: {}", unknown.join(", ")) } else { what.to_owned() }
    };
    vec![
        Tile {
            title: "CRITICAL",
            value: count(counts.critical),
            note: alert_note("firing critical alerts"),
            style: alert_style(counts.critical, true),
        },
        Tile {
            title: "WARNING",
            value: count(counts.warning),
            note: alert_note("firing warnings"),
            style: alert_style(counts.warning, false),
        },
        Tile { title: "WORST LAG", value: lag, note: lag_note, style: lag_style },
        Tile { title: "STALEST BACKUP", value: backup, note: backup_note, style: backup_style },
        Tile { title: "FLEET", value: fleet, note: fleet_note, style: fleet_style },
        Tile { title: "HEALTH", value: health, note: health_note, style: health_style },
    ]
}

/// A 3×5 glyph per character the tiles use; anything else is blank.
fn glyph(c: char) -> [&'static str; 5] {
    match c {
        '0' => ["███", "█ █", "█ █", "█ █", "███"],
        '1' => [" █ ", "██ ", " █ ", " █ ", "███"],
        '2' => ["███", "  █", "███", "█  ", "███"],
        '3' => ["███", "  █", " ██", "  █", "███"],
        '4' => ["█ █", "█ █", "███", "  █", "  █"],
        '5' => ["███", "█  ", "███", "  █", "███"],
        '6' => ["███", "█  ", "███", "█ █", "███"],
        '7' => ["███", "  █", "  █", " █ ", " █ "],
        '8' => ["███", "█ █", "███", "█ █", "███"],
        '9' => ["███", "█ █", "███", "  █", "███"],
        '.' => ["   ", "   ", "   ", "   ", " █ "],
        '/' => ["  █", "  █", " █ ", "█  ", "█  "],
        's' => ["   ", "███", "█  ", " ██", "███"],
        'x' => ["   ", "█ █", " █ ", "█ █", "   "],
        '-' => ["   ", "   ", "███", "   ", "   "],
        '?' => ["███", "  █", " ██", "   ", " █ "],
        _ => ["   "; 5],
    }
}

/// Columns `text` takes in large type at `scale`: glyphs and one-column gaps.
fn big_width(text: &str, scale: usize) -> usize {
    let n = text.chars().count();
    (n * 4).saturating_sub(1) * scale
}

/// `text` in large type, `scale` cells per glyph pixel each way.
fn big_lines(text: &str, scale: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(5 * scale);
    for row in 0..5 {
        let line: String = text
            .chars()
            .map(|c| glyph(c)[row].chars().flat_map(|px| std::iter::repeat_n(px, scale)).collect::<String>())
            .collect::<Vec<_>>()
            .join(&" ".repeat(scale));
        for _ in 0..scale {
            out.push(line.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_type_scales_and_measures() {
        assert_eq!(big_lines("10", 1), [" █  ███", "██  █ █", " █  █ █", " █  █ █", "███ ███"]);
        let doubled = big_lines("1", 2);
        assert_eq!(doubled.len(), 10);
        assert_eq!(doubled[0], "  ██  ");
        assert_eq!(big_width("10", 1), 7);
        assert_eq!(big_width("2/3", 2), 22);
    }
}
