//! Guarded operations: the one pipeline every mutating action goes through
//! (choose, pin, preview, preconditions, guard, arm, run, audit). This part
//! holds the pieces that touch the world: rendering a command from a pinned
//! target and running it bounded, cancellable and without a shell.

pub mod argv;
pub mod audit;
pub mod audit_chain;
mod audit_write;
pub mod backup;
pub mod catalog;
pub mod child_env;
pub mod executor;
pub mod guard;
pub mod identity;
pub mod plan;
pub mod precondition;
pub mod replication;
pub mod run;
pub mod silence;
pub mod sqlite_backup;
pub mod supervise;
pub mod target;
