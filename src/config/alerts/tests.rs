use std::path::Path;

use super::*;
use crate::config::{Config, parse};

fn rules_of(src: &str) -> Result<Vec<RuleConfig>, String> {
    parse(src, Path::new("t.toml")).map(|c| c.rules).map_err(|e| e.to_string())
}

#[test]
fn defaults_are_the_builtins() {
    let c = Config::default();
    let names: Vec<&str> = c.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "HighCpu",
            "HighMemory",
            "DiskFull",
            "ReplicationStopped",
            "ReplicationMemberDown",
            "ReplicationSplitBrain",
            "ReplicationSlotInactive",
            "ReplicationSlotLost",
            "BackupStale",
            "BackupStaleCritical",
            "BackupGap",
            "BackupSizeAnomaly",
            "BackupRetention",
            "BackupVerifyFailed",
            "BackupCatalogUnreadable",
            "LogErrors",
            "HealthCheckDown",
            "HealthCheckSlow",
            "NodeDown"
        ]
    );
    assert_eq!(c.alerts.group_by, ["alertname"]);
    assert_eq!(c.alerts.severity_labels, ["severity", "priority", "level"]);
}

#[test]
fn a_same_named_entry_replaces_a_builtin_and_others_add() {
    let rules = rules_of(
        "[[rules]]\nname = \"HighCpu\"\nenabled = false\n\n\
         [[rules]]\nname = \"HighLoad\"\nmetric = \"load_1\"\nthreshold = 8\nfor = \"2m\"\n\
         severity = \"critical\"\nlabels = { team = \"ops\" }\n",
    )
    .unwrap();
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    let builtins: Vec<String> = builtin_rules().into_iter().map(|r| r.name).collect();
    assert_eq!(names[..builtins.len()], builtins, "built-ins first, in their order");
    assert_eq!(names[builtins.len()..], ["HighLoad"]);
    // Omitted fields of a built-in keep its values.
    assert!(!rules[0].enabled);
    assert_eq!((rules[0].threshold, rules[0].clear, rules[0].metric.as_str()), (80.0, 75.0, "cpu"));
    let load = &rules[builtins.len()];
    assert_eq!((load.op, load.threshold, load.clear), (RuleOp::Above, 8.0, 8.0));
    assert_eq!((load.for_, load.severity), (Duration::from_secs(120), Severity::Critical));
    assert_eq!(load.labels["team"], "ops");
}

#[test]
fn a_new_threshold_on_a_builtin_drops_its_clear() {
    let rules = rules_of("[[rules]]\nname = \"HighCpu\"\nthreshold = 70\n").unwrap();
    assert_eq!((rules[0].threshold, rules[0].clear), (70.0, 70.0));
}

#[test]
fn bad_rules_fail_at_their_position() {
    let table = [
        (
            "[[rules]]\nname = \"X\"\nmetric = \"m\"\nthreshold = 1\nop = \">=\"\n",
            ":5:6:",
            "unknown op \">=\"",
        ),
        (
            "[[rules]]\nname = \"X\"\nmetric = \"m\"\nthreshold = 1\nseverity = \"page\"\n",
            ":5:12:",
            "unknown severity \"page\"",
        ),
        (
            "[[rules]]\nname = \"X\"\nmetric = \"m\"\nthreshold = 80\nclear = 85\n",
            ":1:1:",
            "clear (85) must not be above threshold (80)",
        ),
        (
            "[[rules]]\nname = \"X\"\nmetric = \"m\"\nop = \"<\"\nthreshold = 10\nclear = 5\n",
            ":1:1:",
            "clear (5) must not be below threshold (10)",
        ),
        ("[[rules]]\nname = \"X\"\nthreshold = 1\n", ":1:1:", "rule \"X\" needs metric"),
        (
            "[[rules]]\nname = \"X\"\nmetric = \"m\"\nthreshold = 1\nfor = \"5x\"\n",
            ":5:7:",
            "invalid duration",
        ),
        (
            "[[rules]]\nname = \"X\"\nmetric = \"m\"\nthreshold = 1\nsummary = \"{value\"\n",
            ":1:1:",
            "unclosed {",
        ),
        (
            "[[rules]]\nname = \"X\"\nmetric = \"m\"\nthreshold = 1\nlabels = { severity = \"x\" }\n",
            ":1:1:",
            "label \"severity\" is set by",
        ),
        ("[[rules]]\nname = \"X\"\nmetric = \"m\"\nthreshold = 1\ncolour = 1\n", ":5:1:", "unknown field"),
        ("[[rules]]\nname = \"DiskFull\"\n[[rules]]\nname = \"DiskFull\"\n", ":1:1:", "used twice"),
        (
            "[alerts.severity_spellings]\ncritical = [\"p2\"]\nwarning = [\"P2\"]\n",
            ":1:1:",
            "both critical and warning",
        ),
    ];
    for (src, position, message) in table {
        let err = rules_of(src).unwrap_err();
        let first = err.lines().next().unwrap_or_default();
        assert!(first.contains(position) && first.contains(message), "{src}\n=> {err}");
    }
}
