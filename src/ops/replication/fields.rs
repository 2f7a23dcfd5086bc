//! The live facts a database member's preconditions read, built from every
//! member's latest status: promoting a replica is only safe in the light of
//! what the *other* members say (is a primary still up, does it still take
//! writes), so the target's fields are a view of the whole cluster.

use std::collections::BTreeMap;

use crate::config::clusters::{Cluster, MemberAddr};
use crate::ops::precondition::FieldValue;
use crate::replication::judge::accepts_writes;
use crate::replication::model::{Lag, Role, Status};

/// The value `promote_lag` holds when the replica is within the cluster's
/// `promote_max_lag`; anything else says why not, for the dialog.
pub const PROMOTE_LAG_OK: &str = "ok";

/// The fields of `target` in `cluster`, from each member's latest poll (the
/// target's own included; a member missing from `statuses` counts as unreachable).
///
/// - `cluster`, `kind` (`postgres`|`mysql`|`redis`), `member` (its address): text
/// - `reachable`: the target's last poll succeeded
/// - `role`: `primary`, `replica`, or `unknown` when unreachable
/// - `error`: why it is unreachable, one line (never a password: the sources scrub it)
/// - `lag_seconds`: the replica's worst channel lag; absent on a primary and
///   whenever the lag is unknown, so a `lag_seconds <= N` condition fails
/// - `promote_max_lag_seconds`: the cluster's maximum for promote
/// - `promote_lag`: `"ok"` within that maximum, else the reason in words
///   (`"75.2 s, over the 60 s promote_max_lag"`, `"unknown: SQL thread stopped"`)
/// - `read_only`: when the member says
/// - `primary`: the *other* members reporting themselves primary, comma-separated,
///   or `"none reachable"`
/// - `primary_reachable`: some other reachable member is a primary
/// - `primary_read_only`: when known: true only if every such primary refuses writes
/// - `primaries_elsewhere`: how many *other* reachable members report themselves primary
/// - `writable_elsewhere`: the other reachable members that take writes
///   (`judge::accepts_writes`), comma-separated, or `"none"`
pub fn member_fields(
    cluster: &Cluster,
    target: &MemberAddr,
    statuses: &[(MemberAddr, Result<Status, String>)],
) -> BTreeMap<String, FieldValue> {
    let text = |s: &str| FieldValue::Text(s.to_owned());
    let mut fields = BTreeMap::from([
        ("cluster".to_owned(), text(&cluster.name)),
        ("kind".to_owned(), text(cluster.kind.as_str())),
        ("member".to_owned(), text(&target.to_string())),
    ]);
    let max = cluster.promote_max_lag.as_secs_f64();
    fields.insert("promote_max_lag_seconds".into(), FieldValue::Number(round(max)));

    let own = statuses.iter().find(|(addr, _)| addr == target).map(|(_, r)| r);
    let promote_lag = match own {
        Some(Ok(status)) => {
            fields.insert("reachable".into(), FieldValue::Bool(true));
            fields.insert("role".into(), text(status.role.as_str()));
            if let Some(ro) = status.read_only {
                fields.insert("read_only".into(), FieldValue::Bool(ro));
            }
            match replica_lag(status) {
                Ok(seconds) => {
                    fields.insert("lag_seconds".into(), FieldValue::Number(round(seconds)));
                    if seconds <= max {
                        PROMOTE_LAG_OK.to_owned()
                    } else {
                        format!("{} s, over the {} s promote_max_lag", round(seconds), round(max))
                    }
                }
                Err(why) => why,
            }
        }
        Some(Err(e)) => {
            fields.insert("reachable".into(), FieldValue::Bool(false));
            fields.insert("role".into(), text("unknown"));
            fields.insert("error".into(), text(e));
            "unknown: the member is unreachable".to_owned()
        }
        None => {
            fields.insert("reachable".into(), FieldValue::Bool(false));
            fields.insert("role".into(), text("unknown"));
            fields.insert("error".into(), text("not polled yet"));
            "unknown: the member is not polled yet".to_owned()
        }
    };
    fields.insert("promote_lag".into(), FieldValue::Text(promote_lag));

    let primaries: Vec<(&MemberAddr, &Status)> = statuses
        .iter()
        .filter(|(addr, _)| addr != target)
        .filter_map(|(addr, r)| r.as_ref().ok().map(|s| (addr, s)))
        .filter(|(_, s)| s.role == Role::Primary)
        .collect();
    fields.insert("primaries_elsewhere".into(), FieldValue::Number(primaries.len() as f64));
    let writable: Vec<String> = statuses
        .iter()
        .filter(|(addr, _)| addr != target)
        .filter_map(|(addr, r)| r.as_ref().ok().map(|s| (addr, s)))
        .filter(|(_, s)| accepts_writes(cluster.kind, s))
        .map(|(addr, _)| addr.to_string())
        .collect();
    let writable = if writable.is_empty() { "none".to_owned() } else { writable.join(", ") };
    fields.insert("writable_elsewhere".into(), FieldValue::Text(writable));
    let names: Vec<String> = primaries.iter().map(|(addr, _)| addr.to_string()).collect();
    let primary = if names.is_empty() { "none reachable".to_owned() } else { names.join(", ") };
    fields.insert("primary".into(), FieldValue::Text(primary));
    fields.insert("primary_reachable".into(), FieldValue::Bool(!primaries.is_empty()));
    let read_only: Vec<Option<bool>> = primaries.iter().map(|(_, s)| s.read_only).collect();
    // One writable primary is enough for split brain; all must refuse writes to be safe.
    let primary_read_only = if read_only.contains(&Some(false)) {
        Some(false)
    } else if !read_only.is_empty() && read_only.iter().all(|r| *r == Some(true)) {
        Some(true)
    } else {
        None
    };
    if let Some(ro) = primary_read_only {
        fields.insert("primary_read_only".into(), FieldValue::Bool(ro));
    }
    fields
}

