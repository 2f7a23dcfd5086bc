//! What an action is aimed at: a row pinned by its immutable identity, with
//! the live fields preconditions and placeholders read. A target can be read
//! again just before execution (`probe`), so the guard decides on what is
//! true now, not on what the screen showed a second ago.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::precondition::FieldValue;
use crate::config::actions::TargetKind;
use crate::model::metrics::{NodeSample, ProcessStat};

/// A pinned target: identity, display name, and its fields when pinned or probed.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// What kind of row it is.
    pub kind: TargetKind,
    /// The identity that must not change between choosing and running
    /// (a process's pid *and* start time; a node's host name).
    pub id: String,
    /// What the operator reads and, for the typed tiers, types.
    pub name: String,
    /// Live fields for preconditions and `{placeholders}`.
    pub fields: BTreeMap<String, FieldValue>,
    /// How to read it again.
    pub probe: Probe,
}

/// How to re-read a target at execution time.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// This node: load and memory read again, the maintenance flag re-read.
    Node {
        /// The maintenance flag file, when configured.
        flag_file: Option<PathBuf>,
    },
    /// A process: gone, or another process with the same pid, aborts.
    Process {
        /// Process id.
        pid: u32,
    },
    /// A SQLite database to back up: gone aborts.
    SqliteDatabase {
        /// The database file.
        path: PathBuf,
    },
    /// A database member: every member of its cluster is polled again and
    /// the fields rebuilt. Never gone: an unreachable member reads `reachable == false`.
    DbMember {
        /// Its cluster (all members are polled: a promote is judged by the others).
        cluster: Box<crate::config::clusters::Cluster>,
        /// The member.
        addr: crate::config::clusters::MemberAddr,
    },
    /// A dump file: gone aborts; another size is another backup.
    BackupFile {
        /// The file.
        path: PathBuf,
        /// Its catalog's name.
        catalog: String,
        /// Its id in the catalog.
        backup: String,
    },
    /// Known only from the app's own data (an alert, a silence): the dialog
    /// re-finds it by identity on every update; the executor takes it as pinned.
    AppData,
}

fn num(v: f64) -> FieldValue {
    FieldValue::Number((v * 100.0).round() / 100.0)
}

fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.to_owned())
}

impl Target {
    /// This node as the Metrics tab shows it. `maintenance` is the flag's
    /// state when a flag file is configured.
    pub fn node(host: &str, sample: Option<&NodeSample>, flag: Option<(PathBuf, bool)>) -> Target {
        let mut fields = BTreeMap::from([("host".to_owned(), text(host))]);
        if let Some(s) = sample {
            if !s.warming_up {
                fields.insert("cpu".into(), num(f64::from(s.cpu_total)));
            }
            fields.insert("memory_percent".into(), num(s.memory.percent()));
            fields.insert("swap_percent".into(), num(s.swap.percent()));
            fields.insert("load_1".into(), num(s.load[0]));
            fields.insert("load_5".into(), num(s.load[1]));
            fields.insert("load_15".into(), num(s.load[2]));
            let worst = s.disks.iter().map(|d| d.used_percent()).fold(0.0, f64::max);
            fields.insert("disk_worst_percent".into(), num(worst));
        }
        let flag_file = flag.map(|(path, on)| {
            fields.insert("maintenance".into(), FieldValue::Bool(on));
            fields.insert("flag_file".into(), text(&path.display().to_string()));
            path
        });
        Target {
            kind: TargetKind::Node,
            id: format!("node:{host}"),
            name: host.to_owned(),
            fields,
            probe: Probe::Node { flag_file },
        }
    }

    /// A process from the last sample.
    pub fn process(p: &ProcessStat) -> Target {
        let fields = BTreeMap::from([
            ("pid".to_owned(), FieldValue::Number(f64::from(p.pid))),
            ("name".to_owned(), text(&p.name)),
            ("cpu".to_owned(), num(f64::from(p.cpu))),
            ("memory_bytes".to_owned(), FieldValue::Number(p.memory as f64)),
            ("start_time".to_owned(), FieldValue::Number(p.start_time as f64)),
        ]);
        Target {
            kind: TargetKind::Process,
            id: process_id(p.pid, p.start_time),
            name: p.name.clone(),
            fields,
            probe: Probe::Process { pid: p.pid },
        }
    }

