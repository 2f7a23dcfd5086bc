//! The Replication tab end to end: the real binary in a PTY against a real
//! PostgreSQL primary + standby, a MariaDB primary + replica and a Redis
//! primary + replica, each polled as a password-protected monitoring user.
//!
//! One session walks through what an operator meets during an incident:
//! the three topologies streaming (an idle standby is "idle", not broken);
//! replay paused on the PostgreSQL standby while the primary writes, so the
//! lag grows for real and a ReplicationLag warning fires on the Alerts tab;
//! MariaDB's SQL thread stopped, so the lag is "unknown" (never 0) and
//! ReplicationStopped fires; the Redis replica frozen with SIGSTOP, so its
//! line goes stale with an age while every other member keeps refreshing.
//! The passwords never reach the terminal nor opsdeck's log.

mod backends;
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use backends::mariadb::{self, MariaPair};
use backends::postgres::{self, PgPair};
use backends::redis::{self, RedisPair};
use common::{Sandbox, Session};

/// Alerts wait on `for` (three 1 s polls for ReplicationLag) and on the rule
/// engine's cadence: longer than a screen change may take.
const ALERT_DEADLINE: Duration = Duration::from_secs(40);

/// The environment variables the config names for the passwords.
const PG_PASSWORD_ENV: &str = "OD_E2E_PG_PASSWORD";
const REDIS_PASSWORD_ENV: &str = "OD_E2E_REDIS_PASSWORD";

/// Columns of the list pane while a details pane is beside it (62 % of 200).
const LIST_COLS: usize = 124;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// Start the three pairs on their own threads (each has seconds of blocking
/// setup: initdb, mariadb-install-db). Every thread is joined before any
/// result is unwrapped, so a failed start still tears the others down.
fn start_backends() -> (PgPair, MariaPair, RedisPair) {
    let pg = thread::spawn(|| runtime().block_on(PgPair::start()));
    let maria = thread::spawn(|| runtime().block_on(MariaPair::start()));
    let redis = thread::spawn(|| runtime().block_on(RedisPair::start()));
    let (pg, maria, redis) = (pg.join(), maria.join(), redis.join());
    (
        pg.expect("PostgreSQL pair started"),
        maria.expect("MariaDB pair started"),
        redis.expect("Redis pair started"),
    )
}

/// One `[[clusters]]` entry with the test's thresholds and cadence.
fn cluster(name: &str, kind: &str, members: [u16; 2], user: &str, password: &str) -> String {
    format!(
        "[[clusters]]\nname = \"{name}\"\nkind = \"{kind}\"\n\
         members = [\"127.0.0.1:{}\", \"127.0.0.1:{}\"]\nuser = \"{user}\"\n{password}\n\
         interval = \"1s\"\ntimeout = \"1s\"\nlag_warning = \"2s\"\nlag_critical = \"30s\"\n\n",
        members[0], members[1]
    )
}

fn addr(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// The list row of the member at `addr` (its padding keeps `:5432` from
/// matching `:54321`), cut to the list pane.
fn member_row(screen: &str, addr: &str) -> Option<String> {
    let key = format!("{addr} ");
    screen.lines().map(|l| l.chars().take(LIST_COLS).collect::<String>()).find(|l| l.contains(&key))
}

/// A line of the details pane: the key padded to 20, a space, the value.
fn kv(key: &str, value: &str) -> String {
    format!("{key:<24} {value}")
}

/// The first word after `label` on `row`: the lag cell after a state.
fn word_after<'a>(row: &'a str, label: &str) -> Option<&'a str> {
    let at = row.find(label)? + label.len();
    row[at..].split_whitespace().next()
}

/// A lag cell as seconds: "2.3s", "12s", "1m".
fn lag_seconds(cell: &str) -> Option<f64> {
    if let Some(s) = cell.strip_suffix('s') {
        return s.parse().ok();
    }
    cell.strip_suffix('m')?.parse::<f64>().ok().map(|m| m * 60.0)
}

/// The age of a fresh row ("3s ago").
fn fresh_age(row: &str) -> Option<u64> {
    let end = row.find("s ago")?;
    row[..end].rsplit(' ').next()?.parse().ok()
}

/// The age of a stale row ("stale 5s").
fn stale_age(row: &str) -> Option<u64> {
    let rest = &row[row.find("stale ")? + "stale ".len()..];
    rest.split('s').next()?.parse().ok()
}

/// Inserts on the PostgreSQL primary every 200 ms until stopped (dropped
/// too), so a paused standby falls further behind for real.
struct Writer {
    stop: Arc<AtomicBool>,
    rows: Arc<AtomicU32>,
    handle: Option<thread::JoinHandle<()>>,
}

