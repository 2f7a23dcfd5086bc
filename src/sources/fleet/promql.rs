//! The node table from a Prometheus (or Thanos, Mimir: the same query API):
//! one instant query per metric for every node at once, run concurrently and
//! joined on the instance label, so a poll costs the same 8 requests for 10
//! nodes or 1,000. One metric's query failing blanks that column and says
//! why; only all of them failing fails the poll. History for one node comes
//! is in `history`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{FleetNode, FleetReport};
use crate::config::fleet::FleetConfig;
use crate::config::sources::HttpSource;
use crate::sources::http::{Endpoint, FetchError, PollError, one_line, parse_json, spawn_poller};
use crate::sources::{Payload, Update, leak_name};

const QUERY_PATH: &str = "/api/v1/query";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    status: String,
    data: Option<Data>,
    error_type: Option<String>,
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    result_type: String,
    result: serde_json::Value,
}

/// A sample as the API writes it: unix seconds and the value as a string.
pub(super) type WirePoint = (f64, String);

/// One series of a vector (`value`) or a matrix (`values`); values are strings.
#[derive(Deserialize)]
pub(super) struct Series<V> {
    #[serde(default)]
    pub(super) metric: BTreeMap<String, String>,
    #[serde(alias = "values")]
    pub(super) value: V,
}

/// A query's answer: its data of the expected `resultType`, and Prometheus's warnings.
pub(super) async fn query<T: DeserializeOwned>(
    endpoint: &Endpoint,
    path: &str,
    params: &[(&str, &str)],
    want: &str,
) -> Result<(T, Vec<String>), PollError> {
    let qs: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
    let body = endpoint
        .request(Method::GET, &format!("{path}?{}", qs.join("&")), None::<&()>)
        .await
        .map_err(|e| prom_error(e, path))?;
    let env: Envelope = parse_json(path, &body)?;
    if env.status != "success" {
        return Err(PollError { message: envelope_error(&env), reauth: false });
    }
    let data = env.data.ok_or_else(|| plain(format!("{path} answered success without data")))?;
    if data.result_type != want {
        return Err(plain(format!("the query gives a {}, not an instant {want}", data.result_type)));
    }
    let result = serde_json::from_value(data.result)
        .map_err(|e| plain(format!("unexpected {want} from {path}: {e}")))?;
    Ok((result, env.warnings))
}

pub(super) fn plain(message: String) -> PollError {
    PollError { message, reauth: false }
}

fn envelope_error(env: &Envelope) -> String {
    format!(
        "Prometheus error {}: {}",
        env.error_type.as_deref().unwrap_or("unknown"),
        env.error.as_deref().unwrap_or("no message")
    )
}

/// A failed request with the API path (not the whole query string) in its
/// message, and Prometheus's own `errorType: error` when its body has one.
fn prom_error(mut e: FetchError, api_path: &str) -> PollError {
    if let FetchError::Status { path, .. }
    | FetchError::Html { path, .. }
    | FetchError::Json { path, .. }
    | FetchError::TooLarge { path } = &mut e
    {
        api_path.clone_into(path);
    }
    if let FetchError::Status { status, body, .. } = &e
        && let Ok(env) = serde_json::from_str::<Envelope>(body)
        && env.status == "error"
    {
        let message = format!("HTTP {status} from {api_path}: {}", envelope_error(&env));
        return PollError { message, reauth: PollError::from(e).reauth };
    }
    PollError::from(e)
}

/// Percent-encode a query parameter (everything but RFC 3986's unreserved characters).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A value as Prometheus writes it; `NaN` and infinities are no value.
pub(super) fn number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Run `promql` as an instant query: each series' labels and value.
pub async fn instant_vector(
    endpoint: &Endpoint,
    promql: &str,
) -> Result<(Vec<(BTreeMap<String, String>, Option<f64>)>, Vec<String>), PollError> {
    let (series, warnings): (Vec<Series<WirePoint>>, _) =
        query(endpoint, QUERY_PATH, &[("query", promql)], "vector").await?;
    Ok((series.into_iter().map(|s| (s.metric, number(&s.value.1))).collect(), warnings))
}

/// The columns, in the order their failures are reported.
const COLUMNS: [&str; 8] = [
    "cpu_percent",
    "memory_percent",
    "filesystem_percent",
    "load1",
    "network_rx_bytes",
    "network_tx_bytes",
    "up",
    "scrape time",
];

