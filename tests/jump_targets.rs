//! Where `J` leads, on the app state: an alert about `db3:9104` (a
//! mysqld_exporter) finds replication member `db3:3306` by host, opsdeck's
//! own lag alert finds its member exactly, a missing node is listed with
//! why; a member and a backup catalog lead back to their alerts.

#[path = "fixture/mod.rs"]
mod fixture;

use std::collections::BTreeMap;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::action::Action;
use opsdeck::alerts::model::{Alert, AlertState, Severity, SourceKind, fingerprint};
use opsdeck::app::AppState;
use opsdeck::app::replication::RowId;
use opsdeck::ui::Tab;

const CONFIG: &str = "[[clusters]]\nname = \"main\"\nkind = \"mysql\"\nmembers = [\"db1:3306\", \"db3:3306\"]\n\n\
    [[backups]]\nname = \"nightly\"\nkind = \"dir\"\npath = \"/srv/backups/nightly\"\nrpo = \"26h\"\n";

fn alert(labels: &[(&str, &str)]) -> Alert {
    let labels: BTreeMap<String, String> =
        labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Alert {
        source: "am".into(),
        source_kind: SourceKind::Alertmanager,
        fingerprint: fingerprint(&labels),
        name: labels.get("alertname").cloned().unwrap_or_default(),
        severity: Severity::Critical,
        state: AlertState::Firing,
        labels: labels.into(),
        annotations: BTreeMap::new().into(),
        starts_at: Some("2026-11-22T11:50:00Z".parse().expect("a time")),
        ends_at: None,
        value: None,
        generator_url: None,
        silenced_by: vec![],
        inhibited_by: vec![],
        seen_by: vec!["am".into()],
    }
}

fn state_with_alerts(alerts: Vec<Alert>) -> AppState {
    let config = opsdeck::config::parse(CONFIG, Path::new("jump.toml")).expect("config");
    let mut state = fixture::state_with(config, "dark", 40);
    let batch = opsdeck::sources::AlertBatch {
        source_name: "am".into(),
        kind: SourceKind::Alertmanager,
        alerts,
        silences: vec![],
        warnings: vec![],
    };
    let now = state.now;
    state.alerts.on_batch(batch, now, false);
    state
}

fn key(state: &mut AppState, c: char) {
    state.handle_key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
}

/// Select the first alert (group header, then its alert) and open the menu.
fn jump_from_first_alert(state: &mut AppState) {
    state.tab = Tab::Alerts;
    state.apply(Action::Down);
    state.apply(Action::Down);
    assert!(state.alerts.selected_alert().is_some());
    state.apply(Action::Jump);
}

#[test]
fn an_exporter_alert_finds_its_member_by_host() {
    let mut state = state_with_alerts(vec![alert(&[("alertname", "MySQLDown"), ("instance", "db3:9104")])]);
    jump_from_first_alert(&mut state);
    let menu = state.jump.clone().expect("the menu");
    let labels: Vec<(Tab, &str, bool)> =
        menu.choices.iter().map(|c| (c.tab, c.label.as_str(), c.target.is_some())).collect();
    assert_eq!(labels[0], (Tab::Metrics, "no fleet node matches db3:9104", false));
    assert_eq!(labels[1], (Tab::Replication, "member db3:3306 of main", true));
    assert_eq!(labels[2].0, Tab::Logs);
    assert!(labels[2].1.starts_with("logs mentioning db3 from "), "{labels:?}");
    // A target that was not found stays put and says why.
    key(&mut state, '1');
    assert_eq!(state.tab, Tab::Alerts);
    assert_eq!(state.current_notice(), Some("no fleet node matches db3:9104"));
    state.apply(Action::Jump);
    key(&mut state, '3');
    assert_eq!(
        (state.tab, state.replication.selected.clone()),
        (Tab::Replication, Some(RowId::Member(0, 1)))
    );

    // Back from the member to its alerts: the Alerts tab filtered by its host.
    state.apply(Action::Jump);
    key(&mut state, '2');
    assert_eq!((state.tab, state.alerts.filter_text.as_str()), (Tab::Alerts, "db3"));
    assert_eq!(state.alerts.view.rows.len(), 2, "the group and its alert");
    // Any other key closes the menu without moving.
    state.apply(Action::Jump);
    key(&mut state, 'z');
    assert!(state.jump.is_none() && state.tab == Tab::Alerts);
}

#[test]
fn opsdecks_own_lag_alert_names_its_member_exactly() {
    let mut state = state_with_alerts(vec![alert(&[
        ("alertname", "ReplicationLag"),
        ("cluster", "main"),
        ("member", "db1:3306"),
    ])]);
    jump_from_first_alert(&mut state);
    key(&mut state, '3');
    assert_eq!(state.replication.selected, Some(RowId::Member(0, 0)));
}

#[test]
fn a_backup_catalog_leads_to_its_alerts() {
    let mut state = state_with_alerts(vec![
        alert(&[("alertname", "BackupStale"), ("catalog", "nightly")]),
        alert(&[("alertname", "DiskFull"), ("instance", "web1:9100")]),
    ]);
    state.tab = Tab::Backups;
    state.apply(Action::Down);
    state.apply(Action::Jump);
    let menu = state.jump.clone().expect("the menu");
    assert_eq!(menu.from, "backup catalog nightly");
    key(&mut state, '2');
    assert_eq!((state.tab, state.alerts.filter_text.as_str()), (Tab::Alerts, "nightly"));
    assert_eq!(state.alerts.view.rows.len(), 2, "BackupStale's group and alert, not DiskFull");
}
