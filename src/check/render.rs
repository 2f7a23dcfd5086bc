//! The report as a person reads it in a terminal, as JSON for machines, and
//! as Markdown for an incident channel or a daily report.

use std::fmt::Write as _;

use super::{Area, Report, Status};

fn verdict(r: &Report) -> &'static str {
    match r.status() {
        Status::Ok => "OK",
        Status::Warn => "WARNING",
        Status::Crit => "CRITICAL",
        Status::Unknown => "UNKNOWN",
    }
}

fn counts(r: &Report) -> String {
    format!(
        "{} critical, {} warning, {} unknown, {} ok",
        r.count(Status::Crit),
        r.count(Status::Warn),
        r.count(Status::Unknown),
        r.count(Status::Ok)
    )
}

/// The areas that have lines, in report order, each with its lines.
fn sections(r: &Report) -> Vec<(Area, Vec<&super::Line>)> {
    let mut out: Vec<(Area, Vec<&super::Line>)> = Vec::new();
    for l in &r.lines {
        match out.last_mut() {
            Some((area, lines)) if *area == l.area => lines.push(l),
            _ => out.push((l.area, vec![l])),
        }
    }
    out
}

/// Plain text: a verdict line, then each area with `STATUS  subject  detail`.
/// Subjects and details come from configs and servers, so control
/// characters are made inert before they reach a terminal.
pub fn text(r: &Report) -> String {
    let mut out = format!(
        "opsdeck check {} at {}: {} ({}) in {:.1}s\n",
        r.host,
        r.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        verdict(r),
        counts(r),
        r.took.as_secs_f64()
    );
    for (area, lines) in sections(r) {
        let width = lines.iter().map(|l| l.subject.chars().count()).max().unwrap_or(0).min(40);
        let _ = writeln!(out, "\n{}", area.title());
        for l in lines {
            let subject = crate::ui::format::inert(&l.subject);
            let _ = writeln!(
                out,
                "  {:<7} {subject:<width$}  {}",
                l.status.label(),
                crate::ui::format::inert(&l.detail)
            );
        }
    }
    if r.lines.is_empty() {
        out.push_str("\nnothing configured to check\n");
    }
    out
}

/// One JSON object: host, time, verdict, exit code, counts and every line.
pub fn json(r: &Report) -> String {
    let value = serde_json::json!({
        "host": r.host,
        "at": r.at.to_string(),
        "status": r.status(),
        "exit_code": r.exit_code(),
        "took_ms": u64::try_from(r.took.as_millis()).unwrap_or(u64::MAX),
        "counts": {
            "critical": r.count(Status::Crit),
            "warning": r.count(Status::Warn),
            "unknown": r.count(Status::Unknown),
            "ok": r.count(Status::Ok),
        },
        "lines": r.lines,
    });
    value.to_string()
}

/// A heading with the verdict and one table per area, problems first.
pub fn markdown(r: &Report) -> String {
    let mut out = format!(
        "## opsdeck check: {} — **{}**\n\n{} · {} · {:.1}s\n",
        r.host,
        verdict(r),
        r.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        counts(r),
        r.took.as_secs_f64()
    );
    for (area, lines) in sections(r) {
        let _ = write!(out, "\n### {}\n\n| status | subject | detail |\n|---|---|---|\n", area.title());
        for l in lines {
            let _ = writeln!(out, "| {} | {} | {} |", l.status.label(), cell(&l.subject), cell(&l.detail));
        }
    }
    out
}

/// A table cell: pipes escaped, line breaks flattened.
fn cell(s: &str) -> String {
    crate::ui::format::inert(s).replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::check::Line;

    fn report() -> Report {
        let line = |area, status, subject: &str, detail: &str| Line {
            area,
            status,
            subject: subject.into(),
            detail: detail.into(),
            rule: None,
        };
        Report {
            host: "db1".into(),
            at: jiff::Timestamp::UNIX_EPOCH,
            took: Duration::from_millis(1500),
            lines: vec![
                line(Area::Health, Status::Crit, "api", "down: 503 | gateway"),
                line(Area::Resources, Status::Ok, "/", "disk_percent 40 (alerts > 90)"),
            ],
        }
    }

    #[test]
    fn text_json_and_markdown_say_the_same() {
        let r = report();
        let t = text(&r);
        assert!(
            t.starts_with("opsdeck check db1 at 1970-01-01 00:00:00 UTC: CRITICAL (1 critical, 0 warning")
        );
        assert!(t.contains("\nservices/health\n  CRIT    api  down: 503 | gateway\n"), "{t}");
        assert!(t.contains("\nresources\n  OK      /  disk_percent 40"), "{t}");

        let j: serde_json::Value = serde_json::from_str(&json(&r)).expect("valid JSON");
        assert_eq!(j["status"], "crit");
        assert_eq!(j["exit_code"], 2);
        assert_eq!(j["counts"]["ok"], 1);
        assert_eq!(j["lines"][0]["area"], "health");
        assert_eq!(j["lines"][0]["subject"], "api");

        let m = markdown(&r);
        assert!(m.starts_with("## opsdeck check: db1 — **CRITICAL**"), "{m}");
        assert!(m.contains("| CRIT | api | down: 503 \\| gateway |"), "{m}");
    }
}
