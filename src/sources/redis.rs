//! Redis replication: one `RedisMember` per configured member, polled with
//! `INFO replication` and `INFO server` (plus `CONFIG GET repl*` on a
//! replica, when the user may run it), and the two guarded actions a Redis
//! failover needs: promote a replica, point a member at a new master.
//!
//! The module shares its name with the `redis` crate: the crate is reached
//! as `::redis`.

mod connect;
mod errors;
mod info;
mod status;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, RedisError, Value};

use crate::config::clusters::{Cluster, MemberAddr};
use crate::config::secret::SecretValue;
use crate::replication::model::{Role, Status};
use errors::Asker;

pub use info::{Info, ReplicaLine, parse_info};
pub use status::{DEFAULT_PING_PERIOD_SECS, ReplicaConfig, build_status, link_lag};

/// One Redis member: its client settings and, between polls, its open
/// connection. A connection found broken is dropped, and the next poll (or
/// the current one, once) opens a new one.
pub struct RedisMember {
    member: String,
    /// A Unix socket member's path: a missing file is named as such.
    socket: Option<PathBuf>,
    client: Client,
    settings: AsyncConnectionConfig,
    asker: Asker,
    conn: Mutex<Option<MultiplexedConnection>>,
}

impl fmt::Debug for RedisMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The client is left out on purpose: its settings hold the password.
        f.debug_struct("RedisMember")
            .field("member", &self.member)
            .field("user", &self.asker.user)
            .field("timeout", &self.asker.timeout)
            .finish_non_exhaustive()
    }
}

/// A failed command: its one-line message, and whether the connection is
/// gone (then it is worth one retry on a new one).
struct Failure {
    message: String,
    dropped: bool,
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { message, dropped: false }
    }
}

