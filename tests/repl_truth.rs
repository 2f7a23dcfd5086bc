//! What the Replication tab and `opsdeck check` say when it matters, against
//! a real PostgreSQL primary and streaming standby:
//!
//! - a standby's lag is what the primary's walsender measures
//!   (`pg_stat_replication.replay_lag`), not the age of its last replayed
//!   commit, which after an idle primary is the idle time;
//! - an idle primary followed by one write raises no lag alert;
//! - a primary that may not list its standbys says "unknown" and why;
//! - two writable primaries are split brain: critical in `check`.

mod backends;
mod common;

use std::time::{Duration, Instant};

use backends::postgres::{PLAIN_PASSWORD, PLAIN_USER, PgPair, psql};
use backends::wait_for;
use common::Sandbox;
use opsdeck::app::replication::ReplicationPane;
use opsdeck::config::clusters::{Cluster, ClusterKind, MemberAddr};
use opsdeck::config::secret::SecretValue;
use opsdeck::replication::judge::UPSTREAM_SOURCE;
use opsdeck::replication::model::{Lag, Status};
use opsdeck::sources::postgres::PgMember;
use opsdeck::sources::replication::MemberReport;

const TIMEOUT: Duration = Duration::from_secs(2);
/// How long the primary stays idle before the write: long against the poll
/// interval (1 s) and the warning threshold below, short for a test.
const IDLE: Duration = Duration::from_secs(8);

fn tcp(port: u16) -> MemberAddr {
    MemberAddr::Tcp { host: "127.0.0.1".into(), port }
}

fn cluster(pair: &PgPair) -> Cluster {
    Cluster {
        interval: Duration::from_secs(1),
        timeout: TIMEOUT,
        lag_warning: Duration::from_secs(3),
        lag_critical: Duration::from_secs(6),
        ..Cluster::new(
            "pg-truth",
            ClusterKind::Postgres,
            vec![tcp(pair.primary_port), tcp(pair.standby_port)],
        )
    }
}

/// The tab's pane fed by real polls of both members, as the pollers feed it.
struct Tab {
    pane: ReplicationPane,
    members: Vec<PgMember>,
}

impl Tab {
    async fn new(c: &Cluster, user: Option<(&str, &str)>) -> Tab {
        let c = Cluster { user: user.map(|(u, _)| u.to_owned()), ..c.clone() };
        let secret = user.map(|(_, p)| SecretValue::new(p.to_owned()));
        let mut members = Vec::new();
        for addr in &c.members {
            members.push(PgMember::connect(&c, addr, secret.as_ref()).await.expect("lazy connect"));
        }
        Tab { pane: ReplicationPane::new(std::slice::from_ref(&c), c.interval), members }
    }

    /// One round: the standby first, then the primary, as a poll round may arrive.
    async fn round(&mut self) {
        for member in [1, 0] {
            let started = Instant::now();
            let result = self.members[member].poll().await;
            let report = MemberReport { cluster: 0, member, result, took: started.elapsed() };
            self.pane.on_report(report, Instant::now());
        }
    }

    fn shown(&self, member: usize) -> &Status {
        self.pane.clusters[0].members[member].status.as_ref().expect("a good poll")
    }
}

/// The primary's own `replay_lag` for the standby, in seconds; `None` while NULL.
fn replay_lag(pair: &PgPair) -> Option<f64> {
    let out =
        psql(pair.primary_port, "SELECT EXTRACT(EPOCH FROM replay_lag) FROM pg_stat_replication").ok()?;
    out.trim().parse().ok()
}

