//! A real PostgreSQL primary with one streaming standby, on loopback, in a
//! short temp dir owned by the `postgres` OS user (initdb and postgres refuse
//! to run as root). Both servers are stopped (`-m immediate`) and the dir
//! removed on drop. See CONTRIBUTING.md for why each step is as it is.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use super::{READY_DEADLINE, free_port, wait_for};

/// A login role in `pg_monitor`, authenticated by scram-sha-256 over TCP.
pub const MONITOR_USER: &str = "od_monitor";
/// Its password.
pub const MONITOR_PASSWORD: &str = "S3cret-xyz";
/// A login role without `pg_monitor`: sees `pg_stat_replication` rows with NULL details.
pub const PLAIN_USER: &str = "od_plain";
/// Its password.
pub const PLAIN_PASSWORD: &str = "Plain-pw-4711";
/// The physical slot the standby streams from.
pub const SLOT: &str = "od_standby";
/// The standby's `application_name` as the primary reports it.
pub const STANDBY_NAME: &str = "od_standby";

/// A primary and a standby streaming from it through the slot `SLOT`.
pub struct PgPair {
    /// The primary's TCP port on 127.0.0.1.
    pub primary_port: u16,
    /// The standby's TCP port on 127.0.0.1.
    pub standby_port: u16,
    bin: PathBuf,
    dir: TempDir,
}

impl PgPair {
    /// Start both and wait until the primary reports the standby streaming.
    pub async fn start() -> PgPair {
        let bin = newest_bin_dir();
        let dir = tempfile::Builder::new().prefix("od-pg-").tempdir_in("/tmp").expect("temp dir");
        chown_to_postgres(dir.path());
        let mut pair = PgPair { primary_port: 0, standby_port: 0, bin, dir };
        pair.primary_port = pair.init_primary();
        pair.create_roles();
        pair.standby_port = pair.clone_standby();
        let port = pair.primary_port;
        wait_for("the standby to stream", READY_DEADLINE, || async move {
            let state = psql(port, "SELECT state FROM pg_stat_replication");
            (state.ok()?.trim() == "streaming").then_some(())
        })
        .await;
        pair
    }

    /// The temp dir holding both data dirs and the Unix sockets.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The primary's data dir.
    pub fn primary_data(&self) -> PathBuf {
        self.dir().join("p")
    }

    /// The standby's data dir.
    pub fn standby_data(&self) -> PathBuf {
        self.dir().join("s")
    }

    /// Run SQL on the primary as `postgres`; its unaligned output, trimmed.
    pub fn primary_sql(&self, sql: &str) -> String {
        psql(self.primary_port, sql).unwrap_or_else(|e| panic!("primary: {sql}: {e}"))
    }

    /// Run SQL on the standby as `postgres`; its unaligned output, trimmed.
    pub fn standby_sql(&self, sql: &str) -> String {
        psql(self.standby_port, sql).unwrap_or_else(|e| panic!("standby: {sql}: {e}"))
    }

    /// The primary postmaster's pid.
    pub fn primary_pid(&self) -> i32 {
        postmaster_pid(&self.primary_data()).expect("primary postmaster.pid")
    }

    /// The standby postmaster's pid.
    pub fn standby_pid(&self) -> i32 {
        postmaster_pid(&self.standby_data()).expect("standby postmaster.pid")
    }

