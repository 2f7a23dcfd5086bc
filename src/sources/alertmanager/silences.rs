//! Alertmanager's silences: listing them, creating one without ever creating
//! it twice (a request that timed out may still land, seconds later), and
//! expiring one.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{am_error, timestamp};
use crate::sources::http::{Endpoint, FetchError, parse_json};

/// Every silence Alertmanager still keeps.
pub const SILENCES_PATH: &str = "/api/v2/silences";

/// One matcher of a silence, as the API spells it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SilenceMatcher {
    /// Label name.
    pub name: String,
    /// Value, or a regex (anchored by Alertmanager) when `is_regex`.
    pub value: String,
    /// `=~` / `!~` rather than `=` / `!=`.
    pub is_regex: bool,
    /// `=` / `=~` rather than `!=` / `!~` (Alertmanager ≥ 0.22; older ones only have true).
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

/// Where a silence stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SilenceState {
    /// In force now.
    Active,
    /// Starts later.
    Pending,
    /// Over (Alertmanager keeps expired silences for its retention time).
    Expired,
    /// A state this version of opsdeck does not know.
    #[serde(other)]
    Unknown,
}

/// A silence as Alertmanager holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Silence {
    /// Alertmanager's id (a UUID).
    pub id: String,
    /// All must match for an alert to be silenced.
    pub matchers: Vec<SilenceMatcher>,
    /// When it starts or started.
    pub starts_at: Option<jiff::Timestamp>,
    /// When it ends or ended.
    pub ends_at: Option<jiff::Timestamp>,
    /// Who made it.
    pub created_by: String,
    /// Why.
    pub comment: String,
    /// Where it stands.
    pub state: SilenceState,
}

/// A silence to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSilence {
    /// All must match for an alert to be silenced; at least one.
    pub matchers: Vec<SilenceMatcher>,
    /// When it starts (Alertmanager moves a past start to now).
    pub starts_at: jiff::Timestamp,
    /// When it ends.
    pub ends_at: jiff::Timestamp,
    /// Who makes it.
    pub created_by: String,
    /// Why.
    pub comment: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSilence {
    id: String,
    matchers: Vec<SilenceMatcher>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    #[serde(default)]
    created_by: String,
    #[serde(default)]
    comment: String,
    status: WireSilenceStatus,
}

