//! From a member's `INFO replication`, `INFO server` and `CONFIG GET repl*`
//! answers to the shared `Status`. Pure, so every mapping decision is tested
//! on recorded answers.

use std::collections::HashMap;
use std::time::Duration;

use super::info::{Info, ReplicaLine};
use crate::replication::model::{Channel, Downstream, Lag, LinkState, Role, Status};

/// Redis's default `repl-ping-replica-period`, assumed when `CONFIG GET` is
/// not allowed.
pub const DEFAULT_PING_PERIOD_SECS: u64 = 10;

/// What `CONFIG GET repl*` says, on a replica whose user may run it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaConfig {
    /// `replica-read-only`.
    pub read_only: Option<bool>,
    /// `repl-ping-replica-period`: how often a master pings an idle link.
    pub ping_period_secs: Option<u64>,
    /// `repl-timeout`: how long a silent link stays `up`.
    pub timeout_secs: Option<u64>,
}

impl ReplicaConfig {
    /// From the `parameter -> value` map `CONFIG GET` returns.
    pub fn from_config(params: &HashMap<String, String>) -> ReplicaConfig {
        let number = |name: &str| params.get(name).and_then(|v| v.trim().parse().ok());
        let read_only = match params.get("replica-read-only").map(|v| v.trim()) {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        };
        ReplicaConfig {
            read_only,
            ping_period_secs: number("repl-ping-replica-period"),
            timeout_secs: number("repl-timeout"),
        }
    }
}

/// Member-wide facts, in this order.
const SERVER_FACTS: &[&str] = &["redis_mode", "run_id", "uptime_in_seconds"];
const REPLICATION_FACTS: &[&str] = &[
    "connected_slaves",
    "master_failover_state",
    "master_replid",
    "master_replid2",
    "second_repl_offset",
    "repl_backlog_active",
    "repl_backlog_size",
    "repl_backlog_first_byte_offset",
    "repl_backlog_histlen",
];
/// A replica's master-link facts, in this order.
const LINK_FACTS: &[&str] = &[
    "master_last_io_seconds_ago",
    "master_link_down_since_seconds",
    "master_sync_total_bytes",
    "master_sync_read_bytes",
    "master_sync_left_bytes",
    "master_sync_perc",
    "master_sync_last_io_seconds_ago",
    "slave_read_repl_offset",
    "slave_repl_offset",
    "slave_priority",
    "slave_read_only",
    "replica_announced",
];

/// Build the status. `config` is empty when `CONFIG GET` was not run or not
/// allowed; the caller adds the warnings.
pub fn build_status(replication: &Info, server: &Info, config: &ReplicaConfig) -> Result<Status, String> {
    let role = role(replication)?;
    let position = replication.number("master_repl_offset");
    let downstreams = replication.replicas().iter().map(|r| downstream(r, position)).collect();
    let (channels, read_only) = match role {
        // A master takes writes whatever its replica-read-only says.
        Role::Primary => (Vec::new(), Some(false)),
        Role::Replica => (
            vec![channel(replication, config)],
            config.read_only.or_else(|| replication.flag("slave_read_only")),
        ),
    };
    let mut facts = server.pick(SERVER_FACTS);
    facts.extend(replication.pick(REPLICATION_FACTS));
    Ok(Status {
        role,
        version: version(server),
        read_only,
        position,
        channels,
        downstreams,
        downstreams_unknown: None,
        slots: Vec::new(),
        facts,
        warnings: Vec::new(),
    })
}

/// `role:master` or `role:slave`.
pub fn role(replication: &Info) -> Result<Role, String> {
    match replication.get("role") {
        Some("master") => Ok(Role::Primary),
        Some("slave" | "replica") => Ok(Role::Replica),
        Some(other) => Err(format!("INFO replication: unknown role {other:?}")),
        None => Err("INFO replication has no role field".into()),
    }
}

