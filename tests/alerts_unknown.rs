//! The Alerts tab while its sources fail, rendered on a TestBackend: the
//! badge and the body never give an all-clear for alerts nobody could read;
//! they name the source, how long it has been down and how old its last
//! data is, and show what is known beside it.

mod fixture;

use std::path::Path;
use std::time::Duration;

use opsdeck::action::Action;
use opsdeck::alerts::model::{Alert, AlertState, SourceKind};
use opsdeck::app::{AppState, Blind};
use opsdeck::sources::{AlertBatch, Payload, Update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Local rules off (the fixture's node would fire them), and `sources` as given.
fn state(sources: &str) -> AppState {
    let toml = format!(
        "{sources}\n\
         [[rules]]\nname = \"HighCpu\"\nmetric = \"cpu\"\nthreshold = 80\nenabled = false\n\n\
         [[rules]]\nname = \"HighMemory\"\nmetric = \"memory_percent\"\nthreshold = 85\nenabled = false\n\n\
         [[rules]]\nname = \"DiskFull\"\nmetric = \"disk_percent\"\nthreshold = 90\nenabled = false\n"
    );
    let config = opsdeck::config::parse(&toml, Path::new("test.toml")).unwrap();
    let mut state = fixture::state_with(config, "dark", 12);
    let names: Vec<String> = state.remote_alert_sources().map(str::to_owned).collect();
    for name in names {
        state.watch_source(opsdeck::sources::leak_name(&name), Duration::from_secs(1));
    }
    state.apply(Action::TabAlerts);
    state
}

fn am(name: &str) -> String {
    format!("[[alertmanager]]\nname = \"{name}\"\nurl = \"http://127.0.0.1:9\"\n")
}

/// A poll of `source` that ended `ago` before the state's now.
fn poll(state: &mut AppState, source: &'static str, ago: u64, result: Result<Vec<Alert>, &str>) {
    let at = state.now - Duration::from_secs(ago);
    let result = result
        .map(|alerts| {
            Payload::Alerts(AlertBatch {
                source_name: source.into(),
                kind: SourceKind::Alertmanager,
                alerts,
                silences: vec![],
                warnings: vec![],
            })
        })
        .map_err(str::to_owned);
    state.apply_update(Update { source, at, result });
}

fn firing(name: &str, severity: &str) -> Alert {
    let labels = [("alertname", name), ("instance", "db1:9100"), ("severity", severity)];
    let labels: std::collections::BTreeMap<String, String> =
        labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Alert {
        source: String::new(),
        source_kind: SourceKind::Alertmanager,
        fingerprint: String::new(),
        name: name.into(),
        severity: opsdeck::alerts::model::Severity::Unknown,
        state: AlertState::Firing,
        starts_at: None,
        ends_at: None,
        value: None,
        generator_url: None,
        silenced_by: vec![],
        inhibited_by: vec![],
        seen_by: vec![],
        labels: labels.into(),
        annotations: Default::default(),
    }
}

fn render(state: &AppState, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| opsdeck::ui::render(f, state)).unwrap();
    terminal.backend().to_string()
}

const REFUSED: &str = "connection refused by 127.0.0.1:9: is the server running?";

#[test]
fn the_only_source_down_is_unknown_not_fine() {
    let mut state = state(&am("am"));
    poll(&mut state, "am", 100, Ok(vec![]));
    poll(&mut state, "am", 40, Err(REFUSED));
    poll(&mut state, "am", 1, Err(REFUSED));

    let unknown = state.unknown_alert_sources();
    assert_eq!(unknown.len(), 1);
    let Blind::Failing { down_for, last_ok_age, .. } = &unknown[0].blind else { panic!("{unknown:?}") };
    assert_eq!((*down_for, *last_ok_age), (Duration::from_secs(40), Some(Duration::from_secs(100))));
    assert_eq!(opsdeck::ui::tabs::alerts_badge(&state).0, "?");

    for (w, h) in [(80, 24), (160, 48)] {
        let screen = render(&state, w, h);
        assert!(screen.contains("2 Alerts ?"), "{w}x{h}:\n{screen}");
        assert!(!screen.contains("2 Alerts ✓") && !screen.contains("Nothing is wrong"), "{screen}");
        assert!(screen.contains("Alerts unknown: am down 40s: connection refused"), "{screen}");
        assert!(screen.contains("alerts shown are 1m old"), "{screen}");
    }

    // It answers again: the all-clear is true again, and shown.
    poll(&mut state, "am", 0, Ok(vec![]));
    assert!(state.unknown_alert_sources().is_empty());
    let screen = render(&state, 80, 24);
    assert!(screen.contains("2 Alerts ✓") && screen.contains("Nothing is wrong right now."), "{screen}");
}

#[test]
fn a_source_never_heard_from_is_no_all_clear_either() {
    let mut state = state(&am("am"));
    let screen = render(&state, 80, 24);
    assert!(screen.contains("Alerts unknown: am has not answered yet"), "{screen}");
    assert!(!screen.contains("Nothing is wrong"), "{screen}");
    poll(&mut state, "am", 5, Err(REFUSED));
    let screen = render(&state, 80, 24);
    assert!(screen.contains("Alerts unknown: am down 5s, never answered: connection refused"), "{screen}");
}

#[test]
fn with_one_of_two_down_what_is_known_is_shown_and_the_other_named() {
    let mut state = state(&format!("{}\n{}", am("am1"), am("am2")));
    poll(&mut state, "am1", 1, Ok(vec![firing("DiskFull", "critical")]));
    poll(&mut state, "am2", 70, Ok(vec![]));
    poll(&mut state, "am2", 65, Err("no answer in 5s"));

    assert_eq!(opsdeck::ui::tabs::alerts_badge(&state).0, "✗1?", "known count, and not all is known");
    let screen = render(&state, 160, 48);
    assert!(screen.contains("2 Alerts ✗1?"), "{screen}");
    assert!(
        screen.contains("DiskFull") && screen.contains("db1:9100"),
        "the known alert is listed\n{screen}"
    );
    assert!(screen.contains("? alerts unknown: am2 down 1m: no answer in 5s"), "{screen}");
    assert!(screen.contains("? unknown: am2"), "the title says so too\n{screen}");
    assert!(!screen.contains("am1 down"), "{screen}");

    // Nothing firing anywhere that answers: say so for those, and not for am2.
    poll(&mut state, "am1", 0, Ok(vec![]));
    let screen = render(&state, 160, 48);
    assert!(screen.contains("Alerts unknown: am2 down 1m"), "{screen}");
    assert!(screen.contains("Nothing firing from am1 and the local rules."), "{screen}");
    assert!(!screen.contains("Nothing is wrong"), "{screen}");
}

#[test]
fn the_wall_gives_no_green_zero_while_blind() {
    let mut state = state(&am("am"));
    state.wall_mode = Some(opsdeck::app::WallMode::new(Duration::from_secs(20), state.now));
    poll(&mut state, "am", 30, Err(REFUSED));
    let screen = render(&state, 160, 48);
    assert!(screen.contains("firing critical alerts · unknown: am"), "{screen}");
    assert!(screen.contains("firing warnings · unknown: am"), "{screen}");
}
