//! The file follower at issue 7's scale:
//!
//! - `tail_lines_1000_of_1m`: the last 1,000 lines of a 1,000,000-line
//!   (~120 MB) syslog-style log, read backwards from its end (target: the
//!   tab shows the end of such a file in ≤ 50 ms);
//! - `tail_lines_1000_of_1gb`: the same at the end of a 1 GB (sparse) file;
//! - `follow_100k_lines`: one `Follower` reading 100,000 freshly appended
//!   lines (~12 MB), poll after poll, as the driver does under a flood;
//! - `filter_1m_buffered_lines`: `LogBuffer::set_filter` over 1,000,000
//!   buffered lines (parsed as the app parses them), for a substring filter
//!   and a `/regex/` filter (target: ≤ 200 ms each).
//!
//! The 1M-line log is generated once into Cargo's target tmpdir and reused.

use std::fs::{self, File, OpenOptions};
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opsdeck::logs::buffer::{Filter, LogBuffer};
use opsdeck::logs::follow::{FollowEvent, FollowOptions, Follower, tail_lines};
use opsdeck::logs::line::{self, JsonFields};

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

/// A varied ops line (like shared/tools/gen_log.py's: API gateway,
/// replication, backups, sshd, kernel, systemd, alerts; mixed levels and
/// numbers), from a small deterministic generator.
fn varied_line(rng: &mut u64, seq: usize) -> String {
    let mut next = |n: u64| {
        // xorshift64*
        *rng ^= *rng >> 12;
        *rng ^= *rng << 25;
        *rng ^= *rng >> 27;
        (rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) % n
    };
    const LEVELS: [&str; 8] = ["INFO", "INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARN", "ERROR"];
    const PATHS: [&str; 5] =
        ["/api/v1/orders", "/api/v1/users", "/healthz", "/metrics", "/api/v2/billing/invoices"];
    const DBS: [&str; 4] = ["orders", "billing", "inventory", "auth"];
    let (h, m, s) = (seq / 3_600_000 % 24, seq / 60_000 % 60, seq / 1000 % 60);
    let host = next(12) + 1;
    let level = LEVELS[next(8) as usize];
    let pid = 1000 + next(9000);
    let msg = match next(10) {
        0..=3 => format!(
            "apigw[{pid}]: {level} req_id={:08x}{:08x} method=GET path={}/{} status={} dur_ms={}",
            next(1 << 32),
            next(1 << 32),
            PATHS[next(5) as usize],
            next(1_000_000),
            [200, 200, 200, 201, 204, 304, 404, 500, 503][next(9) as usize],
            next(2500)
        ),
        4 | 5 => format!(
            "pgrepl[{pid}]: {level} replica=node-{:02} db={} lag_bytes={} replay_lag_ms={}",
            next(12) + 1,
            DBS[next(4) as usize],
            next(5_000_000),
            next(8000)
        ),
        6 => format!(
            "backupd[{pid}]: {level} job=nightly-{} phase=upload chunk={}/4096 rate_mb_s={}.{}",
            DBS[next(4) as usize],
            next(4096),
            next(400),
            next(10)
        ),
        7 => format!(
            "sshd[{pid}]: Accepted publickey for deploy from 10.{}.{}.{} port {} ssh2",
            next(256),
            next(256),
            next(256),
            1024 + next(60000)
        ),
        8 => format!(
            "kernel: [{}.{:06}] nvme0n1: I/O {} QID {} timeout, completion polled",
            next(900_000),
            next(1_000_000),
            next(999),
            next(9)
        ),
        _ => format!(
            "alertmgr[{pid}]: {level} alert=HighReplicationLag severity=page instance=node-{:02} state=firing",
            next(12) + 1
        ),
    };
    format!("Jan 12 {h:02}:{m:02}:{s:02} node-{host:02} {msg} seq={seq:09}")
}

fn filtering(c: &mut Criterion) {
    // Filled once, the way the app fills it: each raw line parsed on the
    // reader's task (`sources::logs::parse_into`), then pushed by the tab
    // (`LogsPane::on_batch`).
    let names = JsonFields::default();
    let mut buffer = LogBuffer::new(1, LINES);
    let mut rng = 0x9E37_79B9_7F4A_7C15_u64;
    for seq in 0..LINES {
        let raw = varied_line(&mut rng, seq);
        let parsed = line::parse(raw.as_bytes(), false, &names);
        let continuation = !parsed.is_json() && line::continues_record(&parsed.text);
        buffer.push(0, parsed, continuation);
    }
    assert_eq!(buffer.len(), LINES);

    let mut group = c.benchmark_group("filter_1m_buffered_lines");
    group.throughput(Throughput::Elements(LINES as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    for (name, typed) in [("substring", "timeout"), ("regex", r"/status=5\d\d /")] {
        buffer.set_filter(Filter::parse(typed).expect("filter"));
        let shown = buffer.shown_len();
        eprintln!("filter {typed:?}: {shown} of {LINES} lines shown");
        assert!(shown > 0 && shown < LINES, "{typed:?} should match some lines");
        group.bench_function(name, |b| {
            b.iter(|| {
                buffer.set_filter(Filter::parse(black_box(typed)).expect("filter"));
                black_box(buffer.shown_len())
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = tails, following, filtering
}
criterion_main!(benches);
