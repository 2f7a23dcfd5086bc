//! Maintenance mode by flag file (handbook 004): the file's presence means
//! this node is in maintenance; its first line says why. Polled like any
//! source so the status bar shows it, however it was set.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Payload, Update};

/// The name this source has in the status bar.
pub const SOURCE: &str = "maint";

/// What the flag file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaintenanceState {
    /// No flag file.
    Off,
    /// The flag file exists; its first line, if any.
    On {
        /// Why, as written in the file.
        note: String,
    },
}

/// Read the flag file once.
pub async fn read(path: &std::path::Path) -> Result<MaintenanceState, String> {
    match tokio::fs::read_to_string(path).await {
        Ok(text) => Ok(MaintenanceState::On { note: text.lines().next().unwrap_or("").trim().to_owned() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(MaintenanceState::Off),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Poll `path` every `period` until cancelled or the app hangs up.
pub fn spawn(path: PathBuf, tx: mpsc::Sender<Update>, period: Duration, cancel: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(super::next_wall_second(Duration::ZERO), period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            // Every period, changed or not: that is what keeps its health fresh.
            let update = Update::now(SOURCE, read(&path).await.map(Payload::Maintenance));
            if tx.send(update).await.is_err() {
                return;
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = tick.tick() => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn presence_and_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let flag = dir.path().join("maintenance.flag");
        assert_eq!(read(&flag).await.unwrap(), MaintenanceState::Off);
        std::fs::write(&flag, "kernel upgrade, alice, until 23:00\nmore\n").unwrap();
        assert_eq!(
            read(&flag).await.unwrap(),
            MaintenanceState::On { note: "kernel upgrade, alice, until 23:00".into() }
        );
        std::fs::write(&flag, "").unwrap();
        assert_eq!(read(&flag).await.unwrap(), MaintenanceState::On { note: String::new() });
        let err = read(dir.path()).await.unwrap_err();
        assert!(err.contains("cannot read"), "{err}");
    }
}