#[derive(Deserialize)]
struct WireSilenceStatus {
    state: SilenceState,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostableSilence<'a> {
    matchers: &'a [SilenceMatcher],
    starts_at: String,
    ends_at: String,
    created_by: &'a str,
    comment: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostedSilence {
    #[serde(rename = "silenceID")]
    silence_id: String,
}

fn to_silence(w: WireSilence) -> Silence {
    Silence {
        id: w.id,
        matchers: w.matchers,
        starts_at: timestamp(w.starts_at.as_deref()),
        ends_at: timestamp(w.ends_at.as_deref()),
        created_by: w.created_by,
        comment: w.comment,
        state: w.status.state,
    }
}

/// Parse the body of `GET /api/v2/silences`.
pub fn parse_silences(body: &[u8]) -> Result<Vec<Silence>, FetchError> {
    let wire: Vec<WireSilence> = parse_json(SILENCES_PATH, body)?;
    Ok(wire.into_iter().map(to_silence).collect())
}

/// Every silence Alertmanager keeps.
pub async fn list_silences(endpoint: &Endpoint) -> Result<Vec<Silence>, FetchError> {
    let body = endpoint.request(Method::GET, SILENCES_PATH, None::<&()>).await?;
    parse_silences(&body)
}

/// True when `s` is the silence `new` asked for: same matchers (in any
/// order), author, comment and end, and not over.
fn is_same(s: &Silence, new: &NewSilence) -> bool {
    let sorted = |m: &[SilenceMatcher]| {
        let mut v = m.to_vec();
        v.sort();
        v
    };
    // Alertmanager keeps milliseconds; a second of slack covers any rounding.
    let same_end = s
        .ends_at
        .is_some_and(|end| end.duration_since(new.ends_at).abs() < jiff::SignedDuration::from_secs(1));
    matches!(s.state, SilenceState::Active | SilenceState::Pending)
        && s.created_by == new.created_by
        && s.comment == new.comment
        && same_end
        && sorted(&s.matchers) == sorted(&new.matchers)
}

/// The exact JSON body `create_silence` posts for `new`: the dialog's
/// preview shows this, so what the operator reads is what is sent.
pub fn silence_body(new: &NewSilence) -> serde_json::Value {
    let body = PostableSilence {
        matchers: &new.matchers,
        starts_at: new.starts_at.to_string(),
        ends_at: new.ends_at.to_string(),
        created_by: &new.created_by,
        comment: &new.comment,
    };
    serde_json::to_value(&body).unwrap_or(serde_json::Value::Null)
}

/// How often a request whose fate is unknown is looked for.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// How long a request that went unanswered is looked for before opsdeck
/// says it cannot tell: twice the time it was given to answer. A request
/// held by a slow server or proxy lands while we look; one that never
/// arrives is not sent again, because "not there yet" is not "absent".
pub fn settle_window(timeout: Duration) -> Duration {
    timeout.saturating_mul(2).max(Duration::from_secs(1))
}

/// A silence Alertmanager holds now, and how opsdeck knows its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// Alertmanager's id.
    pub id: String,
    /// The POST's answer was lost (timeout, cut connection, unreadable
    /// body) and the id was found in the silences list instead.
    pub found_after_lost_answer: bool,
}

/// True when a failed request may still have reached the server and been
/// acted on: an unanswered or cut-off request, a 5xx (a proxy may have
/// passed it on), or a 2xx whose body we could not read.
fn may_have_landed(e: &FetchError) -> bool {
    e.is_ambiguous() || matches!(e, FetchError::Json { .. } | FetchError::TooLarge { .. })
}

/// Create a silence. It is POSTed once: a POST whose answer was lost is
/// never sent again (Alertmanager has no idempotency key, and a request
/// held by a slow server or proxy lands later, so a second POST makes a
/// duplicate). Instead the silences are listed until an identical one shows
/// up (its id is adopted) or `settle_window` passes (an error that says the
/// silence may still appear). A failure where nothing reached Alertmanager
/// (refused, no route, a 4xx) is reported as such.
pub async fn create_silence(endpoint: &Endpoint, new: &NewSilence) -> Result<Created, String> {
    if new.matchers.is_empty() {
        return Err("a silence needs at least one matcher".into());
    }
    let posted = endpoint
        .request(Method::POST, SILENCES_PATH, Some(&silence_body(new)))
        .await
        .and_then(|b| parse_json::<PostedSilence>(SILENCES_PATH, &b));
    let lost = match posted {
        Ok(p) => return Ok(Created { id: p.silence_id, found_after_lost_answer: false }),
        Err(e) if may_have_landed(&e) => e,
        Err(e) => return Err(format!("creating the silence failed: {}", am_error(e).message)),
    };
    let window = settle_window(endpoint.timeout());
    match look_for(window, || find_same(endpoint, new)).await {
        Ok(id) => Ok(Created { id, found_after_lost_answer: true }),
        Err(None) => Err(format!(
            "creating the silence: {lost}; it is not among the silences after {} of looking. \
             It was not sent again (it may still land, and a second POST would make a duplicate): \
             check the silences list before trying again",
            humantime::format_duration(window)
        )),
        Err(Some(list)) => Err(format!(
            "creating the silence: {lost}; listing silences to check whether it landed: {list}. \
             It was not sent again and may exist: check the silences list before trying again"
        )),
    }
}

