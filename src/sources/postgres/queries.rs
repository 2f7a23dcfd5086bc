//! The queries, chosen by server version, and their rows read by column name.
//!
//! Columns a version lacks are selected as typed NULLs under the same name,
//! so one reader serves every version from 10 on. Lengths and positions are
//! cast to text or int8 here: `pg_lsn`, `numeric` and `interval` are then
//! plain Rust types, and LSNs compare as numbers via `parse_lsn`.
//!
//! The version-dependent SQL is assembled only from constants in this file,
//! never from input: that is the audit `AssertSqlSafe` asks for.

use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};

use crate::replication::model::parse_lsn;

/// PostgreSQL 10 renamed xlog to wal in every function this uses.
pub(super) const OLDEST_SUPPORTED: i32 = 100_000;

/// What every role may read about the server itself.
pub(super) struct Basics {
    pub version_num: i32,
    pub version: String,
    pub in_recovery: bool,
    pub read_only_setting: bool,
    /// `cluster_name`: what a WAL receiver calls itself when its conninfo names nothing.
    pub cluster_name: String,
    /// Settings for the details pane, in display order.
    pub settings: Vec<(&'static str, String)>,
    pub uptime_s: Option<f64>,
}

const BASICS_SQL: &str = "SELECT current_setting('server_version_num')::int4 AS version_num, \
     current_setting('server_version') AS version, \
     pg_is_in_recovery() AS in_recovery, \
     current_setting('transaction_read_only') AS transaction_read_only, \
     current_setting('default_transaction_read_only') AS default_transaction_read_only, \
     current_setting('wal_level') AS wal_level, \
     current_setting('max_wal_senders') AS max_wal_senders, \
     current_setting('max_replication_slots') AS max_replication_slots, \
     current_setting('synchronous_standby_names') AS synchronous_standby_names, \
     current_setting('synchronous_commit') AS synchronous_commit, \
     current_setting('hot_standby') AS hot_standby, \
     current_setting('cluster_name') AS cluster_name, \
     EXTRACT(EPOCH FROM now() - pg_postmaster_start_time())::float8 AS uptime_s";

/// The settings shown as facts, by column name.
const SETTINGS: [&str; 6] = [
    "wal_level",
    "max_wal_senders",
    "max_replication_slots",
    "synchronous_standby_names",
    "synchronous_commit",
    "hot_standby",
];

pub(super) async fn basics(conn: &mut PgConnection) -> Result<Basics, sqlx::Error> {
    let row = sqlx::query(BASICS_SQL).fetch_one(conn).await?;
    let on = |col: &str| -> Result<bool, sqlx::Error> { Ok(row.try_get::<String, _>(col)? == "on") };
    let mut settings = Vec::with_capacity(SETTINGS.len());
    for name in SETTINGS {
        settings.push((name, row.try_get::<String, _>(name)?));
    }
    Ok(Basics {
        version_num: row.try_get("version_num")?,
        version: row.try_get("version")?,
        in_recovery: row.try_get("in_recovery")?,
        read_only_setting: on("transaction_read_only")? || on("default_transaction_read_only")?,
        cluster_name: row.try_get("cluster_name")?,
        settings,
        uptime_s: row.try_get("uptime_s")?,
    })
}

/// The WAL position this member's downstreams and slots are measured from:
/// its own insert position on a primary; on a standby (cascading) what it
/// has received, or replayed when it receives nothing.
pub(super) fn position_sql(in_recovery: bool) -> &'static str {
    if in_recovery {
        "COALESCE(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())"
    } else {
        "pg_current_wal_lsn()"
    }
}

/// A primary's write position and the WAL file it is in (whose name holds the timeline).
pub(super) struct PrimaryWal {
    pub lsn: String,
    pub walfile: Option<String>,
}

