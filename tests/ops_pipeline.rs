//! The executor end to end, with real processes, real files and a real
//! SQLite store: what the guard refuses never runs and is audited; what it
//! allows runs with its placeholders as literal arguments and is audited
//! before and after.

mod backends;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use opsdeck::ops::audit::{self, AuditRow, Guard, Operator};
use opsdeck::ops::catalog::{self, ActionDef};
use opsdeck::ops::executor::{Event, Request, SessionFacts, Sinks, execute};
use opsdeck::ops::guard::Confirmation;
use opsdeck::ops::plan::{self, Context};
use opsdeck::ops::precondition::FieldValue;
use opsdeck::ops::run::Ending;
use opsdeck::ops::target::Target;
use opsdeck::sources::{Payload, Update};
use opsdeck::store::{SessionInfo, Store, open_and_begin};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

struct Rig {
    dir: tempfile::TempDir,
    store: Store,
    session: i64,
}

async fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let who = SessionInfo { host: "h", os_user: "u", read_only: false };
    let info = open_and_begin(dir.path().join("state.db"), who).await.unwrap();
    Rig { dir, store: info.store, session: info.session_id }
}

/// The actions of a config snippet (with the built-ins it enables).
fn actions(toml: &str) -> Vec<Arc<ActionDef>> {
    let config = opsdeck::config::parse(toml, Path::new("test.toml")).unwrap();
    catalog::all(&config)
}

fn action(toml: &str, name: &str) -> Arc<ActionDef> {
    actions(toml).into_iter().find(|a| a.name == name).unwrap()
}

fn armed() -> SessionFacts {
    SessionFacts { armed: true, ..SessionFacts::default() }
}

fn request(rig: &Rig, def: Arc<ActionDef>, target: Target, typed: &str, session: SessionFacts) -> Request {
    let ctx = Context { who: "u".into(), ..Context::default() };
    let preview = plan::prepare(&def, &target, &ctx).map(|p| p.preview()).unwrap_or_default();
    Request {
        ticket: 1,
        def,
        pinned: target,
        shown_preview: preview,
        confirmation: Confirmation { typed: typed.into(), ..Confirmation::default() },
        form: Default::default(),
        planned_at: jiff::Timestamp::now(),
        session,
        operator: Operator::from_lookup("h", |k| (k == "USER").then(|| "alice".to_owned())),
        session_id: Some(rig.session),
        cancel: CancellationToken::new(),
    }
}

/// Run a request to its end; returns the events it sent and the newest audit row.
async fn carry(rig: &Rig, req: Request, store: Option<Store>) -> (Vec<Event>, Option<AuditRow>) {
    let (tx, mut rx) = mpsc::channel::<Update>(1024);
    let sinks = Sinks { store, mirror: Some(rig.dir.path().join("audit.jsonl")), events: tx };
    execute(req, sinks).await;
    let mut events = Vec::new();
    while let Ok(u) = rx.try_recv() {
        if let Ok(Payload::Action(ev)) = u.result {
            events.push(ev);
        }
    }
    let row = audit::recent(&rig.store, None, 1).await.unwrap().into_iter().next();
    (events, row)
}

fn ended(events: &[Event]) -> (Guard, Result<opsdeck::ops::run::Outcome, String>) {
    match events.last() {
        Some(Event::Ended { guard, result, .. }) => (*guard, result.clone()),
        other => panic!("no Ended event: {other:?}"),
    }
}

fn node_with_flag(flag: &Path, on: bool) -> Target {
    Target::node("testhost", None, Some((flag.to_path_buf(), on)))
}