    /// A SQLite database configured as a `kind = "sqlite"` backup catalog.
    pub fn sqlite_database(name: &str, database: &str, destination: &str) -> Target {
        let size = std::fs::metadata(database).map(|m| m.len() as f64).ok();
        let mut fields = BTreeMap::from([
            ("name".to_owned(), text(name)),
            ("database".to_owned(), text(database)),
            ("destination".to_owned(), text(destination)),
            ("exists".to_owned(), FieldValue::Bool(size.is_some())),
        ]);
        if let Some(size) = size {
            fields.insert("database_bytes".into(), FieldValue::Number(size));
        }
        Target {
            kind: TargetKind::Backup,
            id: format!("sqlite:{name}:{database}"),
            name: name.to_owned(),
            fields,
            probe: Probe::SqliteDatabase { path: PathBuf::from(database) },
        }
    }

    /// A member of a replicated database, with `fields` from
    /// `ops::replication::member_fields`. Pinned by cluster and address: roles
    /// change in a failover, the member stays the same one.
    pub fn db_member(
        cluster: &crate::config::clusters::Cluster,
        addr: &crate::config::clusters::MemberAddr,
        fields: BTreeMap<String, FieldValue>,
    ) -> Target {
        Target {
            kind: TargetKind::Replica,
            id: format!("db:{}:{addr}", cluster.name),
            name: format!("{} {addr}", cluster.name),
            fields,
            probe: Probe::DbMember { cluster: Box::new(cluster.clone()), addr: addr.clone() },
        }
    }

    /// The name as lists show it: a process with its pid, since many share a name.
    pub fn label(&self) -> String {
        match &self.probe {
            Probe::Process { pid } => format!("{} (pid {pid})", self.name),
            _ => self.name.clone(),
        }
    }

    /// An alert in the queue: its identity is its fingerprint; its labels are fields too.
    pub fn alert(a: &crate::alerts::model::Alert) -> Target {
        let mut fields: BTreeMap<String, FieldValue> =
            a.labels.iter().map(|(k, v)| (k.clone(), text(v))).collect();
        fields.insert("fingerprint".into(), text(&a.fingerprint));
        fields.insert("name".into(), text(&a.name));
        fields.insert("severity".into(), text(a.severity.as_str()));
        fields.insert("state".into(), text(a.state.as_str()));
        fields.insert("source".into(), text(&a.source));
        fields.insert("seen_by".into(), text(&a.seen_by.join(",")));
        Target {
            kind: TargetKind::Alert,
            id: format!("alert:{}", a.fingerprint),
            name: a.name.clone(),
            fields,
            probe: Probe::AppData,
        }
    }

    /// An Alertmanager silence.
    pub fn silence(source: &str, s: &crate::sources::Silence) -> Target {
        let matchers: Vec<String> = s.matchers.iter().map(crate::ops::silence::matcher_text).collect();
        let fields = BTreeMap::from([
            ("id".to_owned(), text(&s.id)),
            ("source".to_owned(), text(source)),
            ("created_by".to_owned(), text(&s.created_by)),
            ("comment".to_owned(), text(&s.comment)),
            ("matchers".to_owned(), text(&matchers.join(" "))),
            ("ends_at".to_owned(), text(&s.ends_at.map(|t| t.to_string()).unwrap_or_default())),
        ]);
        Target {
            kind: TargetKind::Silence,
            id: format!("silence:{source}:{}", s.id),
            name: s.id.chars().take(8).collect(),
            fields,
            probe: Probe::AppData,
        }
    }

