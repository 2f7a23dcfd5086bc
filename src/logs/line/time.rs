//! Timestamps at the start of a line, and epoch numbers in JSON fields.
//!
//! Hand-written byte parsing rather than a format string per candidate
//! format: it runs on every line, and the formats are few and fixed.
//!
//! Accepted at the start of the line (after an optional syslog `<PRI>`, an
//! RFC 5424 version `1 `, and an opening `[`):
//! - ISO 8601 / RFC 3339: `2026-11-22T03:04:05Z`, `2026-11-22 03:04:05`,
//!   `2026/11/22 03:04:05` (nginx), a fraction after `.` or `,` (Python's
//!   logging writes `,123`), and a zone `Z`, `+08:00`, `+0800`, `+08`,
//!   optionally after one space (`2026-11-22 03:04:05 -0500`). No zone means
//!   the local zone: that is how such logs are written.
//! - syslog `Nov 22 03:04:05` (day possibly space-padded), in the local zone
//!   and the current year, or last year when that would put it more than a
//!   day in the future (December's lines read in January).
//! - ctime, as Apache's error log writes it: `Sun Nov 22 03:04:05.123 2026`.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

/// The timestamp at the start of `text`, if one is there, reading zone-less
/// times in the system's zone (see the module docs for formats).
pub fn parse_time(text: &str) -> Option<Timestamp> {
    parse(text, &Context::System)
}

/// [`parse_time`] with the zone for zone-less times and the current time
/// (for syslog's missing year) given: for tests, and for a source whose
/// logs are written in a zone other than the system's.
pub fn parse_time_in(text: &str, zone: &TimeZone, now: Timestamp) -> Option<Timestamp> {
    parse(text, &Context::Fixed { zone, now })
}

/// Where the zone for zone-less times and the current time come from.
/// Looked up only when a line needs them: most lines carry an offset or no
/// time at all, and asking the clock and the zone costs more than parsing.
enum Context<'a> {
    System,
    Fixed { zone: &'a TimeZone, now: Timestamp },
}

impl Context<'_> {
    fn zone(&self) -> TimeZone {
        match self {
            Context::System => TimeZone::system(),
            Context::Fixed { zone, .. } => (*zone).clone(),
        }
    }

    fn now(&self) -> Timestamp {
        match self {
            Context::System => Timestamp::now(),
            Context::Fixed { now, .. } => *now,
        }
    }
}

fn parse(text: &str, context: &Context<'_>) -> Option<Timestamp> {
    let bytes = skip_prefixes(text.as_bytes());
    match bytes.first()? {
        b'0'..=b'9' => iso(bytes, context),
        b'A'..=b'Z' | b'a'..=b'z' => syslog(bytes, context),
        _ => None,
    }
}

/// A JSON number as an epoch time, its unit guessed by magnitude: below
/// 1e11 seconds (until the year 5138), below 1e14 milliseconds, below 1e17
/// microseconds, else nanoseconds. zap writes float seconds, pino integer
/// milliseconds, others micro- or nanoseconds.
pub fn from_epoch_number(number: &serde_json::Number) -> Option<Timestamp> {
    if let Some(whole) = number.as_i64() {
        return from_epoch_integer(whole);
    }
    from_epoch_float(number.as_f64()?)
}

/// An epoch time written as a string of digits (`"1732244645.123"`).
pub(super) fn from_epoch_text(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    match text.parse::<i64>() {
        Ok(whole) => from_epoch_integer(whole),
        Err(_) => from_epoch_float(text.parse().ok()?),
    }
}

fn from_epoch_integer(value: i64) -> Option<Timestamp> {
    let magnitude = value.unsigned_abs();
    if magnitude < 100_000_000_000 {
        Timestamp::from_second(value).ok()
    } else if magnitude < 100_000_000_000_000 {
        Timestamp::from_millisecond(value).ok()
    } else if magnitude < 100_000_000_000_000_000 {
        Timestamp::from_microsecond(value).ok()
    } else {
        Timestamp::from_nanosecond(i128::from(value)).ok()
    }
}

fn from_epoch_float(value: f64) -> Option<Timestamp> {
    if !value.is_finite() {
        return None;
    }
    let seconds = match value.abs() {
        m if m < 1e11 => value,
        m if m < 1e14 => value / 1e3,
        m if m < 1e17 => value / 1e6,
        _ => value / 1e9,
    };
    let whole = seconds.floor();
    let nanos = ((seconds - whole) * 1e9).round().min(999_999_999.0) as i32;
    if !(i64::MIN as f64..i64::MAX as f64).contains(&whole) {
        return None;
    }
    Timestamp::new(whole as i64, nanos).ok()
}

fn skip_prefixes(mut bytes: &[u8]) -> &[u8] {
    if let Some(rest) = bytes.strip_prefix(b"<")
        && let Some(close) = rest.iter().take(4).position(|&b| b == b'>')
        && close > 0
        && rest[..close].iter().all(u8::is_ascii_digit)
    {
        bytes = &rest[close + 1..];
        bytes = bytes.strip_prefix(b"1 ").unwrap_or(bytes);
    }
    bytes.strip_prefix(b"[").unwrap_or(bytes)
}

