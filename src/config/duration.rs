//! Durations in the config are strings such as `"500ms"`, `"5m"`, `"1h"`
//! (humantime's grammar). Every one has bounds, checked where it is read so
//! a bad value is reported at its own line and column: a value past its
//! upper bound would otherwise pass `config check` and overflow the clock
//! arithmetic later (`arm_window = "18446744073709551615s"` made the arm
//! key panic). The bounds are documented in config.example.toml.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// The smallest and largest value a duration setting takes, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The least value.
    pub min: Duration,
    /// The largest value.
    pub max: Duration,
}

const fn bounds(min: Duration, max: Duration) -> Bounds {
    Bounds { min, max }
}

const SECOND: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);
/// humantime's year (365.25 days), so the bound prints as "10years".
const YEAR: Duration = Duration::from_secs(31_557_600);

/// Poll intervals, network timeouts and lag thresholds (`refresh`, every
/// source's `interval` and `timeout`, `lag_*`): 100 ms (anything faster
/// burns CPU for nothing a human can read) to 1 h.
pub const POLL: Bounds = bounds(Duration::from_millis(100), HOUR);
/// `[wall] cycle`: 5 s (readable) to 1 h.
pub const WALL_CYCLE: Bounds = bounds(Duration::from_secs(5), HOUR);
/// `[metrics] history`: 10 s to 24 h (memory is bounded by it).
pub const HISTORY: Bounds = bounds(Duration::from_secs(10), DAY);
/// `[guard] arm_window`: 1 s to 24 h; a longer arming is no guard.
pub const ARM_WINDOW: Bounds = bounds(SECOND, DAY);
/// `[[actions]] timeout` and `[[backups]] timeout`: a run or a tool may
/// take 1 s to 24 h before it is killed.
pub const RUN_TIMEOUT: Bounds = bounds(SECOND, DAY);
/// `[[backups]] interval`: rescans 1 s to 24 h apart.
pub const RESCAN: Bounds = bounds(SECOND, DAY);
/// `[[actions]] cooldown`: 0 to 30 days.
pub const COOLDOWN: Bounds = bounds(Duration::ZERO, Duration::from_secs(30 * 86_400));
/// `[[rules]] for`: 0 to 24 h.
pub const RULE_FOR: Bounds = bounds(Duration::ZERO, DAY);
/// `[[health]] slow`: 1 ms to 1 h (and below its timeout).
pub const SLOW: Bounds = bounds(Duration::from_millis(1), HOUR);
/// `[[backups]] rpo`, `cadence` and `retention`: 1 s to 10 years.
pub const BACKUP_AGE: Bounds = bounds(SECOND, Duration::from_secs(10 * YEAR.as_secs()));

fn parse(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("invalid duration {s:?}: {e} (write e.g. \"500ms\", \"5s\", \"5m\", \"1h\")"))
}

/// Parse `s` and hold it to `b`.
pub fn parse_within(s: &str, b: Bounds) -> Result<Duration, String> {
    let v = parse(s)?;
    check_range(s, v, b.min, b.max)
}

fn within<'de, D: Deserializer<'de>>(d: D, b: Bounds) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    parse_within(&s, b).map_err(serde::de::Error::custom)
}

/// A poll interval, network timeout or lag threshold: [`POLL`].
pub fn refresh<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    within(d, POLL)
}

/// How long a war-room wall shows each screen: [`WALL_CYCLE`].
pub fn wall_cycle<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    within(d, WALL_CYCLE)
}

/// A history window: [`HISTORY`].
pub fn window<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    within(d, HISTORY)
}

/// How long one press of the arm key arms: [`ARM_WINDOW`].
pub fn arm_window<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    within(d, ARM_WINDOW)
}

/// How long a run may take: [`RUN_TIMEOUT`].
pub fn run_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    within(d, RUN_TIMEOUT)
}

/// A backup catalog's rescan interval, when given: [`RESCAN`].
pub fn rescan_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    within(d, RESCAN).map(Some)
}

/// A tool's timeout, when given: [`RUN_TIMEOUT`].
pub fn run_timeout_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    within(d, RUN_TIMEOUT).map(Some)
}

/// An action's cooldown, when given: [`COOLDOWN`].
pub fn cooldown_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    within(d, COOLDOWN).map(Some)
}

/// A rule's `for`, when given: [`RULE_FOR`].
pub fn rule_for_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    within(d, RULE_FOR).map(Some)
}

/// A health check's `slow`: [`SLOW`].
pub fn slow<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    within(d, SLOW)
}

/// A backup RPO: [`BACKUP_AGE`].
pub fn backup_age<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    within(d, BACKUP_AGE)
}

/// A backup cadence or retention, one per type: each value held to
/// [`BACKUP_AGE`] where it is written, so an error points at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupAge(pub Duration);

impl<'de> Deserialize<'de> for BackupAge {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        backup_age(d).map(BackupAge)
    }
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
    parse_within(s, POLL)
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

    #[test]
    fn the_largest_humantime_value_is_past_every_bound() {
        let huge = "18446744073709551615s";
        for b in
            [POLL, WALL_CYCLE, HISTORY, ARM_WINDOW, RUN_TIMEOUT, RESCAN, COOLDOWN, RULE_FOR, SLOW, BACKUP_AGE]
        {
            let err = parse_within(huge, b).expect_err("past the bound");
            assert!(err.contains("out of range"), "{err}");
            assert_eq!(parse_within(&humantime::format_duration(b.max).to_string(), b), Ok(b.max));
        }
        assert!(parse_within("11years", BACKUP_AGE).unwrap_err().contains("allowed 1s to 10years"));
    }
}