/// Poll one Prometheus for the whole node table.
pub async fn poll(endpoint: &Endpoint, config: &FleetConfig, origin: &str) -> Result<FleetReport, PollError> {
    let q = &config.queries;
    // The up series' own timestamp is the last scrape's time.
    let scraped = format!("timestamp({})", q.up);
    let promql = [
        &q.cpu_percent,
        &q.memory_percent,
        &q.filesystem_percent,
        &q.load1,
        &q.network_rx_bytes,
        &q.network_tx_bytes,
        &q.up,
        &scraped,
    ];
    let answers = futures::future::join_all(promql.iter().map(|p| instant_vector(endpoint, p))).await;
    let label = &config.instance_label;
    let mut nodes: BTreeMap<String, FleetNode> = BTreeMap::new();
    let (mut warnings, mut errors) = (Vec::new(), Vec::new());
    for (column, answer) in COLUMNS.into_iter().zip(answers) {
        let (series, prom_warnings) = match answer {
            Ok(a) => a,
            Err(e) => {
                // A broken up query is reported once, not again for its timestamp.
                if column != "scrape time" || errors.iter().all(|(c, _)| *c != "up") {
                    warnings.push(format!("{column} query failed: {e}"));
                }
                errors.push((column, e));
                continue;
            }
        };
        warnings.extend(prom_warnings.into_iter().map(|w| format!("Prometheus warning: {w}")));
        let (mut unlabelled, mut repeated) = (0, false);
        for (labels, value) in series {
            let Some(instance) = labels.get(label) else {
                unlabelled += 1;
                continue;
            };
            let node = nodes.entry(instance.clone()).or_insert_with(|| FleetNode {
                instance: instance.clone(),
                origin: origin.to_owned(),
                ..FleetNode::default()
            });
            repeated |= set(node, column, value);
        }
        if unlabelled > 0 {
            warnings.push(format!(
                "{column}: {unlabelled} series without an {label} label (aggregate by {label})"
            ));
        }
        if repeated {
            warnings.push(format!(
                "{column}: several series per {label} (aggregate by {label}); the highest is shown"
            ));
        }
    }
    // The scrape time alone is no column: all the others failing fails the poll.
    if errors.iter().filter(|(c, _)| *c != "scrape time").count() == COLUMNS.len() - 1 {
        return Err(all_failed(errors));
    }
    if nodes.is_empty() {
        warnings.push(format!(
            "no nodes: no query gave a series with an {label} label (is node_exporter scraped?)"
        ));
    }
    warnings.dedup();
    if nodes.values().any(|n| n.up == Some(false)) {
        // Best effort: Thanos and Mimir have no targets API; the row still says down.
        if let Ok(reasons) = down_reasons(endpoint, label).await {
            for n in nodes.values_mut().filter(|n| n.up == Some(false)) {
                n.down_reason = reasons.get(&n.instance).cloned();
            }
        }
    }
    Ok(FleetReport { origin: origin.to_owned(), nodes: nodes.into_values().collect(), warnings })
}

