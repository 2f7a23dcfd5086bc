//! Frame render time: the Metrics tab at 160×48 (and 80×24), drawn onto an
//! off-screen buffer the way a real frame is, from the same fixture the
//! snapshot tests use. Also a host with 10,000 processes, which must cost
//! about the same since only the visible rows are built.

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
    let mut state = fixture::state();
    state.apply(Action::ToggleHelp);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test backend");
    c.bench_function("help_overlay_160x48", |b| {
        b.iter(|| {
            terminal.draw(|f| opsdeck::ui::render(f, black_box(&state))).expect("draw");
        })
    });
}

criterion_group!(benches, bench_render);
criterion_main!(benches);