#[tokio::test]
async fn placeholders_reach_the_program_as_literal_arguments() {
    let rig = rig().await;
    let out = rig.dir.path().join("args");
    let toml = format!(
        r#"[[actions]]
name = "record"
label = "record"
applies_to = "node"
argv = ["sh", "-c", "for a; do printf '%s\n--\n' \"$a\"; done > {}", "sh", "{{host}}", "-n", "$(reboot)", "a b"]
guard = "type_name"
"#,
        out.display()
    );
    let evil = "; rm -rf / \n`id`";
    let target = Target::node(evil, None, None);
    let req = request(&rig, action(&toml, "record"), target, evil, armed());
    let (events, row) = carry(&rig, req, Some(rig.store.clone())).await;
    let (guard, result) = ended(&events);
    assert_eq!(guard, Guard::Confirmed);
    assert_eq!(result.unwrap().ending, Ending::Exited(0));
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written, format!("{evil}\n--\n-n\n--\n$(reboot)\n--\na b\n--\n"));
    let row = row.unwrap();
    assert_eq!((row.guard.as_str(), row.ending.as_deref()), ("confirmed", Some("exit 0")));
    assert!(row.preview.contains("'$(reboot)'"), "{}", row.preview);
    assert_eq!(row.claimed_user.as_deref(), Some("alice"), "USER is kept as a claim");
}

#[tokio::test]
async fn refusals_never_run_and_are_audited() {
    let rig = rig().await;
    let marker = rig.dir.path().join("marker");
    let toml = format!(
        "[[actions]]\nname = \"touch\"\nlabel = \"t\"\napplies_to = \"node\"\nargv = [\"touch\", \"{}\"]\n",
        marker.display()
    );
    let def = action(&toml, "touch");
    let node = || Target::node("testhost", None, None);
    let cases = [
        (
            SessionFacts { read_only: true, armed: true, ..SessionFacts::default() },
            "y",
            Guard::RefusedReadOnly,
        ),
        (SessionFacts::default(), "y", Guard::RefusedUnarmed),
        (SessionFacts { busy: true, ..armed() }, "y", Guard::RefusedBusy),
        (SessionFacts { cooling_down: true, ..armed() }, "y", Guard::RefusedCooldown),
        (armed(), "n", Guard::Cancelled),
        (SessionFacts { backed_out: true, ..armed() }, "", Guard::Cancelled),
    ];
    for (facts, typed, want) in cases {
        let (events, row) =
            carry(&rig, request(&rig, def.clone(), node(), typed, facts), Some(rig.store.clone())).await;
        let (guard, result) = ended(&events);
        assert_eq!(guard, want, "{facts:?}");
        assert!(result.is_err(), "{want:?} must not produce an outcome");
        let row = row.unwrap();
        assert_eq!(row.guard, want.as_str());
        assert!(row.finished_at.is_some(), "a refusal is written finished");
        assert!(!marker.exists(), "{want:?}: the command ran");
    }
}

#[tokio::test]
async fn a_precondition_that_flips_after_the_dialog_refuses() {
    let rig = rig().await;
    let flag = rig.dir.path().join("maintenance.flag");
    let marker = rig.dir.path().join("marker");
    let toml = format!(
        "[maintenance]\nflag_file = \"{}\"\n[[actions]]\nname = \"touch\"\nlabel = \"t\"\napplies_to = \"node\"\n\
         argv = [\"touch\", \"{}\"]\npreconditions = [\"maintenance == false\"]\n",
        flag.display(),
        marker.display()
    );
    // The dialog saw no flag (the precondition held) ...
    let pinned = node_with_flag(&flag, false);
    assert_eq!(pinned.fields["maintenance"], FieldValue::Bool(false));
    // ... and someone set maintenance before the executor ran.
    std::fs::write(&flag, "someone else\n").unwrap();
    let req = request(&rig, action(&toml, "touch"), pinned, "y", armed());
    let (events, row) = carry(&rig, req, Some(rig.store.clone())).await;
    let (guard, result) = ended(&events);
    assert_eq!(guard, Guard::RefusedPrecondition);
    assert!(result.unwrap_err().contains("maintenance == false (now true)"));
    assert!(!marker.exists());
    assert!(row.unwrap().preconditions.contains("maintenance == false [true] FAIL"));
}

