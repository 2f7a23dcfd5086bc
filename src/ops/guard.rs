//! The guard: arming, confirmation tiers, and the one decision every action
//! passes through just before it runs. Pure logic, so each refusal path is
//! tested without a terminal or a process.

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::audit::{CheckedCondition, Guard};

/// How much the operator must type to confirm an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// y/N, with the focus on No.
    #[default]
    Confirm,
    /// Type the target's name.
    TypeName,
    /// Type the target's name and a reason.
    TypeNameReason,
}

/// What the operator typed in the confirmation dialog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confirmation {
    /// "y" for `Confirm`, the target's name for the typed tiers.
    pub typed: String,
    /// Free text; required by `TypeNameReason` and by any override.
    pub reason: String,
    /// The operator asked to run despite failing preconditions (typed
    /// `OVERRIDE_WORD`): a reason alone never overrides, since some tiers ask
    /// for one anyway.
    pub overriding: bool,
}

/// What the operator types to override failing preconditions.
pub const OVERRIDE_WORD: &str = "override";

impl Tier {
    /// Whether `c` satisfies this tier for a target called `target_name`.
    /// Names must match exactly: no trimming, no case folding.
    pub fn satisfied_by(self, c: &Confirmation, target_name: &str) -> bool {
        match self {
            Tier::Confirm => c.typed == "y" || c.typed == "Y",
            Tier::TypeName => c.typed == target_name,
            Tier::TypeNameReason => c.typed == target_name && !c.reason.trim().is_empty(),
        }
    }
}

/// The armed window. Mutating actions need it; read-only mode forbids it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Arming {
    until: Option<Instant>,
}

impl Arming {
    /// Arm for `window` from `now`; refused in read-only mode.
    pub fn arm(&mut self, now: Instant, window: Duration, read_only: bool) -> Result<(), &'static str> {
        if read_only {
            return Err("read-only mode: the session cannot be armed");
        }
        // The config bounds the window (24 h); checked all the same, as an
        // `Instant` past the clock's range would panic rather than arm.
        self.until = Some(now.checked_add(window).ok_or("the arm window is too long for this clock")?);
        Ok(())
    }

    /// Disarm at once.
    pub fn disarm(&mut self) {
        self.until = None;
    }

    /// Time left, `None` when not armed (it disarms itself when the window ends).
    pub fn remaining(&self, now: Instant) -> Option<Duration> {
        self.until.and_then(|u| u.checked_duration_since(now)).filter(|d| !d.is_zero())
    }
}

/// The facts the guard decides on, gathered just before execution.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The action changes something (a verify that changes nothing does not).
    pub mutating: bool,
    /// `--read-only` or `read_only = true`.
    pub read_only: bool,
    /// The session is armed now.
    pub armed: bool,
    /// The pinned target is still there with the same identity.
    pub target_unchanged: bool,
    /// Another action is running on this target.
    pub busy: bool,
    /// This action ran on this target less than its cooldown ago.
    pub cooling_down: bool,
    /// The preconditions, evaluated now.
    pub checks: &'a [CheckedCondition],
    /// The action lets a failed precondition be overridden with a reason.
    pub overridable: bool,
    /// The operator's confirmation.
    pub confirmation: &'a Confirmation,
    /// The action's tier and the target's name.
    pub tier: Tier,
    /// The pinned target's name.
    pub target_name: &'a str,
}

/// The guard's verdict: run (noting whether a precondition was overridden),
/// or the refusal to audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead.
    Run {
        /// A failed precondition was overridden with a reason.
        overridden: bool,
    },
    /// Do not run; audit this.
    Refuse(Guard),
}

