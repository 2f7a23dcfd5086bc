//! Member-wide facts: what the server is, whether it refuses writes, and its
//! binlog/GTID settings. System variables need no privilege, so only a
//! broken connection fails here.

use sqlx::mysql::MySqlConnection;

use super::errors;
use super::flavor::{Engine, Flavor};
use super::parse::truthy;
use super::rows;

/// What `SELECT VERSION(), @@…` said.
pub struct ServerInfo {
    /// Engine and version, which decide every later statement's spelling.
    pub flavor: Flavor,
    /// `@@read_only`, or on MySQL `@@read_only OR @@super_read_only`.
    pub read_only: Option<bool>,
    /// For the details pane, in a stable order.
    pub facts: Vec<(String, String)>,
    /// Variables that could not be read.
    pub warnings: Vec<String>,
}

/// Read the server's identity and variables. `Err` only when the connection
/// itself failed or the basic variables could not be read at all.
pub async fn read(conn: &mut MySqlConnection) -> Result<ServerInfo, sqlx::Error> {
    let row = sqlx::query(
        "SELECT VERSION() AS version, @@version_comment AS version_comment, @@server_id AS server_id, \
         @@read_only AS read_only, @@log_bin AS log_bin, @@binlog_format AS binlog_format",
    )
    .fetch_one(&mut *conn)
    .await?;
    let get = |name: &str| rows::text(&row, name).unwrap_or_default();
    let flavor = Flavor::detect(&get("version"), &get("version_comment"));
    let mut read_only = truthy(&get("read_only"));
    let mut facts = vec![
        ("server_id".to_owned(), get("server_id")),
        ("log_bin".to_owned(), on_off(&get("log_bin"))),
        ("binlog_format".to_owned(), get("binlog_format")),
    ];
    let mut warnings = Vec::new();
    // MariaDB has no super_read_only; MySQL has no gtid_*_pos. Read apart
    // from the basics so a version lacking one still gives the rest.
    let (sql, names): (&'static str, &[&str]) = match flavor.engine {
        Engine::MySql => (
            "SELECT @@super_read_only AS super_read_only, @@gtid_mode AS gtid_mode, \
             @@gtid_executed AS gtid_executed",
            &["super_read_only", "gtid_mode", "gtid_executed"],
        ),
        Engine::MariaDb => (
            "SELECT @@gtid_current_pos AS gtid_current_pos, @@gtid_binlog_pos AS gtid_binlog_pos, \
             @@gtid_slave_pos AS gtid_slave_pos",
            &["gtid_current_pos", "gtid_binlog_pos", "gtid_slave_pos"],
        ),
    };
    match sqlx::query(sql).fetch_one(&mut *conn).await {
        Ok(row) => {
            for name in names {
                let value = rows::text(&row, name).unwrap_or_default();
                if *name == "super_read_only" {
                    let super_ro = truthy(&value);
                    read_only = read_only.zip(super_ro).map(|(a, b)| a || b).or(read_only);
                    facts.push((name.to_string(), on_off(&value)));
                } else {
                    facts.push((name.to_string(), value));
                }
            }
        }
        Err(e) if errors::is_statement_error(&e) => {
            warnings.push(format!("GTID variables: {}", errors::describe(&e, "", None)));
        }
        Err(e) => return Err(e),
    }
    facts.retain(|(_, v)| !v.is_empty());
    Ok(ServerInfo { flavor, read_only, facts, warnings })
}

/// `1`/`0` as `ON`/`OFF`, like the server's own `SHOW VARIABLES`.
fn on_off(value: &str) -> String {
    match truthy(value) {
        Some(true) => "ON".into(),
        Some(false) => "OFF".into(),
        None => value.to_owned(),
    }
}