#[tokio::test]
async fn an_overridable_precondition_runs_when_overridden_with_a_reason_and_is_audited_so() {
    let rig = rig().await;
    let toml = "[[actions]]\nname = \"t\"\nlabel = \"t\"\napplies_to = \"node\"\nargv = [\"true\"]\n\
                preconditions = [\"load_1 < 0\"]\noverridable = true\n";
    let mut req = request(&rig, action(toml, "t"), Target::node("h", None, None), "y", armed());
    let (events, _) = carry(&rig, req.clone(), Some(rig.store.clone())).await;
    assert_eq!(ended(&events).0, Guard::RefusedPrecondition, "no reason, no override");
    req.confirmation.reason = "load is from the backup, expected".into();
    let (events, _) = carry(&rig, req.clone(), Some(rig.store.clone())).await;
    assert_eq!(ended(&events).0, Guard::RefusedPrecondition, "a reason alone is no override");
    req.confirmation.overriding = true;
    let (events, row) = carry(&rig, req, Some(rig.store.clone())).await;
    assert_eq!(ended(&events).0, Guard::Confirmed);
    let row = row.unwrap();
    assert!(row.overridden);
    assert_eq!(row.reason.as_deref(), Some("load is from the backup, expected"));
}

#[tokio::test]
async fn a_target_that_vanishes_or_is_replaced_aborts() {
    let rig = rig().await;
    let marker = rig.dir.path().join("marker");
    let toml = format!(
        "[[actions]]\nname = \"touch\"\nlabel = \"t\"\napplies_to = \"process\"\nargv = [\"touch\", \"{}\", \"{{pid}}\"]\n",
        marker.display()
    );
    let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    let pid = child.id();
    let start = {
        let mut sys = sysinfo::System::new().unwrap();
        let spid = sysinfo::Pid::from_u32(pid);
        sys.refresh_processes(sysinfo::ProcessesToUpdate::Some(&[spid]), true);
        sys.process(spid).unwrap().start_time()
    };
    let stat = |start_time| opsdeck::model::metrics::ProcessStat {
        pid,
        name: "sleep".into(),
        cpu: 0.0,
        memory: 0,
        kernel_thread: false,
        start_time,
    };
    // A pid now owned by another process (another start time) is not the target.
    let req = request(&rig, action(&toml, "touch"), Target::process(&stat(start + 3)), "y", armed());
    let (events, row) = carry(&rig, req, Some(rig.store.clone())).await;
    assert_eq!(ended(&events).0, Guard::AbortedTargetChanged);
    assert!(ended(&events).1.unwrap_err().contains("now a different process"));
    assert_eq!(row.unwrap().guard, "aborted: target changed");

    let pinned = Target::process(&stat(start));
    child.kill().unwrap();
    child.wait().unwrap();
    let (events, _) =
        carry(&rig, request(&rig, action(&toml, "touch"), pinned, "y", armed()), Some(rig.store.clone()))
            .await;
    let (guard, result) = ended(&events);
    assert_eq!(guard, Guard::AbortedTargetChanged);
    assert!(result.unwrap_err().contains("sleep is gone"));
    assert!(!marker.exists());
}

#[tokio::test]
async fn without_an_audit_store_nothing_runs() {
    let rig = rig().await;
    let marker = rig.dir.path().join("marker");
    let toml = format!(
        "[[actions]]\nname = \"t\"\nlabel = \"t\"\napplies_to = \"node\"\nargv = [\"touch\", \"{}\"]\n",
        marker.display()
    );
    let def = action(&toml, "t");
    let (events, _) =
        carry(&rig, request(&rig, def.clone(), Target::node("h", None, None), "y", armed()), None).await;
    assert!(ended(&events).1.unwrap_err().contains("audit store is not open"));
    // A store that can no longer be written (closed under us) refuses too.
    let closed = {
        let who = SessionInfo { host: "h", os_user: "u", read_only: false };
        let other = open_and_begin(rig.dir.path().join("other.db"), who).await.unwrap().store;
        other.close().await;
        other
    };
    let (events, _) =
        carry(&rig, request(&rig, def, Target::node("h", None, None), "y", armed()), Some(closed)).await;
    assert!(ended(&events).1.unwrap_err().contains("the action will not run"));
    assert!(!marker.exists());
}

