//! MySQL and MariaDB renamed their replication statements at different
//! versions (MySQL 8.0.22: `REPLICA`/`SOURCE`; MariaDB 10.5.1: `REPLICA`
//! synonyms, same column names). Every spelling choice lives here, keyed by
//! what the server said it is, so the rest of the module never compares
//! version numbers.

/// Which server family answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Oracle MySQL and its builds (Percona Server).
    MySql,
    /// MariaDB.
    MariaDb,
}

/// The engine and its version, as detected from `VERSION()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flavor {
    /// MySQL or MariaDB.
    pub engine: Engine,
    /// Major, minor, patch; missing parts are 0.
    pub version: (u32, u32, u32),
}

impl Flavor {
    /// From `SELECT VERSION(), @@version_comment`: `"10.11.19-MariaDB-0+deb12u1"`,
    /// `"8.0.36"` with `"MySQL Community Server - GPL"`.
    pub fn detect(version: &str, comment: &str) -> Flavor {
        let is_maria = version.to_ascii_lowercase().contains("mariadb")
            || comment.to_ascii_lowercase().contains("mariadb");
        let engine = if is_maria { Engine::MariaDb } else { Engine::MySql };
        // Old MariaDB replication handshakes prefix "5.5.5-"; VERSION() does not,
        // but strip it anyway so a proxy that forwards the handshake string works.
        let numbers = version.strip_prefix("5.5.5-").unwrap_or(version);
        let mut parts = numbers
            .split(|c: char| !c.is_ascii_digit() && c != '.')
            .next()
            .unwrap_or("")
            .split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let version = (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        Flavor { engine, version }
    }

    /// For `Status::version`: `"MariaDB 10.11.19"`, `"MySQL 8.0.36"`.
    pub fn label(&self) -> String {
        let (a, b, c) = self.version;
        let name = match self.engine {
            Engine::MySql => "MySQL",
            Engine::MariaDb => "MariaDB",
        };
        format!("{name} {a}.{b}.{c}")
    }

    /// MySQL ≥ 8.0.22 and MariaDB ≥ 10.5.1 understand the `REPLICA` words.
    fn has_replica_words(&self) -> bool {
        match self.engine {
            Engine::MySql => self.version >= (8, 0, 22),
            Engine::MariaDb => self.version >= (10, 5, 1),
        }
    }

    /// One row per channel / connection. MariaDB needs `ALL` to list every
    /// named connection (and only then returns `Connection_name`).
    pub fn replica_status_sql(&self) -> &'static str {
        match (self.engine, self.has_replica_words()) {
            (Engine::MySql, true) => "SHOW REPLICA STATUS",
            (Engine::MySql, false) => "SHOW SLAVE STATUS",
            (Engine::MariaDb, true) => "SHOW ALL REPLICAS STATUS",
            (Engine::MariaDb, false) => "SHOW ALL SLAVES STATUS",
        }
    }

