//! Severity levels and finding them in a text line.
//!
//! Text logs announce their level in a dozen ways (`[ERROR]`, `level=error`,
//! `ERROR:root:`, glog's `E1122`, syslog's `<3>`, logcat's ` E `). The scan
//! here is a single pass over the start of the line, with no regex, because
//! it runs for every line the tailer reads (100,000 lines/s).
//!
//! The rules, in order of precedence:
//! 1. a syslog `<PRI>` prefix, or a glog `E1122 03:04:05` prefix, decides;
//! 2. a `level=`/`lvl=`/`severity=` (or `"level":"…"`) key in the window
//!    decides, wherever it is, because it is the log's own statement;
//! 3. otherwise the first level-looking token in the first [`WINDOW`] bytes.
//!
//! A token is a run of ASCII letters, digits and `_`, so `errors=0` or
//! `error_count` are not levels, and a level word followed by `=` is a key
//! (`error=timeout`), not a level. Upper-case words (`ERROR`, `WARN`) count
//! anywhere in the window; lower- or mixed-case words (`error`, `Warning`)
//! only where a log format puts a level: at the start of the line, right
//! after a timestamp, after `[`, `<`, `(`, `|`, `=`, `:`, or as syslog
//! programs write it (`sshd[12]: error: …`) — so a message saying "the
//! error was" is not an error line. Single letters (`E`, `W`,
//! `I`, `D`, `V`, `F`) count only after a timestamp or in brackets (`[E]`),
//! as logcat and many terse formats write them.

use std::fmt;
use std::str::FromStr;

/// How far into a line a level is looked for. Timestamps with nanoseconds
/// and a zone plus a thread name (`[http-nio-8080-exec-10]`) put logback's
/// level at byte ~52; beyond 80 bytes a level word is message text.
pub const WINDOW: usize = 80;

/// A line's severity, ordered from least to most severe so a minimum-level
/// filter is `level >= min`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Notice,
    Warn,
    Error,
    /// Critical, fatal, panic, alert and emergency: all "wake someone up".
    Critical,
}

impl Level {
    /// Every level, least severe first.
    pub const ALL: [Level; 7] =
        [Level::Trace, Level::Debug, Level::Info, Level::Notice, Level::Warn, Level::Error, Level::Critical];

    /// The lower-case name used in config and filters (`min_level = "warn"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Notice => "notice",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Critical => "critical",
        }
    }

    /// A three-letter upper-case label for a narrow level column.
    pub fn label(self) -> &'static str {
        match self {
            Level::Trace => "TRC",
            Level::Debug => "DBG",
            Level::Info => "INF",
            Level::Notice => "NTC",
            Level::Warn => "WRN",
            Level::Error => "ERR",
            Level::Critical => "CRT",
        }
    }

    /// Any spelling of a level a log might use (`warning`, `ERR`, `fatal`,
    /// `Information`, `E`), ignoring ASCII case. For a value that is known
    /// to be a level (a JSON `level` field, a `level=` value); free text goes
    /// through [`detect_level`], which is stricter.
    pub fn from_word(word: &str) -> Option<Level> {
        lookup_word(word).map(|(level, _)| level)
    }

    /// A numeric level: syslog severities 0–7, or bunyan/pino's 10–60
    /// (10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal).
    pub fn from_number(number: i64) -> Option<Level> {
        match number {
            0..=7 => Some(from_syslog_priority(number as u8)),
            60.. => Some(Level::Critical),
            50.. => Some(Level::Error),
            40.. => Some(Level::Warn),
            30.. => Some(Level::Info),
            20.. => Some(Level::Debug),
            10.. => Some(Level::Trace),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word that names no level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLevel(pub String);

impl fmt::Display for UnknownLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown log level {:?} (expected trace, debug, info, notice, warn, error or critical)",
            self.0
        )
    }
}

impl std::error::Error for UnknownLevel {}

impl FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(text: &str) -> Result<Level, UnknownLevel> {
        Level::from_word(text.trim()).ok_or_else(|| UnknownLevel(text.to_owned()))
    }
}