#[tokio::test]
async fn standby_lag_is_what_the_primary_measures_and_an_idle_primary_is_no_lag() {
    let pair = PgPair::start().await;
    pair.primary_sql("CREATE TABLE probe (x int); INSERT INTO probe VALUES (1)");
    let standby_port = pair.standby_port;
    wait_for("the standby to replay the first row", Duration::from_secs(20), || async move {
        (psql(standby_port, "SELECT count(*) FROM probe").ok()? == "1").then_some(())
    })
    .await;
    let c = cluster(&pair);
    let mut tab = Tab::new(&c, None).await;
    tab.round().await;

    // The primary idles; then replay pauses and one write arrives.
    tokio::time::sleep(IDLE).await;
    pair.standby_sql("SELECT pg_wal_replay_pause()");
    pair.primary_sql("INSERT INTO probe VALUES (2)");
    let since_write = Instant::now();
    wait_for("the primary to measure the stuck replay", Duration::from_secs(20), || async {
        replay_lag(&pair).map(|_| ())
    })
    .await;
    tab.round().await;
    let measured = replay_lag(&pair).expect("replay_lag");
    let channel = &tab.shown(1).channels[0];
    let shown = channel.lag.seconds().unwrap_or_else(|| panic!("shown lag is {:?}", channel.lag));
    assert_eq!(channel.lag_source, UPSTREAM_SOURCE, "{channel:?}");
    // Within one poll (1 s) of the primary's figure, read just after the round.
    assert!((shown - measured).abs() <= 1.5, "shown {shown} s, the primary says {measured} s");
    assert!(shown <= since_write.elapsed().as_secs_f64() + 1.0, "shown {shown} s: the write is that young");
    // The standby's own clock would have said the idle time: kept, as a fact.
    let own = channel.facts.iter().find(|(k, _)| k == "standby's own estimate").map(|(_, v)| v.clone());
    assert!(own.is_some(), "{:?}", channel.facts);

    // `opsdeck check` (the real binary, both members polled at once) agrees:
    // no lag line over the 3 s warning, though the replay timestamp is ≥ 8 s old.
    let sandbox = Sandbox::new();
    let (code, out) = check(&sandbox, &c);
    let standby = c.members[1].to_string();
    let lag_line = out.lines().find(|l| l.contains(&standby) && l.contains("ReplicationLag"));
    let lag_line = lag_line.unwrap_or_else(|| panic!("a lag line for the standby:\n{out}"));
    assert!(lag_line.trim_start().starts_with("OK"), "{lag_line}");
    assert_eq!(code, 0, "nothing is wrong but a paused replay of one young write:\n{out}");

    // Behind for real: the shown lag grows with the primary's.
    tokio::time::sleep(Duration::from_secs(4)).await;
    tab.round().await;
    let later = tab.shown(1).channels[0].lag.seconds().unwrap_or_default();
    let measured = replay_lag(&pair).expect("replay_lag");
    assert!(
        later >= 3.0 && (later - measured).abs() <= 1.5,
        "shown {later} s, the primary says {measured} s"
    );

    pair.standby_sql("SELECT pg_wal_replay_resume()");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        tab.round().await;
        if tab.shown(1).channels[0].lag == Lag::Idle {
            break;
        }
        assert!(Instant::now() < deadline, "the standby never caught up: {:?}", tab.shown(1).channels[0]);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A role that may not read pg_stat_replication: unknown, and why, not "0 downstream".
    pair.primary_sql("REVOKE SELECT ON pg_catalog.pg_stat_replication FROM PUBLIC");
    let mut blind = Tab::new(&c, Some((PLAIN_USER, PLAIN_PASSWORD))).await;
    blind.round().await;
    let primary = blind.shown(0);
    assert!(primary.downstreams.is_empty());
    let why = primary.downstreams_unknown.clone().unwrap_or_default();
    assert!(why.starts_with("pg_stat_replication: ") && why.contains("grant pg_monitor"), "{why:?}");
    // opsdeck check says so too: unknown (exit 3), not OK.
    let blind_cluster = Cluster { user: Some(PLAIN_USER.into()), ..c.clone() };
    let sandbox = Sandbox::new();
    let (code, out) = check_as(&sandbox, &blind_cluster, PLAIN_PASSWORD);
    let primary_addr = c.members[0].to_string();
    let line = out.lines().find(|l| l.contains(&primary_addr) && l.contains("replicas unknown"));
    let line = line.unwrap_or_else(|| panic!("an unknown line for the primary:\n{out}"));
    assert!(line.trim_start().starts_with("UNKNOWN") && line.contains("grant pg_monitor"), "{line}");
    assert_eq!(code, 3, "{out}");
    pair.primary_sql("GRANT SELECT ON pg_catalog.pg_stat_replication TO PUBLIC");

    // Promote the standby beside its writable primary: split brain, critical.
    pair.standby_sql("SELECT pg_promote(true, 60)");
    let sandbox = Sandbox::new();
    let (code, out) = check(&sandbox, &c);
    let line = out.lines().find(|l| l.contains("Split brain in pg-truth")).unwrap_or_else(|| panic!("{out}"));
    assert!(line.trim_start().starts_with("CRIT") && line.contains("2 members take writes"), "{line}");
    for member in &c.members {
        assert!(line.contains(&member.to_string()), "the line names both: {line}");
    }
    assert_eq!(code, 2, "{out}");
    tab.round().await;
    let writable = tab.pane.clusters[0].writable();
    assert_eq!(writable, [0, 1], "both take writes");
}

/// This node's rules off: a loaded test machine's CPU is not what these tests judge.
const NODE_RULES_OFF: &str = "[[rules]]\nname = \"HighCpu\"\nmetric = \"cpu\"\nthreshold = 80\nenabled = false\n\n\
    [[rules]]\nname = \"HighMemory\"\nmetric = \"memory_percent\"\nthreshold = 85\nenabled = false\n\n\
    [[rules]]\nname = \"DiskFull\"\nmetric = \"disk_percent\"\nthreshold = 90\nseverity = \"critical\"\nenabled = false\n";

/// `opsdeck check` on a config with `cluster`; its exit code and text.
fn check(sandbox: &Sandbox, c: &Cluster) -> (i32, String) {
    check_as(sandbox, c, "")
}

/// `check` logging in as the cluster's user with `password` (from a file).
fn check_as(sandbox: &Sandbox, c: &Cluster, password: &str) -> (i32, String) {
    let members: Vec<String> = c.members.iter().map(|m| format!("\"{m}\"")).collect();
    let login = match &c.user {
        Some(user) => {
            let file = sandbox.write("pg.password", &format!("{password}\n"));
            format!("user = \"{user}\"\npassword_file = \"{}\"\n", file.display())
        }
        None => String::new(),
    };
    let config = format!(
        "[[clusters]]\nname = \"{}\"\nkind = \"postgres\"\nmembers = [{}]\ninterval = \"1s\"\n\
         lag_warning = \"3s\"\nlag_critical = \"6s\"\n{login}\n{NODE_RULES_OFF}",
        c.name,
        members.join(", ")
    );
    let path = sandbox.write("opsdeck.toml", &config);
    let out = sandbox
        .command(["--config", path.to_str().expect("utf-8 path"), "check"])
        .output()
        .expect("run opsdeck check");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}
