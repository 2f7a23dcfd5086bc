//! The Replication tab's state: every member's last good status with its
//! age, its last error, a bounded lag history, each cluster's tree, and the
//! selection, which follows a member (not a row) as the tree changes shape
//! during a failover.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::alerts::rules::Sample;
use crate::config::clusters::Cluster;
use crate::model::history::History;
use crate::replication::judge;
use crate::replication::model::{LinkState, Role, Status};
use crate::replication::topology::{self, Node, NodeKind};
use crate::sources::replication::MemberReport;

/// How much lag history each member keeps (in memory, bounded).
pub const LAG_HISTORY: Duration = Duration::from_secs(600);

/// One member as the tab knows it.
#[derive(Debug, Clone)]
pub struct MemberState {
    /// The last good status as the tab shows it: `reported`, judged against
    /// the other members (a standby's lag as its upstream measures it).
    pub status: Option<Status>,
    /// The last good status as the member itself reported it.
    pub reported: Option<Status>,
    /// When it arrived.
    pub last_ok: Option<Instant>,
    /// The last poll's error; `None` while polls work.
    pub error: Option<String>,
    /// How long the last poll took.
    pub took: Option<Duration>,
    /// Worst channel lag in seconds per good poll.
    pub lag: History,
}

/// One configured cluster.
#[derive(Debug, Clone)]
pub struct ClusterState {
    /// Its config.
    pub config: Cluster,
    /// Per member, as `config.members`.
    pub members: Vec<MemberState>,
    /// The tree, rebuilt whenever a member's role or upstream may have changed.
    pub tree: Vec<Node>,
}

/// What a row of the tab is, stable across rebuilds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowId {
    /// A cluster's header.
    Cluster(usize),
    /// `clusters[c].members[m]`.
    Member(usize, usize),
    /// A replica reported by `clusters[c]` member `parent`, by its name.
    Discovered(usize, usize, String),
}

/// The tab.
#[derive(Debug, Clone, Default)]
pub struct ReplicationPane {
    /// Every configured cluster, in config order.
    pub clusters: Vec<ClusterState>,
    /// The selected row.
    pub selected: Option<RowId>,
}

impl ReplicationPane {
    /// A pane for the configured clusters, nothing polled yet.
    pub fn new(clusters: &[Cluster], refresh: Duration) -> ReplicationPane {
        let clusters = clusters
            .iter()
            .map(|c| {
                let members = c
                    .members
                    .iter()
                    .map(|_| MemberState {
                        status: None,
                        reported: None,
                        last_ok: None,
                        error: None,
                        took: None,
                        lag: History::new(LAG_HISTORY, c.interval.max(refresh.min(c.interval))),
                    })
                    .collect();
                let mut state = ClusterState { config: c.clone(), members, tree: Vec::new() };
                state.rebuild();
                state
            })
            .collect();
        ReplicationPane { clusters, selected: None }
    }

    /// Fold in one member's poll. Every member is judged again: a primary's
    /// report changes what its standbys' lag is.
    pub fn on_report(&mut self, r: MemberReport, now: Instant) {
        let Some(cluster) = self.clusters.get_mut(r.cluster) else { return };
        let Some(m) = cluster.members.get_mut(r.member) else { return };
        m.took = Some(r.took);
        let reshaped = match r.result {
            Ok(status) => {
                let reshaped = m.reported.as_ref().is_none_or(|old| shape_changed(old, &status));
                m.reported = Some(status);
                m.last_ok = Some(now);
                m.error = None;
                reshaped
            }
            Err(e) => {
                m.error = Some(e);
                false
            }
        };
        cluster.judge_after(r.member);
        let m = &mut cluster.members[r.member];
        if m.error.is_none()
            && let Some(lag) = m.status.as_ref().and_then(worst_lag)
        {
            m.lag.push(now, lag);
        }
        if reshaped {
            cluster.rebuild();
        }
    }

