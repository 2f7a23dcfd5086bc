//! Rows to the shared replication model. Pure, so the judgement calls are
//! tested without a server: when NULL lag means "caught up" and when it
//! means "not known", when a receiver is stopped rather than unreadable.

use std::time::Duration;

use super::parse::{bytes_text, conninfo_upstream, seconds_text, upstream};
use super::queries::{Receiver, Replay, Sender, SlotRow};
use crate::replication::model::{Channel, Downstream, Lag, LinkState, Slot, parse_lsn};

/// The warning when walsender details are hidden from the monitoring role.
pub(super) const SENDERS_HIDDEN: &str = "pg_stat_replication: no permission (grant pg_monitor)";
/// The warning when WAL receiver details are hidden from the monitoring role.
pub(super) const RECEIVER_HIDDEN: &str =
    "pg_stat_wal_receiver: no permission (grant pg_monitor); link state inferred from the receiver process";

/// What the standby says about its WAL receiver and replay, as one channel.
/// `caught_up_ago` is how long since a poll last saw it caught up (see
/// `replay_lag`); `peer_name` the name its upstream's walsender shows.
pub(super) fn channel(
    receiver: Option<&Receiver>,
    replay: &Replay,
    caught_up_ago: Option<Duration>,
    peer_name: Option<String>,
) -> Channel {
    let (lag, lag_source) = replay_lag(replay, caught_up_ago);
    let backlog = match (replay.receive(), replay.replayed()) {
        (Some(received), Some(replayed)) => Some(received.saturating_sub(replayed)),
        _ => None,
    };
    let upstream = receiver.and_then(|r| match (&r.sender_host, r.sender_port) {
        (Some(host), Some(port)) => Some(upstream(host, port)),
        _ => r.conninfo.as_deref().and_then(conninfo_upstream),
    });
    let mut facts = receiver_facts(receiver);
    push(&mut facts, "receive LSN", replay.receive_lsn.clone());
    push(&mut facts, "replay LSN", replay.replay_lsn.clone());
    let pause = replay
        .pause_state
        .clone()
        .or_else(|| Some(if replay.paused { "paused" } else { "not paused" }.into()));
    push(&mut facts, "replay", pause);
    if let Some(age) = replay.last_replayed_age_s {
        let caveat = if lag == Lag::Idle { " (age, not lag: the primary may be idle)" } else { "" };
        facts.push((
            "last replayed transaction".into(),
            format!("{} ago{caveat}", seconds_text(age.max(0.0))),
        ));
    }
    Channel {
        name: String::new(),
        upstream,
        state: link_state(receiver, replay.paused),
        lag,
        lag_source,
        peer_name,
        apply_backlog_bytes: backlog,
        applied_position: replay.replayed(),
        last_error: None,
        facts,
    }
}

/// Paused replay is what an operator did; a missing receiver is what broke.
/// Both at once name both.
pub(super) fn link_state(receiver: Option<&Receiver>, paused: bool) -> LinkState {
    let stopped = || LinkState::Stopped {
        what: if paused { "WAL receiver and replay" } else { "WAL receiver" }.into(),
    };
    let Some(receiver) = receiver else {
        return stopped();
    };
    match receiver.status.as_deref() {
        Some("stopping" | "stopped") => stopped(),
        _ if paused => LinkState::ReplayPaused,
        Some("streaming") => LinkState::Streaming,
        // starting/waiting/restarting today; startup/catchup as older docs and walsenders say.
        Some("starting" | "waiting" | "restarting" | "startup" | "catchup") => LinkState::Connecting,
        Some(_) => stopped(),
        // Status hidden from this role: a receiver process runs, that is all we know.
        None if receiver.pid.is_some() => LinkState::Streaming,
        None => stopped(),
    }
}

/// How `replay_lag` measured, for the details pane.
const BY_BOTH: &str = "standby: at most the replay timestamp's age or the time since last seen caught up";
const BY_REPLAY_AGE: &str = "standby: replay timestamp's age (an upper bound: not yet seen caught up)";
const BY_CAUGHT_UP: &str = "standby: time since last seen caught up (an upper bound)";

