//! Whose word counts. Two sides of a link report on it, and during an
//! incident they disagree: this is where the tab decides which one it shows
//! as *the* lag, and which members take writes.
//!
//! PostgreSQL: a standby cannot measure its own lag in time. The only
//! clock it has is `pg_last_xact_replay_timestamp()`, the commit time of the
//! last transaction it replayed, and after the primary was idle for N
//! minutes the first write makes that look like N minutes of lag. The
//! primary's walsender measures the real thing (`pg_stat_replication`
//! `replay_lag`, interpolated while the standby is stuck) and the bytes
//! (`pg_wal_lsn_diff`), so when the standby's upstream answered, its account
//! replaces the standby's own, which is kept as a fact for the details pane.

use super::model::{Downstream, Lag, Role, Status};
use super::topology::{downstream_is, same_endpoint};
use crate::config::clusters::{ClusterKind, MemberAddr};

/// How `Channel::lag_source` reads when the upstream's walsender measured it.
pub const UPSTREAM_SOURCE: &str = "pg_stat_replication on its upstream";

/// Whether a member takes writes, by its engine's meaning of "writable".
/// PostgreSQL: out of recovery and not `default_transaction_read_only`.
/// MySQL/MariaDB: `read_only=OFF`, on a replica too (writes there diverge
/// from the primary); a member whose flag could not be read counts when it
/// has no replication channel. Redis: a master (a replica's writes are
/// local and dropped at the next sync, they do not fork the data set).
pub fn accepts_writes(kind: ClusterKind, s: &Status) -> bool {
    match kind {
        ClusterKind::Postgres => s.role == Role::Primary && s.read_only != Some(true),
        ClusterKind::Mysql => s.read_only.map_or(s.role == Role::Primary, |ro| !ro),
        ClusterKind::Redis => s.role == Role::Primary,
    }
}

/// Replace a PostgreSQL standby's own lag estimate with what its upstream's
/// walsender says, when the upstream answered (`statuses[j]` is member j's
/// current good status, `None` when it did not answer) and lists exactly
/// one walsender that is this standby. Other engines are left as they are:
/// MySQL's upstream does not measure lag, Redis's `lag` is the age of the
/// last ack, not of the data.
pub fn lag_from_upstream(
    kind: ClusterKind,
    members: &[MemberAddr],
    me: usize,
    status: &mut Status,
    statuses: &[Option<&Status>],
) {
    if kind != ClusterKind::Postgres || status.role != Role::Replica {
        return;
    }
    let Some(addr) = members.get(me) else { return };
    for channel in &mut status.channels {
        let Some(upstream) = channel.upstream.as_deref() else { continue };
        let Some(up) = members.iter().position(|m| same_endpoint(m, upstream)).filter(|&u| u != me) else {
            continue;
        };
        let Some(up_status) = statuses.get(up).copied().flatten() else { continue };
        let Some(d) = walsender_of(kind, up_status, addr, channel.peer_name.as_deref()) else {
            channel.facts.push((
                "lag measured by".into(),
                format!(
                    "this standby ({}): its upstream lists no single walsender for it",
                    channel.lag_source
                ),
            ));
            continue;
        };
        if d.lag == Lag::NoPermission {
            continue; // hidden from the role on the upstream: the standby's view is all there is
        }
        let own = lag_text(&channel.lag);
        channel.facts.push(("standby's own estimate".into(), format!("{own} ({})", channel.lag_source)));
        channel.lag = d.lag.clone();
        channel.lag_source = UPSTREAM_SOURCE;
        if let Some(bytes) = d.lag_bytes {
            channel.facts.push(("not replayed (upstream)".into(), format!("{bytes} B")));
        }
    }
}

/// The one walsender on `up` that is the standby at `addr`: by the name it
/// connects with when that is unique, else by host when only one walsender
/// comes from that host. Two standbys on one host with the default name are
/// ambiguous, and a guess would show one's lag as the other's.
fn walsender_of<'a>(
    kind: ClusterKind,
    up: &'a Status,
    addr: &MemberAddr,
    name: Option<&str>,
) -> Option<&'a Downstream> {
    let from_host: Vec<&Downstream> =
        up.downstreams.iter().filter(|d| downstream_is(kind, d, addr)).collect();
    if let Some(name) = name {
        let mut named = from_host.iter().filter(|d| d.name == name);
        if let (Some(d), None) = (named.next(), named.next()) {
            return Some(d);
        }
    }
    match from_host.as_slice() {
        [only] => Some(only),
        _ => None,
    }
}

fn lag_text(lag: &Lag) -> String {
    match lag {
        Lag::Behind(d) => format!("{:.1} s", d.as_secs_f64()),
        Lag::Idle => "idle".into(),
        Lag::Unknown(why) => format!("unknown: {why}"),
        Lag::NoPermission => "no permission".into(),
    }
}

#[cfg(test)]
mod tests;