/// A cursor over the bytes of a timestamp.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, count: usize) -> Option<i32> {
        let slice = self.bytes.get(self.at..self.at + count)?;
        let mut value = 0i32;
        for &b in slice {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value * 10 + i32::from(b - b'0');
        }
        self.at += count;
        Some(value)
    }

    fn byte(&mut self, allowed: &[u8]) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        allowed.contains(&b).then(|| {
            self.at += 1;
            b
        })
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// `HH:MM:SS[.fff]`, returning the time and nanoseconds. A leap second
    /// (`:60`) is read as `:59`.
    fn clock(&mut self) -> Option<(i8, i8, i8, i32)> {
        let hour = self.digits(2)?;
        self.byte(b":")?;
        let minute = self.digits(2)?;
        self.byte(b":")?;
        let second = self.digits(2)?.min(59);
        let mut nanos = 0;
        if self.byte(b".,").is_some() {
            let start = self.at;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                let place = self.at - start;
                if place < 9 {
                    nanos += i32::from(self.bytes[self.at] - b'0') * 10i32.pow(8 - place as u32);
                }
                self.at += 1;
            }
            if self.at == start {
                return None;
            }
        }
        Some((hour as i8, minute as i8, second as i8, nanos))
    }

    /// `Z`, `+HH:MM`, `+HHMM` or `+HH`, possibly after one space.
    fn offset(&mut self) -> Option<Offset> {
        let mut probe = Cursor { bytes: self.bytes, at: self.at };
        probe.byte(b" ");
        let sign = match probe.byte(b"Zz+-")? {
            b'Z' | b'z' => {
                // `Z` must end the token: `2026-11-22 03:04:05 Zookeeper` is not UTC.
                if probe.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
                    return None;
                }
                self.at = probe.at;
                return Some(Offset::UTC);
            }
            b'+' => 1,
            _ => -1,
        };
        let hours = probe.digits(2)?;
        let minutes =
            if probe.byte(b":").is_some() { probe.digits(2)? } else { probe.digits(2).unwrap_or(0) };
        let offset = Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()?;
        self.at = probe.at;
        Some(offset)
    }
}

fn iso(bytes: &[u8], context: &Context<'_>) -> Option<Timestamp> {
    let mut cursor = Cursor { bytes, at: 0 };
    let year = cursor.digits(4)?;
    let separator = cursor.byte(b"-/")?;
    let month = cursor.digits(2)?;
    cursor.byte(&[separator])?;
    let day = cursor.digits(2)?;
    cursor.byte(b"Tt ")?;
    let (hour, minute, second, nanos) = cursor.clock()?;
    let civil = DateTime::new(year as i16, month as i8, day as i8, hour, minute, second, nanos).ok()?;
    match cursor.offset() {
        Some(offset) => offset.to_timestamp(civil).ok(),
        None => context.zone().to_ambiguous_timestamp(civil).compatible().ok(),
    }
}

const MONTHS: [&[u8; 3]; 12] =
    [b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec"];
const WEEKDAYS: [&[u8; 3]; 7] = [b"mon", b"tue", b"wed", b"thu", b"fri", b"sat", b"sun"];

fn three_letters<const N: usize>(bytes: &[u8], names: [&[u8; 3]; N]) -> Option<usize> {
    let word = bytes.get(..3)?;
    let next = bytes.get(3).copied();
    if next.is_some_and(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    names.iter().position(|name| name.eq_ignore_ascii_case(word))
}

fn syslog(mut bytes: &[u8], context: &Context<'_>) -> Option<Timestamp> {
    if three_letters(bytes, WEEKDAYS).is_some() && bytes.get(3) == Some(&b' ') {
        bytes = &bytes[4..];
    }
    let month = three_letters(bytes, MONTHS)? as i8 + 1;
    let mut cursor = Cursor { bytes, at: 3 };
    cursor.byte(b" ")?;
    let day = match cursor.byte(b" ") {
        Some(_) => cursor.digits(1)?,
        None => cursor.digits(2).or_else(|| cursor.digits(1))?,
    };
    cursor.byte(b" ")?;
    let (hour, minute, second, nanos) = cursor.clock()?;
    let zone = context.zone();
    let explicit_year = {
        let mut probe = Cursor { bytes, at: cursor.at };
        probe
            .byte(b" ")
            .and_then(|_| probe.digits(4))
            .filter(|_| !probe.peek().is_some_and(|b| b.is_ascii_digit()))
    };
    let at_year = |year: i32| {
        let civil = DateTime::new(year as i16, month, day as i8, hour, minute, second, nanos).ok()?;
        zone.to_ambiguous_timestamp(civil).compatible().ok()
    };
    if let Some(year) = explicit_year {
        return at_year(year);
    }
    let now = context.now();
    let this_year = i32::from(now.to_zoned(zone.clone()).year());
    let guess = at_year(this_year);
    let tomorrow = now.checked_add(jiff::SignedDuration::from_hours(24)).ok()?;
    match guess {
        Some(time) if time <= tomorrow => Some(time),
        // Feb 29 of a leap year read in a common year also lands here.
        _ => at_year(this_year - 1),
    }
}
