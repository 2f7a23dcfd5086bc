//! Pure translation of `SHOW REPLICA STATUS` / `SHOW ALL SLAVES STATUS` and
//! `SHOW REPLICAS` / `SHOW SLAVE HOSTS` rows into the replication model.
//!
//! Rows arrive as ordered `(column, value)` lists, never by position: the
//! column order changes between versions, and MySQL 8.0.22 renamed
//! `Slave_`/`Master_` to `Replica_`/`Source_` while MariaDB kept the old
//! names. Every lookup therefore tries both spellings.

use std::time::Duration;

use super::flavor::Engine;
use crate::replication::model::{Channel, Downstream, Lag, LinkState};

/// One result row: column names in server order with their text values.
pub type Columns = [(String, Option<String>)];

/// The value of the first of `names` present, case-insensitively. An empty
/// string is kept (it means "not set"); only SQL NULL is `None`.
pub fn column<'a>(cols: &'a Columns, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|want| {
        cols.iter().find(|(name, _)| name.eq_ignore_ascii_case(want)).and_then(|(_, v)| v.as_deref())
    })
}

fn has_column(cols: &Columns, name: &str) -> bool {
    cols.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// Like `column`, but an empty value is `None` too.
fn non_empty<'a>(cols: &'a Columns, names: &[&str]) -> Option<&'a str> {
    column(cols, names).map(str::trim).filter(|v| !v.is_empty())
}

fn number(cols: &Columns, names: &[&str]) -> Option<u64> {
    non_empty(cols, names).and_then(|v| v.parse().ok())
}

const NAME: &[&str] = &["Channel_Name", "Connection_name"];
const HOST: &[&str] = &["Source_Host", "Master_Host"];
const PORT: &[&str] = &["Source_Port", "Master_Port"];
const IO_RUNNING: &[&str] = &["Replica_IO_Running", "Slave_IO_Running"];
const SQL_RUNNING: &[&str] = &["Replica_SQL_Running", "Slave_SQL_Running"];
const SECONDS_BEHIND: &[&str] = &["Seconds_Behind_Source", "Seconds_Behind_Master"];
const IO_ERRNO: &[&str] = &["Last_IO_Errno"];
const IO_ERROR: &[&str] = &["Last_IO_Error"];
const SQL_ERRNO: &[&str] = &["Last_SQL_Errno"];
const SQL_ERROR: &[&str] = &["Last_SQL_Error"];
/// Same as `Last_SQL_Errno`/`Last_SQL_Error` (kept for compatibility by both engines).
const LEGACY_ERROR: &[&str] = &["Last_Errno", "Last_Error"];
const SOURCE_LOG_FILE: &[&str] = &["Source_Log_File", "Master_Log_File"];
const RELAY_SOURCE_LOG_FILE: &[&str] = &["Relay_Source_Log_File", "Relay_Master_Log_File"];
const READ_POS: &[&str] = &["Read_Source_Log_Pos", "Read_Master_Log_Pos"];
const EXEC_POS: &[&str] = &["Exec_Source_Log_Pos", "Exec_Master_Log_Pos"];
const SOURCE_SERVER_ID: &[&str] = &["Source_Server_Id", "Master_Server_Id"];

/// Columns `parse_channel` turns into fields; the rest become facts.
const CONSUMED: &[&[&str]] = &[
    NAME,
    HOST,
    PORT,
    IO_RUNNING,
    SQL_RUNNING,
    SECONDS_BEHIND,
    IO_ERRNO,
    IO_ERROR,
    SQL_ERRNO,
    SQL_ERROR,
    LEGACY_ERROR,
];

/// One channel (MySQL) or connection (MariaDB) from one status row.
pub fn parse_channel(engine: Engine, cols: &Columns) -> Channel {
    // MySQL names channels, MariaDB names connections; the default one is "".
    let name_column: &[&str] = match engine {
        Engine::MySql => &["Channel_Name"],
        Engine::MariaDb => &["Connection_name"],
    };
    let name = column(cols, name_column).unwrap_or("").to_owned();
    let upstream = non_empty(cols, HOST).map(|host| match non_empty(cols, PORT) {
        Some(port) if host.contains(':') => format!("[{host}]:{port}"),
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    });
    let io = column(cols, IO_RUNNING).unwrap_or("No");
    let sql_running = column(cols, SQL_RUNNING).is_some_and(|v| v.eq_ignore_ascii_case("Yes"));
    let io_running = io.eq_ignore_ascii_case("Yes");
    // MariaDB shows "Preparing" between "Connecting" and "Yes".
    let io_connecting = io.eq_ignore_ascii_case("Connecting") || io.eq_ignore_ascii_case("Preparing");
    let state = link_state(io_running, io_connecting, sql_running);
    let lag = match number(cols, SECONDS_BEHIND) {
        Some(secs) => Lag::Behind(Duration::from_secs(secs)),
        // NULL is never 0: it means the server cannot compute it now.
        None if !sql_running => Lag::Unknown("SQL thread stopped".into()),
        None if !io_running => Lag::Unknown("IO thread not connected".into()),
        None => Lag::Unknown("not reported".into()),
    };
    Channel {
        name,
        upstream,
        state,
        lag,
        peer_name: None,
        lag_source: if has_column(cols, "Seconds_Behind_Source") {
            "Seconds_Behind_Source"
        } else {
            "Seconds_Behind_Master"
        },
        apply_backlog_bytes: apply_backlog(cols),
        applied_position: None,
        last_error: last_error(cols),
        facts: facts(cols),
    }
}

