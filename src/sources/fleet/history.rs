//! One node's history from a Prometheus: `query_range` with a step computed
//! from the window, so the chart gets at most the points it can draw and
//! Prometheus is never asked for more than its 11,000-points limit.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::promql::{Series, WirePoint, number, plain, query};
use crate::config::fleet::{FleetConfig, FleetQueries};
use crate::config::sources::HttpSource;
use crate::sources::http::{Endpoint, PollError};

/// Prometheus refuses a range query of more points than this per series.
pub const MAX_POINTS: usize = 11_000;
const RANGE_PATH: &str = "/api/v1/query_range";

/// The step of a range query over `window` giving at most `points_wanted`
/// points (and never more than `MAX_POINTS`): both ends are points, so the
/// window is cut into one interval fewer; never under 1 s.
pub fn range_step(window: Duration, points_wanted: usize) -> Duration {
    let intervals = points_wanted.clamp(2, MAX_POINTS) as u128 - 1;
    let step_ms = window.as_millis().div_ceil(intervals);
    Duration::from_millis(u64::try_from(step_ms).unwrap_or(u64::MAX)).max(Duration::from_secs(1))
}

/// `promql` (one node's series) from `start` to `end` as (unix seconds, value)
/// points, at most `points_wanted` of them; gaps and NaN are left out.
pub async fn history(
    endpoint: &Endpoint,
    promql: &str,
    start: SystemTime,
    end: SystemTime,
    points_wanted: usize,
) -> Result<Vec<(f64, f64)>, PollError> {
    let ms = |t: SystemTime| t.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let (start_ms, end_ms) = (ms(start), ms(end));
    if end_ms <= start_ms {
        return Err(plain("the history window ends before it starts".into()));
    }
    let window = end_ms - start_ms;
    let step = range_step(Duration::from_millis(u64::try_from(window).unwrap_or(u64::MAX)), points_wanted);
    // Prometheus evaluates at start + k * step up to end: start is moved up
    // so the last point falls on `end` itself (the newest value is the one
    // the chart must have), never adding a point.
    let step_ms = step.as_millis().max(1);
    let start_ms = end_ms - window / step_ms * step_ms;
    let secs = |ms: u128| format!("{}.{:03}", ms / 1000, ms % 1000);
    let step_s = secs(step_ms);
    let params = [("query", promql), ("start", &secs(start_ms)), ("end", &secs(end_ms)), ("step", &step_s)];
    let (series, _warnings): (Vec<Series<Vec<WirePoint>>>, _) =
        query(endpoint, RANGE_PATH, &params, "matrix").await?;
    let mut series = series.into_iter();
    let Some(first) = series.next() else { return Ok(Vec::new()) };
    if series.next().is_some() {
        return Err(plain(format!(
            "the history query gives {} series; it needs one node's (see where_instance)",
            series.len() + 2
        )));
    }
    let mut points: Vec<(f64, f64)> =
        first.value.into_iter().filter_map(|(t, v)| Some((t, number(&v)?))).collect();
    let extra = points.len().saturating_sub(points_wanted.max(1));
    points.drain(..extra);
    Ok(points)
}

/// One node's chart series from a Prometheus, as (unix seconds, value).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FleetHistory {
    /// The `[[prometheus]]` entry asked.
    pub origin: String,
    /// The node.
    pub instance: String,
    /// Busy CPU, percent.
    pub cpu: Vec<(f64, f64)>,
    /// Memory in use, percent.
    pub memory: Vec<(f64, f64)>,
    /// The fullest file system, percent.
    pub filesystem: Vec<(f64, f64)>,
    /// 1-minute load.
    pub load: Vec<(f64, f64)>,
    /// Bytes/s received.
    pub rx: Vec<(f64, f64)>,
    /// Bytes/s sent.
    pub tx: Vec<(f64, f64)>,
    /// The queries that failed, one line each (the others still chart).
    pub errors: Vec<String>,
}