    /// Every row, top to bottom: a header per cluster, then its tree.
    pub fn rows(&self) -> Vec<RowId> {
        let mut out = Vec::new();
        for (ci, c) in self.clusters.iter().enumerate() {
            out.push(RowId::Cluster(ci));
            out.extend(c.tree.iter().map(|n| match &n.kind {
                NodeKind::Member { index, .. } => RowId::Member(ci, *index),
                NodeKind::Discovered { parent, downstream } => {
                    RowId::Discovered(ci, *parent, downstream.name.clone())
                }
            }));
        }
        out
    }

    /// Move the selection by `delta` rows (clamped); selects the first row if none.
    pub fn move_by(&mut self, delta: isize) {
        let rows = self.rows();
        if rows.is_empty() {
            return;
        }
        let at = self.selected.as_ref().and_then(|s| rows.iter().position(|r| r == s));
        let next = match at {
            None => 0,
            Some(i) => i.saturating_add_signed(delta).min(rows.len() - 1),
        };
        self.selected = rows.get(next).cloned();
    }

    /// Jump to the first or last row.
    pub fn jump(&mut self, last: bool) {
        let rows = self.rows();
        self.selected = if last { rows.last().cloned() } else { rows.first().cloned() };
    }

    /// The selected member: its cluster and index.
    pub fn selected_member(&self) -> Option<(&ClusterState, usize)> {
        match &self.selected {
            Some(RowId::Member(c, m)) => self.clusters.get(*c).map(|cs| (cs, *m)),
            _ => None,
        }
    }

    /// Lag, stopped links, slots, unreachable members and split brain as
    /// samples for the rule engine (metrics `replication_writable_members`
    /// per cluster, `replication_lag_seconds`, `replication_stopped`,
    /// `replication_slot_inactive`, `replication_slot_lost`,
    /// `replication_member_down`), labelled by cluster and member.
    pub fn samples(&self) -> Vec<Sample> {
        let mut out = Vec::new();
        for c in &self.clusters {
            // Split brain: more than one member takes writes. The members are
            // named in the label, so the alert says which.
            let writable = c.writable();
            let names: Vec<String> = writable.iter().map(|&i| c.config.members[i].to_string()).collect();
            let mut labels = BTreeMap::from([("cluster".to_owned(), c.config.name.clone())]);
            if writable.len() > 1 {
                labels.insert("members".to_owned(), names.join(", "));
            }
            out.push(Sample {
                metric: "replication_writable_members".into(),
                labels,
                value: writable.len() as f64,
            });
            for (addr, m) in c.config.members.iter().zip(&c.members) {
                let labels = |extra: &[(&str, &str)]| {
                    let mut l = BTreeMap::from([
                        ("cluster".to_owned(), c.config.name.clone()),
                        ("member".to_owned(), addr.to_string()),
                    ]);
                    l.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
                    l
                };
                let sample = |metric: &str, labels, value| Sample { metric: metric.into(), labels, value };
                // Down: the last poll failed (a member never reached counts too).
                let down = m.error.is_some();
                out.push(sample("replication_member_down", labels(&[]), f64::from(u8::from(down))));
                let Some(s) = &m.status else { continue };
                if down {
                    continue; // its last good status is stale: judge nothing by it
                }
                for ch in &s.channels {
                    let l = labels(&[("channel", ch.name.as_str())]);
                    let stopped = matches!(ch.state, LinkState::Stopped { .. });
                    out.push(sample("replication_stopped", l.clone(), f64::from(u8::from(stopped))));
                    if let Some(secs) = ch.lag.seconds() {
                        out.push(sample(&lag_metric(&c.config.name), l, secs));
                    }
                }
                for slot in &s.slots {
                    let l = labels(&[("slot", slot.name.as_str())]);
                    out.push(sample(
                        "replication_slot_inactive",
                        l.clone(),
                        f64::from(u8::from(!slot.active)),
                    ));
                    let lost = matches!(slot.wal_status.as_deref(), Some("lost" | "unreserved"));
                    out.push(sample("replication_slot_lost", l, f64::from(u8::from(lost))));
                }
            }
        }
        out
    }

