//! The Replication tab at scale: 100 clusters × 3 members.
//!
//! - `replication_frame_160x48_100x3`: one frame of the tab with 300
//!   members (and 100 cluster headers) known, lag histories full;
//! - `replication_fold_300_reports`: the UI thread's work for one poll
//!   round, 300 member reports folded in;
//! - `poll_round_300_members_{redis,postgres,mariadb}`: one poll round of
//!   100 clusters × 3 members against one real server pair per engine (the
//!   members are its primary and its replica under several spellings), every
//!   member polled concurrently on its own connection, as the app does.
//!
//! Servers come from tests/backends (Debian's packages, as .ci/run installs).

#[path = "../tests/fixture/mod.rs"]
mod fixture;

#[path = "../tests/backends/mod.rs"]
mod backends;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use opsdeck::action::Action;
use opsdeck::config::clusters::Cluster;
use opsdeck::replication::model::{Channel, Downstream, Lag, LinkState, Role, Status};
use opsdeck::sources::replication::{Member, MemberReport};
use opsdeck::sources::{Payload, Update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const CLUSTERS: usize = 100;

fn config(kind: &str, members: &[String], auth: &str) -> opsdeck::config::Config {
    let mut src = String::new();
    for i in 0..CLUSTERS {
        let list: Vec<String> = members.iter().map(|m| format!("{m:?}")).collect();
        src.push_str(&format!(
            "[[clusters]]\nname = \"c{i:03}\"\nkind = \"{kind}\"\nmembers = [{}]\n{auth}\n",
            list.join(", ")
        ));
    }
    opsdeck::config::parse(&src, std::path::Path::new("bench.toml")).expect("bench config")
}

fn status(role: Role, upstream: &str, lag_secs: f64) -> Status {
    let channel = Channel {
        name: String::new(),
        upstream: Some(upstream.into()),
        state: LinkState::Streaming,
        lag: Lag::Behind(Duration::from_secs_f64(lag_secs)),
        lag_source: "replay timestamp",
        peer_name: None,
        apply_backlog_bytes: Some(4096),
        applied_position: Some(1_000_000),
        last_error: None,
        facts: vec![("timeline".into(), "1".into())],
    };
    let downstream = Downstream {
        name: "walreceiver".into(),
        addr: Some("10.0.0.2".into()),
        state: "streaming".into(),
        sync: Some("async".into()),
        lag: Lag::Idle,
        lag_bytes: Some(0),
        facts: vec![],
    };
    Status {
        role,
        version: "PostgreSQL 15.18".into(),
        read_only: Some(role == Role::Replica),
        position: Some(1_004_096),
        channels: if role == Role::Replica { vec![channel] } else { vec![] },
        downstreams: if role == Role::Primary { vec![downstream.clone(), downstream] } else { vec![] },
        downstreams_unknown: None,
        slots: vec![],
        facts: vec![("wal_level".into(), "replica".into())],
        warnings: vec![],
    }
}

fn reports(round: usize) -> Vec<Update> {
    let mut out = Vec::with_capacity(CLUSTERS * 3);
    for c in 0..CLUSTERS {
        for m in 0..3 {
            let s = if m == 0 {
                status(Role::Primary, "", 0.0)
            } else {
                status(Role::Replica, "10.0.0.1:5432", ((c * 7 + m + round) % 90) as f64 / 10.0)
            };
            let report =
                MemberReport { cluster: c, member: m, result: Ok(s), took: Duration::from_millis(3) };
            out.push(Update {
                source: "replication",
                at: Instant::now(),
                result: Ok(Payload::Replication(report)),
            });
        }
    }
    out
}

fn bench_frame(c: &mut Criterion) {
    let members = ["10.0.0.1:5432".to_owned(), "10.0.0.2:5432".to_owned(), "10.0.0.3:5432".to_owned()];
    let mut state = fixture::state_with(config("postgres", &members, ""), "dark", 40);
    for round in 0..60 {
        for u in reports(round) {
            state.apply_update(u);
        }
    }
    state.apply(Action::TabReplication);
    state.apply(Action::Down);
    state.apply(Action::Down);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test backend");
    c.bench_function("replication_frame_160x48_100x3", |b| {
        b.iter(|| {
            terminal.clear().expect("clear");
            terminal.draw(|f| opsdeck::ui::render(f, black_box(&state))).expect("draw");
        })
    });
    c.bench_function("replication_fold_300_reports", |b| {
        b.iter_batched(
            || reports(1),
            |updates| {
                for u in updates {
                    state.apply_update(u);
                }
            },
            criterion::BatchSize::PerIteration,
        )
    });
}

/// Connect all 300 members, then time whole rounds of concurrent polls.
fn poll_round(c: &mut Criterion, name: &str, clusters: &[Cluster], rt: &tokio::runtime::Runtime) {
    let members: Vec<(Member, Duration)> = rt.block_on(async {
        let mut out = Vec::new();
        for cl in clusters {
            for addr in &cl.members {
                let member = Member::connect(cl, addr).await.expect("connect");
                // Log in once, one member at a time: 300 logical members of one
                // server would otherwise be 300 simultaneous logins to it (300
                // real servers would each see one), and the first round would
                // measure that storm instead of polling.
                member.poll(Duration::from_secs(30)).await.expect("first poll");
                out.push((member, cl.timeout));
            }
        }
        out
    });
    c.bench_function(name, |b| {
        b.iter(|| {
            rt.block_on(async {
                let polls = members.iter().map(|(m, t)| m.poll(*t));
                let results = futures::future::join_all(polls).await;
                let ok = results.iter().filter(|r| r.is_ok()).count();
                assert_eq!(
                    ok,
                    members.len(),
                    "every member answers: {:?}",
                    results.iter().find(|r| r.is_err())
                );
            })
        })
    });
}

fn bench_poll_rounds(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let spellings =
        |p: u16, r: u16| vec![format!("127.0.0.1:{p}"), format!("127.0.0.1:{r}"), format!("localhost:{p}")];

    // Passwords from files, as a bastion would keep them (never argv or env here).
    let secrets = tempfile::tempdir().expect("temp dir");
    let password_file = |name: &str, pw: &str| {
        let path = secrets.path().join(name);
        std::fs::write(&path, pw).expect("password file");
        format!("password_file = {:?}", path.display().to_string())
    };

    let redis = rt.block_on(backends::redis::RedisPair::start());
    let (p, r) = redis.ports();
    let cfg = config("redis", &spellings(p, r), &password_file("redis", backends::redis::PASSWORD));
    poll_round(c, "poll_round_300_members_redis", &cfg.clusters, &rt);
    drop(redis);

    let pg = rt.block_on(backends::postgres::PgPair::start());
    let auth = format!(
        "user = {:?}\n{}",
        backends::postgres::MONITOR_USER,
        password_file("pg", backends::postgres::MONITOR_PASSWORD)
    );
    let cfg = config("postgres", &spellings(pg.primary_port, pg.standby_port), &auth);
    poll_round(c, "poll_round_300_members_postgres", &cfg.clusters, &rt);
    drop(pg);

    let maria = rt.block_on(backends::mariadb::MariaPair::start());
    let (p, r) = maria.ports();
    let auth = format!(
        "user = {:?}\n{}",
        backends::mariadb::MONITOR_USER,
        password_file("my", backends::mariadb::MONITOR_PASSWORD)
    );
    let cfg = config("mysql", &spellings(p, r), &auth);
    poll_round(c, "poll_round_300_members_mariadb", &cfg.clusters, &rt);
    drop(maria);
}

criterion_group!(benches, bench_frame, bench_poll_rounds);
criterion_main!(benches);
