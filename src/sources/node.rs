//! This node, through sysinfo: CPU, load, memory, disks, network, processes.
//! Reading /proc is blocking work, so each sample is taken on tokio's
//! blocking pool and the async task only paces it and sends the result.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use sysinfo::{
    CpuRefreshKind, DiskRefreshKind, Disks, MemoryRefreshKind, Networks, ProcessRefreshKind,
    ProcessesToUpdate, System,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Payload, Update};
use crate::model::metrics::{DiskStat, MemoryStat, NetStat, NodeSample, ProcessStat};

/// The name this source has in the status bar.
pub const SOURCE: &str = "node";

/// Keeps sysinfo's state between samples (rates need the previous counters).
pub struct NodeCollector {
    sys: System,
    disks: Disks,
    networks: Networks,
    last: Instant,
    /// The readings taken by `new` have not been sampled yet.
    unread: bool,
}

impl NodeCollector {
    /// Take the first readings; rates and CPU use need a second one.
    pub fn new() -> Result<NodeCollector, String> {
        let sys = System::new().map_err(|e| format!("cannot read system information: {e}"))?;
        let disks = Disks::new_with_refreshed_list_specifics(disk_refresh())
            .map_err(|e| format!("cannot list disks: {e}"))?;
        let networks = Networks::new_with_refreshed_list()
            .map_err(|e| format!("cannot list network interfaces: {e}"))?;
        let mut collector = NodeCollector { sys, disks, networks, last: Instant::now(), unread: true };
        collector.refresh_system();
        Ok(collector)
    }

    fn refresh_system(&mut self) {
        self.sys.refresh_cpu_specifics(CpuRefreshKind::nothing().with_usage());
        self.sys.refresh_memory_specifics(MemoryRefreshKind::everything());
        self.sys.refresh_processes_specifics(ProcessesToUpdate::All, true, process_refresh());
    }

    /// Read everything once more and turn counters into rates. The first
    /// call uses the readings `new` took, so the first frame need not wait
    /// for a second pass over /proc (its CPU use and rates are warming up).
    pub fn sample(&mut self) -> Result<NodeSample, String> {
        let first = std::mem::take(&mut self.unread);
        if !first {
            self.refresh_system();
            self.disks.refresh_specifics(true, disk_refresh());
            self.networks.refresh(true);
        }
        let sys = &self.sys;
        let now = Instant::now();
        let since = now.duration_since(self.last);
        let secs = since.as_secs_f64().max(0.001);
        self.last = now;

        let load = System::load_average().map(|l| [l.one, l.five, l.fifteen]).unwrap_or([0.0; 3]);
        let uptime = System::uptime().map(Duration::from_secs).unwrap_or_default();
        let total = sys.total_memory();
        let disks = self.disk_stats(secs);
        let networks = self.net_stats(secs);
        let sys = &self.sys;
        Ok(NodeSample {
            at: now,
            warming_up: first || since < sysinfo::MINIMUM_CPU_UPDATE_INTERVAL,
            uptime,
            load,
            cpu_total: sys.global_cpu_usage(),
            cpu_per_core: sys.cpus().iter().map(|c| c.usage()).collect(),
            memory: MemoryStat { total, used: total.saturating_sub(sys.available_memory()) },
            swap: MemoryStat { total: sys.total_swap(), used: sys.used_swap() },
            disks,
            networks,
            processes: sys
                .processes()
                .values()
                .map(|p| ProcessStat {
                    pid: p.pid().as_u32(),
                    name: p.name().to_string_lossy().into_owned(),
                    cpu: p.cpu_usage(),
                    memory: p.memory(),
                    // Linux kernel threads are children of kthreadd (pid 2).
                    kernel_thread: p.pid().as_u32() == 2 || p.parent().is_some_and(|pp| pp.as_u32() == 2),
                    start_time: p.start_time(),
                })
                .collect(),
        })
    }

    fn disk_stats(&self, secs: f64) -> Vec<DiskStat> {
        // Bind mounts and container overlays list one file system many times;
        // keep the first mount of each (device, size) pair.
        let mut seen = HashSet::new();
        let mut out: Vec<DiskStat> = self
            .disks
            .iter()
            .filter(|d| d.total_space() > 0)
            .filter(|d| seen.insert((d.name().to_owned(), d.total_space(), d.mount_point().to_owned())))
            .map(|d| {
                let io = d.usage();
                DiskStat {
                    mount: d.mount_point().to_string_lossy().into_owned(),
                    device: d.name().to_string_lossy().into_owned(),
                    fs: d.file_system().to_string_lossy().into_owned(),
                    total: d.total_space(),
                    available: d.available_space(),
                    read_per_sec: io.read_bytes as f64 / secs,
                    write_per_sec: io.written_bytes as f64 / secs,
                }
            })
            .collect();
        out.sort_by(|a, b| a.mount.cmp(&b.mount));
        out
    }

