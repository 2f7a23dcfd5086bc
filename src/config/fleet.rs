//! `[fleet]` (the node table fed by Prometheus) and `[[nodes]]`
//! (node_exporter targets scraped directly, for small fleets without one).
//! The PromQL defaults are node_exporter's; each is one query for all nodes,
//! aggregated by the instance label, so a poll costs one query per metric
//! however many nodes there are.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::duration;
use super::secret::Secret;
use super::sources::{HttpSource, Named, http_credentials, http_url};

/// Default for `[fleet] interval` and `[[nodes]] interval`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);
/// Default for `[[nodes]] timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// File systems that cannot fill up in a way anyone acts on (memory-backed,
/// layered or read-only images), left out of "worst filesystem" by both sources.
pub const SKIPPED_FSTYPES: &[&str] =
    &["tmpfs", "ramfs", "devtmpfs", "overlay", "squashfs", "iso9660", "nsfs", "autofs", "fuse.lxcfs"];

/// Network device prefixes that carry no traffic of their own (containers,
/// bridges, tunnels repeat what the physical interfaces carry); `lo` is
/// matched exactly. Left out of rx/tx by both sources.
pub const VIRTUAL_DEVICE_PREFIXES: &[&str] =
    &["veth", "docker", "br-", "virbr", "cni", "flannel", "cali", "vxlan", "kube-", "tun", "tap"];

/// Whether network device `name` is loopback or virtual (see `VIRTUAL_DEVICE_PREFIXES`).
pub fn is_virtual_device(name: &str) -> bool {
    name == "lo" || VIRTUAL_DEVICE_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// `[fleet]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawFleetConfig")]
pub struct FleetConfig {
    /// Which `[[prometheus]]` entries feed the node table; `None`: all of them.
    pub prometheus: Option<Vec<String>>,
    /// Time between polls of each Prometheus.
    pub interval: Duration,
    /// One PromQL query per column.
    pub queries: FleetQueries,
    /// The label that names a node in every query's result.
    pub instance_label: String,
}

impl Default for FleetConfig {
    fn default() -> Self {
        let instance_label = "instance".to_owned();
        FleetConfig {
            prometheus: None,
            interval: DEFAULT_INTERVAL,
            queries: FleetQueries::defaults(&instance_label),
            instance_label,
        }
    }
}

impl FleetConfig {
    /// The `[[prometheus]]` servers this table names (all when it names
    /// none), or the first name that no entry has.
    pub fn servers<'a>(&self, all: &'a [HttpSource]) -> Result<Vec<&'a HttpSource>, String> {
        let Some(names) = &self.prometheus else {
            return Ok(all.iter().collect());
        };
        names
            .iter()
            .map(|n| {
                all.iter().find(|s| &s.name == n).ok_or_else(|| {
                    format!("[fleet] prometheus names {n:?}, but no [[prometheus]] entry has that name")
                })
            })
            .collect()
    }
}

/// `[fleet.queries]`: instant queries, each returning one series per node.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetQueries {
    /// Busy CPU, percent.
    pub cpu_percent: String,
    /// Memory in use (not available), percent.
    pub memory_percent: String,
    /// The fullest file system, percent.
    pub filesystem_percent: String,
    /// 1-minute load average.
    pub load1: String,
    /// Bytes received per second.
    pub network_rx_bytes: String,
    /// Bytes sent per second.
    pub network_tx_bytes: String,
    /// 1 when the last scrape worked, 0 when not. Left un-aggregated by
    /// default so `timestamp()` of it is the last scrape's time.
    pub up: String,
}

impl FleetQueries {
    /// node_exporter's queries, grouped by `label`.
    pub fn defaults(label: &str) -> FleetQueries {
        FleetQueries::node_exporter(label, "")
    }

    /// The defaults for one node only: `label="instance"` in every selector,
    /// so Prometheus reads that node's series rather than aggregating the
    /// whole fleet and then dropping all but one (37× faster for one node's
    /// history in a 1,000-node Prometheus).
    pub fn defaults_for(label: &str, instance: &str) -> FleetQueries {
        let value = instance.replace('\\', "\\\\").replace('"', "\\\"");
        FleetQueries::node_exporter(label, &format!("{label}=\"{value}\""))
    }

