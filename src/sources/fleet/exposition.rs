//! The Prometheus text exposition format (version 0.0.4, what node_exporter
//! serves), parsed strictly: like Prometheus, a scrape with one malformed
//! line is rejected whole, with the line's number and what was wrong, so a
//! wrong URL (an HTML page, a JSON API) reads as such instead of as a node
//! with no data. Label values keep their escapes' meaning (`\\`, `\"`, `\n`)
//! and may hold any character, commas and braces included.
//!
//! Hand-written: the crates for this format were either LGPL (openmetrics-parser)
//! or split labels on commas and drop bad lines silently (prometheus-parse).

use std::borrow::Cow;
use std::fmt;

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    /// The metric name.
    pub name: &'a str,
    /// Its labels in the order written, values unescaped.
    pub labels: Vec<(&'a str, Cow<'a, str>)>,
    /// The value (`NaN`, `+Inf` and `-Inf` included).
    pub value: f64,
}

impl Sample<'_> {
    /// A label's value.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_ref())
    }
}

/// Why a body is not the text format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong there.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Every sample of `text`; comments (`# HELP`, `# TYPE`, `# EOF`) and blank
/// lines are skipped.
pub fn parse(text: &str) -> Result<Vec<Sample<'_>>, ParseError> {
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw).trim_start_matches([' ', '\t']);
        if line.trim_end_matches([' ', '\t']).is_empty() || line.starts_with('#') {
            continue;
        }
        let sample =
            Cursor { s: line, pos: 0 }.sample().map_err(|message| ParseError { line: i + 1, message })?;
        out.push(sample);
    }
    Ok(out)
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_blanks(&mut self) -> bool {
        let before = self.pos;
        self.pos += self.rest().len() - self.rest().trim_start_matches([' ', '\t']).len();
        self.pos > before
    }

    /// A name whose first character passes `first` and the rest `more`.
    fn name(&mut self, first: fn(char) -> bool, more: fn(char) -> bool) -> Option<&'a str> {
        let rest = self.rest();
        if !rest.chars().next().is_some_and(first) {
            return None;
        }
        let len = rest.find(|c: char| !more(c)).unwrap_or(rest.len());
        self.pos += len;
        Some(&rest[..len])
    }

    /// Up to the next blank or the end.
    fn token(&mut self) -> &'a str {
        let rest = self.rest();
        let len = rest.find([' ', '\t']).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    fn sample(mut self) -> Result<Sample<'a>, String> {
        let metric_first = |c: char| c.is_ascii_alphabetic() || c == '_' || c == ':';
        let metric_more = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
        let name = self
            .name(metric_first, metric_more)
            .ok_or_else(|| format!("expected a metric name, found {}", excerpt(self.rest())))?;
        let blank = self.skip_blanks();
        let mut labels = Vec::new();
        if self.peek() == Some('{') {
            self.pos += 1;
            self.labels(&mut labels)?;
            self.skip_blanks();
        } else if self.rest().is_empty() {
            return Err(format!("{name} has no value"));
        } else if !blank {
            return Err(format!("expected a space or '{{' after {name}, found {}", excerpt(self.rest())));
        }
        let value = self.token();
        if value.is_empty() {
            return Err(format!("{name} has no value"));
        }
        let value =
            parse_float(value).ok_or_else(|| format!("{name}: value {} is not a number", excerpt(value)))?;
        self.skip_blanks();
        let timestamp = self.token();
        if !timestamp.is_empty() && timestamp.parse::<i64>().is_err() {
            return Err(format!("{name}: timestamp {} is not milliseconds", excerpt(timestamp)));
        }
        self.skip_blanks();
        if !self.rest().is_empty() {
            return Err(format!("{name}: unexpected {} after the value", excerpt(self.rest())));
        }
        Ok(Sample { name, labels, value })
    }

    /// After `{`: `name="value"` pairs separated by commas (a trailing one
    /// allowed), up to and including `}`.
    fn labels(&mut self, labels: &mut Vec<(&'a str, Cow<'a, str>)>) -> Result<(), String> {
        loop {
            self.skip_blanks();
            if self.peek() == Some('}') {
                self.pos += 1;
                return Ok(());
            }
            let label_first = |c: char| c.is_ascii_alphabetic() || c == '_';
            let label_more = |c: char| c.is_ascii_alphanumeric() || c == '_';
            let label = self
                .name(label_first, label_more)
                .ok_or_else(|| format!("expected a label name, found {}", excerpt(self.rest())))?;
            self.skip_blanks();
            if self.peek() != Some('=') {
                return Err(format!("expected '=' after label {label}, found {}", excerpt(self.rest())));
            }
            self.pos += 1;
            self.skip_blanks();
            if self.peek() != Some('"') {
                return Err(format!("label {label}: expected '\"', found {}", excerpt(self.rest())));
            }
            self.pos += 1;
            let value = self.label_value().map_err(|e| format!("label {label}: {e}"))?;
            labels.push((label, value));
            self.skip_blanks();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {}
                _ => {
                    return Err(format!(
                        "expected ',' or '}}' after label {label}, found {}",
                        excerpt(self.rest())
                    ));
                }
            }
        }
    }

    /// After the opening quote: the value up to the closing one, unescaped
    /// (borrowed when it has no escapes, as nearly all have none).
    fn label_value(&mut self) -> Result<Cow<'a, str>, String> {
        let rest = self.rest();
        let end = rest.find(['"', '\\']).ok_or("unterminated value")?;
        if rest.as_bytes()[end] == b'"' {
            self.pos += end + 1;
            return Ok(Cow::Borrowed(&rest[..end]));
        }
        let mut out = String::from(&rest[..end]);
        let mut chars = rest[end..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += end + i + 1;
                    return Ok(Cow::Owned(out));
                }
                '\\' => match chars.next() {
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, '"')) => out.push('"'),
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, other)) => return Err(format!("invalid escape \\{other}")),
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err("unterminated value".into())
    }
}