    fn net_stats(&self, secs: f64) -> Vec<NetStat> {
        let mut out: Vec<NetStat> = self
            .networks
            .iter()
            .map(|(name, data)| NetStat {
                name: name.to_string_lossy().into_owned(),
                rx_per_sec: data.received() as f64 / secs,
                tx_per_sec: data.transmitted() as f64 / secs,
                rx_total: data.total_received(),
                tx_total: data.total_transmitted(),
            })
            .collect();
        // Loopback last, the rest by name: a stable order that does not jump.
        out.sort_by(|a, b| (a.is_loopback(), &a.name).cmp(&(b.is_loopback(), &b.name)));
        out
    }
}

fn process_refresh() -> ProcessRefreshKind {
    // Threads are not processes here (top and htop list processes too).
    ProcessRefreshKind::nothing().with_cpu().with_memory().without_tasks()
}

fn disk_refresh() -> DiskRefreshKind {
    DiskRefreshKind::nothing().with_storage().with_io_usage()
}

/// When to sample after `sampled`: the warming-up sample is followed as
/// soon as CPU use can be measured; after that whole-second periods tick on
/// the wall-clock second, like the status bar clock, so both share a frame.
fn next_sample_at(warming_up: bool, period: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    if warming_up {
        now + sysinfo::MINIMUM_CPU_UPDATE_INTERVAL
    } else if period.subsec_nanos() == 0 && period >= Duration::from_secs(1) {
        super::next_wall_second(Duration::ZERO) + (period - Duration::from_secs(1))
    } else {
        now + period
    }
}

/// Start the poller. It stops when `cancel` fires or the app hangs up.
pub fn spawn(tx: mpsc::Sender<Update>, period: Duration, cancel: CancellationToken) {
    tokio::spawn(async move {
        tokio::select! {
            () = cancel.cancelled() => {}
            () = run(tx, period) => {}
        }
    });
}

async fn run(tx: mpsc::Sender<Update>, period: Duration) {
    let mut collector = match tokio::task::spawn_blocking(NodeCollector::new).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            let _ = tx.send(Update::now(SOURCE, Err(e))).await;
            return;
        }
        Err(e) => {
            let _ = tx.send(Update::now(SOURCE, Err(format!("collector panicked: {e}")))).await;
            return;
        }
    };
    // Memory, disks and the process list are known at once, so the first
    // sample goes out now (flagged warming up); CPU use and rates are
    // differences of two readings and follow as soon as sysinfo allows.
    loop {
        let joined = tokio::task::spawn_blocking(move || {
            let result = collector.sample();
            (collector, result)
        })
        .await;
        let (back, result) = match joined {
            Ok(pair) => pair,
            Err(e) => {
                let _ = tx.send(Update::now(SOURCE, Err(format!("collector panicked: {e}")))).await;
                return;
            }
        };
        collector = back;
        let warming_up = result.as_ref().is_ok_and(|s| s.warming_up);
        let payload = result.map(|s| Payload::Node(Box::new(s)));
        if tx.send(Update::now(SOURCE, payload)).await.is_err() {
            return; // the app has gone
        }
        tokio::time::sleep_until(next_sample_at(warming_up, period)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_this_node() {
        let mut c = NodeCollector::new().unwrap();
        let first = c.sample().unwrap();
        assert!(first.warming_up, "one reading cannot give CPU use");
        assert!(first.memory.total > 0 && !first.processes.is_empty());
        std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
        let s = c.sample().unwrap();
        assert!(!s.warming_up);
        assert!(!s.cpu_per_core.is_empty());
        assert!((0.0..=100.0).contains(&s.cpu_total), "{}", s.cpu_total);
        assert!(s.memory.total > 0 && s.memory.used <= s.memory.total);
        assert!(s.processes.iter().any(|p| p.pid == std::process::id()));
        assert!(s.uptime > Duration::ZERO);
        for d in &s.disks {
            assert!(d.available <= d.total, "{d:?}");
        }
    }
}
