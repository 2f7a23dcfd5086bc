//! The jump menu (`J`): where the selected row leads, one line per target
//! tab, keyed by the tab's number; a target that was not found says why.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::app::AppState;
use crate::ui::widgets::pane;

/// Draw the open menu near the bottom of `area`, over the tab.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let Some(menu) = &state.jump else { return };
    let theme = &state.theme;
    let mut lines: Vec<Line> = menu
        .choices
        .iter()
        .map(|c| {
            let (key_style, text_style) =
                if c.target.is_some() { (theme.accent, theme.text) } else { (theme.muted, theme.muted) };
            Line::from(vec![
                Span::styled(format!(" {} ", c.tab.number()), key_style),
                Span::styled(format!(" {} ", c.tab.title()), theme.muted),
                Span::styled(c.label.clone(), text_style),
            ])
        })
        .collect();
    lines.push(Line::styled(" any other key closes", theme.muted));
    let widest = lines.iter().map(Line::width).max().unwrap_or(0).max(menu.from.len() + 12);
    let width = u16::try_from(widest + 3).unwrap_or(u16::MAX).min(area.width);
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX).min(area.height);
    let x = area.x + (area.width - width) / 2;
    let y = area.y + area.height.saturating_sub(height + 1);
    let popup = Rect { x, y, width, height };
    frame.render_widget(Clear, popup);
    let block = pane(format!(" Jump from {} ", menu.from), theme).border_style(theme.accent);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