/// Decide. The order matters and is the order an operator would want the
/// reason in: a vanished target first, then mode, arming, business, cooldown, the
/// confirmation, and last the preconditions (the only overridable check).
pub fn decide(f: &Facts<'_>) -> Verdict {
    if !f.target_unchanged {
        return Verdict::Refuse(Guard::AbortedTargetChanged);
    }
    if f.mutating && f.read_only {
        return Verdict::Refuse(Guard::RefusedReadOnly);
    }
    if f.mutating && !f.armed {
        return Verdict::Refuse(Guard::RefusedUnarmed);
    }
    if f.busy {
        return Verdict::Refuse(Guard::RefusedBusy);
    }
    if f.cooling_down {
        return Verdict::Refuse(Guard::RefusedCooldown);
    }
    if !f.tier.satisfied_by(f.confirmation, f.target_name) {
        return Verdict::Refuse(Guard::Cancelled);
    }
    let failed = f.checks.iter().any(|c| !c.passed);
    let may_override = f.overridable && f.confirmation.overriding && !f.confirmation.reason.trim().is_empty();
    if failed && !may_override {
        return Verdict::Refuse(Guard::RefusedPrecondition);
    }
    Verdict::Run { overridden: failed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(passed: bool) -> CheckedCondition {
        CheckedCondition { expr: "lag_seconds < 60".into(), value: "12".into(), passed }
    }

    fn facts<'a>(checks: &'a [CheckedCondition], confirmation: &'a Confirmation) -> Facts<'a> {
        Facts {
            mutating: true,
            read_only: false,
            armed: true,
            target_unchanged: true,
            busy: false,
            cooling_down: false,
            checks,
            overridable: false,
            confirmation,
            tier: Tier::TypeName,
            target_name: "db2",
        }
    }

    #[test]
    fn each_refusal_in_its_order() {
        let ok = [check(true)];
        let bad = [check(false)];
        let named = Confirmation { typed: "db2".into(), ..Confirmation::default() };
        let with_reason =
            Confirmation { typed: "db2".into(), reason: "primary is gone".into(), overriding: true };
        let wrong = Confirmation { typed: "db1".into(), ..Confirmation::default() };
        let run = |overridden| Verdict::Run { overridden };
        let cases: Vec<(&str, Facts, Verdict)> = vec![
            ("all good", facts(&ok, &named), run(false)),
            (
                "target changed",
                Facts { target_unchanged: false, read_only: true, ..facts(&ok, &named) },
                Verdict::Refuse(Guard::AbortedTargetChanged),
            ),
            (
                "read-only",
                Facts { read_only: true, ..facts(&ok, &named) },
                Verdict::Refuse(Guard::RefusedReadOnly),
            ),
            (
                "read-only, non-mutating",
                Facts { read_only: true, mutating: false, armed: false, ..facts(&ok, &named) },
                run(false),
            ),
            ("unarmed", Facts { armed: false, ..facts(&ok, &named) }, Verdict::Refuse(Guard::RefusedUnarmed)),
            ("busy", Facts { busy: true, ..facts(&ok, &named) }, Verdict::Refuse(Guard::RefusedBusy)),
            (
                "cooldown",
                Facts { cooling_down: true, ..facts(&ok, &named) },
                Verdict::Refuse(Guard::RefusedCooldown),
            ),
            ("wrong name", facts(&ok, &wrong), Verdict::Refuse(Guard::Cancelled)),
            ("precondition", facts(&bad, &named), Verdict::Refuse(Guard::RefusedPrecondition)),
            ("not overridable", facts(&bad, &with_reason), Verdict::Refuse(Guard::RefusedPrecondition)),
            (
                "override needs a reason",
                Facts { overridable: true, ..facts(&bad, &named) },
                Verdict::Refuse(Guard::RefusedPrecondition),
            ),
            ("override with reason", Facts { overridable: true, ..facts(&bad, &with_reason) }, run(true)),
        ];
        for (name, f, want) in cases {
            assert_eq!(decide(&f), want, "{name}");
        }
    }

    #[test]
    fn tiers() {
        let c = |typed: &str, reason: &str| Confirmation {
            typed: typed.into(),
            reason: reason.into(),
            overriding: false,
        };
        assert!(Tier::Confirm.satisfied_by(&c("y", ""), "db2"));
        assert!(!Tier::Confirm.satisfied_by(&c("", ""), "db2"), "the default answer is No");
        assert!(Tier::TypeName.satisfied_by(&c("db2", ""), "db2"));
        assert!(!Tier::TypeName.satisfied_by(&c("DB2", ""), "db2"));
        assert!(!Tier::TypeName.satisfied_by(&c("db2 ", ""), "db2"));
        assert!(!Tier::TypeNameReason.satisfied_by(&c("db2", "  "), "db2"));
        assert!(Tier::TypeNameReason.satisfied_by(&c("db2", "drill"), "db2"));
    }

    #[test]
    fn arming_expires_and_read_only_cannot_arm() {
        let t0 = Instant::now();
        let mut a = Arming::default();
        assert_eq!(a.remaining(t0), None);
        assert!(a.arm(t0, Duration::from_secs(900), true).is_err());
        assert_eq!(a.remaining(t0), None);
        a.arm(t0, Duration::from_secs(900), false).unwrap();
        assert_eq!(a.remaining(t0 + Duration::from_secs(60)), Some(Duration::from_secs(840)));
        assert_eq!(a.remaining(t0 + Duration::from_secs(900)), None, "disarms itself at the end");
        a.disarm();
        assert_eq!(a.remaining(t0), None);
    }

    #[test]
    fn a_window_past_the_clock_is_refused_not_a_panic() {
        let t0 = Instant::now();
        let mut a = Arming::default();
        assert!(a.arm(t0, Duration::MAX, false).is_err());
        assert_eq!(a.remaining(t0), None, "not armed");
        let longest = crate::config::duration::ARM_WINDOW.max;
        a.arm(t0, longest, false).unwrap();
        assert_eq!(a.remaining(t0), Some(longest));
    }
}
