//! The confirmation dialog for one action on one pinned target: its fields,
//! what it asks for (name, reason, the override word) and why confirming is
//! not possible yet. Its keys are in `modal`.

use std::sync::Arc;

use crate::ops::audit::CheckedCondition;
use crate::ops::catalog::ActionDef;
use crate::ops::guard::{OVERRIDE_WORD, Tier};
use crate::ops::target::Target;

/// Which text field of the dialog has the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The target's name.
    Name,
    /// One of the action's form fields.
    Form(usize),
    /// `override`, typed to run despite overridable failing preconditions.
    Override,
    /// The reason (or comment).
    Reason,
}

/// The confirmation dialog for one action on one pinned target.
#[derive(Debug, Clone)]
pub struct Dialog {
    /// The action.
    pub def: Arc<ActionDef>,
    /// The target as pinned.
    pub pinned: Target,
    /// The target as the latest data shows it; `None` once it is gone.
    pub live: Option<Target>,
    /// What will run, from the live target.
    pub preview: Result<String, String>,
    /// Preconditions against the live target.
    pub checks: Vec<CheckedCondition>,
    /// Typed name.
    pub name: String,
    /// Typed reason.
    pub reason: String,
    /// Typed override word (`OVERRIDE_WORD` to override).
    pub override_word: String,
    /// The action's own fields (a silence's duration and matchers), editable.
    pub form: Vec<(String, String)>,
    /// Focused field.
    pub focus: Field,
    /// Why the last Enter did not go through.
    pub error: Option<String>,
}

impl Dialog {
    /// Whether the dialog asks for the target's name.
    pub fn wants_name(&self) -> bool {
        matches!(self.def.guard, Tier::TypeName | Tier::TypeNameReason)
    }

    /// Whether the dialog asks for a reason (the tier, or an override).
    pub fn wants_reason(&self) -> bool {
        self.def.guard == Tier::TypeNameReason || self.def.needs_reason || self.can_override()
    }

    /// The fields in focus order.
    pub fn fields(&self) -> Vec<Field> {
        let mut out = Vec::new();
        if self.wants_name() {
            out.push(Field::Name);
        }
        out.extend((0..self.form.len()).map(Field::Form));
        if self.can_override() {
            out.push(Field::Override);
        }
        if self.wants_reason() {
            out.push(Field::Reason);
        }
        out
    }

    /// The form as the plan reads it.
    pub fn form_map(&self) -> std::collections::BTreeMap<String, String> {
        self.form.iter().cloned().collect()
    }

    /// A precondition fails and the action lets every failing one be overridden.
    pub fn can_override(&self) -> bool {
        self.checks.iter().any(|c| !c.passed) && self.def.may_override(&self.checks)
    }

    /// The operator typed the override word where an override is possible.
    pub fn overriding(&self) -> bool {
        self.can_override() && self.override_word.trim() == OVERRIDE_WORD
    }

    /// Why confirming is not possible now, if it is not.
    pub fn blocked(&self) -> Option<String> {
        if self.live.is_none() {
            return Some(format!("{} is gone", self.pinned.name));
        }
        if let Err(e) = &self.preview {
            return Some(e.clone());
        }
        let failing = self.checks.iter().filter(|c| !c.passed).count();
        if failing > 0 && !self.def.may_override(&self.checks) {
            return Some(format!("{failing} precondition(s) fail"));
        }
        if failing > 0 && !self.overriding() {
            return Some(format!(
                "{failing} precondition(s) fail: type {OVERRIDE_WORD} to run anyway, with a reason"
            ));
        }
        None
    }
}