    /// The worst lag right now over every cluster, in seconds, with its cluster.
    pub fn worst_lag(&self) -> Option<(f64, &str)> {
        self.clusters
            .iter()
            .flat_map(|c| {
                c.members
                    .iter()
                    .filter(|m| m.error.is_none())
                    .filter_map(|m| m.status.as_ref().and_then(worst_lag))
                    .map(move |l| (l, c.config.name.as_str()))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
    }
}

/// The lag metric of one cluster: each cluster has its own thresholds, so
/// each gets its own pair of rules (see `lag_rules`).
pub fn lag_metric(cluster: &str) -> String {
    format!("replication_lag_seconds:{cluster}")
}

/// The worst measured lag of a member's channels, in seconds.
pub fn worst_lag(s: &Status) -> Option<f64> {
    s.channels.iter().filter_map(|c| c.lag.seconds()).max_by(f64::total_cmp)
}

/// Whether the tree may look different: role, upstreams or downstream names.
fn shape_changed(old: &Status, new: &Status) -> bool {
    let upstreams = |s: &Status| s.channels.iter().map(|c| c.upstream.clone()).collect::<Vec<_>>();
    let downs =
        |s: &Status| s.downstreams.iter().map(|d| (d.name.clone(), d.addr.clone())).collect::<Vec<_>>();
    old.role != new.role || upstreams(old) != upstreams(new) || downs(old) != downs(new)
}

impl ClusterState {
    /// The shown status of `reporter` and of every member it feeds, from
    /// what they reported: a standby's lag as its upstream measured it, when
    /// the upstream's last poll worked. The others cannot have changed.
    fn judge_after(&mut self, reporter: usize) {
        let members = &self.config.members;
        let fed_by = |s: &Status, up: usize| {
            s.channels
                .iter()
                .filter_map(|c| c.upstream.as_deref())
                .any(|u| members.get(up).is_some_and(|m| topology::same_endpoint(m, u)))
        };
        let affected: Vec<usize> = (0..self.members.len())
            .filter(|&i| {
                i == reporter || self.members[i].reported.as_ref().is_some_and(|s| fed_by(s, reporter))
            })
            .collect();
        let reported: Vec<Option<&Status>> =
            self.members.iter().map(|m| m.reported.as_ref().filter(|_| m.error.is_none())).collect();
        let judged: Vec<(usize, Option<Status>)> = affected
            .into_iter()
            .map(|i| {
                let status = self.members[i].reported.clone().map(|mut status| {
                    judge::lag_from_upstream(self.config.kind, members, i, &mut status, &reported);
                    status
                });
                (i, status)
            })
            .collect();
        for (i, status) in judged {
            self.members[i].status = status;
        }
    }

    /// The reachable members that take writes now, in config order: more
    /// than one is split brain.
    pub fn writable(&self) -> Vec<usize> {
        let kind = self.config.kind;
        (0..self.members.len())
            .filter(|&i| {
                let m = &self.members[i];
                m.error.is_none() && m.status.as_ref().is_some_and(|s| judge::accepts_writes(kind, s))
            })
            .collect()
    }

    fn rebuild(&mut self) {
        let statuses: Vec<Option<&Status>> = self.members.iter().map(|m| m.status.as_ref()).collect();
        self.tree = topology::build(self.config.kind, &self.config.members, &statuses);
    }

    /// A member's last good status is older than two polls and a timeout:
    /// the value shown is stale and says so.
    pub fn is_stale(&self, m: &MemberState, now: Instant) -> bool {
        let limit = self.config.interval * 2 + self.config.timeout;
        m.last_ok.is_none_or(|t| now.saturating_duration_since(t) > limit)
    }

    /// The member that is primary, if exactly one reachable member says so.
    pub fn primary(&self) -> Option<usize> {
        let mut p =
            self.members.iter().enumerate().filter(|(_, m)| {
                m.error.is_none() && m.status.as_ref().is_some_and(|s| s.role == Role::Primary)
            });
        match (p.next(), p.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    }
}
