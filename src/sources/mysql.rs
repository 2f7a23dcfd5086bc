//! One MySQL or MariaDB member of a `[[clusters]]` entry: its replication
//! status as the shared model (`replication::model::Status`), and the guarded
//! replication actions (read_only, stop/start, promote).
//!
//! A poll reads what the member says about itself only: its channels (what
//! it receives) and its replicas (what it sends). The tab joins members; this
//! module never talks to two servers at once.
//!
//! A missing privilege on one statement is a warning in the status, never a
//! failed poll: an operator with a least-privilege monitoring user still sees
//! everything else. Only an unreachable member is an `Err`.

mod actions;
mod errors;
mod flavor;
mod heartbeat;
mod parse;
mod rows;
mod server;

use std::fmt;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPool, MySqlPoolOptions, MySqlSslMode};
use sqlx::pool::PoolConnection;
use sqlx::{ConnectOptions, Connection, MySql};

use crate::config::clusters::{Cluster, MemberAddr, TlsMode};
use crate::config::secret::SecretValue;
use crate::replication::model::{Channel, Downstream, Lag, LinkState, Role, Status};
use flavor::Flavor;
use heartbeat::Measured;

/// A connection pool to one member. Holds the password (inside sqlx's
/// options), so its `Debug` shows only where it connects and as whom.
pub struct MyMember {
    pool: MySqlPool,
    options: MySqlConnectOptions,
    member: String,
    user: String,
    password: Option<SecretValue>,
    timeout: Duration,
    heartbeat_table: Option<String>,
}

impl fmt::Debug for MyMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MyMember")
            .field("member", &self.member)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "••••"))
            .field("timeout", &self.timeout)
            .field("heartbeat_table", &self.heartbeat_table)
            .finish()
    }
}

impl MyMember {
    /// Prepare a pool for `member` of `cluster`. Connects lazily: the first
    /// poll says whether the member is reachable.
    pub async fn connect(
        cluster: &Cluster,
        member: &MemberAddr,
        password: Option<&SecretValue>,
    ) -> Result<MyMember, String> {
        let user = cluster.user_or_default().unwrap_or("root").to_owned();
        let mut options = match member {
            MemberAddr::Tcp { host, port } => MySqlConnectOptions::new().host(host).port(*port),
            MemberAddr::Socket(path) => MySqlConnectOptions::new().socket(path),
        }
        .username(&user)
        .ssl_mode(ssl_mode(cluster.tls.effective(cluster.kind, member)))
        // Statements are logged by sqlx at debug level with their text; ours
        // carry no secrets, but the log is the operator's, not ours to fill.
        .disable_statement_logging();
        if let Some(pw) = password {
            options = options.password(pw.expose());
        }
        if let Some(ca) = &cluster.ca_file {
            options = options.ssl_ca(ca);
        }
        let pool = MySqlPoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            // Leave a quarter of the poll's time to learn why the pool failed (see `acquire`).
            .acquire_timeout(cluster.timeout.mul_f64(0.75))
            .idle_timeout(Some(Duration::from_secs(300)))
            .connect_lazy_with(options.clone());
        Ok(MyMember {
            pool,
            options,
            member: member.to_string(),
            user,
            password: password.cloned(),
            timeout: cluster.timeout,
            heartbeat_table: cluster.heartbeat_table.clone(),
        })
    }

    /// Read this member's replication status, within the cluster's timeout.
    pub async fn poll(&self) -> Result<Status, String> {
        match tokio::time::timeout(self.timeout, self.poll_now()).await {
            Ok(status) => status,
            Err(_) => Err(self.no_answer()),
        }
    }

