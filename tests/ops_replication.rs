//! The Replication tab's guarded actions through the real pipeline
//! (`executor::execute` with a temp audit store), against real servers: a
//! PostgreSQL primary + streaming standby and a MariaDB primary + replica.
//! Each scenario pins a member target the way the tab does (every member
//! polled, fields from `member_fields`), confirms it, and checks the effect
//! with the server's own client, the audit row, and that the cluster's
//! password shows nowhere.
//!
//! One pair per engine, its scenarios in order (a pair costs seconds to start).

mod backends;

use std::sync::Arc;
use std::time::Duration;

use backends::{temp_file, wait_for};
use opsdeck::config::clusters::{Cluster, ClusterKind, MemberAddr};
use opsdeck::config::secret::Secret;
use opsdeck::ops::audit::{self, AuditRow, Guard, Operator};
use opsdeck::ops::catalog::ActionDef;
use opsdeck::ops::executor::{Event, Request, SessionFacts, Sinks, execute};
use opsdeck::ops::guard::Confirmation;
use opsdeck::ops::plan::{self, Context};
use opsdeck::ops::precondition::FieldValue;
use opsdeck::ops::replication::{self, ReplOp};
use opsdeck::ops::run::{Ending, Outcome};
use opsdeck::ops::target::Target;
use opsdeck::replication::model::Lag;
use opsdeck::sources::{Payload, Update};
use opsdeck::store::{SessionInfo, Store, open_and_begin};
use tempfile::TempDir;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long a change may take to show in a poll.
const CHANGE_DEADLINE: Duration = Duration::from_secs(20);

struct Rig {
    dir: TempDir,
    store: Store,
    session: i64,
    /// Kept alive: the cluster reads its password from a file in it.
    _password_dir: TempDir,
    cluster: Cluster,
    /// The cluster's password, to prove it appears nowhere.
    password: &'static str,
}

async fn rig(kind: ClusterKind, members: Vec<MemberAddr>, user: &str, password: &'static str) -> Rig {
    let dir = tempfile::tempdir().expect("temp dir");
    let who = SessionInfo { host: "h", os_user: "u", read_only: false };
    let info = open_and_begin(dir.path().join("state.db"), who).await.expect("open store");
    let (password_dir, password_file) = temp_file("password", &format!("{password}\n"));
    let cluster = Cluster {
        user: Some(user.into()),
        password: Some(Secret::File(password_file)),
        interval: Duration::from_secs(1),
        lag_warning: Duration::from_millis(500),
        lag_critical: Duration::from_secs(1),
        promote_max_lag: Duration::from_secs(1),
        ..Cluster::new(&format!("{}-test", kind.as_str()), kind, members)
    };
    Rig { dir, store: info.store, session: info.session_id, _password_dir: password_dir, cluster, password }
}

fn tcp(port: u16) -> MemberAddr {
    MemberAddr::Tcp { host: "127.0.0.1".into(), port }
}

impl Rig {
    /// The member as the tab would pin it now: every member polled.
    async fn target(&self, addr: &MemberAddr) -> Target {
        let statuses = replication::poll_all(&self.cluster).await;
        Target::db_member(&self.cluster, addr, replication::member_fields(&self.cluster, addr, &statuses))
    }

    /// Confirm `op` on `target` as the dialog would (the preview it shows,
    /// the name typed for the typed tiers, "y" otherwise), carry it through
    /// the executor, and return the end, the run lines and the audit row.
    async fn carry(&self, op: ReplOp, target: Target, session: SessionFacts) -> Carried {
        self.carry_as(op, target, session, false).await
    }

