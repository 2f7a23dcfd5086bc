//! opsdeck's own log: tracing events go to tui-logger, which keeps a bounded
//! buffer for the in-app log view and appends to `<data dir>/opsdeck.log`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing_subscriber::layer::SubscriberExt;

/// The log file is started afresh (the old one kept as `.1`) past this size,
/// so a long-running war-room screen cannot fill the disk.
const MAX_LOG_BYTES: u64 = 10 * 1024 * 1024;

/// Lines kept for the in-app view.
const BUFFER_LINES: usize = 2000;

/// Route tracing to tui-logger and, when `data_dir` is usable, to a file.
/// Returns the file's path, or why there is none.
pub fn init(data_dir: Option<&Path>) -> Result<PathBuf, String> {
    let subscriber = tracing_subscriber::registry().with(tui_logger::TuiTracingSubscriberLayer);
    tracing::subscriber::set_global_default(subscriber).map_err(|e| e.to_string())?;
    tui_logger::set_default_level(tui_logger::LevelFilter::Info);
    tui_logger::set_env_filter_from_env(Some("OPSDECK_LOG"));
    tui_logger::set_buffer_depth(BUFFER_LINES);

    let dir = data_dir.ok_or("no data directory for this user")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join("opsdeck.log");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_LOG_BYTES) {
        let _ = std::fs::rename(&path, path.with_extension("log.1"));
    }
    // tui-logger panics if it cannot open the file: open it first ourselves.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let name = path.to_str().ok_or("data directory path is not UTF-8")?;
    tui_logger::set_log_file(tui_logger::TuiLoggerFile::new(name));
    Ok(path)
}

/// Move buffered events into the view and the file twice a second, on a
/// worker thread (tui-logger's own mover would wake 100 times a second).
pub fn spawn_mover(cancel: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = tick.tick() => tui_logger::move_events(),
            }
        }
        tui_logger::move_events();
    });
}
