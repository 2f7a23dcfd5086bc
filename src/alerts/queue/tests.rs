use std::collections::{BTreeMap, HashSet};

use super::*;
use crate::alerts::matcher::Filter;
use crate::alerts::model::SourceKind;

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + secs).unwrap()
}

/// An alert as a poller hands it in: severity unknown, mapped by the queue.
fn alert(kind: SourceKind, name: &str, extra: &[(&str, &str)], state: AlertState, start: i64) -> Alert {
    let mut labels = BTreeMap::from([("alertname".to_owned(), name.to_owned())]);
    labels.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Alert {
        source: String::new(),
        source_kind: kind,
        fingerprint: fingerprint(&labels),
        name: name.to_owned(),
        severity: Severity::Unknown,
        state,
        labels: labels.into(),
        annotations: Default::default(),
        starts_at: Some(t(start)),
        ends_at: None,
        value: None,
        generator_url: None,
        silenced_by: vec![],
        inhibited_by: vec![],
        seen_by: vec![],
    }
}

fn am(name: &str, extra: &[(&str, &str)], state: AlertState, start: i64) -> Alert {
    alert(SourceKind::Alertmanager, name, extra, state, start)
}

fn prom(name: &str, extra: &[(&str, &str)], state: AlertState, start: i64) -> Alert {
    alert(SourceKind::Prometheus, name, extra, state, start)
}

fn queue() -> Queue {
    Queue::new(vec!["alertname".into()], SeverityMap::default())
}

fn names(q: &Queue) -> Vec<&str> {
    q.iter().map(|a| a.name.as_str()).collect()
}

use crate::alerts::model::AlertState::{Acked, Firing, Inhibited, Pending, Resolved, Silenced};

#[test]
fn one_row_per_fingerprint_seen_by_every_source() {
    let mut q = queue();
    let mut a = am("DiskFull", &[("severity", "P1")], Firing, 100);
    std::sync::Arc::make_mut(&mut a.annotations).insert("summary".into(), "from am".into());
    let mut p = prom("DiskFull", &[("severity", "P1")], Firing, 50);
    p.generator_url = Some("http://prom/graph".into());
    p.value = Some("95".into());
    q.replace_source_at("am", vec![a], t(0));
    q.replace_source_at("prom", vec![p], t(0));
    assert_eq!(q.len(), 1);
    let m = q.alert(0);
    assert_eq!(m.seen_by, ["am", "prom"]);
    assert_eq!((m.source.as_str(), m.severity), ("am", Severity::Critical), "severity mapped from P1");
    assert_eq!(m.starts_at, Some(t(50)), "the earliest start");
    assert_eq!(m.headline(), "from am");
    assert_eq!(m.generator_url.as_deref(), Some("http://prom/graph"), "from the first source that has it");
    assert_eq!(m.value.as_deref(), Some("95"));
}

#[test]
fn merge_rules_for_state() {
    let table = [
        // (am, prom, merged)
        (Silenced, Firing, Silenced),
        (Inhibited, Firing, Inhibited),
        (Firing, Pending, Firing),
        (Pending, Pending, Pending),
    ];
    for (a, p, want) in table {
        let mut q = queue();
        q.replace_source_at("prom", vec![prom("X", &[], p, 0)], t(0));
        q.replace_source_at("am", vec![am("X", &[], a, 0)], t(0));
        assert_eq!(q.alert(0).state, want, "am {a:?} + prom {p:?}");
    }
    // Only an Alertmanager can silence: a Prometheus "silenced" is firing,
    // reported alone or not.
    let mut q = queue();
    q.replace_source_at("prom", vec![prom("X", &[], Silenced, 0)], t(0));
    assert_eq!(q.alert(0).state, Firing);
    q.replace_source_at("prom2", vec![prom("X", &[], Inhibited, 0)], t(0));
    assert_eq!(q.alert(0).state, Firing);
}

#[test]
fn silences_and_inhibitions_are_united() {
    let mut q = queue();
    let mut a = am("X", &[], Silenced, 0);
    a.silenced_by = vec!["s1".into()];
    let mut b = am("X", &[], Silenced, 0);
    b.silenced_by = vec!["s2".into(), "s1".into()];
    q.replace_source_at("am1", vec![a], t(0));
    q.replace_source_at("am2", vec![b], t(0));
    assert_eq!(q.alert(0).silenced_by, ["s1", "s2"]);
}