/// `"Redis 7.0.15"`; Valkey reports a Redis-compatible `redis_version` too,
/// so its own name and version win when present.
fn version(server: &Info) -> String {
    match (server.get("server_name"), server.get("valkey_version"), server.get("redis_version")) {
        (Some("valkey"), Some(v), _) => format!("Valkey {v}"),
        (_, _, Some(v)) => format!("Redis {v}"),
        _ => "Redis (version not reported)".into(),
    }
}

/// A replica as its master lists it. Redis computes `lag` (seconds since the
/// replica's last ack, sent every second) and a meaningful `offset` only for
/// `online` replicas; one still in its first sync has neither.
fn downstream(line: &ReplicaLine, master_offset: Option<u64>) -> Downstream {
    let online = line.state == "online";
    let lag = match line.lag {
        Some(secs) if online => Lag::Behind(Duration::from_secs(secs)),
        _ if online => Lag::Unknown("lag not reported".into()),
        _ => Lag::Unknown(format!("initial sync ({})", line.state)),
    };
    let lag_bytes = match (master_offset, line.offset) {
        (Some(master), Some(replica)) if online => Some(master.saturating_sub(replica)),
        _ => None,
    };
    let mut facts: Vec<(String, String)> =
        line.offset.map(|o| ("offset".to_owned(), o.to_string())).into_iter().collect();
    facts.extend(line.extra.iter().cloned());
    Downstream {
        name: line.addr(),
        addr: Some(line.addr()),
        state: line.state.clone(),
        sync: None,
        lag,
        lag_bytes,
        facts,
    }
}

/// A replica's one stream: its link to its master.
fn channel(replication: &Info, config: &ReplicaConfig) -> Channel {
    let upstream = match (replication.get("master_host"), replication.get("master_port")) {
        (Some(host), Some(port)) if host.contains(':') => Some(format!("[{host}]:{port}")),
        (Some(host), Some(port)) => Some(format!("{host}:{port}")),
        _ => None,
    };
    let state = if replication.flag("master_sync_in_progress") == Some(true) {
        LinkState::Connecting
    } else if replication.get("master_link_status") == Some("up") {
        LinkState::Streaming
    } else {
        LinkState::Stopped { what: "link down".into() }
    };
    let ping_period = config.ping_period_secs.unwrap_or(DEFAULT_PING_PERIOD_SECS);
    let lag = link_lag(&state, replication.number("master_last_io_seconds_ago"), ping_period);
    let mut facts = replication.pick(LINK_FACTS);
    let settings =
        [("repl-ping-replica-period", config.ping_period_secs), ("repl-timeout", config.timeout_secs)];
    facts.extend(settings.iter().filter_map(|(name, v)| v.map(|v| ((*name).to_owned(), v.to_string()))));
    Channel {
        name: String::new(),
        upstream,
        state,
        lag,
        lag_source: "master_last_io_seconds_ago",
        peer_name: None,
        // Redis applies what it reads at once; slave_read_repl_offset minus
        // slave_repl_offset is at most one read buffer, kept in the facts.
        apply_backlog_bytes: None,
        applied_position: replication.number("slave_repl_offset"),
        last_error: None,
        facts,
    }
}