fn link_state(io_running: bool, io_connecting: bool, sql_running: bool) -> LinkState {
    let what = match (io_running || io_connecting, sql_running) {
        (true, true) if io_running => return LinkState::Streaming,
        (true, true) => return LinkState::Connecting,
        (true, false) => "SQL thread",
        (false, true) => "IO thread",
        (false, false) => "IO and SQL threads",
    };
    LinkState::Stopped { what: what.into() }
}

/// Bytes received but not applied, only while both threads are in the same
/// upstream binlog file: across files the positions do not subtract.
fn apply_backlog(cols: &Columns) -> Option<u64> {
    let read_file = non_empty(cols, SOURCE_LOG_FILE)?;
    let exec_file = non_empty(cols, RELAY_SOURCE_LOG_FILE)?;
    if read_file != exec_file {
        return None;
    }
    Some(number(cols, READ_POS)?.saturating_sub(number(cols, EXEC_POS)?))
}

/// The IO and SQL errors with their numbers; an errno of 0 or an empty
/// message means none.
fn last_error(cols: &Columns) -> Option<String> {
    let one = |thread: &str, errno: &[&str], error: &[&str]| {
        let message = non_empty(cols, error)?;
        let errno = number(cols, errno).filter(|n| *n != 0);
        Some(match errno {
            Some(n) => format!("{thread} error {n}: {message}"),
            None => format!("{thread} error: {message}"),
        })
    };
    let errors: Vec<String> =
        [one("IO", IO_ERRNO, IO_ERROR), one("SQL", SQL_ERRNO, SQL_ERROR)].into_iter().flatten().collect();
    (!errors.is_empty()).then(|| errors.join("; "))
}

fn facts(cols: &Columns) -> Vec<(String, String)> {
    cols.iter()
        .filter(|(name, _)| !CONSUMED.iter().any(|set| set.iter().any(|c| c.eq_ignore_ascii_case(name))))
        .filter_map(|(name, value)| {
            let value = value.as_deref()?.trim();
            (!value.is_empty()).then(|| (name.clone(), value.to_owned()))
        })
        .collect()
}

/// The upstream's `server_id` as the replica last saw it (0 before the IO
/// thread ever connected: then `None`).
pub fn upstream_server_id(cols: &Columns) -> Option<u64> {
    number(cols, SOURCE_SERVER_ID).filter(|id| *id != 0)
}

/// One replica from a `SHOW REPLICAS` / `SHOW SLAVE HOSTS` row. The host is
/// the replica's `report_host`, empty unless it set one: then no address.
pub fn parse_downstream(cols: &Columns) -> Downstream {
    const ID: &[&str] = &["Server_Id"];
    const DS_HOST: &[&str] = &["Host"];
    const DS_PORT: &[&str] = &["Port"];
    let name = column(cols, ID).unwrap_or("").to_owned();
    let addr = non_empty(cols, DS_HOST).map(|host| match non_empty(cols, DS_PORT) {
        Some(port) if host.contains(':') => format!("[{host}]:{port}"),
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    });
    let facts = cols
        .iter()
        .filter(|(n, _)| ![ID, DS_HOST, DS_PORT].iter().any(|set| set[0].eq_ignore_ascii_case(n)))
        .filter_map(|(n, v)| {
            let v = v.as_deref()?.trim();
            (!v.is_empty()).then(|| (n.clone(), v.to_owned()))
        })
        .collect();
    Downstream {
        name,
        addr,
        state: String::new(),
        sync: None,
        lag: Lag::Unknown("see the replica".into()),
        lag_bytes: None,
        facts,
    }
}

/// `@@read_only` and friends come back as `1`/`0` or `ON`/`OFF`.
pub fn truthy(value: &str) -> Option<bool> {
    match value.trim().to_ascii_uppercase().as_str() {
        "1" | "ON" | "YES" | "TRUE" => Some(true),
        "0" | "OFF" | "NO" | "FALSE" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