/// `/api/v1/targets`, as far as a down node's row needs it.
#[derive(Deserialize)]
struct TargetsEnvelope {
    data: TargetsData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TargetsData {
    active_targets: Vec<ActiveTarget>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActiveTarget {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    last_error: String,
}

/// Why each down target is down (`lastError`), by its `label`. Asked only
/// when a node is down: the answer lists every target, large on a big fleet.
async fn down_reasons(endpoint: &Endpoint, label: &str) -> Result<BTreeMap<String, String>, FetchError> {
    let targets: TargetsEnvelope = endpoint.get_json("/api/v1/targets?state=active").await?;
    Ok(targets
        .data
        .active_targets
        .into_iter()
        .filter(|t| !t.last_error.is_empty())
        .filter_map(|t| Some((t.labels.get(label)?.clone(), one_line(&t.last_error))))
        .collect())
}

/// Every metric failed: one error, the shared cause when there is one.
fn all_failed(errors: Vec<(&str, PollError)>) -> PollError {
    let reauth = errors.iter().any(|(_, e)| e.reauth);
    let first = errors.first().map(|(c, e)| (c.to_string(), e.message.clone())).unwrap_or_default();
    let message = if errors.iter().all(|(_, e)| e.message == first.1) {
        first.1
    } else {
        format!("every fleet query failed ({}: {})", first.0, first.1)
    };
    PollError { message, reauth }
}

/// Put one column's value into a row; true when the row already had one
/// (the highest is kept: the table sorts worst-first).
fn set(node: &mut FleetNode, column: &str, value: Option<f64>) -> bool {
    let slot = match column {
        "cpu_percent" => &mut node.cpu_percent,
        "memory_percent" => &mut node.memory_percent,
        "filesystem_percent" => &mut node.filesystem_percent,
        "load1" => &mut node.load1,
        "network_rx_bytes" => &mut node.rx_bytes_per_sec,
        "network_tx_bytes" => &mut node.tx_bytes_per_sec,
        "up" => {
            let again = node.up.is_some();
            node.up = node.up.max(value.map(|v| v >= 1.0));
            return again;
        }
        _ => {
            let at = value.and_then(|s| Duration::try_from_secs_f64(s).ok()).map(|d| UNIX_EPOCH + d);
            let again = node.scraped_at.is_some();
            node.scraped_at = node.scraped_at.max(at);
            return again;
        }
    };
    let again = slot.is_some();
    *slot = match (*slot, value) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    again
}

/// The name the fleet updates of `[[prometheus]]` entry `name` carry (its
/// alerts poller has the bare name).
pub fn source_name(name: &str) -> String {
    format!("fleet {name}")
}

/// Poll `source` for the node table every `[fleet] interval` (backing off
/// while it fails, like every HTTP source); returns the name its updates carry.
pub fn spawn(
    source: HttpSource,
    config: FleetConfig,
    tx: mpsc::Sender<Update>,
    cancel: CancellationToken,
) -> &'static str {
    let name = leak_name(&source_name(&source.name));
    let origin: Arc<str> = Arc::from(source.name.as_str());
    let source = HttpSource { interval: config.interval, ..source };
    let config = Arc::new(config);
    spawn_poller(name, source, tx, cancel, move |ep| {
        let (config, origin) = (Arc::clone(&config), Arc::clone(&origin));
        async move { poll(&ep, &config, &origin).await.map(Payload::Fleet) }
    });
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_join_and_keep_the_worst() {
        let mut node = FleetNode::default();
        assert!(!set(&mut node, "cpu_percent", Some(10.0)));
        assert!(set(&mut node, "cpu_percent", Some(30.0)));
        assert!(set(&mut node, "cpu_percent", None));
        assert_eq!(node.cpu_percent, Some(30.0));
        set(&mut node, "up", Some(0.0));
        assert_eq!(node.up, Some(false));
        set(&mut node, "up", Some(1.0));
        assert_eq!(node.up, Some(true));
        set(&mut node, "scrape time", Some(1_700_000_000.5));
        assert_eq!(node.scraped_at, Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_500)));
        set(&mut node, "scrape time", Some(-1.0));
        assert!(node.scraped_at.is_some());
        assert_eq!((number("NaN"), number("+Inf"), number("1e3")), (None, None, Some(1000.0)));
    }

    #[test]
    fn errors_and_encoding() {
        assert_eq!(encode("up{job=~\"a.*\"} / 2"), "up%7Bjob%3D~%22a.%2A%22%7D%20%2F%202");
        let status = FetchError::Status {
            status: reqwest::StatusCode::BAD_REQUEST,
            path: "/api/v1/query?query=up%7B".into(),
            detail: "x".into(),
            body: r#"{"status":"error","errorType":"bad_data","error":"1:3: parse error: unexpected end"}"#
                .into(),
        };
        assert_eq!(
            prom_error(status, QUERY_PATH).message,
            "HTTP 400 Bad Request from /api/v1/query: Prometheus error bad_data: 1:3: parse error: unexpected end"
        );
        let errors = vec![("cpu_percent", plain("refused".into())), ("load1", plain("refused".into()))];
        assert_eq!(all_failed(errors).message, "refused");
        let errors = vec![("cpu_percent", plain("a".into())), ("load1", plain("b".into()))];
        assert_eq!(all_failed(errors).message, "every fleet query failed (cpu_percent: a)");
    }
}
