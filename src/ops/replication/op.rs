//! The replication actions themselves: which engines each applies to, how it
//! is guarded, and the statements it runs, written out for the preview so the
//! operator confirms exactly what will reach the server.

use std::time::Duration;

use crate::config::actions::TargetKind;
use crate::config::clusters::{Cluster, ClusterKind};
use crate::ops::catalog::{ActionDef, Exec};
use crate::ops::guard::Tier;
use crate::ops::precondition::Condition;

/// No other reachable member takes writes (`member_fields`' `writable_elsewhere`).
pub const NO_WRITABLE_ELSEWHERE: &str = "writable_elsewhere == \"none\"";
/// No more than one other member claims to be primary: the old one, fenced.
/// Two means a promote already happened elsewhere; a third is never right.
const PRIMARIES_ELSEWHERE_OK: &str = "primaries_elsewhere <= 1";

/// How long `pg_promote` waits for the standby to leave recovery.
pub const PROMOTE_WAIT: Duration = Duration::from_secs(60);

/// A guarded action on one database member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplOp {
    /// Make a replica the primary (PostgreSQL `pg_promote`, MySQL/MariaDB
    /// stop and forget replication then accept writes, Redis `REPLICAOF NO ONE`).
    Promote,
    /// MySQL/MariaDB `SET GLOBAL read_only = ON`: the failover SOP's first step.
    ReadOnlyOn,
    /// MySQL/MariaDB `SET GLOBAL read_only = OFF`.
    ReadOnlyOff,
    /// PostgreSQL standby: stop applying WAL (it keeps receiving).
    PauseReplay,
    /// PostgreSQL standby: apply again.
    ResumeReplay,
    /// MySQL/MariaDB: stop every replication channel.
    StopReplica,
    /// MySQL/MariaDB: start every replication channel.
    StartReplica,
}

const SQL_ENGINES: &[ClusterKind] = &[ClusterKind::Mysql];
const PG_ONLY: &[ClusterKind] = &[ClusterKind::Postgres];
const EVERY_ENGINE: &[ClusterKind] = &[ClusterKind::Postgres, ClusterKind::Mysql, ClusterKind::Redis];

/// How the MySQL statements are spelled on other flavours and versions.
const MYSQL_SPELLING: &str = "(MariaDB: STOP/START ALL REPLICAS, RESET SLAVE '<connection>' ALL per connection; \
     or STOP SLAVE … on servers before MySQL 8.0.22 / MariaDB 10.5)";

impl ReplOp {
    /// Every action, in menu order.
    pub const ALL: [ReplOp; 7] = [
        ReplOp::Promote,
        ReplOp::ReadOnlyOn,
        ReplOp::ReadOnlyOff,
        ReplOp::PauseReplay,
        ReplOp::ResumeReplay,
        ReplOp::StopReplica,
        ReplOp::StartReplica,
    ];