    /// The replicas connected to this server.
    pub fn replicas_sql(&self) -> &'static str {
        match (self.engine, self.has_replica_words()) {
            (Engine::MySql, true) => "SHOW REPLICAS",
            _ => "SHOW SLAVE HOSTS",
        }
    }

    /// Stops every channel. MariaDB's plain `STOP SLAVE` stops only the default
    /// connection, MySQL's stops all channels: `ALL` makes them agree.
    pub fn stop_sql(&self) -> &'static str {
        match (self.engine, self.has_replica_words()) {
            (Engine::MySql, true) => "STOP REPLICA",
            (Engine::MySql, false) => "STOP SLAVE",
            (Engine::MariaDb, true) => "STOP ALL REPLICAS",
            (Engine::MariaDb, false) => "STOP ALL SLAVES",
        }
    }

    /// Starts every channel (see `stop_sql`).
    pub fn start_sql(&self) -> &'static str {
        match (self.engine, self.has_replica_words()) {
            (Engine::MySql, true) => "START REPLICA",
            (Engine::MySql, false) => "START SLAVE",
            (Engine::MariaDb, true) => "START ALL REPLICAS",
            (Engine::MariaDb, false) => "START ALL SLAVES",
        }
    }

    /// Forgets a channel's configuration. MySQL's form drops every channel;
    /// MariaDB takes one connection name at a time (quoted by the caller).
    pub fn reset_all_sql(&self, connection: &str) -> String {
        match (self.engine, self.has_replica_words()) {
            (Engine::MySql, true) => "RESET REPLICA ALL".into(),
            (Engine::MySql, false) => "RESET SLAVE ALL".into(),
            (Engine::MariaDb, _) => format!("RESET SLAVE {} ALL", quote_string(connection)),
        }
    }

    /// Which privileges let a monitoring user read the channels.
    pub fn status_privilege_hint(&self) -> &'static str {
        match self.engine {
            Engine::MySql => "grant REPLICATION CLIENT",
            Engine::MariaDb if self.version >= (10, 5, 9) => "grant REPLICA MONITOR",
            Engine::MariaDb => "grant REPLICATION CLIENT",
        }
    }

    /// Which privileges let a monitoring user list the replicas.
    pub fn replicas_privilege_hint(&self) -> &'static str {
        match self.engine {
            Engine::MySql => "grant REPLICATION SLAVE",
            Engine::MariaDb if self.version >= (10, 5, 2) => "grant REPLICATION MASTER ADMIN",
            Engine::MariaDb => "grant REPLICATION SLAVE",
        }
    }
}

/// A single-quoted SQL string literal. Connection names come from the server
/// itself, but a name with a quote must still not break the statement.
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            other => out.push(other),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_engine_and_version() {
        let maria = Flavor::detect("10.11.19-MariaDB-0+deb12u1", "Debian 12");
        assert_eq!(maria, Flavor { engine: Engine::MariaDb, version: (10, 11, 19) });
        assert_eq!(maria.label(), "MariaDB 10.11.19");
        let mysql = Flavor::detect("8.0.36", "MySQL Community Server - GPL");
        assert_eq!(mysql.label(), "MySQL 8.0.36");
        let percona = Flavor::detect("8.0.21-12", "Percona Server (GPL), Release 12");
        assert_eq!(percona, Flavor { engine: Engine::MySql, version: (8, 0, 21) });
        assert_eq!(Flavor::detect("5.5.5-10.4.3-MariaDB", "").version, (10, 4, 3));
        assert_eq!(Flavor::detect("garbage", "").version, (0, 0, 0));
    }

    #[test]
    fn spellings_follow_the_renames() {
        let mysql = |v| Flavor { engine: Engine::MySql, version: v };
        let maria = |v| Flavor { engine: Engine::MariaDb, version: v };
        assert_eq!(mysql((8, 0, 21)).replica_status_sql(), "SHOW SLAVE STATUS");
        assert_eq!(mysql((8, 0, 22)).replica_status_sql(), "SHOW REPLICA STATUS");
        assert_eq!(mysql((8, 4, 3)).replicas_sql(), "SHOW REPLICAS");
        assert_eq!(mysql((5, 7, 44)).replicas_sql(), "SHOW SLAVE HOSTS");
        assert_eq!(mysql((5, 7, 44)).stop_sql(), "STOP SLAVE");
        assert_eq!(mysql((8, 4, 0)).reset_all_sql(""), "RESET REPLICA ALL");
        assert_eq!(maria((10, 4, 30)).replica_status_sql(), "SHOW ALL SLAVES STATUS");
        assert_eq!(maria((10, 11, 6)).replica_status_sql(), "SHOW ALL REPLICAS STATUS");
        assert_eq!(maria((10, 11, 6)).replicas_sql(), "SHOW SLAVE HOSTS");
        assert_eq!(maria((10, 11, 6)).start_sql(), "START ALL REPLICAS");
        assert_eq!(maria((10, 11, 6)).reset_all_sql("east's"), "RESET SLAVE 'east''s' ALL");
    }
}