    /// `carry`, the operator typing `override` when `overriding`.
    async fn carry_as(&self, op: ReplOp, target: Target, session: SessionFacts, overriding: bool) -> Carried {
        let def: Arc<ActionDef> = Arc::new(op.action_def());
        assert!(def.applies_to_target(&target), "{op} is offered on {}", target.name);
        let ctx = Context { who: "u".into(), reason: "failover drill".into(), ..Context::default() };
        let preview = plan::prepare(&def, &target, &ctx).map(|p| p.preview()).expect("a plan");
        let typed = if op == ReplOp::Promote { target.name.clone() } else { "y".into() };
        let req = Request {
            ticket: 1,
            def,
            pinned: target,
            shown_preview: preview.clone(),
            confirmation: Confirmation { typed, reason: "failover drill".into(), overriding },
            form: Default::default(),
            planned_at: jiff::Timestamp::now(),
            session,
            operator: Operator::from_lookup("h", |k| (k == "USER").then(|| "alice".to_owned())),
            session_id: Some(self.session),
            cancel: CancellationToken::new(),
        };
        let (tx, mut rx) = mpsc::channel::<Update>(1024);
        let sinks = Sinks { store: Some(self.store.clone()), mirror: Some(self.mirror()), events: tx };
        execute(req, sinks).await;
        let mut lines = Vec::new();
        let mut end = None;
        while let Ok(u) = rx.try_recv() {
            match u.result {
                Ok(Payload::Action(Event::Line { line, .. })) => lines.push(line),
                Ok(Payload::Action(Event::Ended { guard, result, .. })) => end = Some((guard, result)),
                _ => {}
            }
        }
        let (guard, result) = end.expect("an Ended event");
        let row = audit::recent(&self.store, None, 1).await.expect("read trail").into_iter().next();
        let carried = Carried { preview, guard, result, lines, row: row.expect("an audit row") };
        self.assert_no_password(&carried);
        carried
    }

    fn mirror(&self) -> std::path::PathBuf {
        self.dir.path().join("audit.jsonl")
    }

    fn assert_no_password(&self, c: &Carried) {
        let row = serde_json::to_string(&c.row).expect("row as JSON");
        let mirror = std::fs::read_to_string(self.mirror()).unwrap_or_default();
        let result = format!("{:?}", c.result);
        for (what, text) in
            [("preview", &c.preview), ("audit row", &row), ("mirror", &mirror), ("result", &result)]
        {
            assert!(!text.contains(self.password), "the password is in the {what}: {text}");
        }
        assert!(c.lines.iter().all(|l| !l.contains(self.password)), "the password is in a run line");
    }
}

struct Carried {
    preview: String,
    guard: Guard,
    result: Result<Outcome, String>,
    lines: Vec<String>,
    row: AuditRow,
}

impl Carried {
    /// It ran and the member's API reported success.
    fn assert_ok(&self, what: &str) -> &Self {
        let outcome = self.result.as_ref().unwrap_or_else(|e| panic!("{what}: refused: {e}"));
        assert_eq!(outcome.ending, Ending::Done, "{what}: {}", outcome.excerpt);
        assert_eq!(self.guard, Guard::Confirmed, "{what}");
        assert_eq!(
            (self.row.guard.as_str(), self.row.ending.as_deref()),
            ("confirmed", Some("ok")),
            "{what}"
        );
        assert_eq!(self.lines.last(), Some(&outcome.excerpt), "{what}: the result reaches the run view");
        self
    }

    /// It was refused by `guard` before anything ran.
    fn assert_refused(&self, guard: Guard, what: &str) -> String {
        assert_eq!(self.guard, guard, "{what}: {:?}", self.result);
        assert_eq!(self.row.guard, guard.as_str(), "{what}: audited as refused");
        assert_eq!(self.row.ending, None, "{what}: nothing ran");
        assert!(self.lines.is_empty(), "{what}: no run lines: {:?}", self.lines);
        self.result.clone().expect_err("a refusal has no outcome")
    }
}

fn text(target: &Target, field: &str) -> String {
    match target.fields.get(field) {
        Some(FieldValue::Text(s)) => s.clone(),
        other => panic!("{field} is {other:?}"),
    }
}

fn number(target: &Target, field: &str) -> Option<f64> {
    match target.fields.get(field) {
        Some(FieldValue::Number(n)) => Some(*n),
        _ => None,
    }
}

