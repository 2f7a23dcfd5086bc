//! The Replication tab's guarded actions: promote a replica, set MySQL's
//! read-only flag, pause or resume PostgreSQL's WAL replay, stop or start
//! MySQL replication. They go through the same pipeline as every action; this
//! module supplies the pieces specific to database members: the fields the
//! preconditions read (from every member's status, since a promote is judged
//! by what the *other* members say), the re-poll just before running, the
//! preview, and the call into the member's own action API.

mod fields;
mod op;

use std::time::{Duration, Instant};

use futures::future::join_all;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::plan::Plan;
use super::precondition::FieldValue;
use super::run::{Ending, Outcome, Stream};
use super::target::{Probe, Target};
use crate::config::clusters::{Cluster, MemberAddr};
use crate::config::secret::{Secret, SecretValue};
use crate::replication::judge;
use crate::replication::model::Status;
use crate::sources::replication::{Member, resolve_password};

pub use fields::{PROMOTE_LAG_OK, member_fields};
pub use op::{PROMOTE_WAIT, ReplOp, action_defs};

/// Make `op` concrete for a database member target. Refuses a target that is
/// not a member, and an op its engine does not have (the menu should not
/// offer it; this keeps the pipeline safe when it does).
pub fn prepare(op: ReplOp, target: &Target) -> Result<Plan, String> {
    let Probe::DbMember { cluster, addr } = &target.probe else {
        return Err(format!("{op} applies to database members; {} is not one", target.label()));
    };
    if !op.applies_to_kind(cluster.kind) {
        return Err(format!("{op} is not for {} clusters ({} is one)", cluster.kind.as_str(), cluster.name));
    }
    let primary_note = (op == ReplOp::Promote).then(|| split_brain_note(target));
    Ok(Plan::Replication { op, cluster: cluster.clone(), addr: addr.clone(), primary_note })
}

/// What the current primary means for a promote, from the target's fields:
/// the operator must see the split-brain risk before typing the name.
fn split_brain_note(target: &Target) -> String {
    let field = |k: &str| target.fields.get(k);
    let primary = match field("primary") {
        Some(FieldValue::Text(p)) => p.clone(),
        _ => "unknown".into(),
    };
    match (field("primary_reachable"), field("primary_read_only")) {
        (Some(FieldValue::Bool(true)), Some(FieldValue::Bool(false))) => format!(
            "current primary: {primary} reachable, read_only=false — promoting now risks split brain \
             (set it read-only or fence it first)"
        ),
        (Some(FieldValue::Bool(true)), Some(FieldValue::Bool(true))) => {
            format!("current primary: {primary} reachable, read_only=true — it refuses writes")
        }
        (Some(FieldValue::Bool(true)), _) => format!(
            "current primary: {primary} reachable, read_only unknown — promoting now may risk split brain"
        ),
        _ => "current primary: none reachable among the other members — make sure the old primary \
              is down or fenced, not only unreachable from here"
            .into(),
    }
}

/// The plan's preview: member, login (never the password), the statements, the note.
pub fn preview(op: ReplOp, cluster: &Cluster, addr: &MemberAddr, primary_note: Option<&str>) -> String {
    let user = match cluster.user_or_default() {
        Some(u) => format!("as user {u}"),
        None => "as the default user".to_owned(),
    };
    let password = match &cluster.password {
        None => "no password".to_owned(),
        Some(Secret::Env(var)) => format!("password from ${var}"),
        Some(Secret::File(path)) => format!("password from file {}", path.display()),
        Some(Secret::Command(argv)) => {
            format!("password from command {}", argv.first().map(String::as_str).unwrap_or("?"))
        }
    };
    let mut out =
        format!("{op} on {} member {addr} ({}), {user}, {password}", cluster.name, cluster.kind.as_str());
    for line in op.statements(cluster.kind) {
        out.push_str("\n  ");
        out.push_str(&line);
    }
    if let Some(note) = primary_note {
        out.push('\n');
        out.push_str(note);
    }
    out
}

/// Connect to `addr` (bounded by the cluster's timeout) and carry out `op`
/// with the member's own API, which verifies the effect. One line either way.
pub async fn run(op: ReplOp, cluster: &Cluster, addr: &MemberAddr) -> Result<String, String> {
    if !op.applies_to_kind(cluster.kind) {
        return Err(format!("{op} is not for {} clusters", cluster.kind.as_str()));
    }
    let member = match tokio::time::timeout(cluster.timeout, Member::connect(cluster, addr)).await {
        Ok(member) => member?,
        Err(_) => return Err(format!("{addr}: {}", no_answer(cluster.timeout))),
    };
    match (op, &member) {
        (ReplOp::Promote, Member::Postgres(m)) => m.promote(PROMOTE_WAIT).await,
        (ReplOp::Promote, Member::Mysql(m)) => m.promote().await,
        (ReplOp::Promote, Member::Redis(m)) => m.promote().await,
        (ReplOp::PauseReplay, Member::Postgres(m)) => m.pause_replay().await,
        (ReplOp::ResumeReplay, Member::Postgres(m)) => m.resume_replay().await,
        (ReplOp::ReadOnlyOn, Member::Mysql(m)) => m.set_read_only(true).await,
        (ReplOp::ReadOnlyOff, Member::Mysql(m)) => m.set_read_only(false).await,
        (ReplOp::StopReplica, Member::Mysql(m)) => m.stop_replica().await,
        (ReplOp::StartReplica, Member::Mysql(m)) => m.start_replica().await,
        (op, _) => Err(format!("{op} is not for {} clusters", cluster.kind.as_str())),
    }
}

