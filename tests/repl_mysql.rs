mod backends;

// The MySQL/MariaDB replication source against a real MariaDB 10.11 primary
// and GTID replica. One pair serves every scenario, run in order (starting a
// pair costs seconds); the destructive ones (pause, promote) come last.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use backends::mariadb::{
    MONITOR_PASSWORD, MONITOR_USER, MariaPair, NOPRIV_PASSWORD, NOPRIV_USER, REPL_PASSWORD, REPL_USER,
};
use backends::{free_port, wait_for};
use opsdeck::config::clusters::{Cluster, ClusterKind, MemberAddr, TlsMode};
use opsdeck::config::secret::SecretValue;
use opsdeck::replication::model::{Channel, Lag, LinkState, Role, Status};
use opsdeck::sources::mysql::MyMember;

/// How long the replica may take to show a change.
const SETTLE: Duration = Duration::from_secs(10);

fn cluster(user: &str, timeout: Duration) -> Cluster {
    Cluster {
        user: Some(user.into()),
        interval: Duration::from_secs(1),
        timeout,
        ..Cluster::new("maria", ClusterKind::Mysql, Vec::new())
    }
}

fn tcp(port: u16) -> MemberAddr {
    MemberAddr::Tcp { host: "127.0.0.1".into(), port }
}

async fn member(cluster: &Cluster, addr: MemberAddr, password: Option<&str>) -> MyMember {
    let secret = password.map(|p| SecretValue::new(p.into()));
    MyMember::connect(cluster, &addr, secret.as_ref()).await.expect("connect is lazy and cannot fail here")
}

/// The monitoring user on `port`, with a 2 s timeout.
async fn monitor(port: u16) -> MyMember {
    member(&cluster(MONITOR_USER, Duration::from_secs(2)), tcp(port), Some(MONITOR_PASSWORD)).await
}

/// root without a password (as `mariadb-install-db` leaves it), for actions
/// that need `REPLICATION SLAVE ADMIN`.
async fn root(port: u16) -> MyMember {
    member(&cluster("root", Duration::from_secs(2)), tcp(port), None).await
}

async fn poll(m: &MyMember) -> Status {
    m.poll().await.unwrap_or_else(|e| panic!("poll of {m:?} failed: {e}"))
}

fn only_channel(s: &Status) -> &Channel {
    assert_eq!(s.channels.len(), 1, "one channel expected: {:#?}", s.channels);
    &s.channels[0]
}

fn fact<'a>(facts: &'a [(String, String)], name: &str) -> Option<&'a str> {
    facts.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Poll until `check` accepts the status, or panic with the last one.
async fn poll_until(m: &MyMember, what: &str, check: impl Fn(&Status) -> bool) -> Status {
    wait_for(what, SETTLE, || async {
        let s = poll(m).await;
        check(&s).then_some(s)
    })
    .await
}

#[tokio::test]
async fn mariadb_replication_source() {
    let started = Instant::now();
    let pair = MariaPair::start().await;
    eprintln!("pair ready in {:?}", started.elapsed());

    primary_reports_itself_and_its_replica(&pair).await;
    replica_streams_from_the_primary(&pair).await;
    socket_members_work(&pair).await;
    secrets_stay_out_of_errors_and_debug(&pair).await;
    tls_required_but_not_offered(&pair).await;
    closed_port_fails_fast(&pair).await;
    missing_privileges_are_warnings(&pair).await;
    heartbeat_table_measures_lag(&pair).await;
    stopped_sql_thread_has_unknown_lag(&pair).await;
    named_connection_retrying_is_connecting(&pair).await;
    actions_stop_start_and_read_only(&pair).await;
    hung_server_times_out(&pair).await;
    promote_makes_a_primary(&pair).await;
    eprintln!("all scenarios in {:?}", started.elapsed());
}

async fn primary_reports_itself_and_its_replica(pair: &MariaPair) {
    let s = poll(&monitor(pair.primary.port).await).await;
    assert_eq!(s.role, Role::Primary);
    assert!(s.version.starts_with("MariaDB 10."), "{}", s.version);
    assert_eq!(s.read_only, Some(false));
    assert!(s.channels.is_empty());
    assert_eq!(s.warnings, Vec::<String>::new());
    assert_eq!(fact(&s.facts, "server_id"), Some("1"));
    assert_eq!(fact(&s.facts, "log_bin"), Some("ON"));
    assert!(fact(&s.facts, "gtid_binlog_pos").is_some_and(|p| p.starts_with("0-1-")), "{:?}", s.facts);
    assert_eq!(s.downstreams.len(), 1, "{:#?}", s.downstreams);
    let d = &s.downstreams[0];
    assert_eq!(d.name, "2");
    assert_eq!(d.addr, Some(format!("127.0.0.1:{}", pair.replica.port)));
    assert_eq!(d.lag, Lag::Unknown("see the replica".into()));
}

