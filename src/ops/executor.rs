//! The last leg of the pipeline, off the UI thread: re-read the pinned
//! target, evaluate the preconditions again, prepare the plan again and
//! compare it with what the operator confirmed, let the guard decide, write
//! the audit row (no row, no run), run, and finish the row. Every step reports
//! to the app as an `Event` through the ordinary update channel.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::audit::{self, Attempt, CheckedCondition, Guard, Operator};
use super::audit_chain;
use super::catalog::ActionDef;
use super::guard::{Confirmation, Facts, Verdict, decide};
use super::plan::{self, Context};
use super::run::{self, Outcome, Spawned, Stream};
use super::target::Target;
use crate::sources::{Payload, Update};
use crate::store::Store;

/// The name updates from actions carry.
pub const SOURCE: &str = "action";

/// What the app knew when the operator confirmed (or backed out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionFacts {
    /// `--read-only`.
    pub read_only: bool,
    /// The session was armed.
    pub armed: bool,
    /// Another action was running on the target.
    pub busy: bool,
    /// The action's cooldown on this target had not passed.
    pub cooling_down: bool,
    /// The operator backed out of the dialog.
    pub backed_out: bool,
}

/// One attempt, as handed from the dialog to the executor.
#[derive(Debug, Clone)]
pub struct Request {
    /// Which run view this belongs to.
    pub ticket: u64,
    /// The action.
    pub def: Arc<ActionDef>,
    /// The target as pinned when the action was chosen.
    pub pinned: Target,
    /// The preview the operator saw when confirming.
    pub shown_preview: String,
    /// What the operator typed.
    pub confirmation: Confirmation,
    /// The dialog's form fields.
    pub form: std::collections::BTreeMap<String, String>,
    /// The time the plan was prepared for when confirmed.
    pub planned_at: jiff::Timestamp,
    /// The app's side of the guard's facts.
    pub session: SessionFacts,
    /// Who.
    pub operator: Operator,
    /// This run's session row.
    pub session_id: Option<i64>,
    /// Ctrl-C in the run view.
    pub cancel: CancellationToken,
}

/// What the executor tells the app.
#[derive(Debug, Clone)]
pub enum Event {
    /// A line of output.
    Line {
        /// The run view.
        ticket: u64,
        /// stdout or stderr.
        stream: Stream,
        /// The line, as the program wrote it.
        line: String,
    },
    /// The guard said yes and the audit row is written; it is running.
    Started {
        /// The run view.
        ticket: u64,
        /// The audit row.
        audit_id: i64,
        /// What runs (from the re-read target; equal to what was confirmed).
        preview: String,
    },
    /// It is over: ran to an outcome, or was refused (and why).
    Ended {
        /// The run view.
        ticket: u64,
        /// How the guard decided.
        guard: Guard,
        /// The run's outcome, or the refusal explained.
        result: Result<Outcome, String>,
        /// The audit row, when one could be written.
        audit_id: Option<i64>,
    },
}

/// Where the executor writes.
#[derive(Debug, Clone)]
pub struct Sinks {
    /// The audit store; `None` means no action can run.
    pub store: Option<Store>,
    /// The JSON-lines mirror, if configured.
    pub mirror: Option<PathBuf>,
    /// The app.
    pub events: mpsc::Sender<Update>,
}

impl Sinks {
    async fn send(&self, ev: Event) {
        let _ = self.events.send(Update::now(SOURCE, Ok(Payload::Action(ev)))).await;
    }

    async fn mirror(&self, event: &str, id: i64) {
        let (Some(path), Some(store)) = (&self.mirror, &self.store) else { return };
        let hash = audit::chain_hash(store, id).await;
        let result = match audit::get(store, id).await {
            Ok(row) => audit::mirror(path, event, &row, hash.as_deref()),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            // The store has the row; the mirror is a copy for shipping.
            tracing::warn!("{e}");
        }
    }
}