#[test]
fn transitions_for_appear_change_and_resolve() {
    let mut q = queue();
    let tr = q.replace_source_at("prom", vec![prom("A", &[], Pending, 0), prom("B", &[], Firing, 0)], t(1));
    let got: Vec<_> = tr.iter().map(|x| (x.alert.name.as_str(), x.from, x.to, x.at)).collect();
    assert_eq!(got.len(), 2);
    assert!(got.contains(&("A", None, Pending, t(1))) && got.contains(&("B", None, Firing, t(1))));
    // Re-sending the same list changes nothing.
    assert!(
        q.replace_source_at("prom", vec![prom("A", &[], Pending, 0), prom("B", &[], Firing, 0)], t(2))
            .is_empty()
    );
    let tr = q.replace_source_at("prom", vec![prom("A", &[], Firing, 0)], t(3));
    let got: Vec<_> = tr.iter().map(|x| (x.alert.name.as_str(), x.from, x.to)).collect();
    assert_eq!(got.len(), 2);
    assert!(got.contains(&("A", Some(Pending), Firing)) && got.contains(&("B", Some(Firing), Resolved)));
    assert_eq!(tr.iter().find(|x| x.to == Resolved).map(|x| x.alert.labels["alertname"].as_str()), Some("B"));
}

#[test]
fn an_alert_moving_between_sources_does_not_flap() {
    let mut q = queue();
    q.replace_source_at("prom", vec![prom("A", &[], Firing, 0)], t(0));
    assert!(q.replace_source_at("am", vec![am("A", &[], Firing, 0)], t(1)).is_empty());
    assert!(q.replace_source_at("prom", vec![], t(2)).is_empty(), "am still has it");
    assert_eq!(q.alert(0).seen_by, ["am"]);
    let tr = q.replace_source_at("am", vec![], t(3));
    assert_eq!((tr.len(), tr[0].to), (1, Resolved));
    assert!(q.is_empty());
}

#[test]
fn unchanged_alerts_are_shared_not_copied() {
    let mut q = queue();
    q.replace_source_at("prom", vec![prom("A", &[], Firing, 0)], t(0));
    let before = Arc::clone(&q.slots[0].alert);
    q.replace_source_at("prom", vec![prom("A", &[], Firing, 0)], t(1));
    assert!(Arc::ptr_eq(&before, &q.slots[0].alert));
}

#[test]
fn acks_quiet_firing_and_pending_but_not_silenced() {
    let mut q = queue();
    q.replace_source_at(
        "am",
        vec![am("F", &[], Firing, 0), am("P", &[], Pending, 0), am("S", &[], Silenced, 0)],
        t(0),
    );
    let ack = |name: &str| Ack {
        fingerprint: q.iter().find(|a| a.name == name).unwrap().fingerprint.clone(),
        who: "ana".into(),
        at: t(5),
        comment: "on it".into(),
    };
    let acks = vec![ack("F"), ack("P"), ack("S")];
    let fp_f = acks[0].fingerprint.clone();
    let tr = q.set_acks_at(acks, t(6));
    let mut got: Vec<_> = tr.iter().map(|x| (x.alert.name.as_str(), x.from, x.to)).collect();
    got.sort();
    assert_eq!(got, [("F", Some(Firing), Acked), ("P", Some(Pending), Acked)]);
    assert_eq!(q.by_fingerprint(&fp_f).map(|a| a.state), Some(Acked));
    assert_eq!(q.ack(&fp_f).map(|a| a.who.as_str()), Some("ana"));
    assert_eq!(q.counts(), Counts { quiet: 3, ..Counts::default() });
    // The ack survives polls; F resolves and its ack becomes stale.
    q.replace_source_at("am", vec![am("P", &[], Firing, 0), am("S", &[], Silenced, 0)], t(7));
    assert_eq!(q.stale_acks(), std::slice::from_ref(&fp_f));
    assert_eq!(q.iter().map(|a| a.state).collect::<Vec<_>>(), [Acked, Silenced]);
    // Un-acking brings it back.
    let tr = q.set_acks_at(vec![], t(8));
    assert_eq!(tr.iter().map(|x| (x.alert.name.as_str(), x.to)).collect::<Vec<_>>(), [("P", Firing)]);
    assert!(q.stale_acks().is_empty());
}