pub(super) async fn primary_wal(conn: &mut PgConnection) -> Result<PrimaryWal, sqlx::Error> {
    let sql = "SELECT pg_current_wal_lsn()::text AS lsn, pg_walfile_name(pg_current_wal_lsn()) AS walfile";
    let row = sqlx::query(sql).fetch_one(conn).await?;
    Ok(PrimaryWal { lsn: row.try_get("lsn")?, walfile: row.try_get("walfile")? })
}

/// A standby's own view of receive and replay: functions any role may call.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Replay {
    pub receive_lsn: Option<String>,
    pub replay_lsn: Option<String>,
    pub paused: bool,
    /// PG ≥ 14: `not paused`, `pause requested`, `paused`.
    pub pause_state: Option<String>,
    /// now() − pg_last_xact_replay_timestamp(): NULL before any transaction was replayed.
    pub last_replayed_age_s: Option<f64>,
}

impl Replay {
    pub fn receive(&self) -> Option<u64> {
        self.receive_lsn.as_deref().and_then(parse_lsn)
    }

    pub fn replayed(&self) -> Option<u64> {
        self.replay_lsn.as_deref().and_then(parse_lsn)
    }
}

pub(super) fn replay_sql(version_num: i32) -> String {
    let pause_state = if version_num >= 140_000 { "pg_get_wal_replay_pause_state()" } else { "NULL::text" };
    format!(
        "SELECT pg_last_wal_receive_lsn()::text AS receive_lsn, \
         pg_last_wal_replay_lsn()::text AS replay_lsn, \
         pg_is_wal_replay_paused() AS paused, \
         {pause_state} AS pause_state, \
         EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS last_replayed_age_s"
    )
}

pub(super) async fn replay(conn: &mut PgConnection, version_num: i32) -> Result<Replay, sqlx::Error> {
    let row = sqlx::query(AssertSqlSafe(replay_sql(version_num))).fetch_one(conn).await?;
    Ok(Replay {
        receive_lsn: row.try_get("receive_lsn")?,
        replay_lsn: row.try_get("replay_lsn")?,
        paused: row.try_get("paused")?,
        pause_state: row.try_get("pause_state")?,
        last_replayed_age_s: row.try_get("last_replayed_age_s")?,
    })
}

/// One `pg_stat_wal_receiver` row. A role without pg_read_all_stats sees
/// only `pid`: `status` NULL means "may not read", not "stopped".
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Receiver {
    pub pid: Option<i32>,
    pub status: Option<String>,
    pub sender_host: Option<String>,
    pub sender_port: Option<i32>,
    /// Obfuscated by the server (passwords shown as stars); read for host and port only.
    pub conninfo: Option<String>,
    /// PG ≥ 13.
    pub written_lsn: Option<String>,
    /// PG ≥ 13.
    pub flushed_lsn: Option<String>,
    /// PG < 13.
    pub received_lsn: Option<String>,
    pub latest_end_lsn: Option<String>,
    pub slot_name: Option<String>,
    pub received_tli: Option<i32>,
    pub last_msg_age_s: Option<f64>,
}

pub(super) fn receiver_sql(version_num: i32) -> String {
    let sender = if version_num >= 110_000 {
        "sender_host, sender_port"
    } else {
        "NULL::text AS sender_host, NULL::int4 AS sender_port"
    };
    let lsns = if version_num >= 130_000 {
        "written_lsn::text AS written_lsn, flushed_lsn::text AS flushed_lsn, NULL::text AS received_lsn"
    } else {
        "NULL::text AS written_lsn, NULL::text AS flushed_lsn, received_lsn::text AS received_lsn"
    };
    format!(
        "SELECT pid, status, {sender}, conninfo, {lsns}, latest_end_lsn::text AS latest_end_lsn, \
         slot_name::text AS slot_name, received_tli, \
         EXTRACT(EPOCH FROM now() - last_msg_receipt_time)::float8 AS last_msg_age_s \
         FROM pg_stat_wal_receiver"
    )
}