/// The standby's own estimate of its lag, the fallback when its upstream
/// cannot be asked (see `replication::judge`). Caught up (replayed all it
/// received) is `Idle`, however old the last replayed commit. Behind, two
/// upper bounds hold and the smaller is shown: the age of the last replayed
/// commit (which after an idle primary is the idle time, not lag), and the
/// time since a poll last saw it caught up (the oldest unreplayed WAL came
/// after that).
pub(super) fn replay_lag(replay: &Replay, caught_up_ago: Option<Duration>) -> (Lag, &'static str) {
    if let (Some(received), Some(replayed)) = (replay.receive(), replay.replayed())
        && replayed >= received
    {
        return (Lag::Idle, BY_BOTH);
    }
    // Clamped: the timestamp is the primary's clock, which may run ahead.
    let age = replay.last_replayed_age_s.map(|a| Duration::from_secs_f64(a.max(0.0)));
    match (age, caught_up_ago) {
        (Some(age), Some(ago)) => (Lag::Behind(age.min(ago)), BY_BOTH),
        (Some(age), None) => (Lag::Behind(age), BY_REPLAY_AGE),
        (None, Some(ago)) => (Lag::Behind(ago), BY_CAUGHT_UP),
        (None, None) => (Lag::Unknown("nothing replayed yet".into()), BY_REPLAY_AGE),
    }
}

/// Whether the standby has replayed everything it received.
pub(super) fn caught_up(replay: &Replay) -> bool {
    matches!((replay.receive(), replay.replayed()), (Some(received), Some(replayed)) if replayed >= received)
}

fn receiver_facts(receiver: Option<&Receiver>) -> Vec<(String, String)> {
    let mut facts = Vec::new();
    let Some(r) = receiver else {
        facts.push(("WAL receiver".into(), "not running".into()));
        return facts;
    };
    let status = r.status.clone().unwrap_or_else(|| "(no permission to read)".into());
    facts.push(("WAL receiver".into(), status));
    push(&mut facts, "receiver pid", r.pid.map(|p| p.to_string()));
    push(&mut facts, "slot", r.slot_name.clone());
    push(&mut facts, "timeline", r.received_tli.map(|t| t.to_string()));
    push(&mut facts, "written LSN", r.written_lsn.clone());
    push(&mut facts, "flushed LSN", r.flushed_lsn.clone());
    push(&mut facts, "received LSN", r.received_lsn.clone());
    push(&mut facts, "latest end LSN", r.latest_end_lsn.clone());
    push(
        &mut facts,
        "last message from upstream",
        r.last_msg_age_s.map(|s| format!("{} ago", seconds_text(s))),
    );
    facts
}

/// A standby as the member feeding it sees it.
pub(super) fn downstream(s: &Sender) -> Downstream {
    let name = match (&s.application_name, s.pid) {
        (Some(app), _) if !app.is_empty() => app.clone(),
        (_, Some(pid)) => format!("walsender {pid}"),
        _ => "walsender".into(),
    };
    let mut facts = Vec::new();
    push(&mut facts, "walsender pid", s.pid.map(|p| p.to_string()));
    push(&mut facts, "user", s.usename.clone());
    push(&mut facts, "sent LSN", s.sent_lsn.clone());
    push(&mut facts, "write LSN", s.write_lsn.clone());
    push(&mut facts, "flush LSN", s.flush_lsn.clone());
    push(&mut facts, "replay LSN", s.replay_lsn.clone());
    push(&mut facts, "write lag", s.write_lag_s.map(seconds_text));
    push(&mut facts, "flush lag", s.flush_lag_s.map(seconds_text));
    push(&mut facts, "replay lag", s.replay_lag_s.map(seconds_text));
    push(&mut facts, "not replayed", s.lag_bytes.map(bytes_text));
    push(&mut facts, "sync priority", s.sync_priority.map(|p| p.to_string()));
    push(&mut facts, "last reply", s.reply_age_s.map(|a| format!("{} ago", seconds_text(a))));
    Downstream {
        name,
        addr: s.client_addr.clone(),
        state: s.state.clone().unwrap_or_else(|| "no permission".into()),
        sync: s.sync_state.clone(),
        lag: downstream_lag(s),
        lag_bytes: s.lag_bytes.map(|b| u64::try_from(b).unwrap_or(0)),
        facts,
    }
}

