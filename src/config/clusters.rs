//! `[[clusters]]`: the replicated databases the Replication tab watches.
//!
//! ```toml
//! [[clusters]]
//! name = "main-pg"
//! kind = "postgres"                # postgres | mysql | redis
//! members = ["10.0.0.11:5432", "10.0.0.12:5432", "/var/run/postgresql"]
//! user = "opsdeck"                 # least privilege: pg_monitor / REPLICATION CLIENT
//! password_env = "OPSDECK_PG_PASSWORD"   # or password_file / password_command
//! tls = "auto"                     # auto | off | prefer | require | verify
//! ```
//!
//! Members are `host:port` (`[v6]:port` for IPv6) or an absolute Unix socket
//! path (a socket directory for PostgreSQL, the socket file for MySQL and
//! Redis). Roles are discovered, never configured: a failover must not
//! make the config lie.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::duration;
use super::secret::Secret;

/// The database engines the Replication tab understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterKind {
    /// PostgreSQL streaming replication.
    Postgres,
    /// MySQL or MariaDB replication.
    Mysql,
    /// Redis primary/replica.
    Redis,
}

impl ClusterKind {
    /// The port a member address without one gets.
    pub fn default_port(self) -> u16 {
        match self {
            ClusterKind::Postgres => 5432,
            ClusterKind::Mysql => 3306,
            ClusterKind::Redis => 6379,
        }
    }

    /// As written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterKind::Postgres => "postgres",
            ClusterKind::Mysql => "mysql",
            ClusterKind::Redis => "redis",
        }
    }
}

/// Where one member listens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MemberAddr {
    /// TCP.
    Tcp {
        /// Host name or IP (IPv6 without brackets).
        host: String,
        /// Port.
        port: u16,
    },
    /// A Unix socket (PostgreSQL: its directory; MySQL, Redis: the file).
    Socket(PathBuf),
}

impl MemberAddr {
    /// Parse `host:port`, `[v6]:port`, `host` (default port) or `/socket/path`.
    pub fn parse(s: &str, kind: ClusterKind) -> Result<MemberAddr, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("a member address is empty".into());
        }
        if s.starts_with('/') {
            return Ok(MemberAddr::Socket(PathBuf::from(s)));
        }
        if s.contains("://") || s.contains('@') {
            return Err(format!(
                "member {s:?}: write host:port (no scheme, no credentials: use user and password_env, password_file or password_command)"
            ));
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(|| format!("member {s:?}: unclosed '['"))?;
            match after.strip_prefix(':') {
                Some(p) => (host, Some(p)),
                None if after.is_empty() => (host, None),
                None => return Err(format!("member {s:?}: expected :port after ']'")),
            }
        } else if s.matches(':').count() > 1 {
            return Err(format!("member {s:?}: write an IPv6 address as [addr]:port"));
        } else {
            match s.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (s, None),
            }
        };
        if host.is_empty() {
            return Err(format!("member {s:?}: no host"));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("member {s:?}: bad port {p:?}"))?,
            None => kind.default_port(),
        };
        Ok(MemberAddr::Tcp { host: host.to_owned(), port })
    }

    /// On this machine: a socket, `localhost`, or a loopback IP. Decides
    /// whether `tls = "auto"` verifies certificates.
    pub fn is_local(&self) -> bool {
        match self {
            MemberAddr::Socket(_) => true,
            MemberAddr::Tcp { host, .. } => {
                host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
            }
        }
    }
}

impl std::fmt::Display for MemberAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemberAddr::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            MemberAddr::Tcp { host, port } => write!(f, "{host}:{port}"),
            MemberAddr::Socket(p) => write!(f, "{}", p.display()),
        }
    }
}

/// How a connection uses TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// `verify` for a remote member; `prefer` (PostgreSQL, MySQL) or `off`
    /// (Redis, which cannot negotiate) for a local one.
    #[default]
    Auto,
    /// Plain text.
    Off,
    /// TLS when the server offers it, certificate not checked (PostgreSQL, MySQL).
    Prefer,
    /// TLS required, certificate not checked.
    Require,
    /// TLS required, certificate and host name checked (system roots plus `ca_file`).
    Verify,
}