pub(super) async fn receiver(
    conn: &mut PgConnection,
    version_num: i32,
) -> Result<Option<Receiver>, sqlx::Error> {
    let Some(row) = sqlx::query(AssertSqlSafe(receiver_sql(version_num))).fetch_optional(conn).await? else {
        return Ok(None);
    };
    Ok(Some(Receiver {
        pid: row.try_get("pid")?,
        status: row.try_get("status")?,
        sender_host: row.try_get("sender_host")?,
        sender_port: row.try_get("sender_port")?,
        conninfo: row.try_get("conninfo")?,
        written_lsn: row.try_get("written_lsn")?,
        flushed_lsn: row.try_get("flushed_lsn")?,
        received_lsn: row.try_get("received_lsn")?,
        latest_end_lsn: row.try_get("latest_end_lsn")?,
        slot_name: row.try_get("slot_name")?,
        received_tli: row.try_get("received_tli")?,
        last_msg_age_s: row.try_get("last_msg_age_s")?,
    }))
}

/// The timeline from the last checkpoint: a standby's fallback while it has no WAL receiver.
pub(super) async fn checkpoint_timeline(conn: &mut PgConnection) -> Result<Option<i32>, sqlx::Error> {
    let row =
        sqlx::query("SELECT (pg_control_checkpoint()).timeline_id AS timeline_id").fetch_one(conn).await?;
    row.try_get("timeline_id")
}

/// One `pg_stat_replication` row. Without pg_read_all_stats only `pid`,
/// `usename` and `application_name` are filled.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Sender {
    pub pid: Option<i32>,
    pub usename: Option<String>,
    pub application_name: Option<String>,
    pub client_addr: Option<String>,
    pub state: Option<String>,
    pub sync_state: Option<String>,
    pub sync_priority: Option<i32>,
    pub sent_lsn: Option<String>,
    pub write_lsn: Option<String>,
    pub flush_lsn: Option<String>,
    pub replay_lsn: Option<String>,
    pub write_lag_s: Option<f64>,
    pub flush_lag_s: Option<f64>,
    pub replay_lag_s: Option<f64>,
    pub lag_bytes: Option<i64>,
    /// PG ≥ 12: how long ago the standby last reported.
    pub reply_age_s: Option<f64>,
}

pub(super) fn senders_sql(version_num: i32, in_recovery: bool) -> String {
    let position = position_sql(in_recovery);
    let reply_age = if version_num >= 120_000 {
        "EXTRACT(EPOCH FROM now() - reply_time)::float8"
    } else {
        "NULL::float8"
    };
    format!(
        "SELECT pid, usename::text AS usename, application_name, host(client_addr) AS client_addr, \
         state, sync_state, sync_priority, \
         sent_lsn::text AS sent_lsn, write_lsn::text AS write_lsn, \
         flush_lsn::text AS flush_lsn, replay_lsn::text AS replay_lsn, \
         EXTRACT(EPOCH FROM write_lag)::float8 AS write_lag_s, \
         EXTRACT(EPOCH FROM flush_lag)::float8 AS flush_lag_s, \
         EXTRACT(EPOCH FROM replay_lag)::float8 AS replay_lag_s, \
         pg_wal_lsn_diff({position}, replay_lsn)::int8 AS lag_bytes, \
         {reply_age} AS reply_age_s \
         FROM pg_stat_replication ORDER BY application_name, pid"
    )
}

pub(super) async fn senders(
    conn: &mut PgConnection,
    version_num: i32,
    in_recovery: bool,
) -> Result<Vec<Sender>, sqlx::Error> {
    let rows = sqlx::query(AssertSqlSafe(senders_sql(version_num, in_recovery))).fetch_all(conn).await?;
    rows.iter().map(sender).collect()
}

