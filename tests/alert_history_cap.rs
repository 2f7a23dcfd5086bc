//! The alert history's cap against a real Alertmanager 0.25 and a real
//! SQLite state store: when one poll brings more state changes than the cap
//! (lowered to 100 here), the excess is dropped, but counted, stored as a gap
//! event where it happened, and shown on the tab and in every export.

mod backends;
mod fixture;

use std::path::Path;
use std::time::Duration;

use backends::{Alertmanager, wait_for};
use opsdeck::action::Action;
use opsdeck::alerts::history;
use opsdeck::app::AlertsPane;
use opsdeck::sources::http::Endpoint;
use opsdeck::sources::{Payload, Update, alertmanager};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(20);

#[tokio::test]
async fn state_changes_over_the_cap_are_counted_stored_and_shown() {
    let am = Alertmanager::start().await;
    let alerts: Vec<_> = (0..300)
        .map(|i| json!({"labels": {"alertname": "Flood", "instance": format!("n{i:03}:9100"), "severity": "warning"}}))
        .collect();
    am.post_alerts(&json!(alerts)).await;
    let toml = format!("[[alertmanager]]\nname = \"am\"\nurl = \"{}\"\n", am.url());
    let config = opsdeck::config::parse(&toml, Path::new("test.toml")).unwrap();
    let endpoint = Endpoint::connect(&config.alertmanager[0]).await.unwrap();
    let batch = wait_for("all 300 alerts", DEADLINE, || async {
        alertmanager::poll(&endpoint, "am").await.ok().filter(|b| b.alerts.len() == 300)
    })
    .await;

    let mut state = fixture::state_with(config.clone(), "dark", 12);
    state.alerts = AlertsPane::with_history_cap(&config, 100);
    state.apply_update(Update { source: "am", at: state.now, result: Ok(Payload::Alerts(batch)) });
    assert_eq!(state.alerts.history_dropped, 200, "300 appeared, 100 fit");

    state.apply(Action::TabAlerts);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    terminal.draw(|f| opsdeck::ui::render(f, &state)).unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("history: 200 changes not recorded"), "{screen}");

    let taken = state.alerts.take_history();
    assert_eq!((taken.transitions.len(), taken.dropped, taken.cap), (100, 200, 100));
    assert!(state.alerts.take_history().is_empty(), "a gap is handed over once");

    let dir = tempfile::tempdir().unwrap();
    let store = opsdeck::store::Store::open(&dir.path().join("state.db")).await.unwrap();
    history::record(&store, &taken).await.unwrap();
    let events = history::since(&store, Duration::from_secs(3600)).await.unwrap();
    assert_eq!(events.len(), 101, "100 changes and one gap");
    let gaps: Vec<_> = events.iter().filter(|e| e.is_gap()).collect();
    assert_eq!(gaps.len(), 1);
    assert!(std::ptr::eq(gaps[0], &events[0]), "the gap comes before what was kept");
    assert_eq!(gaps[0].labels["dropped"], "200");
    let summary = gaps[0].summary.as_deref().unwrap_or("");
    assert!(summary.starts_with("200 alert state changes were not recorded here"), "{summary}");
    let md = history::markdown(&events);
    assert!(md.contains("| **history gap** | | not recorded | 200 alert state changes"), "{md}");
    store.close().await;
}

#[tokio::test]
async fn a_timeline_cut_to_its_newest_events_says_how_many_are_older() {
    let am = Alertmanager::start().await;
    am.post_alerts(&json!([{"labels": {"alertname": "Flapping", "instance": "db1:9100"}}])).await;
    let toml = format!("[[alertmanager]]\nname = \"am\"\nurl = \"{}\"\n", am.url());
    let config = opsdeck::config::parse(&toml, Path::new("test.toml")).unwrap();
    let endpoint = Endpoint::connect(&config.alertmanager[0]).await.unwrap();
    let batch = wait_for("the alert", DEADLINE, || async {
        alertmanager::poll(&endpoint, "am").await.ok().filter(|b| b.alerts.len() == 1)
    })
    .await;
    let fingerprint = batch.alerts[0].fingerprint.clone();

    // It appears and resolves 30 times: 60 state changes for one fingerprint.
    let mut pane = AlertsPane::new(&config);
    let dir = tempfile::tempdir().unwrap();
    let store = opsdeck::store::Store::open(&dir.path().join("state.db")).await.unwrap();
    for _ in 0..30 {
        pane.on_batch(batch.clone(), std::time::Instant::now(), false);
        pane.on_batch(
            opsdeck::sources::AlertBatch { alerts: vec![], ..batch.clone() },
            std::time::Instant::now(),
            false,
        );
        history::record(&store, &pane.take_history()).await.unwrap();
    }
    let events = history::timeline(&store, &fingerprint, 50).await.unwrap();
    assert_eq!(events.len(), 51, "the 50 newest and a marker");
    assert_eq!(events[0].to, history::OLDER_NOT_SHOWN);
    assert!(
        events[0].summary.as_deref().unwrap_or("").starts_with("10 older events not shown"),
        "{:?}",
        events[0]
    );
    assert!(events[1..].iter().all(|e| !e.is_gap() && e.to != history::OLDER_NOT_SHOWN));
    store.close().await;
}
