//! `[[health]]` probes against real servers: Prometheus 2.42 and Alertmanager
//! 0.25 (their own `/-/healthy` and `/-/ready`), `openssl s_server` for TLS,
//! and the hand-rolled HTTP server for the answers real ones will not give on
//! demand (503, wrong bodies, slow, hung, huge). Everything on loopback.

mod backends;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use backends::fake_http::{FakeServer, Reply};
use backends::{Alertmanager, Prometheus, free_port, temp_file, wait_for};
use opsdeck::config::health_checks::HealthCheck;
use opsdeck::sources::health_checks::{self, HealthReport, Outcome, Prober, Verdict};
use opsdeck::sources::{Payload, Update};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const DEADLINE: Duration = Duration::from_secs(20);
const SECRET: &str = "s3cret";
/// base64("opsdeck:s3cret"): what basic auth puts on the wire.
const BASIC: &str = "b3BzZGVjazpzM2NyZXQ=";

/// One `[[health]]` entry named `api` for `url`, with `extra` lines.
fn check(url: &str, extra: &str) -> HealthCheck {
    #[derive(serde::Deserialize)]
    struct Wrapper {
        health: Vec<HealthCheck>,
    }
    let src = format!("[[health]]\nname = \"api\"\nurl = \"{url}\"\n{extra}\n");
    toml::from_str::<Wrapper>(&src).expect("a valid [[health]] entry").health.remove(0)
}

async fn probe(url: &str, extra: &str) -> Outcome {
    Prober::new(&check(url, extra)).await.expect("prober").probe().await
}

fn down(o: &Outcome) -> &str {
    match &o.verdict {
        Verdict::Down(why) => why,
        other => panic!("expected down, got {other:?} in {o:?}"),
    }
}

#[tokio::test]
async fn prometheus_healthy_and_ready_are_up() {
    let prom = Prometheus::start("groups: []\n", None).await;
    let o = probe(&format!("{}/-/healthy", prom.url()), "body_contains = \"Healthy\"").await;
    assert_eq!((o.status, &o.verdict), (Some(200), &Verdict::Up), "{o:?}");
    assert!(o.latency > Duration::ZERO && o.latency < Duration::from_secs(5), "{o:?}");
    let o = probe(&format!("{}/-/ready", prom.url()), "method = \"HEAD\"").await;
    assert_eq!((o.status, &o.verdict), (Some(200), &Verdict::Up), "{o:?}");
    // Prometheus redirects `/` to its UI: a redirect is reported, not followed.
    let o = probe(&format!("{}/", prom.url()), "").await;
    assert_eq!(o.status, Some(302));
    let why = down(&o);
    assert!(why.starts_with("302 Found to /") && why.ends_with("graph (expected 2xx)"), "{why}");
    let o = probe(&format!("{}/", prom.url()), "expect_status = [302]").await;
    assert_eq!(o.verdict, Verdict::Up, "{o:?}");
    // https:// to a plain HTTP server that answers the handshake with a 400 page.
    let o = probe(&prom.url().replace("http://", "https://"), "").await;
    assert!(down(&o).contains("does not speak TLS on this port"), "{o:?}");
}

#[tokio::test]
async fn alertmanager_health_and_a_json_field_of_its_status() {
    let am = Alertmanager::start().await;
    let o = probe(&format!("{}/-/healthy", am.url()), "body_contains = \"OK\"").await;
    assert_eq!((o.status, &o.verdict), (Some(200), &Verdict::Up), "{o:?}");
    // Clustering is off in the fixture, and the status API says so.
    let url = format!("{}/api/v2/status", am.url());
    let o = probe(&url, "json_field = \"cluster.status\"\njson_value = \"disabled\"").await;
    assert_eq!(o.verdict, Verdict::Up, "{o:?}");
    let o = probe(&url, "json_field = \"cluster.status\"\njson_value = \"ready\"").await;
    assert_eq!(down(&o), "cluster.status is \"disabled\" (expected \"ready\")");
}

