//! Alert history and acks in the state store: every state change the queue
//! reports is kept, so an alert's timeline survives restarts and an incident
//! can be exported; acks are kept with who, when and why, and cleared (never
//! deleted) when their alert resolves or changes.

use std::time::Duration;

use serde::Serialize;
use sqlx::Row;

use super::queue::{Ack, Transition};
use crate::store::Store;

/// One state change as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// RFC 3339.
    pub at: String,
    /// The alert's identity.
    pub fingerprint: String,
    /// `alertname`.
    pub name: String,
    /// Its severity then.
    pub severity: String,
    /// The state before, `None` when it appeared.
    pub from: Option<String>,
    /// The state after.
    pub to: String,
    /// Its labels then.
    pub labels: serde_json::Value,
    /// Its summary then.
    pub summary: Option<String>,
}

/// `Event::to` of a gap: state changes that were dropped, not recorded.
pub const NOT_RECORDED: &str = "not_recorded";

/// `Event::name` of a gap.
pub const GAP_NAME: &str = "(history gap)";

/// What the queue hands the store: transitions, and how many were dropped
/// before them because more than `cap` waited at once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The state changes to store.
    pub transitions: Vec<Transition>,
    /// State changes dropped before these (stored as one gap event).
    pub dropped: u64,
    /// The cap that dropped them.
    pub cap: usize,
}

impl History {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.transitions.is_empty() && self.dropped == 0
    }
}

impl Event {
    /// A gap: `dropped` state changes were not recorded here.
    pub fn is_gap(&self) -> bool {
        self.to == NOT_RECORDED
    }
}

/// The gap's summary, as the history (and its exports) show it.
fn gap_summary(dropped: u64, cap: usize) -> String {
    format!(
        "{dropped} alert state changes were not recorded here: more than {cap} arrived at once \
         (the history is incomplete)"
    )
}