    /// The action's name: menu, `:` line and audit trail.
    pub fn name(self) -> &'static str {
        match self {
            ReplOp::Promote => "promote_replica",
            ReplOp::ReadOnlyOn => "read_only_on",
            ReplOp::ReadOnlyOff => "read_only_off",
            ReplOp::PauseReplay => "pause_replay",
            ReplOp::ResumeReplay => "resume_replay",
            ReplOp::StopReplica => "stop_replica",
            ReplOp::StartReplica => "start_replica",
        }
    }

    /// The menu's label.
    pub fn label(self) -> &'static str {
        match self {
            ReplOp::Promote => "Promote this replica to primary",
            ReplOp::ReadOnlyOn => "Set read-only ON (SET GLOBAL read_only = ON)",
            ReplOp::ReadOnlyOff => "Set read-only OFF (SET GLOBAL read_only = OFF)",
            ReplOp::PauseReplay => "Pause WAL replay (pg_wal_replay_pause)",
            ReplOp::ResumeReplay => "Resume WAL replay (pg_wal_replay_resume)",
            ReplOp::StopReplica => "Stop replication (STOP REPLICA)",
            ReplOp::StartReplica => "Start replication (START REPLICA)",
        }
    }

    /// The engines it exists for.
    pub fn engines(self) -> &'static [ClusterKind] {
        match self {
            ReplOp::Promote => EVERY_ENGINE,
            ReplOp::PauseReplay | ReplOp::ResumeReplay => PG_ONLY,
            ReplOp::ReadOnlyOn | ReplOp::ReadOnlyOff | ReplOp::StopReplica | ReplOp::StartReplica => {
                SQL_ENGINES
            }
        }
    }

    /// Whether it exists for `kind` clusters.
    pub fn applies_to_kind(self, kind: ClusterKind) -> bool {
        self.engines().contains(&kind)
    }

    /// Whether it exists for a member whose `kind` field reads `kind`
    /// (`postgres`, `mysql`, `redis`), as a target carries it.
    pub fn applies_to_kind_name(self, kind: &str) -> bool {
        self.engines().iter().any(|k| k.as_str() == kind)
    }

    /// What it sends to a `kind` member, in order, one statement or command
    /// per line with what its answer must be. Empty for an engine it is not for.
    pub fn statements(self, kind: ClusterKind) -> Vec<String> {
        let lines: &[&str] = match (self, kind) {
            (ReplOp::Promote, ClusterKind::Postgres) => &[
                "SELECT pg_is_in_recovery()  -- must be true: a standby",
                "SELECT pg_promote(true, 60)  -- waits up to 60 s",
                "SELECT pg_is_in_recovery()  -- must now be false",
            ],
            (ReplOp::Promote, ClusterKind::Mysql) => &[
                "SHOW REPLICA STATUS  -- must list a channel: a replica",
                "STOP REPLICA; RESET REPLICA ALL; SET GLOBAL read_only = OFF",
                MYSQL_SPELLING,
                "SHOW REPLICA STATUS, @@read_only  -- must be no channel, OFF",
            ],
            (ReplOp::Promote, ClusterKind::Redis) => &[
                "INFO replication  -- role:slave, else nothing is done",
                "REPLICAOF NO ONE",
                "INFO replication  -- must now say role:master",
            ],
            (ReplOp::ReadOnlyOn, ClusterKind::Mysql) => {
                &["SET GLOBAL read_only = ON", "SELECT @@read_only  -- must now be ON"]
            }
            (ReplOp::ReadOnlyOff, ClusterKind::Mysql) => &[
                "SET GLOBAL read_only = OFF  -- MySQL turns super_read_only off with it",
                "SELECT @@read_only  -- must now be OFF",
            ],
            (ReplOp::PauseReplay, ClusterKind::Postgres) => &[
                "SELECT pg_is_in_recovery()  -- must be true: a standby",
                "SELECT pg_wal_replay_pause()",
                "SELECT pg_is_wal_replay_paused()  -- must now be true",
            ],
            (ReplOp::ResumeReplay, ClusterKind::Postgres) => &[
                "SELECT pg_is_in_recovery()  -- must be true: a standby",
                "SELECT pg_wal_replay_resume()",
                "SELECT pg_is_wal_replay_paused()  -- must now be false",
            ],
            (ReplOp::StopReplica, ClusterKind::Mysql) => &[
                "SHOW REPLICA STATUS  -- must list a channel: a replica",
                "STOP REPLICA",
                MYSQL_SPELLING,
                "SHOW REPLICA STATUS  -- every channel must be stopped",
            ],
            (ReplOp::StartReplica, ClusterKind::Mysql) => &[
                "SHOW REPLICA STATUS  -- must list a channel: a replica",
                "START REPLICA",
                MYSQL_SPELLING,
                "SHOW REPLICA STATUS  -- no channel may stay stopped (waits up to 3 s)",
            ],
            _ => &[],
        };
        lines.iter().map(|l| (*l).to_owned()).collect()
    }

    /// Its definition for the pipeline. Preconditions read `member_fields`.
    pub fn action_def(self) -> ActionDef {
        let (guard, timeout, cooldown, conditions): (_, _, _, &[&str]) = match self {
            // The failover SOP: the candidate is close enough, no other
            // member is already primary in its place, and the old primary
            // no longer takes writes (or is gone).
            ReplOp::Promote => (
                Tier::TypeNameReason,
                Duration::from_secs(90),
                Some(Duration::from_secs(30)),
                &[
                    "reachable == true",
                    "role == \"replica\"",
                    "promote_lag == \"ok\"",
                    PRIMARIES_ELSEWHERE_OK,
                    NO_WRITABLE_ELSEWHERE,
                ],
            ),
            ReplOp::ReadOnlyOn => (Tier::Confirm, Duration::from_secs(30), None, &["reachable == true"]),
            // Opening a second member to writes beside a writable one is split brain.
            ReplOp::ReadOnlyOff => {
                (Tier::Confirm, Duration::from_secs(30), None, &["reachable == true", NO_WRITABLE_ELSEWHERE])
            }
            ReplOp::PauseReplay | ReplOp::ResumeReplay | ReplOp::StopReplica | ReplOp::StartReplica => {
                (Tier::Confirm, Duration::from_secs(30), None, &["reachable == true", "role == \"replica\""])
            }
        };
        ActionDef {
            name: self.name().into(),
            label: self.label().into(),
            applies_to: TargetKind::Replica,
            guard,
            // Literals, tested below: a typo would drop one, which the test catches.
            preconditions: conditions.iter().filter_map(|c| c.parse::<Condition>().ok()).collect(),
            // A promote past the lag limit loses transactions; no reason makes that fine.
            overridable: false,
            // Only the operator may know the writable primary is fenced
            // (its clients cut off): they may say so, and it is audited.
            overridable_conditions: if conditions.contains(&NO_WRITABLE_ELSEWHERE) {
                vec![NO_WRITABLE_ELSEWHERE.to_owned()]
            } else {
                Vec::new()
            },
            mutating: true,
            timeout,
            cooldown,
            key: None,
            needs_reason: false,
            exec: Exec::Replication(self),
        }
    }
}

