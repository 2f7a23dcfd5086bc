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
fn configured_but_unpolled_sources_are_listed_honestly() {
    let config: Config = toml::from_str(
        "[[clusters]]\nname = \"main-pg\"\nkind = \"postgres\"\nmembers = [\"127.0.0.1:5432\"]\n",
    )
    .unwrap();
    let mut state = fixture::state_with(config, "dark", 10);
    state.apply(Action::TabReplication);
    let screen = render(&state, 100, 30);
    assert!(screen.contains("does not poll these yet"), "{screen}");
    assert!(screen.contains("main-pg (Postgres, 1 members)"), "{screen}");
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
