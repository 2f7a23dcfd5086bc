//! The help overlay, generated from the live keymap: what a user rebinds is
//! what help shows.

use std::path::PathBuf;

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::widgets::pane;
use crate::action::Action;
use crate::app::AppState;

/// Every line of help, in order (also used by tests).
pub fn lines(state: &AppState) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let keymap = state.keymap();
    let key_w = Action::ALL.iter().map(|a| keymap.describe(*a).chars().count()).max().unwrap_or(8);
    let mut lines: Vec<Line> = Action::ALL
        .iter()
        .map(|&a| {
            Line::from(vec![
                Span::styled(format!(" {:>key_w$}  ", keymap.describe(a)), theme.accent),
                Span::styled(a.description(), theme.text),
            ])
        })
        .collect();
    lines.extend(actions_here(state));
    lines.push(Line::raw(""));
    lines
        .push(Line::styled(" Mouse: click a tab title to open it; the wheel scrolls the list.", theme.muted));
    lines.push(Line::styled(" While filtering, typed keys go to the filter.", theme.muted));
    lines.push(Line::styled(
        " Keys are rebound in [keys] of the config (see config.example.toml).",
        theme.muted,
    ));
    // Where things live, for the operator on an unfamiliar bastion.
    let shown =
        |p: Option<&PathBuf>, none: &str| p.map_or_else(|| none.to_owned(), |p| p.display().to_string());
    lines.push(Line::styled(format!(" Config: {}", shown(state.config_path.as_ref(), "none")), theme.muted));
    lines.push(Line::styled(
        format!(" State:  {}", shown(state.store_path.as_ref(), "not open")),
        theme.muted,
    ));
    lines
}

/// The guarded actions the current tab's rows offer.
fn actions_here(state: &AppState) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let targets = state.tab_targets();
    let here: Vec<_> =
        state.pipeline.actions.iter().filter(|a| targets.iter().any(|t| a.applies_to_target(t))).collect();
    let mut out = vec![Line::raw("")];
    if here.is_empty() {
        out.push(Line::styled(" No guarded actions for this tab's rows.", theme.muted));
        return out;
    }
    out.push(Line::styled(
        format!(
            " Actions here ({} opens the menu, : runs by name):",
            state.keymap().hint(Action::ActionMenu)
        ),
        theme.title,
    ));
    for a in here {
        let key = a.key.map(|k| k.to_string()).unwrap_or_default();
        let guard = if a.mutating { "needs arming" } else { "read-only" };
        out.push(Line::from(vec![
            Span::styled(format!(" {key:>6}  "), theme.accent),
            Span::styled(format!("{} — {} ", a.name, a.label), theme.text),
            Span::styled(
                format!("({} {}, {guard})", a.applies_to.as_str(), format!("{:?}", a.guard).to_lowercase()),
                theme.muted,
            ),
        ]));
    }
    out
}

/// Draw the help overlay centred over `area`.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState, scroll: u16) {
    let lines = lines(state);
    let want_w = lines.iter().map(Line::width).max().unwrap_or(40) as u16 + 4;
    let want_h = lines.len() as u16 + 2;
    let [popup] =
        Layout::horizontal([Constraint::Length(want_w.min(area.width))]).flex(Flex::Center).areas(area);
    let [popup] =
        Layout::vertical([Constraint::Length(want_h.min(area.height))]).flex(Flex::Center).areas(popup);
    let max_scroll = want_h.saturating_sub(popup.height);
    let keys = state.keymap();
    let mut title = format!(" Help — {} closes ", keys.describe(Action::ToggleHelp));
    if max_scroll > 0 {
        title.push_str(&format!("· {}/{} scroll ", keys.hint(Action::Down), keys.hint(Action::Up)));
    }
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(pane(title, &state.theme)).scroll((scroll.min(max_scroll), 0)),
        popup,
    );
}
