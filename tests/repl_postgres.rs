//! The PostgreSQL replication source against a real primary and streaming
//! standby: roles, channel and downstream, idle versus real lag, the
//! monitoring role's permissions, authentication errors, unreachable and hung
//! servers, and the guarded actions ending in a promotion.
//!
//! One pair serves every scenario (starting one costs ≈ 3.5 s); they run in
//! order, the promotion last because it ends the replication.

mod backends;

use std::time::{Duration, Instant};

use backends::postgres::{
    CHANGE_DEADLINE, MONITOR_PASSWORD, MONITOR_USER, PLAIN_PASSWORD, PLAIN_USER, PgPair, SLOT, STANDBY_NAME,
};
use backends::{free_port, wait_for};
use opsdeck::config::clusters::{Cluster, ClusterKind, MemberAddr};
use opsdeck::config::secret::SecretValue;
use opsdeck::replication::model::{Lag, LinkState, Role, Status};
use opsdeck::sources::postgres::PgMember;

const TIMEOUT: Duration = Duration::from_secs(2);

fn cluster(user: Option<&str>) -> Cluster {
    Cluster {
        user: user.map(str::to_owned),
        interval: Duration::from_secs(1),
        timeout: TIMEOUT,
        ..Cluster::new("pg-test", ClusterKind::Postgres, vec![])
    }
}

fn tcp(port: u16) -> MemberAddr {
    MemberAddr::Tcp { host: "127.0.0.1".into(), port }
}

async fn member(port: u16, user: Option<&str>, password: Option<&str>) -> PgMember {
    let secret = password.map(|p| SecretValue::new(p.to_owned()));
    PgMember::connect(&cluster(user), &tcp(port), secret.as_ref()).await.expect("lazy connect")
}

/// One poll, bounded the way the poller bounds it.
async fn poll(m: &PgMember) -> Result<Status, String> {
    tokio::time::timeout(TIMEOUT * 3, m.poll()).await.unwrap_or_else(|_| Err("poll hung".into()))
}

async fn poll_ok(m: &PgMember) -> Status {
    poll(m).await.unwrap_or_else(|e| panic!("poll of {m:?} failed: {e}"))
}

/// Poll until `check` accepts the status.
async fn poll_until(what: &str, m: &PgMember, check: impl Fn(&Status) -> bool) -> Status {
    wait_for(what, CHANGE_DEADLINE, || async {
        let status = poll(m).await.ok()?;
        check(&status).then_some(status)
    })
    .await
}

fn fact<'a>(facts: &'a [(String, String)], key: &str) -> Option<&'a str> {
    facts.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_closed_port_fails_fast_and_clearly() {
    let port = free_port(); // nothing listens: it was just released
    let m = member(port, None, None).await;
    let started = Instant::now();
    let err = poll(&m).await.expect_err("nothing listens there");
    assert_eq!(err, "connection refused");
    assert!(started.elapsed() < TIMEOUT, "took {:?}", started.elapsed());
}

#[tokio::test]
async fn replication_pair_end_to_end() {
    let pair = PgPair::start().await;
    let primary = member(pair.primary_port, None, None).await;
    let standby = member(pair.standby_port, None, None).await;

    roles_channel_and_downstream(&pair, &primary, &standby).await;
    idle_standby_is_idle(&pair, &primary, &standby).await;
    socket_member_and_password_role(&pair).await;
    wrong_password_is_clear_and_secret(&pair).await;
    plain_role_sees_no_permission(&pair).await;
    paused_replay_shows_real_lag(&pair, &primary, &standby).await;
    hung_server_errors_within_the_timeout(&pair).await;
    actions_refuse_on_the_primary(&primary).await;
    promote_turns_the_standby_into_a_primary(&pair, &standby).await;
}

