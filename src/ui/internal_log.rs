//! opsdeck's own log (tracing via tui-logger), as an overlay.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Clear;
use tui_logger::{TuiLoggerLevelOutput, TuiLoggerWidget};

use super::widgets::pane;
use crate::action::Action;
use crate::app::AppState;

/// Draw the log over most of `area`.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let popup = area.inner(ratatui::layout::Margin { horizontal: 2, vertical: 1 });
    let title = format!(" opsdeck log — {} closes ", state.keymap().describe(Action::ToggleInternalLog));
    let widget = TuiLoggerWidget::default()
        .block(pane(title, theme))
        .style(theme.text)
        .style_error(theme.critical)
        .style_warn(theme.warning)
        .style_info(theme.ok)
        .style_debug(theme.muted)
        .style_trace(theme.muted)
        .output_separator(' ')
        .output_level(Some(TuiLoggerLevelOutput::Abbreviated))
        .output_target(true)
        .output_file(false)
        .output_line(false);
    frame.render_widget(Clear, popup);
    frame.render_widget(widget, popup);
}