#[test]
fn a_changed_label_set_is_a_new_alert_and_stales_the_ack() {
    let mut q = queue();
    q.replace_source_at("am", vec![am("X", &[("pod", "a")], Firing, 0)], t(0));
    let fp = q.alert(0).fingerprint.clone();
    q.set_acks_at(
        vec![Ack { fingerprint: fp.clone(), who: "u".into(), at: t(0), comment: String::new() }],
        t(0),
    );
    let tr = q.replace_source_at("am", vec![am("X", &[("pod", "b")], Firing, 0)], t(1));
    assert_eq!(tr.len(), 2, "{tr:?}");
    assert_eq!(q.stale_acks(), [fp]);
    assert_eq!(q.alert(0).state, Firing);
}

#[test]
fn sorted_by_severity_state_age_then_fingerprint() {
    let mut q = queue();
    q.replace_source_at(
        "prom",
        vec![
            prom("InfoOld", &[("severity", "info")], Firing, 0),
            prom("WarnNew", &[("severity", "warning")], Firing, 20),
            prom("CritPending", &[("severity", "critical")], Pending, 0),
            prom("WarnOld", &[("severity", "warning")], Firing, 10),
            prom("CritNew", &[("severity", "critical")], Firing, 30),
            prom("NoSeverity", &[], Firing, 0),
        ],
        t(0),
    );
    assert_eq!(names(&q), ["CritNew", "CritPending", "WarnOld", "WarnNew", "InfoOld", "NoSeverity"]);
    for (i, a) in q.iter().enumerate() {
        assert_eq!(q.index_of(&a.fingerprint), Some(i));
    }
}

fn fleet() -> Queue {
    let mut q = queue();
    q.replace_source_at(
        "am",
        vec![
            am("HighCpu", &[("severity", "warning"), ("instance", "a")], Firing, 0),
            am("HighCpu", &[("severity", "warning"), ("instance", "b")], Pending, 0),
            am("DiskFull", &[("severity", "critical"), ("instance", "a")], Firing, 5),
            am("DiskFull", &[("severity", "critical"), ("instance", "b")], Silenced, 5),
            am("Backup", &[("severity", "info")], Inhibited, 5),
        ],
        t(0),
    );
    q
}

fn headers(v: &View) -> Vec<(String, usize, bool)> {
    v.rows
        .iter()
        .filter_map(|r| match r {
            Row::Group { label, counts, quiet_section, .. } => {
                Some((label.clone(), counts.total(), *quiet_section))
            }
            Row::Alert { .. } => None,
        })
        .collect()
}

