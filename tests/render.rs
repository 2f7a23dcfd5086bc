//! Every tab rendered on a TestBackend at 80×24 and 160×48, snapshotted.
//! The fixture fixes host, clock and data, so nothing needs masking.

mod fixture;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use insta::assert_snapshot;
use opsdeck::action::Action;
use opsdeck::config::Config;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn render(state: &opsdeck::app::AppState, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| opsdeck::ui::render(f, state)).unwrap();
    terminal.backend().to_string()
}

#[test]
fn every_tab_at_both_sizes() {
    let mut state = fixture::state();
    let tabs = [
        (Action::TabMetrics, "metrics"),
        (Action::TabAlerts, "alerts"),
        (Action::TabReplication, "replication"),
        (Action::TabBackups, "backups"),
        (Action::TabLogs, "logs"),
    ];
    for (action, name) in tabs {
        state.apply(action);
        for (w, h) in [(80, 24), (160, 48)] {
            assert_snapshot!(format!("{name}_{w}x{h}"), render(&state, w, h));
        }
    }
}

#[test]
fn backups_tab_summary_and_drill_down_at_both_sizes() {
    let mut state = fixture::backups_state(14);
    state.apply(Action::TabBackups);
    for (w, h) in [(80, 24), (160, 48)] {
        assert_snapshot!(format!("backups_summary_{w}x{h}"), render(&state, w, h));
    }
    state.apply(Action::Down);
    for (w, h) in [(80, 24), (160, 48)] {
        assert_snapshot!(format!("backups_catalog_{w}x{h}"), render(&state, w, h));
    }
    state.apply(Action::Open);
    for (w, h) in [(80, 24), (160, 48)] {
        assert_snapshot!(format!("backups_list_{w}x{h}"), render(&state, w, h));
    }
}

#[test]
fn help_overlay_and_read_only_badge() {
    let config = Config { read_only: true, ..Config::default() };
    let mut state = fixture::state_with(config, "dark", 40);
    state.apply(Action::ToggleHelp);
    assert_snapshot!("help_80x24", render(&state, 80, 24));
    let screen = render(&state, 160, 48);
    assert!(screen.contains("READ-ONLY"), "{screen}");
    assert!(screen.contains("sort processes by CPU"), "{screen}");
}