#[tokio::test]
async fn postgres_promote_is_refused_while_lagging_and_succeeds_once_caught_up() {
    use backends::postgres::{MONITOR_PASSWORD, MONITOR_USER, PgPair, psql};
    let pair = PgPair::start().await;
    // Least privilege for the actions: the monitoring role may run exactly these.
    pair.primary_sql(
        "GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO od_monitor; \
         GRANT EXECUTE ON FUNCTION pg_wal_replay_pause() TO od_monitor; \
         GRANT EXECUTE ON FUNCTION pg_wal_replay_resume() TO od_monitor; \
         CREATE TABLE drill (x int); INSERT INTO drill VALUES (1);",
    );
    let standby_port = pair.standby_port;
    // Replayed on the standby, so it has a last replayed commit to measure lag from.
    wait_for("the standby to replay the first row", CHANGE_DEADLINE, || async move {
        (psql(standby_port, "SELECT count(*) FROM drill").ok()? == "1").then_some(())
    })
    .await;
    let (primary, standby) = (tcp(pair.primary_port), tcp(pair.standby_port));
    let rig =
        rig(ClusterKind::Postgres, vec![primary.clone(), standby.clone()], MONITOR_USER, MONITOR_PASSWORD)
            .await;

    // Pause replay through the pipeline, then write: the standby falls behind.
    rig.carry(ReplOp::PauseReplay, rig.target(&standby).await, armed()).await.assert_ok("pause_replay");
    assert_eq!(pair.standby_sql("SELECT pg_is_wal_replay_paused()"), "t");
    pair.primary_sql("INSERT INTO drill VALUES (2)");
    let lagging = wait_for("the standby's lag to pass 1 s", CHANGE_DEADLINE, || async {
        let t = rig.target(&standby).await;
        number(&t, "lag_seconds").is_some_and(|lag| lag > 1.0).then_some(t)
    })
    .await;
    assert!(text(&lagging, "promote_lag").contains("over the 1 s promote_max_lag"), "{:?}", lagging.fields);

    let refused = rig.carry(ReplOp::Promote, lagging, armed()).await;
    let why = refused.assert_refused(Guard::RefusedPrecondition, "promote while lagging");
    assert!(why.contains("promote_lag == \"ok\""), "{why}");
    assert!(
        refused.row.preconditions.contains("over the 1 s promote_max_lag"),
        "{}",
        refused.row.preconditions
    );
    assert!(refused.row.preview.contains("SELECT pg_promote(true, 60)"), "{}", refused.row.preview);
    assert!(
        refused.row.preview.contains(&format!("current primary: {primary} reachable, read_only=false")),
        "the split-brain risk is in the preview: {}",
        refused.row.preview
    );
    assert!(refused.row.preview.contains("as user od_monitor"), "{}", refused.row.preview);
    assert_eq!(pair.standby_sql("SELECT pg_is_in_recovery()"), "t", "still a standby");

    // Resume: replay catches up and the standby reports idle, not lagging.
    rig.carry(ReplOp::ResumeReplay, rig.target(&standby).await, armed()).await.assert_ok("resume_replay");
    assert_eq!(pair.standby_sql("SELECT pg_is_wal_replay_paused()"), "f");
    let caught_up = wait_for("the standby to be idle", CHANGE_DEADLINE, || async {
        let statuses = replication::poll_all(&rig.cluster).await;
        let idle = statuses.iter().any(|(addr, s)| {
            addr == &standby && s.as_ref().is_ok_and(|s| s.channels.iter().all(|c| c.lag == Lag::Idle))
        });
        let fields = replication::member_fields(&rig.cluster, &standby, &statuses);
        idle.then(|| Target::db_member(&rig.cluster, &standby, fields))
    })
    .await;
    assert_eq!(text(&caught_up, "promote_lag"), "ok");

    // Caught up, but the old primary still takes writes: the SOP says fence it first.
    assert_eq!(text(&caught_up, "writable_elsewhere"), primary.to_string());
    let refused = rig.carry(ReplOp::Promote, caught_up, armed()).await;
    let why = refused.assert_refused(Guard::RefusedPrecondition, "promote beside a writable primary");
    assert!(why.contains(&format!("writable_elsewhere == \"none\" (now \"{primary}\")")), "{why}");
    assert!(!refused.row.overridden);
    assert_eq!(pair.standby_sql("SELECT pg_is_in_recovery()"), "t", "still a standby");

    // The SOP's step: the old primary refuses writes; now the promote may go.
    pair.primary_sql("ALTER SYSTEM SET default_transaction_read_only = on");
    pair.primary_sql("SELECT pg_reload_conf()");
    let fenced = wait_for("the old primary to read as read-only", CHANGE_DEADLINE, || async {
        let t = rig.target(&standby).await;
        (text(&t, "writable_elsewhere") == "none").then_some(t)
    })
    .await;
    assert_eq!(fenced.fields.get("primary_read_only"), Some(&FieldValue::Bool(true)));

    let promoted = rig.carry(ReplOp::Promote, fenced, armed()).await;
    promoted.assert_ok("promote");
    assert_eq!(promoted.row.reason.as_deref(), Some("failover drill"));
    let excerpt = promoted.row.output_excerpt.clone().unwrap_or_default();
    assert!(excerpt.starts_with("promoted in"), "{excerpt}");
    assert_eq!(pair.standby_sql("SELECT pg_is_in_recovery()"), "f", "the standby is a primary now");
    assert_eq!(pair.primary_sql("SELECT count(*) FROM drill"), "2");

    // Both say primary now, only the new one takes writes.
    let after = rig.target(&standby).await;
    assert_eq!(text(&after, "role"), "primary");
    assert_eq!(after.fields.get("primary_reachable"), Some(&FieldValue::Bool(true)));
    assert_eq!(text(&after, "primary"), primary.to_string());
    assert_eq!(text(&after, "writable_elsewhere"), "none");

    // Again on the new primary: the cooldown is the app's; the precondition refuses.
    let again = rig.carry(ReplOp::Promote, after, armed()).await;
    let why = again.assert_refused(Guard::RefusedPrecondition, "promote a primary");
    assert!(why.contains("role == \"replica\" (now \"primary\")"), "{why}");
}

