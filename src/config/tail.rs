//! `[tail]`: how the Logs tab reads and keeps lines — the ring's size, the
//! line cap, how much of a file's end to show at start, and which JSON
//! fields hold a line's level, message, time, service and trace id.

use serde::Deserialize;

use crate::logs::follow::FollowOptions;
use crate::logs::line::JsonFields;

/// `[tail]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawTail")]
pub struct TailConfig {
    /// Lines kept across all sources; the oldest go first (and are counted).
    pub buffer_lines: usize,
    /// Longest line kept, in bytes; the rest is dropped with a marker.
    pub max_line_bytes: usize,
    /// Lines shown from the end of each file when following starts.
    pub initial_lines: usize,
    /// Where JSON lines keep their parts.
    pub json: JsonFields,
}

impl Default for TailConfig {
    fn default() -> Self {
        let follow = FollowOptions::default();
        TailConfig {
            buffer_lines: crate::logs::buffer::DEFAULT_CAPACITY,
            max_line_bytes: follow.max_line,
            initial_lines: follow.initial_lines,
            json: JsonFields::default(),
        }
    }
}

impl TailConfig {
    /// The follower's options with these limits.
    pub fn follow_options(&self) -> FollowOptions {
        FollowOptions {
            max_line: self.max_line_bytes,
            initial_lines: self.initial_lines,
            ..FollowOptions::default()
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTail {
    buffer_lines: Option<usize>,
    max_line_bytes: Option<usize>,
    initial_lines: Option<usize>,
    json: Option<RawJson>,
}

/// `[tail.json]`: each a list of field names tried in order.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJson {
    level: Option<Vec<String>>,
    message: Option<Vec<String>>,
    time: Option<Vec<String>>,
    service: Option<Vec<String>>,
    trace_id: Option<Vec<String>>,
}

impl TryFrom<RawTail> for TailConfig {
    type Error = String;

    fn try_from(r: RawTail) -> Result<Self, Self::Error> {
        let d = TailConfig::default();
        let buffer_lines = r.buffer_lines.unwrap_or(d.buffer_lines);
        if !(1_000..=10_000_000).contains(&buffer_lines) {
            return Err(format!("buffer_lines {buffer_lines} must be between 1000 and 10000000"));
        }
        let max_line_bytes = r.max_line_bytes.unwrap_or(d.max_line_bytes);
        if !(256..=1024 * 1024).contains(&max_line_bytes) {
            return Err(format!("max_line_bytes {max_line_bytes} must be between 256 and 1048576"));
        }
        let initial_lines = r.initial_lines.unwrap_or(d.initial_lines);
        if initial_lines > buffer_lines {
            return Err(format!(
                "initial_lines {initial_lines} is more than buffer_lines {buffer_lines} keeps"
            ));
        }
        let mut json = d.json;
        if let Some(j) = r.json {
            for (key, given, slot) in [
                ("level", j.level, &mut json.level),
                ("message", j.message, &mut json.message),
                ("time", j.time, &mut json.time),
                ("service", j.service, &mut json.service),
                ("trace_id", j.trace_id, &mut json.trace_id),
            ] {
                let Some(names) = given else { continue };
                if names.is_empty() || names.iter().any(|n| n.trim().is_empty()) {
                    return Err(format!("json.{key} needs at least one field name, none empty"));
                }
                *slot = names;
            }
        }
        Ok(TailConfig { buffer_lines, max_line_bytes, initial_lines, json })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail(body: &str) -> Result<TailConfig, String> {
        #[derive(Deserialize)]
        struct File {
            tail: TailConfig,
        }
        toml::from_str::<File>(&format!("[tail]\n{body}")).map(|f| f.tail).map_err(|e| e.message().to_owned())
    }

    #[test]
    fn defaults_overrides_and_limits() {
        assert_eq!(tail(""), Ok(TailConfig::default()));
        let t = tail("buffer_lines = 20000\nmax_line_bytes = 4096\ninitial_lines = 50\n[tail.json]\nlevel = [\"lvl\"]\n")
            .expect("valid");
        assert_eq!((t.buffer_lines, t.max_line_bytes, t.initial_lines), (20_000, 4096, 50));
        assert_eq!(t.json.level, ["lvl"]);
        assert_eq!(t.json.message, JsonFields::default().message, "the others keep their defaults");
        assert_eq!((t.follow_options().max_line, t.follow_options().initial_lines), (4096, 50));

        assert!(tail("buffer_lines = 10").is_err_and(|e| e.contains("between 1000")));
        assert!(tail("max_line_bytes = 10").is_err_and(|e| e.contains("between 256")));
        assert!(tail("buffer_lines = 1000\ninitial_lines = 2000").is_err_and(|e| e.contains("more than")));
        assert!(tail("[tail.json]\ntime = []").is_err_and(|e| e.contains("json.time needs")));
        assert!(tail("lines = 5").is_err_and(|e| e.contains("unknown field")));
    }
}
