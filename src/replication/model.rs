//! What one poll of one database member says about replication, the same
//! shape for PostgreSQL, MySQL/MariaDB and Redis. The sources fill it; the
//! tab builds the topology from every member's status, so no source needs
//! to know the others.
//!
//! Two sides of one link: a replica reports its `Channel` (what it receives
//! and applies), its upstream reports a `Downstream` (what it sends). Both
//! are kept: during an incident they disagree, and the disagreement is the
//! news.

use std::time::Duration;

/// What a member is now, as it says itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Accepts writes: PostgreSQL not in recovery, MySQL without a
    /// replication channel, Redis `role:master`.
    Primary,
    /// Replicates from an upstream (it may feed others: cascading).
    Replica,
}

impl Role {
    /// For display.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Replica => "replica",
        }
    }
}

/// How far behind a replica is, in time.
#[derive(Debug, Clone, PartialEq)]
pub enum Lag {
    /// Measured.
    Behind(Duration),
    /// Caught up and nothing to replay: the upstream is idle. Not broken,
    /// not a number (PostgreSQL reports NULL lag columns then).
    Idle,
    /// Cannot be known now, with why (`"SQL thread stopped"`). Never shown as 0.
    Unknown(String),
    /// The monitoring user may not read it.
    NoPermission,
}

impl Lag {
    /// Seconds when measured; `Idle` counts as 0 (nothing to apply).
    pub fn seconds(&self) -> Option<f64> {
        match self {
            Lag::Behind(d) => Some(d.as_secs_f64()),
            Lag::Idle => Some(0.0),
            Lag::Unknown(_) | Lag::NoPermission => None,
        }
    }
}

/// The state of one replication stream on the replica's side.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkState {
    /// Receiving and applying (PostgreSQL `streaming`, MySQL both threads
    /// running, Redis `master_link_status:up`).
    Streaming,
    /// Receiving, applying paused on purpose (PostgreSQL `pg_wal_replay_pause`).
    ReplayPaused,
    /// Connecting or catching up (PostgreSQL `startup`/`catchup`, MySQL IO
    /// thread `Connecting`, Redis sync in progress).
    Connecting,
    /// Stopped on purpose or by an error; `what` names what stopped
    /// (`"SQL thread"`, `"IO thread"`, `"IO and SQL threads"`, `"WAL receiver"`,
    /// `"link down"`). The error, if any, is in `Channel::last_error`.
    Stopped {
        /// What is not running.
        what: String,
    },
}

impl LinkState {
    /// Short text for a cell.
    pub fn label(&self) -> String {
        match self {
            LinkState::Streaming => "streaming".into(),
            LinkState::ReplayPaused => "replay paused".into(),
            LinkState::Connecting => "connecting".into(),
            LinkState::Stopped { what } => format!("stopped: {what}"),
        }
    }
}

/// One stream a replica receives (PostgreSQL: its WAL receiver; MySQL: one
/// per channel / MariaDB connection; Redis: its master link).
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// MySQL channel or MariaDB connection name; empty for the default one.
    pub name: String,
    /// The upstream as the replica reports it: `host:port` (PostgreSQL
    /// `sender_host:sender_port`, MySQL `Master_Host:Master_Port`, Redis
    /// `master_host:master_port`). `None` when it does not say.
    pub upstream: Option<String>,
    /// Running, paused, connecting or stopped.
    pub state: LinkState,
    /// Time lag (see `Lag`).
    pub lag: Lag,
    /// How `lag` was measured, for the details pane: `"replay timestamp"`,
    /// `"Seconds_Behind_Master"`, `"heartbeat table"`, `"master_last_io_seconds_ago"`,
    /// or the upstream's own measure when it replaced the replica's (see `judge`).
    pub lag_source: &'static str,
    /// The name the upstream lists this replica under, where the engine has
    /// one (PostgreSQL: the WAL receiver's `application_name`), to find its
    /// row among the upstream's downstreams.
    pub peer_name: Option<String>,
    /// Received but not yet applied, in bytes, where the engine can say
    /// (PostgreSQL receive − replay LSN; Redis offsets; MySQL: not bytes).
    pub apply_backlog_bytes: Option<u64>,
    /// Position applied, as a comparable number (PostgreSQL replay LSN,
    /// Redis `slave_repl_offset`); the tab subtracts it from the upstream's
    /// `Status::position` for byte lag.
    pub applied_position: Option<u64>,
    /// The last IO or SQL error, or the receiver's, verbatim (MySQL
    /// `Last_IO_Error`/`Last_SQL_Error` with their numbers).
    pub last_error: Option<String>,
    /// Every other column the engine gave for this channel, in its order,
    /// for the details pane (GTID positions, relay log space, timeline…).
    pub facts: Vec<(String, String)>,
}

