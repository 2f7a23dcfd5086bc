//! The audit trail in a real SQLite store: written before a run, finished
//! after, refusals recorded, append-only, and "outcome unknown" for a run
//! whose opsdeck died before it could finish the row.

use std::collections::HashMap;
use std::time::Duration;

use opsdeck::ops::audit::{self, Attempt, CheckedCondition, Guard, Operator};
use opsdeck::ops::run::{Ending, Outcome};
use opsdeck::store::{SessionInfo, Store, open_and_begin};

async fn store() -> (tempfile::TempDir, Store, i64) {
    let dir = tempfile::tempdir().unwrap();
    let who = SessionInfo { host: "h", os_user: "u", read_only: false };
    let info = open_and_begin(dir.path().join("state.db"), who).await.unwrap();
    (dir, info.store, info.session_id)
}

fn attempt(session: i64, guard: Guard) -> Attempt {
    let env: HashMap<&str, &str> = HashMap::from([
        ("USER", "root"),
        ("SUDO_USER", "alice"),
        ("SSH_CONNECTION", "10.0.0.7 51234 10.0.0.1 22"),
    ]);
    Attempt {
        session_id: Some(session),
        operator: Operator::from_lookup("db1", |k| env.get(k).map(|v| v.to_string())),
        action: "restart".into(),
        target_kind: "node".into(),
        target_id: "db1".into(),
        target_name: "db1".into(),
        preview: "systemctl restart postgresql".into(),
        conditions: vec![CheckedCondition {
            expr: "lag_seconds < 60".into(),
            value: "3".into(),
            passed: true,
        }],
        guard,
        overridden: false,
        reason: Some("failover drill".into()),
    }
}

fn outcome(ending: Ending) -> Outcome {
    Outcome {
        ending,
        duration: Duration::from_millis(42),
        excerpt: "done\n".into(),
        excerpt_truncated: false,
    }
}

/// This process's real user, as the passwd database names it.
fn real_user() -> String {
    let uid = opsdeck::ops::identity::real_uid();
    opsdeck::ops::identity::user_name(uid).unwrap_or_else(|| format!("uid {uid}"))
}

#[test]
fn the_environment_only_claims_and_the_kernel_says_who() {
    let env: HashMap<&str, &str> =
        HashMap::from([("LOGNAME", "bob"), ("SSH_CONNECTION", "192.0.2.4 40000 192.0.2.1 22")]);
    let op = Operator::from_lookup("h", |k| env.get(k).map(|v| v.to_string()));
    assert_eq!(op.claimed.user.as_deref(), Some("bob"));
    assert_eq!(op.claimed.ssh_origin.as_deref(), Some("192.0.2.4:40000"));
    assert_eq!(op.claimed.sudo_user, None);
    assert_eq!(op.uid, opsdeck::ops::identity::real_uid());
    assert_eq!(op.os_user, real_user(), "the identity is the real uid's, not USER's");
    // This test runs under no sshd: a claimed SSH_CONNECTION is not an origin.
    assert_eq!(op.ssh_peer, None);
}

#[tokio::test]
async fn a_run_is_written_before_and_finished_after() {
    let (_dir, store, session) = store().await;
    let id = audit::begin(&store, &attempt(session, Guard::Confirmed)).await.unwrap();
    let rows = audit::recent(&store, None, 10).await.unwrap();
    assert_eq!(rows[0].outcome(Some(session)), "running");
    audit::finish(&store, id, &outcome(Ending::Exited(0))).await.unwrap();
    let rows = audit::recent(&store, Some(Duration::from_secs(3600)), 10).await.unwrap();
    let row = &rows[0];
    assert_eq!((row.id, row.outcome(Some(session)).as_str()), (id, "exit 0"));
    assert!(row.who.starts_with(&real_user()), "{}", row.who);
    assert_eq!(row.claimed_sudo_user.as_deref(), Some("alice"));
    assert_eq!(row.claimed_user.as_deref(), Some("root"));
    assert_eq!(row.preview, "systemctl restart postgresql");
    assert_eq!(row.output_excerpt.as_deref(), Some("done\n"));
}