    /// The node_exporter queries with `matcher` (empty, or `label="value"`)
    /// added to every selector.
    fn node_exporter(label: &str, matcher: &str) -> FleetQueries {
        let sel = |inner: &str| {
            let parts: Vec<&str> = [matcher, inner].into_iter().filter(|p| !p.is_empty()).collect();
            if parts.is_empty() { String::new() } else { format!("{{{}}}", parts.join(", ")) }
        };
        let fs = SKIPPED_FSTYPES.join("|");
        let fs_sel = sel(&format!("fstype!~\"{fs}\""));
        let dev = sel(&format!("device!~\"lo|({}).*\"", VIRTUAL_DEVICE_PREFIXES.join("|")));
        let (cpu, plain) = (sel("mode=\"idle\""), sel(""));
        FleetQueries {
            cpu_percent: format!("100 * (1 - avg by ({label}) (rate(node_cpu_seconds_total{cpu}[2m])))"),
            memory_percent: format!(
                "max by ({label}) (100 * (1 - node_memory_MemAvailable_bytes{plain} / node_memory_MemTotal_bytes{plain}))"
            ),
            filesystem_percent: format!(
                "max by ({label}) (100 * (1 - node_filesystem_avail_bytes{fs_sel} \
                 / (node_filesystem_size_bytes{fs_sel} > 0)) \
                 unless on ({label}, device, mountpoint) node_filesystem_readonly{plain} == 1)"
            ),
            load1: format!("max by ({label}) (node_load1{plain})"),
            network_rx_bytes: format!("sum by ({label}) (rate(node_network_receive_bytes_total{dev}[2m]))"),
            network_tx_bytes: format!("sum by ({label}) (rate(node_network_transmit_bytes_total{dev}[2m]))"),
            up: format!("up{}", sel("job=~\".*node.*\"")),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFleetConfig {
    #[serde(default)]
    prometheus: Option<Vec<String>>,
    #[serde(default = "default_interval", deserialize_with = "duration::refresh")]
    interval: Duration,
    #[serde(default)]
    queries: RawQueries,
    #[serde(default)]
    instance_label: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQueries {
    cpu_percent: Option<String>,
    memory_percent: Option<String>,
    filesystem_percent: Option<String>,
    load1: Option<String>,
    network_rx_bytes: Option<String>,
    network_tx_bytes: Option<String>,
    up: Option<String>,
}

fn default_interval() -> Duration {
    DEFAULT_INTERVAL
}

/// Prometheus's label-name grammar: the label is put into `by (...)` clauses.
fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl TryFrom<RawFleetConfig> for FleetConfig {
    type Error = String;

    fn try_from(r: RawFleetConfig) -> Result<Self, Self::Error> {
        let instance_label = r.instance_label.unwrap_or_else(|| "instance".to_owned());
        if !is_label_name(&instance_label) {
            return Err(format!("[fleet] instance_label {instance_label:?} is not a Prometheus label name"));
        }
        if let Some(names) = &r.prometheus {
            if names.is_empty() {
                return Err(
                    "[fleet] prometheus lists no server; leave it out to use every [[prometheus]]".into()
                );
            }
            if let Some(blank) = names.iter().find(|n| n.trim().is_empty()) {
                return Err(format!("[fleet] prometheus has an empty name {blank:?}"));
            }
        }
        let d = FleetQueries::defaults(&instance_label);
        let q = r.queries;
        let pick = |name: &str, given: Option<String>, default: String| match given {
            Some(s) if s.trim().is_empty() => {
                Err(format!("[fleet.queries] {name} is empty; leave it out for the node_exporter default"))
            }
            Some(s) => Ok(s.trim().to_owned()),
            None => Ok(default),
        };
        let queries = FleetQueries {
            cpu_percent: pick("cpu_percent", q.cpu_percent, d.cpu_percent)?,
            memory_percent: pick("memory_percent", q.memory_percent, d.memory_percent)?,
            filesystem_percent: pick("filesystem_percent", q.filesystem_percent, d.filesystem_percent)?,
            load1: pick("load1", q.load1, d.load1)?,
            network_rx_bytes: pick("network_rx_bytes", q.network_rx_bytes, d.network_rx_bytes)?,
            network_tx_bytes: pick("network_tx_bytes", q.network_tx_bytes, d.network_tx_bytes)?,
            up: pick("up", q.up, d.up)?,
        };
        Ok(FleetConfig { prometheus: r.prometheus, interval: r.interval, queries, instance_label })
    }
}

/// One `[[nodes]]` entry: a node_exporter scraped directly.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawNodeTarget")]
pub struct NodeTarget {
    /// Shown as the row's origin.
    pub name: String,
    /// The metrics URL, e.g. `http://db1:9100/metrics` (a URL with no path gets `/metrics`).
    pub url: String,
    /// Time between scrapes; rates are computed between two of them.
    pub interval: Duration,
    /// Longest one scrape may take, connecting included.
    pub timeout: Duration,
    /// A PEM file of extra CA certificates, trusted besides the system's.
    pub ca_file: Option<PathBuf>,
    /// Basic-auth user; the password comes from `password`.
    pub username: Option<String>,
    /// Basic-auth password (`password_env`, `password_file` or `password_command`).
    pub password: Option<Secret>,
    /// Bearer token (`bearer_token_env`, `bearer_token_file` or `bearer_token_command`).
    pub bearer_token: Option<Secret>,
}

impl NodeTarget {
    /// The target as an HTTP source, so it shares `Endpoint`'s client,
    /// credentials and error wording with every other HTTP source.
    pub fn http_source(&self) -> HttpSource {
        HttpSource {
            name: self.name.clone(),
            url: self.url.clone(),
            interval: self.interval,
            timeout: self.timeout,
            ca_file: self.ca_file.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            bearer_token: self.bearer_token.clone(),
        }
    }
}

impl Named for NodeTarget {
    fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNodeTarget {
    name: String,
    url: String,
    #[serde(default = "default_interval", deserialize_with = "duration::refresh")]
    interval: Duration,
    #[serde(default = "default_timeout", deserialize_with = "duration::refresh")]
    timeout: Duration,
    #[serde(default)]
    ca_file: Option<PathBuf>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password_env: Option<String>,
    #[serde(default)]
    password_file: Option<PathBuf>,
    #[serde(default)]
    password_command: Option<Vec<String>>,
    #[serde(default)]
    bearer_token_env: Option<String>,
    #[serde(default)]
    bearer_token_file: Option<PathBuf>,
    #[serde(default)]
    bearer_token_command: Option<Vec<String>>,
}

fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT
}

impl TryFrom<RawNodeTarget> for NodeTarget {
    type Error = String;

    fn try_from(r: RawNodeTarget) -> Result<Self, Self::Error> {
        let name = &r.name;
        let url = http_url(name, &r.url)?;
        // Prometheus's default metrics_path: `http://db1:9100` means its /metrics.
        let after_scheme = url.split_once("://").map_or("", |(_, rest)| rest);
        let url = match after_scheme.find('/') {
            None => format!("{url}/metrics"),
            Some(i) if after_scheme[i..] == *"/" => format!("{}metrics", url),
            Some(_) => url.to_owned(),
        };
        let (password, bearer_token) = http_credentials(
            name,
            r.username.as_ref(),
            [r.password_env, r.bearer_token_env],
            [r.password_file, r.bearer_token_file],
            [r.password_command, r.bearer_token_command],
        )?;
        Ok(NodeTarget {
            url,
            name: r.name,
            interval: r.interval,
            timeout: r.timeout,
            ca_file: r.ca_file,
            username: r.username,
            password,
            bearer_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_nodes_defaults_select_it_in_every_selector() {
        let all = FleetQueries::defaults("instance");
        assert!(!all.cpu_percent.contains("instance=\""));
        assert!(all.memory_percent.contains("node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes"));
        let one = FleetQueries::defaults_for("instance", "db\"1:9100");
        let m = "instance=\"db\\\"1:9100\"";
        assert!(
            one.cpu_percent.contains(&format!("node_cpu_seconds_total{{{m}, mode=\"idle\"}}")),
            "{}",
            one.cpu_percent
        );
        assert_eq!(one.memory_percent.matches(m).count(), 2, "{}", one.memory_percent);
        assert_eq!(one.filesystem_percent.matches(m).count(), 3, "{}", one.filesystem_percent);
        for q in [&one.load1, &one.network_rx_bytes, &one.network_tx_bytes, &one.up] {
            assert!(q.contains(m), "{q}");
        }
    }

    #[derive(Deserialize)]
    struct Wrapper {
        #[serde(default)]
        fleet: FleetConfig,
        #[serde(default)]
        nodes: Vec<NodeTarget>,
    }

    fn fleet(body: &str) -> Result<FleetConfig, String> {
        toml::from_str::<Wrapper>(&format!("[fleet]\n{body}\n")).map(|w| w.fleet).map_err(|e| e.to_string())
    }

    fn node(body: &str) -> Result<NodeTarget, String> {
        let src = format!("[[nodes]]\nname = \"db1\"\n{body}\n");
        toml::from_str::<Wrapper>(&src).map(|mut w| w.nodes.remove(0)).map_err(|e| e.to_string())
    }

    #[test]
    fn fleet_defaults_and_overrides() {
        let absent = toml::from_str::<Wrapper>("").unwrap().fleet;
        assert_eq!(absent, FleetConfig::default());
        assert_eq!(fleet("").unwrap(), FleetConfig::default());
        let d = FleetConfig::default();
        assert_eq!(
            (d.prometheus, d.interval, d.instance_label.as_str()),
            (None, DEFAULT_INTERVAL, "instance")
        );
        assert!(
            d.queries.cpu_percent.contains("avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}")
        );
        assert!(d.queries.filesystem_percent.contains("fstype!~\"tmpfs|ramfs|devtmpfs|overlay|squashfs"));
        assert!(d.queries.network_rx_bytes.contains("device!~\"lo|(veth|docker|br-"));
        let c = fleet(
            "prometheus = [\"main\"]\ninterval = \"30s\"\ninstance_label = \"host\"\n\
             [fleet.queries]\nload1 = \" node_load5 \"",
        )
        .unwrap();
        assert_eq!(c.prometheus, Some(vec!["main".to_owned()]));
        assert_eq!((c.interval, c.queries.load1.as_str()), (Duration::from_secs(30), "node_load5"));
        // The other defaults follow the instance label.
        assert!(c.queries.memory_percent.starts_with("max by (host) ("), "{}", c.queries.memory_percent);
        assert!(c.queries.filesystem_percent.contains("unless on (host, device, mountpoint)"));
    }

    #[test]
    fn fleet_servers_by_name() {
        let src = |name: &str| HttpSource {
            name: name.into(),
            url: "http://p".into(),
            interval: DEFAULT_INTERVAL,
            timeout: DEFAULT_TIMEOUT,
            ca_file: None,
            username: None,
            password: None,
            bearer_token: None,
        };
        let all = [src("a"), src("b")];
        assert_eq!(FleetConfig::default().servers(&all).unwrap().len(), 2);
        let only_b = fleet("prometheus = [\"b\"]").unwrap();
        assert_eq!(only_b.servers(&all).unwrap()[0].name, "b");
        let typo = fleet("prometheus = [\"c\"]").unwrap().servers(&all).unwrap_err();
        assert!(typo.contains("names \"c\", but no [[prometheus]] entry"), "{typo}");
    }

    #[test]
    fn fleet_errors() {
        let table = [
            ("instance_label = \"host-name\"", "instance_label \"host-name\" is not a Prometheus label name"),
            ("prometheus = []", "lists no server"),
            ("prometheus = [\" \"]", "empty name"),
            ("interval = \"5ms\"", "out of range"),
            ("[fleet.queries]\ncpu_percent = \"\"", "[fleet.queries] cpu_percent is empty"),
            ("[fleet.queries]\ncpu = \"x\"", "unknown field `cpu`"),
            ("intervall = \"5s\"", "unknown field `intervall`"),
        ];
        for (body, want) in table {
            let err = fleet(body).unwrap_err();
            assert!(err.contains(want) && err.contains("line"), "{body}: {err}");
        }
    }

    #[test]
    fn nodes_defaults_and_overrides() {
        let n = node("url = \"http://db1:9100/metrics\"").unwrap();
        assert_eq!(n.name(), "db1");
        assert_eq!(
            (n.url.as_str(), n.interval, n.timeout),
            ("http://db1:9100/metrics", DEFAULT_INTERVAL, DEFAULT_TIMEOUT)
        );
        assert_eq!((n.ca_file, n.username, n.password, n.bearer_token), (None, None, None, None));
        for bare in ["http://db1:9100", "http://db1:9100/"] {
            assert_eq!(node(&format!("url = \"{bare}\"")).unwrap().url, "http://db1:9100/metrics");
        }
        let n = node(
            "url = \"https://db1:9100/node/metrics\"\ninterval = \"1m\"\ntimeout = \"2s\"\n\
             ca_file = \"/etc/ca.pem\"\nusername = \"ops\"\npassword_env = \"PW\"",
        )
        .unwrap();
        assert_eq!((n.interval, n.timeout), (Duration::from_secs(60), Duration::from_secs(2)));
        assert_eq!(n.password, Some(Secret::Env("PW".into())));
        let s = n.http_source();
        assert_eq!((s.name.as_str(), s.url.as_str()), ("db1", "https://db1:9100/node/metrics"));
        assert_eq!((s.timeout, s.username.as_deref()), (Duration::from_secs(2), Some("ops")));
    }

    #[test]
    fn nodes_errors() {
        let table = [
            ("url = \"db1:9100/metrics\"", "\"db1\": url \"db1:9100/metrics\" must start with http://"),
            ("url = \"http://u:pw@db1:9100/metrics\"", "\"db1\": no credentials in url"),
            ("url = \"http://db1:9100\"\npassword_env = \"A\"", "\"db1\": a password needs username"),
            ("url = \"http://db1:9100\"\ntimeout = \"5 parsecs\"", "invalid duration"),
            ("url = \"http://db1:9100\"\nport = 9100", "unknown field `port`"),
            ("", "missing field `url`"),
        ];
        for (body, want) in table {
            let err = node(body).unwrap_err();
            assert!(err.contains(want), "{body}: {err}");
        }
        assert!(is_virtual_device("lo") && is_virtual_device("veth12ab") && !is_virtual_device("eth0"));
    }
}
