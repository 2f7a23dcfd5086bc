//! The app's side of guarded actions: the arming window, which targets are
//! busy, cooldowns, the runs of this session and their output, and the
//! requests waiting for the loop to hand them to the executor.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::ops::audit::{AuditRow, Guard, Operator};
use crate::ops::catalog::ActionDef;
use crate::ops::executor::{Event, Request, SessionFacts};
use crate::ops::guard::{Arming, Confirmation};
use crate::ops::run::{Outcome, Stream};
use crate::ops::target::Target;

/// Lines of output a run view keeps.
pub const RUN_LINES: usize = 2_000;

/// Where one run stands.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// The executor is re-reading the target and asking the guard.
    Checking,
    /// Running.
    Running,
    /// Ran to this outcome.
    Finished(Outcome),
    /// Not run: the guard's refusal (or a store error) explained.
    Refused(Guard, String),
}

/// One attempt of this session, as its run view shows it.
#[derive(Debug, Clone)]
pub struct Run {
    /// Matches the executor's events.
    pub ticket: u64,
    /// The action.
    pub def: Arc<ActionDef>,
    /// The pinned target's name and identity.
    pub target: Target,
    /// What runs.
    pub preview: String,
    /// When it was confirmed.
    pub started: Instant,
    /// When it ended.
    pub ended: Option<Instant>,
    /// Where it stands.
    pub status: RunStatus,
    /// The newest output lines.
    pub lines: VecDeque<(Stream, String)>,
    /// Lines that scrolled out of `lines`.
    pub dropped: usize,
    /// The audit row, once written.
    pub audit_id: Option<i64>,
    /// Ctrl-C.
    pub cancel: CancellationToken,
}

impl Run {
    /// Still checking or running.
    pub fn active(&self) -> bool {
        matches!(self.status, RunStatus::Checking | RunStatus::Running)
    }
}

/// What the dialog hands over on confirm (or back-out).
#[derive(Debug, Clone)]
pub struct Submission {
    /// The action.
    pub def: Arc<ActionDef>,
    /// The pinned target.
    pub target: Target,
    /// The preview the operator saw.
    pub preview: String,
    /// What they typed.
    pub confirmation: Confirmation,
    /// The form's fields.
    pub form: std::collections::BTreeMap<String, String>,
    /// The time the preview was prepared for.
    pub planned_at: jiff::Timestamp,
    /// They backed out.
    pub backed_out: bool,
}

impl Submission {
    /// A submission without form fields (tests, simple actions).
    pub fn simple(
        def: Arc<ActionDef>,
        target: Target,
        preview: &str,
        typed: &str,
        backed_out: bool,
    ) -> Submission {
        Submission {
            def,
            target,
            preview: preview.to_owned(),
            confirmation: Confirmation { typed: typed.to_owned(), ..Confirmation::default() },
            form: Default::default(),
            planned_at: jiff::Timestamp::now(),
            backed_out,
        }
    }
}

/// Everything about actions that outlives one dialog.
#[derive(Debug)]
pub struct Pipeline {
    /// Every action this config offers.
    pub actions: Vec<Arc<ActionDef>>,
    /// The armed window.
    pub arming: Arming,
    /// How long one arming lasts.
    pub arm_window: Duration,
    /// Armed at the last tick (to say when it disarms itself).
    pub was_armed: bool,
    /// This session's runs, oldest first.
    pub runs: Vec<Run>,
    /// Target id → ticket of the run that holds it.
    busy: HashMap<String, u64>,
    /// (action, target id) → when its last run ended.
    last_ended: HashMap<(String, String), Instant>,
    next_ticket: u64,
    outbox: Vec<Request>,
    /// The newest audit rows.
    pub audit: Vec<AuditRow>,
    /// Rows of earlier sessions that started and never finished.
    pub unknown_outcomes: usize,
    /// This run's session row, once the store is open.
    pub session_id: Option<i64>,
    /// Who is at the keyboard.
    pub operator: Operator,
    /// When quit was pressed while an action ran (a second press quits).
    pub quit_pressed: Option<Instant>,
}

