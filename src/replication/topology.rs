//! One cluster's members arranged as the tree the tab draws: primaries at
//! the root, each replica under the member it says it replicates from
//! (cascades nest), replicas a primary reports that the config does not
//! list as discovered leaves, and members never reached at the end.
//!
//! Built from each member's last good status only; pure, so the failover
//! cases (two primaries, an orphaned replica, a replica of an unlisted host)
//! are unit-tested without servers.

use super::model::{Downstream, Role, Status};
use crate::config::clusters::{ClusterKind, MemberAddr};

/// One line of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Indentation: 0 for roots.
    pub depth: usize,
    /// What the line is.
    pub kind: NodeKind,
}

/// A configured member, or a replica only its upstream reports.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// `members[index]` of the cluster.
    Member {
        /// Index into the cluster's members.
        index: usize,
        /// Its upstream as it reports it, when no listed member is that upstream.
        orphan_of: Option<String>,
    },
    /// A downstream of `members[parent]` that matches no listed member.
    Discovered {
        /// The member that reports it.
        parent: usize,
        /// What that member says about it.
        downstream: Downstream,
    },
}

/// The tree of one cluster. `statuses[i]` is member i's last good status.
pub fn build(kind: ClusterKind, members: &[MemberAddr], statuses: &[Option<&Status>]) -> Vec<Node> {
    let n = members.len();
    // Each replica's parent: the listed member its first channel names.
    let mut parent: Vec<Option<usize>> = vec![None; n];
    let mut orphan_of: Vec<Option<String>> = vec![None; n];
    for i in 0..n {
        let Some(s) = statuses.get(i).copied().flatten() else { continue };
        if s.role != Role::Replica {
            continue;
        }
        let upstream = s.channels.iter().find_map(|c| c.upstream.clone());
        let found = upstream.as_deref().and_then(|u| members.iter().position(|m| same_endpoint(m, u)));
        match found.filter(|p| *p != i) {
            Some(p) => parent[i] = Some(p),
            None => orphan_of[i] = Some(upstream.unwrap_or_else(|| "an unknown upstream".into())),
        }
    }
    // A cycle (two members naming each other during a failover) would never
    // be drawn from a root: break it by making its lowest index a root.
    for i in 0..n {
        let mut seen = vec![false; n];
        let mut at = i;
        while let Some(p) = parent[at] {
            if seen[p] {
                parent[p] = None;
                break;
            }
            seen[p] = true;
            at = p;
        }
    }
    let mut out = Vec::with_capacity(n);
    let reached = |i: usize| statuses.get(i).copied().flatten().is_some();
    // Roots: primaries first, then orphaned replicas, in config order.
    let roots = (0..n)
        .filter(|&i| reached(i) && parent[i].is_none() && orphan_of[i].is_none())
        .chain((0..n).filter(|&i| reached(i) && parent[i].is_none() && orphan_of[i].is_some()));
    for root in roots.collect::<Vec<_>>() {
        walk(root, 0, kind, members, statuses, &parent, &orphan_of, &mut out);
    }
    out.extend(
        (0..n)
            .filter(|&i| !reached(i))
            .map(|index| Node { depth: 0, kind: NodeKind::Member { index, orphan_of: None } }),
    );
    out
}

#[allow(clippy::too_many_arguments)] // one recursive walk over the arrays `build` made
fn walk(
    at: usize,
    depth: usize,
    kind: ClusterKind,
    members: &[MemberAddr],
    statuses: &[Option<&Status>],
    parent: &[Option<usize>],
    orphan_of: &[Option<String>],
    out: &mut Vec<Node>,
) {
    out.push(Node { depth, kind: NodeKind::Member { index: at, orphan_of: orphan_of[at].clone() } });
    let children: Vec<usize> = (0..members.len()).filter(|&c| parent[c] == Some(at)).collect();
    for &c in &children {
        walk(c, depth + 1, kind, members, statuses, parent, orphan_of, out);
    }
    let Some(s) = statuses.get(at).copied().flatten() else { return };
    // Downstreams that no listed child accounts for are discovered replicas.
    let mut unclaimed: Vec<&MemberAddr> = children.iter().map(|&c| &members[c]).collect();
    for d in &s.downstreams {
        let claimed = unclaimed.iter().position(|m| downstream_is(kind, d, m));
        match claimed {
            Some(k) => {
                unclaimed.remove(k);
            }
            None => out.push(Node {
                depth: depth + 1,
                kind: NodeKind::Discovered { parent: at, downstream: d.clone() },
            }),
        }
    }
}

/// Does `reported` (`host:port` as a server printed it) name `member`?
/// Loopback spellings are one host: a replica set up with `localhost`
/// reports its upstream as it was told, not as the config lists it.
pub fn same_endpoint(member: &MemberAddr, reported: &str) -> bool {
    let MemberAddr::Tcp { host, port } = member else { return false };
    let Some((h, p)) = split_host_port(reported) else { return false };
    p == *port && same_host(host, h)
}

/// Does downstream `d` (as an upstream reports it) describe `member`?
/// PostgreSQL reports only the client's address (its port is the
/// connection's, not the one it listens on), so the host must do.
pub fn downstream_is(kind: ClusterKind, d: &Downstream, member: &MemberAddr) -> bool {
    let Some(addr) = d.addr.as_deref() else { return false };
    match (kind, member) {
        (ClusterKind::Postgres, MemberAddr::Tcp { host, .. }) => same_host(host, addr),
        (ClusterKind::Postgres, MemberAddr::Socket(_)) => addr.is_empty() || addr == "local",
        _ => same_endpoint(member, addr),
    }
}

fn split_host_port(s: &str) -> Option<(&str, u16)> {
    let (h, p) = s.rsplit_once(':')?;
    let h = h.trim_start_matches('[').trim_end_matches(']');
    Some((h, p.parse().ok()?))
}

fn same_host(a: &str, b: &str) -> bool {
    let loopback = |h: &str| {
        h.eq_ignore_ascii_case("localhost") || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    };
    a.eq_ignore_ascii_case(b) || (loopback(a) && loopback(b))
}

#[cfg(test)]
mod tests;