/// The name a history answer's update carries.
pub const HISTORY_SOURCE: &str = "fleet history";

/// Points asked per series: more than a wide chart has columns.
pub const HISTORY_POINTS: usize = 600;

/// The node table's queries narrowed to `instance`, over the last `window`,
/// from `source` (the table's own column queries, so the charts and the
/// row agree). One failed query is named in `errors`; all failing is an error.
pub async fn node_history(
    source: &HttpSource,
    config: &FleetConfig,
    instance: &str,
    window: Duration,
) -> Result<FleetHistory, String> {
    let endpoint = Endpoint::connect(source).await?;
    let label = &config.instance_label;
    // The default queries take the node in their selectors (cheap); custom
    // ones are narrowed after the fact (see `where_instance`).
    let narrowed = config.queries == FleetQueries::defaults(label);
    let q = if narrowed { &FleetQueries::defaults_for(label, instance) } else { &config.queries };
    let columns = [
        ("cpu", &q.cpu_percent),
        ("memory", &q.memory_percent),
        ("filesystem", &q.filesystem_percent),
        ("load", &q.load1),
        ("rx", &q.network_rx_bytes),
        ("tx", &q.network_tx_bytes),
    ];
    let end = SystemTime::now();
    let start = end.checked_sub(window).unwrap_or(UNIX_EPOCH);
    let answers = futures::future::join_all(columns.iter().map(|(_, promql)| {
        let promql = if narrowed { (*promql).clone() } else { where_instance(promql, label, instance) };
        let endpoint = &endpoint;
        async move { history(endpoint, &promql, start, end, HISTORY_POINTS).await }
    }))
    .await;
    let mut out = FleetHistory {
        origin: source.name.clone(),
        instance: instance.to_owned(),
        ..FleetHistory::default()
    };
    let mut first_error = None;
    for ((name, _), answer) in columns.iter().zip(answers) {
        let slot = match *name {
            "cpu" => &mut out.cpu,
            "memory" => &mut out.memory,
            "filesystem" => &mut out.filesystem,
            "load" => &mut out.load,
            "rx" => &mut out.rx,
            _ => &mut out.tx,
        };
        match answer {
            Ok(points) => *slot = points,
            Err(e) => {
                first_error.get_or_insert_with(|| e.message.clone());
                out.errors.push(format!("{name} history failed: {e}"));
            }
        }
    }
    match first_error {
        Some(e) if out.errors.len() == columns.len() => Err(e),
        _ => Ok(out),
    }
}

/// `promql` narrowed to the one node whose `label` is `instance`, for
/// `history`: works on any query that keeps the label, aggregated or not.
pub fn where_instance(promql: &str, label: &str, instance: &str) -> String {
    let value = instance.replace('\\', "\\\\").replace('"', "\\\"").replace('$', "$$");
    format!("({promql}) and on ({label}) label_replace(vector(1), \"{label}\", \"{value}\", \"\", \"\")")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_keep_under_the_points_limit() {
        let s = Duration::from_secs;
        // 1 h in 61 points: one a minute.
        assert_eq!(range_step(s(3600), 61), s(60));
        assert_eq!(range_step(s(3600), 60), Duration::from_millis(61_017));
        // Never under a second, however many points are asked for.
        assert_eq!(range_step(s(30), 1000), s(1));
        // A week at the limit: 10,999 intervals of 55 s (rounded up).
        let week = s(7 * 24 * 3600);
        let step = range_step(week, 50_000);
        assert_eq!(step, Duration::from_millis(54_987));
        assert!(week.as_millis() / step.as_millis() < MAX_POINTS as u128);
        // 0 or 1 points wanted: still a valid query.
        assert_eq!(range_step(s(100), 0), s(100));
    }

    #[test]
    fn one_node_of_any_query() {
        assert_eq!(
            where_instance("node_load1", "instance", "a\"b$1"),
            "(node_load1) and on (instance) label_replace(vector(1), \"instance\", \"a\\\"b$$1\", \"\", \"\")"
        );
    }
}