    async fn poll_now(&self) -> Result<Status, String> {
        let mut conn = self.acquire().await?;
        let conn: &mut MySqlConnection = &mut conn;
        let info = server::read(conn).await.map_err(|e| self.describe(&e))?;
        let mut warnings = info.warnings;
        let flavor = info.flavor;
        let mut channels = self.channels_with_upstreams(conn, flavor, info.read_only, &mut warnings).await?;
        if let Some(table) = &self.heartbeat_table {
            for (channel, upstream_id) in &mut channels {
                match heartbeat::measure(conn, table, *upstream_id).await.map_err(|e| self.describe(&e))? {
                    Measured::Lag(lag) => use_heartbeat(channel, lag),
                    Measured::Warning(w) if !warnings.contains(&w) => warnings.push(w),
                    Measured::Warning(_) => {}
                }
            }
        }
        let (downstreams, downstreams_unknown) = self.downstreams(conn, flavor, &mut warnings).await?;
        let channels: Vec<Channel> = channels.into_iter().map(|(c, _)| c).collect();
        Ok(Status {
            role: if channels.is_empty() { Role::Primary } else { Role::Replica },
            version: flavor.label(),
            read_only: info.read_only,
            position: None,
            channels,
            downstreams,
            downstreams_unknown,
            slots: Vec::new(),
            facts: info.facts,
            warnings: warnings.iter().map(|w| errors::scrub(w, self.password.as_ref())).collect(),
        })
    }