#[tokio::test]
async fn refusals_are_recorded_finished() {
    let (_dir, store, session) = store().await;
    for guard in
        [Guard::RefusedReadOnly, Guard::RefusedUnarmed, Guard::Cancelled, Guard::AbortedTargetChanged]
    {
        audit::begin(&store, &attempt(session, guard)).await.unwrap();
    }
    let rows = audit::recent(&store, None, 10).await.unwrap();
    let outcomes: Vec<String> = rows.iter().map(|r| r.outcome(Some(session))).collect();
    assert_eq!(
        outcomes,
        ["aborted: target changed", "cancelled", "refused: not armed", "refused: read-only"]
    );
    assert!(rows.iter().all(|r| r.finished_at.is_some()));
}

#[tokio::test]
async fn the_trail_is_append_only() {
    let (_dir, store, session) = store().await;
    let finished = audit::begin(&store, &attempt(session, Guard::Confirmed)).await.unwrap();
    audit::finish(&store, finished, &outcome(Ending::Exited(1))).await.unwrap();
    let open = audit::begin(&store, &attempt(session, Guard::Confirmed)).await.unwrap();

    let err = audit::finish(&store, finished, &outcome(Ending::Exited(0))).await.unwrap_err();
    assert!(err.contains("append-only"), "{err}");
    // Going around the API fails too: the triggers are in the schema.
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(_dir.path().join("state.db")))
        .await
        .unwrap();
    let del = sqlx::query("DELETE FROM audit").execute(&pool).await.unwrap_err().to_string();
    assert!(del.contains("cannot be deleted"), "{del}");
    let edit =
        sqlx::query("UPDATE audit SET action = 'nothing' WHERE id = ?").bind(open).execute(&pool).await;
    assert!(edit.unwrap_err().to_string().contains("append-only"));
    let rewrite =
        sqlx::query("UPDATE audit SET reason = 'x' WHERE id = ?").bind(finished).execute(&pool).await;
    assert!(rewrite.is_err());
    assert_eq!(audit::recent(&store, None, 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_run_left_unfinished_by_an_earlier_opsdeck_is_outcome_unknown() {
    let (_dir, store, session) = store().await;
    audit::begin(&store, &attempt(session, Guard::Confirmed)).await.unwrap();
    let rows = audit::recent(&store, None, 10).await.unwrap();
    assert_eq!(rows[0].outcome(Some(session + 1)), "outcome unknown");
    assert_eq!(rows[0].outcome(Some(session)), "running");
}

#[tokio::test]
async fn an_unwritable_trail_is_an_error_so_the_action_does_not_run() {
    let (_dir, store, session) = store().await;
    store.close().await;
    let err = audit::begin(&store, &attempt(session, Guard::Confirmed)).await.unwrap_err();
    assert!(err.contains("the action will not run"), "{err}");
}

#[tokio::test]
async fn opsdeck_audit_prints_the_trail_as_a_table_and_as_json_lines() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let who = SessionInfo { host: "h", os_user: "u", read_only: false };
    let info = open_and_begin(data.join("opsdeck/state.db"), who).await.unwrap();
    let id = audit::begin(&info.store, &attempt(info.session_id, Guard::Confirmed)).await.unwrap();
    audit::finish(&info.store, id, &outcome(Ending::TimedOut)).await.unwrap();
    audit::begin(&info.store, &attempt(info.session_id, Guard::RefusedReadOnly)).await.unwrap();
    audit::begin(&info.store, &attempt(info.session_id, Guard::Confirmed)).await.unwrap(); // never finished
    info.store.close().await;

    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .args(args)
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", &data)
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let table = run(&["audit"]);
    let lines: Vec<&str> = table.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].ends_with("outcome unknown"), "{table}");
    assert!(lines[1].ends_with("refused: read-only"), "{table}");
    assert!(lines[2].ends_with("timed out") && lines[2].contains(&real_user()), "{table}");
    // The environment's SUDO_USER and SSH_CONNECTION are shown, as claims, under each row.
    let claims = "    claimed (unverified): SUDO_USER=alice, SSH_CONNECTION from 10.0.0.7:51234";
    assert_eq!(table.lines().filter(|l| *l == claims).count(), 3, "{table}");
    assert!(!table.contains("alice (as"), "a claim shown as the identity:\n{table}");

    let json = run(&["audit", "--json", "--since", "1h", "--limit", "2"]);
    let rows: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["outcome"], "refused: read-only");
    assert_eq!(rows[1]["preview"], "systemctl restart postgresql");
    assert_eq!(rows[1]["who"], real_user().as_str());
    assert_eq!(rows[1]["claimed_sudo_user"], "alice");
    assert_eq!(rows[1]["claimed_ssh_origin"], "10.0.0.7:51234");
}
