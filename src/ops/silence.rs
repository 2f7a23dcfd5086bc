//! The silence form: duration presets and matchers prefilled from the alert's
//! labels, editable in Alertmanager's own syntax, turned into the exact
//! request body the preview shows and the executor sends.

use std::collections::BTreeMap;

use crate::alerts::matcher::{Filter, MatchOp};
use crate::alerts::model::Alert;
use crate::sources::alertmanager::{NewSilence, SilenceMatcher};

/// The duration presets, cycled with Left/Right on the duration field.
pub const PRESETS: [&str; 3] = ["1h", "4h", "1d"];

/// Form keys.
pub const DURATION: &str = "duration";
/// Form keys.
pub const MATCHERS: &str = "matchers";

/// The form's first values for `alert`: one hour, and an equality matcher for
/// every label (what karma and amtool prefill too).
pub fn prefill(alert: &Alert) -> Vec<(String, String)> {
    let matchers: Vec<String> = alert.labels.iter().map(|(k, v)| format!("{k}={}", quoted(v))).collect();
    vec![(DURATION.into(), PRESETS[0].into()), (MATCHERS.into(), matchers.join(" "))]
}

fn quoted(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The next (or previous) preset after `current`.
pub fn cycle(current: &str, forward: bool) -> String {
    let at = PRESETS.iter().position(|p| *p == current);
    let n = PRESETS.len();
    let next = match (at, forward) {
        (Some(i), true) => (i + 1) % n,
        (Some(i), false) => (i + n - 1) % n,
        (None, _) => 0,
    };
    PRESETS[next].to_owned()
}

/// `name="value"` as the form shows a matcher.
pub fn matcher_text(m: &SilenceMatcher) -> String {
    let op = match (m.is_equal, m.is_regex) {
        (true, false) => "=",
        (false, false) => "!=",
        (true, true) => "=~",
        (false, true) => "!~",
    };
    format!("{}{op}{}", m.name, quoted(&m.value))
}

/// Parse the matchers field: every term must be a matcher.
pub fn parse_matchers(text: &str) -> Result<Vec<SilenceMatcher>, String> {
    let filter = Filter::parse(text).map_err(|e| format!("matchers: {e}"))?;
    if filter.word_count() > 0 {
        return Err("matchers: every term must be name=value, name!=value, name=~regex or name!~regex".into());
    }
    if filter.matchers().is_empty() {
        return Err("matchers: a silence needs at least one matcher".into());
    }
    Ok(filter
        .matchers()
        .iter()
        .map(|m| SilenceMatcher {
            name: m.name.clone(),
            value: m.value.clone(),
            is_regex: matches!(m.op, MatchOp::Re | MatchOp::NotRe),
            is_equal: matches!(m.op, MatchOp::Eq | MatchOp::Re),
        })
        .collect())
}

/// The silence the form describes, starting `at`.
pub fn build(
    form: &BTreeMap<String, String>,
    who: &str,
    comment: &str,
    at: jiff::Timestamp,
) -> Result<NewSilence, String> {
    let duration_text = form.get(DURATION).map(String::as_str).unwrap_or("");
    let duration = humantime::parse_duration(duration_text.trim())
        .map_err(|e| format!("duration {duration_text:?}: {e} (e.g. 1h, 4h, 1d, 90m)"))?;
    if duration.is_zero() {
        return Err("duration: a silence must last longer than zero".into());
    }
    let span = jiff::SignedDuration::try_from(duration).map_err(|e| format!("duration: {e}"))?;
    // Whole seconds: easier to read in the preview, and Alertmanager keeps milliseconds anyway.
    let at = at.round(jiff::Unit::Second).unwrap_or(at);
    let ends_at = at.checked_add(span).map_err(|e| format!("duration: {e}"))?;
    Ok(NewSilence {
        matchers: parse_matchers(form.get(MATCHERS).map(String::as_str).unwrap_or(""))?,
        starts_at: at,
        ends_at,
        created_by: who.to_owned(),
        comment: comment.trim().to_owned(),
    })
}

/// How many alerts in `alerts` the matchers would silence now.
pub fn would_silence<'a>(matchers: &[SilenceMatcher], alerts: impl Iterator<Item = &'a Alert>) -> usize {
    let built: Vec<crate::alerts::matcher::Matcher> = matchers
        .iter()
        .filter_map(|m| {
            let op = match (m.is_equal, m.is_regex) {
                (true, false) => MatchOp::Eq,
                (false, false) => MatchOp::NotEq,
                (true, true) => MatchOp::Re,
                (false, true) => MatchOp::NotRe,
            };
            crate::alerts::matcher::Matcher::new(&m.name, op, &m.value).ok()
        })
        .collect();
    alerts.filter(|a| built.iter().all(|m| m.matches(&a.labels))).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_round_trip_through_the_form() {
        let text = r#"alertname="DiskFull" instance=~"db.*" severity!="info" job!~"test.*""#;
        let ms = parse_matchers(text).unwrap();
        assert_eq!(ms.len(), 4);
        assert!(ms[1].is_regex && ms[1].is_equal);
        assert!(!ms[2].is_regex && !ms[2].is_equal);
        let back: Vec<String> = ms.iter().map(matcher_text).collect();
        assert_eq!(back.join(" "), text);
        assert!(parse_matchers("alertname=X stray").is_err());
        assert!(parse_matchers("").is_err());
    }

    #[test]
    fn presets_cycle_and_durations_parse() {
        assert_eq!(cycle("1h", true), "4h");
        assert_eq!(cycle("1h", false), "1d");
        assert_eq!(cycle("90m", true), "1h");
        let at: jiff::Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        let form = BTreeMap::from([
            (DURATION.to_owned(), "90m".to_owned()),
            (MATCHERS.to_owned(), "a=b".to_owned()),
        ]);
        let s = build(&form, "alice", " disk swap ", at).unwrap();
        assert_eq!(s.ends_at.to_string(), "2026-11-22T11:30:00Z");
        assert_eq!(s.comment, "disk swap");
        let bad = BTreeMap::from([
            (DURATION.to_owned(), "soon".to_owned()),
            (MATCHERS.to_owned(), "a=b".to_owned()),
        ]);
        assert!(build(&bad, "a", "c", at).unwrap_err().contains("duration"));
    }
}