impl std::fmt::Display for ReplOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The actions for the engines `clusters` use, in menu order; none without clusters.
pub fn action_defs(clusters: &[Cluster]) -> Vec<ActionDef> {
    ReplOp::ALL
        .into_iter()
        .filter(|op| clusters.iter().any(|c| op.applies_to_kind(c.kind)))
        .map(ReplOp::action_def)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_has_its_conditions_and_statements() {
        for op in ReplOp::ALL {
            let def = op.action_def();
            let want = match op {
                ReplOp::Promote => 5,
                ReplOp::ReadOnlyOn => 1,
                _ => 2,
            };
            assert_eq!(def.preconditions.len(), want, "{op}: a built-in condition did not parse");
            assert!(def.mutating && !def.overridable, "{op}");
            for kind in [ClusterKind::Postgres, ClusterKind::Mysql, ClusterKind::Redis] {
                assert_eq!(!op.statements(kind).is_empty(), op.applies_to_kind(kind), "{op} on {kind:?}");
                assert_eq!(op.applies_to_kind(kind), op.applies_to_kind_name(kind.as_str()));
            }
        }
        assert_eq!(ReplOp::Promote.action_def().guard, Tier::TypeNameReason);
        assert_eq!(ReplOp::Promote.action_def().cooldown, Some(Duration::from_secs(30)));
        assert_eq!(ReplOp::Promote.action_def().timeout, Duration::from_secs(90));
        assert!(
            ReplOp::Promote
                .statements(ClusterKind::Postgres)
                .iter()
                .any(|s| s.contains("pg_promote(true, 60)"))
        );
        assert_eq!(PROMOTE_WAIT.as_secs(), 60, "the preview's statement says 60");
    }
}