    /// The fields as placeholder text: strings unquoted, numbers as written.
    pub fn placeholders(&self) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    FieldValue::Text(t) => t.clone(),
                    FieldValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect()
    }

    /// Read the target again, now. `Ok(None)` means it is gone; a target
    /// whose identity changed comes back with a different `id`.
    pub async fn probe(&self) -> Result<Option<Target>, String> {
        if let Probe::DbMember { cluster, addr } = &self.probe {
            return Ok(Some(super::replication::probe(self, cluster, addr).await));
        }
        let pinned = self.clone();
        tokio::task::spawn_blocking(move || pinned.probe_blocking())
            .await
            .map_err(|e| format!("cannot re-read the target: {e}"))?
    }

    fn probe_blocking(&self) -> Result<Option<Target>, String> {
        use sysinfo::{MemoryRefreshKind, Pid, ProcessRefreshKind, ProcessesToUpdate, RefreshKind, System};
        let mut fresh = self.clone();
        match &self.probe {
            Probe::Node { flag_file } => {
                let sys = System::new_with_specifics(
                    RefreshKind::nothing().with_memory(MemoryRefreshKind::everything()),
                )
                .map_err(|e| format!("cannot read system information: {e}"))?;
                if let Ok(load) = System::load_average() {
                    fresh.fields.insert("load_1".into(), num(load.one));
                    fresh.fields.insert("load_5".into(), num(load.five));
                    fresh.fields.insert("load_15".into(), num(load.fifteen));
                }
                let total = sys.total_memory();
                if total > 0 {
                    let used = total.saturating_sub(sys.available_memory());
                    fresh.fields.insert("memory_percent".into(), num(used as f64 * 100.0 / total as f64));
                }
                if let Some(path) = flag_file {
                    let on = match std::fs::metadata(path) {
                        Ok(_) => true,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
                    };
                    fresh.fields.insert("maintenance".into(), FieldValue::Bool(on));
                }
                Ok(Some(fresh))
            }
            Probe::Process { pid } => {
                let mut sys = System::new().map_err(|e| format!("cannot read system information: {e}"))?;
                let pid = Pid::from_u32(*pid);
                sys.refresh_processes_specifics(
                    ProcessesToUpdate::Some(&[pid]),
                    true,
                    ProcessRefreshKind::nothing().with_memory(),
                );
                let Some(p) = sys.process(pid) else { return Ok(None) };
                let name = p.name().to_string_lossy().into_owned();
                fresh.id = process_id(pid.as_u32(), p.start_time());
                fresh.fields.insert("name".into(), text(&name));
                fresh.fields.insert("memory_bytes".into(), FieldValue::Number(p.memory() as f64));
                fresh.fields.insert("start_time".into(), FieldValue::Number(p.start_time() as f64));
                fresh.name = name;
                Ok(Some(fresh))
            }
            // Read in `probe`, on the runtime: it is network work.
            Probe::AppData | Probe::DbMember { .. } => Ok(Some(fresh)),
            Probe::BackupFile { path, catalog, backup } => match std::fs::metadata(path) {
                Ok(m) => {
                    fresh.id = super::backup::file_id(catalog, backup, m.len());
                    fresh.fields.insert("size_bytes".into(), FieldValue::Number(m.len() as f64));
                    Ok(Some(fresh))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("cannot read {}: {e}", path.display())),
            },
            Probe::SqliteDatabase { path } => match std::fs::metadata(path) {
                Ok(m) => {
                    fresh.fields.insert("exists".into(), FieldValue::Bool(true));
                    fresh.fields.insert("database_bytes".into(), FieldValue::Number(m.len() as f64));
                    Ok(Some(fresh))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("cannot read {}: {e}", path.display())),
            },
        }
    }
}

fn process_id(pid: u32, start_time: u64) -> String {
    format!("process:{pid}@{start_time}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_process_is_pinned_by_pid_and_start_time() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        let mut sys = sysinfo::System::new().unwrap();
        let spid = sysinfo::Pid::from_u32(pid);
        sys.refresh_processes(sysinfo::ProcessesToUpdate::Some(&[spid]), true);
        let start_time = sys.process(spid).map(|p| p.start_time()).unwrap();
        let stat =
            ProcessStat { pid, name: "sleep".into(), cpu: 0.0, memory: 0, kernel_thread: false, start_time };
        let pinned = Target::process(&stat);
        let fresh = pinned.probe().await.unwrap().unwrap();
        assert_eq!(fresh.id, pinned.id);
        assert_eq!(fresh.placeholders()["pid"], pid.to_string());

        // Same pid, another start: a different process.
        let impostor = Target::process(&ProcessStat { start_time: start_time - 5, ..stat });
        assert_ne!(impostor.probe().await.unwrap().unwrap().id, impostor.id);

        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(pinned.probe().await.unwrap(), None, "a reaped process is gone");
    }

    #[tokio::test]
    async fn the_node_rereads_its_maintenance_flag() {
        let dir = tempfile::tempdir().unwrap();
        let flag = dir.path().join("flag");
        let pinned = Target::node("db1", None, Some((flag.clone(), false)));
        assert_eq!(pinned.fields["maintenance"], FieldValue::Bool(false));
        std::fs::write(&flag, "drill").unwrap();
        let fresh = pinned.probe().await.unwrap().unwrap();
        assert_eq!(fresh.fields["maintenance"], FieldValue::Bool(true));
        assert_eq!(fresh.id, "node:db1");
        assert!(fresh.fields.contains_key("load_1"));
    }
}