#[tokio::test]
async fn cancel_kills_the_run_and_the_row_says_so() {
    let rig = rig().await;
    let toml = "[[actions]]\nname = \"hang\"\nlabel = \"h\"\napplies_to = \"node\"\nargv = [\"sh\", \"-c\", \"echo started; sleep 30\"]\n";
    let req = request(&rig, action(toml, "hang"), Target::node("h", None, None), "y", armed());
    let cancel = req.cancel.clone();
    let (tx, mut rx) = mpsc::channel::<Update>(1024);
    let sinks = Sinks { store: Some(rig.store.clone()), mirror: None, events: tx };
    let task = tokio::spawn(execute(req, sinks));
    // Cancel once the output shows it is running.
    loop {
        let u = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.unwrap().unwrap();
        if let Ok(Payload::Action(Event::Line { line, .. })) = u.result
            && line == "started"
        {
            break;
        }
    }
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap();
    let row = audit::recent(&rig.store, None, 1).await.unwrap().remove(0);
    assert_eq!(row.ending.as_deref(), Some("cancelled while running"));
    assert!(row.output_excerpt.unwrap().contains("started"));
}

#[tokio::test]
async fn the_maintenance_actions_write_and_remove_the_flag_with_the_reason() {
    let rig = rig().await;
    let flag = rig.dir.path().join("maintenance.flag");
    let toml = format!("[maintenance]\nflag_file = \"{}\"\n", flag.display());
    let mut req =
        request(&rig, action(&toml, "maintenance_on"), node_with_flag(&flag, false), "testhost", armed());
    req.confirmation.reason = "kernel upgrade".into();
    // The flag names the real user (the kernel's), not the claimed USER=alice.
    let who = req.operator.os_user.clone();
    req.shown_preview = plan::prepare(
        &req.def,
        &req.pinned,
        &Context { who: who.clone(), reason: "kernel upgrade".into(), ..Context::default() },
    )
    .unwrap()
    .preview();
    let (events, _) = carry(&rig, req, Some(rig.store.clone())).await;
    assert_eq!(ended(&events).1.unwrap().ending, Ending::Done);
    assert_eq!(std::fs::read_to_string(&flag).unwrap(), format!("kernel upgrade — {who}\n"));

    let req = request(&rig, action(&toml, "maintenance_off"), node_with_flag(&flag, true), "y", armed());
    let (events, row) = carry(&rig, req, Some(rig.store.clone())).await;
    assert_eq!(ended(&events).1.unwrap().ending, Ending::Done);
    assert!(!flag.exists());
    assert_eq!(row.unwrap().ending.as_deref(), Some("ok"));

    // The mirror has an attempt and a finish line per run.
    let mirror = std::fs::read_to_string(rig.dir.path().join("audit.jsonl")).unwrap();
    let events: Vec<String> = mirror
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(events, ["attempt", "finish", "attempt", "finish"]);
}

#[tokio::test]
async fn the_sqlite_backup_action_copies_and_verifies() {
    let rig = rig().await;
    let db = rig.dir.path().join("app.db");
    let dest = rig.dir.path().join("backups");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3);").unwrap();
    }
    let toml = format!(
        "[[backups]]\nname = \"app\"\nkind = \"sqlite\"\npath = \"{}\"\ndestination = \"{}\"\nrpo = \"1h\"\n",
        db.display(),
        dest.display()
    );
    let target = Target::sqlite_database("app", &db.display().to_string(), &dest.display().to_string());
    let (events, row) = carry(
        &rig,
        request(&rig, action(&toml, "sqlite_backup"), target, "y", armed()),
        Some(rig.store.clone()),
    )
    .await;
    assert_eq!(ended(&events).1.unwrap().ending, Ending::Done);
    let copies: Vec<_> = std::fs::read_dir(&dest).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
    let n: i64 = rusqlite::Connection::open(&copies[0])
        .unwrap()
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 3);
    assert!(row.unwrap().output_excerpt.unwrap().contains("integrity_check: ok"));
}