impl TlsMode {
    /// What `auto` means for `member` of a `kind` cluster.
    pub fn effective(self, kind: ClusterKind, member: &MemberAddr) -> TlsMode {
        match self {
            TlsMode::Auto if !member.is_local() => TlsMode::Verify,
            TlsMode::Auto if kind == ClusterKind::Redis => TlsMode::Off,
            TlsMode::Auto => TlsMode::Prefer,
            other => other,
        }
    }
}

/// `[[clusters]]`: a replicated database.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawCluster")]
pub struct Cluster {
    /// Shown as the topology's title.
    pub name: String,
    /// Which protocol to speak.
    pub kind: ClusterKind,
    /// Every member; roles are discovered, not configured.
    pub members: Vec<MemberAddr>,
    /// The user to log in as (PostgreSQL default `postgres`, MySQL `root`;
    /// Redis: an ACL user, default none).
    pub user: Option<String>,
    /// Its password (`password_env`, `password_file` or `password_command`).
    pub password: Option<Secret>,
    /// PostgreSQL database to connect to (default `postgres`).
    pub database: Option<String>,
    /// TLS use.
    pub tls: TlsMode,
    /// A PEM file of extra CA certificates.
    pub ca_file: Option<PathBuf>,
    /// Time between polls of each member.
    pub interval: Duration,
    /// Longest one member's poll may take, connecting included.
    pub timeout: Duration,
    /// Lag above this is a warning.
    pub lag_warning: Duration,
    /// Lag above this is critical.
    pub lag_critical: Duration,
    /// Promote is refused while the candidate lags more than this.
    pub promote_max_lag: Duration,
    /// MySQL: a pt-heartbeat table (`db.table`) to measure lag by, since
    /// Seconds_Behind_Master lies about relayed and multi-threaded replication.
    pub heartbeat_table: Option<String>,
}

impl Cluster {
    /// A cluster with every optional key at its default, as a config entry
    /// naming only `name`, `kind` and `members` gets.
    pub fn new(name: &str, kind: ClusterKind, members: Vec<MemberAddr>) -> Cluster {
        Cluster {
            name: name.to_owned(),
            kind,
            members,
            user: None,
            password: None,
            database: None,
            tls: TlsMode::Auto,
            ca_file: None,
            interval: two_seconds(),
            timeout: two_seconds(),
            lag_warning: five_seconds(),
            lag_critical: one_minute(),
            promote_max_lag: one_minute(),
            heartbeat_table: None,
        }
    }