/// A replica's time lag. Redis measures none on the replica side; what the
/// replica knows is how long ago it last heard from its master
/// (`master_last_io_seconds_ago`). A master sends every write at once and,
/// when idle, only pings every `repl-ping-replica-period` seconds (10 by
/// default: on a healthy idle link the value climbs to 10, it is not ≤ 1 s).
/// So:
/// - heard within the last second: writes are flowing and that second is an
///   honest upper bound of how stale the replica is: `Behind`;
/// - silent for longer, but within the ping period (+1 s for Redis's 1 Hz
///   cron and whole-second rounding): the master would have sent any write at
///   once, so the silence means it had none: `Idle`;
/// - silent past that: a ping is overdue, the master or the path is stuck,
///   and up to that many seconds of writes may be missing: `Behind(silence)`,
///   growing until `repl-timeout` declares the link down.
///
/// A replica that receives continuously but falls behind shows it in bytes:
/// the tab subtracts `applied_position` from its master's `position`.
pub fn link_lag(state: &LinkState, last_io_secs: Option<i64>, ping_period_secs: u64) -> Lag {
    match state {
        LinkState::Connecting => return Lag::Unknown("initial sync in progress".into()),
        LinkState::Stopped { .. } => return Lag::Unknown("link down".into()),
        LinkState::Streaming | LinkState::ReplayPaused => {}
    }
    let Some(silent) = last_io_secs.and_then(|s| u64::try_from(s).ok()) else {
        // -1: Redis has no link to measure.
        return Lag::Unknown("link down".into());
    };
    if silent <= 1 || silent > ping_period_secs.saturating_add(1) {
        Lag::Behind(Duration::from_secs(silent))
    } else {
        Lag::Idle
    }
}

#[cfg(test)]
mod tests {
    use super::super::info::{parse_info, recorded::*};
    use super::*;

    fn status(replication: &str) -> Status {
        build_status(&parse_info(replication), &parse_info(SERVER), &ReplicaConfig::default())
            .expect("status")
    }

    #[test]
    fn a_master_is_primary_with_its_replicas_and_their_byte_lag() {
        let s = status(MASTER_TWO_REPLICAS);
        assert_eq!(s.role, Role::Primary);
        assert_eq!(s.version, "Redis 7.0.15");
        assert_eq!(s.read_only, Some(false));
        assert_eq!(s.position, Some(594));
        assert!(s.channels.is_empty());
        assert_eq!(s.downstreams.len(), 2);
        let first = &s.downstreams[0];
        assert_eq!(first.name, "127.0.0.1:17013");
        assert_eq!(first.addr.as_deref(), Some("127.0.0.1:17013"));
        assert_eq!(first.state, "online");
        assert_eq!(first.lag, Lag::Behind(Duration::from_secs(1)));
        assert_eq!(first.lag_bytes, Some(0));
        assert_eq!(s.downstreams[1].lag_bytes, Some(14));
        assert_eq!(s.downstreams[1].lag, Lag::Behind(Duration::ZERO));
        assert!(s.facts.contains(&("connected_slaves".to_owned(), "2".to_owned())));
        assert_eq!(s.facts[0], ("redis_mode".to_owned(), "standalone".to_owned()));
    }

    #[test]
    fn a_replica_with_its_link_up_streams_from_its_master() {
        let s = status(REPLICA_LINK_UP);
        assert_eq!(s.role, Role::Replica);
        assert_eq!(s.read_only, Some(true), "from slave_read_only when CONFIG GET is not known");
        assert_eq!(s.position, Some(14));
        let c = &s.channels[0];
        assert_eq!(c.upstream.as_deref(), Some("127.0.0.1:17001"));
        assert_eq!(c.state, LinkState::Streaming);
        assert_eq!(c.lag, Lag::Behind(Duration::from_secs(1)));
        assert_eq!(c.lag_source, "master_last_io_seconds_ago");
        assert_eq!(c.applied_position, Some(14));
        assert_eq!(c.apply_backlog_bytes, None);
        assert!(c.facts.contains(&("slave_read_repl_offset".to_owned(), "14".to_owned())));
        assert!(c.facts.contains(&("slave_priority".to_owned(), "100".to_owned())));
        assert!(s.facts.iter().any(|(k, _)| k == "master_replid"));
    }

    #[test]
    fn a_replica_whose_link_is_down_has_unknown_lag_not_zero() {
        let s = status(REPLICA_LINK_DOWN);
        let c = &s.channels[0];
        assert_eq!(c.state, LinkState::Stopped { what: "link down".into() });
        assert_eq!(c.lag, Lag::Unknown("link down".into()));
        assert_eq!(c.lag.seconds(), None);
        assert_eq!(c.applied_position, Some(98));
        assert!(c.facts.contains(&("master_link_down_since_seconds".to_owned(), "3".to_owned())));
    }