/// A replica as its upstream sees it (PostgreSQL `pg_stat_replication`,
/// MySQL `SHOW REPLICAS`, Redis `slaveN:`). Unconfigured ones are shown as
/// discovered members.
#[derive(Debug, Clone, PartialEq)]
pub struct Downstream {
    /// PostgreSQL `application_name`; MySQL `Server_Id`; Redis `ip:port`.
    pub name: String,
    /// Its address as the upstream knows it: `client_addr` (PostgreSQL, no
    /// port: the client's port is not the one it listens on), `host:port`
    /// (MySQL `SHOW REPLICAS`, Redis).
    pub addr: Option<String>,
    /// PostgreSQL `state` (`streaming`, `catchup`…); Redis `state` (`online`…);
    /// MySQL: empty (it does not say).
    pub state: String,
    /// PostgreSQL `sync_state` (`async`, `sync`, `quorum`, `potential`).
    pub sync: Option<String>,
    /// PostgreSQL `replay_lag` (NULL with nothing to replay is `Idle`);
    /// Redis `lag` (seconds since its last ack); MySQL: `Unknown`.
    pub lag: Lag,
    /// Bytes not yet replayed (PostgreSQL `pg_wal_lsn_diff(current, replay_lsn)`,
    /// Redis `master_repl_offset − offset`).
    pub lag_bytes: Option<u64>,
    /// The rest, for the details pane (sent/write/flush LSN, write/flush lag…).
    pub facts: Vec<(String, String)>,
}

/// A PostgreSQL replication slot on this member.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// `slot_name`.
    pub name: String,
    /// `physical` or `logical`.
    pub kind: String,
    /// A consumer is connected.
    pub active: bool,
    /// `wal_status` (PG ≥ 13): `reserved`, `extended`, `unreserved`, `lost`.
    pub wal_status: Option<String>,
    /// `safe_wal_size` (PG ≥ 13): bytes left before the slot is lost; NULL
    /// without `max_slot_wal_keep_size`.
    pub safe_wal_size: Option<i64>,
    /// WAL kept for it: `pg_wal_lsn_diff(current, restart_lsn)` bytes.
    pub retained_bytes: Option<u64>,
}

/// One successful poll of one member.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// Primary or replica, as the member says now.
    pub role: Role,
    /// `"PostgreSQL 15.18"`, `"MariaDB 10.11.6"`, `"MySQL 8.4.3"`, `"Redis 7.0.15"`.
    pub version: String,
    /// Refuses writes: PostgreSQL in recovery, MySQL `read_only` or
    /// `super_read_only`, Redis replica with `replica-read-only`. `None`
    /// when not readable.
    pub read_only: Option<bool>,
    /// The member's own write position as a comparable number: PostgreSQL
    /// `pg_current_wal_lsn()` on a primary (receive LSN on a standby, for
    /// cascading), Redis `master_repl_offset`. MySQL: `None`.
    pub position: Option<u64>,
    /// Streams it receives; empty on a primary.
    pub channels: Vec<Channel>,
    /// Replicas it feeds.
    pub downstreams: Vec<Downstream>,
    /// Why `downstreams` could not be read (a missing privilege, named):
    /// then an empty list means "unknown", not "none".
    pub downstreams_unknown: Option<String>,
    /// PostgreSQL replication slots.
    pub slots: Vec<Slot>,
    /// Member-wide facts for the details pane (timeline, server id, GTID
    /// mode, uptime…), in a stable order.
    pub facts: Vec<(String, String)>,
    /// What could not be read and why, each one line (e.g. `"pg_stat_replication:
    /// no permission (grant pg_monitor)"`). The rest of the status is still good.
    pub warnings: Vec<String>,
}

/// Parse a PostgreSQL LSN (`"16/B374D848"`) to a comparable number.
pub fn parse_lsn(s: &str) -> Option<u64> {
    let (hi, lo) = s.trim().split_once('/')?;
    let hi = u64::from_str_radix(hi, 16).ok()?;
    let lo = u64::from_str_radix(lo, 16).ok()?;
    (hi <= u64::from(u32::MAX) && lo <= u64::from(u32::MAX)).then_some((hi << 32) | lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_compare_as_numbers() {
        assert_eq!(parse_lsn("0/3000060"), Some(0x300_0060));
        assert_eq!(parse_lsn("16/B374D848"), Some((0x16 << 32) | 0xB374_D848));
        assert!(parse_lsn("1/0") > parse_lsn("0/FFFFFFFF"));
        assert_eq!(parse_lsn("nope"), None);
        assert_eq!(parse_lsn("1FFFFFFFF/0"), None);
    }

    #[test]
    fn idle_lag_is_zero_unknown_is_none() {
        assert_eq!(Lag::Idle.seconds(), Some(0.0));
        assert_eq!(Lag::Unknown("SQL thread stopped".into()).seconds(), None);
        assert_eq!(Lag::Behind(Duration::from_millis(1500)).seconds(), Some(1.5));
    }
}
