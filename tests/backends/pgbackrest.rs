//! A real pgBackRest 2.45 stanza on its own PostgreSQL primary: a short temp
//! dir under /tmp owned by the `postgres` OS user holds the data dir, the
//! socket, `pgbackrest.conf` and the repository. The primary archives its
//! WAL into the stanza; `start` creates the stanza and takes a full backup.
//! Every pgbackrest command runs as `postgres` (as root it would leave
//! root-owned info files that break archive-push). Drop stops the server
//! (`-m immediate`) and removes the dir. See CONTRIBUTING.md.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use tempfile::TempDir;

use super::free_port;
use super::postgres::{chown_to_postgres, newest_bin_dir, postmaster_pid, run_as_postgres};

/// The stanza `start` creates.
pub const STANZA: &str = "main";

/// A primary archiving into a pgBackRest stanza that has one full backup.
pub struct PgBackRest {
    port: u16,
    bin: PathBuf,
    dir: TempDir,
}

impl PgBackRest {
    /// initdb, start, stanza-create and a full backup (≈ 5 s, most of it the backup).
    pub fn start() -> PgBackRest {
        let bin = newest_bin_dir();
        let dir = tempfile::Builder::new().prefix("od-pb-").tempdir_in("/tmp").expect("temp dir");
        chown_to_postgres(dir.path());
        let mut pb = PgBackRest { port: 0, bin, dir };
        pb.init();
        pb.start_on_free_port();
        pb.pgbackrest(&["stanza-create"]);
        pb.backup("full");
        pb
    }

    /// `pgbackrest.conf`, which names the stanza, the primary and the repository.
    pub fn config_path(&self) -> PathBuf {
        self.dir().join("pgbackrest.conf")
    }

    /// The stanza's name.
    pub fn stanza(&self) -> &str {
        STANZA
    }

    /// The primary's TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temp dir (data dir `p`, repository `repo`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The repository's root (`repo1-path`).
    pub fn repo(&self) -> PathBuf {
        self.dir().join("repo")
    }

    /// Take a backup of `kind` (`full`, `diff` or `incr`), waiting for it.
    pub fn backup(&self, kind: &str) {
        self.pgbackrest(&["backup", &format!("--type={kind}")]);
    }

    /// Start a backup of `kind` without waiting: the caller waits for the child.
    pub fn spawn_backup(&self, kind: &str) -> Child {
        Command::new("runuser")
            .args(["-u", "postgres", "--", "pgbackrest"])
            .args(self.common_args())
            .args(["backup", &format!("--type={kind}")])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pgbackrest backup")
    }

    /// A second stanza of the same name in its own aes-256-cbc repository
    /// (`encrepo`), created with `passphrase` (given in the environment, as
    /// opsdeck gives it). Its config file's path.
    pub fn encrypted_stanza(&self, passphrase: &str) -> PathBuf {
        let config = self.dir().join("enc.conf");
        self.write_config(&config, "encrepo", "repo1-cipher-type=aes-256-cbc\n");
        let out = Command::new("runuser")
            .args(["-u", "postgres", "--", "pgbackrest"])
            .arg(format!("--config={}", config.display()))
            .args([&format!("--stanza={STANZA}"), "stanza-create"])
            .env("PGBACKREST_REPO1_CIPHER_PASS", passphrase)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| super::not_installed("runuser", e));
        assert_ok("pgbackrest stanza-create (encrypted)", &out);
        config
    }

    /// The server log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir().join("p.log")).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.dir().join("p")
    }

    fn init(&self) {
        let data = self.data();
        let out = run_as_postgres(
            &self.bin.join("initdb"),
            &[
                "-D",
                data.to_str().expect("utf-8 path"),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        assert_ok("initdb", &out);
        append(
            &data.join("postgresql.conf"),
            &format!(
                "listen_addresses = '127.0.0.1'\nunix_socket_directories = '{dir}'\nwal_level = replica\n\
                 fsync = off\nshared_buffers = 16MB\nmax_connections = 20\narchive_mode = on\n\
                 archive_command = 'pgbackrest --config={conf} --stanza={STANZA} archive-push %p'\n",
                dir = self.dir().display(),
                conf = self.config_path().display(),
            ),
        );
    }

    /// Start on a fresh port (retrying on another if it was taken in
    /// between), and write pgbackrest.conf for it.
    fn start_on_free_port(&mut self) {
        let data = self.data();
        for _ in 0..3 {
            let port = free_port();
            // The last `port` line wins.
            append(&data.join("postgresql.conf"), &format!("port = {port}\n"));
            let log = self.dir().join("p.log");
            let out = run_as_postgres(
                &self.bin.join("pg_ctl"),
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
                self.port = port;
                self.write_config(&self.config_path(), "repo", "");
                return;
            }
        }
        panic!("PostgreSQL did not start; log:\n{}", self.log());
    }

    fn write_config(&self, path: &Path, repo: &str, extra: &str) {
        let d = self.dir().display();
        let text = format!(
            "[global]\nrepo1-path={d}/{repo}\n{extra}lock-path={d}/lock-{repo}\nlog-path={d}/log\n\
             spool-path={d}/spool\nlog-level-file=off\nlog-level-console=warn\nstart-fast=y\n\
             compress-type=lz4\nrepo1-retention-full=4\n\n[{STANZA}]\npg1-path={data}\npg1-port={port}\n\
             pg1-socket-path={d}\n",
            data = self.data().display(),
            port = self.port,
        );
        std::fs::write(path, text).expect("write pgbackrest.conf");
    }

    fn common_args(&self) -> Vec<String> {
        vec![format!("--config={}", self.config_path().display()), format!("--stanza={STANZA}")]
    }

    /// Run pgbackrest as postgres with the stanza's config; panic on failure.
    fn pgbackrest(&self, args: &[&str]) {
        let out = Command::new("runuser")
            .args(["-u", "postgres", "--", "pgbackrest"])
            .args(self.common_args())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| super::not_installed("runuser", e));
        assert_ok(&format!("pgbackrest {}", args.join(" ")), &out);
    }
}

impl Drop for PgBackRest {
    fn drop(&mut self) {
        let data = self.data();
        let stopped = run_as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", data.to_str().unwrap_or_default(), "-m", "immediate", "-w", "-t", "10", "stop"],
        );
        if !stopped.status.success()
            && let Some(pid) = postmaster_pid(&data)
        {
            // SAFETY: kill(2) with a pid read from the server's own pid file.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        // The TempDir removes the whole tree (root may delete postgres's files).
    }
}

fn assert_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).expect("open config to append");
    f.write_all(text.as_bytes()).expect("append to config");
}
