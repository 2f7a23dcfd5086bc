//! The file follower at issue 7's scale:
//!
//! - `tail_lines_1000_of_1m`: the last 1,000 lines of a 1,000,000-line
//!   (~120 MB) syslog-style log, read backwards from its end (target: the
//!   tab shows the end of such a file in ≤ 50 ms);
//! - `tail_lines_1000_of_1gb`: the same at the end of a 1 GB (sparse) file;
//! - `follow_100k_lines`: one `Follower` reading 100,000 freshly appended
//!   lines (~12 MB), poll after poll, as the driver does under a flood.
//!
//! The 1M-line log is generated once into Cargo's target tmpdir and reused.

use std::fs::{self, File, OpenOptions};
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opsdeck::logs::follow::{FollowEvent, FollowOptions, Follower, tail_lines};

const LINES: usize = 1_000_000;

const PROGRAMS: [&str; 6] =
    ["sshd[812]", "kernel", "systemd[1]", "replicad[2231]", "backupd[977]", "api[3120]"];
const MESSAGES: [&str; 6] = [
    "Accepted publickey for deploy from 10.0.3.17 port 52211 ssh2: ED25519 SHA256:q3Zx",
    "eth0: link up, 1000 Mbps, full duplex, flow control rx/tx",
    "Started Daily rotation of log files (logrotate.service) after timer elapsed",
    "replica db-2 lag 0.42s behind primary db-1, slot repl_db2 active, wal 0/3A0F2C8",
    "full backup of orders finished: 1.8 GiB in 212s, sha256 written, verify queued",
    "GET /api/v1/orders?page=3 200 18ms trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
];

/// A syslog-style line (~120 bytes) with a unique sequence number.
fn log_line(out: &mut impl Write, seq: usize) -> std::io::Result<()> {
    let (h, m, s) = (seq / 3_600_000 % 24, seq / 60_000 % 60, seq / 1000 % 60);
    let pick = seq * 7 % PROGRAMS.len();
    writeln!(out, "Jan 12 {h:02}:{m:02}:{s:02} ops-1 {}: {} seq={seq:09}", PROGRAMS[pick], MESSAGES[pick])
}

fn write_lines(path: &Path, range: std::ops::Range<usize>) {
    let file = OpenOptions::new().create(true).append(true).open(path).expect("open");
    let mut out = BufWriter::with_capacity(1 << 20, file);
    for seq in range {
        log_line(&mut out, seq).expect("write");
    }
    out.flush().expect("flush");
}

/// The 1M-line log, made once.
fn million_line_log() -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("logs-bench-1m.log");
    let done = path.with_extension("done");
    if !done.exists() {
        let _ = fs::remove_file(&path);
        write_lines(&path, 0..LINES);
        File::create(&done).expect("marker");
    }
    path
}

fn tails(c: &mut Criterion) {
    let path = million_line_log();
    let size = fs::metadata(&path).expect("stat").len();
    eprintln!("1M-line log: {} MB", size / 1_000_000);
    let max_line = FollowOptions::default().max_line;
    let (lines, _) = tail_lines(&path, 1000, max_line).expect("tail");
    assert_eq!(lines.len(), 1000);
    assert!(lines[999].bytes.ends_with(format!("seq={:09}", LINES - 1).as_bytes()));
    c.bench_function("tail_lines_1000_of_1m", |b| {
        b.iter(|| black_box(tail_lines(&path, 1000, max_line).expect("tail")))
    });

    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.log");
    File::create(&big).and_then(|f| f.set_len(1 << 30)).expect("1 GB sparse file");
    write_lines(&big, 0..2000);
    c.bench_function("tail_lines_1000_of_1gb", |b| {
        b.iter(|| black_box(tail_lines(&big, 1000, max_line).expect("tail")))
    });
}

fn following(c: &mut Criterion) {
    const APPENDED: usize = 100_000;
    let mut group = c.benchmark_group("follow");
    group.throughput(Throughput::Elements(APPENDED as u64));
    group.sample_size(10);
    group.bench_function("follow_100k_lines", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join("app.log");
                File::create(&path).expect("create");
                let mut follower = Follower::open(path.clone(), FollowOptions::default());
                follower.poll();
                write_lines(&path, 0..APPENDED);
                let start = Instant::now();
                let mut got = 0;
                while got < APPENDED {
                    for event in follower.poll() {
                        if let FollowEvent::Lines(lines) = event {
                            got += lines.len();
                        }
                    }
                }
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = tails, following
}
criterion_main!(benches);
