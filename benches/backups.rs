//! The Backups tab at scale (issue 6's benchmark and DESIGN's frame budget):
//!
//! - `dir_scan_10k_first`: a directory catalog of 10,000 dump files in 100
//!   day directories, scanned from nothing (target ≤ 1 s);
//! - `dir_rescan_10k_unchanged`: the same tree rescanned with nothing
//!   changed (target ≤ 100 ms);
//! - `assess_10k`: the findings (stale, gaps, sizes, retention) over 10,000
//!   backups;
//! - `backups_frame_160x48_10k` / `_drilled`: one frame of the tab with a
//!   10,000-backup catalog, summary and drill-down (target ≤ 5 ms).

#[path = "../tests/fixture/mod.rs"]
mod fixture;

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use opsdeck::action::Action;
use opsdeck::backups::model::BackupType;
use opsdeck::config::backups::{BackupKind, BackupSource};
use opsdeck::sources::backups::dir::DirCatalog;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const FILES: usize = 10_000;

/// 100 directories of 100 small files, with mtimes in the past (so a
/// rescan may trust directory mtimes, as it would on a real backup tree).
fn tree() -> (tempfile::TempDir, BackupSource) {
    let tmp = tempfile::tempdir().expect("tmp");
    let old = SystemTime::now() - Duration::from_secs(3600);
    for d in 0..100 {
        let dir = tmp.path().join(format!("full/2026-{:02}-{:02}", 1 + d / 28, 1 + d % 28));
        std::fs::create_dir_all(&dir).expect("mkdir");
        for f in 0..FILES / 100 {
            let path = dir.join(format!("db{f:03}_20260101_030000.sql.gz"));
            std::fs::write(&path, b"x").expect("write");
            std::fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|h| h.set_modified(old))
                .expect("mtime");
        }
        std::fs::File::open(&dir).and_then(|h| h.set_modified(old)).expect("dir mtime");
    }
    for dir in [tmp.path().join("full"), tmp.path().to_path_buf()] {
        std::fs::File::open(&dir).and_then(|h| h.set_modified(old)).expect("dir mtime");
    }
    let mut source = BackupSource::new(
        "bench",
        BackupKind::Dir,
        tmp.path().to_string_lossy(),
        Duration::from_secs(86_400),
    );
    source.patterns = BTreeMap::from([(BackupType::Full, vec!["full/**/*.sql.gz".to_owned()])]);
    source.cadence = BTreeMap::from([(BackupType::Full, Duration::from_secs(3600))]);
    (tmp, source)
}

fn scans(c: &mut Criterion) {
    let (_tmp, source) = tree();
    let mut g = c.benchmark_group("backups");
    g.sample_size(10);
    g.bench_function("dir_scan_10k_first", |b| {
        b.iter_batched(
            || DirCatalog::new(&source).expect("patterns"),
            |mut scanner| black_box(scanner.scan().expect("scan").backups.len()),
            BatchSize::PerIteration,
        );
    });
    let mut warm = DirCatalog::new(&source).expect("patterns");
    let first = warm.scan().expect("scan");
    assert_eq!(first.backups.len(), FILES);
    g.bench_function("dir_rescan_10k_unchanged", |b| {
        b.iter(|| black_box(warm.scan().expect("scan").backups.len()))
    });
    assert_eq!(warm.stats.dirs_read, 0, "a rescan of an unchanged tree reads no directory");
    g.bench_function("assess_10k", |b| {
        b.iter(|| {
            black_box(opsdeck::backups::findings::assess(
                &source,
                &first,
                &HashMap::new(),
                jiff::Timestamp::now(),
            ))
        });
    });
    g.finish();
}

fn frames(c: &mut Criterion) {
    let mut state = fixture::backups_state(FILES);
    state.apply(Action::TabBackups);
    state.apply(Action::Down);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    c.bench_function("backups_frame_160x48_10k", |b| {
        b.iter(|| terminal.draw(|f| opsdeck::ui::render(f, &state)).map(|_| ()).expect("draw"));
    });
    state.apply(Action::Open);
    for _ in 0..5000 {
        state.apply(Action::Down);
    }
    c.bench_function("backups_frame_160x48_10k_drilled", |b| {
        b.iter(|| terminal.draw(|f| opsdeck::ui::render(f, &state)).map(|_| ()).expect("draw"));
    });
}

criterion_group!(benches, scans, frames);
criterion_main!(benches);
