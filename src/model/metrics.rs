//! One sample of this node, as the node source collects it.

use std::time::{Duration, Instant};

/// Everything the Metrics tab shows about this node at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSample {
    /// When the sample was taken; history is keyed on it.
    pub at: Instant,
    /// The first sample: CPU use and rates need a second reading and are not
    /// meaningful yet (shown as "…", kept out of history).
    pub warming_up: bool,
    /// Time since boot.
    pub uptime: Duration,
    /// 1, 5 and 15 minute load averages.
    pub load: [f64; 3],
    /// Total CPU busy, percent.
    pub cpu_total: f32,
    /// Each logical core's busy percent.
    pub cpu_per_core: Vec<f32>,
    /// RAM.
    pub memory: MemoryStat,
    /// Swap.
    pub swap: MemoryStat,
    /// Mounted file systems.
    pub disks: Vec<DiskStat>,
    /// Network interfaces.
    pub networks: Vec<NetStat>,
    /// Every process.
    pub processes: Vec<ProcessStat>,
}

/// Memory or swap, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryStat {
    /// Size.
    pub total: u64,
    /// In use (for RAM: total minus available, as `free` counts it).
    pub used: u64,
}

impl MemoryStat {
    /// Used as a percentage of total; 0 when there is none (no swap).
    pub fn percent(&self) -> f64 {
        percent(self.used, self.total)
    }
}

/// One mounted file system and its I/O since the previous sample.
#[derive(Debug, Clone, PartialEq)]
pub struct DiskStat {
    /// Where it is mounted.
    pub mount: String,
    /// Device name.
    pub device: String,
    /// File system type.
    pub fs: String,
    /// Size in bytes.
    pub total: u64,
    /// Bytes available to unprivileged users.
    pub available: u64,
    /// Bytes read per second.
    pub read_per_sec: f64,
    /// Bytes written per second.
    pub write_per_sec: f64,
}

impl DiskStat {
    /// Space used as a percentage.
    pub fn used_percent(&self) -> f64 {
        percent(self.total.saturating_sub(self.available), self.total)
    }
}

/// One network interface's throughput since the previous sample.
#[derive(Debug, Clone, PartialEq)]
pub struct NetStat {
    /// Interface name.
    pub name: String,
    /// Bytes received per second.
    pub rx_per_sec: f64,
    /// Bytes sent per second.
    pub tx_per_sec: f64,
    /// Bytes received since boot.
    pub rx_total: u64,
    /// Bytes sent since boot.
    pub tx_total: u64,
}

impl NetStat {
    /// Loopback traffic is not network traffic for the totals and charts.
    pub fn is_loopback(&self) -> bool {
        self.name == "lo" || self.name.starts_with("lo0")
    }
}

/// One process.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessStat {
    /// Process id.
    pub pid: u32,
    /// Short name.
    pub name: String,
    /// CPU percent of one core (can exceed 100 on several cores, as top shows it).
    pub cpu: f32,
    /// Resident memory in bytes.
    pub memory: u64,
    /// A kernel thread (hidden unless asked for, as htop does).
    pub kernel_thread: bool,
    /// Seconds since the epoch when it started: with the pid, its identity
    /// (pids are reused; an action pinned to one must not hit its successor).
    pub start_time: u64,
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 }
}
