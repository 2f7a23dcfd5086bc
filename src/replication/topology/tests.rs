use super::*;
use crate::replication::model::{Channel, Lag, LinkState};

fn addr(s: &str) -> MemberAddr {
    MemberAddr::parse(s, ClusterKind::Mysql).expect("address")
}

fn primary(downstreams: &[&str]) -> Status {
    Status {
        role: Role::Primary,
        version: "MariaDB 10.11".into(),
        read_only: Some(false),
        position: None,
        channels: vec![],
        downstreams: downstreams
            .iter()
            .map(|a| Downstream {
                name: (*a).into(),
                addr: Some((*a).into()),
                state: String::new(),
                sync: None,
                lag: Lag::Unknown("see the replica".into()),
                lag_bytes: None,
                facts: vec![],
            })
            .collect(),
        downstreams_unknown: None,
        slots: vec![],
        facts: vec![],
        warnings: vec![],
    }
}

fn replica(upstream: &str) -> Status {
    Status {
        role: Role::Replica,
        channels: vec![Channel {
            name: String::new(),
            upstream: Some(upstream.into()),
            state: LinkState::Streaming,
            lag: Lag::Idle,
            lag_source: "Seconds_Behind_Master",
            peer_name: None,
            apply_backlog_bytes: None,
            applied_position: None,
            last_error: None,
            facts: vec![],
        }],
        ..primary(&[])
    }
}

fn shape(nodes: &[Node]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| {
            let what = match &n.kind {
                NodeKind::Member { index, orphan_of: None } => format!("m{index}"),
                NodeKind::Member { index, orphan_of: Some(u) } => format!("m{index} (of {u})"),
                NodeKind::Discovered { downstream, .. } => format!("? {}", downstream.name),
            };
            format!("{}{what}", "  ".repeat(n.depth))
        })
        .collect()
}

#[test]
fn replicas_nest_under_the_member_they_name_and_cascades_nest_deeper() {
    let members = [addr("10.0.0.1:3306"), addr("10.0.0.2:3306"), addr("10.0.0.3:3306")];
    let (p, r1, r2) = (primary(&["10.0.0.2:3306"]), replica("10.0.0.1:3306"), replica("10.0.0.2:3306"));
    let tree = build(ClusterKind::Mysql, &members, &[Some(&p), Some(&r1), Some(&r2)]);
    assert_eq!(shape(&tree), ["m0", "  m1", "    m2"]);
}

#[test]
fn unlisted_downstreams_are_discovered_and_listed_ones_are_not_repeated() {
    let members = [addr("127.0.0.1:6379"), addr("127.0.0.1:6380")];
    let p = primary(&["127.0.0.1:6380", "10.9.9.9:6379"]);
    let r = replica("localhost:6379");
    let tree = build(ClusterKind::Redis, &members, &[Some(&p), Some(&r)]);
    assert_eq!(shape(&tree), ["m0", "  m1", "  ? 10.9.9.9:6379"]);
}

#[test]
fn a_replica_of_an_unlisted_host_is_a_root_that_says_so_and_unreached_members_come_last() {
    let members = [addr("10.0.0.1:3306"), addr("10.0.0.2:3306"), addr("10.0.0.3:3306")];
    let p = primary(&[]);
    let r = replica("10.0.0.7:3306");
    let tree = build(ClusterKind::Mysql, &members, &[None, Some(&r), Some(&p)]);
    assert_eq!(shape(&tree), ["m2", "m1 (of 10.0.0.7:3306)", "m0"]);
}

#[test]
fn two_members_naming_each_other_still_draw_both() {
    let members = [addr("10.0.0.1:3306"), addr("10.0.0.2:3306")];
    let (a, b) = (replica("10.0.0.2:3306"), replica("10.0.0.1:3306"));
    let tree = build(ClusterKind::Mysql, &members, &[Some(&a), Some(&b)]);
    let mut got = shape(&tree);
    got.sort();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().any(|l| l.trim() == "m0") && got.iter().any(|l| l.trim() == "m1"), "{got:?}");
}

#[test]
fn postgres_downstreams_match_by_host_since_the_port_is_the_clients() {
    let members = [addr("127.0.0.1:5432"), addr("127.0.0.1:5433")];
    let mut p = primary(&["127.0.0.1"]);
    p.downstreams[0].name = "walreceiver".into();
    let r = replica("127.0.0.1:5432");
    let tree = build(ClusterKind::Postgres, &members, &[Some(&p), Some(&r)]);
    assert_eq!(shape(&tree), ["m0", "  m1"]);
    assert!(same_endpoint(&members[0], "[::1]:5432"));
    assert!(!same_endpoint(&members[0], "127.0.0.1:5433"));
}