/// Carry a request through the guard to its end. Never panics; every path
/// ends with one `Event::Ended`.
pub async fn execute(req: Request, sinks: Sinks) {
    let ticket = req.ticket;
    let (guard, result, audit_id) = attempt(&req, &sinks).await;
    sinks.send(Event::Ended { ticket, guard, result, audit_id }).await;
    if let Some(store) = &sinks.store {
        send_trail(store, &sinks.events).await;
    }
}

/// How many rows of the trail the app keeps for its audit view.
pub const TRAIL_ROWS: u32 = 500;

/// Send the newest rows of the trail to the app.
pub async fn send_trail(store: &Store, events: &mpsc::Sender<Update>) {
    let update = match audit::recent(store, None, TRAIL_ROWS).await {
        Ok(rows) => Update::now(SOURCE, Ok(Payload::Audit(rows))),
        Err(e) => {
            tracing::warn!("{e}");
            return;
        }
    };
    let _ = events.send(update).await;
}

/// Verify the trail's hash chain and triggers; a broken one is reported as
/// the store source failing, with what is wrong, so the status bar and the
/// audit view say so until opsdeck restarts on a mended trail.
pub async fn send_chain_check(store: &Store, events: &mpsc::Sender<Update>) {
    let problem = match audit_chain::verify(store).await {
        Ok(v) if v.problems.is_empty() => return,
        Ok(v) => v.summary(),
        Err(e) => e,
    };
    tracing::error!("{problem}");
    let _ = events.send(Update::now(crate::store::SOURCE, Err(problem))).await;
}

