//! Numbers as people read them: 1.2G, 340K/s, 3d 4h.

use std::time::Duration;

/// Bytes in binary units with one decimal under 10: `512B`, `1.5K`, `23G`.
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 7] = ["B", "K", "M", "G", "T", "P", "E"];
    let mut v = n.max(0.0);
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0}B")
    } else if v < 10.0 {
        format!("{v:.1}{}", UNITS[unit])
    } else {
        format!("{v:.0}{}", UNITS[unit])
    }
}

/// A byte rate: `bytes` per second.
pub fn rate(n: f64) -> String {
    format!("{}/s", bytes(n))
}

/// A rate from a sample that may still be warming up (one reading, no rate yet).
pub fn sampled_rate(n: f64, warming_up: bool) -> String {
    if warming_up { "…".to_owned() } else { rate(n) }
}

/// A long duration in its two largest units: `3d 4h`, `5h 2m`, `42s`.
pub fn uptime(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, mins) = (s / 86_400, s / 3600 % 24, s / 60 % 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m {}s", s % 60),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// An age for health and staleness: `4s`, `3m`, `2h`, `5d`.
pub fn age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// A period in one short token: `15m`, `1h`, `26h`, `7d`, `90s`.
pub fn period(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        _ if s >= 86_400 && s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        _ if s >= 3600 && s.is_multiple_of(3600) => format!("{}h", s / 3600),
        _ if s >= 60 && s.is_multiple_of(60) => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

/// Truncate to `width` characters, marking the cut with `…`.
pub fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    if width > 0 {
        out.push('…');
    }
    out
}

/// Text from outside (a command's output, a log line) made harmless for the
/// terminal: control characters, escape sequences included, become visible
/// `^X` / `\u{..}` marks so nothing can move the cursor or retitle the window.
pub fn inert(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push_str("    "),
            c if (c as u32) < 0x20 => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
            }
            '\u{7f}' => out.push_str("^?"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_visible_text() {
        assert_eq!(inert("\x1b]0;pwned\x07ok"), "^[]0;pwned^Gok");
        assert_eq!(inert("a\tb\r"), "a    b^M");
        assert_eq!(inert("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(inert("plain 告警"), "plain 告警");
    }

    #[test]
    fn formats() {
        let table = [
            (0.0, "0B"),
            (512.0, "512B"),
            (1536.0, "1.5K"),
            (10.0 * 1024.0, "10K"),
            (3.0 * 1024f64.powi(3), "3.0G"),
        ];
        for (n, want) in table {
            assert_eq!(bytes(n), want);
        }
        assert_eq!(rate(2048.0), "2.0K/s");
        assert_eq!(uptime(Duration::from_secs(3 * 86_400 + 4 * 3600 + 5)), "3d 4h");
        assert_eq!(uptime(Duration::from_secs(125)), "2m 5s");
        assert_eq!(age(Duration::from_secs(59)), "59s");
        assert_eq!(age(Duration::from_secs(7200)), "2h");
        assert_eq!(truncate("postgres", 5), "post…");
        assert_eq!(truncate("pg", 5), "pg");
    }
}