#[tokio::test]
async fn mariadb_read_only_and_replica_threads_through_the_pipeline() {
    use backends::mariadb::{MONITOR_PASSWORD, MONITOR_USER, MariaPair};
    let pair = MariaPair::start().await;
    // STOP/START SLAVE need REPLICATION SLAVE ADMIN on 10.5+ (the grant replicates).
    pair.primary.sql("GRANT REPLICATION SLAVE ADMIN ON *.* TO od_monitor@'%'");
    pair.wait_caught_up().await;
    let (primary, replica) = (tcp(pair.primary.port), tcp(pair.replica.port));
    let rig =
        rig(ClusterKind::Mysql, vec![primary.clone(), replica.clone()], MONITOR_USER, MONITOR_PASSWORD).await;
    let read_only = || pair.primary.sql("SELECT @@read_only");
    assert_eq!(read_only(), "0");

    // Read-only mode refuses before anything is sent, and says so in the trail.
    let t = rig.target(&primary).await;
    let read_only_mode = SessionFacts { read_only: true, ..armed() };
    let why = rig
        .carry(ReplOp::ReadOnlyOn, t, read_only_mode)
        .await
        .assert_refused(Guard::RefusedReadOnly, "read-only");
    assert!(why.contains("read-only"), "{why}");
    assert_eq!(read_only(), "0", "nothing ran");

    rig.carry(ReplOp::ReadOnlyOn, rig.target(&primary).await, armed()).await.assert_ok("read_only_on");
    assert_eq!(read_only(), "1");
    let on = rig.target(&primary).await;
    assert_eq!(on.fields.get("read_only"), Some(&FieldValue::Bool(true)), "the fields see it too");
    let off = rig.carry(ReplOp::ReadOnlyOff, on, armed()).await;
    off.assert_ok("read_only_off");
    assert!(off.preview.contains("SET GLOBAL read_only = OFF"), "{}", off.preview);
    assert_eq!(read_only(), "0");

    // read_only_off on the replica beside a writable primary is split brain:
    // refused, then run only as an explicit override, audited as one.
    let replica_ro = || pair.replica.sql("SELECT @@read_only");
    assert_eq!(replica_ro(), "1", "the harness's replica is read-only");
    let beside = rig.carry(ReplOp::ReadOnlyOff, rig.target(&replica).await, armed()).await;
    let why = beside.assert_refused(Guard::RefusedPrecondition, "read_only_off beside a writable primary");
    assert!(why.contains(&format!("writable_elsewhere == \"none\" (now \"{primary}\")")), "{why}");
    assert_eq!(replica_ro(), "1", "nothing ran");
    let forced = rig.carry_as(ReplOp::ReadOnlyOff, rig.target(&replica).await, armed(), true).await;
    forced.assert_ok("read_only_off, overridden");
    assert!(forced.row.overridden, "audited as an override");
    assert_eq!(forced.row.reason.as_deref(), Some("failover drill"));
    assert_eq!(replica_ro(), "0");
    let split = rig.target(&primary).await;
    assert_eq!(text(&split, "writable_elsewhere"), replica.to_string(), "both take writes now");
    rig.carry_as(ReplOp::ReadOnlyOn, rig.target(&replica).await, armed(), false)
        .await
        .assert_ok("fence again");
    assert_eq!(replica_ro(), "1");

    // Stopping replication on the primary is refused by the role precondition.
    let why = rig
        .carry(ReplOp::StopReplica, rig.target(&primary).await, armed())
        .await
        .assert_refused(Guard::RefusedPrecondition, "stop_replica on the primary");
    assert!(why.contains("role == \"replica\" (now \"primary\")"), "{why}");

    let replica_port = pair.replica.port;
    let threads = || slave_threads(replica_port);
    assert_eq!(threads(), ("Yes".to_owned(), "Yes".to_owned()));
    rig.carry(ReplOp::StopReplica, rig.target(&replica).await, armed()).await.assert_ok("stop_replica");
    assert_eq!(threads(), ("No".to_owned(), "No".to_owned()));
    let stopped = rig.target(&replica).await;
    assert!(text(&stopped, "promote_lag").starts_with("unknown: "), "{:?}", stopped.fields);
    assert_eq!(stopped.fields.get("lag_seconds"), None, "a stopped replica's lag is unknown, not 0");

    rig.carry(ReplOp::StartReplica, stopped, armed()).await.assert_ok("start_replica");
    let both = wait_for("both replica threads to run", CHANGE_DEADLINE, || async {
        let t = threads();
        (t.0 == "Yes" && t.1 == "Yes").then_some(t)
    })
    .await;
    assert_eq!(both.0, "Yes");
    pair.wait_caught_up().await;

    // A wrong password: the member is unreachable, and the password is in no error.
    let wrong = "Wr0ng-pw-not-this-one";
    let bad = rig_with_password(&rig, wrong);
    let statuses = replication::poll_all(&bad.cluster).await;
    let fields = replication::member_fields(&bad.cluster, &primary, &statuses);
    let t = Target::db_member(&bad.cluster, &primary, fields);
    assert_eq!(t.fields.get("reachable"), Some(&FieldValue::Bool(false)));
    let error = text(&t, "error");
    assert!(error.contains("denied") && !error.contains(wrong), "{error}");
    let direct =
        replication::run(ReplOp::ReadOnlyOn, &bad.cluster, &primary).await.expect_err("wrong password");
    assert!(!direct.contains(wrong), "{direct}");
    let why =
        bad.carry(ReplOp::ReadOnlyOn, t, armed()).await.assert_refused(Guard::RefusedPrecondition, "bad pw");
    assert!(why.contains("reachable == true (now false)"), "{why}");
    assert_eq!(read_only(), "0");
}

