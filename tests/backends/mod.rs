//! Real backends for integration tests: each server runs on its own loopback
//! port with its own temp dir, is polled until ready (with a deadline, never
//! a fixed sleep), and is killed and reaped when dropped.
//!
//! Use from a test crate with `mod backends;`. Servers come from Debian's
//! packages, which `scripts/test` installs; CONTRIBUTING.md says how each is
//! started and why. A missing one fails its test with that message (never a skip).

#![allow(dead_code)]

pub mod delay_proxy;
pub mod fake_http;
pub mod mariadb;
pub mod node_exporter;
pub mod pgbackrest;
pub mod postgres;
pub mod prometheus_fleet;
pub mod redis;
pub mod restic;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The Debian package that ships `program`, for the message when it is missing.
fn package_of(program: &str) -> &'static str {
    match program {
        "prometheus" => "prometheus",
        "prometheus-alertmanager" => "prometheus-alertmanager",
        "prometheus-node-exporter" => "prometheus-node-exporter",
        "mariadbd" | "mariadb-install-db" | "mariadb" => "mariadb-server",
        "redis-server" | "redis-cli" => "redis-server",
        "restic" => "restic",
        "pgbackrest" => "pgbackrest",
        "runuser" => "util-linux",
        "openssl" => "openssl",
        _ => "postgresql",
    }
}

/// A backend the test needs cannot start: fail, naming the package and the
/// command that installs it.
pub fn not_installed(program: &str, err: impl std::fmt::Display) -> ! {
    panic!(
        "cannot run {program} ({err}): this test starts a real server from Debian's `{}` package. \
         Run `scripts/test` as root (it installs every backend), or see CONTRIBUTING.md#backends",
        package_of(program)
    )
}

/// How long a server may take to become ready.
pub const READY_DEADLINE: Duration = Duration::from_secs(20);

/// A loopback port that was free a moment ago. The OS hands out ephemeral
/// ports in sequence, so a reuse race is unlikely; `Server::start` retries
/// anyway when a server exits early.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// Poll `check` every 50 ms until it yields `Some`, or panic with `what`
/// after `deadline`.
pub async fn wait_for<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = Instant::now() + deadline;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < until, "timed out after {deadline:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A running server process: killed and reaped on drop, its dir removed.
pub struct Server {
    /// What it is, for messages.
    pub name: &'static str,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its port.
    pub port: u16,
    child: Child,
    dir: TempDir,
}