/// Go's float syntax as exporters write it: decimals, exponents, `NaN`,
/// `+Inf`, `-Inf` (Rust's parser takes these case-insensitively too).
fn parse_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

/// Offending text for a message, quoted and cut short.
fn excerpt(s: &str) -> String {
    if s.is_empty() {
        return "the end of the line".into();
    }
    let cut: String = s.chars().take(40).collect();
    if cut.len() < s.len() { format!("{cut:?}…") } else { format!("{cut:?}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded from prometheus-node-exporter 1.5.0 (Debian bookworm), trimmed.
    const NODE_EXPORTER: &str = "\
# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile=\"0\"} 0
go_gc_duration_seconds{quantile=\"1\"} 4.2e-05
go_gc_duration_seconds_sum 0.000113
go_gc_duration_seconds_count 3
# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 11634.35
node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 27764.07
# HELP node_filesystem_avail_bytes Filesystem space available to non-root users in bytes.
# TYPE node_filesystem_avail_bytes gauge
node_filesystem_avail_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 3.3679835136e+10
# HELP node_load1 1m load average.
# TYPE node_load1 gauge
node_load1 2.01
# HELP node_scrape_collector_success node_exporter: Whether a collector succeeded.
# TYPE node_scrape_collector_success gauge
node_scrape_collector_success{collector=\"cpu\"} 1
";

    #[test]
    fn a_node_exporter_excerpt() {
        let samples = parse(NODE_EXPORTER).unwrap();
        assert_eq!(samples.len(), 9);
        assert_eq!(samples[0].label("quantile"), Some("0"));
        assert_eq!((samples[1].name, samples[1].value), ("go_gc_duration_seconds", 4.2e-05));
        let idle = &samples[4];
        assert_eq!(
            (idle.name, idle.label("cpu"), idle.label("mode")),
            ("node_cpu_seconds_total", Some("0"), Some("idle"))
        );
        assert_eq!(idle.value, 11634.35);
        let fs = &samples[6];
        assert_eq!((fs.label("mountpoint"), fs.value), (Some("/"), 3.3679835136e+10));
        assert_eq!((samples[7].name, samples[7].labels.len(), samples[7].value), ("node_load1", 0, 2.01));
    }

    #[test]
    fn the_formats_corners() {
        let text = "a{x=\"a,b}c=d\", y = \"q\\\"\\\\\\n\" ,} +Inf 1700000000000\r\n\
                    \t b NaN\n c -Inf\n d{} 1.5e3   \n e{z=\"é\"} -0.25\n# EOF\n";
        let s = parse(text).unwrap();
        assert_eq!(s[0].label("x"), Some("a,b}c=d"));
        assert_eq!(s[0].label("y"), Some("q\"\\\n"));
        assert!(matches!(s[0].labels[0].1, Cow::Borrowed(_)) && matches!(s[0].labels[1].1, Cow::Owned(_)));
        assert_eq!(s[0].value, f64::INFINITY);
        assert!(s[1].value.is_nan());
        assert_eq!((s[2].value, s[3].value, s[4].value), (f64::NEG_INFINITY, 1500.0, -0.25));
        assert_eq!(s[4].label("z"), Some("é"));
        assert_eq!(parse("").unwrap(), vec![]);
    }

    #[test]
    fn errors_name_the_line() {
        let table = [
            ("<!DOCTYPE html>", "line 1: expected a metric name, found \"<!DOCTYPE html>\""),
            (
                "ok 1\n{\"status\":\"success\"}",
                "line 2: expected a metric name, found \"{\\\"status\\\":\\\"success\\\"}\"",
            ),
            ("hello world", "line 1: hello: value \"world\" is not a number"),
            ("m", "line 1: m has no value"),
            ("m{a=\"b\"}", "line 1: m has no value"),
            ("m 1 2 3", "line 1: m: unexpected \"3\" after the value"),
            ("m 1 soon", "line 1: m: timestamp \"soon\" is not milliseconds"),
            ("m{a=b} 1", "line 1: label a: expected '\"', found \"b} 1\""),
            ("m{a=\"b} 1", "line 1: label a: unterminated value"),
            ("m{a=\"\\x\"} 1", "line 1: label a: invalid escape \\x"),
            ("m{a=\"b\" c=\"d\"} 1", "line 1: expected ',' or '}' after label a, found \"c=\\\"d\\\"} 1\""),
            ("m{1a=\"b\"} 1", "line 1: expected a label name, found \"1a=\\\"b\\\"} 1\""),
            ("m{a} 1", "line 1: expected '=' after label a, found \"} 1\""),
            ("m-x 1", "line 1: expected a space or '{' after m, found \"-x 1\""),
        ];
        for (text, want) in table {
            assert_eq!(parse(text).unwrap_err().to_string(), want, "{text}");
        }
        let long = format!("x {}", "9".repeat(100) + "z");
        assert!(parse(&long).unwrap_err().message.contains("\"…"), "cut short");
    }
}