/// The Backups tab's configured commands: `backup_now` writes, so it is
/// refused in read-only mode; `restore_test` asks for the name and a reason;
/// each run is stored as a backup check with its result.
#[tokio::test]
async fn backup_now_and_restore_test_run_their_argv_and_are_recorded() {
    use opsdeck::backups::checks::{self, CheckKind};
    let rig = rig().await;
    let root = rig.dir.path().join("dumps");
    std::fs::create_dir_all(root.join("full")).unwrap();
    let dump = root.join("full/db_now.sql.gz");
    let toml = format!(
        "[[backups]]\nname = \"dumps\"\nkind = \"dir\"\npath = \"{}\"\nrpo = \"1h\"\n\
         backup_command = [\"sh\", \"-c\", \"echo dump | gzip > {}\"]\n\
         restore_test_command = [\"sh\", \"-c\", \"echo 'restore failed: table t missing' >&2; exit 3\"]\n",
        root.display(),
        dump.display()
    );
    let config = opsdeck::config::parse(&toml, Path::new("test.toml")).unwrap();
    let target = || opsdeck::ops::backup::catalog_target(&config.backups[0], Some(0), true);

    let read_only = SessionFacts { read_only: true, ..armed() };
    let (events, _) = carry(
        &rig,
        request(&rig, action(&toml, "backup_now"), target(), "y", read_only),
        Some(rig.store.clone()),
    )
    .await;
    assert_eq!(ended(&events).0, Guard::RefusedReadOnly);
    assert!(!dump.exists(), "a refused backup never runs");

    let (events, _) = carry(
        &rig,
        request(&rig, action(&toml, "backup_now"), target(), "y", armed()),
        Some(rig.store.clone()),
    )
    .await;
    assert_eq!(ended(&events).1.unwrap().ending, Ending::Exited(0));
    assert!(dump.exists());

    let mut restore = request(&rig, action(&toml, "restore_test"), target(), "dumps", armed());
    restore.confirmation.reason = "quarterly drill".into();
    let (events, row) = carry(&rig, restore, Some(rig.store.clone())).await;
    assert_eq!(ended(&events).1.unwrap().ending, Ending::Exited(3));
    assert_eq!(row.unwrap().reason.as_deref(), Some("quarterly drill"));

    let stored = checks::latest(&rig.store).await.unwrap();
    let of = |kind| stored.iter().find(|c| c.kind == kind).map(|c| (c.result.ok, c.result.detail.clone()));
    assert_eq!(of(CheckKind::BackupNow), Some((true, "ok".to_owned())));
    assert_eq!(
        of(CheckKind::RestoreTest),
        Some((false, "exit code 3: restore failed: table t missing".to_owned()))
    );
}

/// Verify on a restic catalog is `restic check` against a real repository:
/// read-only, so it runs unarmed and in read-only mode, and its result is
/// stored as a check of the whole repository.
#[tokio::test]
async fn verify_on_a_restic_catalog_runs_restic_check() {
    use opsdeck::backups::checks;
    let rig = rig().await;
    let repo = backends::restic::ResticRepo::init();
    repo.backup(rig.dir.path());
    let toml = format!(
        "[[backups]]\nname = \"files\"\nkind = \"restic\"\npath = \"{}\"\npassword_file = \"{}\"\nrpo = \"1h\"\n\
         read_data_subset = \"100%\"\n",
        repo.path().display(),
        repo.password_file().display()
    );
    let config = opsdeck::config::parse(&toml, Path::new("test.toml")).unwrap();
    let target = opsdeck::ops::backup::catalog_target(&config.backups[0], Some(1), true);
    let def = action(&toml, "verify_backup");
    let read_only = SessionFacts { read_only: true, ..SessionFacts::default() };
    let req = request(&rig, def, target, "y", read_only);
    assert!(req.shown_preview.contains("restic check --read-data-subset=100%"), "{}", req.shown_preview);
    assert!(!req.shown_preview.contains(repo.password()), "{}", req.shown_preview);
    let (events, _) = carry(&rig, req, Some(rig.store.clone())).await;
    let outcome = ended(&events).1.unwrap();
    assert_eq!(outcome.ending, Ending::Exited(0), "{}", outcome.excerpt);
    let stored = checks::latest(&rig.store).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].backup_id.as_str(), stored[0].result.ok), ("", true));
}
