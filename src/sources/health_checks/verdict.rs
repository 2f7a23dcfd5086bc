//! Judging an answer against a check's expectations: pure functions over the
//! status and the (capped) body, so every message is table-tested without a
//! server. Each failure is one line naming what was wrong and what was expected.

use std::fmt;

use crate::config::health_checks::{HealthCheck, JsonMatch};

/// Most of a body read: health answers are a few hundred bytes; a server that
/// streams megabytes is not allowed to make opsdeck hold them.
pub const MAX_BODY: usize = 1024 * 1024;

/// A check's judgement of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every expectation held, within `slow`.
    Up,
    /// Every expectation held, but the answer took longer than `slow`.
    Slow,
    /// Something was wrong: the one-line reason (never a secret).
    Down(String),
}

impl Verdict {
    /// True for `Up` and `Slow`: the target answered as expected.
    pub fn is_healthy(&self) -> bool {
        !matches!(self, Verdict::Down(_))
    }
}

/// `up`, `slow`, `down: <reason>`.
impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Up => f.write_str("up"),
            Verdict::Slow => f.write_str("slow"),
            Verdict::Down(why) => write!(f, "down: {why}"),
        }
    }
}

/// A body as read: at most `MAX_BODY` bytes, and whether more was sent.
#[derive(Debug, Default)]
pub(super) struct Body {
    pub(super) bytes: Vec<u8>,
    pub(super) truncated: bool,
}

/// Whether `status` and `body` meet `check`'s expectations, in the order a
/// person would check them: status, then substring, then JSON field.
/// `location` is the redirect target of a 3xx, shown so a wrong URL is easy to fix.
pub(super) fn judge(
    check: &HealthCheck,
    status: u16,
    location: Option<&str>,
    body: &Body,
) -> Result<(), String> {
    if !check.expect_status.accepts(status) {
        let to = location.map(|l| format!(" to {}", without_query(l))).unwrap_or_default();
        return Err(format!("{}{to} (expected {})", status_text(status), check.expect_status));
    }
    if let Some(needle) = &check.body_contains
        && !contains(&body.bytes, needle.as_bytes())
    {
        let which = if body.truncated { "the body's first 1 MiB lacks" } else { "body lacks" };
        return Err(format!("{which} {needle:?}"));
    }
    if let Some(want) = &check.json {
        judge_json(want, body)?;
    }
    Ok(())
}

fn judge_json(want: &JsonMatch, body: &Body) -> Result<(), String> {
    if body.truncated {
        return Err(format!("the answer is over {} MiB, too long to read as JSON", MAX_BODY >> 20));
    }
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&body.bytes) else {
        return Err(if body.bytes.iter().all(u8::is_ascii_whitespace) {
            "the answer is not JSON (the body is empty)".to_owned()
        } else {
            "the answer is not JSON".to_owned()
        });
    };
    let Some(found) = lookup(&doc, &want.field) else {
        return Err(format!("no field {} in the JSON answer", want.field));
    };
    let found = match found {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if found != want.value {
        return Err(format!("{} is {:?} (expected {:?})", want.field, clip(&found), want.value));
    }
    Ok(())
}

/// The value at a dotted path; a numeric segment also indexes an array.
fn lookup<'a>(doc: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(doc, |v, seg| match v {
        serde_json::Value::Object(o) => o.get(seg),
        serde_json::Value::Array(a) => a.get(seg.parse::<usize>().ok()?),
        _ => None,
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// `503 Service Unavailable`, or the bare code when it has no standard name.
pub(super) fn status_text(status: u16) -> String {
    let reason = reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason());
    match reason {
        Some(r) => format!("{status} {r}"),
        None => status.to_string(),
    }
}

/// A redirect target without its query and fragment, where a login flow's
/// tokens would be, and bounded in length.
fn without_query(location: &str) -> String {
    clip(location.split(['?', '#']).next().unwrap_or_default())
}

