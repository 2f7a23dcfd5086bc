//! The node table from a real Prometheus 2.42 scraping a real node_exporter
//! twice (as `127.0.0.1:PORT` and `localhost:PORT`: two instances), every
//! second; and the faults a real one will not produce on demand (503, hang,
//! HTML, bad JSON) from the hand-rolled server. Everything on loopback.

mod backends;

use std::time::{Duration, SystemTime};

use backends::fake_http::{FakeServer, Reply};
use backends::node_exporter::NodeExporter;
use backends::{Prometheus, free_port, wait_for};
use opsdeck::config::fleet::FleetConfig;
use opsdeck::config::sources::HttpSource;
use opsdeck::sources::fleet::{self, FleetReport};
use opsdeck::sources::http::Endpoint;
use opsdeck::sources::{Payload, Update};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const DEADLINE: Duration = Duration::from_secs(30);

fn source(url: &str, timeout: &str) -> HttpSource {
    #[derive(serde::Deserialize)]
    struct Wrapper {
        prometheus: Vec<HttpSource>,
    }
    let src = format!("[[prometheus]]\nname = \"prom\"\nurl = \"{url}\"\ntimeout = \"{timeout}\"\n");
    toml::from_str::<Wrapper>(&src).expect("a valid [[prometheus]] entry").prometheus.remove(0)
}

fn fleet_config(body: &str) -> FleetConfig {
    #[derive(serde::Deserialize)]
    struct Wrapper {
        fleet: FleetConfig,
    }
    toml::from_str::<Wrapper>(&format!("[fleet]\n{body}\n")).expect("a valid [fleet]").fleet
}

async fn endpoint(url: &str, timeout: &str) -> Endpoint {
    Endpoint::connect(&source(url, timeout)).await.expect("endpoint")
}

fn complete(r: &FleetReport) -> bool {
    r.nodes.len() == 2
        && r.nodes.iter().all(|n| {
            n.cpu_percent.is_some()
                && n.memory_percent.is_some()
                && n.filesystem_percent.is_some()
                && n.load1.is_some()
                && n.rx_bytes_per_sec.is_some()
                && n.tx_bytes_per_sec.is_some()
                && n.up.is_some()
                && n.scraped_at.is_some()
        })
}

#[tokio::test]
async fn two_instances_with_real_values_broken_queries_and_history() {
    let exporter = NodeExporter::start().await;
    let targets = [format!("127.0.0.1:{}", exporter.port()), format!("localhost:{}", exporter.port())];
    let prom = Prometheus::start_scraping("node", &targets).await;
    let ep = endpoint(prom.url(), "5s").await;
    let config = FleetConfig::default();

    // The rates need two scrapes of each target: poll until every column is in.
    let report = wait_for("both nodes with every column", DEADLINE, || async {
        fleet::poll_prometheus(&ep, &config, "prom").await.ok().filter(complete)
    })
    .await;
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.origin, "prom");
    let instances: Vec<&str> = report.nodes.iter().map(|n| n.instance.as_str()).collect();
    assert_eq!(instances, [targets[0].as_str(), targets[1].as_str()]);
    for n in &report.nodes {
        let cpu = n.cpu_percent.unwrap();
        assert!((0.0..=100.0).contains(&cpu), "{n:?}");
        let memory = n.memory_percent.unwrap();
        assert!(memory > 0.0 && memory < 100.0, "{n:?}");
        assert!((0.0..=100.0).contains(&n.filesystem_percent.unwrap()), "{n:?}");
        assert!(n.load1.unwrap() >= 0.0, "{n:?}");
        assert!(n.rx_bytes_per_sec.unwrap() >= 0.0 && n.tx_bytes_per_sec.unwrap() >= 0.0, "{n:?}");
        assert_eq!((n.up, n.origin.as_str()), (Some(true), "prom"));
        let age = SystemTime::now().duration_since(n.scraped_at.unwrap()).unwrap_or_default();
        assert!(age < Duration::from_secs(10), "scraped {age:?} ago: {n:?}");
    }

    // A broken query blanks its column only, and says why.
    let broken = fleet_config("[fleet.queries]\nload1 = \"max by (instance) (node_load1\"");
    let r = fleet::poll_prometheus(&ep, &broken, "prom").await.expect("the other queries work");
    assert_eq!(r.nodes.len(), 2);
    assert!(r.nodes.iter().all(|n| n.load1.is_none() && n.cpu_percent.is_some() && n.up == Some(true)));
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    let w = &r.warnings[0];
    assert!(
        w.starts_with(
            "load1 query failed: HTTP 400 Bad Request from /api/v1/query: Prometheus error bad_data:"
        ) && w.contains("parse error"),
        "{w}"
    );
    // Every query broken: the poll fails.
    let q = "\"node_load1{\"";
    let all_broken = fleet_config(&format!(
        "[fleet.queries]\ncpu_percent = {q}\nmemory_percent = {q}\nfilesystem_percent = {q}\nload1 = {q}\n\
         network_rx_bytes = {q}\nnetwork_tx_bytes = {q}\nup = {q}"
    ));
    let err = fleet::poll_prometheus(&ep, &all_broken, "prom").await.unwrap_err();
    assert!(err.message.contains("Prometheus error bad_data"), "{err}");

    // History of one node, never more points than asked for.
    let one = fleet::where_instance(&config.queries.load1, "instance", &targets[1]);
    let end = SystemTime::now();
    let start = end - Duration::from_secs(60);
    let points = fleet::history(&ep, &one, start, end, 5).await.expect("history");
    assert!(!points.is_empty() && points.len() <= 5, "{points:?}");
    assert!(points.windows(2).all(|w| w[0].0 < w[1].0), "{points:?}");
    let end_secs = end.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!(
        (end_secs - points[points.len() - 1].0).abs() < 0.01,
        "the newest point is at the end: {points:?}"
    );
    let fine = fleet::history(&ep, &one, start, end, 11_000).await.expect("history at 1 s steps");
    assert!(fine.len() <= 61, "1 s is the finest step: {}", fine.len());
    let both = fleet::history(&ep, &config.queries.load1, start, end, 10).await.unwrap_err();
    assert!(both.message.contains("gives 2 series"), "{both}");

    // The detail view's history: every chart series of one node, from the
    // default queries with the node in their selectors; and from custom
    // queries, narrowed after the fact.
    let window = Duration::from_secs(120);
    let h =
        fleet::node_history(&source(prom.url(), "5s"), &config, &targets[0], window).await.expect("history");
    assert_eq!((h.origin.as_str(), h.instance.as_str()), ("prom", targets[0].as_str()));
    assert!(h.errors.is_empty(), "{:?}", h.errors);
    for (name, series) in
        [("cpu", &h.cpu), ("memory", &h.memory), ("filesystem", &h.filesystem), ("load", &h.load)]
    {
        assert!(!series.is_empty() && series.len() <= fleet::HISTORY_POINTS, "{name}: {series:?}");
    }
    assert!(h.memory.iter().all(|(_, v)| *v > 0.0 && *v < 100.0), "{:?}", h.memory);
    let custom = fleet_config("[fleet.queries]\nload1 = \"max by (instance) (node_load1) * 2\"");
    let h2 =
        fleet::node_history(&source(prom.url(), "5s"), &custom, &targets[1], window).await.expect("history");
    assert!(!h2.load.is_empty() && h2.errors.is_empty(), "{h2:?}");
    let down = fleet::node_history(&source("http://127.0.0.1:9", "1s"), &config, &targets[0], window).await;
    assert!(down.is_err_and(|e| e.contains("refused")), "all queries failing is one error");

    // The poller sends whole reports under its own name.
    let (tx, mut rx) = mpsc::channel::<Update>(4);
    let cancel = CancellationToken::new();
    let name = fleet::spawn_prometheus(source(prom.url(), "5s"), config.clone(), tx, cancel.clone());
    assert_eq!(name, "fleet prom");
    let update = tokio::time::timeout(DEADLINE, rx.recv()).await.expect("an update").expect("open");
    cancel.cancel();
    assert_eq!(update.source, "fleet prom");
    match update.result {
        Ok(Payload::Fleet(r)) => assert_eq!((r.origin.as_str(), r.nodes.len()), ("prom", 2)),
        other => panic!("expected a fleet report, got {other:?}"),
    }
}