async fn replica_streams_from_the_primary(pair: &MariaPair) {
    let s = poll(&monitor(pair.replica.port).await).await;
    assert_eq!(s.role, Role::Replica);
    assert_eq!(s.read_only, Some(true));
    assert_eq!(s.warnings, Vec::<String>::new());
    assert_eq!(fact(&s.facts, "server_id"), Some("2"));
    let c = only_channel(&s);
    assert_eq!(c.name, "");
    assert_eq!(c.upstream, Some(format!("127.0.0.1:{}", pair.primary.port)));
    assert_eq!(c.state, LinkState::Streaming);
    assert!(matches!(c.lag, Lag::Behind(d) if d < Duration::from_secs(5)), "{:?}", c.lag);
    assert_eq!(c.lag_source, "Seconds_Behind_Master");
    assert_eq!(c.last_error, None);
    assert_eq!(c.apply_backlog_bytes, Some(0));
    assert_eq!(fact(&c.facts, "Using_Gtid"), Some("Slave_Pos"));
    assert!(fact(&c.facts, "Gtid_IO_Pos").is_some_and(|p| p.starts_with("0-1-")), "{:?}", c.facts);
}

async fn socket_members_work(pair: &MariaPair) {
    let cluster = cluster("root", Duration::from_secs(2));
    let sock = member(&cluster, MemberAddr::Socket(pair.replica.socket()), None).await;
    let s = poll(&sock).await;
    assert_eq!(s.role, Role::Replica);
    let missing = member(&cluster, MemberAddr::Socket(PathBuf::from("/nonexistent/mysqld.sock")), None).await;
    assert_eq!(missing.poll().await.expect_err("no socket"), "no such socket file");
}

async fn secrets_stay_out_of_errors_and_debug(pair: &MariaPair) {
    let wrong = "Wr0ng-pw-5521";
    let c = cluster(MONITOR_USER, Duration::from_secs(2));
    let m = member(&c, tcp(pair.replica.port), Some(wrong)).await;
    let err = m.poll().await.expect_err("wrong password");
    assert!(err.starts_with(&format!("access denied for user \"{MONITOR_USER}\"")), "{err}");
    assert!(!err.contains(wrong), "{err}");
    assert!(!err.contains('\n'), "{err}");
    let debug = format!("{m:?} {:?}", monitor(pair.replica.port).await);
    assert!(!debug.contains(wrong) && !debug.contains(MONITOR_PASSWORD), "{debug}");
    assert!(debug.contains("••••"), "{debug}");
}

async fn tls_required_but_not_offered(pair: &MariaPair) {
    let mut c = cluster(MONITOR_USER, Duration::from_secs(2));
    c.tls = TlsMode::Require;
    let m = member(&c, tcp(pair.replica.port), Some(MONITOR_PASSWORD)).await;
    assert_eq!(m.poll().await.expect_err("no TLS on this server"), "TLS: server does not support TLS");
}

async fn closed_port_fails_fast(_pair: &MariaPair) {
    let timeout = Duration::from_secs(2);
    let m = member(&cluster(MONITOR_USER, timeout), tcp(free_port()), Some(MONITOR_PASSWORD)).await;
    let started = Instant::now();
    let err = m.poll().await.expect_err("nothing listens there");
    assert_eq!(err, "connection refused");
    assert!(started.elapsed() <= timeout, "took {:?}", started.elapsed());
}