    /// The user a connection logs in as.
    pub fn user_or_default(&self) -> Option<&str> {
        match (&self.user, self.kind) {
            (Some(u), _) => Some(u),
            (None, ClusterKind::Postgres) => Some("postgres"),
            (None, ClusterKind::Mysql) => Some("root"),
            (None, ClusterKind::Redis) => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    name: String,
    kind: ClusterKind,
    members: Vec<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    password_env: Option<String>,
    #[serde(default)]
    password_file: Option<PathBuf>,
    #[serde(default)]
    password_command: Option<Vec<String>>,
    #[serde(default)]
    database: Option<String>,
    #[serde(default)]
    tls: TlsMode,
    #[serde(default)]
    ca_file: Option<PathBuf>,
    #[serde(default = "two_seconds", deserialize_with = "duration::refresh")]
    interval: Duration,
    #[serde(default = "two_seconds", deserialize_with = "duration::refresh")]
    timeout: Duration,
    #[serde(default = "five_seconds", deserialize_with = "duration::refresh")]
    lag_warning: Duration,
    #[serde(default = "one_minute", deserialize_with = "duration::refresh")]
    lag_critical: Duration,
    #[serde(default = "one_minute", deserialize_with = "duration::refresh")]
    promote_max_lag: Duration,
    #[serde(default)]
    heartbeat_table: Option<String>,
}

fn two_seconds() -> Duration {
    Duration::from_secs(2)
}

fn five_seconds() -> Duration {
    Duration::from_secs(5)
}

fn one_minute() -> Duration {
    Duration::from_secs(60)
}

impl TryFrom<RawCluster> for Cluster {
    type Error = String;

    fn try_from(r: RawCluster) -> Result<Self, Self::Error> {
        let name = &r.name;
        if r.members.is_empty() {
            return Err(format!("{name:?}: members is empty"));
        }
        let mut members = Vec::with_capacity(r.members.len());
        for m in &r.members {
            let addr = MemberAddr::parse(m, r.kind).map_err(|e| format!("{name:?}: {e}"))?;
            if members.contains(&addr) {
                return Err(format!("{name:?}: member {addr} is listed twice"));
            }
            members.push(addr);
        }
        let password = Secret::from_fields("password", r.password_env, r.password_file, r.password_command)
            .map_err(|e| format!("{name:?}: {e}"))?;
        if r.lag_warning >= r.lag_critical {
            return Err(format!("{name:?}: lag_warning must be below lag_critical"));
        }
        if r.database.is_some() && r.kind != ClusterKind::Postgres {
            return Err(format!("{name:?}: database is for kind = \"postgres\""));
        }
        if r.heartbeat_table.is_some() && r.kind != ClusterKind::Mysql {
            return Err(format!("{name:?}: heartbeat_table is for kind = \"mysql\""));
        }
        if let Some(t) = &r.heartbeat_table {
            let ok = t.split('.').count() == 2
                && t.split('.')
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            if !ok {
                return Err(format!("{name:?}: heartbeat_table {t:?} must be db.table (letters, digits, _)"));
            }
        }
        Ok(Cluster {
            name: r.name,
            kind: r.kind,
            members,
            user: r.user,
            password,
            database: r.database,
            tls: r.tls,
            ca_file: r.ca_file,
            interval: r.interval,
            timeout: r.timeout,
            lag_warning: r.lag_warning,
            lag_critical: r.lag_critical,
            promote_max_lag: r.promote_max_lag,
            heartbeat_table: r.heartbeat_table,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_addresses_parse_with_default_ports_and_reject_credentials() {
        let pg = ClusterKind::Postgres;
        assert_eq!(MemberAddr::parse("db1:5433", pg), Ok(MemberAddr::Tcp { host: "db1".into(), port: 5433 }));
        assert_eq!(MemberAddr::parse("db1", pg), Ok(MemberAddr::Tcp { host: "db1".into(), port: 5432 }));
        assert_eq!(
            MemberAddr::parse("[::1]:6380", ClusterKind::Redis),
            Ok(MemberAddr::Tcp { host: "::1".into(), port: 6380 })
        );
        assert_eq!(
            MemberAddr::parse("/run/postgresql", pg),
            Ok(MemberAddr::Socket("/run/postgresql".into()))
        );
        assert!(MemberAddr::parse("postgres://u:secret@db1", pg).unwrap_err().contains("no credentials"));
        assert!(MemberAddr::parse("db1:0", pg).is_err());
        assert!(MemberAddr::parse("::1", pg).unwrap_err().contains("[addr]:port"));
        assert_eq!(MemberAddr::parse("[::1]:5", pg).map(|m| m.to_string()), Ok("[::1]:5".to_owned()));
    }

    #[test]
    fn new_has_the_defaults_a_minimal_entry_gets() {
        let c = crate::config::parse(
            "[[clusters]]\nname = \"c\"\nkind = \"redis\"\nmembers = [\"10.0.0.1\"]\n",
            std::path::Path::new("t.toml"),
        )
        .expect("config");
        let members = vec![MemberAddr::parse("10.0.0.1", ClusterKind::Redis).expect("addr")];
        assert_eq!(c.clusters, [Cluster::new("c", ClusterKind::Redis, members)]);
    }

    #[test]
    fn auto_tls_verifies_remote_members_only() {
        let remote = MemberAddr::parse("10.0.0.1", ClusterKind::Mysql).unwrap();
        let local = MemberAddr::parse("127.0.0.1", ClusterKind::Mysql).unwrap();
        assert_eq!(TlsMode::Auto.effective(ClusterKind::Mysql, &remote), TlsMode::Verify);
        assert_eq!(TlsMode::Auto.effective(ClusterKind::Mysql, &local), TlsMode::Prefer);
        assert_eq!(TlsMode::Auto.effective(ClusterKind::Redis, &local), TlsMode::Off);
        assert_eq!(TlsMode::Off.effective(ClusterKind::Postgres, &remote), TlsMode::Off);
    }
}
