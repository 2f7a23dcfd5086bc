//! A real restic repository in a short temp dir (repository, cache, password
//! file and data all inside it), removed on drop. restic runs here with the
//! repository and password in its environment, as opsdeck runs it. See
//! CONTRIBUTING.md: `init` takes ≈ 2.3 s, every later command ≈ 0.65 s
//! (key derivation), so tests share one repository.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::READY_DEADLINE;

/// An initialised repository.
pub struct ResticRepo {
    dir: TempDir,
    password: String,
}

impl ResticRepo {
    /// `restic init` a new repository with a fresh password.
    pub fn init() -> ResticRepo {
        let dir = tempfile::Builder::new().prefix("od-rs-").tempdir_in("/tmp").expect("temp dir");
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let password = format!("od-pw-{}-{nanos}", std::process::id());
        std::fs::write(dir.path().join("password"), &password).expect("write password file");
        let repo = ResticRepo { dir, password };
        repo.ok(&["init"]);
        repo
    }

    /// The repository location (`RESTIC_REPOSITORY`).
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// Its password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// A file holding the password, for `password_file`.
    pub fn password_file(&self) -> PathBuf {
        self.dir.path().join("password")
    }

    /// restic's cache for this repository (kept out of `~/.cache`).
    pub fn cache_dir(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// The temp dir holding everything, for the test's own files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `restic backup <path>`; the new snapshot's short id.
    pub fn backup(&self, path: &Path) -> String {
        let path = path.to_str().expect("utf-8 path");
        let out = self.ok(&["backup", "--json", "--quiet", path]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let summary = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["message_type"] == "summary")
            .unwrap_or_else(|| panic!("no summary from restic backup:\n{stdout}"));
        let id = summary["snapshot_id"].as_str().expect("snapshot_id in the summary");
        id.chars().take(8).collect()
    }

    /// Lock files currently in the repository.
    pub fn locks(&self) -> usize {
        std::fs::read_dir(self.path().join("locks")).map_or(0, |d| d.count())
    }

    /// Hold a (non-exclusive) lock until the returned guard drops, as a
    /// running backup would: `restic key add` locks the repository, then
    /// waits on stdin for the new password. Exclusive operations (`check`,
    /// `prune`) fail with "repository is already locked" meanwhile.
    pub fn hold_lock(&self) -> LockHolder {
        let child = self
            .command(&["key", "add"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start restic key add");
        let holder = LockHolder { child };
        let until = Instant::now() + READY_DEADLINE;
        while self.locks() == 0 {
            assert!(Instant::now() < until, "restic key add never locked the repository");
            std::thread::sleep(Duration::from_millis(50));
        }
        holder
    }

    /// A restic command with this repository's environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("restic");
        cmd.args(args)
            .env("RESTIC_REPOSITORY", self.path())
            .env("RESTIC_PASSWORD", &self.password)
            .env("RESTIC_CACHE_DIR", self.cache_dir())
            .env_remove("RESTIC_PASSWORD_FILE")
            .env_remove("RESTIC_PASSWORD_COMMAND")
            .env_remove("RESTIC_REPOSITORY_FILE");
        cmd
    }

    /// Run restic and insist it succeeds.
    fn ok(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap_or_else(|e| super::not_installed("restic", e));
        assert!(out.status.success(), "restic {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        out
    }
}

/// A restic process holding a repository lock; released on drop.
pub struct LockHolder {
    child: Child,
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        // Closing stdin ends `key add` ("an empty password is not a
        // password"), which removes its lock; kill it if it lingers.
        drop(self.child.stdin.take());
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
