//! PostgreSQL streaming replication, read from one member at a time: its role,
//! its WAL receiver (on a standby), the standbys it feeds, its slots; plus the
//! guarded actions a standby takes (promote, pause and resume replay).
//!
//! Each member gets a small lazy pool, so a poll reuses its connection and an
//! action can run beside a poll. What each query means per server version is
//! in `queries`; how rows become the shared replication model is in `assemble`.

mod actions;
mod assemble;
mod errors;
mod parse;
mod poll;
mod queries;

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection, Postgres};

use crate::config::clusters::{Cluster, ClusterKind, MemberAddr, TlsMode};
use crate::config::secret::SecretValue;
use crate::replication::model::Status;

/// One member of a PostgreSQL cluster, ready to poll. Holds the password
/// inside its connection options, so `Debug` shows only where it connects.
pub struct PgMember {
    member: MemberAddr,
    user: String,
    /// For the direct attempt that explains why the pool cannot connect.
    options: PgConnectOptions,
    pool: PgPool,
    timeout: Duration,
    /// Kept only to scrub it from any error text a server or driver might echo.
    password: Option<SecretValue>,
    /// When a poll last saw this standby replayed up to what it received:
    /// the bound on its own lag estimate when its upstream cannot be asked.
    caught_up_at: Mutex<Option<Instant>>,
}

impl fmt::Debug for PgMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgMember")
            .field("member", &self.member.to_string())
            .field("user", &self.user)
            .field("database", &self.options.get_database())
            .field("ssl_mode", &self.options.get_ssl_mode())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PgMember {
    /// Prepare a member. The pool is lazy: nothing is sent until the first
    /// poll, so this never waits on the network; a bad address or password
    /// shows up as that poll's error.
    pub async fn connect(
        cluster: &Cluster,
        member: &MemberAddr,
        password: Option<&SecretValue>,
    ) -> Result<PgMember, String> {
        if let Some(ca) = &cluster.ca_file {
            let readable = tokio::fs::metadata(ca).await.is_ok_and(|m| m.is_file());
            if !readable {
                return Err(format!("ca_file {} is not a readable file", ca.display()));
            }
        }
        let options = connect_options(cluster, member, password);
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .acquire_timeout(cluster.timeout)
            .connect_lazy_with(options.clone());
        Ok(PgMember {
            member: member.clone(),
            user: cluster.user_or_default().unwrap_or("postgres").to_owned(),
            options,
            pool,
            timeout: cluster.timeout,
            password: password.cloned(),
            caught_up_at: Mutex::new(None),
        })
    }

    /// One poll. Permission errors on single views become `Status::warnings`;
    /// an unreachable server or a lost connection is the `Err`.
    pub async fn poll(&self) -> Result<Status, String> {
        let mut conn = self.connection().await?;
        let status = poll::status(self, &mut conn).await;
        if status.is_err() {
            // Whatever broke the poll may have broken the connection: do not reuse it.
            conn.close_on_drop();
        }
        status
    }

    /// How long since a poll last saw this standby caught up, `None` when
    /// none has; `caught_up_now` records this poll's view first.
    fn caught_up_ago(&self, caught_up_now: bool) -> Option<Duration> {
        let now = Instant::now();
        // A poisoned lock only means a panicking poll: the instant inside is still an instant.
        let mut at = self.caught_up_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if caught_up_now {
            *at = Some(now);
        }
        at.map(|t| now.saturating_duration_since(t))
    }

    /// A pooled connection. When the pool holds none, one direct attempt
    /// comes first: the pool retries "connection refused" and "the database
    /// system is starting up" until its deadline and then reports only a
    /// timeout, which hides exactly what an operator needs to know.
    async fn connection(&self) -> Result<PoolConnection<Postgres>, String> {
        if self.pool.size() == 0 {
            self.probe().await?;
        }
        self.pool.acquire().await.map_err(|e| self.explain(&e))
    }

    async fn probe(&self) -> Result<(), String> {
        match tokio::time::timeout(self.timeout, self.options.connect()).await {
            Err(_) => Err(format!("no answer within {}", humantime::format_duration(self.timeout))),
            Ok(Err(e)) => Err(self.explain(&e)),
            Ok(Ok(conn)) => {
                let _ = tokio::time::timeout(self.timeout, conn.close()).await;
                Ok(())
            }
        }
    }

    /// An error as one line for an operator, never containing the password.
    fn explain(&self, err: &sqlx::Error) -> String {
        self.scrub(errors::describe(err))
    }

    fn scrub(&self, text: String) -> String {
        match &self.password {
            Some(p) if !p.expose().is_empty() && text.contains(p.expose()) => {
                text.replace(p.expose(), "••••")
            }
            _ => text,
        }
    }

    /// `host:port` or the socket, for messages.
    fn label(&self) -> String {
        self.member.to_string()
    }
}

