//! Real Redis 7 servers on loopback: a primary with one replica, each in its
//! own temp dir, with `requirepass`/`masterauth` so authentication is always
//! exercised. Secrets go to redis-server through a config file in the temp
//! dir (argv is visible in `ps`) and to redis-cli through `REDISCLI_AUTH`.
//! Processes are killed and reaped, and their dirs removed, on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::{READY_DEADLINE, free_port, wait_for};

/// The `default` user's password on every server, and `masterauth`.
pub const PASSWORD: &str = "S3cret-xyz";
/// An ACL user that may run INFO and PING but not CONFIG: a typical monitor.
pub const MONITOR_USER: &str = "od_monitor";
/// Its password.
pub const MONITOR_PASSWORD: &str = "Mon-pw-4711";
/// An ACL user that may only PING.
pub const BLIND_USER: &str = "od_blind";
/// Its password.
pub const BLIND_PASSWORD: &str = "Blind-pw-0815";

/// The link settings of every server: a master pings each second and a
/// silent link is declared down after 3 s (defaults: 10 s and 60 s), so a
/// stopped master shows on its replica quickly. Diskless sync starts at once
/// (default: waits 5 s for more replicas).
const REPLICATION_CONFIG: &str = "repl-ping-replica-period 1\nrepl-timeout 3\nrepl-diskless-sync-delay 0\n";

/// One redis-server process.
pub struct RedisServer {
    /// Its TCP port on 127.0.0.1 (the TLS port for a TLS server).
    pub port: u16,
    child: Child,
    dir: TempDir,
}

/// A primary and a replica whose link is up.
pub struct RedisPair {
    /// Takes writes.
    pub primary: RedisServer,
    /// `replicaof` the primary.
    pub replica: RedisServer,
}

impl RedisPair {
    /// Start both and wait until the link is up on both sides: the replica
    /// reports `master_link_status:up`, the primary lists it `online` (after
    /// a diskless sync that takes the replica's first ack, a moment later).
    pub async fn start() -> RedisPair {
        let primary = RedisServer::start("").await;
        let replica = RedisServer::start(&format!("replicaof 127.0.0.1 {}\n", primary.port)).await;
        let (primary_port, replica_port) = (primary.port, replica.port);
        wait_for("the replication link to come up", READY_DEADLINE, || async move {
            let replica_up = cli(replica_port, &["INFO", "replication"]).contains("master_link_status:up");
            let online = format!("port={replica_port},state=online");
            let primary_sees_it = cli(primary_port, &["INFO", "replication"]).contains(&online);
            (replica_up && primary_sees_it).then_some(())
        })
        .await;
        RedisPair { primary, replica }
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

impl RedisServer {
    /// A plain-TCP server with `extra` config lines, ready to answer PING.
    pub async fn start(extra: &str) -> RedisServer {
        Self::launch(extra, None).await
    }

    /// A server that speaks only TLS on `port`, with a certificate for
    /// 127.0.0.1 signed by a fresh CA whose certificate is `ca_file()`.
    pub async fn start_tls() -> RedisServer {
        Self::launch("", Some(super::write_certificates)).await
    }

    async fn launch(extra: &str, tls: Option<fn(&Path)>) -> RedisServer {
        let mut last_log = String::new();
        // A port taken between free_port() and the bind makes redis-server
        // exit: retry on another.
        for _ in 0..3 {
            let dir = tempfile::Builder::new().prefix("od-redis-").tempdir_in("/tmp").expect("temp dir");
            let port = free_port();
            let mut config = base_config(dir.path(), port, tls.is_some());
            config.push_str(extra);
            if let Some(write_certificates) = tls {
                write_certificates(dir.path());
            }
            let config_path = dir.path().join("redis.conf");
            std::fs::write(&config_path, config).expect("write redis.conf");
            let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
            let child = Command::new("redis-server")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log clone"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| super::not_installed("redis-server", e));
            let mut server = RedisServer { port, child, dir };
            if server.wait_ready().await {
                return server;
            }
            last_log = server.log();
        }
        panic!("redis-server did not become ready; its log:\n{last_log}");
    }

    async fn wait_ready(&mut self) -> bool {
        let until = Instant::now() + READY_DEADLINE;
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if self.cli(&["PING"]) == "PONG" {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Run redis-cli against this server (TLS with the test CA when it is a
    /// TLS server); its stdout, trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        if self.is_tls() {
            let ca = self.ca_file();
            let ca = ca.to_str().expect("utf-8 temp path");
            let mut with_tls = vec!["--tls", "--cacert", ca];
            with_tls.extend_from_slice(args);
            cli(self.port, &with_tls)
        } else {
            cli(self.port, args)
        }
    }

    fn is_tls(&self) -> bool {
        self.ca_file().exists()
    }

    /// The CA certificate (PEM) of a TLS server.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// Its Unix socket (mode 700).
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    /// Its process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGSTOP it until the returned guard is dropped (SIGCONT then, also
    /// when the test panics in between).
    pub fn pause(&self) -> Paused {
        signal(self.pid(), "-STOP");
        Paused { pid: self.pid() }
    }

    /// Its temp dir.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Everything it has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too; the TempDir then removes the dir.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A stopped server; continued on drop.
pub struct Paused {
    pid: u32,
}

impl Drop for Paused {
    fn drop(&mut self) {
        signal(self.pid, "-CONT");
    }
}

fn signal(pid: u32, which: &str) {
    let status = Command::new("kill").args([which, &pid.to_string()]).status().expect("run kill");
    assert!(status.success(), "kill {which} {pid} failed");
}

/// `redis-cli -h 127.0.0.1 -p <port> <args>` as the `default` user, the
/// password passed in `REDISCLI_AUTH` (not `-a`: argv is visible in `ps`).
/// Its stdout, trimmed; an error answer is returned as text, not a panic.
pub fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .env("REDISCLI_AUTH", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| super::not_installed("redis-cli", e));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn base_config(dir: &Path, port: u16, tls: bool) -> String {
    let listen = if tls {
        format!(
            "port 0\ntls-port {port}\ntls-cert-file {d}/server.crt\ntls-key-file {d}/server.key\n\
             tls-ca-cert-file {d}/ca.crt\ntls-auth-clients no\n",
            d = dir.display()
        )
    } else {
        format!("port {port}\n")
    };
    format!(
        "{listen}bind 127.0.0.1\nsave \"\"\nappendonly no\ndir {d}\nlogfile \"\"\ndaemonize no\n\
         unixsocket {d}/redis.sock\nunixsocketperm 700\n\
         requirepass {PASSWORD}\nmasterauth {PASSWORD}\n\
         user {MONITOR_USER} on >{MONITOR_PASSWORD} +info +ping\n\
         user {BLIND_USER} on >{BLIND_PASSWORD} +ping\n{REPLICATION_CONFIG}",
        d = dir.display()
    )
}