impl Writer {
    fn start(port: u16) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let rows = Arc::new(AtomicU32::new(0));
        let (s, r) = (Arc::clone(&stop), Arc::clone(&rows));
        let handle = thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if postgres::psql(port, "INSERT INTO e2e_lag VALUES (now())").is_ok() {
                    r.fetch_add(1, Ordering::Relaxed);
                }
                // Pacing, not waiting for anything.
                thread::sleep(Duration::from_millis(200));
            }
        });
        Writer { stop, rows, handle: Some(handle) }
    }

    /// Stop and return how many rows were written.
    fn finish(mut self) -> u32 {
        self.halt();
        self.rows.load(Ordering::Relaxed)
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Go to tab `key` and wait until its pane, titled `title`, shows.
fn tab(s: &mut Session, key: &str, title: &str) {
    s.send(key);
    s.wait_for(&format!("the {title} tab"), |t| t.contains(title));
}

#[test]
fn three_topologies_lag_stopped_threads_and_a_frozen_member() {
    let started = Instant::now();
    let (pg, maria, redis) = start_backends();
    let rt = runtime();
    // Tables to write to while the standby's replay is paused and while the
    // replica's SQL thread is stopped.
    pg.primary_sql("CREATE TABLE e2e_lag (at timestamptz)");
    maria.primary.sql("CREATE DATABASE e2e; CREATE TABLE e2e.t (x INT); INSERT INTO e2e.t VALUES (0);");
    rt.block_on(maria.wait_caught_up());
    eprintln!("backends ready after {:?}", started.elapsed());

    let (pg_p, pg_s) = (addr(pg.primary_port), addr(pg.standby_port));
    let (my_p, my_r) = (addr(maria.primary.port), addr(maria.replica.port));
    let (rd_p, rd_r) = (addr(redis.primary.port), addr(redis.replica.port));
    let all = [&pg_p, &pg_s, &my_p, &my_r, &rd_p, &rd_r];

    let sandbox = Sandbox::new();
    let maria_password = sandbox.write("maria.password", &format!("{}\n", mariadb::MONITOR_PASSWORD));
    let config = [
        cluster(
            "pg-main",
            "postgres",
            [pg.primary_port, pg.standby_port],
            postgres::MONITOR_USER,
            &format!("password_env = \"{PG_PASSWORD_ENV}\""),
        ),
        cluster(
            "maria-main",
            "mysql",
            [maria.primary.port, maria.replica.port],
            mariadb::MONITOR_USER,
            &format!("password_file = \"{}\"", maria_password.display()),
        ),
        cluster(
            "redis-main",
            "redis",
            [redis.primary.port, redis.replica.port],
            redis::MONITOR_USER,
            &format!("password_env = \"{REDIS_PASSWORD_ENV}\""),
        ),
    ]
    .concat();
    let cfg = sandbox.write("replication.toml", &config);
    let cfg = cfg.to_str().expect("utf-8 path").to_owned();
    // The most verbose log level: whatever the drivers log while connecting lands in the file too.
    let env = [
        ("OPSDECK_LOG", "trace"),
        (PG_PASSWORD_ENV, postgres::MONITOR_PASSWORD),
        (REDIS_PASSWORD_ENV, redis::MONITOR_PASSWORD),
    ];
    let mut s = sandbox.spawn_sized(&[common::BIN, "--config", &cfg], &env, 60, 200);
    tab(&mut s, "3", "╭ Replication ");

    // 1. Every topology, streaming; the caught-up PostgreSQL standby is idle.
    let screen = s.wait_for("three clusters streaming, the PG standby idle", |t| {
        let row = |a: &str| member_row(t, a).unwrap_or_default();
        [&pg_p, &my_p, &rd_p].iter().all(|a| row(a).contains(" primary "))
            && [&pg_s, &my_r, &rd_r]
                .iter()
                .all(|a| row(a).contains(" replica ") && row(a).contains("streaming"))
            && word_after(&row(&pg_s), "streaming") == Some("idle")
            && all.iter().all(|a| fresh_age(&row(a)).is_some())
    });
    for header in [
        "▾ pg-main  postgres · 2 members",
        "▾ maria-main  mysql · 2 members",
        "▾ redis-main  redis · 2 members",
    ] {
        assert!(screen.contains(header), "missing {header:?}\n{screen}");
    }
    let lines: Vec<&str> = screen.lines().collect();
    for (primary, replica) in [(&pg_p, &pg_s), (&my_p, &my_r), (&rd_p, &rd_r)] {
        let at = |a: &str| lines.iter().position(|l| l.contains(&format!("{a} "))).expect("a row");
        let (p, r) = (at(primary), at(replica));
        assert_eq!(r, p + 1, "{replica} right under its primary {primary}\n{screen}");
        assert!(!lines[p].contains('└'), "a primary is a root\n{screen}");
        assert!(lines[r].contains(&format!("└ {replica} ")), "{replica} nested\n{screen}");
    }
    assert!(!screen.contains("discovered"), "every replica is matched to its configured member\n{screen}");

    // The details pane of the PG standby (rows: header, primary, standby).
    s.send("jjj");
    let details = s.wait_for("the standby's details", |t| {
        t.contains(&kv("member", &pg_s)) && t.contains(&kv("lag", "idle: caught up"))
    });
    for want in [
        kv("role", "replica"),
        kv("user", postgres::MONITOR_USER),
        kv("upstream", &pg_p),
        kv("state", "streaming"),
        kv("version", "PostgreSQL "),
    ] {
        assert!(details.contains(&want), "details lack {want:?}\n{details}");
    }
    s.send("g"); // the first header: no member selected, no details pane
    s.wait_for("the details pane to close", |t| !t.contains(&kv("role", "replica")));

    // 2. Replay paused on the standby while the primary writes: lag grows.
    pg.primary_sql("INSERT INTO e2e_lag VALUES (now())");
    let before = pg.primary_sql("SELECT count(*) FROM e2e_lag");
    s.wait_for_cond("the standby to replay the first insert", || {
        postgres::psql(pg.standby_port, "SELECT count(*) FROM e2e_lag").is_ok_and(|n| n == before)
    });
    pg.standby_sql("SELECT pg_wal_replay_pause()");
    let writer = Writer::start(pg.primary_port);
    let paused_lag = |t: &str| {
        let row = member_row(t, &pg_s)?;
        word_after(&row, "replay paused").and_then(lag_seconds)
    };
    let screen =
        s.wait_for("replay paused with a lag past the warning", |t| paused_lag(t).is_some_and(|l| l >= 2.0));
    let first = paused_lag(&screen).expect("a lag");
    s.wait_for("the lag to keep growing", |t| paused_lag(t).is_some_and(|l| l >= first + 1.0));
    tab(&mut s, "2", "╭ Alerts ");
    let alerts = s.wait_for_within("a ReplicationLag warning for the standby", ALERT_DEADLINE, |t| {
        t.contains("ReplicationLag")
            && t.lines().any(|l| {
                l.contains("warning")
                    && l.contains("firing")
                    && l.contains(&format!("{pg_s} of pg-main lags"))
            })
    });
    assert!(
        !alerts.lines().any(|l| l.contains("critical") && l.contains("lags")),
        "a 30 s critical threshold is not reached yet\n{alerts}"
    );
    tab(&mut s, "3", "╭ Replication ");
    let written = writer.finish();
    assert!(written > 0, "the writer inserted rows on the primary");
    pg.standby_sql("SELECT pg_wal_replay_resume()");
    s.wait_for("the standby streaming and caught up again", |t| {
        member_row(t, &pg_s).is_some_and(|r| word_after(&r, "streaming") == Some("idle"))
    });

    // 3. MariaDB's SQL thread stopped, a write behind it: lag unknown, never 0.
    maria.replica.sql("STOP SLAVE SQL_THREAD");
    maria.primary.sql("INSERT INTO e2e.t VALUES (1)");
    let stopped_lag = |t: &str| {
        let row = member_row(t, &my_r)?;
        let cell = word_after(&row, "stopped: SQL thread")?.to_owned();
        assert!(lag_seconds(&cell).is_none(), "a stopped SQL thread shows no number as lag\n{t}");
        Some(cell)
    };
    s.wait_for("the replica's SQL thread stopped, lag unknown", |t| {
        stopped_lag(t).is_some_and(|c| c == "unknown")
    });
    tab(&mut s, "2", "╭ Alerts ");
    s.wait_for_within("ReplicationStopped for the MariaDB replica", ALERT_DEADLINE, |t| {
        t.contains("ReplicationStopped")
            && t.lines().any(|l| {
                l.contains("critical")
                    && l.contains("firing")
                    && l.contains(&format!("Replication stopped on {my_r} (maria-main)"))
            })
    });
    tab(&mut s, "3", "╭ Replication ");
    s.wait_for("the lag still unknown while stopped", |t| stopped_lag(t).is_some_and(|c| c == "unknown"));
    maria.replica.sql("START SLAVE");
    rt.block_on(maria.wait_caught_up());
    s.wait_for("the MariaDB replica streaming again with a measured lag", |t| {
        member_row(t, &my_r)
            .and_then(|r| word_after(&r, "streaming").map(str::to_owned))
            .is_some_and(|c| c == "idle" || lag_seconds(&c).is_some())
    });

    // 4. The Redis replica frozen: its row goes stale with a growing age,
    //    every other member keeps refreshing.
    let frozen = redis.replica.pause();
    let others: Vec<&String> = all.iter().copied().filter(|a| **a != rd_r).collect();
    let others_fresh = |t: &str| {
        others.iter().all(|a| {
            member_row(t, a)
                .is_some_and(|r| !r.contains("stale") && fresh_age(&r).is_some_and(|age| age <= 3))
        })
    };
    let frozen_for = |t: &str| member_row(t, &rd_r).and_then(|r| stale_age(&r));
    let screen = s.wait_for("the frozen replica stale and counted unreachable, the others fresh", |t| {
        frozen_for(t).is_some_and(|age| age >= 4)
            && others_fresh(t)
            && t.lines().any(|l| l.contains("▾ redis-main") && l.contains("1 unreachable"))
    });
    let stale_since = frozen_for(&screen).expect("a stale age");
    s.wait_for("its age growing while the others stay fresh", |t| {
        frozen_for(t).is_some_and(|age| age >= stale_since + 2) && others_fresh(t)
    });
    drop(frozen); // SIGCONT
    s.wait_for("the Redis replica fresh and streaming again", |t| {
        member_row(t, &rd_r)
            .is_some_and(|r| !r.contains("stale") && r.contains("streaming") && fresh_age(&r).is_some())
    });

    // 5. Split brain: the Redis replica made a master beside its master, the
    //    MariaDB replica opened to writes beside its primary. Critical in the
    //    headers, in the queue and on the wall; gone once fenced again.
    redis.replica.cli(&["REPLICAOF", "NO", "ONE"]);
    maria.replica.sql("SET GLOBAL read_only = OFF");
    let split = |t: &str, cluster: &str| t.lines().any(|l| l.contains(cluster) && l.contains("SPLIT BRAIN"));
    let screen = s.wait_for("both headers saying split brain", |t| {
        split(t, "▾ redis-main") && split(t, "▾ maria-main") && !split(t, "▾ pg-main")
    });
    let header = screen.lines().find(|l| l.contains("▾ maria-main")).unwrap_or_default();
    assert!(header.contains(&format!("2 take writes ({my_p}, {my_r})")), "{header}");
    tab(&mut s, "2", "╭ Alerts ");
    s.wait_for_within("ReplicationSplitBrain for both clusters", ALERT_DEADLINE, |t| {
        ["redis-main", "maria-main"].iter().all(|c| {
            t.lines().any(|l| l.contains("critical") && l.contains(&format!("Split brain in {c}: 2 members")))
        })
    });
    let mut wall = sandbox.spawn_sized(&[common::BIN, "--config", &cfg, "--wall"], &env, 40, 160);
    wall.wait_for("the wall's replication tile saying split brain", |t| t.contains("SPLIT BRAIN"));
    wall.send("q");
    assert_eq!(wall.wait_exit(), 0);
    maria.replica.sql("SET GLOBAL read_only = ON");
    redis.replica.cli(&["REPLICAOF", "127.0.0.1", &redis.primary.port.to_string()]);
    tab(&mut s, "3", "╭ Replication ");
    s.wait_for("split brain gone once both are fenced", |t| {
        !t.contains("SPLIT BRAIN") && member_row(t, &rd_r).is_some_and(|r| r.contains(" replica "))
    });

    // 6. Quit; no password in anything opsdeck wrote.
    s.send("q");
    assert_eq!(s.wait_exit(), 0);
    let raw = s.raw();
    let log_path = sandbox.path().join("data/opsdeck/opsdeck.log");
    let log = std::fs::read(&log_path).unwrap_or_else(|e| panic!("{}: {e}", log_path.display()));
    assert!(!log.is_empty(), "opsdeck logged something to check");
    for secret in [postgres::MONITOR_PASSWORD, mariadb::MONITOR_PASSWORD, redis::MONITOR_PASSWORD] {
        assert!(!common::contains(&raw, secret), "the terminal output holds a password");
        assert!(!common::contains(&log, secret), "{} holds a password", log_path.display());
    }
    eprintln!("whole test took {:?}", started.elapsed());
}
