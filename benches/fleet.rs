//! The fleet at scale: one real Prometheus 2.42 with 1,000 node instances.
//!
//! - `fleet_poll_round_1000_nodes`: one poll round of the node table (the
//!   8 instant queries, each for every node at once, joined on instance);
//! - `fleet_history_query_range`: one node's CPU history over 1 h in at most
//!   600 points (`query_range` on the default query with the node in its
//!   selector, as the detail view asks).
//!
//! One real node_exporter stands behind all 1,000 nodes: a tiny loopback
//! server answers every scrape with the exporter's text, fetched again once a
//! second (1,000 real exporter scrapes every interval would load the 2-core
//! machine more than Prometheus does). Prometheus relabels targets
//! `node-0001:9100` … to that server, so it holds 1,000 instances' series.
//! The Prometheus has only seconds of samples, so the history figure is a
//! lower bound. (Narrowing with `where_instance` instead, which filters after
//! the aggregation, made every step evaluate the whole fleet: 104 ms against
//! 2.8 ms with the node in the selector.)

#[path = "../tests/backends/mod.rs"]
mod backends;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use backends::Prometheus;
use backends::fake_http::{FakeServer, Reply};
use backends::node_exporter::NodeExporter;
use backends::prometheus_fleet;
use criterion::{Criterion, criterion_group, criterion_main};
use opsdeck::config::fleet::{FleetConfig, FleetQueries};
use opsdeck::config::sources::HttpSource;
use opsdeck::sources::fleet::{self, FleetReport};
use opsdeck::sources::http::Endpoint;

const NODES: usize = 1000;
/// Every node scraped this often: 200 scrapes a second in all.
const SCRAPE_INTERVAL: Duration = Duration::from_secs(5);
/// Prometheus up, every node scraped twice (the CPU rate needs two samples).
const FLEET_DEADLINE: Duration = Duration::from_secs(60);
const HISTORY_WINDOW: Duration = Duration::from_secs(3600);
const HISTORY_POINTS: usize = 600;

async fn endpoint(url: &str) -> Endpoint {
    #[derive(serde::Deserialize)]
    struct Wrapper {
        prometheus: Vec<HttpSource>,
    }
    let src = format!("[[prometheus]]\nname = \"prom\"\nurl = \"{url}\"\ntimeout = \"10s\"\n");
    let source = toml::from_str::<Wrapper>(&src).expect("a valid [[prometheus]] entry").prometheus.remove(0);
    Endpoint::connect(&source).await.expect("endpoint")
}

/// The exporter's `/metrics` text, if it answered with CPU series.
async fn scrape(client: &reqwest::Client, exporter: &str) -> Option<String> {
    let resp = client.get(format!("{exporter}/metrics")).send().await.ok()?;
    let text = resp.error_for_status().ok()?.text().await.ok()?;
    text.contains("node_cpu_seconds_total").then_some(text)
}

/// A loopback server answering every request with the exporter's latest
/// text, and the task that refreshes it once a second.
async fn mirror(exporter: &NodeExporter) -> (FakeServer, tokio::task::JoinHandle<()>) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().expect("client");
    let url = exporter.url().to_owned();
    let first = scrape(&client, &url).await.expect("node_exporter's /metrics with CPU series");
    let latest = Arc::new(RwLock::new(first));
    let refresh = tokio::spawn({
        let latest = Arc::clone(&latest);
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                if let Some(text) = scrape(&client, &url).await {
                    *latest.write().expect("metrics lock") = text;
                }
            }
        }
    });
    let server = FakeServer::start(move |_| {
        let body = latest.read().expect("metrics lock").clone();
        async move {
            Reply::Respond {
                status: 200,
                content_type: "text/plain; version=0.0.4; charset=utf-8".into(),
                body,
            }
        }
    })
    .await;
    (server, refresh)
}

/// Wait until every node is up and has a CPU rate, or panic saying how far it got.
async fn wait_for_fleet(prom: &Prometheus, ep: &Endpoint, config: &FleetConfig) {
    let up_query = format!("count({} == 1)", config.queries.up);
    let until = Instant::now() + FLEET_DEADLINE;
    loop {
        let up = match fleet::instant_vector(ep, &up_query).await {
            Ok((series, _)) => series.first().and_then(|(_, v)| *v).unwrap_or(0.0) as usize,
            Err(_) => 0,
        };
        let cpu = if up == NODES {
            match fleet::instant_vector(ep, &config.queries.cpu_percent).await {
                Ok((series, _)) => series.iter().filter(|(_, v)| v.is_some()).count(),
                Err(_) => 0,
            }
        } else {
            0
        };
        if up == NODES && cpu == NODES {
            return;
        }
        assert!(
            Instant::now() < until,
            "Prometheus did not see the fleet within {FLEET_DEADLINE:?}: {up} of {NODES} nodes up, {cpu} with \
             a CPU rate (needs two scrapes {SCRAPE_INTERVAL:?} apart); its log:\n{}",
            prom.0.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every node has the columns the table sorts by.
fn check(report: &FleetReport) {
    let complete = |n: &&fleet::FleetNode| {
        n.cpu_percent.is_some() && n.memory_percent.is_some() && n.filesystem_percent.is_some()
    };
    let done = report.nodes.iter().filter(complete).count();
    assert!(
        report.nodes.len() == NODES && done == NODES,
        "{} nodes, {done} with cpu, memory and filesystem; warnings: {:?}",
        report.nodes.len(),
        report.warnings
    );
}

fn bench_fleet(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let exporter = rt.block_on(NodeExporter::start());
    let (mirror, refresh) = rt.block_on(mirror(&exporter));
    let target = mirror.url.trim_start_matches("http://").to_owned();
    let prom = rt.block_on(Prometheus::start_fleet(NODES, &target, SCRAPE_INTERVAL));
    let ep = rt.block_on(endpoint(prom.url()));
    let config = FleetConfig::default();
    let started = Instant::now();
    rt.block_on(wait_for_fleet(&prom, &ep, &config));
    eprintln!("fleet of {NODES} nodes ready in {:.1?}", started.elapsed());

    c.bench_function("fleet_poll_round_1000_nodes", |b| {
        b.iter(|| {
            let report = rt.block_on(fleet::poll_prometheus(&ep, &config, "prom")).expect("a poll round");
            check(&report);
            report
        })
    });

    // As the detail view asks: the default query with the node in its selector.
    let one = FleetQueries::defaults_for(&config.instance_label, &prometheus_fleet::instance(1)).cpu_percent;
    c.bench_function("fleet_history_query_range", |b| {
        b.iter(|| {
            let end = SystemTime::now();
            let history = fleet::history(&ep, &one, end - HISTORY_WINDOW, end, HISTORY_POINTS);
            let points = rt.block_on(history).expect("a history");
            assert!(!points.is_empty() && points.len() <= HISTORY_POINTS, "{} points", points.len());
            points
        })
    });

    // Prometheus first, so nothing scrapes a server that is gone.
    drop(prom);
    refresh.abort();
    drop(mirror);
    drop(exporter);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(10));
    targets = bench_fleet
}
criterion_main!(benches);
