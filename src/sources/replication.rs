//! The Replication tab's pollers: one task per configured database member,
//! each with its own connection and its own timeout, so one hung server
//! never delays another. A member's poll that fails or times out is
//! reported as such, and the tab keeps its last good status with its age.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::mysql::MyMember;
use super::postgres::PgMember;
use super::redis::RedisMember;
use super::{Payload, Update};
use crate::config::clusters::{Cluster, ClusterKind, MemberAddr};
use crate::config::secret::SecretValue;
use crate::replication::model::Status;

/// The name replication updates carry (members report inside the payload).
pub const SOURCE: &str = "replication";

/// Longest wait between polls of a failing member: a member that comes
/// back during a failover must show within seconds, not after a minute.
pub const MAX_RETRY: Duration = Duration::from_secs(10);

/// A connection to one member, whatever its engine.
#[derive(Debug)]
pub enum Member {
    /// PostgreSQL.
    Postgres(PgMember),
    /// MySQL or MariaDB.
    Mysql(MyMember),
    /// Redis.
    Redis(RedisMember),
}

impl Member {
    /// Connect to `addr` of `cluster` with an already resolved password.
    pub async fn connect_with(
        cluster: &Cluster,
        addr: &MemberAddr,
        password: Option<&SecretValue>,
    ) -> Result<Member, String> {
        Ok(match cluster.kind {
            ClusterKind::Postgres => Member::Postgres(PgMember::connect(cluster, addr, password).await?),
            ClusterKind::Mysql => Member::Mysql(MyMember::connect(cluster, addr, password).await?),
            ClusterKind::Redis => Member::Redis(RedisMember::connect(cluster, addr, password).await?),
        })
    }

    /// Resolve the cluster's password (env, file or command), then connect.
    pub async fn connect(cluster: &Cluster, addr: &MemberAddr) -> Result<Member, String> {
        let password = resolve_password(cluster).await?;
        Member::connect_with(cluster, addr, password.as_ref()).await
    }

    /// One poll, bounded by the cluster's timeout.
    pub async fn poll(&self, timeout: Duration) -> Result<Status, String> {
        let poll = async {
            match self {
                Member::Postgres(m) => m.poll().await,
                Member::Mysql(m) => m.poll().await,
                Member::Redis(m) => m.poll().await,
            }
        };
        match tokio::time::timeout(timeout, poll).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {}", humantime::format_duration(timeout))),
        }
    }
}

/// The cluster's password, if it has one.
pub async fn resolve_password(cluster: &Cluster) -> Result<Option<SecretValue>, String> {
    match &cluster.password {
        Some(secret) => secret.resolve().await.map(Some).map_err(|e| format!("password: {e}")),
        None => Ok(None),
    }
}

/// One member's poll, as the tab receives it.
#[derive(Debug)]
pub struct MemberReport {
    /// Index into `Config::clusters`.
    pub cluster: usize,
    /// Index into that cluster's `members`.
    pub member: usize,
    /// Its status, or why there is none this time.
    pub result: Result<Status, String>,
    /// How long the poll took.
    pub took: Duration,
}

/// Start one poller per member of every configured cluster.
pub fn spawn_all(clusters: &[Cluster], tx: &mpsc::Sender<Update>, cancel: &CancellationToken) {
    for (ci, cluster) in clusters.iter().enumerate() {
        let cluster = Arc::new(cluster.clone());
        for mi in 0..cluster.members.len() {
            tokio::spawn(poll_member(Arc::clone(&cluster), ci, mi, tx.clone(), cancel.clone()));
        }
    }
}

async fn poll_member(
    cluster: Arc<Cluster>,
    ci: usize,
    mi: usize,
    tx: mpsc::Sender<Update>,
    cancel: CancellationToken,
) {
    let Some(addr) = cluster.members.get(mi) else { return };
    let mut member: Option<Member> = None;
    let mut failures = 0u32;
    loop {
        let started = Instant::now();
        let once = async {
            if member.is_none() {
                // The password is read again on every reconnect: a rotated
                // one is picked up without a restart.
                let connect = Member::connect(&cluster, addr);
                member = Some(match tokio::time::timeout(cluster.timeout, connect).await {
                    Ok(m) => m?,
                    Err(_) => {
                        return Err(format!(
                            "no answer within {}",
                            humantime::format_duration(cluster.timeout)
                        ));
                    }
                });
            }
            match &member {
                Some(m) => m.poll(cluster.timeout).await,
                None => Err("not connected".to_owned()),
            }
        };
        let result = tokio::select! {
            () = cancel.cancelled() => return,
            r = once => r,
        };
        failures = if result.is_ok() { 0 } else { failures.saturating_add(1) };
        let report = MemberReport { cluster: ci, member: mi, result, took: started.elapsed() };
        if tx.send(Update::now(SOURCE, Ok(Payload::Replication(report)))).await.is_err() {
            return;
        }
        let wait = cluster.interval.saturating_mul(1 << failures.min(3)).min(MAX_RETRY.max(cluster.interval));
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}
