//! One poll of one member: who it is, then what it receives (standby), what
//! it sends and which slots it keeps. Each part is its own query so that a
//! view the monitoring role may not read costs a warning, not the poll.

use sqlx::PgConnection;

use super::PgMember;
use super::assemble::{self, RECEIVER_HIDDEN, SENDERS_HIDDEN};
use super::errors::{Severity, is_permission_denied, severity};
use super::parse::{conninfo_application_name, seconds_text, timeline_from_walfile, version_label};
use super::queries::{self, Basics, OLDEST_SUPPORTED, Receiver};
use crate::replication::model::{Channel, Lag, Role, Status, parse_lsn};

pub(super) async fn status(member: &PgMember, conn: &mut PgConnection) -> Result<Status, String> {
    let basics = queries::basics(conn).await.map_err(|e| member.explain(&e))?;
    let version = version_label(&basics.version);
    if basics.version_num < OLDEST_SUPPORTED {
        return Err(format!("{version} is not supported: opsdeck needs PostgreSQL 10 or newer"));
    }
    let mut poll = Poll { member, warnings: Vec::new() };
    let (v, in_recovery) = (basics.version_num, basics.in_recovery);

    let mut own = Own::default();
    if in_recovery {
        own.standby(&mut poll, conn, &basics).await?;
    } else {
        own.primary(&mut poll, conn).await?;
    }
    let senders = poll.soft("pg_stat_replication", queries::senders(conn, v, in_recovery).await)?;
    // Unreadable is not "none": a primary that may not list its standbys says so.
    let downstreams_unknown = senders.is_none().then(|| poll.warnings.last().cloned()).flatten();
    let senders = senders.unwrap_or_default();
    if assemble::senders_hidden(&senders) {
        poll.warnings.push(SENDERS_HIDDEN.into());
    }
    let slots = poll.soft("pg_replication_slots", queries::slots(conn, v, in_recovery).await)?;

    Ok(Status {
        role: if in_recovery { Role::Replica } else { Role::Primary },
        version,
        read_only: Some(in_recovery || basics.read_only_setting),
        position: own.position,
        channels: own.channel.into_iter().collect(),
        downstreams: senders.iter().map(assemble::downstream).collect(),
        downstreams_unknown,
        slots: slots.unwrap_or_default().into_iter().map(assemble::slot).collect(),
        facts: member_facts(&basics, own.timeline, own.facts),
        warnings: poll.warnings,
    })
}

/// A poll in progress: the member (to explain errors) and what went unread.
struct Poll<'a> {
    member: &'a PgMember,
    warnings: Vec<String>,
}

impl Poll<'_> {
    /// A query's result, or `None` and a warning when the server refused only
    /// that query; `Err` when the connection itself failed.
    fn soft<T>(&mut self, part: &str, result: Result<T, sqlx::Error>) -> Result<Option<T>, String> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(e) if severity(&e) == Severity::Query => {
                let hint = if is_permission_denied(&e) { " (grant pg_monitor)" } else { "" };
                self.warnings.push(format!("{part}: {}{hint}", self.member.explain(&e)));
                Ok(None)
            }
            Err(e) => Err(self.member.explain(&e)),
        }
    }
}

/// What the member says about its own WAL: position, timeline, and on a
/// standby the channel it receives.
#[derive(Default)]
struct Own {
    position: Option<u64>,
    timeline: Option<String>,
    channel: Option<Channel>,
    facts: Vec<(String, String)>,
}

impl Own {
    async fn primary(&mut self, poll: &mut Poll<'_>, conn: &mut PgConnection) -> Result<(), String> {
        let Some(wal) = poll.soft("WAL position", queries::primary_wal(conn).await)? else {
            return Ok(());
        };
        self.position = parse_lsn(&wal.lsn);
        self.timeline = wal.walfile.as_deref().and_then(timeline_from_walfile).map(|t| t.to_string());
        self.facts.push(("current WAL LSN".into(), wal.lsn));
        if let Some(walfile) = wal.walfile {
            self.facts.push(("current WAL file".into(), walfile));
        }
        Ok(())
    }

    async fn standby(
        &mut self,
        poll: &mut Poll<'_>,
        conn: &mut PgConnection,
        basics: &Basics,
    ) -> Result<(), String> {
        let v = basics.version_num;
        let replay = poll.soft("replay position", queries::replay(conn, v).await)?;
        let receiver = poll.soft("pg_stat_wal_receiver", queries::receiver(conn, v).await)?.flatten();
        if assemble::receiver_hidden(receiver.as_ref()) {
            poll.warnings.push(RECEIVER_HIDDEN.into());
        }
        self.timeline = match receiver.as_ref().and_then(|r| r.received_tli) {
            Some(tli) => Some(tli.to_string()),
            None => poll
                .soft("checkpoint timeline", queries::checkpoint_timeline(conn).await)?
                .flatten()
                .map(|tli| format!("{tli} (last checkpoint)")),
        };
        let caught_up_ago = poll.member.caught_up_ago(replay.as_ref().is_some_and(assemble::caught_up));
        let peer_name = walreceiver_name(receiver.as_ref(), &basics.cluster_name);
        let mut channel = assemble::channel(
            receiver.as_ref(),
            &replay.clone().unwrap_or_default(),
            caught_up_ago,
            peer_name,
        );
        match &replay {
            Some(replay) => self.position = replay.receive().or(replay.replayed()),
            None => channel.lag = Lag::Unknown("replay position unreadable".into()),
        }
        self.channel = Some(channel);
        Ok(())
    }
}

/// The `application_name` the walsender on the upstream shows for this
/// standby: its conninfo's, else `cluster_name`, else PostgreSQL's default.
fn walreceiver_name(receiver: Option<&Receiver>, cluster_name: &str) -> Option<String> {
    let from_conninfo = receiver.and_then(|r| r.conninfo.as_deref()).and_then(conninfo_application_name);
    let name = from_conninfo.unwrap_or_else(|| {
        if cluster_name.is_empty() { "walreceiver".to_owned() } else { cluster_name.to_owned() }
    });
    Some(name)
}

/// Member-wide facts in a stable order: identity first, then settings.
fn member_facts(
    basics: &Basics,
    timeline: Option<String>,
    own: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut facts = vec![
        ("server version".to_owned(), basics.version.clone()),
        ("in recovery".to_owned(), if basics.in_recovery { "yes" } else { "no" }.to_owned()),
    ];
    if let Some(timeline) = timeline {
        facts.push(("timeline".into(), timeline));
    }
    facts.extend(own);
    for (name, value) in &basics.settings {
        let value = if value.is_empty() { "(empty)".to_owned() } else { value.clone() };
        facts.push(((*name).to_owned(), value));
    }
    if let Some(uptime) = basics.uptime_s {
        facts.push(("uptime".into(), seconds_text(uptime)));
    }
    facts
}