/// At most 80 characters on one line: a reason is a status-bar line, not a dump.
fn clip(s: &str) -> String {
    let line = s.lines().next().unwrap_or_default();
    let mut out: String = line.chars().take(80).collect();
    if line.chars().count() > 80 || s.lines().nth(1).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::health_checks::ExpectStatus;

    fn check(extra: &str) -> HealthCheck {
        #[derive(serde::Deserialize)]
        struct W {
            health: Vec<HealthCheck>,
        }
        let src = format!("[[health]]\nname = \"api\"\nurl = \"http://h/health\"\n{extra}\n");
        toml::from_str::<W>(&src).unwrap().health.remove(0)
    }

    fn body(s: &str) -> Body {
        Body { bytes: s.as_bytes().to_vec(), truncated: false }
    }

    #[test]
    fn statuses() {
        let c = check("");
        assert_eq!(judge(&c, 200, None, &body("")), Ok(()));
        assert_eq!(judge(&c, 204, None, &body("")), Ok(()));
        assert_eq!(judge(&c, 503, None, &body("")).unwrap_err(), "503 Service Unavailable (expected 2xx)");
        assert_eq!(
            judge(&c, 302, Some("https://sso.example/login?state=t0ken#x"), &body("")).unwrap_err(),
            "302 Found to https://sso.example/login (expected 2xx)"
        );
        assert_eq!(judge(&c, 599, None, &body("")).unwrap_err(), "599 (expected 2xx)");
        let c = HealthCheck { expect_status: ExpectStatus::Codes(vec![204, 301]), ..check("") };
        assert_eq!(judge(&c, 200, None, &body("")).unwrap_err(), "200 OK (expected 204 or 301)");
        assert_eq!(judge(&c, 301, Some("/elsewhere"), &body("")), Ok(()));
    }

    #[test]
    fn bodies() {
        let c = check("body_contains = \"ok\"");
        assert_eq!(judge(&c, 200, None, &body("all ok")), Ok(()));
        assert_eq!(judge(&c, 200, None, &body("degraded")).unwrap_err(), "body lacks \"ok\"");
        // The status is judged first: a 500 is reported as such, not as a body mismatch.
        assert!(judge(&c, 500, None, &body("")).unwrap_err().starts_with("500 Internal Server Error"));
        let cut = Body { bytes: b"xxxx".to_vec(), truncated: true };
        assert_eq!(judge(&c, 200, None, &cut).unwrap_err(), "the body's first 1 MiB lacks \"ok\"");
        let binary = Body { bytes: vec![0xff, b'o', b'k', 0xfe], truncated: false };
        assert_eq!(judge(&c, 200, None, &binary), Ok(()));
    }

    #[test]
    fn json_fields() {
        let spring = check("json_field = \"status\"\njson_value = \"UP\"");
        assert_eq!(judge(&spring, 200, None, &body(r#"{"status":"UP"}"#)), Ok(()));
        assert_eq!(
            judge(&spring, 200, None, &body(r#"{"status":"DOWN"}"#)).unwrap_err(),
            "status is \"DOWN\" (expected \"UP\")"
        );
        assert_eq!(
            judge(&spring, 200, None, &body(r#"{"state":"UP"}"#)).unwrap_err(),
            "no field status in the JSON answer"
        );
        assert_eq!(judge(&spring, 200, None, &body("OK")).unwrap_err(), "the answer is not JSON");
        assert_eq!(
            judge(&spring, 200, None, &body("")).unwrap_err(),
            "the answer is not JSON (the body is empty)"
        );
        let cut = Body { bytes: br#"{"status":"UP""#.to_vec(), truncated: true };
        assert!(judge(&spring, 200, None, &cut).unwrap_err().contains("over 1 MiB"));

        let nested = check("json_field = \"components.db.status\"\njson_value = \"UP\"");
        let doc = r#"{"status":"DOWN","components":{"db":{"status":"UP"},"disk":{"status":"DOWN"}}}"#;
        assert_eq!(judge(&nested, 200, None, &body(doc)), Ok(()));
        assert_eq!(
            judge(&nested, 200, None, &body(r#"{"components":{"db":"UP"}}"#)).unwrap_err(),
            "no field components.db.status in the JSON answer"
        );

        let typed = check("json_field = \"checks.1.healthy\"\njson_value = true");
        let doc = r#"{"checks":[{"healthy":false},{"healthy":true}]}"#;
        assert_eq!(judge(&typed, 200, None, &body(doc)), Ok(()));
        let doc = r#"{"checks":[{"healthy":true},{"healthy":{"why":"disk full"}}]}"#;
        assert_eq!(
            judge(&typed, 200, None, &body(doc)).unwrap_err(),
            r#"checks.1.healthy is "{\"why\":\"disk full\"}" (expected "true")"#
        );
    }

    #[test]
    fn display_and_clipping() {
        assert_eq!(Verdict::Down("connection refused".into()).to_string(), "down: connection refused");
        assert!(Verdict::Slow.is_healthy() && !Verdict::Down(String::new()).is_healthy());
        assert_eq!(clip(&"x".repeat(100)).chars().count(), 81);
        assert_eq!(clip("a\nb"), "a…");
    }
}
