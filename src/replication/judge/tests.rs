use std::time::Duration;

use super::*;
use crate::replication::model::{Channel, LinkState};

fn addr(port: u16) -> MemberAddr {
    MemberAddr::Tcp { host: "127.0.0.1".into(), port }
}

fn status(role: Role, read_only: Option<bool>) -> Status {
    Status {
        role,
        version: "PostgreSQL 15.18".into(),
        read_only,
        position: None,
        channels: vec![],
        downstreams: vec![],
        downstreams_unknown: None,
        slots: vec![],
        facts: vec![],
        warnings: vec![],
    }
}

fn walsender(name: &str, lag: Lag) -> Downstream {
    Downstream {
        name: name.into(),
        addr: Some("127.0.0.1".into()),
        state: "streaming".into(),
        sync: Some("async".into()),
        lag,
        lag_bytes: Some(4_300_000),
        facts: vec![],
    }
}

/// A standby of 127.0.0.1:5432 whose own estimate is the replay timestamp's age.
fn standby(own: Lag) -> Status {
    Status {
        channels: vec![Channel {
            name: String::new(),
            upstream: Some("localhost:5432".into()),
            state: LinkState::ReplayPaused,
            lag: own,
            lag_source: "standby: replay timestamp's age",
            peer_name: Some("walreceiver".into()),
            apply_backlog_bytes: Some(100),
            applied_position: None,
            last_error: None,
            facts: vec![],
        }],
        ..status(Role::Replica, Some(true))
    }
}

fn judged(primary: Option<&Status>, own: Lag) -> Status {
    let members = [addr(5432), addr(5433)];
    let mut s = standby(own);
    let statuses = [primary, None];
    lag_from_upstream(ClusterKind::Postgres, &members, 1, &mut s, &statuses);
    s
}

#[test]
fn the_primarys_walsender_replaces_the_standbys_own_estimate() {
    // Idle 19 minutes, one write: the standby's clock says 1128 s, the primary 0.2 s.
    let primary = Status {
        downstreams: vec![walsender("walreceiver", Lag::Behind(Duration::from_millis(200)))],
        ..status(Role::Primary, Some(false))
    };
    let s = judged(Some(&primary), Lag::Behind(Duration::from_secs(1128)));
    let ch = &s.channels[0];
    assert_eq!(ch.lag, Lag::Behind(Duration::from_millis(200)));
    assert_eq!(ch.lag_source, UPSTREAM_SOURCE);
    let fact = |k: &str| ch.facts.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    assert_eq!(fact("standby's own estimate"), Some("1128.0 s (standby: replay timestamp's age)"));
    assert_eq!(fact("not replayed (upstream)"), Some("4300000 B"));
}

#[test]
fn a_standby_that_never_replayed_takes_the_primarys_figure() {
    let primary = Status {
        downstreams: vec![walsender("walreceiver", Lag::Behind(Duration::from_millis(6900)))],
        ..status(Role::Primary, Some(false))
    };
    let s = judged(Some(&primary), Lag::Unknown("nothing replayed yet".into()));
    assert_eq!(s.channels[0].lag, Lag::Behind(Duration::from_millis(6900)));
}

#[test]
fn without_a_single_matching_walsender_the_standby_keeps_its_own() {
    let own = Lag::Behind(Duration::from_secs(3));
    // The primary did not answer.
    assert_eq!(judged(None, own.clone()).channels[0].lag, own);
    // Two walsenders from the host, both with the default name: ambiguous.
    let two = Status {
        downstreams: vec![walsender("walreceiver", Lag::Idle), walsender("walreceiver", Lag::Idle)],
        ..status(Role::Primary, Some(false))
    };
    let s = judged(Some(&two), own.clone());
    assert_eq!(s.channels[0].lag, own);
    assert!(
        s.channels[0].facts.iter().any(|(k, v)| k == "lag measured by" && v.contains("no single walsender"))
    );
    // Two from the host, one by this standby's name: that one.
    let named = Status {
        downstreams: vec![walsender("other", Lag::Idle), walsender("walreceiver", Lag::Unknown("x".into()))],
        ..status(Role::Primary, Some(false))
    };
    assert_eq!(judged(Some(&named), own.clone()).channels[0].lag, Lag::Unknown("x".into()));
    // Details hidden from the role on the primary.
    let hidden = Status {
        downstreams: vec![walsender("walreceiver", Lag::NoPermission)],
        ..status(Role::Primary, None)
    };
    assert_eq!(judged(Some(&hidden), own.clone()).channels[0].lag, own);
}

#[test]
fn writable_means_what_each_engine_means() {
    let pg_primary = status(Role::Primary, Some(false));
    let pg_fenced = status(Role::Primary, Some(true));
    let replica_rw = status(Role::Replica, Some(false));
    assert!(accepts_writes(ClusterKind::Postgres, &pg_primary));
    assert!(!accepts_writes(ClusterKind::Postgres, &pg_fenced));
    assert!(!accepts_writes(ClusterKind::Postgres, &standby(Lag::Idle)));
    // MySQL: read_only=OFF on a replica writes beside its primary.
    assert!(accepts_writes(ClusterKind::Mysql, &replica_rw));
    assert!(!accepts_writes(ClusterKind::Mysql, &pg_fenced));
    assert!(accepts_writes(ClusterKind::Mysql, &status(Role::Primary, None)));
    // Redis: masters only.
    assert!(accepts_writes(ClusterKind::Redis, &pg_primary));
    assert!(!accepts_writes(ClusterKind::Redis, &replica_rw));
}