async fn roles_channel_and_downstream(pair: &PgPair, primary: &PgMember, standby: &PgMember) {
    let p = poll_ok(primary).await;
    assert_eq!(p.role, Role::Primary);
    assert!(p.version.starts_with("PostgreSQL 1"), "{}", p.version);
    assert_eq!(p.read_only, Some(false));
    assert!(p.channels.is_empty());
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.downstreams.len(), 1, "{:?}", p.downstreams);
    let d = &p.downstreams[0];
    assert_eq!((d.name.as_str(), d.state.as_str()), (STANDBY_NAME, "streaming"));
    assert_eq!(d.addr.as_deref(), Some("127.0.0.1"));
    assert_eq!(d.sync.as_deref(), Some("async"));
    assert!(p.position.is_some());
    assert_eq!(fact(&p.facts, "timeline"), Some("1"));
    assert_eq!(fact(&p.facts, "wal_level"), Some("replica"));
    let slot = p.slots.iter().find(|s| s.name == SLOT).expect("the standby's slot");
    assert!(slot.active && slot.kind == "physical", "{slot:?}");
    assert!(slot.wal_status.is_some() && slot.retained_bytes.is_some(), "{slot:?}");

    let s = poll_ok(standby).await;
    assert_eq!(s.role, Role::Replica);
    assert_eq!(s.read_only, Some(true));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.channels.len(), 1);
    let c = &s.channels[0];
    assert_eq!(c.state, LinkState::Streaming);
    assert_eq!(c.upstream, Some(format!("127.0.0.1:{}", pair.primary_port)));
    // Polled alone, the standby measures itself (the tab asks its primary, see repl_truth).
    assert!(c.lag_source.starts_with("standby: "), "{}", c.lag_source);
    assert_eq!(c.peer_name.as_deref(), Some(STANDBY_NAME), "the name its walsender shows");
    assert_eq!(fact(&c.facts, "slot"), Some(SLOT));
    assert!(s.position.is_some() && c.applied_position.is_some());
    assert_eq!(fact(&s.facts, "timeline"), Some("1"));
}

async fn idle_standby_is_idle(pair: &PgPair, primary: &PgMember, standby: &PgMember) {
    // A committed transaction gives the standby a replay timestamp to age.
    pair.primary_sql("CREATE TABLE idle_probe (id int)");
    let s = poll_until("the standby to replay it and catch up", standby, |s| {
        s.channels[0].lag == Lag::Idle && fact(&s.channels[0].facts, "last replayed transaction").is_some()
    })
    .await;
    let c = &s.channels[0];
    assert_eq!(c.state, LinkState::Streaming);
    assert_eq!(c.apply_backlog_bytes, Some(0));
    assert_eq!(c.applied_position, s.position);
    let age = fact(&c.facts, "last replayed transaction").expect("replay age fact");
    assert!(age.ends_with("(age, not lag: the primary may be idle)"), "{age}");
    // The primary's side: NULL replay_lag once caught up reads as Idle, never Unknown.
    let p = poll_until("the primary to see the standby caught up", primary, |p| {
        p.downstreams.first().is_some_and(|d| d.lag_bytes == Some(0))
    })
    .await;
    let lag = &p.downstreams[0].lag;
    assert!(matches!(lag, Lag::Idle | Lag::Behind(_)), "{lag:?}");
}

async fn socket_member_and_password_role(pair: &PgPair) {
    let socket = MemberAddr::Socket(pair.dir().join(format!(".s.PGSQL.{}", pair.standby_port)));
    let m = PgMember::connect(&cluster(None), &socket, None).await.expect("lazy connect");
    assert_eq!(poll_ok(&m).await.role, Role::Replica);

    // pg_monitor over scram-sha-256: every detail visible, no warnings.
    let monitor = member(pair.primary_port, Some(MONITOR_USER), Some(MONITOR_PASSWORD)).await;
    let p = poll_ok(&monitor).await;
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.downstreams[0].state, "streaming");
    assert!(!format!("{monitor:?}").contains(MONITOR_PASSWORD));
}

async fn wrong_password_is_clear_and_secret(pair: &PgPair) {
    let wrong = "Wr0ng-but-secret";
    let m = member(pair.primary_port, Some(MONITOR_USER), Some(wrong)).await;
    let err = poll(&m).await.expect_err("wrong password");
    assert_eq!(err, format!("password authentication failed for user \"{MONITOR_USER}\""));
    assert!(!err.contains(wrong) && !format!("{m:?}").contains(wrong));
    // No password at all for a scram role: also one clear line.
    let none = member(pair.primary_port, Some(MONITOR_USER), None).await;
    let err = poll(&none).await.expect_err("no password");
    assert_eq!(err, format!("password authentication failed for user \"{MONITOR_USER}\""));
}

async fn plain_role_sees_no_permission(pair: &PgPair) {
    let plain = member(pair.primary_port, Some(PLAIN_USER), Some(PLAIN_PASSWORD)).await;
    let p = poll_ok(&plain).await;
    assert_eq!(p.role, Role::Primary);
    let d = &p.downstreams[0];
    assert_eq!(d.name, STANDBY_NAME, "application_name stays visible");
    assert_eq!(d.lag, Lag::NoPermission);
    assert_eq!(d.state, "no permission");
    assert!(
        p.warnings.iter().any(|w| w == "pg_stat_replication: no permission (grant pg_monitor)"),
        "{:?}",
        p.warnings
    );

    let plain_standby = member(pair.standby_port, Some(PLAIN_USER), Some(PLAIN_PASSWORD)).await;
    let s = poll_ok(&plain_standby).await;
    assert!(
        s.warnings.iter().any(|w| w.starts_with("pg_stat_wal_receiver: no permission")),
        "{:?}",
        s.warnings
    );
    // Replay positions need no privilege: the lag is still measured.
    assert!(s.channels[0].lag.seconds().is_some(), "{:?}", s.channels[0].lag);
    let err = plain_standby.pause_replay().await.expect_err("plain roles may not pause replay");
    assert_eq!(
        err,
        "no permission: permission denied for function pg_wal_replay_pause \
         (needs superuser or GRANT EXECUTE ON FUNCTION pg_wal_replay_pause)"
    );
}