async fn missing_privileges_are_warnings(pair: &MariaPair) {
    let c = cluster(NOPRIV_USER, Duration::from_secs(2));
    let s = poll(&member(&c, tcp(pair.replica.port), Some(NOPRIV_PASSWORD)).await).await;
    assert!(
        s.warnings.contains(&"SHOW ALL REPLICAS STATUS: no permission (grant REPLICA MONITOR)".to_owned()),
        "{:?}",
        s.warnings
    );
    assert!(
        s.warnings.contains(&"SHOW SLAVE HOSTS: no permission (grant REPLICATION MASTER ADMIN)".to_owned()),
        "{:?}",
        s.warnings
    );
    // Not "0 downstream": unknown, with the privilege it needs.
    assert_eq!(
        s.downstreams_unknown.as_deref(),
        Some("SHOW SLAVE HOSTS: no permission (grant REPLICATION MASTER ADMIN)")
    );
    // read_only is readable by anyone: the replica still reads as one.
    assert_eq!(s.role, Role::Replica);
    assert_eq!(only_channel(&s).lag, Lag::NoPermission);
    assert!(s.version.starts_with("MariaDB"));
    // A writable member without the privilege reads as a primary, with the warning.
    let s = poll(&member(&c, tcp(pair.primary.port), Some(NOPRIV_PASSWORD)).await).await;
    assert_eq!((s.role, s.channels.len()), (Role::Primary, 0));
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
}

async fn heartbeat_table_measures_lag(pair: &MariaPair) {
    // pt-heartbeat's table and format (`--utc`), with a beat 30 s old.
    pair.primary.sql(
        "CREATE DATABASE hb; CREATE TABLE hb.heartbeat (ts varchar(26) NOT NULL, \
         server_id int unsigned NOT NULL PRIMARY KEY); \
         INSERT INTO hb.heartbeat VALUES \
         (DATE_FORMAT(UTC_TIMESTAMP(6) - INTERVAL 30 SECOND, '%Y-%m-%dT%H:%i:%s.%f'), 1);",
    );
    pair.wait_caught_up().await;
    let mut c = cluster(MONITOR_USER, Duration::from_secs(2));
    c.heartbeat_table = Some("hb.heartbeat".into());
    let s = poll(&member(&c, tcp(pair.replica.port), Some(MONITOR_PASSWORD)).await).await;
    assert_eq!(s.warnings, Vec::<String>::new());
    let ch = only_channel(&s);
    assert_eq!(ch.lag_source, "heartbeat table");
    let secs = ch.lag.seconds().expect("measured");
    assert!((29.0..60.0).contains(&secs), "{secs}");
    assert!(fact(&ch.facts, "Seconds_Behind_Master").is_some(), "the server's estimate is kept");

    c.heartbeat_table = Some("hb.nope".into());
    let s = poll(&member(&c, tcp(pair.replica.port), Some(MONITOR_PASSWORD)).await).await;
    assert_eq!(s.warnings, vec!["heartbeat table hb.nope: does not exist".to_owned()]);
    assert_eq!(only_channel(&s).lag_source, "Seconds_Behind_Master");
}

async fn stopped_sql_thread_has_unknown_lag(pair: &MariaPair) {
    let m = monitor(pair.replica.port).await;
    pair.replica.sql("STOP SLAVE SQL_THREAD");
    pair.primary.sql("CREATE TABLE hb.t (id int PRIMARY KEY); INSERT INTO hb.t VALUES (1), (2), (3);");
    let s = poll_until(&m, "received but unapplied writes", |s| {
        s.channels.first().is_some_and(|c| c.apply_backlog_bytes.is_some_and(|b| b > 0))
    })
    .await;
    let c = only_channel(&s);
    assert_eq!(c.state, LinkState::Stopped { what: "SQL thread".into() });
    assert_eq!(c.lag, Lag::Unknown("SQL thread stopped".into()));
    assert_eq!(c.lag.seconds(), None, "NULL Seconds_Behind_Master is never 0");
    pair.replica.sql("START SLAVE");
    let s = poll_until(&m, "streaming again", |s| {
        s.channels
            .first()
            .is_some_and(|c| c.state == LinkState::Streaming && c.apply_backlog_bytes == Some(0))
    })
    .await;
    assert!(matches!(only_channel(&s).lag, Lag::Behind(_)));
}

async fn named_connection_retrying_is_connecting(pair: &MariaPair) {
    let m = monitor(pair.replica.port).await;
    let closed = free_port();
    pair.replica.sql(&format!(
        "CHANGE MASTER 'b' TO MASTER_HOST='127.0.0.1', MASTER_PORT={closed}, MASTER_USER='{REPL_USER}', \
         MASTER_PASSWORD='{REPL_PASSWORD}', MASTER_CONNECT_RETRY=1; START SLAVE 'b';"
    ));
    let s = poll_until(&m, "connection b retrying", |s| {
        s.channels.iter().any(|c| c.name == "b" && c.last_error.is_some())
    })
    .await;
    let names: Vec<&str> = s.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["", "b"]);
    let b = &s.channels[1];
    assert_eq!(b.state, LinkState::Connecting);
    assert_eq!(b.upstream, Some(format!("127.0.0.1:{closed}")));
    assert_eq!(b.lag, Lag::Unknown("IO thread not connected".into()));
    let err = b.last_error.as_deref().unwrap_or_default();
    assert!(err.starts_with("IO error 2003: error connecting to master"), "{err}");
    assert!(!err.contains(REPL_PASSWORD), "{err}");
    assert_eq!(s.channels[0].state, LinkState::Streaming);
    pair.replica.sql("STOP SLAVE 'b'; RESET SLAVE 'b' ALL;");
    assert_eq!(poll(&m).await.channels.len(), 1);
}

