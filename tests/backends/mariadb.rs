//! Real MariaDB servers on loopback: a primary and a GTID replica, each with
//! its own short temp dir (the socket lives there), port and `server_id`.
//!
//! `mariadb-install-db` runs once per pair and the replica starts from a copy
//! of that fresh datadir: installing takes seconds, copying milliseconds.
//! mariadbd aborts as root unless its cnf says `user=root`. Statements go to
//! the `mariadb` client on stdin, never in argv, so the test passwords do not
//! show in `ps`. Servers are SIGKILLed, reaped and their dirs removed on drop.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::{READY_DEADLINE, free_port, wait_for};

/// The monitoring user: reads replication state, may flip read_only.
pub const MONITOR_USER: &str = "od_monitor";
/// Its password.
pub const MONITOR_PASSWORD: &str = "S3cret-xyz";
/// A user that may log in and nothing else.
pub const NOPRIV_USER: &str = "od_nopriv";
/// Its password.
pub const NOPRIV_PASSWORD: &str = "N0priv-pw-77";
/// The replication user the replica connects as.
pub const REPL_USER: &str = "od_repl";
/// Its password.
pub const REPL_PASSWORD: &str = "Repl-pw-31";

/// Privileges of `MONITOR_USER` on MariaDB 10.11: `SLAVE MONITOR` for
/// `SHOW ALL REPLICAS STATUS`, `REPLICATION CLIENT` (= `BINLOG MONITOR`),
/// `REPLICATION MASTER ADMIN` for `SHOW SLAVE HOSTS`, `READ_ONLY ADMIN` for
/// `SET GLOBAL read_only`, and SELECT on the heartbeat database.
const USERS_SQL: &str = "
CREATE USER od_repl@'%' IDENTIFIED BY 'Repl-pw-31';
GRANT REPLICATION SLAVE ON *.* TO od_repl@'%';
CREATE USER od_monitor@'%' IDENTIFIED BY 'S3cret-xyz';
GRANT SLAVE MONITOR, REPLICATION CLIENT, REPLICATION MASTER ADMIN, READ_ONLY ADMIN ON *.* TO od_monitor@'%';
GRANT SELECT ON hb.* TO od_monitor@'%';
CREATE USER od_nopriv@'%' IDENTIFIED BY 'N0priv-pw-77';
";

/// One mariadbd process.
pub struct MariaServer {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// Its `server_id`.
    pub server_id: u32,
    child: Child,
    dir: TempDir,
}

/// A primary and a replica whose both threads run and which has applied
/// everything the primary had when `start` returned.
pub struct MariaPair {
    /// Takes writes; `server_id` 1.
    pub primary: MariaServer,
    /// Replicates from the primary with `MASTER_USE_GTID=slave_pos`, reports
    /// itself as `127.0.0.1:<its port>` and is read_only; `server_id` 2.
    pub replica: MariaServer,
}

impl MariaPair {
    /// Install once, start both servers, create the users on the primary
    /// (they replicate), and point the replica at the primary.
    pub async fn start() -> MariaPair {
        let template = install_template();
        let (primary, replica) = tokio::join!(
            MariaServer::launch(template.path(), 1, |_| String::new()),
            MariaServer::launch(template.path(), 2, |port| format!(
                "report_host=127.0.0.1\nreport_port={port}\n"
            )),
        );
        drop(template);
        primary.sql(USERS_SQL);
        replica.sql(&format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='{REPL_USER}', \
             MASTER_PASSWORD='{REPL_PASSWORD}', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;
             START SLAVE; SET GLOBAL read_only = ON;",
            primary.port
        ));
        let pair = MariaPair { primary, replica };
        pair.wait_caught_up().await;
        pair
    }

    /// Wait until both replica threads run and the replica has applied
    /// everything the primary has written so far.
    pub async fn wait_caught_up(&self) {
        let target = self.primary.sql("SELECT @@gtid_binlog_pos");
        wait_for("the replica to run and catch up", READY_DEADLINE, || async {
            // ON while both the IO and the SQL thread run.
            let running = self.replica.sql("SHOW GLOBAL STATUS LIKE 'Slave_running'") == "Slave_running\tON";
            (running && self.replica.sql("SELECT @@gtid_slave_pos") == target).then_some(())
        })
        .await;
    }

    /// The two ports: primary, replica.
    pub fn ports(&self) -> (u16, u16) {
        (self.primary.port, self.replica.port)
    }

    /// The two process ids: primary, replica.
    pub fn pids(&self) -> (u32, u32) {
        (self.primary.pid(), self.replica.pid())
    }
}

