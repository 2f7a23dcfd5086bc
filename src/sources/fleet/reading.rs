//! One scrape of a node_exporter reduced to what a fleet row needs, and the
//! rates between two scrapes. Counters that went down (the node rebooted,
//! the exporter restarted) give no rate for that interval rather than a
//! negative or a huge one; a series seen for the first time waits for its
//! second scrape.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::exposition::Sample;
use crate::config::fleet::{SKIPPED_FSTYPES, is_virtual_device};

/// The numbers one scrape gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// When the answer arrived: rates divide by the time between two of these.
    pub at: Instant,
    /// `node_cpu_seconds_total` by (cpu, mode).
    cpu: BTreeMap<(String, String), f64>,
    /// `node_network_receive_bytes_total` by device (virtual ones left out).
    rx: BTreeMap<String, f64>,
    /// `node_network_transmit_bytes_total` by device.
    tx: BTreeMap<String, f64>,
    /// Memory in use, percent.
    pub memory_percent: Option<f64>,
    /// The fullest file system that can fill up, percent.
    pub filesystem_percent: Option<f64>,
    /// `node_load1`.
    pub load1: Option<f64>,
}

/// A file system's series, joined by (device, mountpoint, fstype).
#[derive(Default)]
struct Fs {
    avail: Option<f64>,
    size: Option<f64>,
    readonly: bool,
}

