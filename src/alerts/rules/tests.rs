use std::path::Path;
use std::time::{Duration, Instant};

use super::*;
use crate::alerts::model::Severity;
use crate::config::alerts::{RuleOp, builtin_rules};
use crate::model::metrics::{DiskStat, MemoryStat};

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + secs).unwrap()
}

fn cpu(value: f64) -> Vec<Sample> {
    vec![Sample { metric: "cpu".into(), labels: BTreeMap::from([("instance".into(), "web1".into())]), value }]
}

fn rule(threshold: f64, clear: f64, for_secs: u64) -> RuleConfig {
    RuleConfig {
        name: "HighCpu".into(),
        metric: "cpu".into(),
        op: RuleOp::Above,
        threshold,
        clear,
        for_: Duration::from_secs(for_secs),
        severity: Severity::Warning,
        labels: BTreeMap::from([("team".into(), "ops".into())]),
        summary: "CPU at {value}% on {instance}".into(),
        description: Some("{metric} above {threshold} ({team}, {nope})".into()),
        enabled: true,
    }
}

/// The state of the one alert the engine returns, if any.
fn state(e: &mut RuleEngine, at: i64, value: f64) -> Option<AlertState> {
    let alerts = e.evaluate(t(at), &cpu(value));
    assert!(alerts.len() <= 1);
    alerts.first().map(|a| a.state)
}

#[test]
fn pending_until_for_has_passed_then_firing() {
    let mut e = RuleEngine::new(&[rule(80.0, 75.0, 300)]);
    assert_eq!(state(&mut e, 0, 50.0), None);
    assert_eq!(state(&mut e, 10, 90.0), Some(AlertState::Pending));
    assert_eq!(state(&mut e, 309, 90.0), Some(AlertState::Pending));
    let alerts = e.evaluate(t(310), &cpu(91.0));
    assert_eq!(alerts[0].state, AlertState::Firing);
    // starts_at is when the condition began to hold, as Prometheus's activeAt.
    assert_eq!(alerts[0].starts_at, Some(t(10)));
}

#[test]
fn dropping_below_the_threshold_while_pending_starts_over() {
    let mut e = RuleEngine::new(&[rule(80.0, 75.0, 60)]);
    assert_eq!(state(&mut e, 0, 90.0), Some(AlertState::Pending));
    // Above clear but below the threshold: pending ends, nothing fired.
    assert_eq!(state(&mut e, 30, 78.0), None);
    assert_eq!(state(&mut e, 40, 90.0), Some(AlertState::Pending));
    assert_eq!(state(&mut e, 90, 90.0), Some(AlertState::Pending), "the clock restarted at 40");
    assert_eq!(state(&mut e, 100, 90.0), Some(AlertState::Firing));
}

#[test]
fn hysteresis_flapping_at_the_threshold_does_not_refire() {
    let mut e = RuleEngine::new(&[rule(80.0, 75.0, 0)]);
    let first = e.evaluate(t(0), &cpu(81.0));
    assert_eq!(first[0].state, AlertState::Firing);
    for (i, v) in [79.0, 81.0, 76.0, 80.5, 75.1].into_iter().enumerate() {
        let a = e.evaluate(t(i as i64 + 1), &cpu(v));
        assert_eq!(a.len(), 1, "{v}");
        assert_eq!(
            (a[0].state, a[0].starts_at),
            (AlertState::Firing, Some(t(0))),
            "still the same firing at {v}"
        );
    }
    // Exactly at clear resolves; below the threshold it stays resolved.
    assert_eq!(state(&mut e, 10, 75.0), None);
    assert_eq!(state(&mut e, 11, 79.0), None);
    assert_eq!(state(&mut e, 12, 80.0), None, "the threshold is strict");
    assert_eq!(state(&mut e, 13, 80.1), Some(AlertState::Firing));
}

#[test]
fn below_rules_mirror_above_rules() {
    let mut r = rule(10.0, 15.0, 0);
    r.op = RuleOp::Below;
    let mut e = RuleEngine::new(&[r]);
    assert_eq!(state(&mut e, 0, 12.0), None);
    assert_eq!(state(&mut e, 1, 9.0), Some(AlertState::Firing));
    assert_eq!(state(&mut e, 2, 14.0), Some(AlertState::Firing));
    assert_eq!(state(&mut e, 3, 15.0), None);
}

