//! Tamper evidence: rows written through the real code into a real SQLite
//! file, then tampered with directly in that file the way someone with
//! write access to it would (dropping a trigger first where one is in the
//! way, and putting it back to cover the tracks). `opsdeck audit --verify`,
//! the real binary, must fail naming the first broken row and what is wrong;
//! the untampered trail must pass. The cockpit shows a broken chain in its
//! status bar.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::Sandbox;
use opsdeck::ops::audit::{self, Attempt, Guard, Operator};
use opsdeck::ops::run::{Ending, Outcome};
use opsdeck::store::{SessionInfo, open_and_begin};

fn db(sandbox: &Sandbox) -> PathBuf {
    sandbox.path().join("data/opsdeck/state.db")
}

fn attempt(session: i64, guard: Guard, action: &str) -> Attempt {
    Attempt {
        session_id: Some(session),
        operator: Operator::from_lookup("h", |k| (k == "USER").then(|| "alice".to_owned())),
        action: action.into(),
        target_kind: "node".into(),
        target_id: "node:h".into(),
        target_name: "h".into(),
        preview: format!("{action} now"),
        conditions: Vec::new(),
        guard,
        overridden: false,
        reason: None,
    }
}

/// Rows 1 (ran, exit 0, with its process), 2 (refused), 3 (never finished:
/// its opsdeck died), written by the real code.
async fn write_trail(path: &Path) {
    let who = SessionInfo { host: "h", os_user: "u", read_only: false };
    let info = open_and_begin(path.to_path_buf(), who).await.unwrap();
    let (store, session) = (info.store, info.session_id);
    let ran = audit::begin(&store, &attempt(session, Guard::Confirmed, "restart")).await.unwrap();
    audit::record_process(&store, ran, 4242, 99).await.unwrap();
    let done = Outcome {
        ending: Ending::Exited(0),
        duration: Duration::from_millis(5),
        excerpt: "ok\n".into(),
        excerpt_truncated: false,
    };
    audit::finish(&store, ran, &done).await.unwrap();
    audit::begin(&store, &attempt(session, Guard::RefusedUnarmed, "reboot")).await.unwrap();
    audit::begin(&store, &attempt(session, Guard::Confirmed, "failover")).await.unwrap();
    store.close().await;
}

/// Run SQL on the file directly, as an intruder with write access would.
async fn tamper(path: &Path, statements: &[&str]) {
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
    let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.unwrap();
    for sql in statements {
        // Test-only SQL written right here, the tampering itself.
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    pool.close().await;
}

/// A trigger's own statement, to put it back after going around it.
async fn trigger_sql(path: &Path, name: &str) -> String {
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
    let pool = sqlx::sqlite::SqlitePoolOptions::new().connect_with(opts).await.unwrap();
    let sql: String = sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = ?")
        .bind(name)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    sql
}

/// `opsdeck audit --verify`: exit code, stdout, stderr.
fn verify(sandbox: &Sandbox) -> (i32, String, String) {
    let out = sandbox.command(["audit", "--verify"]).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

async fn fresh() -> Sandbox {
    let sandbox = Sandbox::new();
    write_trail(&db(&sandbox)).await;
    sandbox
}

#[tokio::test]
async fn an_untampered_trail_verifies() {
    let sandbox = fresh().await;
    let (code, out, err) = verify(&sandbox);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.trim(), "audit chain intact: 3 rows, 6 entries", "{err}");
}

#[tokio::test]
async fn a_changed_row_is_named_even_with_its_trigger_put_back() {
    let sandbox = fresh().await;
    let path = db(&sandbox);
    let trigger = trigger_sql(&path, "audit_append_only").await;
    tamper(&path, &["DROP TRIGGER audit_append_only", "UPDATE audit SET action = 'nothing' WHERE id = 1"])
        .await;
    tamper(&path, &[&trigger]).await;
    let (code, out, err) = verify(&sandbox);
    assert_eq!(code, 1, "{out}{err}");
    let first = err.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        "opsdeck: AUDIT TRAIL TAMPERED: row 1 was changed after it was written: its begin record no \
         longer matches its hash"
    );
}

#[tokio::test]
async fn an_unknown_outcome_rewritten_as_success_is_caught() {
    let sandbox = fresh().await;
    // The trigger allows finishing an unfinished row once: no need to drop it.
    tamper(&db(&sandbox), &[
        "UPDATE audit SET finished_at = '2026-01-01T00:00:00Z', ending = 'exit 0', duration_ms = 1 WHERE id = 3",
    ])
    .await;
    let (code, _, err) = verify(&sandbox);
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("opsdeck: AUDIT TRAIL TAMPERED: row 3 was finished outside opsdeck"), "{err}");
}