impl Reading {
    /// Pick the node_exporter series out of one scrape's samples.
    pub fn new(samples: &[Sample<'_>], at: Instant) -> Reading {
        let mut r = Reading {
            at,
            cpu: BTreeMap::new(),
            rx: BTreeMap::new(),
            tx: BTreeMap::new(),
            memory_percent: None,
            filesystem_percent: None,
            load1: None,
        };
        let (mut mem_total, mut mem_avail) = (None, None);
        let mut filesystems: BTreeMap<(String, String, String), Fs> = BTreeMap::new();
        let label = |s: &Sample<'_>, name: &str| s.label(name).unwrap_or_default().to_owned();
        for s in samples.iter().filter(|s| s.value.is_finite()) {
            match s.name {
                "node_cpu_seconds_total" => {
                    r.cpu.insert((label(s, "cpu"), label(s, "mode")), s.value);
                }
                "node_network_receive_bytes_total" | "node_network_transmit_bytes_total" => {
                    let device = label(s, "device");
                    if !is_virtual_device(&device) {
                        let map = if s.name.contains("receive") { &mut r.rx } else { &mut r.tx };
                        map.insert(device, s.value);
                    }
                }
                "node_memory_MemTotal_bytes" => mem_total = Some(s.value),
                "node_memory_MemAvailable_bytes" => mem_avail = Some(s.value),
                "node_load1" => r.load1 = Some(s.value),
                "node_filesystem_avail_bytes" | "node_filesystem_size_bytes" | "node_filesystem_readonly" => {
                    let key = (label(s, "device"), label(s, "mountpoint"), label(s, "fstype"));
                    let fs = filesystems.entry(key).or_default();
                    match s.name {
                        "node_filesystem_avail_bytes" => fs.avail = Some(s.value),
                        "node_filesystem_size_bytes" => fs.size = Some(s.value),
                        _ => fs.readonly = s.value == 1.0,
                    }
                }
                _ => {}
            }
        }
        r.memory_percent = match (mem_avail, mem_total) {
            (Some(avail), Some(total)) if total > 0.0 => Some(percent_used(avail, total)),
            _ => None,
        };
        r.filesystem_percent = filesystems
            .iter()
            .filter(|((_, _, fstype), fs)| !fs.readonly && !SKIPPED_FSTYPES.contains(&fstype.as_str()))
            .filter_map(|(_, fs)| match (fs.avail, fs.size) {
                (Some(avail), Some(size)) if size > 0.0 => Some(percent_used(avail, size)),
                _ => None,
            })
            .reduce(f64::max);
        r
    }

    /// Whether the scrape had any of the series a row is made of: an answer
    /// without them is some other exporter, or the wrong URL.
    pub fn is_node_exporter(&self) -> bool {
        !self.cpu.is_empty()
            || !self.rx.is_empty()
            || self.load1.is_some()
            || self.memory_percent.is_some()
            || self.filesystem_percent.is_some()
    }

    /// Busy CPU since `prev`, percent: the share of all CPU seconds that
    /// were not idle (as `100 * (1 - avg(rate(idle)))` counts it; iowait is busy).
    pub fn cpu_percent_since(&self, prev: &Reading) -> Option<f64> {
        let total = counter_increase(&prev.cpu, &self.cpu, |_| true)?;
        let idle = counter_increase(&prev.cpu, &self.cpu, |(_, mode)| mode == "idle")?;
        (total > 0.0).then(|| (100.0 * (1.0 - idle / total)).clamp(0.0, 100.0))
    }

    /// Bytes received and sent per second since `prev`.
    pub fn network_since(&self, prev: &Reading) -> (Option<f64>, Option<f64>) {
        let elapsed = self.at.saturating_duration_since(prev.at);
        (rate_per_sec(&prev.rx, &self.rx, elapsed), rate_per_sec(&prev.tx, &self.tx, elapsed))
    }
}

fn percent_used(avail: f64, total: f64) -> f64 {
    (100.0 * (1.0 - avail / total)).clamp(0.0, 100.0)
}

/// How much the counters that `keep` selects grew from `prev` to `cur`,
/// summed over the series both have. `None` when any of them went down (a
/// reset: this interval has no rate) or no series is in both.
fn counter_increase<K: Ord>(
    prev: &BTreeMap<K, f64>,
    cur: &BTreeMap<K, f64>,
    keep: impl Fn(&K) -> bool,
) -> Option<f64> {
    let mut sum = 0.0;
    let mut any = false;
    for (key, now) in cur.iter().filter(|(k, _)| keep(k)) {
        let Some(before) = prev.get(key) else { continue };
        if now < before {
            return None;
        }
        sum += now - before;
        any = true;
    }
    any.then_some(sum)
}

/// The summed per-second increase of the counters from `prev` to `cur`,
/// `elapsed` apart; `None` after a reset, with nothing to compare, or when
/// no time passed.
pub fn rate_per_sec<K: Ord>(
    prev: &BTreeMap<K, f64>,
    cur: &BTreeMap<K, f64>,
    elapsed: Duration,
) -> Option<f64> {
    let secs = elapsed.as_secs_f64();
    if secs < 0.001 {
        return None;
    }
    counter_increase(prev, cur, |_| true).map(|d| d / secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::fleet::exposition::parse;

    fn reading(text: &str, at: Instant) -> Reading {
        Reading::new(&parse(text).unwrap(), at)
    }

    fn cpu(idle0: f64, user0: f64, idle1: f64, user1: f64) -> String {
        let line = |c: u8, mode: &str, v: f64| {
            format!("node_cpu_seconds_total{{cpu=\"{c}\",mode=\"{mode}\"}} {v}\n")
        };
        line(0, "idle", idle0) + &line(0, "user", user0) + &line(1, "idle", idle1) + &line(1, "user", user1)
    }

    #[test]
    fn rates_and_resets() {
        let s = Duration::from_secs;
        let map = |pairs: &[(&str, f64)]| {
            pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>()
        };
        let before = map(&[("eth0", 1000.0), ("eth1", 50.0)]);
        assert_eq!(rate_per_sec(&before, &map(&[("eth0", 3000.0), ("eth1", 50.0)]), s(2)), Some(1000.0));
        // A reset on any device: no rate for this interval, never a negative.
        assert_eq!(rate_per_sec(&before, &map(&[("eth0", 10.0), ("eth1", 60.0)]), s(2)), None);
        // A new device waits for its second scrape; a gone one is ignored.
        assert_eq!(rate_per_sec(&before, &map(&[("eth0", 1100.0), ("wlan0", 9e9)]), s(1)), Some(100.0));
        assert_eq!(rate_per_sec(&before, &map(&[("wlan0", 1.0)]), s(1)), None);
        assert_eq!(rate_per_sec(&before, &before, Duration::ZERO), None);
        assert_eq!(rate_per_sec(&before, &before, s(5)), Some(0.0));
    }

    #[test]
    fn cpu_between_two_scrapes() {
        let t0 = Instant::now();
        let first = reading(&cpu(100.0, 100.0, 100.0, 100.0), t0);
        // 4 CPU seconds passed, 1 of them idle: 75 % busy.
        let second = reading(&cpu(101.0, 102.0, 100.0, 101.0), t0 + Duration::from_secs(2));
        assert_eq!(second.cpu_percent_since(&first), Some(75.0));
        assert_eq!(first.cpu_percent_since(&first), None, "no CPU time passed");
        let rebooted = reading(&cpu(1.0, 1.0, 1.0, 1.0), t0 + Duration::from_secs(4));
        assert_eq!(rebooted.cpu_percent_since(&second), None);
        let idle = reading(&cpu(103.0, 102.0, 102.0, 101.0), t0 + Duration::from_secs(4));
        assert_eq!(idle.cpu_percent_since(&second), Some(0.0));
    }

    #[test]
    fn gauges_and_what_is_left_out() {
        let text = "\
node_memory_MemTotal_bytes 1000
node_memory_MemAvailable_bytes 250
node_load1 0.5
node_filesystem_avail_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 40
node_filesystem_size_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 100
node_filesystem_readonly{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 0
node_filesystem_avail_bytes{device=\"/dev/vdb\",fstype=\"xfs\",mountpoint=\"/srv\"} 10
node_filesystem_size_bytes{device=\"/dev/vdb\",fstype=\"xfs\",mountpoint=\"/srv\"} 100
node_filesystem_avail_bytes{device=\"tmpfs\",fstype=\"tmpfs\",mountpoint=\"/run\"} 0
node_filesystem_size_bytes{device=\"tmpfs\",fstype=\"tmpfs\",mountpoint=\"/run\"} 100
node_filesystem_avail_bytes{device=\"/dev/sr0\",fstype=\"udf\",mountpoint=\"/media/cd\"} 0
node_filesystem_size_bytes{device=\"/dev/sr0\",fstype=\"udf\",mountpoint=\"/media/cd\"} 100
node_filesystem_readonly{device=\"/dev/sr0\",fstype=\"udf\",mountpoint=\"/media/cd\"} 1
node_filesystem_avail_bytes{device=\"nfs\",fstype=\"nfs\",mountpoint=\"/empty\"} 0
node_filesystem_size_bytes{device=\"nfs\",fstype=\"nfs\",mountpoint=\"/empty\"} 0
node_network_receive_bytes_total{device=\"lo\"} 1e12
node_network_receive_bytes_total{device=\"docker0\"} 1e12
node_network_receive_bytes_total{device=\"eth0\"} 100
node_network_transmit_bytes_total{device=\"eth0\"} 200
";
        let t0 = Instant::now();
        let r = reading(text, t0);
        assert_eq!((r.memory_percent, r.load1, r.filesystem_percent), (Some(75.0), Some(0.5), Some(90.0)));
        assert_eq!(r.rx.keys().collect::<Vec<_>>(), ["eth0"]);
        assert!(r.is_node_exporter());
        let later = reading(
            &text.replace("} 100\nnode_network_transmit", "} 400\nnode_network_transmit"),
            t0 + Duration::from_secs(3),
        );
        assert_eq!(later.network_since(&r), (Some(100.0), Some(0.0)));
        let other = reading("http_requests_total 5\nnode_memory_MemTotal_bytes 0\n", t0);
        assert!(!other.is_node_exporter());
        assert_eq!(other.memory_percent, None);
    }
}