impl Server {
    /// Start `program` with the args `args(dir, port)` gives, in a fresh
    /// temp dir, and wait until `GET /-/ready` answers 200. Retries on a
    /// fresh port if the process dies (a port taken in between).
    pub async fn start(
        name: &'static str,
        program: &str,
        setup: impl Fn(&Path, u16) -> Vec<String>,
    ) -> Server {
        let mut last_log = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("temp dir");
            let port = free_port();
            let args = setup(dir.path(), port);
            let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
            let child = Command::new(program)
                .args(&args)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log clone"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| not_installed(program, e));
            let mut server = Server { name, url: format!("http://127.0.0.1:{port}"), port, child, dir };
            if server.wait_ready().await {
                return server;
            }
            last_log = server.log();
        }
        panic!("{name} did not become ready; its log:\n{last_log}");
    }

    async fn wait_ready(&mut self) -> bool {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(1)).build().expect("client");
        let until = Instant::now() + READY_DEADLINE;
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false; // exited: most likely the port was taken
            }
            let ready = client.get(format!("{}/-/ready", self.url)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// The server's temp dir.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Alertmanager 0.25 with one do-nothing receiver.
pub struct Alertmanager(pub Server);

impl Alertmanager {
    /// Start one and wait until it is ready.
    pub async fn start() -> Alertmanager {
        let server = Server::start("alertmanager", "prometheus-alertmanager", |dir, port| {
            let config = dir.join("am.yml");
            std::fs::write(
                &config,
                "route:\n  receiver: \"null\"\n  group_wait: 1s\nreceivers:\n  - name: \"null\"\n",
            )
            .expect("write am.yml");
            vec![
                format!("--config.file={}", config.display()),
                format!("--storage.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                // Empty: otherwise it also binds 0.0.0.0:9094 for clustering.
                "--cluster.listen-address=".into(),
            ]
        })
        .await;
        Alertmanager(server)
    }

    /// Its base URL.
    pub fn url(&self) -> &str {
        &self.0.url
    }

    /// `POST /api/v2/alerts` with a JSON array of postable alerts.
    pub async fn post_alerts(&self, alerts: &serde_json::Value) {
        let resp = reqwest::Client::new()
            .post(format!("{}/api/v2/alerts", self.url()))
            .json(alerts)
            .send()
            .await
            .expect("post alerts");
        assert!(resp.status().is_success(), "posting alerts: {}", resp.status());
    }

    /// Ids of the silences (any state) with this comment, read directly.
    pub async fn silence_ids_with_comment(&self, comment: &str) -> Vec<String> {
        let all = self.get_json("/api/v2/silences").await;
        let all = all.as_array().expect("a list of silences");
        all.iter()
            .filter(|s| s["comment"] == comment)
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect()
    }

    /// `GET path` as JSON, for checks that bypass opsdeck's own client.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let resp = reqwest::get(format!("{}{path}", self.url())).await.expect("get");
        resp.json().await.expect("json")
    }
}

/// Prometheus 2.42 evaluating `rules_yaml` every second, sending its alerts
/// to an Alertmanager if given one.
pub struct Prometheus(pub Server);

impl Prometheus {
    /// Start one and wait until it is ready.
    pub async fn start(rules_yaml: &str, alertmanager_url: Option<&str>) -> Prometheus {
        let target =
            alertmanager_url.map(|u| u.trim_start_matches("http://").trim_end_matches('/').to_owned());
        let rules_yaml = rules_yaml.to_owned();
        let server = Server::start("prometheus", "prometheus", move |dir, port| {
            let rules = dir.join("rules.yml");
            std::fs::write(&rules, &rules_yaml).expect("write rules");
            let mut config = format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\n",
                rules.display()
            );
            if let Some(t) = &target {
                config.push_str(&format!(
                    "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [\"{t}\"]\n"
                ));
            }
            let config_path = dir.join("prometheus.yml");
            std::fs::write(&config_path, config).expect("write prometheus.yml");
            vec![
                format!("--config.file={}", config_path.display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--web.enable-lifecycle".into(),
                // Without it a firing alert reaches Alertmanager after ≈ 48 s.
                "--rules.alert.resend-delay=1s".into(),
            ]
        })
        .await;
        Prometheus(server)
    }

    /// Its base URL.
    pub fn url(&self) -> &str {
        &self.0.url
    }
}

impl Prometheus {
    /// Prometheus 2.42 scraping `targets` (`host:port`, each served at
    /// `/metrics`) every second as job `job`, with no rules.
    pub async fn start_scraping(job: &str, targets: &[String]) -> Prometheus {
        let quoted: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: \"{job}\"\n    \
             static_configs:\n      - targets: [{}]\n",
            quoted.join(", ")
        );
        Prometheus::start_with(config).await
    }

    /// Prometheus 2.42 with `config` as its prometheus.yml and no rules.
    pub async fn start_with(config: String) -> Prometheus {
        let server = Server::start("prometheus", "prometheus", move |dir, port| {
            let config_path = dir.join("prometheus.yml");
            std::fs::write(&config_path, &config).expect("write prometheus.yml");
            vec![
                format!("--config.file={}", config_path.display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
            ]
        })
        .await;
        Prometheus(server)
    }
}

/// A file in a fresh temp dir, for secrets and CA files.
pub fn temp_file(name: &str, content: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, content).expect("write temp file");
    (dir, path)
}

/// A CA and a server certificate for IP 127.0.0.1 signed by it (P-256 keys:
/// generated in milliseconds): `ca.crt`, `server.crt` and `server.key` in `dir`.
pub fn write_certificates(dir: &Path) {
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
        .expect("write server.ext");
    let key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    openssl(&format!("req -x509 {key} -days 2 -subj /CN=od-test-ca -keyout ca.key -out ca.crt"), dir);
    openssl(&format!("req {key} -subj /CN=127.0.0.1 -keyout server.key -out server.csr"), dir);
    openssl(
        "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
         -out server.crt",
        dir,
    );
}

/// `openssl <args>` (split on spaces) run in `dir`.
fn openssl(args: &str, dir: &Path) {
    let out = Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| not_installed("openssl", e));
    assert!(out.status.success(), "openssl {args}: {}", String::from_utf8_lossy(&out.stderr));
}
