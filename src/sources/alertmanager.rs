//! Alertmanager API v2: every alert it holds (silenced, inhibited and
//! unprocessed ones too) and its silences, polled together. Silences
//! themselves (listing, creating without duplicates, expiring) are in `silences`.

mod silences;

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Deserializer};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::http::{Endpoint, FetchError, PollError, parse_json};
use super::{AlertBatch, Update};
use crate::alerts::model::{Alert, AlertState, Severity, SourceKind};
use crate::alerts::severity::SeverityMap;
use crate::config::sources::HttpSource;

pub use silences::{
    Created, NewSilence, SILENCES_PATH, Silence, SilenceMatcher, SilenceState, create_silence,
    expire_silence, list_silences, parse_silences, settle_window, silence_body,
};

/// Every alert, whatever its state (the API's defaults, spelled out).
pub const ALERTS_PATH: &str = "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAlert {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    #[serde(rename = "generatorURL")]
    generator_url: Option<String>,
    fingerprint: String,
    status: WireStatus,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStatus {
    state: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    silenced_by: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    inhibited_by: Vec<String>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// RFC 3339 as the API writes it; Go's zero time means unset.
fn timestamp(s: Option<&str>) -> Option<jiff::Timestamp> {
    s.and_then(|s| s.parse::<jiff::Timestamp>().ok()).filter(|t| t.as_second() > -62_135_596_800)
}

fn to_alert(source_name: &str, w: WireAlert) -> Alert {
    // Silenced wins over inhibited: the silence is the operator's own doing.
    let state = match w.status.state.as_str() {
        "suppressed" if !w.status.silenced_by.is_empty() => AlertState::Silenced,
        "suppressed" if !w.status.inhibited_by.is_empty() => AlertState::Inhibited,
        // active, unprocessed (not yet routed), or suppressed by nothing named.
        _ => AlertState::Firing,
    };
    Alert {
        source: source_name.to_owned(),
        source_kind: SourceKind::Alertmanager,
        fingerprint: w.fingerprint,
        name: w.labels.get("alertname").cloned().unwrap_or_default(),
        severity: Severity::Unknown,
        state,
        starts_at: timestamp(w.starts_at.as_deref()),
        ends_at: timestamp(w.ends_at.as_deref()),
        value: None,
        generator_url: w.generator_url.filter(|u| !u.is_empty()),
        silenced_by: w.status.silenced_by,
        inhibited_by: w.status.inhibited_by,
        seen_by: vec![source_name.to_owned()],
        labels: w.labels.into(),
        annotations: w.annotations.into(),
    }
}

/// Parse the body of `GET /api/v2/alerts`.
pub fn parse_alerts(source_name: &str, body: &[u8]) -> Result<Vec<Alert>, FetchError> {
    let wire: Vec<WireAlert> = parse_json(ALERTS_PATH, body)?;
    Ok(wire.into_iter().map(|w| to_alert(source_name, w)).collect())
}

/// Say what an Alertmanager-specific status means.
fn am_error(e: FetchError) -> PollError {
    let hint = match &e {
        // Alertmanager ≥ 0.27 answers 410 on every removed /api/v1 route.
        FetchError::Status { status, .. } if status.as_u16() == 410 => Some(
            "the URL reaches Alertmanager's removed v1 API: set url to the Alertmanager's base URL, \
             opsdeck adds /api/v2",
        ),
        FetchError::Status { status, path, .. } if status.as_u16() == 404 && path.starts_with("/api/v2/") => {
            Some(
                "no Alertmanager API v2 here: opsdeck needs Alertmanager ≥ 0.16, and url must be its base URL \
             (with --web.route-prefix, if set)",
            )
        }
        _ => None,
    };
    let mut err = PollError::from(e);
    if let Some(hint) = hint {
        err.message = format!("{}: {hint}", err.message);
    }
    err
}

/// Poll once: alerts and silences, fetched side by side.
pub async fn poll(endpoint: &Endpoint, source_name: &str) -> Result<AlertBatch, PollError> {
    let (alerts, silences) =
        tokio::join!(endpoint.request(Method::GET, ALERTS_PATH, None::<&()>), list_silences(endpoint));
    let alerts = alerts.and_then(|body| parse_alerts(source_name, &body)).map_err(am_error)?;
    Ok(AlertBatch {
        source_name: source_name.to_owned(),
        kind: SourceKind::Alertmanager,
        alerts,
        silences: silences.map_err(am_error)?,
        warnings: Vec::new(),
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

    const ALERTS: &str = r#"[
      {"annotations":{"summary":"s"},"endsAt":"2026-11-22T21:21:02.059Z","fingerprint":"a4fbddb589c8ac0c",
       "receivers":[{"name":"null"}],"startsAt":"2026-11-22T21:16:02.059Z",
       "status":{"inhibitedBy":[],"silencedBy":["9ba1"],"state":"suppressed"},
       "updatedAt":"2026-11-22T21:16:02.059Z","generatorURL":"http://gen/x",
       "labels":{"alertname":"X","job":"y"}},
      {"labels":{"alertname":"Y"},"fingerprint":"1","status":{"state":"suppressed","silencedBy":null,"inhibitedBy":["a4fb"]}},
      {"labels":{"alertname":"Z"},"fingerprint":"2","status":{"state":"unprocessed"},"generatorURL":""},
      {"labels":{},"fingerprint":"3","status":{"state":"active","silencedBy":[],"inhibitedBy":[]},
       "startsAt":"0001-01-01T00:00:00.000Z"}
    ]"#;

    #[test]
    fn parses_alerts_and_maps_states() {
        let alerts = parse_alerts("am", ALERTS.as_bytes()).unwrap();
        let states: Vec<_> = alerts.iter().map(|a| (a.name.as_str(), a.state)).collect();
        assert_eq!(
            states,
            [
                ("X", AlertState::Silenced),
                ("Y", AlertState::Inhibited),
                ("Z", AlertState::Firing),
                ("", AlertState::Firing)
            ]
        );
        let x = &alerts[0];
        assert_eq!(
            (x.fingerprint.as_str(), x.source_kind, x.severity),
            ("a4fbddb589c8ac0c", SourceKind::Alertmanager, Severity::Unknown)
        );
        assert_eq!(x.starts_at.unwrap().to_string(), "2026-11-22T21:16:02.059Z");
        assert_eq!(x.generator_url.as_deref(), Some("http://gen/x"));
        assert_eq!(x.seen_by, ["am"]);
        assert_eq!(alerts[1].inhibited_by, ["a4fb"]);
        assert_eq!(alerts[2].generator_url, None);
        assert_eq!(alerts[3].starts_at, None, "Go's zero time is no time");
    }

    #[test]
    fn explains_410_and_404() {
        let gone = FetchError::Status {
            status: reqwest::StatusCode::GONE,
            path: ALERTS_PATH.into(),
            detail: String::new(),
            body: String::new(),
        };
        assert!(am_error(gone).message.contains("removed v1 API"));
        let missing = FetchError::Status {
            status: reqwest::StatusCode::NOT_FOUND,
            path: ALERTS_PATH.into(),
            detail: "404 page not found".into(),
            body: String::new(),
        };
        assert!(am_error(missing).message.contains("needs Alertmanager ≥ 0.16"));
    }
}
