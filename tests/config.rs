//! The config as users meet it: the shipped example is the defaults, and each
//! file in tests/invalid_configs/ fails with the message its first line names.

mod common;

use std::path::Path;

use common::Sandbox;
use opsdeck::config::{self, Config};

#[test]
fn the_example_config_parses_to_exactly_the_defaults() {
    let parsed =
        config::parse(config::EXAMPLE, Path::new("config.example.toml")).unwrap_or_else(|e| panic!("{e}"));
    // Field by field first, so a difference names the option.
    let d = Config::default();
    assert_eq!(parsed.read_only, d.read_only, "read_only");
    assert_eq!(parsed.theme, d.theme, "theme");
    assert_eq!(parsed.refresh, d.refresh, "refresh");
    assert_eq!(parsed.metrics, d.metrics, "[metrics]");
    assert_eq!(parsed.keys, d.keys, "[keys]");
    assert_eq!(parsed.alerts, d.alerts, "[alerts]");
    assert_eq!(parsed.rules, d.rules, "[[rules]]");
    assert_eq!(parsed, d);
}

#[test]
fn the_example_documents_every_action_in_keys() {
    for action in opsdeck::action::Action::ALL {
        let line = format!("\n{} = ", action.config_name());
        assert!(config::EXAMPLE.contains(&line), "config.example.toml lacks [keys] {}", action.config_name());
    }
}

#[test]
fn the_commented_snippets_in_the_example_are_valid_config() {
    // Uncomment the backend tables: they must parse, so the example never
    // teaches a snippet the parser rejects.
    let uncommented: String = config::EXAMPLE
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest)
                if rest.starts_with("[[")
                    || rest.starts_with("[fleet")
                    || rest.starts_with("[tail")
                    || is_assignment(rest) =>
            {
                rest
            }
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let c = config::parse(&uncommented, Path::new("uncommented")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((c.alertmanager.len(), c.prometheus.len(), c.clusters.len()), (1, 1, 1));
    assert_eq!((c.backups.len(), c.logs.len()), (4, 3));
    assert_eq!(c.backups[0].patterns.len(), 4, "the dir example's patterns parse");
    assert_eq!((c.health.len(), c.nodes.len()), (2, 1));
    assert_eq!(c.tail, opsdeck::config::tail::TailConfig::default(), "[tail] documents the defaults");
    assert!(c.fleet.prometheus.is_some() && c.fleet.queries.cpu_percent.contains("node_cpu_seconds_total"));
    assert!(c.maintenance.flag_file.is_some() && c.audit.mirror_file.is_some());
    let names: Vec<&str> = c.actions.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["restart-nginx", "term-process", "haproxy-drain", "haproxy-undrain", "rollout-restart-api"]
    );
    assert!(c.actions[0].key.is_some(), "the example shows a key binding");
    let drain = &c.actions[2];
    assert_eq!(drain.stdin.as_deref(), Some("disable server {backend}/{server}\n"));
    assert_eq!(drain.guard, opsdeck::ops::guard::Tier::TypeNameReason);
    assert!(c.actions.iter().all(|a| a.mutating), "mutating is the default");
    // [[rules]]: a rule added after the built-ins, and a built-in turned off.
    let rules: Vec<(&str, bool)> = c.rules.iter().map(|r| (r.name.as_str(), r.enabled)).collect();
    assert_eq!(rules[..3], [("HighCpu", false), ("HighMemory", true), ("DiskFull", true)]);
    assert_eq!(rules.last(), Some(&("HighLoad", true)));
    assert_eq!(
        (c.rules[0].threshold, c.rules[0].clear),
        (80.0, 75.0),
        "a disabled built-in keeps its values"
    );
    let load = c.rules.last().expect("the added rule");
    assert_eq!((load.threshold, load.clear, load.for_), (16.0, 12.0, std::time::Duration::from_secs(600)));
    assert_eq!(c.alerts.severity_spellings.warning, ["sev2", "error"]);
}

fn is_assignment(line: &str) -> bool {
    line.split_once(" = ").is_some_and(|(key, _)| key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
}

#[test]
fn every_invalid_config_fails_with_its_message_and_position() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid_configs");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let src = std::fs::read_to_string(&path).unwrap();
        let expect = src
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: first line must be `# expect: <message>`", path.display()));
        let err = match config::parse(&src, &path) {
            Ok(_) => panic!("{} parsed but should fail with {expect:?}", path.display()),
            Err(e) => e,
        };
        let shown = err.to_string();
        let first_line = shown.lines().next().unwrap_or_default();
        assert!(first_line.starts_with(&path.display().to_string()), "{first_line}");
        assert!(
            first_line.contains(expect),
            "{}:\n  expected: {expect}\n  got:      {first_line}",
            path.display()
        );
        // Every error points at a line, and quotes it with a caret.
        assert!(err.position.is_some(), "{shown}");
        assert!(shown.contains(" | ") && shown.contains('^'), "{shown}");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} invalid configs");
}

#[test]
fn the_readme_keymap_names_every_action() {
    let readme = include_str!("../README.md");
    for action in opsdeck::action::Action::ALL {
        let name = format!("`{}`", action.config_name());
        assert!(readme.contains(&name), "README.md's key table lacks {name}");
    }
}

/// `opsdeck config check`, the real binary, on a duration past its bound:
/// it fails with EX_CONFIG and points at the value, file:line:column.
/// `arm_window = "18446744073709551615s"` used to pass, and pressing A then
/// overflowed the clock and panicked.
#[test]
fn config_check_rejects_durations_past_their_bounds_at_their_position() {
    let sandbox = Sandbox::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid_configs");
    for (file, position, message) in [
        (
            "arm_window_overflow.toml",
            ":3:14: ",
            "duration \"18446744073709551615s\" is out of range: allowed 1s to 1day",
        ),
        ("backup_rpo_too_long.toml", ":6:7: ", "duration \"20y\" is out of range: allowed 1s to 10years"),
        (
            "backup_retention_too_long.toml",
            ":6:43: ",
            "duration \"11y\" is out of range: allowed 1s to 10years",
        ),
    ] {
        let path = dir.join(file);
        let out = sandbox.command(["config", "check", path.to_str().expect("utf-8")]).output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "{file}: {out:?}");
        let first = stderr.lines().next().unwrap_or_default();
        assert_eq!(first, format!("opsdeck: error: {}{position}{message}", path.display()), "{file}");
        assert!(stderr.contains(" | ") && stderr.contains('^'), "{file}: the value is quoted: {stderr}");
    }
}

/// Every duration in the example is within its bounds, and each documents them.
#[test]
fn the_example_documents_every_duration_bound() {
    use opsdeck::config::duration as d;
    for (bounds, setting) in [
        (d::POLL, "refresh"),
        (d::HISTORY, "history"),
        (d::WALL_CYCLE, "cycle"),
        (d::ARM_WINDOW, "arm_window"),
        (d::RULE_FOR, "for"),
        (d::RUN_TIMEOUT, "timeout"),
        (d::COOLDOWN, "cooldown"),
        (d::SLOW, "slow"),
        (d::BACKUP_AGE, "rpo"),
        (d::RESCAN, "interval"),
    ] {
        let range = format!(
            "{} .. {}",
            humantime::format_duration(bounds.min),
            humantime::format_duration(bounds.max)
        );
        assert!(config::EXAMPLE.contains(&range), "config.example.toml does not document {setting}: {range}");
    }
}