/// The worst lag over the replica's channels in seconds, or why there is no number.
fn replica_lag(status: &Status) -> Result<f64, String> {
    if status.role == Role::Primary {
        return Err("n/a: not a replica".into());
    }
    if status.channels.is_empty() {
        return Err("unknown: no replication channel".into());
    }
    let mut worst: f64 = 0.0;
    for channel in &status.channels {
        let named = |why: &str| {
            if status.channels.len() > 1 {
                format!("unknown: channel {:?}: {why}", channel.name)
            } else {
                format!("unknown: {why}")
            }
        };
        worst = worst.max(match &channel.lag {
            Lag::Unknown(why) => return Err(named(why)),
            Lag::NoPermission => return Err(named("no permission to read the lag")),
            lag => lag.seconds().unwrap_or(0.0),
        });
    }
    Ok(worst)
}

/// Two decimals: enough for an operator, stable enough for a display.
fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::clusters::ClusterKind;
    use crate::replication::model::{Channel, LinkState};

    fn cluster(max_lag: u64) -> Cluster {
        Cluster {
            promote_max_lag: Duration::from_secs(max_lag),
            ..Cluster::new("main", ClusterKind::Mysql, vec![addr(1), addr(2), addr(3)])
        }
    }

    fn addr(n: u16) -> MemberAddr {
        MemberAddr::Tcp { host: "127.0.0.1".into(), port: 3300 + n }
    }

    fn status(role: Role, read_only: Option<bool>, lags: Vec<Lag>) -> Status {
        let channels = lags
            .into_iter()
            .enumerate()
            .map(|(i, lag)| Channel {
                name: if i == 0 { String::new() } else { format!("c{i}") },
                upstream: None,
                state: LinkState::Streaming,
                lag,
                lag_source: "Seconds_Behind_Master",
                peer_name: None,
                apply_backlog_bytes: None,
                applied_position: None,
                last_error: None,
                facts: Vec::new(),
            })
            .collect();
        Status {
            role,
            version: "MariaDB 10.11.6".into(),
            read_only,
            position: None,
            channels,
            downstreams: Vec::new(),
            downstreams_unknown: None,
            slots: Vec::new(),
            facts: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn primary(read_only: Option<bool>) -> Result<Status, String> {
        Ok(status(Role::Primary, read_only, Vec::new()))
    }

    fn replica(lags: Vec<Lag>) -> Result<Status, String> {
        Ok(status(Role::Replica, Some(true), lags))
    }

    fn get<'a>(f: &'a BTreeMap<String, FieldValue>, k: &str) -> Option<&'a FieldValue> {
        f.get(k)
    }

    fn t(s: &str) -> Option<FieldValue> {
        Some(FieldValue::Text(s.into()))
    }

    fn b(v: bool) -> Option<FieldValue> {
        Some(FieldValue::Bool(v))
    }

    #[test]
    fn a_replica_within_the_maximum_with_a_writable_primary() {
        let statuses = vec![
            (addr(1), primary(Some(false))),
            (addr(2), replica(vec![Lag::Behind(Duration::from_millis(1234))])),
        ];
        let f = member_fields(&cluster(60), &addr(2), &statuses);
        assert_eq!(get(&f, "cluster").cloned(), t("main"));
        assert_eq!(get(&f, "kind").cloned(), t("mysql"));
        assert_eq!(get(&f, "member").cloned(), t("127.0.0.1:3302"));
        assert_eq!(get(&f, "reachable").cloned(), b(true));
        assert_eq!(get(&f, "role").cloned(), t("replica"));
        assert_eq!(get(&f, "read_only").cloned(), b(true));
        assert_eq!(get(&f, "lag_seconds").cloned(), Some(FieldValue::Number(1.23)));
        assert_eq!(get(&f, "promote_lag").cloned(), t(PROMOTE_LAG_OK));
        assert_eq!(get(&f, "promote_max_lag_seconds").cloned(), Some(FieldValue::Number(60.0)));
        assert_eq!(get(&f, "primary").cloned(), t("127.0.0.1:3301"));
        assert_eq!(get(&f, "primary_reachable").cloned(), b(true));
        assert_eq!(get(&f, "primary_read_only").cloned(), b(false));
        assert_eq!(get(&f, "error"), None);
    }

    #[test]
    fn lag_over_the_maximum_or_unknown_says_why() {
        let over = [(addr(2), replica(vec![Lag::Behind(Duration::from_secs(75))]))];
        let f = member_fields(&cluster(60), &addr(2), &over);
        assert_eq!(get(&f, "lag_seconds").cloned(), Some(FieldValue::Number(75.0)));
        assert_eq!(get(&f, "promote_lag").cloned(), t("75 s, over the 60 s promote_max_lag"));
        assert_eq!(get(&f, "primary").cloned(), t("none reachable"));
        assert_eq!(get(&f, "primary_reachable").cloned(), b(false));
        assert_eq!(get(&f, "primary_read_only"), None);

        let stopped = [(addr(2), replica(vec![Lag::Unknown("SQL thread stopped".into())]))];
        let f = member_fields(&cluster(60), &addr(2), &stopped);
        assert_eq!(get(&f, "lag_seconds"), None, "unknown lag is absent, never 0");
        assert_eq!(get(&f, "promote_lag").cloned(), t("unknown: SQL thread stopped"));

        let hidden = [(addr(2), replica(vec![Lag::Idle, Lag::NoPermission]))];
        let f = member_fields(&cluster(60), &addr(2), &hidden);
        assert_eq!(get(&f, "lag_seconds"), None);
        assert_eq!(
            get(&f, "promote_lag").cloned(),
            t("unknown: channel \"c1\": no permission to read the lag")
        );

        let idle = [(addr(2), replica(vec![Lag::Idle, Lag::Behind(Duration::from_secs(3))]))];
        let f = member_fields(&cluster(60), &addr(2), &idle);
        assert_eq!(get(&f, "lag_seconds").cloned(), Some(FieldValue::Number(3.0)), "the worst channel");
    }

    #[test]
    fn a_primary_has_no_lag_and_sees_only_other_primaries() {
        let statuses = [(addr(1), primary(Some(false))), (addr(2), replica(vec![Lag::Idle]))];
        let f = member_fields(&cluster(60), &addr(1), &statuses);
        assert_eq!(get(&f, "role").cloned(), t("primary"));
        assert_eq!(get(&f, "read_only").cloned(), b(false));
        assert_eq!(get(&f, "lag_seconds"), None);
        assert_eq!(get(&f, "promote_lag").cloned(), t("n/a: not a replica"));
        assert_eq!(get(&f, "primary").cloned(), t("none reachable"), "itself does not count");
        assert_eq!(get(&f, "primary_reachable").cloned(), b(false));
    }

    #[test]
    fn an_unreachable_target_is_not_gone_and_an_unreachable_primary_is_not_counted() {
        let statuses = [
            (addr(1), Err("no answer within 2s".to_owned())),
            (addr(2), Err("connection refused".to_owned())),
            (addr(3), replica(vec![Lag::Idle])),
        ];
        let f = member_fields(&cluster(60), &addr(2), &statuses);
        assert_eq!(get(&f, "reachable").cloned(), b(false));
        assert_eq!(get(&f, "role").cloned(), t("unknown"));
        assert_eq!(get(&f, "error").cloned(), t("connection refused"));
        assert_eq!(get(&f, "read_only"), None);
        assert_eq!(get(&f, "lag_seconds"), None);
        assert_eq!(get(&f, "promote_lag").cloned(), t("unknown: the member is unreachable"));
        assert_eq!(get(&f, "primary").cloned(), t("none reachable"));
        assert_eq!(get(&f, "primary_reachable").cloned(), b(false));

        let f = member_fields(&cluster(60), &addr(3), &statuses[..1]);
        assert_eq!(get(&f, "error").cloned(), t("not polled yet"));
    }

    #[test]
    fn split_brain_primaries_are_listed_and_one_writable_one_is_enough() {
        let statuses = [
            (addr(1), primary(Some(true))),
            (addr(2), replica(vec![Lag::Idle])),
            (addr(3), primary(Some(false))),
        ];
        let f = member_fields(&cluster(60), &addr(2), &statuses);
        assert_eq!(get(&f, "primary").cloned(), t("127.0.0.1:3301, 127.0.0.1:3303"));
        assert_eq!(get(&f, "primary_read_only").cloned(), b(false));

        let fenced = [(addr(1), primary(Some(true))), (addr(3), primary(Some(true)))];
        let f = member_fields(&cluster(60), &addr(2), &fenced);
        assert_eq!(get(&f, "primary_read_only").cloned(), b(true));

        let unsure = [(addr(1), primary(Some(true))), (addr(3), primary(None))];
        let f = member_fields(&cluster(60), &addr(2), &unsure);
        assert_eq!(get(&f, "primary_read_only"), None, "unknown unless every primary says");
    }

    #[test]
    fn promote_guards_count_other_primaries_and_name_the_writable_ones() {
        let n = |v: f64| Some(FieldValue::Number(v));
        // The SOP: the old primary fenced, so nothing else takes writes.
        let fenced = [(addr(1), primary(Some(true))), (addr(2), replica(vec![Lag::Idle]))];
        let f = member_fields(&cluster(60), &addr(2), &fenced);
        assert_eq!(
            (get(&f, "primaries_elsewhere").cloned(), get(&f, "writable_elsewhere").cloned()),
            (n(1.0), t("none"))
        );
        // A MySQL replica with read_only=OFF takes writes too.
        let open_replica = [
            (addr(1), primary(Some(true))),
            (addr(2), replica(vec![Lag::Idle])),
            (addr(3), Ok(status(Role::Replica, Some(false), vec![Lag::Idle]))),
        ];
        let f = member_fields(&cluster(60), &addr(2), &open_replica);
        assert_eq!(get(&f, "writable_elsewhere").cloned(), t("127.0.0.1:3303"));
        // Two others already primary: a promote happened elsewhere.
        let two = [(addr(1), primary(Some(true))), (addr(3), primary(Some(true)))];
        let f = member_fields(&cluster(60), &addr(2), &two);
        assert_eq!(get(&f, "primaries_elsewhere").cloned(), n(2.0));
        let def = crate::ops::replication::ReplOp::Promote.action_def();
        let checks: Vec<_> = def.preconditions.iter().map(|c| c.check(&f)).collect();
        let failed: Vec<&str> = checks.iter().filter(|c| !c.passed).map(|c| c.expr.as_str()).collect();
        assert!(failed.contains(&"primaries_elsewhere <= 1"), "{failed:?}");
        assert!(!def.may_override(&checks), "no reason makes a third primary right");
        // Only the writable-elsewhere check may be overridden.
        let f = member_fields(&cluster(60), &addr(2), &open_replica);
        let checks: Vec<_> = def.preconditions.iter().map(|c| c.check(&f)).collect();
        assert!(def.may_override(&checks));
    }

    #[test]
    fn the_lag_maximum_is_the_targets_clusters() {
        let statuses = [(addr(2), replica(vec![Lag::Behind(Duration::from_millis(1500))]))];
        let f = member_fields(&cluster(1), &addr(2), &statuses);
        assert_eq!(get(&f, "promote_lag").cloned(), t("1.5 s, over the 1 s promote_max_lag"));
        let f = member_fields(&cluster(2), &addr(2), &statuses);
        assert_eq!(get(&f, "promote_lag").cloned(), t(PROMOTE_LAG_OK));
    }
}