/// Store a batch of transitions in one transaction; dropped ones become one
/// gap event before them, so every export shows where the history has a hole.
pub async fn record(store: &Store, history: &History) -> Result<(), String> {
    if history.is_empty() {
        return Ok(());
    }
    let mut tx = store.pool().begin().await.map_err(|e| format!("cannot record alert history: {e}"))?;
    if history.dropped > 0 {
        let labels =
            serde_json::json!({"dropped": history.dropped.to_string(), "cap": history.cap.to_string()});
        sqlx::query(
            "INSERT INTO alert_events (at, fingerprint, name, severity, from_state, to_state, labels, summary) \
             VALUES (?, '', ?, 'info', NULL, ?, ?, ?)",
        )
        .bind(history.transitions.first().map_or_else(jiff::Timestamp::now, |t| t.at).to_string())
        .bind(GAP_NAME)
        .bind(NOT_RECORDED)
        .bind(labels.to_string())
        .bind(gap_summary(history.dropped, history.cap))
        .execute(&mut *tx)
        .await
        .map_err(|e| format!("cannot record alert history: {e}"))?;
    }
    for t in &history.transitions {
        let a = &t.alert;
        let labels = serde_json::to_string(&a.labels).unwrap_or_else(|_| "{}".into());
        sqlx::query(
            "INSERT INTO alert_events (at, fingerprint, name, severity, from_state, to_state, labels, summary) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(t.at.to_string())
        .bind(&a.fingerprint)
        .bind(&a.name)
        .bind(a.severity.as_str())
        .bind(t.from.map(|s| s.as_str()))
        .bind(t.to.as_str())
        .bind(labels)
        .bind(a.headline())
        .execute(&mut *tx)
        .await
        .map_err(|e| format!("cannot record alert history: {e}"))?;
    }
    tx.commit().await.map_err(|e| format!("cannot record alert history: {e}"))
}

fn event(r: &sqlx::sqlite::SqliteRow) -> Result<Event, sqlx::Error> {
    let labels: String = r.try_get("labels")?;
    Ok(Event {
        at: r.try_get("at")?,
        fingerprint: r.try_get("fingerprint")?,
        name: r.try_get("name")?,
        severity: r.try_get("severity")?,
        from: r.try_get("from_state")?,
        to: r.try_get("to_state")?,
        labels: serde_json::from_str(&labels).unwrap_or(serde_json::Value::Null),
        summary: r.try_get("summary")?,
    })
}

/// `Event::to` of the marker a cut timeline starts with; its summary says how many older events there are.
pub const OLDER_NOT_SHOWN: &str = "older_not_shown";

/// The timeline of one alert, oldest first, at most `limit` newest events.
/// A longer one starts with an `OLDER_NOT_SHOWN` marker counting the rest.
pub async fn timeline(store: &Store, fingerprint: &str, limit: u32) -> Result<Vec<Event>, String> {
    let mut events = newest_events(store, fingerprint, limit).await?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alert_events WHERE fingerprint = ?")
        .bind(fingerprint)
        .fetch_one(store.pool())
        .await
        .map_err(|e| format!("cannot read alert history: {e}"))?;
    let older = u64::try_from(total).unwrap_or(0).saturating_sub(events.len() as u64);
    if older > 0
        && let Some(first) = events.first()
    {
        let marker = Event {
            to: OLDER_NOT_SHOWN.into(),
            from: None,
            labels: serde_json::Value::Null,
            summary: Some(format!("{older} older events not shown (opsdeck alerts --since shows them all)")),
            ..first.clone()
        };
        events.insert(0, marker);
    }
    Ok(events)
}

async fn newest_events(store: &Store, fingerprint: &str, limit: u32) -> Result<Vec<Event>, String> {
    let rows = sqlx::query(
        "SELECT * FROM (SELECT at, fingerprint, name, severity, from_state, to_state, labels, summary, id \
         FROM alert_events WHERE fingerprint = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
    )
    .bind(fingerprint)
    .bind(limit)
    .fetch_all(store.pool())
    .await
    .map_err(|e| format!("cannot read alert history: {e}"))?;
    rows.iter().map(event).collect::<Result<_, _>>().map_err(|e| format!("cannot read alert history: {e}"))
}

/// Every event within `since`, oldest first: an incident timeline.
pub async fn since(store: &Store, since: Duration) -> Result<Vec<Event>, String> {
    let cutoff = jiff::SignedDuration::try_from(since)
        .ok()
        .and_then(|d| jiff::Timestamp::now().checked_sub(d).ok())
        .map_or_else(String::new, |t| t.to_string());
    let rows = sqlx::query(
        "SELECT at, fingerprint, name, severity, from_state, to_state, labels, summary \
         FROM alert_events WHERE at >= ? ORDER BY id",
    )
    .bind(cutoff)
    .fetch_all(store.pool())
    .await
    .map_err(|e| format!("cannot read alert history: {e}"))?;
    rows.iter().map(event).collect::<Result<_, _>>().map_err(|e| format!("cannot read alert history: {e}"))
}

/// Acks that have not cleared.
pub async fn open_acks(store: &Store) -> Result<Vec<Ack>, String> {
    let rows =
        sqlx::query("SELECT fingerprint, who, at, comment FROM acks WHERE cleared_at IS NULL ORDER BY id")
            .fetch_all(store.pool())
            .await
            .map_err(|e| format!("cannot read acks: {e}"))?;
    let mut out = Vec::new();
    for r in &rows {
        let at: String = r.try_get("at").map_err(|e| e.to_string())?;
        out.push(Ack {
            fingerprint: r.try_get("fingerprint").map_err(|e| e.to_string())?,
            who: r.try_get("who").map_err(|e| e.to_string())?,
            at: at.parse().unwrap_or_else(|_| jiff::Timestamp::now()),
            comment: r.try_get("comment").map_err(|e| e.to_string())?,
        });
    }
    Ok(out)
}

/// Record an ack.
pub async fn ack(store: &Store, a: &Ack) -> Result<(), String> {
    sqlx::query("INSERT INTO acks (fingerprint, who, at, comment) VALUES (?, ?, ?, ?)")
        .bind(&a.fingerprint)
        .bind(&a.who)
        .bind(a.at.to_string())
        .bind(&a.comment)
        .execute(store.pool())
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot record the ack: {e}"))
}

/// Clear the open acks of these fingerprints (their alerts resolved or changed).
pub async fn clear_acks(store: &Store, fingerprints: &[String], why: &str) -> Result<(), String> {
    let now = jiff::Timestamp::now().to_string();
    for fp in fingerprints {
        sqlx::query(
            "UPDATE acks SET cleared_at = ?, cleared_why = ? WHERE fingerprint = ? AND cleared_at IS NULL",
        )
        .bind(&now)
        .bind(why)
        .bind(fp)
        .execute(store.pool())
        .await
        .map_err(|e| format!("cannot clear the ack of {fp}: {e}"))?;
    }
    Ok(())
}

/// The events as Markdown: a table an incident channel or a postmortem can take as is.
pub fn markdown(events: &[Event]) -> String {
    let mut out =
        String::from("| time (UTC) | alert | severity | change | summary |\n|---|---|---|---|---|\n");
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    for e in events {
        if e.is_gap() {
            let when = e.at.get(..19).unwrap_or(&e.at).replace('T', " ");
            let summary = cell(e.summary.as_deref().unwrap_or(""));
            out.push_str(&format!("| {when} | **history gap** | | not recorded | {summary} |\n"));
            continue;
        }
        let change = match &e.from {
            Some(from) => format!("{from} → {}", e.to),
            None => format!("→ {}", e.to),
        };
        let when = e.at.get(..19).unwrap_or(&e.at).replace('T', " ");
        out.push_str(&format!(
            "| {when} | {} | {} | {change} | {} |\n",
            cell(&e.name),
            e.severity,
            cell(e.summary.as_deref().unwrap_or(""))
        ));
    }
    out
}

/// Work for the store on the alerts' behalf, done in order by one task so a
/// timeline read after a write sees it.
#[derive(Debug)]
pub enum Job {
    /// Write transitions (and the gap before them, if any were dropped).
    Record(History),
    /// Clear the acks of alerts that resolved or changed.
    ClearAcks(Vec<String>),
    /// Read an alert's timeline and send it to the app.
    Timeline(String),
    /// Read the open acks and send them to the app.
    LoadAcks,
}

/// Serve jobs until the app hangs up.
pub async fn serve(
    store: Store,
    mut jobs: tokio::sync::mpsc::Receiver<Job>,
    app: tokio::sync::mpsc::Sender<crate::sources::Update>,
) {
    use crate::sources::{Payload, Update};
    const SOURCE: &str = "alerts-store";
    while let Some(job) = jobs.recv().await {
        let result = match job {
            Job::Record(items) => record(&store, &items).await.map(|()| None),
            Job::ClearAcks(fps) => {
                clear_acks(&store, &fps, "the alert resolved or changed").await.map(|()| None)
            }
            Job::Timeline(fp) => {
                timeline(&store, &fp, 50).await.map(|events| Some(Payload::Timeline(fp, events)))
            }
            Job::LoadAcks => open_acks(&store).await.map(|acks| Some(Payload::Acks(acks))),
        };
        match result {
            Ok(Some(payload)) => {
                if app.send(Update::now(SOURCE, Ok(payload))).await.is_err() {
                    return;
                }
            }
            Ok(None) => {}
            // The queue on screen is unaffected; the history has a hole, which the log says.
            Err(e) => tracing::warn!("{e}"),
        }
    }
}