async fn paused_replay_shows_real_lag(pair: &PgPair, primary: &PgMember, standby: &PgMember) {
    let outcome = standby.pause_replay().await.expect("pause replay");
    assert!(outcome.starts_with("replay paused at "), "{outcome}");
    pair.primary_sql("CREATE TABLE lag_probe AS SELECT g FROM generate_series(1, 20000) g");
    let first = poll_until("a backlog on the paused standby", standby, |s| {
        s.channels[0].apply_backlog_bytes.is_some_and(|b| b > 0)
    })
    .await;
    let c = &first.channels[0];
    assert_eq!(c.state, LinkState::ReplayPaused);
    assert!(matches!(c.lag, Lag::Behind(_)), "{:?}", c.lag);
    assert_eq!(pair.standby_sql("SELECT pg_is_wal_replay_paused()"), "t");

    pair.primary_sql("INSERT INTO lag_probe SELECT g FROM generate_series(1, 20000) g");
    let backlog = c.apply_backlog_bytes.unwrap_or_default();
    let grown = poll_until("the backlog to grow", standby, |s| {
        s.channels[0].apply_backlog_bytes.is_some_and(|b| b > backlog)
    })
    .await;
    let lag_before = first.channels[0].lag.seconds().unwrap_or_default();
    assert!(grown.channels[0].lag.seconds().unwrap_or_default() >= lag_before);
    let p = poll_until("the primary to see bytes not replayed", primary, |p| {
        p.downstreams[0].lag_bytes.is_some_and(|b| b > 0)
    })
    .await;
    assert_eq!(p.downstreams[0].state, "streaming");

    let outcome = standby.resume_replay().await.expect("resume replay");
    assert!(outcome.starts_with("replay resumed from "), "{outcome}");
    let s = poll_until("the standby to catch up again", standby, |s| s.channels[0].lag == Lag::Idle).await;
    assert_eq!(s.channels[0].state, LinkState::Streaming);
    assert_eq!(s.channels[0].apply_backlog_bytes, Some(0));
    poll_until("the primary to see it replayed", primary, |p| p.downstreams[0].lag_bytes == Some(0)).await;
}

async fn hung_server_errors_within_the_timeout(pair: &PgPair) {
    let pid = pair.primary_pid();
    // A stopped postmaster accepts TCP (the kernel does) but never answers.
    // SAFETY: signals to the test's own server, resumed below.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let short = Cluster { timeout: Duration::from_millis(400), ..cluster(None) };
    let fresh = PgMember::connect(&short, &tcp(pair.primary_port), None).await.expect("lazy connect");
    let started = Instant::now();
    let result = fresh.poll().await;
    let took = started.elapsed();
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let err = result.expect_err("a hung server");
    assert_eq!(err, "no answer within 400ms");
    assert!(took < Duration::from_millis(900), "took {took:?}");
    poll_until("the resumed server to answer", &fresh, |_| true).await;
}

async fn actions_refuse_on_the_primary(primary: &PgMember) {
    for result in [primary.pause_replay().await, primary.resume_replay().await] {
        let err = result.expect_err("no replay on a primary");
        assert!(err.starts_with("refused to ") && err.contains("is a primary"), "{err}");
    }
    let err = primary.promote(Duration::from_secs(5)).await.expect_err("already a primary");
    assert!(err.contains("already a primary"), "{err}");
}

async fn promote_turns_the_standby_into_a_primary(pair: &PgPair, standby: &PgMember) {
    let outcome = standby.promote(Duration::from_secs(30)).await.expect("promote");
    assert!(outcome.starts_with("promoted in ") && outcome.ends_with("now on timeline 2"), "{outcome}");
    assert_eq!(pair.standby_sql("SELECT pg_is_in_recovery()"), "f");
    let s = poll_ok(standby).await;
    assert_eq!(s.role, Role::Primary);
    assert_eq!(s.read_only, Some(false));
    assert!(s.channels.is_empty());
    assert_eq!(fact(&s.facts, "timeline"), Some("2"));

    // A primary made read-only by configuration says so.
    pair.standby_sql("ALTER SYSTEM SET default_transaction_read_only = on");
    pair.standby_sql("SELECT pg_reload_conf()");
    let s = poll_until("the read-only setting to apply", standby, |s| s.read_only == Some(true)).await;
    assert_eq!(s.role, Role::Primary);
}