    #[test]
    fn a_replica_in_its_first_sync_is_connecting() {
        let s = status(REPLICA_SYNCING);
        let c = &s.channels[0];
        assert_eq!(c.state, LinkState::Connecting);
        assert_eq!(c.lag, Lag::Unknown("initial sync in progress".into()));
        assert!(c.facts.contains(&("master_sync_last_io_seconds_ago".to_owned(), "2".to_owned())));
    }

    #[test]
    fn a_replica_still_syncing_has_no_lag_on_its_masters_side() {
        let text = "role:master\r\nslave0:ip=127.0.0.1,port=17015,state=wait_bgsave,offset=0,lag=0\r\n\
                    master_repl_offset:594\r\n";
        let d = &status(text).downstreams[0];
        assert_eq!(d.lag, Lag::Unknown("initial sync (wait_bgsave)".into()));
        assert_eq!(d.lag_bytes, None, "offset 0 means not acknowledged yet, not 594 bytes behind");
    }

    #[test]
    fn config_get_overrides_info_and_adds_the_ping_period() {
        let params: HashMap<String, String> = [
            ("replica-read-only", "no"),
            ("repl-ping-replica-period", "1"),
            ("repl-timeout", "3"),
            ("repl-backlog-size", "1048576"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let config = ReplicaConfig::from_config(&params);
        assert_eq!(
            config,
            ReplicaConfig { read_only: Some(false), ping_period_secs: Some(1), timeout_secs: Some(3) }
        );
        let s = build_status(&parse_info(REPLICA_LINK_UP), &parse_info(SERVER), &config).expect("status");
        assert_eq!(s.read_only, Some(false));
        assert!(s.channels[0].facts.contains(&("repl-timeout".to_owned(), "3".to_owned())));
    }

    #[test]
    fn link_lag_is_an_upper_bound_idle_within_the_ping_period_and_grows_when_overdue() {
        let up = LinkState::Streaming;
        assert_eq!(link_lag(&up, Some(0), 10), Lag::Behind(Duration::ZERO));
        assert_eq!(link_lag(&up, Some(1), 10), Lag::Behind(Duration::from_secs(1)));
        assert_eq!(link_lag(&up, Some(6), 10), Lag::Idle);
        assert_eq!(link_lag(&up, Some(11), 10), Lag::Idle);
        assert_eq!(link_lag(&up, Some(12), 10), Lag::Behind(Duration::from_secs(12)));
        assert_eq!(link_lag(&up, Some(3), 1), Lag::Behind(Duration::from_secs(3)));
        assert_eq!(link_lag(&up, Some(-1), 10), Lag::Unknown("link down".into()));
        assert_eq!(link_lag(&up, None, 10), Lag::Unknown("link down".into()));
    }

    #[test]
    fn missing_or_unknown_roles_are_errors_and_versions_fall_back() {
        let none =
            build_status(&parse_info("connected_slaves:0"), &Info::default(), &ReplicaConfig::default());
        assert_eq!(none, Err("INFO replication has no role field".into()));
        let odd = build_status(&parse_info("role:sentinel"), &Info::default(), &ReplicaConfig::default());
        assert_eq!(odd, Err("INFO replication: unknown role \"sentinel\"".into()));
        assert_eq!(version(&Info::default()), "Redis (version not reported)");
        let valkey = parse_info("server_name:valkey\r\nredis_version:7.2.4\r\nvalkey_version:8.0.1\r\n");
        assert_eq!(version(&valkey), "Valkey 8.0.1");
    }

    #[test]
    fn ipv6_masters_are_bracketed() {
        let text = "role:slave\r\nmaster_host:::1\r\nmaster_port:6379\r\nmaster_link_status:up\r\n";
        assert_eq!(status(text).channels[0].upstream.as_deref(), Some("[::1]:6379"));
    }
}