impl Pipeline {
    /// A pipeline for these actions.
    pub fn new(actions: Vec<Arc<ActionDef>>, arm_window: Duration, operator: Operator) -> Pipeline {
        Pipeline {
            actions,
            arming: Arming::default(),
            arm_window,
            was_armed: false,
            runs: Vec::new(),
            busy: HashMap::new(),
            last_ended: HashMap::new(),
            next_ticket: 1,
            outbox: Vec::new(),
            audit: Vec::new(),
            unknown_outcomes: 0,
            session_id: None,
            operator,
            quit_pressed: None,
        }
    }

    /// The actions that apply to `target`.
    pub fn actions_for(&self, target: &Target) -> Vec<Arc<ActionDef>> {
        self.actions.iter().filter(|a| a.applies_to_target(target)).cloned().collect()
    }

    /// An action by name.
    pub fn action(&self, name: &str) -> Option<Arc<ActionDef>> {
        self.actions.iter().find(|a| a.name == name).cloned()
    }

    /// Requests for the loop to hand to the executor.
    pub fn take_requests(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.outbox)
    }

    /// Queue an attempt (confirmed, or backed out of); returns its ticket.
    /// The facts the app owns are taken now, on the UI thread, so two quick
    /// confirmations cannot both find the target free.
    pub fn submit(&mut self, now: Instant, read_only: bool, sub: Submission) -> u64 {
        let Submission { def, target, preview, confirmation, form, planned_at, backed_out } = sub;
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let busy = self.busy.contains_key(&target.id);
        let cooling_down = def.cooldown.is_some_and(|c| {
            self.last_ended
                .get(&(def.name.clone(), target.id.clone()))
                .is_some_and(|t| now.saturating_duration_since(*t) < c)
        });
        let armed = self.arming.remaining(now).is_some();
        if !backed_out && !busy {
            self.busy.insert(target.id.clone(), ticket);
        }
        let cancel = CancellationToken::new();
        self.outbox.push(Request {
            ticket,
            def: def.clone(),
            pinned: target.clone(),
            shown_preview: preview.clone(),
            confirmation,
            form,
            planned_at,
            session: SessionFacts { read_only, armed, busy, cooling_down, backed_out },
            operator: self.operator.clone(),
            session_id: self.session_id,
            cancel: cancel.clone(),
        });
        if !backed_out {
            self.runs.push(Run {
                ticket,
                def,
                target,
                preview,
                started: now,
                ended: None,
                status: RunStatus::Checking,
                lines: VecDeque::new(),
                dropped: 0,
                audit_id: None,
                cancel,
            });
            // A session's history is for the run view, not an archive: the trail has it all.
            if self.runs.len() > 50 {
                self.runs.remove(0);
            }
        }
        ticket
    }

    /// Fold an executor event in.
    pub fn apply(&mut self, now: Instant, ev: Event) {
        let ticket = match &ev {
            Event::Line { ticket, .. } | Event::Started { ticket, .. } | Event::Ended { ticket, .. } => {
                *ticket
            }
        };
        let Some(run) = self.runs.iter_mut().find(|r| r.ticket == ticket) else { return };
        match ev {
            Event::Line { stream, line, .. } => {
                if run.lines.len() == RUN_LINES {
                    run.lines.pop_front();
                    run.dropped += 1;
                }
                run.lines.push_back((stream, line));
            }
            Event::Started { audit_id, preview, .. } => {
                run.status = RunStatus::Running;
                run.audit_id = Some(audit_id);
                run.preview = preview;
            }
            Event::Ended { guard, result, audit_id, .. } => {
                run.ended = Some(now);
                run.audit_id = audit_id.or(run.audit_id);
                run.status = match result {
                    Ok(outcome) => RunStatus::Finished(outcome),
                    Err(why) => RunStatus::Refused(guard, why),
                };
                if self.busy.get(&run.target.id) == Some(&ticket) {
                    self.busy.remove(&run.target.id);
                }
                if matches!(run.status, RunStatus::Finished(_)) {
                    self.last_ended.insert((run.def.name.clone(), run.target.id.clone()), now);
                }
            }
        }
    }

    /// The runs still checking or running.
    pub fn active_runs(&self) -> impl Iterator<Item = &Run> {
        self.runs.iter().filter(|r| r.active())
    }

    /// A run by ticket.
    pub fn run(&self, ticket: u64) -> Option<&Run> {
        self.runs.iter().find(|r| r.ticket == ticket)
    }

    /// Cancel every active run (opsdeck is quitting).
    pub fn cancel_all(&self) {
        for r in self.active_runs() {
            r.cancel.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn pipeline() -> Pipeline {
        let mut c = Config::default();
        c.maintenance.flag_file = Some("/tmp/none".into());
        let op = Operator::from_lookup("h", |_| None);
        Pipeline::new(crate::ops::catalog::all(&c), Duration::from_secs(900), op)
    }

    #[test]
    fn a_second_attempt_on_a_busy_target_is_marked_busy_until_the_first_ends() {
        let mut p = pipeline();
        let now = Instant::now();
        let def = p.action("maintenance_off").unwrap();
        let target = Target::node("h", None, None);
        let sub =
            |def: &Arc<ActionDef>, t: &Target| Submission::simple(def.clone(), t.clone(), "x", "y", false);
        let first = p.submit(now, false, sub(&def, &target));
        p.submit(now, false, sub(&def, &target));
        let reqs = p.take_requests();
        assert_eq!(reqs.iter().map(|r| r.session.busy).collect::<Vec<_>>(), [false, true]);
        let ended = |ticket| Event::Ended {
            ticket,
            guard: Guard::Cancelled,
            result: Err("x".into()),
            audit_id: None,
        };
        p.apply(now, ended(first + 1)); // the refused second must not free the target
        p.submit(now, false, sub(&def, &target));
        assert!(p.take_requests()[0].session.busy);
        p.apply(now, ended(first));
        p.submit(now, false, sub(&def, &target));
        assert!(!p.take_requests()[0].session.busy);
    }

    #[test]
    fn a_cooldown_counts_from_the_end_of_a_finished_run_on_that_target() {
        let mut p = pipeline();
        let t0 = Instant::now();
        let mut def = (*p.action("maintenance_off").unwrap()).clone();
        def.cooldown = Some(Duration::from_secs(60));
        let def = Arc::new(def);
        let (db1, db2) = (Target::node("db1", None, None), Target::node("db2", None, None));
        let ticket = p.submit(t0, false, Submission::simple(def.clone(), db1.clone(), "x", "y", false));
        let outcome = Outcome {
            ending: crate::ops::run::Ending::Done,
            duration: Duration::ZERO,
            excerpt: String::new(),
            excerpt_truncated: false,
        };
        p.apply(t0, Event::Ended { ticket, guard: Guard::Confirmed, result: Ok(outcome), audit_id: Some(1) });
        p.take_requests();
        let at = |p: &mut Pipeline, secs, target: &Target| {
            let now = t0 + Duration::from_secs(secs);
            p.submit(now, false, Submission::simple(def.clone(), target.clone(), "x", "y", false));
            let cooling = p.take_requests()[0].session.cooling_down;
            // Free the target again for the next probe.
            let last = p.runs.last().map(|r| r.ticket).unwrap_or_default();
            p.apply(
                now,
                Event::Ended {
                    ticket: last,
                    guard: Guard::RefusedCooldown,
                    result: Err("x".into()),
                    audit_id: None,
                },
            );
            cooling
        };
        assert!(at(&mut p, 30, &db1), "within the cooldown on the same target");
        assert!(!at(&mut p, 30, &db2), "another target is not cooling down");
        assert!(!at(&mut p, 61, &db1), "after the cooldown");
    }

    #[test]
    fn arming_shows_and_expires_and_read_only_cannot_arm() {
        let mut config = Config::default();
        config.guard.arm_window = Duration::from_secs(2);
        let t0 = Instant::now();
        let theme = crate::theme::Theme::load("mono", None, false).unwrap();
        let mut state = crate::app::AppState::new(config.clone(), None, theme.clone(), "h".into(), t0);
        state.apply(crate::action::Action::ToggleArm);
        assert!(state.pipeline.arming.remaining(t0).is_some());
        state.now = t0 + Duration::from_secs(3);
        state.tick();
        assert!(state.pipeline.arming.remaining(state.now).is_none());
        assert_eq!(state.current_notice(), Some("disarmed: the arming window ended"));

        config.read_only = true;
        let mut state = crate::app::AppState::new(config, None, theme, "h".into(), t0);
        state.apply(crate::action::Action::ToggleArm);
        assert!(state.pipeline.arming.remaining(t0).is_none());
        assert_eq!(state.current_notice(), Some("read-only mode: the session cannot be armed"));
    }
}