/// A syslog severity (journald's `PRIORITY`): 0 emerg, 1 alert, 2 crit,
/// 3 err, 4 warning, 5 notice, 6 info, 7 debug. A value above 7 is taken as
/// a whole `<PRI>` (facility × 8 + severity), so only its severity counts.
pub fn from_syslog_priority(priority: u8) -> Level {
    match priority % 8 {
        0..=2 => Level::Critical,
        3 => Level::Error,
        4 => Level::Warn,
        5 => Level::Notice,
        6 => Level::Info,
        _ => Level::Debug,
    }
}

/// How a word may appear in free text to count as a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Upper case anywhere; lower or mixed case only where formats put levels.
    Word,
    /// Only in upper case (`SEVERE`, `FINE`: plain English otherwise).
    UpperOnly,
    /// A single letter: only after a timestamp or in brackets.
    Letter,
}

/// The longest spelling, `INFORMATION`.
const LONGEST_WORD: usize = 11;

/// Every spelling and how it may appear in free text. A `match` on the
/// upper-cased token compiles to a length-then-bytes decision tree, which
/// matters: this runs for every token near the start of every line.
fn word_entry(upper: &[u8]) -> Option<(Level, Form)> {
    use Form::{Letter, UpperOnly, Word};
    let entry = match upper {
        b"ERROR" | b"ERR" => (Level::Error, Word),
        b"WARN" | b"WARNING" | b"WRN" => (Level::Warn, Word),
        b"INFO" | b"INF" | b"INFORMATION" => (Level::Info, Word),
        b"DEBUG" | b"DBG" => (Level::Debug, Word),
        b"TRACE" | b"TRC" | b"VERBOSE" => (Level::Trace, Word),
        b"NOTICE" => (Level::Notice, Word),
        b"CRIT" | b"CRITICAL" | b"FATAL" | b"PANIC" | b"EMERG" | b"EMERGENCY" | b"ALERT" => {
            (Level::Critical, Word)
        }
        b"SEVERE" => (Level::Error, UpperOnly),
        b"FINE" => (Level::Debug, UpperOnly),
        b"FINER" | b"FINEST" => (Level::Trace, UpperOnly),
        b"E" => (Level::Error, Letter),
        b"W" => (Level::Warn, Letter),
        b"I" => (Level::Info, Letter),
        b"D" => (Level::Debug, Letter),
        b"V" => (Level::Trace, Letter),
        b"F" => (Level::Critical, Letter),
        _ => return None,
    };
    Some(entry)
}

/// Keys whose value is the line's level (`level=error`, `"severity":"warn"`).
const LEVEL_KEYS: &[&str] = &["level", "lvl", "severity", "loglevel", "log_level", "levelname"];

fn lookup_word(word: &str) -> Option<(Level, Form)> {
    if word.is_empty() || word.len() > LONGEST_WORD || !word.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let mut upper = [0u8; LONGEST_WORD];
    upper[..word.len()].copy_from_slice(word.as_bytes());
    upper.make_ascii_uppercase();
    word_entry(&upper[..word.len()])
}

/// The level a text line announces, if any (see the module docs for the
/// rules). Expects sanitized text: escape sequences already removed, so a
/// coloured `\x1b[31mERROR\x1b[0m` reads as `ERROR`.
pub fn detect_level(text: &str) -> Option<Level> {
    let bytes = text.as_bytes();
    if let Some(level) = syslog_prefix(bytes).or_else(|| glog_prefix(bytes)) {
        return Some(level);
    }
    let mut first = None;
    let mut only_timestamp_so_far = true;
    let mut tokens = Tokens { bytes, at: 0 };
    while let Some(token) = tokens.next() {
        let word = &text[token.start..token.end];
        let initial = bytes[token.start];
        let after = bytes.get(token.end).copied();
        if is_level_key(word, after) {
            if let Some(level) = keyed_value(text, &mut tokens) {
                return Some(level);
            }
            only_timestamp_so_far = false;
            continue;
        }
        if first.is_none() && after != Some(b'=') && may_be_level_word(word) {
            let before = token.start.checked_sub(1).map(|i| bytes[i]);
            let program_said = after == Some(b':') && bytes[..token.start].ends_with(b": ");
            first = free_text_level(word, before, after, only_timestamp_so_far || program_said);
        }
        only_timestamp_so_far &= initial.is_ascii_digit();
    }
    first
}