async fn attempt(req: &Request, sinks: &Sinks) -> (Guard, Result<Outcome, String>, Option<i64>) {
    let def = &req.def;
    let ctx = Context {
        who: req.operator.os_user.clone(),
        reason: req.confirmation.reason.clone(),
        form: req.form.clone(),
        at: Some(req.planned_at),
    };

    // What is true now, not what the screen showed.
    let (current, mut changed) = if req.session.backed_out {
        (req.pinned.clone(), None)
    } else {
        match req.pinned.probe().await {
            Ok(Some(t)) if t.id == req.pinned.id => (t, None),
            Ok(Some(t)) => {
                let why =
                    format!("{} is now a different {} ({})", req.pinned.name, def.applies_to.as_str(), t.id);
                (req.pinned.clone(), Some(why))
            }
            Ok(None) => (req.pinned.clone(), Some(format!("{} is gone", req.pinned.name))),
            Err(e) => (req.pinned.clone(), Some(e)),
        }
    };
    let checks: Vec<CheckedCondition> = def.preconditions.iter().map(|c| c.check(&current.fields)).collect();
    let preview = match plan::prepare(def, &current, &ctx) {
        Ok(p) => {
            let preview = p.preview();
            if changed.is_none() && !req.session.backed_out && preview != req.shown_preview {
                changed = Some(format!("what would run changed since the dialog showed it:\n{preview}"));
            }
            Some((p, preview))
        }
        Err(e) => {
            changed.get_or_insert(e);
            None
        }
    };

    let verdict = if req.session.backed_out {
        Verdict::Refuse(Guard::Cancelled)
    } else {
        decide(&Facts {
            mutating: def.mutating,
            read_only: req.session.read_only,
            armed: req.session.armed,
            target_unchanged: changed.is_none(),
            busy: req.session.busy,
            cooling_down: req.session.cooling_down,
            checks: &checks,
            overridable: def.may_override(&checks),
            confirmation: &req.confirmation,
            tier: def.guard,
            target_name: &req.pinned.name,
        })
    };
    let (guard, overridden) = match verdict {
        Verdict::Run { overridden } => (Guard::Confirmed, overridden),
        Verdict::Refuse(g) => (g, false),
    };
    let reason = Some(req.confirmation.reason.trim().to_owned()).filter(|r| !r.is_empty());
    let record = Attempt {
        session_id: req.session_id,
        operator: req.operator.clone(),
        action: def.name.clone(),
        target_kind: def.applies_to.as_str().to_owned(),
        target_id: req.pinned.id.clone(),
        target_name: req.pinned.name.clone(),
        preview: preview.as_ref().map_or_else(|| req.shown_preview.clone(), |(_, p)| p.clone()),
        conditions: checks.clone(),
        guard,
        overridden,
        reason,
    };

    // No row, no run.
    let Some(store) = &sinks.store else {
        return (guard, Err("the audit store is not open: the action will not run".into()), None);
    };
    // The row is committed before anything runs; a run still alive on this
    // target (in any opsdeck, or orphaned by one that died) refuses this one.
    let begun = match audit::begin_checked(store, &record).await {
        Ok(b) => b,
        Err(e) => return (guard, Err(e), None),
    };
    let (id, guard) = (begun.id, begun.guard);
    sinks.mirror("attempt", id).await;

    let Some((plan, preview)) = preview.filter(|_| guard == Guard::Confirmed) else {
        let why = match &begun.busy_with {
            Some(other) => {
                format!("refused: busy: another action is running on {}: {other}", req.pinned.name)
            }
            None => explain(guard, changed.as_deref(), &checks, req),
        };
        return (guard, Err(why), Some(id));
    };
    sinks.send(Event::Started { ticket: req.ticket, audit_id: id, preview }).await;
    // The trail view shows the row as running from now, not only once it ends.
    send_trail(store, &sinks.events).await;

    let (lines_tx, mut lines_rx) = mpsc::channel::<(Stream, String)>(256);
    let events = sinks.clone();
    let ticket = req.ticket;
    let forward = tokio::spawn(async move {
        while let Some((stream, line)) = lines_rx.recv().await {
            events.send(Event::Line { ticket, stream, line }).await;
        }
    });
    // The supervisor's pid and start time go into the row as it starts, so
    // a later attempt can tell this run is alive even if opsdeck dies.
    let (spawned_tx, mut spawned_rx) = mpsc::unbounded_channel::<Spawned>();
    let recorder = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut first = true;
            while let Some(p) = spawned_rx.recv().await {
                let recorded = if std::mem::take(&mut first) {
                    match audit::record_process(&store, id, p.pid, p.start).await {
                        Ok(()) => true,
                        Err(e) => {
                            tracing::error!("{e}");
                            false
                        }
                    }
                } else {
                    true
                };
                // No record, no run: the supervisor starts the command only on `true`.
                if let Some(ack) = p.recorded {
                    let _ = ack.send(recorded);
                }
            }
        })
    };
    let outcome =
        run::reporting_spawns(spawned_tx, plan.execute(def.timeout, &req.cancel, &lines_tx, Some(store)))
            .await;
    let _ = recorder.await;
    drop(lines_tx);
    let _ = forward.await;
    if let Err(e) = audit::finish(store, id, &outcome).await {
        tracing::error!("{e}");
    }
    sinks.mirror("finish", id).await;
    (guard, Ok(outcome), Some(id))
}

/// The refusal in words an operator can act on.
fn explain(guard: Guard, changed: Option<&str>, checks: &[CheckedCondition], req: &Request) -> String {
    match guard {
        Guard::AbortedTargetChanged => format!("aborted: {}", changed.unwrap_or("the target changed")),
        Guard::RefusedReadOnly => "refused: opsdeck is read-only (--read-only or read_only = true)".into(),
        Guard::RefusedUnarmed => "refused: the session is not armed (arm it, then try again)".into(),
        Guard::RefusedBusy => format!("refused: another action is running on {}", req.pinned.name),
        Guard::RefusedCooldown => {
            format!("refused: {} ran on {} too recently (cooldown)", req.def.name, req.pinned.name)
        }
        Guard::RefusedPrecondition => {
            let failed: Vec<String> = checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| format!("{} (now {})", c.expr, c.value))
                .collect();
            format!("refused: precondition no longer holds: {}", failed.join(", "))
        }
        Guard::Cancelled if req.session.backed_out => "cancelled".into(),
        Guard::Cancelled => "cancelled: the confirmation did not match".into(),
        Guard::Confirmed => "confirmed".into(),
    }
}