    /// Both server logs, for failure messages.
    pub fn logs(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir().join(name)).unwrap_or_default();
        format!("--- primary log ---\n{}\n--- standby log ---\n{}", read("p.log"), read("s.log"))
    }

    /// initdb, configure and start the primary; its port.
    fn init_primary(&self) -> u16 {
        let data = self.primary_data();
        let d = data.to_str().expect("utf-8 path");
        as_postgres(
            &self.tool("initdb"),
            &["-D", d, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"],
        );
        // First match wins: the password roles must come before initdb's trust lines.
        let hba = data.join("pg_hba.conf");
        let trust = std::fs::read_to_string(&hba).expect("read pg_hba.conf");
        let scram = format!(
            "host all {MONITOR_USER} 127.0.0.1/32 scram-sha-256\nhost all {PLAIN_USER} 127.0.0.1/32 scram-sha-256\n"
        );
        std::fs::write(&hba, format!("{scram}{trust}\nhost replication all 127.0.0.1/32 trust\n"))
            .expect("write pg_hba.conf");
        append(
            &data.join("postgresql.conf"),
            &format!(
                "listen_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nwal_level = replica\n\
                 max_wal_senders = 5\nfsync = off\nmax_connections = 400\n", // 400: the replication bench's 300 members
                self.dir().display()
            ),
        );
        self.start_on_free_port(&data, "p.log")
    }

    /// The monitoring roles, created before the base backup so the standby has them too.
    fn create_roles(&self) {
        // Through stdin, not argv: a password on a command line is visible in ps.
        let sql = format!(
            "CREATE ROLE {MONITOR_USER} LOGIN PASSWORD '{MONITOR_PASSWORD}' IN ROLE pg_monitor;\n\
             CREATE ROLE {PLAIN_USER} LOGIN PASSWORD '{PLAIN_PASSWORD}';\n"
        );
        let port = self.primary_port.to_string();
        let mut child = Command::new(self.tool("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-f",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start psql");
        child.stdin.take().expect("psql stdin").write_all(sql.as_bytes()).expect("write to psql");
        let out = child.wait_with_output().expect("psql");
        assert!(out.status.success(), "creating roles: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// pg_basebackup with a new slot, configure and start the standby; its port.
    fn clone_standby(&self) -> u16 {
        let data = self.standby_data();
        let port = self.primary_port.to_string();
        as_postgres(
            &self.tool("pg_basebackup"),
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                data.to_str().expect("utf-8 path"),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--create-slot",
                "--slot",
                SLOT,
            ],
        );
        // -R wrote primary_conninfo without application_name: name the standby.
        append(
            &data.join("postgresql.auto.conf"),
            &format!(
                "primary_conninfo = 'host=127.0.0.1 port={port} user=postgres application_name={STANDBY_NAME}'\n"
            ),
        );
        // Feedback every second instead of ten: the primary sees replay progress sooner.
        append(&data.join("postgresql.conf"), "wal_receiver_status_interval = 1s\n");
        self.start_on_free_port(&data, "s.log")
    }

    /// Start the server in `data` on a fresh port, retrying on another one if
    /// it fails (a port taken between probing and binding).
    fn start_on_free_port(&self, data: &Path, log: &str) -> u16 {
        let conf = data.join("postgresql.conf");
        let log = self.dir().join(log);
        for _ in 0..3 {
            let port = free_port();
            // The last `port` line wins.
            append(&conf, &format!("port = {port}\n"));
            let out = run_as_postgres(
                &self.tool("pg_ctl"),
                &[
                    "-D",
                    data.to_str().expect("utf-8 path"),
                    "-l",
                    log.to_str().expect("utf-8 path"),
                    "-w",
                    "-t",
                    "30",
                    "start",
                ],
            );
            if out.status.success() {
                return port;
            }
        }
        panic!("{} did not start; logs:\n{}", data.display(), self.logs());
    }

    fn tool(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    fn stop(&self, data: &Path) {
        if let Some(pid) = postmaster_pid(data) {
            // A SIGSTOPped postmaster would sit on the SIGQUIT below until pg_ctl gives up.
            // SAFETY: kill(2) with a pid read from the server's own pid file.
            unsafe { libc::kill(pid, libc::SIGCONT) };
        }
        let stopped = run_as_postgres(
            &self.tool("pg_ctl"),
            &["-D", data.to_str().unwrap_or_default(), "-m", "immediate", "-w", "-t", "10", "stop"],
        );
        if !stopped.status.success()
            && let Some(pid) = postmaster_pid(data)
        {
            // SAFETY: as above; the children exit when they notice the postmaster is gone.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

impl Drop for PgPair {
    fn drop(&mut self) {
        self.stop(&self.standby_data());
        self.stop(&self.primary_data());
        // The TempDir removes the whole tree (root may delete postgres's files).
    }
}

/// `psql -Atc sql` as `postgres` over TCP; stdout trimmed, or stderr on failure.
pub fn psql(port: u16, sql: &str) -> Result<String, String> {
    let out = Command::new(newest_bin_dir().join("psql"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres", "-X", "-Atc", sql])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// The bin dir of the newest PostgreSQL installed under /usr/lib/postgresql.
pub fn newest_bin_dir() -> PathBuf {
    let versions = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap_or_else(|e| super::not_installed("/usr/lib/postgresql/*/bin/initdb", e));
    let newest = versions
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let major: u32 = name.parse().ok()?;
            Some((major, name))
        })
        .filter(|(_, name)| Path::new("/usr/lib/postgresql").join(name).join("bin/initdb").exists())
        .max()
        .unwrap_or_else(|| super::not_installed("/usr/lib/postgresql/*/bin/initdb", "no version has it"));
    Path::new("/usr/lib/postgresql").join(newest.1).join("bin")
}

/// The first line of `postmaster.pid`: the postmaster's pid, while it runs.
pub fn postmaster_pid(data: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(data.join("postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

pub fn chown_to_postgres(path: &Path) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").args([flag, "postgres"]).output().expect("run id");
        if !out.status.success() {
            super::not_installed("initdb", "no `postgres` OS user: the postgresql package creates it");
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().expect("numeric id")
    };
    std::os::unix::fs::chown(path, Some(id("-u")), Some(id("-g"))).expect("chown temp dir to postgres");
}

pub fn run_as_postgres(program: &Path, args: &[&str]) -> Output {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| super::not_installed("runuser", e))
}

fn as_postgres(program: &Path, args: &[&str]) {
    let out = run_as_postgres(program, args);
    assert!(
        out.status.success(),
        "{} failed: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).expect("open config to append");
    f.write_all(text.as_bytes()).expect("append to config");
}

/// How long a test waits for replication to reflect a change.
pub const CHANGE_DEADLINE: Duration = Duration::from_secs(15);