fn sender(row: &PgRow) -> Result<Sender, sqlx::Error> {
    Ok(Sender {
        pid: row.try_get("pid")?,
        usename: row.try_get("usename")?,
        application_name: row.try_get("application_name")?,
        client_addr: row.try_get("client_addr")?,
        state: row.try_get("state")?,
        sync_state: row.try_get("sync_state")?,
        sync_priority: row.try_get("sync_priority")?,
        sent_lsn: row.try_get("sent_lsn")?,
        write_lsn: row.try_get("write_lsn")?,
        flush_lsn: row.try_get("flush_lsn")?,
        replay_lsn: row.try_get("replay_lsn")?,
        write_lag_s: row.try_get("write_lag_s")?,
        flush_lag_s: row.try_get("flush_lag_s")?,
        replay_lag_s: row.try_get("replay_lag_s")?,
        lag_bytes: row.try_get("lag_bytes")?,
        reply_age_s: row.try_get("reply_age_s")?,
    })
}

/// One `pg_replication_slots` row (readable by every role).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct SlotRow {
    pub slot_name: String,
    pub slot_type: String,
    pub active: bool,
    pub wal_status: Option<String>,
    pub safe_wal_size: Option<i64>,
    pub retained_bytes: Option<i64>,
}

pub(super) fn slots_sql(version_num: i32, in_recovery: bool) -> String {
    let position = position_sql(in_recovery);
    let limits = if version_num >= 130_000 {
        "wal_status, safe_wal_size"
    } else {
        "NULL::text AS wal_status, NULL::int8 AS safe_wal_size"
    };
    format!(
        "SELECT slot_name::text AS slot_name, slot_type, active, {limits}, \
         pg_wal_lsn_diff({position}, restart_lsn)::int8 AS retained_bytes \
         FROM pg_replication_slots ORDER BY slot_name"
    )
}

pub(super) async fn slots(
    conn: &mut PgConnection,
    version_num: i32,
    in_recovery: bool,
) -> Result<Vec<SlotRow>, sqlx::Error> {
    let rows = sqlx::query(AssertSqlSafe(slots_sql(version_num, in_recovery))).fetch_all(conn).await?;
    rows.iter()
        .map(|row| {
            Ok(SlotRow {
                slot_name: row.try_get("slot_name")?,
                slot_type: row.try_get("slot_type")?,
                active: row.try_get("active")?,
                wal_status: row.try_get("wal_status")?,
                safe_wal_size: row.try_get("safe_wal_size")?,
                retained_bytes: row.try_get("retained_bytes")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receiver_columns_follow_the_version() {
        let pg15 = receiver_sql(150_000);
        assert!(
            pg15.contains("flushed_lsn::text AS flushed_lsn") && pg15.contains("NULL::text AS received_lsn")
        );
        assert!(pg15.contains("sender_host, sender_port"));
        let pg12 = receiver_sql(120_005);
        assert!(
            pg12.contains("received_lsn::text AS received_lsn") && pg12.contains("NULL::text AS flushed_lsn")
        );
        let pg10 = receiver_sql(100_023);
        assert!(pg10.contains("NULL::text AS sender_host, NULL::int4 AS sender_port"));
    }

    #[test]
    fn slot_limits_and_positions_follow_version_and_role() {
        assert!(slots_sql(130_000, false).contains("wal_status, safe_wal_size"));
        assert!(slots_sql(120_000, false).contains("NULL::text AS wal_status"));
        assert!(slots_sql(150_000, false).contains("pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)"));
        // A standby cannot call pg_current_wal_lsn().
        assert!(!slots_sql(150_000, true).contains("pg_current_wal_lsn"));
        assert!(!senders_sql(150_000, true).contains("pg_current_wal_lsn"));
        assert!(senders_sql(110_000, false).contains("NULL::float8 AS reply_age_s"));
        assert!(replay_sql(130_000).contains("NULL::text AS pause_state"));
        assert!(replay_sql(140_000).contains("pg_get_wal_replay_pause_state()"));
    }
}