/// A cheap filter before the full lookup: the length and first letter of
/// every spelling in [`word_entry`]. Most tokens fail it.
fn may_be_level_word(word: &str) -> bool {
    word.len() <= LONGEST_WORD
        && matches!(
            word.as_bytes()[0].to_ascii_uppercase(),
            b'A' | b'C'..=b'F' | b'I' | b'N' | b'P' | b'S' | b'T' | b'V' | b'W'
        )
}

fn is_level_key(word: &str, after: Option<u8>) -> bool {
    // Every key is 3 to 9 bytes and starts with l or s: most `key=` tokens
    // of a busy log (`seq=`, `status=`, `took=`) fail here, not in the loop.
    matches!(after, Some(b'=' | b':' | b'"'))
        && matches!(word.len(), 3..=9)
        && matches!(word.as_bytes()[0] | 0x20, b'l' | b's')
        && LEVEL_KEYS.iter().any(|key| key.eq_ignore_ascii_case(word))
}

/// The value after a level key, if it directly follows (`level=error`,
/// `level="warn"`, `"level": "info"`, `severity=3`).
fn keyed_value(text: &str, tokens: &mut Tokens<'_>) -> Option<Level> {
    let gap_start = tokens.at;
    let value = tokens.next()?;
    let gap = &text.as_bytes()[gap_start..value.start];
    if gap.len() > 4 || !gap.iter().all(|b| matches!(b, b'=' | b':' | b'"' | b'\'' | b' ')) {
        return None;
    }
    let word = &text[value.start..value.end];
    Level::from_word(word).or_else(|| word.parse().ok().and_then(Level::from_number))
}

fn free_text_level(
    word: &str,
    before: Option<u8>,
    after: Option<u8>,
    after_timestamp: bool,
) -> Option<Level> {
    let (level, form) = lookup_word(word)?;
    let upper = word.bytes().all(|b| b.is_ascii_uppercase());
    let structural = before.is_none()
        || after_timestamp
        || matches!(before, Some(b'[' | b'<' | b'(' | b'|' | b'=' | b':'));
    let accepted = match form {
        Form::Word => upper || structural,
        Form::UpperOnly => upper,
        Form::Letter => {
            let bracketed = before == Some(b'[') && after == Some(b']');
            upper
                && (bracketed || (after_timestamp && before.is_some() && matches!(after, Some(b' ' | b'/'))))
        }
    };
    accepted.then_some(level)
}

/// `<PRI>` at the very start (RFC 3164/5424, and what `logger` and
/// systemd's stderr capture write), PRI being 0–191.
fn syslog_prefix(bytes: &[u8]) -> Option<Level> {
    let rest = bytes.strip_prefix(b"<")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if !(1..=3).contains(&digits) || rest.get(digits) != Some(&b'>') {
        return None;
    }
    let priority: u16 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    (priority <= 191).then(|| from_syslog_priority((priority % 8) as u8))
}

/// glog/klog: `E1122 03:04:05.123456 1234 file.go:12] msg`.
fn glog_prefix(bytes: &[u8]) -> Option<Level> {
    let head = bytes.get(..9)?;
    let level = match head[0] {
        b'I' => Level::Info,
        b'W' => Level::Warn,
        b'E' => Level::Error,
        b'F' => Level::Critical,
        _ => return None,
    };
    let shaped = head[1..5].iter().all(u8::is_ascii_digit)
        && head[5] == b' '
        && head[6..8].iter().all(u8::is_ascii_digit)
        && head[8] == b':';
    shaped.then_some(level)
}

/// A token's byte range in the line.
#[derive(Debug, Clone, Copy)]
struct Token {
    start: usize,
    end: usize,
}

/// Tokens (runs of ASCII alphanumerics and `_`) that start within the
/// first [`WINDOW`] bytes.
struct Tokens<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// Which bytes make up tokens: ASCII letters, digits and `_`. A table,
/// because this test runs on every byte at the start of every line.
const WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || byte == b'_';
        b += 1;
    }
    table
};

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let is_word = |b: &u8| WORD_BYTES[usize::from(*b)];
        let limit = self.bytes.len().min(WINDOW);
        let start = self.at + self.bytes.get(self.at..limit)?.iter().position(is_word)?;
        let end = start + self.bytes[start..].iter().take_while(|b| is_word(b)).count();
        self.at = end;
        Some(Token { start, end })
    }
}