#[test]
fn a_series_that_disappears_resolves() {
    let mut e = RuleEngine::new(&builtin_rules());
    let disk = |mount: &str, value| Sample {
        metric: "disk_percent".into(),
        labels: BTreeMap::from([("instance".into(), "h".into()), ("mount".into(), mount.into())]),
        value,
    };
    let a = e.evaluate(t(0), &[disk("/", 50.0), disk("/data", 95.0)]);
    assert_eq!(a.len(), 1);
    assert_eq!((a[0].name.as_str(), a[0].severity), ("DiskFull", Severity::Critical));
    assert_eq!(a[0].annotation("summary"), Some("Disk /data at 95% on h"));
    assert!(e.evaluate(t(1), &[disk("/", 50.0)]).is_empty(), "unmounted: resolved");
    // Coming back is a new alert, not the old one resumed.
    assert_eq!(e.evaluate(t(2), &[disk("/data", 95.0)])[0].starts_at, Some(t(2)));
}

#[test]
fn alerts_carry_labels_fingerprint_value_and_rendered_annotations() {
    let mut e = RuleEngine::new(&[rule(80.0, 75.0, 0)]);
    let a = e.evaluate(t(0), &cpu(93.456)).remove(0);
    let want: BTreeMap<String, String> =
        [("alertname", "HighCpu"), ("instance", "web1"), ("severity", "warning"), ("team", "ops")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    assert_eq!(*a.labels, want);
    assert_eq!(a.fingerprint, fingerprint(&want));
    assert_eq!(
        (a.source.as_str(), a.source_kind, a.seen_by.as_slice()),
        ("local", SourceKind::Local, &["local".to_owned()][..])
    );
    assert_eq!(a.value.as_deref(), Some("93.5"));
    assert_eq!(a.headline(), "CPU at 93.5% on web1");
    // An unknown placeholder stays visible rather than vanishing.
    assert_eq!(a.annotation("description"), Some("cpu above 80 (ops, {nope})"));
}

#[test]
fn disabled_by_config_means_not_evaluated() {
    let c = crate::config::parse("[[rules]]\nname = \"HighCpu\"\nenabled = false\n", Path::new("t.toml"))
        .unwrap();
    let mut e = RuleEngine::new(&c.rules);
    let names: Vec<&str> = e.rules().map(|r| r.name.as_str()).collect();
    assert_eq!(names[..2], ["HighMemory", "DiskFull"]);
    assert!(!names.contains(&"HighCpu"));
    assert!(e.evaluate(t(0), &cpu(99.0)).is_empty());
    for _ in 0..2 {
        assert!(e.evaluate(t(600), &cpu(99.0)).is_empty());
    }
}

#[test]
fn builtins_wait_their_for() {
    let mut e = RuleEngine::new(&builtin_rules());
    assert_eq!(e.evaluate(t(0), &cpu(85.0))[0].state, AlertState::Pending);
    assert_eq!(e.evaluate(t(299), &cpu(85.0))[0].state, AlertState::Pending);
    assert_eq!(e.evaluate(t(300), &cpu(85.0))[0].state, AlertState::Firing);
    assert_eq!(e.evaluate(t(301), &cpu(76.0))[0].state, AlertState::Firing, "clear is 75");
    assert!(e.evaluate(t(302), &cpu(75.0)).is_empty());
}

fn backup_age(ratio: f64) -> Vec<Sample> {
    let labels = BTreeMap::from([("catalog".into(), "pg-main".into())]);
    vec![Sample { metric: "backup_age_rpo_ratio".into(), labels, value: ratio }]
}

/// (rule name, state, inhibited_by) of each alert, in the engine's order.
fn states(alerts: &[Alert]) -> Vec<(&str, AlertState, Vec<String>)> {
    alerts.iter().map(|a| (a.name.as_str(), a.state, a.inhibited_by.clone())).collect()
}

#[test]
fn a_firing_worse_rule_inhibits_the_milder_one_on_the_same_series_until_it_resolves() {
    let mut e = RuleEngine::new(&builtin_rules());
    let firing = |name| (name, AlertState::Firing, Vec::new());
    assert_eq!(states(&e.evaluate(t(0), &backup_age(1.5))), [firing("BackupStale")]);

    let both = e.evaluate(t(60), &backup_age(2.5));
    let inhibited = ("BackupStale", AlertState::Inhibited, vec!["BackupStaleCritical".to_owned()]);
    assert_eq!(states(&both), [inhibited, firing("BackupStaleCritical")]);
    assert_eq!(both[0].starts_at, Some(t(0)), "the milder alert keeps running underneath");

    let back = e.evaluate(t(120), &backup_age(1.5));
    assert_eq!(states(&back), [firing("BackupStale")]);
    assert_eq!(back[0].starts_at, Some(t(0)));

    // Another catalog's critical quiets only that catalog's warning.
    let mut other = backup_age(2.5);
    other[0].labels.insert("catalog".into(), "mysql".into());
    other.extend(backup_age(1.5));
    let mixed = e.evaluate(t(180), &other);
    let by_catalog: Vec<_> =
        mixed.iter().map(|a| (a.name.as_str(), a.labels["catalog"].as_str(), a.state)).collect();
    assert_eq!(
        by_catalog,
        [
            ("BackupStale", "mysql", AlertState::Inhibited),
            ("BackupStale", "pg-main", AlertState::Firing),
            ("BackupStaleCritical", "mysql", AlertState::Firing),
        ]
    );
}

#[test]
fn a_pending_worse_rule_inhibits_nothing_yet() {
    let warn = RuleConfig { name: "Lag".into(), ..rule(5.0, 4.0, 0) };
    let crit = RuleConfig { name: "Lag".into(), severity: Severity::Critical, ..rule(60.0, 48.0, 30) };
    let mut e = RuleEngine::new(&[warn, crit]);
    let first = e.evaluate(t(0), &cpu(90.0));
    assert_eq!(
        states(&first),
        [("Lag", AlertState::Firing, Vec::new()), ("Lag", AlertState::Pending, Vec::new())]
    );
    let held = e.evaluate(t(30), &cpu(90.0));
    assert_eq!(held[0].state, AlertState::Inhibited);
    assert_eq!(held[1].state, AlertState::Firing);
    assert_ne!(held[0].fingerprint, held[1].fingerprint, "severity tells them apart");
}

#[test]
fn templates_fill_placeholders_and_escape_braces() {
    let lookup = |k: &str| match k {
        "value" => Some("93".to_owned()),
        "instance" => Some("db-1".to_owned()),
        _ => None,
    };
    assert_eq!(render("CPU at {value}% on {instance}", lookup), "CPU at 93% on db-1");
    assert_eq!(render("{{literal}} {value} {missing} }}", lookup), "{literal} 93 {missing} }");
    assert_eq!(render("日志 {value}", lookup), "日志 93");
    assert!(check_template("a {value} {{x}} }}").is_ok());
    assert!(check_template("a {value").unwrap_err().contains("unclosed {"));
    assert!(check_template("a } b").unwrap_err().contains("unmatched }"));
    assert!(check_template("a {} b").is_err());
}

#[test]
fn values_read_naturally() {
    let table = [
        (93.0, "93"),
        (93.456, "93.5"),
        (150.7, "151"),
        (1.25, "1.25"),
        (0.0042, "0.004"),
        (0.0, "0"),
        (-2.5, "-2.5"),
    ];
    for (v, want) in table {
        assert_eq!(format_value(v), want, "{v}");
    }
}

#[test]
fn node_samples_cover_cpu_memory_swap_load_and_each_disk() {
    let disk = |mount: &str, total, available| DiskStat {
        mount: mount.into(),
        device: "sda1".into(),
        fs: "ext4".into(),
        total,
        available,
        read_per_sec: 0.0,
        write_per_sec: 0.0,
    };
    let mut s = NodeSample {
        at: Instant::now(),
        warming_up: true,
        uptime: Duration::from_secs(1),
        load: [2.5, 1.0, 0.5],
        cpu_total: 42.0,
        cpu_per_core: vec![42.0],
        memory: MemoryStat { total: 100, used: 90 },
        swap: MemoryStat { total: 0, used: 0 },
        disks: vec![disk("/", 100, 5), disk("/boot", 100, 50)],
        networks: vec![],
        processes: vec![],
    };
    let metrics =
        |s: &NodeSample| node_samples("h1", s).into_iter().map(|x| (x.metric, x.value)).collect::<Vec<_>>();
    let want_rest = [
        ("memory_percent", 90.0),
        ("swap_percent", 0.0),
        ("load_1", 2.5),
        ("disk_percent", 95.0),
        ("disk_percent", 50.0),
    ];
    let want: Vec<(String, f64)> = want_rest.iter().map(|(m, v)| ((*m).to_owned(), *v)).collect();
    assert_eq!(metrics(&s), want, "no cpu while warming up");
    s.warming_up = false;
    assert_eq!(metrics(&s)[0], ("cpu".to_owned(), 42.0));
    let samples = node_samples("h1", &s);
    assert!(samples.iter().all(|x| x.labels["instance"] == "h1"));
    assert_eq!(samples[4].labels.get("mount").map(String::as_str), Some("/"));
    assert_eq!(samples[4].labels.get("device").map(String::as_str), Some("sda1"));
}
