//! One raw log line (bytes) made safe to draw and understood: its level,
//! its time, and for JSON lines its fields.
//!
//! [`parse`] is what the tailer's feeder calls for each line it reads, so it
//! is built for 100,000 lines/s and more: byte scans instead of regexes, a
//! fast path that copies clean lines as they are, and a JSON parse only for
//! lines that start with `{` and end with `}`.
//!
//! The parts are usable on their own: [`sanitize`] for any untrusted text
//! bound for the screen, [`detect_level`] and [`parse_time`] for text
//! formats, [`from_syslog_priority`] for journald's `PRIORITY`, and
//! [`continues_record`] to keep stack traces with the line they belong to.

mod json;
mod level;
mod record;
mod sanitize;
mod time;

pub use json::JsonFields;
pub use level::{Level, UnknownLevel, WINDOW as LEVEL_WINDOW, detect_level, from_syslog_priority};
pub use record::continues_record;
pub use sanitize::{TAB_WIDTH, sanitize, sanitize_str, sanitize_string};
pub use time::{from_epoch_number, parse_time, parse_time_in};

use json::Entries;

/// A line ready for the view. Every string in it is sanitized: nothing in
/// it can act on a terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// What the view shows: for a JSON line its message field when it has
    /// one, else the whole line; for a text line, the line. Boxed: the
    /// buffer holds 100,000 of these, and a `String`'s capacity word is 8
    /// bytes each for nothing.
    pub text: Box<str>,
    pub level: Option<Level>,
    pub time: Option<jiff::Timestamp>,
    /// What only a JSON line has; boxed, so the 100,000 lines a buffer
    /// holds (mostly text) cost a pointer each for it, not 72 bytes.
    pub json: Option<Box<JsonParts>>,
    /// Whether the reader cut the line at its length cap; the view marks it.
    pub truncated: bool,
}

/// The parts of a line read as a JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonParts {
    /// Its top-level fields in the order written, values as compact strings
    /// (a string as itself, anything else as compact JSON), for the detail
    /// view and `service_name=api` matchers.
    pub fields: Vec<(String, String)>,
    /// Its service (the handbooks' `service_name`), if present.
    pub service: Option<String>,
    /// Its trace id (the handbooks' `trace_id`), if present.
    pub trace_id: Option<String>,
}

impl Parsed {
    /// Whether the line was read as a JSON object.
    pub fn is_json(&self) -> bool {
        self.json.is_some()
    }

    /// A JSON line's fields; none for a text line.
    pub fn fields(&self) -> &[(String, String)] {
        self.json.as_ref().map_or(&[], |j| &j.fields)
    }

    /// A JSON line's service, if present.
    pub fn service(&self) -> Option<&str> {
        self.json.as_ref()?.service.as_deref()
    }

    /// A JSON line's trace id, if present.
    pub fn trace_id(&self) -> Option<&str> {
        self.json.as_ref()?.trace_id.as_deref()
    }
}

/// Understand one line as read from a source (without its `\n`; a
/// trailing `\r` from CRLF files is dropped here too).
///
/// A line that parses as a JSON object is read with `names`; anything else
/// — including a truncated line, whose JSON could not be complete, and a
/// JSON array or scalar — is a text line. The level of a JSON line without
/// a level field is looked for in its message (Docker's `{"log":"ERROR …"}`).
pub fn parse(bytes: &[u8], truncated: bool, names: &JsonFields) -> Parsed {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    let decoded = sanitize::decode(bytes);
    if !truncated && let Some(entries) = Entries::parse(&decoded) {
        return from_json(entries, &decoded, names);
    }
    let text = sanitize_str(&decoded);
    Parsed { level: detect_level(&text), time: parse_time(&text), text: text.into(), json: None, truncated }
}

fn from_json(entries: Entries, raw: &str, names: &JsonFields) -> Parsed {
    let shown = |value: &serde_json::Value| sanitize_string(json::compact(value));
    let message = entries.find(&names.message).map(|value| match value {
        serde_json::Value::String(text) => sanitize_str(text.trim_end_matches(['\n', '\r'])),
        other => shown(other),
    });
    let level = entries
        .find(&names.level)
        .and_then(json::level_of)
        .or_else(|| message.as_deref().and_then(detect_level));
    let time = entries.find(&names.time).and_then(json::time_of);
    let service = entries.find(&names.service).map(shown);
    let trace_id = entries.find(&names.trace_id).map(shown);
    Parsed {
        text: message.unwrap_or_else(|| sanitize_str(raw.trim_ascii())).into(),
        level,
        time,
        json: Some(Box::new(JsonParts { fields: entries.into_strings(), service, trace_id })),
        truncated: false,
    }
}
