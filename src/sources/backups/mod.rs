//! Backup catalog pollers: one task per `[[backups]]` entry, each reading its
//! catalog (a directory scan or a tool's JSON listing) on its own interval
//! and timeout, so a slow repository never delays another catalog.

pub mod pgbackrest;
pub mod restic;
pub mod tool;
pub mod walg;

use std::time::Duration;

use crate::backups::model::{Catalog, CatalogError};

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
