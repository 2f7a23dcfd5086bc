//! Backup catalog pollers: one task per `[[backups]]` entry, each reading its
//! catalog (a directory scan or a tool's JSON listing) on its own interval
//! and timeout, so a slow repository never delays another catalog.

pub mod dir;
pub mod pgbackrest;
pub mod restic;
pub mod tool;
pub mod walg;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::{Payload, Update};
use crate::backups::model::{Catalog, CatalogError, ErrorState};
use crate::config::backups::{BackupKind, BackupSource};

/// One poll of one catalog.
#[derive(Debug, Clone)]
pub struct CatalogReport {
    /// The catalog's configured name.
    pub catalog: String,
    /// What it holds now, or why it could not be read.
    pub result: Result<Catalog, CatalogError>,
    /// How long the poll took.
    pub took: Duration,
}

/// The status bar's name for the backup pollers.
pub const SOURCE: &str = "backups";

/// Start one poller per catalog (SQLite catalogs have no listing to poll:
/// their row carries the online backup action).
pub fn spawn_all(
    catalogs: &[BackupSource],
    tx: &mpsc::Sender<Update>,
    cancel: &CancellationToken,
) -> Arc<Notify> {
    let rescan = Arc::new(Notify::new());
    for source in catalogs.iter().filter(|c| c.kind != BackupKind::Sqlite) {
        tokio::spawn(poll_catalog(source.clone(), tx.clone(), cancel.clone(), Arc::clone(&rescan)));
    }
    rescan
}

/// Read one catalog now.
async fn list(source: &BackupSource, dir: &mut Option<dir::DirCatalog>) -> Result<Catalog, CatalogError> {
    match source.kind {
        BackupKind::Dir => {
            let mut scanner = match dir.take() {
                Some(s) => s,
                None => dir::DirCatalog::new(source).map_err(|e| CatalogError::new(ErrorState::Failed, e))?,
            };
            // A directory walk blocks: off the runtime's workers, bounded by
            // the catalog's timeout (a hung NFS mount must not hang the tab).
            let work = tokio::task::spawn_blocking(move || {
                let r = scanner.scan();
                (scanner, r)
            });
            match tokio::time::timeout(source.timeout, work).await {
                Ok(Ok((scanner, r))) => {
                    *dir = Some(scanner);
                    r
                }
                Ok(Err(e)) => Err(CatalogError::new(ErrorState::Failed, format!("scan task failed: {e}"))),
                Err(_) => Err(CatalogError::new(
                    ErrorState::Timeout,
                    format!("scan took longer than {}", humantime::format_duration(source.timeout)),
                )),
            }
        }
        BackupKind::Restic => restic::list(source).await,
        BackupKind::Pgbackrest => pgbackrest::list(source).await,
        BackupKind::Walg => walg::list(source).await,
        BackupKind::Sqlite => Ok(Catalog::default()),
    }
}

async fn poll_catalog(
    source: BackupSource,
    tx: mpsc::Sender<Update>,
    cancel: CancellationToken,
    rescan: Arc<Notify>,
) {
    let mut dir = None;
    loop {
        let started = Instant::now();
        let result = tokio::select! {
            () = cancel.cancelled() => return,
            r = list(&source, &mut dir) => r,
        };
        let report = CatalogReport { catalog: source.name.clone(), result, took: started.elapsed() };
        if tx.send(Update::now(SOURCE, Ok(Payload::Backups(report)))).await.is_err() {
            return;
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(source.interval) => {}
            () = rescan.notified() => {}
        }
    }
}