/// Call `find` every `LOOK_EVERY` until it finds something or `window`
/// passes. `Err(None)`: looked and not found; `Err(Some(e))`: the last look failed.
async fn look_for<T, F, Fut>(window: Duration, mut find: F) -> Result<T, Option<FetchError>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, FetchError>>,
{
    let until = Instant::now() + window;
    loop {
        let last = match find().await {
            Ok(Some(found)) => return Ok(found),
            Ok(None) => None,
            Err(e) => Some(e),
        };
        let now = Instant::now();
        if now >= until {
            return Err(last);
        }
        tokio::time::sleep(LOOK_EVERY.min(until - now)).await;
    }
}

async fn find_same(endpoint: &Endpoint, new: &NewSilence) -> Result<Option<String>, FetchError> {
    Ok(list_silences(endpoint).await?.into_iter().find(|s| is_same(s, new)).map(|s| s.id))
}

async fn silence_state(endpoint: &Endpoint, path: &str) -> Result<SilenceState, FetchError> {
    let body = endpoint.request(Method::GET, path, None::<&()>).await?;
    parse_json::<WireSilence>(path, &body).map(|w| w.status.state)
}

/// Expire a silence now (`DELETE /api/v2/silence/{id}`). Expiring is
/// idempotent, so a DELETE whose answer was lost may be sent again; but
/// first the silence is watched for `settle_window`, as the lost one may
/// still land, and a late success is reported as the success it is.
pub async fn expire_silence(endpoint: &Endpoint, id: &str) -> Result<(), String> {
    // The id goes into the path: only a UUID's characters may.
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(format!("{id:?} is not a silence id"));
    }
    let path = format!("/api/v2/silence/{id}");
    let lost = match endpoint.request(Method::DELETE, &path, None::<&()>).await {
        Ok(_) => return Ok(()),
        Err(e) if may_have_landed(&e) => e,
        Err(e) => return Err(format!("expiring silence {id} failed: {}", am_error(e).message)),
    };
    let window = settle_window(endpoint.timeout());
    let expired =
        || async { silence_state(endpoint, &path).await.map(|s| (s == SilenceState::Expired).then_some(())) };
    if look_for(window, expired).await.is_ok() {
        return Ok(());
    }
    match endpoint.request(Method::DELETE, &path, None::<&()>).await {
        Ok(_) => Ok(()),
        Err(again) => Err(format!(
            "expiring silence {id}: {lost}; it was still in force after {}, and sending it again: {}",
            humantime::format_duration(window),
            am_error(again).message
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_silences_with_and_without_is_equal() {
        let body = r#"[{"id":"9ba1","status":{"state":"active"},"comment":"c","createdBy":"me",
            "endsAt":"2026-11-22T22:16:02.123Z","startsAt":"2026-11-22T21:16:02.102Z",
            "matchers":[{"isRegex":false,"name":"alertname","value":"X"},
                        {"isEqual":false,"isRegex":true,"name":"job","value":"y|z"}]},
            {"id":"2","status":{"state":"weird"},"matchers":[]}]"#;
        let s = parse_silences(body.as_bytes()).unwrap();
        assert!(s[0].matchers[0].is_equal, "pre-0.22 matchers are equality matchers");
        assert!(!s[0].matchers[1].is_equal);
        assert_eq!(s[1].state, SilenceState::Unknown);
        let new = NewSilence {
            matchers: vec![s[0].matchers[1].clone(), s[0].matchers[0].clone()],
            starts_at: "2026-11-22T21:00:00Z".parse().unwrap(),
            ends_at: "2026-11-22T22:16:02.123456Z".parse().unwrap(),
            created_by: "me".into(),
            comment: "c".into(),
        };
        assert!(is_same(&s[0], &new), "matcher order and sub-millisecond ends do not matter");
        assert!(!is_same(&s[0], &NewSilence { comment: "other".into(), ..new.clone() }));
        let expired = Silence { state: SilenceState::Expired, ..s[0].clone() };
        assert!(!is_same(&expired, &new));
    }
}