#[tokio::test]
async fn prometheus_down_is_one_clear_error() {
    let port = free_port();
    let ep = endpoint(&format!("http://127.0.0.1:{port}"), "2s").await;
    let err = fleet::poll_prometheus(&ep, &FleetConfig::default(), "prom").await.unwrap_err();
    assert_eq!(err.message, format!("connection refused by 127.0.0.1:{port}: is the server running?"));
}

#[tokio::test]
async fn faults_read_as_one_line() {
    let config = FleetConfig::default();
    let unavailable = FakeServer::answering(Reply::json(
        503,
        r#"{"status":"error","errorType":"unavailable","error":"TSDB not ready"}"#,
    ))
    .await;
    let err =
        fleet::poll_prometheus(&endpoint(&unavailable.url, "2s").await, &config, "p").await.unwrap_err();
    assert_eq!(
        err.message,
        "HTTP 503 Service Unavailable from /api/v1/query: Prometheus error unavailable: TSDB not ready"
    );

    let hung = FakeServer::answering(Reply::Hang).await;
    let started = std::time::Instant::now();
    let err = fleet::poll_prometheus(&endpoint(&hung.url, "1s").await, &config, "p").await.unwrap_err();
    assert_eq!(err.message, "no answer in 1s");
    assert!(started.elapsed() < Duration::from_secs(5), "queries run at once: {:?}", started.elapsed());

    let grafana = FakeServer::answering(Reply::html(200, "<html><title>Grafana</title></html>")).await;
    let err = fleet::poll_prometheus(&endpoint(&grafana.url, "2s").await, &config, "p").await.unwrap_err();
    assert!(err.message.contains("answered HTML, not JSON") && err.message.contains("Grafana"), "{err}");

    let garbled = FakeServer::answering(Reply::json(200, "{\"status\":")).await;
    let err = fleet::poll_prometheus(&endpoint(&garbled.url, "2s").await, &config, "p").await.unwrap_err();
    assert!(err.message.starts_with("invalid JSON from /api/v1/query: "), "{err}");

    // A good answer with warnings: the rows, and the warnings once.
    let partial = FakeServer::answering(Reply::json(
        200,
        r#"{"status":"success","warnings":["partial response: store b down"],"data":{"resultType":"vector",
            "result":[{"metric":{"instance":"db1:9100"},"value":[1700000000.5,"1"]}]}}"#,
    ))
    .await;
    let r = fleet::poll_prometheus(&endpoint(&partial.url, "2s").await, &config, "p").await.expect("rows");
    assert_eq!(r.nodes.len(), 1);
    let n = &r.nodes[0];
    assert_eq!((n.instance.as_str(), n.up, n.cpu_percent), ("db1:9100", Some(true), Some(1.0)));
    assert_eq!(r.warnings, ["Prometheus warning: partial response: store b down"]);
}