/// `replay_lag` is NULL both before anything was replayed and once a
/// standby has caught up with an idle primary: only the LSNs tell which.
/// A NULL `state` means the row's details are hidden from this role.
pub(super) fn downstream_lag(s: &Sender) -> Lag {
    let Some(state) = s.state.as_deref() else {
        return Lag::NoPermission;
    };
    if let Some(seconds) = s.replay_lag_s {
        return Lag::Behind(Duration::from_secs_f64(seconds.max(0.0)));
    }
    let sent = s.sent_lsn.as_deref().and_then(parse_lsn);
    let replayed = s.replay_lsn.as_deref().and_then(parse_lsn);
    if state == "streaming" && sent.is_some() && sent == replayed {
        Lag::Idle
    } else {
        Lag::Unknown("no WAL replayed yet".into())
    }
}

/// Whether this role saw walsender rows without their details.
pub(super) fn senders_hidden(senders: &[Sender]) -> bool {
    senders.iter().any(|s| s.state.is_none())
}

/// Whether this role saw the receiver without its details.
pub(super) fn receiver_hidden(receiver: Option<&Receiver>) -> bool {
    receiver.is_some_and(|r| r.status.is_none() && r.pid.is_some())
}

pub(super) fn slot(row: SlotRow) -> Slot {
    Slot {
        name: row.slot_name,
        kind: row.slot_type,
        active: row.active,
        wal_status: row.wal_status,
        safe_wal_size: row.safe_wal_size,
        retained_bytes: row.retained_bytes.map(|b| u64::try_from(b).unwrap_or(0)),
    }
}

