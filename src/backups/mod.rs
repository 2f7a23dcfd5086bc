//! The backup catalog: what backups exist, whether they keep the promises the
//! config makes (RPO, cadence, retention, size), and proving them restorable.

pub mod checks;
pub mod findings;
pub mod model;
pub mod verify;
