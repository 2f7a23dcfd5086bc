//! Durations in the config are strings such as `"500ms"`, `"5m"`, `"1h"`
//! (humantime's grammar), checked against bounds where they are read so a
//! bad value is reported at its own line and column.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

fn parse(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("invalid duration {s:?}: {e} (write e.g. \"500ms\", \"5s\", \"5m\", \"1h\")"))
}

/// Any duration.
pub fn any<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).map_err(serde::de::Error::custom)
}

/// A poll interval: between 100 ms (anything faster burns CPU for nothing a
/// human can read) and 1 h.
pub fn refresh<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    let v = parse(&s).map_err(serde::de::Error::custom)?;
    check_range(&s, v, Duration::from_millis(100), Duration::from_secs(3600))
        .map_err(serde::de::Error::custom)
}

/// How long a war-room wall shows each screen: between 5 s (readable) and 1 h.
pub fn wall_cycle<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    let v = parse(&s).map_err(serde::de::Error::custom)?;
    check_range(&s, v, Duration::from_secs(5), Duration::from_secs(3600)).map_err(serde::de::Error::custom)
}

/// A history window: between 10 s and 24 h (memory is bounded by it).
pub fn window<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    let v = parse(&s).map_err(serde::de::Error::custom)?;
    check_range(&s, v, Duration::from_secs(10), Duration::from_secs(24 * 3600))
        .map_err(serde::de::Error::custom)
}

fn check_range(s: &str, v: Duration, min: Duration, max: Duration) -> Result<Duration, String> {
    if v < min || v > max {
        return Err(format!(
            "duration {s:?} is out of range: allowed {} to {}",
            humantime::format_duration(min),
            humantime::format_duration(max)
        ));
    }
    Ok(v)
}

/// Parse a duration given on the command line, with the same bounds as `refresh`.
pub fn parse_refresh_arg(s: &str) -> Result<Duration, String> {
    let v = parse(s)?;
    check_range(s, v, Duration::from_millis(100), Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_bounds() {
        let table = [
            ("1s", Ok(Duration::from_secs(1))),
            ("250ms", Ok(Duration::from_millis(250))),
            ("5m", Ok(Duration::from_secs(300))),
            ("10ms", Err("out of range")),
            ("2h", Err("out of range")),
            ("1x", Err("invalid duration \"1x\"")),
            ("", Err("invalid duration")),
        ];
        for (input, want) in table {
            match (parse_refresh_arg(input), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{input}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{input}: {got}"),
                (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
            }
        }
    }
}
