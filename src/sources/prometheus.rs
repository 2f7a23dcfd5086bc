//! Prometheus `/api/v1/alerts`: the alerts its rules hold, pending and
//! firing. They get the same fingerprint Alertmanager gives the same label
//! set, so an alert seen through both is one row in the queue.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::http::{Endpoint, FetchError, PollError, parse_json};
use super::{AlertBatch, Update};
use crate::alerts::model::{self, Alert, AlertState, Severity, SourceKind};
use crate::alerts::severity::SeverityMap;
use crate::config::sources::HttpSource;

/// The alerts endpoint.
pub const ALERTS_PATH: &str = "/api/v1/alerts";

/// Prometheus's response envelope, for success and error alike.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    status: String,
    data: Option<AlertsData>,
    error_type: Option<String>,
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct AlertsData {
    alerts: Vec<WireAlert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAlert {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    state: String,
    active_at: Option<String>,
    value: Option<String>,
}

fn to_alert(source_name: &str, w: WireAlert) -> Alert {
    let state = match w.state.as_str() {
        "pending" => AlertState::Pending,
        "inactive" => AlertState::Resolved,
        // "firing", and anything newer: never hide an alert we do not understand.
        _ => AlertState::Firing,
    };
    Alert {
        source: source_name.to_owned(),
        source_kind: SourceKind::Prometheus,
        fingerprint: model::fingerprint(&w.labels),
        name: w.labels.get("alertname").cloned().unwrap_or_default(),
        severity: Severity::Unknown,
        state,
        starts_at: w.active_at.and_then(|s| s.parse().ok()),
        ends_at: None,
        value: w.value,
        generator_url: None,
        silenced_by: Vec::new(),
        inhibited_by: Vec::new(),
        seen_by: vec![source_name.to_owned()],
        labels: w.labels.into(),
        annotations: w.annotations.into(),
    }
}

/// `status: "error"` as one line, with any warnings.
fn envelope_error(env: &Envelope) -> String {
    let mut msg = format!(
        "Prometheus error {}: {}",
        env.error_type.as_deref().unwrap_or("unknown"),
        env.error.as_deref().unwrap_or("no message")
    );
    for w in &env.warnings {
        msg.push_str(&format!(" (warning: {w})"));
    }
    msg
}

/// Parse a 2xx body of `/api/v1/alerts` into alerts and the server's warnings.
pub fn parse_alerts(source_name: &str, body: &[u8]) -> Result<(Vec<Alert>, Vec<String>), PollError> {
    let env: Envelope = parse_json(ALERTS_PATH, body)?;
    if env.status != "success" {
        return Err(PollError { message: envelope_error(&env), reauth: false });
    }
    let Some(data) = env.data else {
        return Err(PollError { message: "Prometheus answered success without data".into(), reauth: false });
    };
    Ok((data.alerts.into_iter().map(|w| to_alert(source_name, w)).collect(), env.warnings))
}

/// An error status whose body is Prometheus's JSON envelope reads as its
/// `errorType: error`; anything else as the plain HTTP error.
fn prom_error(e: FetchError) -> PollError {
    if let FetchError::Status { status, path, body, .. } = &e
        && let Ok(env) = serde_json::from_str::<Envelope>(body)
        && env.status == "error"
    {
        let message = format!("HTTP {status} from {path}: {}", envelope_error(&env));
        return PollError { message, reauth: PollError::from(e).reauth };
    }
    PollError::from(e)
}

/// Poll once.
pub async fn poll(endpoint: &Endpoint, source_name: &str) -> Result<AlertBatch, PollError> {
    let body = endpoint.request(Method::GET, ALERTS_PATH, None::<&()>).await.map_err(prom_error)?;
    let (alerts, warnings) = parse_alerts(source_name, &body)?;
    Ok(AlertBatch {
        source_name: source_name.to_owned(),
        kind: SourceKind::Prometheus,
        alerts,
        silences: Vec::new(),
        warnings,
    })
}

/// Start polling `source` every `source.interval`; returns the name its updates carry.
pub fn spawn(
    source: HttpSource,
    severities: SeverityMap,
    tx: mpsc::Sender<Update>,
    cancel: CancellationToken,
) -> &'static str {
    super::spawn_alert_source(source, severities, tx, cancel, |ep, name| async move { poll(&ep, name).await })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_and_firing_with_value_and_fingerprint() {
        let body = r#"{"status":"success","data":{"alerts":[
            {"labels":{"alertname":"Always","severity":"warning"},"annotations":{"summary":"on"},
             "state":"pending","activeAt":"2026-11-22T21:17:21.071389056Z","value":"1e+00"},
            {"labels":{"alertname":"B"},"state":"firing","activeAt":"2026-11-22T21:17:21Z","value":"3"}]},
            "warnings":["partial data"]}"#;
        let (alerts, warnings) = parse_alerts("prom", body.as_bytes()).unwrap();
        assert_eq!(warnings, ["partial data"]);
        assert_eq!((alerts[0].state, alerts[1].state), (AlertState::Pending, AlertState::Firing));
        assert_eq!(alerts[0].value.as_deref(), Some("1e+00"));
        assert_eq!(alerts[0].fingerprint, model::fingerprint(&alerts[0].labels));
        assert_eq!(alerts[0].starts_at.unwrap().to_string(), "2026-11-22T21:17:21.071389056Z");
        assert_eq!(
            (alerts[0].source_kind, alerts[0].seen_by.as_slice()),
            (SourceKind::Prometheus, &["prom".to_owned()][..])
        );
    }

    #[test]
    fn error_envelopes() {
        let body = r#"{"status":"error","errorType":"timeout","error":"query timed out","warnings":["w1"]}"#;
        let err = parse_alerts("prom", body.as_bytes()).unwrap_err();
        assert_eq!(err.message, "Prometheus error timeout: query timed out (warning: w1)");
        let status = FetchError::Status {
            status: reqwest::StatusCode::SERVICE_UNAVAILABLE,
            path: ALERTS_PATH.into(),
            detail: "x".into(),
            body: r#"{"status":"error","errorType":"unavailable","error":"TSDB not ready"}"#.into(),
        };
        assert_eq!(
            prom_error(status).message,
            "HTTP 503 Service Unavailable from /api/v1/alerts: Prometheus error unavailable: TSDB not ready"
        );
    }
}