    /// Every channel with its upstream's `server_id` (for the heartbeat).
    /// A statement the server refuses is a warning, not a failed poll.
    async fn channels_with_upstreams(
        &self,
        conn: &mut MySqlConnection,
        flavor: Flavor,
        read_only: Option<bool>,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<(Channel, Option<u64>)>, String> {
        let sql = flavor.replica_status_sql();
        match rows::show(conn, sql).await {
            Ok(rows) => Ok(rows
                .iter()
                .map(|r| (parse::parse_channel(flavor.engine, r), parse::upstream_server_id(r)))
                .collect()),
            Err(e) if errors::is_statement_error(&e) => {
                let (lag, why) = if errors::is_permission(&e) {
                    (Lag::NoPermission, format!("no permission ({})", flavor.status_privilege_hint()))
                } else {
                    let why = self.describe(&e);
                    (Lag::Unknown(why.clone()), why)
                };
                warnings.push(format!("{sql}: {why}"));
                Ok(unreadable_channel(read_only, sql, lag).into_iter().map(|c| (c, None)).collect())
            }
            Err(e) => Err(self.describe(&e)),
        }
    }

    /// The replicas registered with this member (empty on most replicas),
    /// or why they could not be listed: then an empty list is "unknown".
    async fn downstreams(
        &self,
        conn: &mut MySqlConnection,
        flavor: Flavor,
        warnings: &mut Vec<String>,
    ) -> Result<(Vec<Downstream>, Option<String>), String> {
        let sql = flavor.replicas_sql();
        let why = match rows::show(conn, sql).await {
            Ok(rows) => return Ok((rows.iter().map(|r| parse::parse_downstream(r)).collect(), None)),
            Err(e) if errors::is_permission(&e) => {
                format!("{sql}: no permission ({})", flavor.replicas_privilege_hint())
            }
            Err(e) if errors::is_statement_error(&e) => format!("{sql}: {}", self.describe(&e)),
            Err(e) => return Err(self.describe(&e)),
        };
        let why = errors::scrub(&why, self.password.as_ref());
        warnings.push(why.clone());
        Ok((Vec::new(), Some(why)))
    }

    /// A pooled connection, or why there is none. The pool retries a refused
    /// connection quietly until its deadline and then says only that it timed
    /// out; one direct attempt then names the cause ("connection refused").
    async fn acquire(&self) -> Result<PoolConnection<MySql>, String> {
        match self.pool.acquire().await {
            Ok(conn) => Ok(conn),
            Err(sqlx::Error::PoolTimedOut) => {
                let probe_time = self.timeout.mul_f64(0.25);
                match tokio::time::timeout(probe_time, self.options.connect()).await {
                    Ok(Err(e)) => Err(self.describe(&e)),
                    Ok(Ok(conn)) => {
                        let _ = conn.close().await;
                        Err("the server accepted a connection only after the timeout (overloaded?)".into())
                    }
                    Err(_) => Err(self.no_answer()),
                }
            }
            Err(e) => Err(self.describe(&e)),
        }
    }

    fn no_answer(&self) -> String {
        format!("no answer within {}", humantime::format_duration(self.timeout))
    }

    fn describe(&self, e: &sqlx::Error) -> String {
        errors::describe(e, &self.user, self.password.as_ref())
    }
}

/// `prefer` and `require` encrypt without checking the certificate (as
/// `TlsMode` documents); `verify` checks the chain and the host name.
fn ssl_mode(tls: TlsMode) -> MySqlSslMode {
    match tls {
        TlsMode::Off => MySqlSslMode::Disabled,
        // `effective()` never returns Auto; treat it like its local meaning.
        TlsMode::Prefer | TlsMode::Auto => MySqlSslMode::Preferred,
        TlsMode::Require => MySqlSslMode::Required,
        TlsMode::Verify => MySqlSslMode::VerifyIdentity,
    }
}

/// Stands in for the channels when they cannot be read: on a member that
/// refuses writes (most likely a replica) it keeps the lag visible as
/// `NoPermission` instead of silently showing a second primary. A writable
/// member gets none and reads as a primary, with the warning beside it.
fn unreadable_channel(read_only: Option<bool>, sql: &str, lag: Lag) -> Option<Channel> {
    (read_only == Some(true)).then(|| Channel {
        name: String::new(),
        upstream: None,
        state: LinkState::Stopped { what: "state not readable".into() },
        lag,
        lag_source: "Seconds_Behind_Master",
        peer_name: None,
        apply_backlog_bytes: None,
        applied_position: None,
        last_error: None,
        facts: vec![("note".into(), format!("replica guessed from read_only = ON: {sql} failed"))],
    })
}

/// Replace the server's lag estimate by the heartbeat's, keeping the
/// estimate as a fact so the two can be compared in the details pane.
fn use_heartbeat(channel: &mut Channel, lag: Duration) {
    let previous = match &channel.lag {
        Lag::Behind(d) => d.as_secs().to_string(),
        Lag::Idle => "0".into(),
        Lag::Unknown(why) => format!("NULL ({why})"),
        Lag::NoPermission => "no permission".into(),
    };
    if channel.lag != Lag::NoPermission {
        channel.facts.push((channel.lag_source.to_owned(), previous));
    }
    channel.lag = Lag::Behind(lag);
    channel.lag_source = "heartbeat table";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::clusters::ClusterKind;

    fn cluster() -> Cluster {
        Cluster { user: Some("monitor".into()), ..Cluster::new("t", ClusterKind::Mysql, Vec::new()) }
    }

    #[test]
    fn tls_modes_map_to_sqlx() {
        assert!(matches!(ssl_mode(TlsMode::Off), MySqlSslMode::Disabled));
        assert!(matches!(ssl_mode(TlsMode::Prefer), MySqlSslMode::Preferred));
        assert!(matches!(ssl_mode(TlsMode::Require), MySqlSslMode::Required));
        assert!(matches!(ssl_mode(TlsMode::Verify), MySqlSslMode::VerifyIdentity));
        let remote = MemberAddr::Tcp { host: "10.0.0.9".into(), port: 3306 };
        assert!(matches!(
            ssl_mode(TlsMode::Auto.effective(ClusterKind::Mysql, &remote)),
            MySqlSslMode::VerifyIdentity
        ));
    }

    #[tokio::test]
    async fn debug_hides_the_password() {
        let pw = SecretValue::new("hunter2-secret".into());
        let member = MemberAddr::Tcp { host: "127.0.0.1".into(), port: 3306 };
        let m = MyMember::connect(&cluster(), &member, Some(&pw)).await.expect("lazy");
        let debug = format!("{m:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(
            debug.contains("127.0.0.1:3306") && debug.contains("monitor") && debug.contains("••••"),
            "{debug}"
        );
    }

    /// The poller and the action pipeline spawn these on tokio.
    #[allow(dead_code)]
    fn futures_are_send(m: &MyMember) {
        fn send<T: Send>(_: T) {}
        send(m.poll());
        send(m.set_read_only(true));
        send(m.stop_replica());
        send(m.start_replica());
        send(m.promote());
    }
}
