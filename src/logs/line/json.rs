//! JSON log lines: which fields hold the level, message, time, service and
//! trace id, and reading a line's fields in the order they were written.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::level::Level;
use super::sanitize::sanitize_string;
use super::time;

/// The field names a JSON log line is read with, each a list tried in
/// order (the first present wins). A name with dots (`log.level`) matches a
/// top-level key spelled that way (ECS) or else the nested path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonFields {
    /// Default `level`, `severity`, `lvl`, `log.level`.
    pub level: Vec<String>,
    /// Default `msg`, `message`, and Docker's `log`.
    pub message: Vec<String>,
    /// Default `timestamp`, `time`, `ts`, `@timestamp`.
    pub time: Vec<String>,
    /// The handbooks' `service_name`, then `service`.
    pub service: Vec<String>,
    /// The handbooks' `trace_id`, then `traceId`, `trace.id`.
    pub trace_id: Vec<String>,
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|&name| name.to_owned()).collect()
}

impl Default for JsonFields {
    fn default() -> JsonFields {
        JsonFields {
            level: names(&["level", "severity", "lvl", "log.level"]),
            message: names(&["msg", "message", "log"]),
            time: names(&["timestamp", "time", "ts", "@timestamp"]),
            service: names(&["service_name", "service"]),
            trace_id: names(&["trace_id", "traceId", "trace.id"]),
        }
    }
}

/// A JSON object's top-level entries in the order written (serde_json's
/// `Map` would sort them, and the detail view should show them as logged).
/// Duplicate keys are all kept.
pub(super) struct Entries(pub Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Entries, D::Error> {
        deserializer.deserialize_map(EntriesVisitor)
    }
}

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = Entries;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(entry) = map.next_entry::<String, Value>()? {
            entries.push(entry);
        }
        Ok(Entries(entries))
    }
}

impl Entries {
    /// The line as a JSON object, if it is one: only tried when it starts
    /// with `{` and ends with `}`, so text lines cost one byte check.
    pub fn parse(text: &str) -> Option<Entries> {
        let trimmed = text.trim_ascii();
        if !(trimmed.starts_with('{') && trimmed.ends_with('}')) {
            return None;
        }
        serde_json::from_str(trimmed).ok()
    }

    /// The first of `names` present, top-level key first, then nested path.
    pub fn find(&self, names: &[String]) -> Option<&Value> {
        names.iter().find_map(|name| self.get(name))
    }

    fn get(&self, name: &str) -> Option<&Value> {
        if let Some((_, value)) = self.0.iter().find(|(key, _)| key == name) {
            return Some(value);
        }
        let (head, rest) = name.split_once('.')?;
        let mut value = &self.0.iter().find(|(key, _)| key == head)?.1;
        for part in rest.split('.') {
            value = value.as_object()?.get(part)?;
        }
        Some(value)
    }

    /// Every entry as sanitized text for display and matching, reusing the
    /// parsed strings rather than copying them.
    pub fn into_strings(self) -> Vec<(String, String)> {
        self.0
            .into_iter()
            .map(|(key, value)| {
                let value = match value {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                (sanitize_string(key), sanitize_string(value))
            })
            .collect()
    }
}

/// A field's value as one line of text: a string as itself, anything else
/// as compact JSON (`{"a":1}`, `42`, `true`, `null`). Not yet sanitized.
pub fn compact(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A level field's value: a name (`"warn"`, `"ERROR"`, `"Information"`),
/// a number (syslog 0–7, pino 10–60), or a number in a string.
pub fn level_of(value: &Value) -> Option<Level> {
    match value {
        Value::String(text) => {
            let text = text.trim();
            Level::from_word(text).or_else(|| text.parse().ok().and_then(Level::from_number))
        }
        Value::Number(number) => number
            .as_i64()
            .or_else(|| number.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .and_then(Level::from_number),
        _ => None,
    }
}

/// A time field's value: RFC 3339 and the other text forms, or an epoch
/// number (or string of digits) in s, ms, µs or ns.
pub fn time_of(value: &Value) -> Option<jiff::Timestamp> {
    match value {
        Value::String(text) => time::parse_time(text).or_else(|| time::from_epoch_text(text)),
        Value::Number(number) => time::from_epoch_number(number),
        _ => None,
    }
}