#[test]
fn filtered_and_memory_sorted_processes() {
    let mut state = fixture::state();
    state.apply(Action::SortByMemory);
    state.apply(Action::Filter);
    for c in "post".chars() {
        state.handle_key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    let screen = render(&state, 80, 24);
    assert!(screen.contains("filter: post"), "{screen}");
    assert!(screen.contains("postgres") && !screen.contains("nginx"), "{screen}");
    assert_snapshot!("filtered_80x24", screen);
}

#[test]
fn too_small_says_so_instead_of_panicking() {
    let state = fixture::state();
    for (w, h) in [(59, 24), (80, 15), (1, 1)] {
        let screen = render(&state, w, h);
        if w > 20 && h > 3 {
            assert!(screen.contains("Terminal too small"), "{w}x{h}: {screen}");
        }
    }
}

#[test]
fn a_configured_log_source_is_listed_before_its_first_line() {
    let config: Config = toml::from_str("[[logs]]\nname = \"sys\"\npath = \"/var/log/syslog\"\n").unwrap();
    let mut state = fixture::state_with(config, "dark", 10);
    state.apply(Action::TabLogs);
    let screen = render(&state, 100, 30);
    let strip = screen.lines().find(|l| l.contains("sys ")).unwrap_or_default();
    assert!(strip.contains("/var/log/syslog"), "{screen}");
    assert!(screen.contains("Waiting for lines"), "{screen}");
}

#[test]
fn a_cluster_not_polled_yet_says_connecting() {
    let config: Config = toml::from_str(
        "[[clusters]]\nname = \"main-pg\"\nkind = \"postgres\"\nmembers = [\"127.0.0.1:5432\"]\n",
    )
    .unwrap();
    let mut state = fixture::state_with(config, "dark", 10);
    state.apply(Action::TabReplication);
    let screen = render(&state, 100, 30);
    assert!(screen.contains("▾ main-pg  postgres · 1 members"), "{screen}");
    assert!(screen.contains("127.0.0.1:5432") && screen.contains("connecting…"), "{screen}");
}

#[test]
fn every_theme_renders() {
    for (theme, _) in opsdeck::theme::BUILT_IN {
        let state = fixture::state_with(Config::default(), theme, 20);
        let screen = render(&state, 120, 40);
        assert!(screen.contains("Processes"), "{theme}");
    }
}

#[test]
fn a_failing_source_keeps_its_last_data_and_says_how_old_it_is() {
    let mut state = fixture::state();
    let failed_at = state.now + std::time::Duration::from_secs(5);
    state.apply_update(opsdeck::sources::Update {
        source: "node",
        at: failed_at,
        result: Err("cannot read /proc/stat: permission denied".into()),
    });
    state.now = failed_at + std::time::Duration::from_secs(60);
    let screen = render(&state, 160, 48);
    assert!(screen.contains("node ✗ data 1m old: cannot read /proc/stat"), "{screen}");
    assert!(screen.contains("CPU 71.0%"), "the last good sample stays on screen: {screen}");
}

#[test]
fn the_first_sample_draws_a_full_frame_and_says_cpu_is_being_measured() {
    let epoch = std::time::Instant::now();
    let theme = opsdeck::theme::Theme::load("dark", None, true).unwrap();
    let mut state = opsdeck::app::AppState::new(Config::default(), None, theme, "testhost".into(), epoch);
    let mut first = fixture::sample(epoch, 0, 10);
    first.warming_up = true;
    state.apply_update(opsdeck::sources::Update {
        source: "node",
        at: epoch,
        result: Ok(opsdeck::sources::Payload::Node(Box::new(first))),
    });
    let screen = render(&state, 120, 40);
    assert!(screen.contains("CPU measuring…"), "{screen}");
    assert!(
        screen.contains("PID") && screen.contains("postgres"),
        "the process list is there at once: {screen}"
    );
    assert!(screen.contains("mem ") && screen.contains("/var/lib/postgresql"), "{screen}");
    assert!(!screen.contains("M/s"), "no rate from a single reading: {screen}");
    assert!(state.history.cpu.is_empty() && state.history.memory.len() == 1);
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

#[test]
fn action_menu_and_dialog_with_a_failing_precondition() {
    let toml = r#"
[[actions]]
name = "term"
label = "Send SIGTERM"
applies_to = "process"
argv = ["kill", "-TERM", "{pid}"]
guard = "type_name"
preconditions = ["cpu < 10", "name != \"init\""]

[[actions]]
name = "uptime"
label = "Show uptime"
applies_to = "node"
argv = ["uptime"]
mutating = false
"#;
    let config = opsdeck::config::parse(toml, std::path::Path::new("t.toml")).unwrap();
    let mut state = fixture::state_with(config, "dark", 40);
    state.apply(Action::Down); // select the top process
    state.apply(Action::ActionMenu);
    let menu = render(&state, 80, 24);
    assert!(menu.contains("Show uptime") && menu.contains("Send SIGTERM"), "{menu}");
    assert_snapshot!("action_menu_80x24", menu);

    state.handle_key(&KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
    state.handle_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    for c in "pos".chars() {
        state.handle_key(&key(c));
    }
    let dialog = render(&state, 100, 30);
    assert!(dialog.contains("confirm disabled: 1 precondition(s) fail"), "{dialog}");
    assert!(dialog.contains("not armed"), "{dialog}");
    assert!(dialog.contains("name: pos"), "{dialog}");
    assert_snapshot!("action_dialog_100x30", dialog);

    // Enter while a precondition fails does not submit: nothing is queued.
    state.handle_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(state.pipeline.take_requests().is_empty());
    assert!(render(&state, 100, 30).contains("cannot confirm"));
}

/// A realistic incident queue: two Alertmanagers sharing alerts, a silenced
/// one, a pending Prometheus alert, severities in the handbooks' spellings.
fn incident_state() -> opsdeck::app::AppState {
    use opsdeck::alerts::model::{Alert, AlertState, Severity, SourceKind, fingerprint};
    use std::collections::BTreeMap;
    let mut state = fixture::state_with(Config::default(), "dark", 40);
    let wall: jiff::Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
    state.wall = wall;
    let alert =
        |name: &str, instance: &str, sev: &str, summary: &str, mins: i64, st: AlertState, src: &str| {
            let labels = BTreeMap::from([
                ("alertname".to_owned(), name.to_owned()),
                ("instance".to_owned(), instance.to_owned()),
                ("severity".to_owned(), sev.to_owned()),
            ]);
            Alert {
                source: src.into(),
                source_kind: if src == "prom" { SourceKind::Prometheus } else { SourceKind::Alertmanager },
                fingerprint: fingerprint(&labels),
                name: name.into(),
                severity: Severity::Unknown,
                state: st,
                annotations: BTreeMap::from([("summary".to_owned(), summary.to_owned())]).into(),
                labels: labels.into(),
                starts_at: Some(wall - jiff::SignedDuration::from_mins(mins)),
                ends_at: None,
                value: None,
                generator_url: None,
                silenced_by: if st == AlertState::Silenced { vec!["8fb3a5fb".into()] } else { vec![] },
                inhibited_by: vec![],
                seen_by: vec![src.into()],
            }
        };
    let am = vec![
        alert(
            "DiskFull",
            "db1:9100",
            "critical",
            "/var/lib/mysql at 97% on db1",
            42,
            AlertState::Firing,
            "am1",
        ),
        alert("DiskFull", "db2:9100", "紧急", "/ at 93% on db2", 12, AlertState::Firing, "am1"),
        alert("ReplicationLag", "db3:3306", "P2", "replica db3 is 45 s behind", 7, AlertState::Firing, "am1"),
        alert("HighMemory", "web1:9100", "warning", "memory at 91% on web1", 3, AlertState::Silenced, "am1"),
        alert(
            "BackupStale",
            "backup01",
            "严重",
            "nightly dump is 27 h old (RPO 26 h)",
            95,
            AlertState::Firing,
            "am1",
        ),
    ];
    let mut am2 = am.clone();
    for a in &mut am2 {
        a.source = "am2".into();
        a.seen_by = vec!["am2".into()];
    }
    let prom =
        vec![alert("HighCpu", "web2:9100", "warning", "CPU at 88% on web2", 1, AlertState::Pending, "prom")];
    let now = state.now;
    for (name, batch) in [("am1", am), ("am2", am2), ("prom", prom)] {
        state.alerts.on_batch(
            opsdeck::sources::AlertBatch {
                source_name: name.into(),
                kind: if name == "prom" {
                    opsdeck::alerts::model::SourceKind::Prometheus
                } else {
                    opsdeck::alerts::model::SourceKind::Alertmanager
                },
                alerts: batch,
                silences: vec![],
                warnings: vec![],
            },
            now,
            false,
        );
    }
    state.apply(Action::TabAlerts);
    state
}

#[test]
fn the_alert_queue_at_both_sizes() {
    let mut state = incident_state();
    let screen = render(&state, 160, 48);
    // Deduplicated across the two Alertmanagers; handbook spellings mapped.
    assert_eq!(screen.matches("db1:9100").count(), 1, "{screen}");
    assert!(screen.contains("3 critical") && screen.contains("1 warning"), "{screen}");
    assert!(!screen.contains("web1"), "silenced alerts are hidden by default\n{screen}");
    assert_snapshot!("alerts_queue_160x48", screen);
    assert_snapshot!("alerts_queue_80x24", render(&state, 80, 24));

    // Select the first alert: its details, with both sources.
    state.apply(Action::Down);
    state.apply(Action::Down);
    let detail = render(&state, 160, 48);
    assert!(detail.contains("seen by am1, am2"), "{detail}");
    assert_snapshot!("alerts_detail_160x48", detail);

    // The quiet section, and a matcher filter.
    state.apply(Action::ToggleQuiet);
    assert!(render(&state, 160, 48).contains("web1"));
    state.alerts.set_filter(r#"severity=~"warning|P2" instance!="web1:9100""#.into());
    let filtered = render(&state, 160, 48);
    assert!(filtered.contains("db3:3306") && !filtered.contains("db1:9100"), "{filtered}");
}

/// `--wall`: the summary tiles in large type at every size (doubled glyphs
/// where a tile has room), high-contrast as the flag sets it.
#[test]
fn wall_summary_at_every_size() {
    let mut state = fixture::state_with(Config::default(), "high-contrast", 40);
    state.wall_mode = Some(opsdeck::app::WallMode::new(std::time::Duration::from_secs(20), state.now));
    // 240×67 stands for a 4K war-room screen at a readable font size.
    for (w, h) in [(80, 24), (160, 48), (240, 67)] {
        let screen = render(&state, w, h);
        for title in ["CRITICAL", "WARNING", "WORST LAG", "STALEST BACKUP", "FLEET", "HEALTH"] {
            assert!(screen.contains(title), "{title} at {w}x{h}:\n{screen}");
        }
        assert!(screen.contains("███"), "values in large type at {w}x{h}:\n{screen}");
        assert_snapshot!(format!("wall_{w}x{h}"), screen);
    }
}

/// The fleet pane on the Metrics tab: this node first, then down nodes, then
/// the rest worst first against the thresholds.
#[test]
fn fleet_pane_lists_this_node_then_worst_first() {
    let mut state = fixture::state_with(Config::default(), "dark", 40);
    let now = state.now;
    state.fleet.on_report(fixture::fleet_report(30), now);
    let screen = render(&state, 160, 48);
    let rows: Vec<&str> =
        screen.lines().filter(|l| l.contains("dc1:9100") || l.contains("testhost:9100")).collect();
    assert!(rows[0].contains("testhost:9100"), "this node first:\n{screen}");
    assert!(rows[1].contains("node0001.dc1") && rows[1].contains('✗'), "then the down node:\n{screen}");
    assert!(rows[1].contains("prom: connection refused"), "and why it is down:\n{screen}");
    assert!(screen.contains("Fleet 31 nodes") && screen.contains("1 down"), "{screen}");
    // After those, worst first: disk at 97 % of a 90 % critical line beats CPU at 96 % of 95 %.
    let pos = |needle: &str| rows.iter().position(|r| r.contains(needle));
    assert!(pos("node0007.dc1").is_some_and(|d| pos("node0008.dc1").is_some_and(|c| d < c)), "{screen}");
}

/// Driving the fleet table: `p` focuses it, `/` filters, Enter opens a
/// node's charts (waiting for its Prometheus history, then drawing it), Esc
/// goes back; `J` on a node offers its alerts.
#[test]
fn fleet_table_selects_filters_and_opens_a_node() {
    let mut state = fixture::state_with(Config::default(), "dark", 40);
    let now = state.now;
    state.fleet.on_report(fixture::fleet_report(30), now);
    state.apply(Action::SwitchPane);
    assert!(render(&state, 160, 48).contains("enter open · / filter"));
    state.fleet.set_filter("node0012".into());
    let filtered = render(&state, 160, 48);
    assert!(filtered.contains("/node0012") && filtered.contains("node0012.dc1:9100"), "{filtered}");
    assert!(!filtered.contains("node0013.dc1"), "{filtered}");
    state.fleet.jump(false);
    state.apply(Action::Open);
    let request = state.fleet.take_history_request().expect("a Prometheus node asks for its history");
    assert_eq!((request.origin.as_str(), request.instance.as_str()), ("prom", "node0012.dc1:9100"));
    let loading = render(&state, 160, 48);
    assert!(
        loading.contains("node node0012.dc1:9100 from prom") && loading.contains("loading history…"),
        "{loading}"
    );
    assert!(loading.contains("Disk (fullest)") && loading.contains("Network tx"), "{loading}");

    let wall_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let cpu: Vec<(f64, f64)> = (0..60).map(|i| (wall_s - 300.0 + f64::from(i) * 5.0, 50.0)).collect();
    let history = opsdeck::sources::fleet::FleetHistory {
        origin: "prom".into(),
        instance: "node0012.dc1:9100".into(),
        cpu,
        ..Default::default()
    };
    state.fleet.on_history(history, now, std::time::SystemTime::now());
    let drawn = render(&state, 160, 48);
    assert!(!drawn.contains("loading history…"), "{drawn}");
    assert!(drawn.matches('█').count() > 100, "the CPU chart drawn from the history:\n{drawn}");

    state.apply(Action::Back);
    assert!(render(&state, 160, 48).contains("Fleet 31 nodes"));
    state.apply(Action::Jump);
    let menu = render(&state, 160, 48);
    assert!(
        menu.contains("Jump from node node0012.dc1:9100") && menu.contains("alerts matching node0012.dc1"),
        "{menu}"
    );
}