#[tokio::test]
async fn a_deleted_row_is_missing() {
    let sandbox = fresh().await;
    let path = db(&sandbox);
    let trigger = trigger_sql(&path, "audit_no_delete").await;
    tamper(&path, &["DROP TRIGGER audit_no_delete", "DELETE FROM audit WHERE id = 2"]).await;
    tamper(&path, &[&trigger]).await;
    let (code, _, err) = verify(&sandbox);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with(
            "opsdeck: AUDIT TRAIL TAMPERED: row 2 is missing: it was deleted after it was written"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_row_and_its_chain_entries_deleted_break_the_chain() {
    let sandbox = fresh().await;
    let path = db(&sandbox);
    let (a, c) =
        (trigger_sql(&path, "audit_no_delete").await, trigger_sql(&path, "audit_chain_no_delete").await);
    tamper(
        &path,
        &[
            "DROP TRIGGER audit_no_delete",
            "DROP TRIGGER audit_chain_no_delete",
            "DELETE FROM audit WHERE id = 2",
            "DELETE FROM audit_chain WHERE audit_id = 2",
        ],
    )
    .await;
    tamper(&path, &[&a, &c]).await;
    let (code, _, err) = verify(&sandbox);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the chain breaks before entry"), "{err}");
}

#[tokio::test]
async fn a_forged_row_is_inserted_outside_opsdeck() {
    let sandbox = fresh().await;
    tamper(
        &db(&sandbox),
        &["INSERT INTO audit (started_at, claimed_user, host, action, target_kind, target_id, target_name, \
         preview, preconditions, guard, finished_at, ending, real_uid, real_user) VALUES \
         ('2026-01-01T00:00:00Z', 'bob', 'h', 'restart', 'node', 'node:h', 'h', 'p', '', 'confirmed', \
         '2026-01-01T00:00:01Z', 'exit 0', 1000, 'bob')"],
    )
    .await;
    let (code, _, err) = verify(&sandbox);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with(
            "opsdeck: AUDIT TRAIL TAMPERED: row 4 was inserted outside opsdeck: it has no entry in the chain"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn dropped_triggers_are_named() {
    let sandbox = fresh().await;
    tamper(&db(&sandbox), &["DROP TRIGGER audit_no_delete", "DROP TRIGGER audit_chain_no_update"]).await;
    let (code, _, err) = verify(&sandbox);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with(
            "opsdeck: AUDIT TRAIL TAMPERED: trigger audit_no_delete is missing: the trail is no longer \
             append-only (and 1 more problems)"
        ),
        "{err}"
    );
    assert!(err.contains("  trigger audit_chain_no_update is missing"), "{err}");
}

#[tokio::test]
async fn the_cockpit_shows_a_broken_chain_in_the_status_bar() {
    let sandbox = fresh().await;
    tamper(
        &db(&sandbox),
        &["UPDATE audit SET finished_at = '2026-01-01T00:00:00Z', ending = 'exit 0' WHERE id = 3"],
    )
    .await;
    let mut s = sandbox.spawn_sized(&[common::BIN], &[], 30, 200);
    s.wait_for("the tampered trail in the status bar", |t| {
        t.contains("store ✗") && t.contains("AUDIT TRAIL")
    });
    s.send("a");
    s.wait_for("the tampered trail in the audit view", |t| {
        t.contains("AUDIT TRAIL TAMPERED: row 3 was finished outside opsdeck")
    });
    // Esc alone, waited on: an Esc at once followed by a key reads as Alt+key.
    s.send("\x1b");
    s.wait_for("the audit view to close", |t| !t.contains("Audit trail"));
    s.send("q");
    assert_eq!(s.wait_exit(), 0, "{}", s.dump());
}

#[tokio::test]
async fn a_long_trail_verifies_intact_and_one_changed_row_in_it_is_found() {
    let sandbox = Sandbox::new();
    let path = db(&sandbox);
    let who = SessionInfo { host: "h", os_user: "u", read_only: false };
    let info = open_and_begin(path.clone(), who).await.unwrap();
    const ROWS: usize = 2000;
    let wrote = std::time::Instant::now();
    for i in 0..ROWS {
        let guard = if i % 2 == 0 { Guard::RefusedUnarmed } else { Guard::Cancelled };
        audit::begin(&info.store, &attempt(info.session_id, guard, &format!("a{i}"))).await.unwrap();
    }
    let wrote = wrote.elapsed();
    let checked = std::time::Instant::now();
    let verdict = opsdeck::ops::audit_chain::verify(&info.store).await.unwrap();
    eprintln!("{ROWS} rows written in {wrote:?}, verified in {:?}", checked.elapsed());
    assert!(verdict.problems.is_empty(), "{verdict:?}");
    assert_eq!((verdict.rows, verdict.entries), (ROWS, 2 * ROWS));
    info.store.close().await;

    let trigger = trigger_sql(&path, "audit_append_only").await;
    tamper(
        &path,
        &["DROP TRIGGER audit_append_only", "UPDATE audit SET reason = 'rewritten' WHERE id = 1234"],
    )
    .await;
    tamper(&path, &[&trigger]).await;
    let (code, _, err) = verify(&sandbox);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with("opsdeck: AUDIT TRAIL TAMPERED: row 1234 was changed after it was written"),
        "{err}"
    );
}