/// Connection options built field by field (never from a URL: sqlx logs
/// unknown URL parameters with their values).
fn connect_options(
    cluster: &Cluster,
    member: &MemberAddr,
    password: Option<&SecretValue>,
) -> PgConnectOptions {
    let mut options = match member {
        MemberAddr::Tcp { host, port } => PgConnectOptions::new().host(host).port(*port),
        MemberAddr::Socket(path) => {
            let (dir, port) = parse::socket_dir_and_port(path);
            PgConnectOptions::new().socket(dir).port(port.unwrap_or(ClusterKind::Postgres.default_port()))
        }
    };
    options = options
        .username(cluster.user_or_default().unwrap_or("postgres"))
        .database(cluster.database.as_deref().unwrap_or("postgres"))
        .application_name("opsdeck")
        .ssl_mode(ssl_mode(cluster.tls.effective(ClusterKind::Postgres, member)))
        // A hung query must not hold the connection past one poll.
        .options([("statement_timeout", format!("{}ms", cluster.timeout.as_millis().max(1)))])
        .disable_statement_logging();
    if let Some(password) = password {
        options = options.password(password.expose());
    }
    if let Some(ca) = &cluster.ca_file {
        options = options.ssl_root_cert(ca);
    }
    options
}

fn ssl_mode(tls: TlsMode) -> PgSslMode {
    match tls {
        TlsMode::Off => PgSslMode::Disable,
        TlsMode::Auto | TlsMode::Prefer => PgSslMode::Prefer,
        TlsMode::Require => PgSslMode::Require,
        TlsMode::Verify => PgSslMode::VerifyFull,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn cluster(tls: TlsMode) -> Cluster {
        Cluster {
            user: Some("monitor".into()),
            tls,
            timeout: Duration::from_millis(1500),
            ..Cluster::new("pg", ClusterKind::Postgres, vec![])
        }
    }

    #[test]
    fn options_follow_the_cluster_and_the_member() {
        let remote = MemberAddr::Tcp { host: "db1".into(), port: 5433 };
        let o = connect_options(&cluster(TlsMode::Auto), &remote, None);
        assert_eq!((o.get_host(), o.get_port(), o.get_username()), ("db1", 5433, "monitor"));
        assert_eq!(o.get_database(), Some("postgres"));
        assert_eq!(o.get_application_name(), Some("opsdeck"));
        assert!(matches!(o.get_ssl_mode(), PgSslMode::VerifyFull), "auto verifies a remote member");
        assert!(o.get_options().is_some_and(|s| s.contains("statement_timeout=1500ms")));
        let local = MemberAddr::Tcp { host: "127.0.0.1".into(), port: 5432 };
        assert!(matches!(
            connect_options(&cluster(TlsMode::Auto), &local, None).get_ssl_mode(),
            PgSslMode::Prefer
        ));
        assert!(matches!(
            connect_options(&cluster(TlsMode::Off), &remote, None).get_ssl_mode(),
            PgSslMode::Disable
        ));
        let socket = MemberAddr::Socket("/tmp/pg/.s.PGSQL.6543".into());
        let o = connect_options(&cluster(TlsMode::Auto), &socket, None);
        assert_eq!((o.get_socket().map(|p| p.as_path()), o.get_port()), (Some(Path::new("/tmp/pg")), 6543));
    }

    #[tokio::test]
    async fn debug_never_shows_the_password() {
        let member = MemberAddr::Tcp { host: "127.0.0.1".into(), port: 1 };
        let secret = SecretValue::new("hunter2-pg".into());
        let m = PgMember::connect(&cluster(TlsMode::Off), &member, Some(&secret)).await.expect("lazy");
        let debug = format!("{m:?}");
        assert!(debug.contains("127.0.0.1:1") && !debug.contains("hunter2-pg"), "{debug}");
        assert_eq!(m.scrub("failed for hunter2-pg".into()), "failed for ••••");
    }
}