/// Run the plan's op within `timeout`, honouring `cancel`; the one-line
/// result is the outcome and goes to the run view.
pub async fn execute(
    op: ReplOp,
    cluster: &Cluster,
    addr: &MemberAddr,
    timeout: Duration,
    cancel: &CancellationToken,
    lines: &mpsc::Sender<(Stream, String)>,
) -> Outcome {
    let started = Instant::now();
    let say = |stream, line: String| {
        let _ = lines.try_send((stream, line));
    };
    say(Stream::Stdout, format!("{op}: connecting to {addr} ({} {})", cluster.kind.as_str(), cluster.name));
    // Dropping the call abandons the client side only: the server may still finish it.
    let maybe = "the server may still complete what was sent; check the member before retrying";
    let (ending, excerpt) = tokio::select! {
        () = cancel.cancelled() => (Ending::Cancelled, format!("cancelled: {maybe}")),
        r = tokio::time::timeout(timeout, run(op, cluster, addr)) => match r {
            Ok(Ok(line)) => (Ending::Done, line),
            Ok(Err(e)) => (Ending::Failed(e.clone()), e),
            Err(_) => (Ending::TimedOut, format!("{}: {maybe}", no_answer(timeout))),
        },
    };
    let stream = if ending == Ending::Done { Stream::Stdout } else { Stream::Stderr };
    say(stream, excerpt.clone());
    Outcome { ending, duration: started.elapsed(), excerpt, excerpt_truncated: false }
}

/// Poll every member of `cluster` now, concurrently, each connect and poll
/// bounded by the cluster's timeout; in the cluster's member order.
pub async fn poll_all(cluster: &Cluster) -> Vec<(MemberAddr, Result<Status, String>)> {
    let password = match tokio::time::timeout(cluster.timeout, resolve_password(cluster)).await {
        Ok(p) => p,
        Err(_) => Err(format!("password: {}", no_answer(cluster.timeout))),
    };
    let polls = cluster.members.iter().map(|addr| {
        let password = password.as_ref();
        async move {
            let result = match password {
                Ok(pw) => poll_one(cluster, addr, pw.as_ref()).await,
                Err(e) => Err(e.clone()),
            };
            (addr.clone(), result)
        }
    });
    let mut polled = join_all(polls).await;
    // Judged as the tab judges them: a standby's lag as its upstream measures it.
    let good: Vec<Option<Status>> = polled.iter().map(|(_, r)| r.as_ref().ok().cloned()).collect();
    let good: Vec<Option<&Status>> = good.iter().map(Option::as_ref).collect();
    for (i, (_, result)) in polled.iter_mut().enumerate() {
        if let Ok(status) = result {
            judge::lag_from_upstream(cluster.kind, &cluster.members, i, status, &good);
        }
    }
    polled
}

async fn poll_one(
    cluster: &Cluster,
    addr: &MemberAddr,
    password: Option<&SecretValue>,
) -> Result<Status, String> {
    let connect = Member::connect_with(cluster, addr, password);
    let member = match tokio::time::timeout(cluster.timeout, connect).await {
        Ok(member) => member?,
        Err(_) => return Err(no_answer(cluster.timeout)),
    };
    member.poll(cluster.timeout).await
}

/// A member target read again: every member re-polled, the fields rebuilt.
/// Never "gone": an unreachable member is `reachable == false`, which the
/// preconditions refuse with that reason.
pub async fn probe(pinned: &Target, cluster: &Cluster, addr: &MemberAddr) -> Target {
    let statuses = poll_all(cluster).await;
    Target { fields: member_fields(cluster, addr, &statuses), ..pinned.clone() }
}

