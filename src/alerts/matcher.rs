//! The Alerts tab's filter line: Alertmanager-style label matchers
//! (`severity=critical`, `job!=node`, `instance=~"web-\d+"`, `env!~dev|test`)
//! mixed with free-text words. Every term must hold.
//!
//! Semantics follow Alertmanager so a filter copied from a silence or an
//! amtool command means the same thing here: regexes are fully anchored
//! (`^(?:re)$`), and a label the alert lacks matches as the empty string
//! (`team=""` finds alerts without a team, `team!=""` those with one).

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;

use super::model::Alert;

/// How a matcher compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`: equal.
    Eq,
    /// `!=`: not equal.
    NotEq,
    /// `=~`: the whole value matches the regex.
    Re,
    /// `!~`: the whole value does not match the regex.
    NotRe,
}

impl MatchOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::NotEq => "!=",
            MatchOp::Re => "=~",
            MatchOp::NotRe => "!~",
        }
    }
}

/// One label matcher.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// The label name.
    pub name: String,
    /// The comparison.
    pub op: MatchOp,
    /// The value or regex as written (quotes and escapes removed).
    pub value: String,
    /// The anchored regex for `=~` and `!~`.
    re: Option<Regex>,
}

impl Matcher {
    /// A matcher from its parts; fails only on a bad regex.
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Matcher, String> {
        let re = match op {
            MatchOp::Re | MatchOp::NotRe => Some(
                Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| format!("bad regex in matcher {name}{}{value:?}: {e}", op.as_str()))?,
            ),
            MatchOp::Eq | MatchOp::NotEq => None,
        };
        Ok(Matcher { name: name.to_owned(), op, value: value.to_owned(), re })
    }

    /// Does a label set match? A missing label is the empty string.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let v = labels.get(&self.name).map_or("", String::as_str);
        match (self.op, &self.re) {
            (MatchOp::Eq, _) => v == self.value,
            (MatchOp::NotEq, _) => v != self.value,
            (MatchOp::Re, Some(re)) => re.is_match(v),
            (MatchOp::NotRe, Some(re)) => !re.is_match(v),
            // `new` always builds the regex for the regex operators.
            (MatchOp::Re | MatchOp::NotRe, None) => false,
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op.as_str(), self.value)
    }
}

/// A filter line that does not parse; the UI shows `message` and can place
/// the cursor at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// Byte offset of the offending term in the filter text.
    pub at: usize,
    /// What is wrong, naming the term.
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FilterError {}

/// A parsed filter line. The default filter matches everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    matchers: Vec<Matcher>,
    /// Case-insensitive literal regexes: Unicode-aware case folding without
    /// lower-casing (and so allocating) every field of every alert.
    words: Vec<Regex>,
}