#[test]
fn groups_by_worst_alert_with_quiet_section_last() {
    let q = fleet();
    let v = q.view(&Filter::default(), true, &HashSet::new());
    let want = [
        ("DiskFull".to_owned(), 1, false),
        ("HighCpu".to_owned(), 2, false),
        ("DiskFull".to_owned(), 1, true),
        ("Backup".to_owned(), 1, true),
    ];
    assert_eq!(headers(&v), want);
    assert_eq!((v.rows.len(), v.matched, v.quiet_hidden), (9, 5, 0));
    let Row::Group { key, counts, pending, .. } = &v.rows[2] else { panic!("{:?}", v.rows[2]) };
    assert_eq!((key.as_str(), counts.warning, *pending), (r#"{alertname="HighCpu"}"#, 2, 1));
    assert!(matches!(&v.rows[5], Row::Group { key, .. } if key == r#"quiet:{alertname="DiskFull"}"#));
    let alert_names: Vec<&str> = v
        .rows
        .iter()
        .filter_map(|r| if let Row::Alert { index } = r { Some(q.alert(*index).name.as_str()) } else { None })
        .collect();
    assert_eq!(alert_names, ["DiskFull", "HighCpu", "HighCpu", "DiskFull", "Backup"]);
    assert_eq!(q.counts(), Counts { critical: 1, warning: 1, pending: 1, quiet: 2, ..Counts::default() });
}

#[test]
fn quiet_hidden_unless_asked_and_collapsed_groups_keep_their_header() {
    let q = fleet();
    let collapsed = HashSet::from([r#"{alertname="HighCpu"}"#.to_owned()]);
    let v = q.view(&Filter::default(), false, &collapsed);
    assert_eq!(headers(&v), [("DiskFull".to_owned(), 1, false), ("HighCpu".to_owned(), 2, false)]);
    assert_eq!((v.rows.len(), v.matched, v.quiet_hidden), (3, 3, 2));
    assert!(matches!(v.rows[2], Row::Group { collapsed: true, .. }));
}

#[test]
fn a_filter_narrows_groups_and_their_counts() {
    let q = fleet();
    let v = q.view(&Filter::parse("instance=b").unwrap(), true, &HashSet::new());
    assert_eq!(headers(&v), [("HighCpu".to_owned(), 1, false), ("DiskFull".to_owned(), 1, true)]);
    let v = q.view(&Filter::parse("disk").unwrap(), false, &HashSet::new());
    assert_eq!((headers(&v).len(), v.matched, v.quiet_hidden), (1, 1, 1));
    let v = q.view(&Filter::parse("nothing-matches").unwrap(), true, &HashSet::new());
    assert!(v.rows.is_empty());
}

#[test]
fn several_group_labels_and_missing_values() {
    let mut q = Queue::new(vec!["alertname".into(), "cluster".into()], SeverityMap::default());
    q.replace_source_at("am", vec![am("A", &[("cluster", "eu")], Firing, 0), am("A", &[], Firing, 0)], t(0));
    let v = q.view(&Filter::default(), false, &HashSet::new());
    let mut labels: Vec<String> = headers(&v).into_iter().map(|h| h.0).collect();
    labels.sort();
    assert_eq!(labels, ["A · (no cluster)", "A · eu"]);
    let mut q = Queue::new(vec![], SeverityMap::default());
    q.replace_source_at("am", vec![am("A", &[], Firing, 0), am("B", &[], Firing, 0)], t(0));
    assert_eq!(
        headers(&q.view(&Filter::default(), false, &HashSet::new())),
        [("all alerts".to_owned(), 2, false)]
    );
}

#[test]
fn new_criticals_ring_once() {
    let mut q = queue();
    let crit = |state| am("Down", &[("severity", "critical")], state, 0);
    let rings = |tr: &[Transition]| tr.iter().filter(|x| x.is_new_critical()).count();
    assert_eq!(rings(&q.replace_source_at("am", vec![crit(Pending)], t(0))), 0);
    assert_eq!(rings(&q.replace_source_at("am", vec![crit(Firing)], t(1))), 1, "pending -> firing");
    assert_eq!(rings(&q.replace_source_at("am", vec![crit(Firing)], t(2))), 0, "still firing");
    assert_eq!(rings(&q.replace_source_at("am", vec![crit(Silenced)], t(3))), 0);
    assert_eq!(rings(&q.replace_source_at("am", vec![crit(Firing)], t(4))), 1, "the silence ended");
    let fp = q.alert(0).fingerprint.clone();
    q.set_acks_at(vec![Ack { fingerprint: fp, who: "u".into(), at: t(5), comment: String::new() }], t(5));
    assert_eq!(rings(&q.set_acks_at(vec![], t(6))), 0, "un-acking is no news");
    assert_eq!(rings(&q.replace_source_at("am", vec![], t(7))), 0);
    assert_eq!(rings(&q.replace_source_at("am", vec![crit(Firing)], t(8))), 1, "fired again");
    let warn = am("Slow", &[("severity", "warning")], Firing, 0);
    assert_eq!(rings(&q.replace_source_at("am2", vec![warn], t(9))), 0);
}

#[test]
fn ingest_fills_missing_fingerprints_and_drops_resolved_and_duplicates() {
    let mut q = queue();
    let mut a = prom("A", &[], Firing, 0);
    let fp = std::mem::take(&mut a.fingerprint);
    let dup = prom("A", &[], Pending, 0);
    q.replace_source_at("prom", vec![a, dup, prom("Gone", &[], Resolved, 0)], t(0));
    assert_eq!(names(&q), ["A"]);
    let m = q.by_fingerprint(&fp).unwrap();
    assert_eq!(
        (m.state, m.source.as_str(), m.seen_by.as_slice()),
        (Firing, "prom", &["prom".to_owned()][..])
    );
    assert_eq!(q.sources().collect::<Vec<_>>(), ["prom"]);
    assert!(q.get(1).is_none());
}