fn no_answer(timeout: Duration) -> String {
    format!("no answer within {}", humantime::format_duration(timeout))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::clusters::ClusterKind;

    fn cluster(kind: ClusterKind) -> Cluster {
        Cluster {
            user: Some("opsdeck".into()),
            password: Some(Secret::Env("OPSDECK_DB_PASSWORD".into())),
            ..Cluster::new("main", kind, vec![addr(1), addr(2)])
        }
    }

    fn addr(n: u16) -> MemberAddr {
        MemberAddr::Tcp { host: "10.0.0.1".into(), port: 5430 + n }
    }

    fn target(kind: ClusterKind, fields: &[(&str, FieldValue)]) -> Target {
        let fields: BTreeMap<String, FieldValue> =
            fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        Target::db_member(&cluster(kind), &addr(2), fields)
    }

    #[test]
    fn a_member_target_is_pinned_by_cluster_and_address() {
        let t = target(ClusterKind::Postgres, &[]);
        assert_eq!(t.id, "db:main:10.0.0.1:5432");
        assert_eq!(t.name, "main 10.0.0.1:5432");
        assert_eq!(t.kind, crate::config::actions::TargetKind::Replica);
    }

    #[test]
    fn the_promote_preview_names_member_login_statements_and_split_brain_risk() {
        let writable = [
            ("primary", FieldValue::Text("10.0.0.1:5431".into())),
            ("primary_reachable", FieldValue::Bool(true)),
            ("primary_read_only", FieldValue::Bool(false)),
        ];
        let plan = prepare(ReplOp::Promote, &target(ClusterKind::Postgres, &writable)).unwrap();
        let text = plan.preview();
        assert!(text.starts_with("promote_replica on main member 10.0.0.1:5432 (postgres), as user opsdeck"));
        assert!(text.contains("password from $OPSDECK_DB_PASSWORD"), "{text}");
        assert!(text.contains("\n  SELECT pg_promote(true, 60)"), "{text}");
        assert!(text.contains(
            "current primary: 10.0.0.1:5431 reachable, read_only=false — promoting now risks split brain"
        ));

        let fenced = [
            ("primary", FieldValue::Text("10.0.0.1:5431".into())),
            ("primary_reachable", FieldValue::Bool(true)),
            ("primary_read_only", FieldValue::Bool(true)),
        ];
        let text = prepare(ReplOp::Promote, &target(ClusterKind::Mysql, &fenced)).unwrap().preview();
        assert!(text.contains("STOP REPLICA; RESET REPLICA ALL; SET GLOBAL read_only = OFF"), "{text}");
        assert!(text.contains("before MySQL 8.0.22 / MariaDB 10.5"), "{text}");
        assert!(text.contains("read_only=true — it refuses writes"), "{text}");

        let alone = [("primary_reachable", FieldValue::Bool(false))];
        let text = prepare(ReplOp::Promote, &target(ClusterKind::Redis, &alone)).unwrap().preview();
        assert!(text.contains("\n  REPLICAOF NO ONE"), "{text}");
        assert!(text.contains("none reachable"), "{text}");
    }

    #[test]
    fn only_promote_carries_the_note_and_wrong_engines_are_refused() {
        let text = prepare(ReplOp::ReadOnlyOn, &target(ClusterKind::Mysql, &[])).unwrap().preview();
        assert!(text.contains("SET GLOBAL read_only = ON") && !text.contains("current primary"), "{text}");
        let err = prepare(ReplOp::PauseReplay, &target(ClusterKind::Mysql, &[])).unwrap_err();
        assert_eq!(err, "pause_replay is not for mysql clusters (main is one)");
        let node = Target::node("db1", None, None);
        assert!(prepare(ReplOp::Promote, &node).unwrap_err().contains("applies to database members"));
    }

    #[test]
    fn menus_offer_each_op_only_for_its_engines() {
        let names = |kinds: &[ClusterKind]| {
            let clusters: Vec<Cluster> = kinds.iter().map(|k| cluster(*k)).collect();
            action_defs(&clusters).into_iter().map(|d| d.name).collect::<Vec<_>>()
        };
        assert!(names(&[]).is_empty());
        assert_eq!(names(&[ClusterKind::Redis]), ["promote_replica"]);
        assert_eq!(names(&[ClusterKind::Postgres]), ["promote_replica", "pause_replay", "resume_replay"]);
        assert_eq!(names(&[ClusterKind::Mysql, ClusterKind::Postgres]).len(), 7);
        let config =
            crate::config::Config { clusters: vec![cluster(ClusterKind::Redis)], ..Default::default() };
        let all: Vec<String> = crate::ops::catalog::all(&config).iter().map(|d| d.name.clone()).collect();
        assert!(all.contains(&"promote_replica".to_owned()), "the catalog carries them: {all:?}");

        let pause = ReplOp::PauseReplay.action_def();
        let pg = target(ClusterKind::Postgres, &[("kind", FieldValue::Text("postgres".into()))]);
        let my = target(ClusterKind::Mysql, &[("kind", FieldValue::Text("mysql".into()))]);
        assert!(pause.applies_to_target(&pg));
        assert!(!pause.applies_to_target(&my));
        assert!(ReplOp::Promote.action_def().applies_to_target(&my));
        assert!(!pause.applies_to_target(&Target::node("db1", None, None)));
    }

    #[tokio::test]
    async fn an_unreachable_member_is_probed_as_unreachable_not_gone() {
        let mut c = cluster(ClusterKind::Postgres);
        c.password = None;
        // A loopback port just released: nothing listens, the connection is refused at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let down = MemberAddr::Tcp { host: "127.0.0.1".into(), port };
        c.members = vec![down.clone()];
        let pinned = Target::db_member(&c, &down, BTreeMap::new());
        let fresh = pinned.probe().await.unwrap().expect("never gone");
        assert_eq!(fresh.id, pinned.id);
        assert_eq!(fresh.fields.get("reachable"), Some(&FieldValue::Bool(false)));
        assert!(matches!(fresh.fields.get("error"), Some(FieldValue::Text(e)) if !e.is_empty()));
    }
}