impl Filter {
    /// Parse whitespace-separated terms. A term that starts with a label name
    /// and an operator is a matcher (and its errors are reported); anything
    /// else is a free-text word. `"two words"` in quotes is one phrase.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let mut filter = Filter::default();
        for (at, term) in terms(text).map_err(|message| FilterError { at: text.len(), message })? {
            let err = |message| FilterError { at, message };
            match split_matcher(term) {
                Some((name, op, raw)) => {
                    let value = unquote(raw).map_err(|e| err(format!("matcher {term}: {e}")))?;
                    filter.matchers.push(Matcher::new(name, op, &value).map_err(err)?);
                }
                None => {
                    let word = unquote(term).map_err(|e| err(format!("{term}: {e}")))?;
                    if word.is_empty() {
                        continue;
                    }
                    let re = Regex::new(&format!("(?i){}", regex::escape(&word)))
                        .map_err(|e| err(format!("{term}: {e}")))?;
                    filter.words.push(re);
                }
            }
        }
        Ok(filter)
    }

    /// Matches everything.
    pub fn is_empty(&self) -> bool {
        self.matchers.is_empty() && self.words.is_empty()
    }

    /// How many free-text words (terms that are not matchers) it has.
    pub fn word_count(&self) -> usize {
        self.words.len()
    }

    /// The label matchers.
    pub fn matchers(&self) -> &[Matcher] {
        &self.matchers
    }

    /// Does the alert pass every term? Words look at the name, every label
    /// value and every annotation value (so also the headline).
    pub fn matches(&self, alert: &Alert) -> bool {
        self.matches_with(alert, &mut String::new())
    }

    /// `matches` with a scratch buffer, so filtering many alerts allocates once.
    pub fn matches_with(&self, alert: &Alert, scratch: &mut String) -> bool {
        if !self.matchers.iter().all(|m| m.matches(&alert.labels)) {
            return false;
        }
        if self.words.is_empty() {
            return true;
        }
        // One search per word over all fields at once rather than one per
        // field: a regex call's fixed cost dominates on short label values.
        // NUL separates fields, so a phrase cannot match across two.
        scratch.clear();
        scratch.push_str(&alert.name);
        for v in alert.labels.values().chain(alert.annotations.values()) {
            scratch.push('\0');
            scratch.push_str(v);
        }
        self.words.iter().all(|w| w.is_match(scratch))
    }
}

