//! No row, no run, on a full disk: the state store on a real tmpfs that is
//! filled to the last byte. An attempt whose audit row cannot be committed
//! must fail (and the action must not run); an attempt that reports a row
//! id must have that row in the file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use opsdeck::ops::audit::{self, Attempt, Guard, Operator};
use opsdeck::ops::catalog::{self, ActionDef};
use opsdeck::ops::executor::{Event, Request, SessionFacts, Sinks, execute};
use opsdeck::ops::guard::Confirmation;
use opsdeck::ops::plan::{self, Context};
use opsdeck::ops::target::Target;
use opsdeck::sources::{Payload, Update};
use opsdeck::store::{SessionInfo, Store, open_and_begin};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A small tmpfs mounted on a temp dir, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "mount tmpfs (this test needs root)");
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write zeros until the filesystem says it is full.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            match f.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(e) => panic!("filling the tmpfs: {e}"),
            }
        }
        // Byte by byte for the last partial page.
        while f.write(&[0]).is_ok_and(|n| n == 1) {}
        let _ = f.sync_all();
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

async fn store_on(fs: &Tmpfs) -> (Store, i64) {
    let who = SessionInfo { host: "h", os_user: "u", read_only: false };
    let info = open_and_begin(fs.path().join("state.db"), who).await.unwrap();
    (info.store, info.session_id)
}

/// The attempt, with a preview large enough to need fresh pages in the WAL.
fn big_attempt(session: i64) -> Attempt {
    Attempt {
        session_id: Some(session),
        operator: Operator::from_lookup("h", |_| None),
        action: "restart".into(),
        target_kind: "node".into(),
        target_id: "node:h".into(),
        target_name: "h".into(),
        preview: "x".repeat(256 * 1024),
        conditions: Vec::new(),
        guard: Guard::Confirmed,
        overridden: false,
        reason: None,
    }
}

/// Whether row `id` is in the file, read by a connection of its own.
async fn row_in_file(path: &Path, id: i64) -> bool {
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path).read_only(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new().connect_with(opts).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit WHERE id = ?")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n == 1
}

#[tokio::test]
async fn on_a_full_disk_begin_fails_instead_of_returning_a_row_that_was_never_committed() {
    let fs = Tmpfs::mount("2m");
    let (store, session) = store_on(&fs).await;
    // The disk has room: the row is written and is really there.
    let id =
        audit::begin(&store, &Attempt { preview: "small".into(), ..big_attempt(session) }).await.unwrap();
    assert!(row_in_file(&fs.path().join("state.db"), id).await);

    let filler = fs.fill();
    match audit::begin(&store, &big_attempt(session)).await {
        Ok(id) => {
            let there = row_in_file(&fs.path().join("state.db"), id).await;
            panic!("begin returned row {id} on a full disk; in the file: {there}");
        }
        Err(e) => {
            assert!(e.contains("the action will not run"), "{e}");
            assert!(e.contains("full"), "the reason is the full disk: {e}");
        }
    }
    // Room again: the trail works, and the failed attempt left nothing behind.
    std::fs::remove_file(filler).unwrap();
    let next = audit::begin(&store, &big_attempt(session)).await.unwrap();
    assert_eq!(audit::recent(&store, None, 10).await.unwrap().len(), 2, "rows {id} and {next} only");
    let verdict = opsdeck::ops::audit_chain::verify(&store).await.unwrap();
    assert!(verdict.problems.is_empty(), "{verdict:?}");
    store.close().await;
}

fn touch_action(marker: &Path) -> Arc<ActionDef> {
    let toml = format!(
        "[[actions]]\nname = \"touch\"\nlabel = \"t\"\napplies_to = \"node\"\nargv = [\"touch\", \"{}\"]\n\
         mutating = false\n",
        marker.display()
    );
    let config = opsdeck::config::parse(&toml, Path::new("test.toml")).unwrap();
    catalog::all(&config).into_iter().find(|a| a.name == "touch").unwrap()
}

#[tokio::test]
async fn on_a_full_disk_the_action_does_not_run() {
    let fs = Tmpfs::mount("2m");
    let (store, session) = store_on(&fs).await;
    let elsewhere = tempfile::tempdir().unwrap();
    let marker = elsewhere.path().join("ran");
    let def = touch_action(&marker);
    let target = Target::node("h", None, None);
    let preview = plan::prepare(&def, &target, &Context::default()).unwrap().preview();
    let request = Request {
        ticket: 1,
        def,
        pinned: target,
        shown_preview: preview,
        confirmation: Confirmation { typed: "y".into(), reason: "x".repeat(256 * 1024), overriding: false },
        form: Default::default(),
        planned_at: jiff::Timestamp::now(),
        session: SessionFacts { armed: true, ..SessionFacts::default() },
        operator: Operator::from_lookup("h", |_| None),
        session_id: Some(session),
        cancel: CancellationToken::new(),
    };
    fs.fill();
    let (tx, mut rx) = mpsc::channel::<Update>(64);
    execute(request, Sinks { store: Some(store.clone()), mirror: None, events: tx }).await;
    let mut ended = None;
    while let Ok(u) = rx.try_recv() {
        if let Ok(Payload::Action(Event::Ended { result, audit_id, .. })) = u.result {
            ended = Some((result, audit_id));
        }
    }
    let (result, audit_id) = ended.expect("an Ended event");
    assert!(!marker.exists(), "the action ran without a committed audit row (row {audit_id:?})");
    let why = result.unwrap_err();
    assert!(why.contains("cannot write the audit row (the action will not run)"), "{why}");
    assert_eq!(audit_id, None);
    store.close().await;
}