/// A freshly installed datadir to copy, in its own temp dir.
fn install_template() -> TempDir {
    let dir = short_temp_dir();
    let cnf = dir.path().join("install.cnf");
    std::fs::write(
        &cnf,
        format!("[mariadbd]\ndatadir={}\n{}", dir.path().join("data").display(), COMMON_CNF),
    )
    .expect("write install cnf");
    let out = Command::new("mariadb-install-db")
        .arg(format!("--defaults-file={}", cnf.display()))
        .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| super::not_installed("mariadb-install-db", e));
    assert!(
        out.status.success(),
        "mariadb-install-db failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// Settings every instance shares: small buffers, no performance schema, no
/// DNS (users are matched by IP), root because the tests run as root, and
/// room for the replication bench's 300 logical members.
const COMMON_CNF: &str = "bind-address=127.0.0.1
skip-name-resolve
innodb-buffer-pool-size=16M
innodb-log-file-size=16M
performance-schema=0
max-connections=500
user=root
";

/// Under /tmp with a short name: a Unix socket path must stay below ~100 bytes.
fn short_temp_dir() -> TempDir {
    tempfile::Builder::new().prefix("od-my").tempdir_in("/tmp").expect("temp dir")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create datadir");
    for entry in std::fs::read_dir(from).expect("read template datadir") {
        let entry = entry.expect("template entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy datadir file");
        }
    }
}

impl MariaServer {
    /// Start a server on a copy of `template`'s datadir and wait until it
    /// answers. Retries on a fresh port if it exits (a port taken meanwhile).
    async fn launch(template: &Path, server_id: u32, extra: impl Fn(u16) -> String) -> MariaServer {
        let mut last_log = String::new();
        for _ in 0..3 {
            let dir = short_temp_dir();
            copy_dir(&template.join("data"), &dir.path().join("data"));
            let port = free_port();
            let d = dir.path().display();
            let cnf = dir.path().join("my.cnf");
            let text = format!(
                "[mariadbd]\ndatadir={d}/data\nsocket={d}/mysqld.sock\nport={port}\npid-file={d}/mysqld.pid\n\
                 log-error={d}/error.log\nserver-id={server_id}\nlog-bin=bin\n{COMMON_CNF}{}",
                extra(port)
            );
            std::fs::write(&cnf, text).expect("write cnf");
            let child = Command::new("mariadbd")
                .arg(format!("--defaults-file={}", cnf.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| super::not_installed("mariadbd", e));
            let mut server = MariaServer { port, server_id, child, dir };
            if server.wait_ready().await {
                return server;
            }
            last_log = server.log();
        }
        panic!("mariadbd {server_id} did not become ready; its log:\n{last_log}");
    }

    async fn wait_ready(&mut self) -> bool {
        let until = Instant::now() + READY_DEADLINE;
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if self.try_sql("SELECT 1").is_ok() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Run `sql` as root over TCP; its tab-separated output without headers.
    /// Panics with the client's error.
    pub fn sql(&self, sql: &str) -> String {
        self.try_sql(sql).unwrap_or_else(|e| panic!("server {}: {sql}: {e}", self.server_id))
    }

    /// Run `sql` as root over TCP, or the client's error.
    pub fn try_sql(&self, sql: &str) -> Result<String, String> {
        let mut child = Command::new("mariadb")
            .args(["-h127.0.0.1", &format!("-P{}", self.port), "-uroot", "-N", "-B", "--connect-timeout=2"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run mariadb: {e}"))?;
        child.stdin.take().expect("stdin").write_all(sql.as_bytes()).map_err(|e| e.to_string())?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }

    /// The Unix socket file.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("mysqld.sock")
    }

    /// The server's pid, from its pid-file.
    pub fn pid(&self) -> u32 {
        let text = std::fs::read_to_string(self.dir.path().join("mysqld.pid")).expect("read pid-file");
        text.trim().parse().expect("pid-file holds a number")
    }

    /// SIGSTOP the server until the guard drops (then SIGCONT): it keeps its
    /// port open but answers nothing, like a hung host.
    pub fn pause(&self) -> Paused {
        let pid = self.pid() as libc::pid_t;
        // SAFETY: signalling our own child process by its pid.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0, "SIGSTOP");
        Paused(pid)
    }

    /// Its error log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

/// A stopped server; resumed on drop, also when a test panics.
pub struct Paused(libc::pid_t);

impl Drop for Paused {
    fn drop(&mut self) {
        // SAFETY: signalling our own child process by its pid.
        unsafe { libc::kill(self.0, libc::SIGCONT) };
    }
}

impl Drop for MariaServer {
    fn drop(&mut self) {
        // SIGKILL works on a stopped process too; the TempDir goes after.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
