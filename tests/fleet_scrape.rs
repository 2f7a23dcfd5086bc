//! `[[nodes]]` scraped directly: a real node_exporter (two scrapes give
//! rates), the hand-rolled server for what a wrong URL answers, and a port
//! nobody listens on. Everything on loopback.

mod backends;

use std::time::{Duration, Instant, SystemTime};

use backends::fake_http::{FakeServer, Reply};
use backends::free_port;
use backends::node_exporter::NodeExporter;
use opsdeck::config::fleet::NodeTarget;
use opsdeck::sources::fleet::{self, FleetReport, MEASURING, Scraper};
use opsdeck::sources::{Payload, Update};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const DEADLINE: Duration = Duration::from_secs(20);

fn target(url: &str, extra: &str) -> NodeTarget {
    #[derive(serde::Deserialize)]
    struct Wrapper {
        nodes: Vec<NodeTarget>,
    }
    let src = format!("[[nodes]]\nname = \"db1\"\nurl = \"{url}\"\ntimeout = \"2s\"\n{extra}\n");
    toml::from_str::<Wrapper>(&src).expect("a valid [[nodes]] entry").nodes.remove(0)
}

async fn scrape_once(url: &str) -> FleetReport {
    Scraper::new(target(url, "")).scrape().await.expect("a report")
}

#[tokio::test]
async fn two_scrapes_of_a_real_exporter_give_rates() {
    let exporter = NodeExporter::start().await;
    let mut scraper = Scraper::new(target(exporter.url(), ""));
    let first = scraper.scrape().await.expect("a report");
    assert_eq!(
        (first.origin.as_str(), first.warnings.as_slice()),
        ("db1", [MEASURING.to_owned()].as_slice())
    );
    let n = &first.nodes[0];
    assert_eq!(n.instance, format!("127.0.0.1:{}", exporter.port()));
    assert_eq!((n.up, n.cpu_percent, n.rx_bytes_per_sec, n.tx_bytes_per_sec), (Some(true), None, None, None));
    let memory = n.memory_percent.expect("memory");
    assert!(memory > 0.0 && memory < 100.0, "{n:?}");
    assert!((0.0..=100.0).contains(&n.filesystem_percent.expect("a filesystem")), "{n:?}");
    assert!(n.load1.expect("load") >= 0.0, "{n:?}");
    let age = SystemTime::now().duration_since(n.scraped_at.expect("scraped")).unwrap_or_default();
    assert!(age < Duration::from_secs(5), "{n:?}");

    // CPU seconds tick in hundredths: scrape until some passed between two.
    let until = Instant::now() + DEADLINE;
    let second = loop {
        let r = scraper.scrape().await.expect("a report");
        if r.nodes[0].cpu_percent.is_some() {
            break r;
        }
        assert!(Instant::now() < until, "no CPU rate within {DEADLINE:?}: {r:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let n = &second.nodes[0];
    assert!(second.warnings.is_empty(), "{:?}", second.warnings);
    assert!((0.0..=100.0).contains(&n.cpu_percent.unwrap()), "{n:?}");
    assert!(n.rx_bytes_per_sec.expect("rx") >= 0.0 && n.tx_bytes_per_sec.expect("tx") >= 0.0, "{n:?}");

    // The same through the poller: updates named after the entry, rates from the second on.
    let (tx, mut rx) = mpsc::channel::<Update>(8);
    let cancel = CancellationToken::new();
    let name = fleet::spawn_node(target(exporter.url(), "interval = \"200ms\""), tx, cancel.clone());
    assert_eq!(name, "node db1");
    let mut reports = Vec::new();
    while reports.len() < 3 {
        let update = tokio::time::timeout(DEADLINE, rx.recv()).await.expect("an update").expect("open");
        match update.result {
            Ok(Payload::Fleet(r)) => reports.push(r),
            other => panic!("expected a fleet report, got {other:?}"),
        }
    }
    cancel.cancel();
    assert_eq!(reports[0].warnings, [MEASURING]);
    assert!(reports[1..].iter().all(|r| r.warnings.is_empty() && r.nodes[0].up == Some(true)), "{reports:?}");
}

fn down(r: &FleetReport) -> &str {
    assert_eq!(r.nodes.len(), 1, "{r:?}");
    assert_eq!(r.nodes[0].up, Some(false), "{r:?}");
    assert_eq!(r.nodes[0].cpu_percent, None);
    r.warnings.first().expect("why it is down")
}

#[tokio::test]
async fn a_wrong_url_says_what_it_answered() {
    let text = |body: &str| Reply::Respond {
        status: 200,
        content_type: "text/plain; version=0.0.4".into(),
        body: body.into(),
    };
    let garbage = FakeServer::answering(text("hello world\n")).await;
    let r = scrape_once(&format!("{}/metrics", garbage.url)).await;
    assert_eq!(
        down(&r),
        "/metrics is not the Prometheus text format: line 1: hello: value \"world\" is not a number"
    );
    let json = FakeServer::answering(text("# HELP x\n{\"status\":\"success\"}\n")).await;
    let why = down(&scrape_once(&json.url).await).to_owned();
    assert!(
        why.starts_with("/metrics is not the Prometheus text format: line 2: expected a metric name"),
        "{why}"
    );

    let landing = FakeServer::answering(Reply::html(200, "<html><title>Node Exporter</title></html>")).await;
    let r = scrape_once(&format!("{}/metrics", landing.url)).await;
    assert_eq!(
        down(&r),
        "/metrics answered an HTML page titled \"Node Exporter\", not metrics: is the URL the exporter's /metrics?"
    );
    let missing = FakeServer::answering(Reply::Respond {
        status: 404,
        content_type: "text/plain".into(),
        body: "404 page not found".into(),
    })
    .await;
    let r = scrape_once(&format!("{}/metricz", missing.url)).await;
    assert_eq!(down(&r), "HTTP 404 Not Found from /metricz: 404 page not found");

    // Valid text from some other exporter: up, but no node values, and said so.
    let other =
        FakeServer::answering(text("# TYPE http_requests_total counter\nhttp_requests_total 5\n")).await;
    let r = scrape_once(&other.url).await;
    assert_eq!(r.nodes[0].up, Some(true));
    assert!(r.warnings[0].contains("has no node_exporter series"), "{:?}", r.warnings);
}

#[tokio::test]
async fn a_closed_port_is_a_down_node_not_a_failed_source() {
    let port = free_port();
    let (tx, mut rx) = mpsc::channel::<Update>(2);
    let cancel = CancellationToken::new();
    fleet::spawn_node(target(&format!("http://127.0.0.1:{port}/metrics"), ""), tx, cancel.clone());
    let update = tokio::time::timeout(DEADLINE, rx.recv()).await.expect("an update").expect("open");
    cancel.cancel();
    let Ok(Payload::Fleet(r)) = update.result else { panic!("a down node is data: {:?}", update.result) };
    let why = down(&r);
    assert!(why.contains("connection refused by 127.0.0.1:") && why.contains(&port.to_string()), "{why}");
    assert_eq!((r.nodes[0].scraped_at, r.nodes[0].instance.clone()), (None, format!("127.0.0.1:{port}")));
    assert_eq!(r.nodes[0].down_reason.as_deref(), Some(why), "the row carries why it is down");

    // A secret that cannot be read is the source's error, not the node's.
    let url = format!("http://127.0.0.1:{port}/metrics");
    let broken = target(&url, "bearer_token_file = \"/nonexistent/opsdeck-token\"");
    let err = Scraper::new(broken).scrape().await.unwrap_err();
    assert!(err.starts_with("db1: bearer token:"), "{err}");
}