/// `Slave_IO_Running` and `Slave_SQL_Running` from `SHOW SLAVE STATUS`, read
/// with the `mariadb` client as root (vertical output, names kept; no secret in argv).
fn slave_threads(port: u16) -> (String, String) {
    let out = std::process::Command::new("mariadb")
        .args([
            "-h127.0.0.1",
            &format!("-P{port}"),
            "-uroot",
            "--connect-timeout=2",
            "-e",
            "SHOW SLAVE STATUS\\G",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run mariadb");
    assert!(out.status.success(), "SHOW SLAVE STATUS: {}", String::from_utf8_lossy(&out.stderr));
    let status = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(':').map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("{name} in SHOW SLAVE STATUS:\n{status}"))
    };
    (field("Slave_IO_Running"), field("Slave_SQL_Running"))
}

/// The same store and cluster with another password file.
fn rig_with_password(rig: &Rig, password: &'static str) -> Rig {
    let (password_dir, password_file) = temp_file("password", password);
    Rig {
        dir: tempfile::tempdir().expect("temp dir"),
        store: rig.store.clone(),
        session: rig.session,
        _password_dir: password_dir,
        cluster: Cluster { password: Some(Secret::File(password_file)), ..rig.cluster.clone() },
        password,
    }
}

fn armed() -> SessionFacts {
    SessionFacts { armed: true, ..SessionFacts::default() }
}
