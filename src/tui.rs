//! The terminal: entering and leaving raw mode and the alternate screen,
//! drawing each frame as one synchronized update, stopping for Ctrl-Z and
//! SIGTSTP (and taking the terminal again on SIGCONT), and making sure the
//! terminal is restored however the program ends.

use std::io::{self, BufWriter, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, event::DisableMouseCapture, execute, queue};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::app::AppState;

/// True between `enter` and `restore`: the panic hook and signal paths only
/// touch the terminal when we changed it.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Mouse reporting for clicks and the wheel only (X10 + SGR encoding). Full
/// motion tracking would send an event per cell the pointer crosses, which
/// over SSH is traffic for nothing.
struct EnableMouseClicks;

impl crossterm::Command for EnableMouseClicks {
    fn write_ansi(&self, f: &mut impl std::fmt::Write) -> std::fmt::Result {
        f.write_str("\x1b[?1000h\x1b[?1006h")
    }
}

/// The terminal while opsdeck owns it.
pub struct Tui {
    terminal: Terminal<CrosstermBackend<BufWriter<Stdout>>>,
    width: u16,
}

impl Tui {
    /// Take over the terminal: raw mode, alternate screen, mouse clicks.
    pub fn enter() -> io::Result<Tui> {
        enter_modes()?;
        // One write per frame: a frame is one packet over SSH, not dozens.
        let backend = CrosstermBackend::new(BufWriter::with_capacity(64 * 1024, io::stdout()));
        let terminal = Terminal::new(backend)?;
        let mut tui = Tui { terminal, width: 0 };
        tui.clear()?;
        Ok(tui)
    }

    /// Draw one frame, wrapped in a synchronized update so the terminal
    /// shows it whole rather than line by line.
    pub fn draw(&mut self, state: &AppState) -> io::Result<()> {
        queue!(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        let completed = self.terminal.draw(|frame| crate::ui::render(frame, state))?;
        self.width = completed.area.width;
        execute!(self.terminal.backend_mut(), EndSynchronizedUpdate)?;
        Ok(())
    }

    /// Ring the terminal bell (a new critical alert, when `[alerts] bell = true`).
    pub fn bell(&mut self) -> io::Result<()> {
        use std::io::Write;
        let out = self.terminal.backend_mut();
        out.write_all(b"\x07")?;
        out.flush()
    }

    /// Put `text` on the operator's clipboard with OSC 52: the terminal does
    /// it, so it works over SSH. The text was sanitized when read; base64
    /// keeps even a stray byte from ending the sequence early.
    pub fn copy_to_clipboard(&mut self, text: &str) -> io::Result<()> {
        use base64::Engine;
        use std::io::Write;
        let encoded = base64::engine::general_purpose::STANDARD.encode(text);
        let out = self.terminal.backend_mut();
        write!(out, "\x1b]52;c;{encoded}\x07")?;
        out.flush()
    }

    /// Width of the last frame, for mouse hit tests.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Forget what is on screen and repaint it all on the next draw.
    pub fn clear(&mut self) -> io::Result<()> {
        // Not `Terminal::clear`: it asks the terminal for the cursor position
        // and fails after 2 s when no answer comes (some terminals never
        // answer, slow links answer late). Resizing to the same size clears
        // and resets the back buffer without asking.
        let size = self.terminal.size()?;
        self.terminal.resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))
    }

    /// Ctrl-Z: give the terminal back, stop, and take it again on `fg`.
    /// Returns false, changing nothing, when no shell could resume us.
    pub fn suspend(&mut self) -> io::Result<bool> {
        if !has_job_control() {
            return Ok(false);
        }
        self.stop()?;
        Ok(true)
    }

    /// SIGTSTP from outside (`kill -TSTP`), or Ctrl-Z: give the terminal
    /// back (main screen, cooked mode), stop, and on SIGCONT take it again
    /// and repaint everything. opsdeck handles SIGTSTP to restore the
    /// terminal first, so it stops with SIGSTOP, which cannot be caught;
    /// whoever sent the stop can continue it (a shell's `fg`, `kill -CONT`).
    pub fn stop(&mut self) -> io::Result<()> {
        restore()?;
        // SAFETY: raise(3) has no memory-safety preconditions; SIGSTOP stops
        // the process and execution continues here after SIGCONT.
        unsafe {
            libc::raise(libc::SIGSTOP);
        }
        self.resume()
    }

    /// After SIGCONT: the shell may have put the terminal back in cooked
    /// mode on the main screen while we were stopped, so raw mode, the
    /// alternate screen and the mouse are set again and the next draw
    /// repaints every cell.
    pub fn resume(&mut self) -> io::Result<()> {
        // crossterm skips enabling a raw mode it believes is on, but the
        // tty may have been reset under it: leave it first, then enter.
        if ACTIVE.load(Ordering::SeqCst) {
            disable_raw_mode()?;
        }
        enter_modes()?;
        self.clear()
    }
}

/// Whether a job-control shell is there to `fg` us. Started straight from
/// `ssh -t host opsdeck` or a PTY, our parent is in another session, the
/// kernel discards SIGTSTP for the orphaned process group, and a suspend
/// would only flicker the screen.
fn has_job_control() -> bool {
    // SAFETY: getsid(2) and getppid(2) only read process attributes.
    unsafe { libc::getsid(libc::getppid()) == libc::getsid(0) }
}

fn enter_modes() -> io::Result<()> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseClicks, cursor::Hide)
}

/// Give the terminal back: mouse off, main screen, cursor shown, cooked mode.
/// Safe to call more than once and from the panic hook.
pub fn restore() -> io::Result<()> {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let mut out = io::stdout();
    // Close a synchronized update a failed draw may have left open.
    let screen =
        execute!(out, EndSynchronizedUpdate, DisableMouseCapture, LeaveAlternateScreen, cursor::Show);
    let raw = disable_raw_mode();
    out.flush()?;
    screen.and(raw)
}

/// Install the panic hook: on the UI thread a panic restores the terminal and
/// then prints color-eyre's report on the clean screen. A panic in a
/// background thread only ends that source; it is logged and the screen stays.
pub fn install_panic_hook() -> color_eyre::Result<()> {
    let (panic_hook, eyre_hook) =
        color_eyre::config::HookBuilder::default().display_env_section(false).into_hooks();
    eyre_hook.install()?;
    let panic_hook = panic_hook.into_panic_hook();
    let main_thread = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == main_thread {
            let _ = restore();
            panic_hook(info);
        } else {
            tracing::error!("background task panicked: {info}");
        }
    }));
    Ok(())
}
