//! Sources are pollers: tokio tasks that talk to one backend each and send
//! model updates to the app over a channel. They know nothing of the screen.
//! Every update says which source it came from and whether the poll worked,
//! so health (last success, last error) is kept in one place for all of them.

pub mod health;
pub mod maintenance;
pub mod node;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::model::metrics::NodeSample;
use crate::store::StoreInfo;

pub use health::{HealthStatus, SourceHealth};

/// What a source hands to the app.
#[derive(Debug)]
pub enum Payload {
    /// A fresh sample of this node.
    Node(Box<NodeSample>),
    /// The state store is open.
    Store(StoreInfo),
    /// The maintenance flag file's state.
    Maintenance(maintenance::MaintenanceState),
    /// Progress of a guarded action.
    Action(crate::ops::executor::Event),
    /// The newest rows of the audit trail.
    Audit(Vec<crate::ops::audit::AuditRow>),
}

/// One poll's outcome.
#[derive(Debug)]
pub struct Update {
    /// The source's name as the status bar shows it.
    pub source: &'static str,
    /// When the poll finished.
    pub at: Instant,
    /// The data, or why there is none this time.
    pub result: Result<Payload, String>,
}

/// The next wall-clock second plus `offset`. Pollers and the clock tick on
/// the same boundary so their changes land in one frame, not two.
pub fn next_wall_second(offset: Duration) -> tokio::time::Instant {
    let into = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let wait = Duration::from_nanos(u64::from(1_000_000_000 - into)) + offset;
    tokio::time::Instant::now() + wait
}

impl Update {
    /// An update stamped now.
    pub fn now(source: &'static str, result: Result<Payload, String>) -> Update {
        Update { source, at: Instant::now(), result }
    }
}
