//! Frame render time: the Metrics tab at 160×48 (and 80×24), drawn onto an
//! off-screen buffer the way a real frame is, from the same fixture the
//! snapshot tests use. Also a host with 10,000 processes, which must cost
//! about the same since only the visible rows are built, and a fleet of
//! 1,000 nodes (issue 8's scale: frame ≤ 5 ms) with the fold of its report.

#[path = "../tests/fixture/mod.rs"]
mod fixture;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use opsdeck::action::Action;
use opsdeck::config::Config;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn bench_render(c: &mut Criterion) {
    let cases = [
        ("metrics_160x48", 160, 48, 40),
        ("metrics_80x24", 80, 24, 40),
        ("metrics_160x48_10k_procs", 160, 48, 10_000),
    ];
    for (name, w, h, procs) in cases {
        let state = fixture::state_with(Config::default(), "dark", procs);
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        c.bench_function(name, |b| {
            b.iter(|| {
                // Clearing forces a full repaint each time: the worst case.
                terminal.clear().expect("clear");
                terminal.draw(|f| opsdeck::ui::render(f, black_box(&state))).expect("draw");
            })
        });
    }
    // A fleet of 1,000 nodes from one Prometheus under the Metrics tab.
    let mut state = fixture::state_with(Config::default(), "dark", 40);
    let now = state.now;
    state.fleet.on_report(fixture::fleet_report(1_000), now);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test backend");
    c.bench_function("metrics_160x48_fleet_1000", |b| {
        b.iter(|| {
            terminal.clear().expect("clear");
            terminal.draw(|f| opsdeck::ui::render(f, black_box(&state))).expect("draw");
        })
    });
    // The UI thread's share of a 1,000-node poll round: fold the report in
    // (carry missing values, sort worst first, filter), once per round.
    let report = fixture::fleet_report(1_000);
    c.bench_function("fleet_fold_1000_nodes", |b| {
        b.iter(|| state.fleet.on_report(black_box(report.clone()), now));
    });
    let mut state = fixture::state();
    state.apply(Action::ToggleHelp);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test backend");
    c.bench_function("help_overlay_160x48", |b| {
        b.iter(|| {
            terminal.draw(|f| opsdeck::ui::render(f, black_box(&state))).expect("draw");
        })
    });
}

/// The Alerts tab with 10,000 alerts in 200 groups: a frame must not grow
/// with the queue (only the visible rows are built).
fn bench_alerts(c: &mut Criterion) {
    use opsdeck::alerts::model::{Alert, AlertState, Severity, SourceKind, fingerprint};
    use std::collections::BTreeMap;
    let mut state = fixture::state_with(Config::default(), "dark", 40);
    let alerts: Vec<Alert> = (0..10_000)
        .map(|i| {
            let labels = BTreeMap::from([
                ("alertname".to_owned(), format!("Alert{}", i % 200)),
                ("instance".to_owned(), format!("node{i}:9100")),
                ("severity".to_owned(), ["critical", "warning", "info"][i % 3].to_owned()),
            ]);
            Alert {
                source: "am".into(),
                source_kind: SourceKind::Alertmanager,
                fingerprint: fingerprint(&labels),
                name: format!("Alert{}", i % 200),
                severity: Severity::Unknown,
                state: AlertState::Firing,
                annotations: BTreeMap::from([(
                    "summary".to_owned(),
                    format!("something is wrong on node{i}"),
                )])
                .into(),
                labels: labels.into(),
                starts_at: Some(jiff::Timestamp::from_second(1_795_000_000 - i as i64).expect("timestamp")),
                ends_at: None,
                value: None,
                generator_url: None,
                silenced_by: vec![],
                inhibited_by: vec![],
                seen_by: vec!["am".into()],
            }
        })
        .collect();
    let batch = opsdeck::sources::AlertBatch {
        source_name: "am".into(),
        kind: SourceKind::Alertmanager,
        alerts,
        silences: vec![],
        warnings: vec![],
    };
    let now = state.now;
    state.alerts.on_batch(batch, now, false);
    state.apply(Action::TabAlerts);
    for _ in 0..5_000 {
        state.apply(Action::Down); // a selection deep in the list, with the details pane
    }
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test backend");
    c.bench_function("alerts_160x48_10k", |b| {
        b.iter(|| {
            terminal.clear().expect("clear");
            terminal.draw(|f| opsdeck::ui::render(f, black_box(&state))).expect("draw");
        })
    });
}

criterion_group!(benches, bench_render, bench_alerts);
criterion_main!(benches);