async fn actions_stop_start_and_read_only(pair: &MariaPair) {
    let admin = root(pair.replica.port).await;
    let watch = monitor(pair.replica.port).await;
    let refused = root(pair.primary.port).await.stop_replica().await.expect_err("a primary");
    assert_eq!(refused, "not a replica: no replication channel is configured");

    let outcome = admin.stop_replica().await.expect("stop");
    assert_eq!(outcome, "STOP ALL REPLICAS: 1 channel stopped");
    let c = poll(&watch).await.channels.remove(0);
    assert_eq!(c.state, LinkState::Stopped { what: "IO and SQL threads".into() });
    assert_eq!(c.lag, Lag::Unknown("SQL thread stopped".into()));

    let outcome = admin.start_replica().await.expect("start");
    assert!(outcome.starts_with("START ALL REPLICAS: default channel "), "{outcome}");
    poll_until(&watch, "streaming after START", |s| {
        s.channels.first().is_some_and(|c| c.state == LinkState::Streaming)
    })
    .await;

    // The monitoring user has READ_ONLY ADMIN but not REPLICATION SLAVE ADMIN.
    let denied = watch.stop_replica().await.expect_err("no REPLICATION SLAVE ADMIN");
    assert!(denied.starts_with("STOP ALL REPLICAS: no permission: Access denied"), "{denied}");
    assert_eq!(watch.set_read_only(false).await, Ok("read_only is OFF".to_owned()));
    assert_eq!(poll(&watch).await.read_only, Some(false));
    assert_eq!(watch.set_read_only(true).await, Ok("read_only is ON".to_owned()));
    assert_eq!(poll(&watch).await.read_only, Some(true));
    let c = cluster(NOPRIV_USER, Duration::from_secs(2));
    let nopriv = member(&c, tcp(pair.replica.port), Some(NOPRIV_PASSWORD)).await;
    let denied = nopriv.set_read_only(false).await.expect_err("no READ_ONLY ADMIN");
    assert!(denied.starts_with("SET GLOBAL read_only = OFF: no permission"), "{denied}");
    assert!(!denied.contains(NOPRIV_PASSWORD), "{denied}");
}

async fn hung_server_times_out(pair: &MariaPair) {
    let timeout = Duration::from_secs(1);
    let c = cluster(MONITOR_USER, timeout);
    let warm = member(&c, tcp(pair.replica.port), Some(MONITOR_PASSWORD)).await;
    poll(&warm).await; // a pooled connection exists before the hang
    {
        let _paused = pair.replica.pause();
        let cold = member(&c, tcp(pair.replica.port), Some(MONITOR_PASSWORD)).await;
        for m in [&warm, &cold] {
            let started = Instant::now();
            let err = m.poll().await.expect_err("a stopped server answers nothing");
            assert_eq!(err, "no answer within 1s");
            assert!(started.elapsed() < timeout + Duration::from_millis(500), "took {:?}", started.elapsed());
        }
    }
    let s = poll_until(&warm, "the same member to recover after SIGCONT", |_| true).await;
    assert_eq!(s.role, Role::Replica);
}

async fn promote_makes_a_primary(pair: &MariaPair) {
    let admin = root(pair.replica.port).await;
    let outcome = admin.promote().await.expect("promote");
    assert_eq!(outcome, "promoted: 1 channel removed (default channel), read_only OFF");
    let s = poll(&monitor(pair.replica.port).await).await;
    assert_eq!(s.role, Role::Primary);
    assert!(s.channels.is_empty());
    assert_eq!(s.read_only, Some(false));
    // It accepts writes now.
    pair.replica.sql("INSERT INTO hb.t VALUES (100)");
    let again = admin.promote().await.expect_err("already a primary");
    assert_eq!(again, "not a replica: no replication channel is configured");
}