fn push(facts: &mut Vec<(String, String)>, key: &str, value: Option<String>) {
    if let Some(value) = value {
        facts.push((key.to_owned(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streaming_sender() -> Sender {
        Sender {
            pid: Some(42),
            application_name: Some("s1".into()),
            state: Some("streaming".into()),
            sent_lsn: Some("0/3000060".into()),
            replay_lsn: Some("0/3000060".into()),
            ..Sender::default()
        }
    }

    #[test]
    fn null_replay_lag_is_idle_only_when_caught_up() {
        let idle = streaming_sender();
        assert_eq!(downstream_lag(&idle), Lag::Idle);
        let behind = Sender { replay_lsn: Some("0/3000000".into()), ..streaming_sender() };
        assert_eq!(downstream_lag(&behind), Lag::Unknown("no WAL replayed yet".into()));
        let catchup = Sender { state: Some("catchup".into()), ..streaming_sender() };
        assert!(matches!(downstream_lag(&catchup), Lag::Unknown(_)));
        let measured = Sender { replay_lag_s: Some(0.25), ..streaming_sender() };
        assert_eq!(downstream_lag(&measured), Lag::Behind(Duration::from_millis(250)));
    }

    #[test]
    fn hidden_walsender_details_are_no_permission_not_blanks() {
        let hidden = Sender { pid: Some(7), application_name: Some("s1".into()), ..Sender::default() };
        let d = downstream(&hidden);
        assert_eq!((d.lag, d.state.as_str(), d.name.as_str()), (Lag::NoPermission, "no permission", "s1"));
        assert!(senders_hidden(&[streaming_sender(), hidden]));
        assert!(!senders_hidden(&[streaming_sender()]));
        let unnamed = Sender { application_name: Some(String::new()), ..streaming_sender() };
        assert_eq!(downstream(&unnamed).name, "walsender 42");
    }

    fn replay(receive: &str, replayed: &str, age: Option<f64>) -> Replay {
        Replay {
            receive_lsn: Some(receive.into()),
            replay_lsn: Some(replayed.into()),
            last_replayed_age_s: age,
            ..Replay::default()
        }
    }

    #[test]
    fn caught_up_standby_is_idle_whatever_the_replay_age() {
        let r = replay("0/5000000", "0/5000000", Some(3600.0));
        assert_eq!(replay_lag(&r, None).0, Lag::Idle);
        let c = channel(None, &r, None, None);
        let age = c.facts.iter().find(|(k, _)| k == "last replayed transaction").map(|(_, v)| v.as_str());
        assert_eq!(age, Some("1h ago (age, not lag: the primary may be idle)"));
        assert_eq!(c.apply_backlog_bytes, Some(0));
    }

    #[test]
    fn behind_standby_lags_by_the_smaller_upper_bound() {
        let r = replay("0/5000100", "0/5000000", Some(2.5));
        assert_eq!(replay_lag(&r, None).0, Lag::Behind(Duration::from_millis(2500)));
        assert_eq!(channel(None, &r, None, None).apply_backlog_bytes, Some(0x100));
        // Idle 19 minutes, then one write not yet replayed: seen caught up a poll ago.
        let after_idle = replay("0/5000100", "0/5000000", Some(1128.0));
        let (lag, how) = replay_lag(&after_idle, Some(Duration::from_secs(1)));
        assert_eq!((lag, how), (Lag::Behind(Duration::from_secs(1)), BY_BOTH));
        assert_eq!(
            replay_lag(&replay("0/5000100", "0/5000000", None), None).0,
            Lag::Unknown("nothing replayed yet".into())
        );
        let never_replayed =
            replay_lag(&replay("0/5000100", "0/5000000", None), Some(Duration::from_secs(4)));
        assert_eq!(never_replayed, (Lag::Behind(Duration::from_secs(4)), BY_CAUGHT_UP));
        assert_eq!(
            replay_lag(&replay("0/5000100", "0/5000000", Some(-3.0)), None).0,
            Lag::Behind(Duration::ZERO)
        );
        assert!(caught_up(&replay("0/5", "0/5", None)) && !caught_up(&after_idle));
    }

    #[test]
    fn link_states() {
        let streaming = Receiver { pid: Some(1), status: Some("streaming".into()), ..Receiver::default() };
        assert_eq!(link_state(Some(&streaming), false), LinkState::Streaming);
        assert_eq!(link_state(Some(&streaming), true), LinkState::ReplayPaused);
        let starting = Receiver { status: Some("starting".into()), ..streaming.clone() };
        assert_eq!(link_state(Some(&starting), false), LinkState::Connecting);
        assert_eq!(link_state(None, false), LinkState::Stopped { what: "WAL receiver".into() });
        assert_eq!(link_state(None, true), LinkState::Stopped { what: "WAL receiver and replay".into() });
        let hidden = Receiver { pid: Some(1), ..Receiver::default() };
        assert_eq!(link_state(Some(&hidden), false), LinkState::Streaming);
        assert!(receiver_hidden(Some(&hidden)) && !receiver_hidden(Some(&streaming)));
    }

    #[test]
    fn upstream_from_sender_columns_else_conninfo() {
        let r = Receiver {
            sender_host: Some("10.0.0.1".into()),
            sender_port: Some(5433),
            conninfo: Some("host=elsewhere port=1".into()),
            ..Receiver::default()
        };
        let replay = Replay::default();
        assert_eq!(channel(Some(&r), &replay, None, None).upstream.as_deref(), Some("10.0.0.1:5433"));
        let old = Receiver { sender_host: None, sender_port: None, ..r };
        assert_eq!(channel(Some(&old), &replay, None, None).upstream.as_deref(), Some("elsewhere:1"));
        assert_eq!(channel(None, &replay, None, None).upstream, None);
    }
}