impl RedisMember {
    /// Connect to `member` of `cluster` and authenticate, within the cluster's
    /// timeout. `password` is the resolved `cluster.password`.
    pub async fn connect(
        cluster: &Cluster,
        member: &MemberAddr,
        password: Option<&SecretValue>,
    ) -> Result<RedisMember, String> {
        let client = connect::client(cluster, member, password).await?;
        let settings = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(cluster.timeout))
            .set_response_timeout(Some(cluster.timeout));
        let redis_member = RedisMember {
            member: member.to_string(),
            socket: match member {
                MemberAddr::Socket(path) => Some(path.clone()),
                MemberAddr::Tcp { .. } => None,
            },
            client,
            settings,
            asker: Asker { user: cluster.user.clone(), timeout: cluster.timeout },
            conn: Mutex::new(None),
        };
        redis_member.bounded(async { redis_member.connection().await.map(|_| ()) }).await?;
        Ok(redis_member)
    }

    /// The member as configured (`host:port` or a socket path).
    pub fn member(&self) -> &str {
        &self.member
    }

    /// What the member says about replication now.
    pub async fn poll(&self) -> Result<Status, String> {
        self.bounded(async {
            let (mut conn, fresh) = self.connection_and_age().await?;
            match self.poll_on(&mut conn).await {
                // The server restarted or closed an idle connection since the
                // last poll: that is not news, a new connection is.
                Err(Failure { dropped: true, .. }) if !fresh => {
                    let mut conn = self.connection().await?;
                    self.poll_on(&mut conn).await.map_err(|f| f.message)
                }
                other => other.map_err(|f| f.message),
            }
        })
        .await
    }

    /// Promote a replica: `REPLICAOF NO ONE`, then check that it says
    /// `role:master`. A member that is already a primary is left alone.
    pub async fn promote(&self) -> Result<String, String> {
        self.bounded(async {
            let mut conn = self.connection().await?;
            let before = self.replication(&mut conn).await?;
            if status::role(&before)? == Role::Primary {
                return Ok(format!("{} is already a primary: nothing done", self.member));
            }
            let was = upstream(&before);
            self.run(&mut conn, ::redis::cmd("REPLICAOF").arg("NO").arg("ONE"), "REPLICAOF", "replicaof")
                .await?;
            let after = self.replication(&mut conn).await?;
            match status::role(&after)? {
                Role::Primary => Ok(format!(
                    "{} promoted: primary now (was replicating from {was}, offset {})",
                    self.member,
                    after.get("master_repl_offset").unwrap_or("unknown")
                )),
                Role::Replica => {
                    Err(format!("REPLICAOF NO ONE answered OK but {} still reports role:slave", self.member))
                }
            }
        })
        .await
    }

    /// Make this member replicate from `host:port` (`REPLICAOF host port`),
    /// then check that it says so. It drops its own data for the master's.
    pub async fn replicate_from(&self, host: &str, port: u16) -> Result<String, String> {
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) || port == 0 {
            return Err(format!("not a master address: {host:?} port {port}"));
        }
        self.bounded(async {
            let mut conn = self.connection().await?;
            let command = ::redis::cmd("REPLICAOF").arg(host).arg(port).clone();
            self.run(&mut conn, &command, "REPLICAOF", "replicaof").await?;
            let after = self.replication(&mut conn).await?;
            let now_from = (after.get("master_host"), after.number::<u16>("master_port"));
            if status::role(&after)? == Role::Replica && now_from == (Some(host), Some(port)) {
                let link = after.get("master_link_status").unwrap_or("unknown");
                Ok(format!("{} now replicates from {host}:{port} (link {link})", self.member))
            } else {
                Err(format!(
                    "REPLICAOF answered OK but {} does not report {host}:{port} as its master",
                    self.member
                ))
            }
        })
        .await
    }

    async fn poll_on(&self, conn: &mut MultiplexedConnection) -> Result<Status, Failure> {
        let (replication, server): (String, String) = ::redis::pipe()
            .cmd("INFO")
            .arg("replication")
            .cmd("INFO")
            .arg("server")
            .query_async(conn)
            .await
            .map_err(|e| self.failure(&e, "INFO", "info"))?;
        let replication = parse_info(&replication);
        let server = parse_info(&server);
        let mut warnings = Vec::new();
        let config = match status::role(&replication)? {
            Role::Replica => self.replica_config(conn, &mut warnings).await?,
            Role::Primary => ReplicaConfig::default(),
        };
        let mut status = build_status(&replication, &server, &config)?;
        status.warnings = warnings;
        Ok(status)
    }

    /// `CONFIG GET repl*` (one command, any Redis ≥ 5): `replica-read-only`,
    /// `repl-ping-replica-period`, `repl-timeout`. Monitoring users are often
    /// denied CONFIG: that is a warning, the rest of the poll stands.
    async fn replica_config(
        &self,
        conn: &mut MultiplexedConnection,
        warnings: &mut Vec<String>,
    ) -> Result<ReplicaConfig, Failure> {
        let answer: Result<HashMap<String, String>, RedisError> =
            ::redis::cmd("CONFIG").arg("GET").arg("repl*").query_async(conn).await;
        match answer {
            Ok(params) => Ok(ReplicaConfig::from_config(&params)),
            Err(e) if is_connection_level(&e) => Err(self.failure(&e, "CONFIG GET", "config|get")),
            Err(e) => {
                let why = self.failure(&e, "CONFIG GET", "config|get").message;
                warnings.push(format!(
                    "CONFIG GET repl*: {why} (read-only state taken from INFO, ping period assumed \
                     {DEFAULT_PING_PERIOD_SECS}s)"
                ));
                Ok(ReplicaConfig::default())
            }
        }
    }

    async fn replication(&self, conn: &mut MultiplexedConnection) -> Result<Info, String> {
        let text: String = ::redis::cmd("INFO")
            .arg("replication")
            .query_async(conn)
            .await
            .map_err(|e| self.failure(&e, "INFO", "info").message)?;
        Ok(parse_info(&text))
    }

    async fn run(
        &self,
        conn: &mut MultiplexedConnection,
        command: &::redis::Cmd,
        name: &str,
        acl: &str,
    ) -> Result<(), String> {
        let _: Value = command.query_async(conn).await.map_err(|e| self.failure(&e, name, acl).message)?;
        Ok(())
    }

    /// `work` within the cluster timeout. A member that does not answer in
    /// time (hung, stopped, partitioned) loses its connection: the next
    /// attempt starts clean instead of queueing behind the stuck one.
    async fn bounded<T>(&self, work: impl Future<Output = Result<T, String>>) -> Result<T, String> {
        match tokio::time::timeout(self.asker.timeout, work).await {
            Ok(result) => result,
            Err(_) => {
                self.forget();
                Err(self.asker.no_answer())
            }
        }
    }

    async fn connection(&self) -> Result<MultiplexedConnection, String> {
        self.connection_and_age().await.map(|(conn, _)| conn)
    }

    /// The open connection, or a new one; `true` when new.
    async fn connection_and_age(&self) -> Result<(MultiplexedConnection, bool), String> {
        if let Some(conn) = self.slot().as_ref() {
            return Ok((conn.clone(), false));
        }
        let conn =
            self.client.get_multiplexed_async_connection_with_config(&self.settings).await.map_err(|e| {
                match &self.socket {
                    Some(path) if !path.exists() => format!("no socket at {}", path.display()),
                    _ => self.failure(&e, "AUTH", "auth").message,
                }
            })?;
        *self.slot() = Some(conn.clone());
        Ok((conn, true))
    }

    fn slot(&self) -> MutexGuard<'_, Option<MultiplexedConnection>> {
        // Poisoning needs a panic while holding it, and nothing in between can.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn forget(&self) {
        *self.slot() = None;
    }

    /// `err` as a one-line `Failure`; a broken connection is forgotten.
    fn failure(&self, err: &RedisError, command: &str, acl: &str) -> Failure {
        let dropped = is_connection_level(err);
        if dropped {
            self.forget();
        }
        let password = self.client.get_connection_info().redis_settings().password();
        let message = errors::scrub(errors::describe(err, command, acl, &self.asker), password);
        Failure { message, dropped: dropped && !err.is_timeout() }
    }
}

/// The connection is unusable after this (as opposed to a refusal by the
/// server, which leaves it fine).
fn is_connection_level(err: &RedisError) -> bool {
    err.is_io_error() || err.is_timeout() || err.is_connection_dropped() || err.is_unrecoverable_error()
}

/// `host:port` of a replica's master, for messages.
fn upstream(replication: &Info) -> String {
    match (replication.get("master_host"), replication.get("master_port")) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        _ => "an unknown master".into(),
    }
}