/// Split on whitespace outside double quotes; each term with its byte offset.
fn terms(text: &str) -> Result<Vec<(usize, &str)>, String> {
    let mut out = Vec::new();
    let mut start = None;
    let (mut quoted, mut escaped) = (false, false);
    for (i, c) in text.char_indices() {
        if start.is_none() {
            if c.is_whitespace() {
                continue;
            }
            start = Some(i);
        }
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c.is_whitespace()
            && !quoted
            && let Some(s) = start.take()
        {
            out.push((s, &text[s..i]));
        }
    }
    if quoted {
        return Err("missing closing quote".to_owned());
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    Ok(out)
}

/// `name`, operator, raw value, when the term is a matcher.
fn split_matcher(term: &str) -> Option<(&str, MatchOp, &str)> {
    let name_len = term
        .char_indices()
        .find(|&(i, c)| !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(term.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let (name, rest) = term.split_at(name_len);
    let ops = [("!=", MatchOp::NotEq), ("!~", MatchOp::NotRe), ("=~", MatchOp::Re), ("=", MatchOp::Eq)];
    ops.iter().find_map(|(s, op)| rest.strip_prefix(s).map(|v| (name, *op, v)))
}

/// A value as written: bare, or in double quotes with `\"` and `\\`
/// escapes. Other backslashes stay, so `"web-\d+"` is the regex it looks like.
fn unquote(raw: &str) -> Result<String, String> {
    let Some(inner) = raw.strip_prefix('"') else {
        return Ok(raw.to_owned());
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => out.push(e),
                Some(e) => {
                    out.push('\\');
                    out.push(e);
                }
                None => return Err("missing closing quote".to_owned()),
            },
            '"' if chars.as_str().is_empty() => return Ok(out),
            '"' => return Err(format!("unexpected text after the closing quote: {}", chars.as_str())),
            c => out.push(c),
        }
    }
    Err("missing closing quote".to_owned())
}

#[cfg(test)]
mod tests {
    use super::super::model::{AlertState, Severity, SourceKind};
    use super::*;

    fn alert(labels: &[(&str, &str)], summary: &str) -> Alert {
        let labels: BTreeMap<String, String> =
            labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Alert {
            source: "am".into(),
            source_kind: SourceKind::Alertmanager,
            fingerprint: super::super::model::fingerprint(&labels),
            name: labels.get("alertname").cloned().unwrap_or_default(),
            severity: Severity::Unknown,
            state: AlertState::Firing,
            annotations: BTreeMap::from([("summary".to_owned(), summary.to_owned())]).into(),
            labels: labels.into(),
            starts_at: None,
            ends_at: None,
            value: None,
            generator_url: None,
            silenced_by: vec![],
            inhibited_by: vec![],
            seen_by: vec!["am".into()],
        }
    }

    fn passes(filter: &str, a: &Alert) -> bool {
        Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}")).matches(a)
    }

    #[test]
    fn the_four_operators() {
        let a = alert(&[("alertname", "DiskFull"), ("instance", "web-12"), ("env", "prod")], "");
        assert!(passes("env=prod", &a));
        assert!(!passes("env!=prod", &a));
        assert!(passes("instance=~web-\\d+", &a));
        assert!(passes(r#"instance=~"web-\d+""#, &a));
        assert!(!passes("env!~prod|staging", &a));
        assert!(passes("env!~dev|test", &a));
        assert!(passes("alertname=DiskFull env=prod", &a));
        assert!(!passes("alertname=DiskFull env=dev", &a));
    }

    #[test]
    fn regexes_are_anchored_like_alertmanager() {
        let a = alert(&[("instance", "web-12")], "");
        assert!(!passes("instance=~web", &a));
        assert!(!passes("instance=~12", &a));
        assert!(passes("instance=~web.*", &a));
        // The anchor wraps alternations too: `a|b` is `^(?:a|b)$`.
        assert!(!passes("instance=~x|web", &a));
    }

    #[test]
    fn a_missing_label_is_the_empty_string() {
        let a = alert(&[("alertname", "X")], "");
        assert!(passes(r#"team="""#, &a));
        assert!(passes("team=", &a));
        assert!(!passes(r#"team!="""#, &a));
        assert!(passes("team=~.*", &a));
        assert!(!passes("team=~.+", &a));
        assert!(passes("team!=db", &a));
    }

    #[test]
    fn quoted_values_keep_spaces_and_escapes() {
        let a = alert(&[("msg", r#"say "hi" there"#)], "");
        assert!(passes(r#"msg="say \"hi\" there""#, &a));
        let f = Filter::parse(r#"msg="a \\ b""#).unwrap();
        assert_eq!(f.matchers()[0].value, r"a \ b");
    }

    #[test]
    fn free_text_is_case_insensitive_over_name_labels_and_annotations() {
        let a = alert(&[("alertname", "HighCpu"), ("instance", "DB-1")], "CPU at 93% on db-1");
        assert!(passes("highcpu", &a));
        assert!(passes("db-1", &a));
        assert!(passes("93%", &a));
        assert!(passes("cpu DB", &a));
        assert!(!passes("cpu memory", &a));
        assert!(passes(r#""at 93%""#, &a));
        // Regex metacharacters in words are literal.
        assert!(!passes("c.u", &a));
        let zh = alert(&[("alertname", "磁盘满")], "磁盘使用率 95%");
        assert!(passes("磁盘", &zh));
    }

    #[test]
    fn an_empty_filter_matches_everything() {
        let f = Filter::parse("   ").unwrap();
        assert!(f.is_empty());
        assert!(f.matches(&alert(&[], "")));
    }

    #[test]
    fn errors_name_the_term() {
        let e = Filter::parse("env=prod job=~(api").unwrap_err();
        assert_eq!(e.at, 9);
        assert!(e.message.starts_with(r#"bad regex in matcher job=~"(api""#), "{}", e.message);
        let e = Filter::parse(r#"job="api"#).unwrap_err();
        assert!(e.message.contains("missing closing quote"), "{}", e.message);
        let e = Filter::parse(r#"job="api"x"#).unwrap_err();
        assert!(e.message.contains("after the closing quote"), "{}", e.message);
    }

    #[test]
    fn terms_that_are_not_matchers_are_words() {
        for t in ["http://x", "=x", "9a=b", "disk"] {
            let f = Filter::parse(t).unwrap();
            assert!(f.matchers().is_empty(), "{t}");
        }
        assert_eq!(Filter::parse("_a9=b").unwrap().matchers()[0].name, "_a9");
    }
}
