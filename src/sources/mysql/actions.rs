//! Guarded actions on one member. Each runs its statements on one
//! connection, then reads the result back and reports what the server says
//! now, not what was asked: a `SET GLOBAL` that a trigger-happy proxy
//! swallowed must not read as done.
//!
//! Refusals come from the server (missing privilege, not a replica) and are
//! passed on as one line; the guarded pipeline records them.

use std::time::{Duration, Instant};

use sqlx::mysql::MySqlConnection;

use super::flavor::{Engine, Flavor};
use super::{MyMember, errors, parse, rows, server};
use crate::replication::model::{Channel, LinkState};

/// `STOP REPLICA` waits for the applier to finish its current transaction
/// and `SET GLOBAL read_only` for running commits: the poll timeout (2 s by
/// default) would abandon them half-way, so actions get at least this long.
const ACTION_TIMEOUT_FLOOR: Duration = Duration::from_secs(30);

/// How long `start_replica` waits for every thread to leave "No".
const START_SETTLE: Duration = Duration::from_secs(3);

impl MyMember {
    /// `SET GLOBAL read_only = ON|OFF`, then read it back. On MySQL turning
    /// it off also turns `super_read_only` off (the server does that).
    pub async fn set_read_only(&self, on: bool) -> Result<String, String> {
        self.act(async |me, conn| {
            let word = if on { "ON" } else { "OFF" };
            let sql = format!("SET GLOBAL read_only = {word}");
            rows::execute(conn, &sql).await.map_err(|e| me.failed(&sql, &e))?;
            let now = server::read(conn).await.map_err(|e| me.describe(&e))?.read_only;
            match now {
                Some(actual) if actual == on => Ok(format!("read_only is {word}")),
                Some(_) => Err(format!("{sql} ran but the server still reports the opposite")),
                None => Err(format!("{sql} ran but read_only could not be read back")),
            }
        })
        .await
    }

    /// Stop every replication channel (IO and SQL threads).
    pub async fn stop_replica(&self) -> Result<String, String> {
        self.act(async |me, conn| {
            let flavor = server::read(conn).await.map_err(|e| me.describe(&e))?.flavor;
            me.channels_or_refuse(conn, flavor).await?;
            let sql = flavor.stop_sql();
            rows::execute(conn, sql).await.map_err(|e| me.failed(sql, &e))?;
            let after = me.channels(conn, flavor).await?;
            let running: Vec<String> = after
                .iter()
                .filter(|c| c.state != LinkState::Stopped { what: "IO and SQL threads".into() })
                .map(|c| format!("{}: {}", display_name(c), c.state.label()))
                .collect();
            if running.is_empty() {
                Ok(format!("{sql}: {} stopped", count(after.len())))
            } else {
                Err(format!("{sql} ran but {}", running.join(", ")))
            }
        })
        .await
    }

    /// Start every replication channel and report each one's state once it
    /// settles (connecting is normal; stopped with an error is a failure).
    pub async fn start_replica(&self) -> Result<String, String> {
        self.act(async |me, conn| {
            let flavor = server::read(conn).await.map_err(|e| me.describe(&e))?.flavor;
            me.channels_or_refuse(conn, flavor).await?;
            let sql = flavor.start_sql();
            rows::execute(conn, sql).await.map_err(|e| me.failed(sql, &e))?;
            // The threads report "No" for a moment after START returns.
            let until = Instant::now() + START_SETTLE;
            loop {
                let after = me.channels(conn, flavor).await?;
                let stopped = after.iter().find(|c| matches!(c.state, LinkState::Stopped { .. }));
                match stopped {
                    None => return Ok(format!("{sql}: {}", describe_states(&after))),
                    Some(c) if c.last_error.is_some() || Instant::now() >= until => {
                        return Err(format!(
                            "{sql} ran but {}: {}{}",
                            display_name(c),
                            c.state.label(),
                            c.last_error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
                        ));
                    }
                    Some(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        })
        .await
    }

    /// Make this replica a primary: stop and forget every channel, then
    /// accept writes. Verified by reading back: no channel left, read_only off.
    pub async fn promote(&self) -> Result<String, String> {
        self.act(async |me, conn| {
            let flavor = server::read(conn).await.map_err(|e| me.describe(&e))?.flavor;
            let before = me.channels_or_refuse(conn, flavor).await?;
            let mut statements = vec![flavor.stop_sql().to_owned()];
            match flavor.engine {
                Engine::MySql => statements.push(flavor.reset_all_sql("")),
                // MariaDB forgets one named connection at a time.
                Engine::MariaDb => statements.extend(before.iter().map(|c| flavor.reset_all_sql(&c.name))),
            }
            statements.push("SET GLOBAL read_only = OFF".to_owned());
            for sql in &statements {
                rows::execute(conn, sql).await.map_err(|e| me.failed(sql, &e))?;
            }
            let left = me.channels(conn, flavor).await?;
            if !left.is_empty() {
                let names: Vec<&str> = left.iter().map(display_name).collect();
                return Err(format!("promote incomplete: still replicating on {}", names.join(", ")));
            }
            match server::read(conn).await.map_err(|e| me.describe(&e))?.read_only {
                Some(false) => Ok(format!(
                    "promoted: {} removed ({}), read_only OFF",
                    count(before.len()),
                    before.iter().map(display_name).collect::<Vec<_>>().join(", ")
                )),
                _ => Err("promote incomplete: channels removed but read_only is still ON".into()),
            }
        })
        .await
    }

    /// Run `body` on one pooled connection within the action timeout.
    async fn act<F>(&self, body: F) -> Result<String, String>
    where
        F: AsyncFnOnce(&MyMember, &mut MySqlConnection) -> Result<String, String>,
    {
        let limit = self.timeout.max(ACTION_TIMEOUT_FLOOR);
        let run = async {
            let mut conn = self.acquire().await?;
            body(self, &mut conn).await
        };
        match tokio::time::timeout(limit, run).await {
            Ok(outcome) => outcome.map_err(|e| errors::scrub(&e, self.password.as_ref())),
            Err(_) => Err(format!(
                "no answer within {}; the statement may still complete on the server",
                humantime::format_duration(limit)
            )),
        }
    }

    /// Every channel, or why they cannot be read (for actions a missing
    /// privilege is a refusal, not a warning).
    async fn channels(&self, conn: &mut MySqlConnection, flavor: Flavor) -> Result<Vec<Channel>, String> {
        let sql = flavor.replica_status_sql();
        let rows = rows::show(conn, sql).await.map_err(|e| self.failed(sql, &e))?;
        Ok(rows.iter().map(|r| parse::parse_channel(flavor.engine, r)).collect())
    }

    /// The channels, refusing when there are none: stopping, starting or
    /// promoting a primary is a mistake worth saying so.
    async fn channels_or_refuse(
        &self,
        conn: &mut MySqlConnection,
        flavor: Flavor,
    ) -> Result<Vec<Channel>, String> {
        let channels = self.channels(conn, flavor).await?;
        if channels.is_empty() {
            return Err("not a replica: no replication channel is configured".into());
        }
        Ok(channels)
    }

    fn failed(&self, sql: &str, e: &sqlx::Error) -> String {
        format!("{sql}: {}", self.describe(e))
    }
}

fn display_name(c: &Channel) -> &str {
    if c.name.is_empty() { "default channel" } else { &c.name }
}

fn count(n: usize) -> String {
    if n == 1 { "1 channel".into() } else { format!("{n} channels") }
}

fn describe_states(channels: &[Channel]) -> String {
    channels.iter().map(|c| format!("{} {}", display_name(c), c.state.label())).collect::<Vec<_>>().join(", ")
}