#[tokio::test]
async fn wrong_statuses_are_down_with_the_status_named() {
    let server = FakeServer::answering(Reply::json(503, r#"{"status":"DOWN"}"#)).await;
    let o = probe(&server.url, "").await;
    assert_eq!(o.status, Some(503));
    assert_eq!(down(&o), "503 Service Unavailable (expected 2xx)");

    let server = FakeServer::answering(Reply::json(200, "{}")).await;
    let o = probe(&server.url, "expect_status = [204]").await;
    assert_eq!(down(&o), "200 OK (expected 204)");
    let o = probe(&server.url, "expect_status = [200, 204]").await;
    assert_eq!(o.verdict, Verdict::Up);
}

#[tokio::test]
async fn bodies_and_json_fields() {
    let server = FakeServer::start(|req| async move {
        match req.path.as_str() {
            "/spring" => Reply::json(200, r#"{"status":"UP","components":{"db":{"status":"DOWN"}}}"#),
            "/text" => {
                Reply::Respond { status: 200, content_type: "text/plain".into(), body: "degraded".into() }
            }
            _ => Reply::html(200, "<html><title>Login</title></html>"),
        }
    })
    .await;
    let url = |p: &str| format!("{}{p}", server.url);
    let o = probe(&url("/text"), "body_contains = \"ok\"").await;
    assert_eq!((o.status, down(&o)), (Some(200), "body lacks \"ok\""));
    let o = probe(&url("/text"), "body_contains = \"grad\"").await;
    assert_eq!(o.verdict, Verdict::Up);

    let spring = url("/spring");
    let o = probe(&spring, "json_field = \"status\"\njson_value = \"UP\"").await;
    assert_eq!(o.verdict, Verdict::Up, "{o:?}");
    let o = probe(&spring, "json_field = \"components.db.status\"\njson_value = \"UP\"").await;
    assert_eq!(down(&o), "components.db.status is \"DOWN\" (expected \"UP\")");
    let o = probe(&spring, "json_field = \"components.disk.status\"\njson_value = \"UP\"").await;
    assert_eq!(down(&o), "no field components.disk.status in the JSON answer");
    let o = probe(&url("/login"), "json_field = \"status\"\njson_value = \"UP\"").await;
    assert_eq!(down(&o), "the answer is not JSON");
}

#[tokio::test]
async fn methods_are_sent_as_configured() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let server = FakeServer::start(move |req| {
        let log = log.clone();
        async move {
            let line = format!("{} {} {:?}", req.method, req.path, req.header("user-agent"));
            log.lock().expect("lock").push(line);
            Reply::json(200, "{}")
        }
    })
    .await;
    for method in ["GET", "HEAD", "POST"] {
        let o = probe(&format!("{}/ready", server.url), &format!("method = \"{method}\"")).await;
        assert_eq!(o.verdict, Verdict::Up, "{method}: {o:?}");
    }
    let ua = format!("Some(\"opsdeck/{}\")", env!("CARGO_PKG_VERSION"));
    assert_eq!(*seen.lock().expect("lock"), ["GET", "HEAD", "POST"].map(|m| format!("{m} /ready {ua}")));
}

#[tokio::test]
async fn a_slow_answer_is_slow_and_a_hung_one_times_out() {
    let server = FakeServer::start(|req| async move {
        let wait = if req.path == "/slow" { 700 } else { 10_000 };
        tokio::time::sleep(Duration::from_millis(wait)).await;
        Reply::json(200, "ok")
    })
    .await;
    let o = probe(&format!("{}/slow", server.url), "slow = \"500ms\"\ntimeout = \"5s\"").await;
    assert_eq!((o.status, &o.verdict), (Some(200), &Verdict::Slow), "{o:?}");
    assert!(o.latency >= Duration::from_millis(700), "{o:?}");

    let started = Instant::now();
    let o = probe(&format!("{}/hang", server.url), "slow = \"500ms\"\ntimeout = \"1s\"").await;
    let took = started.elapsed();
    assert_eq!((o.status, down(&o)), (None, "timed out after 1s"));
    assert!(took >= Duration::from_secs(1) && took < Duration::from_millis(1500), "took {took:?}");
}

#[tokio::test]
async fn a_closed_port_is_refused() {
    let o = probe(&format!("http://127.0.0.1:{}/health", free_port()), "").await;
    assert_eq!((o.status, down(&o)), (None, "connection refused"));
}

#[tokio::test]
async fn a_server_hanging_up_on_the_tls_handshake_is_named() {
    // The fake server cannot parse a ClientHello as a request and closes.
    let server = FakeServer::answering(Reply::json(200, "{}")).await;
    let o = probe(&server.url.replace("http://", "https://"), "").await;
    assert!(down(&o).starts_with("TLS handshake failed: the server hung up"), "{o:?}");
}

#[tokio::test]
async fn basic_auth_is_sent_and_never_shown() {
    let server = FakeServer::start(|req| async move {
        match req.header("authorization") {
            Some(v) if v == format!("Basic {BASIC}") => Reply::json(200, "{}"),
            _ => Reply::json(401, "{}"),
        }
    })
    .await;
    let (_dir, good) = temp_file("pw", &format!("{SECRET}\n"));
    let (_dir2, bad) = temp_file("pw", "wrong");
    let auth = |file: &Path| format!("username = \"opsdeck\"\npassword_file = \"{}\"", file.display());
    let prober = Prober::new(&check(&server.url, &auth(&good))).await.expect("prober");
    let o = prober.probe().await;
    assert_eq!(o.verdict, Verdict::Up, "{o:?}");
    let shown = format!("{prober:?} {o:?}");
    assert!(!shown.contains(SECRET) && !shown.contains(BASIC), "{shown}");

    let prober = Prober::new(&check(&server.url, &auth(&bad))).await.expect("prober");
    let o = prober.probe().await;
    assert_eq!(down(&o), "401 Unauthorized (expected 2xx)");
    let shown = format!("{prober:?} {o:?} {}", o.verdict);
    assert!(!shown.contains("wrong") && !shown.contains(SECRET), "{shown}");
}

#[tokio::test]
async fn a_huge_body_is_judged_on_its_first_mebibyte() {
    // 10 MB: the probe reads 1 MiB and hangs up, so `body_contains` sees only
    // that prefix: a marker at the start is found, one at the end is not.
    let server = FakeServer::start(|req| async move {
        let filler = "x".repeat(10 * 1024 * 1024);
        let body = if req.path == "/head" { format!("ok{filler}") } else { format!("{filler}ok") };
        Reply::Respond { status: 200, content_type: "text/plain".into(), body }
    })
    .await;
    let o = probe(&format!("{}/head", server.url), "body_contains = \"ok\"").await;
    assert_eq!(o.verdict, Verdict::Up, "{o:?}");
    let o = probe(&format!("{}/tail", server.url), "body_contains = \"ok\"").await;
    assert_eq!(down(&o), "the body's first 1 MiB lacks \"ok\"");
    let o = probe(&format!("{}/head", server.url), "json_field = \"a\"\njson_value = 1").await;
    assert_eq!(down(&o), "the answer is over 1 MiB, too long to read as JSON");
}

#[tokio::test]
async fn tls_with_and_without_the_ca_file() {
    let tls = TlsServer::start();
    let url = format!("https://127.0.0.1:{}/", tls.port);
    wait_for("openssl s_server", DEADLINE, || async {
        tokio::net::TcpStream::connect(("127.0.0.1", tls.port)).await.ok()
    })
    .await;
    let o = probe(&url, "").await;
    assert_eq!(
        (o.status, down(&o)),
        (None, "TLS: the server's certificate is not signed by a trusted CA (set ca_file?)")
    );
    let with_ca = format!("ca_file = \"{}\"", tls.ca.display());
    let o = wait_for("an answer over TLS", DEADLINE, || async {
        Some(probe(&url, &with_ca).await).filter(|o| o.status.is_some())
    })
    .await;
    assert_eq!((o.status, &o.verdict), (Some(200), &Verdict::Up), "{o:?}");

    let (_dir, not_pem) = temp_file("ca.pem", "not a certificate");
    let err = Prober::new(&check(&url, &format!("ca_file = \"{}\"", not_pem.display()))).await.unwrap_err();
    assert!(err.contains("holds no certificate") || err.contains("is not PEM"), "{err}");
}

#[tokio::test]
async fn spawn_reports_each_interval_and_stops_when_cancelled() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let server = FakeServer::start(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { Reply::json(200, r#"{"status":"UP"}"#) }
    })
    .await;
    let c = check(&server.url, "interval = \"200ms\"\njson_field = \"status\"\njson_value = \"UP\"");
    let (tx, mut rx) = mpsc::channel::<Update>(16);
    let cancel = CancellationToken::new();
    let name = health_checks::spawn(c, tx, cancel.clone());
    assert_eq!(name, "health api");
    for _ in 0..2 {
        let update = tokio::time::timeout(DEADLINE, rx.recv()).await.expect("an update").expect("open");
        assert_eq!(update.source, "health api");
        match update.result {
            Ok(Payload::HealthCheck(HealthReport { name, outcome })) => {
                assert_eq!(
                    (name.as_str(), outcome.status, &outcome.verdict),
                    ("api", Some(200), &Verdict::Up)
                );
            }
            other => panic!("expected a health report, got {other:?}"),
        }
    }
    cancel.cancel();
    let closed = tokio::time::timeout(DEADLINE, async { while rx.recv().await.is_some() {} }).await;
    // Only the task held the sender: a closed channel means it has ended.
    assert!(closed.is_ok(), "the task did not stop");
    assert!(hits.load(Ordering::SeqCst) >= 2);
}

#[tokio::test]
async fn spawn_reports_a_check_that_cannot_run_as_an_error_and_retries() {
    let c = check("http://127.0.0.1:9/health", "interval = \"100ms\"\nca_file = \"/nonexistent/ca.pem\"");
    let (tx, mut rx) = mpsc::channel::<Update>(16);
    let cancel = CancellationToken::new();
    health_checks::spawn(c, tx, cancel.clone());
    for _ in 0..2 {
        let update = tokio::time::timeout(DEADLINE, rx.recv()).await.expect("an update").expect("open");
        let err = update.result.expect_err("no prober, no report");
        assert!(err.starts_with("api: cannot read ca_file /nonexistent/ca.pem"), "{err}");
    }
    cancel.cancel();
}

/// `openssl s_server -www` with a certificate for 127.0.0.1 signed by a
/// throwaway CA; killed on drop.
struct TlsServer {
    port: u16,
    ca: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl TlsServer {
    fn start() -> TlsServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        backends::write_certificates(d);
        let port = free_port();
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept", &format!("127.0.0.1:{port}")])
            .args(["-cert", "server.crt", "-key", "server.key"])
            .current_dir(d)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start openssl s_server");
        TlsServer { port, ca: d.join("ca.crt"), child, _dir: dir }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
