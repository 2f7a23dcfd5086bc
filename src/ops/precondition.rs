//! Preconditions: `field op literal` over a target's live fields, such as
//! `lag_seconds < 60`, `role == "standby"`, `state != "running"`. Parsed when
//! the config is read (a bad one is a config error with its position) and
//! evaluated while the dialog is open and again just before execution.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

use super::audit::CheckedCondition;

/// A live value of a target's field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// A number (lags, ages, counts, percentages).
    Number(f64),
    /// Text (roles, states, names).
    Text(String),
    /// A flag.
    Bool(bool),
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Number(n) => write!(f, "{n}"),
            FieldValue::Text(s) => write!(f, "{s:?}"),
            FieldValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

const OPS: [(&str, Op); 6] =
    [("<=", Op::Le), (">=", Op::Ge), ("==", Op::Eq), ("!=", Op::Ne), ("<", Op::Lt), (">", Op::Gt)];

/// One parsed precondition.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub struct Condition {
    text: String,
    field: String,
    op: Op,
    literal: FieldValue,
}

impl FromStr for Condition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let (at, sym, op) = OPS
            .iter()
            .filter_map(|(sym, op)| text.find(sym).map(|at| (at, *sym, *op)))
            .min_by_key(|(at, sym, _)| (*at, std::cmp::Reverse(sym.len())))
            .ok_or_else(|| {
                format!("precondition {s:?}: expected `field OP value` with OP one of < <= > >= == !=")
            })?;
        let field = text[..at].trim();
        let raw = text[at + sym.len()..].trim();
        if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("precondition {s:?}: {field:?} is not a field name (letters, digits, _)"));
        }
        let literal = if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            FieldValue::Text(inner.to_owned())
        } else if raw == "true" || raw == "false" {
            FieldValue::Bool(raw == "true")
        } else if let Ok(n) = raw.parse::<f64>() {
            FieldValue::Number(n)
        } else {
            return Err(format!(
                "precondition {s:?}: {raw:?} is not a number, true/false, or a \"quoted string\""
            ));
        };
        if !matches!(literal, FieldValue::Number(_)) && !matches!(op, Op::Eq | Op::Ne) {
            return Err(format!("precondition {s:?}: only numbers can be ordered; use == or != here"));
        }
        Ok(Condition { text: text.to_owned(), field: field.to_owned(), op, literal })
    }
}

impl TryFrom<String> for Condition {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl Condition {
    /// The condition as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluate against a target's live fields. A missing field or a value
    /// of another type fails: a precondition that cannot be checked holds nothing.
    pub fn check(&self, fields: &BTreeMap<String, FieldValue>) -> CheckedCondition {
        let (value, passed) = match fields.get(&self.field) {
            None => ("no such field".to_owned(), false),
            Some(v) => (v.to_string(), self.holds(v)),
        };
        CheckedCondition { expr: self.text.clone(), value, passed }
    }

    fn holds(&self, value: &FieldValue) -> bool {
        match (value, &self.literal) {
            (FieldValue::Number(v), FieldValue::Number(l)) => match self.op {
                Op::Lt => v < l,
                Op::Le => v <= l,
                Op::Gt => v > l,
                Op::Ge => v >= l,
                Op::Eq => v == l,
                Op::Ne => v != l,
            },
            (FieldValue::Text(_), FieldValue::Text(_)) | (FieldValue::Bool(_), FieldValue::Bool(_)) => {
                (value == &self.literal) == (self.op == Op::Eq)
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> BTreeMap<String, FieldValue> {
        BTreeMap::from([
            ("lag_seconds".to_owned(), FieldValue::Number(12.0)),
            ("role".to_owned(), FieldValue::Text("standby".into())),
            ("paused".to_owned(), FieldValue::Bool(false)),
        ])
    }

    #[test]
    fn evaluates_against_live_fields() {
        let table = [
            ("lag_seconds < 60", true, "12"),
            ("lag_seconds >= 60", false, "12"),
            ("lag_seconds<=12", true, "12"),
            ("role == \"standby\"", true, "\"standby\""),
            ("role != \"standby\"", false, "\"standby\""),
            ("paused == false", true, "false"),
            ("role == 1", false, "\"standby\""), // wrong type never holds
            ("slots_used < 3", false, "no such field"),
        ];
        for (text, want, value) in table {
            let c: Condition = text.parse().unwrap_or_else(|e| panic!("{e}"));
            let checked = c.check(&fields());
            assert_eq!((checked.passed, checked.value.as_str()), (want, value), "{text}");
            assert_eq!(checked.expr, text);
        }
    }

    #[test]
    fn rejects_what_it_cannot_evaluate() {
        for (text, why) in [
            ("lag_seconds", "expected `field OP value`"),
            ("lag seconds < 3", "not a field name"),
            ("role == standby", "not a number"),
            ("role < \"b\"", "only numbers can be ordered"),
            ("< 3", "not a field name"),
        ] {
            let err = text.parse::<Condition>().unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
