//! Jumping between tabs: from an alert to the node it concerns (tab 1), its
//! replication member (tab 3) or the logs around its start (tab 5); from a
//! member, a backup catalog or a fleet node to its alerts (tab 2).
//!
//! `J` opens a small menu of where the selected row leads, keyed by the
//! target tab's number; a target that cannot be found is listed with why,
//! so "no member for db3" is an answer too. The link is by host: the
//! alert's `[alerts] link_labels` (default instance, job, host), compared by
//! their host part, so `db1:9100` (node_exporter) finds member `db1:5432`.

use jiff::Timestamp;

use super::AppState;
use crate::alerts::model::Alert;
use crate::ui::Tab;

/// One place a jump can land.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Tab 1 with this fleet node selected.
    Node(String),
    /// Tab 1 showing this node (it is not in the fleet table).
    ThisNode,
    /// Tab 3 with `clusters[.0].members[.1]` selected.
    Member(usize, usize),
    /// Tab 5 filtered to a source and/or a text, at a time.
    Logs {
        /// Only this log source.
        source: Option<u16>,
        /// Only lines containing this (another host's name).
        text: Option<String>,
        /// Scroll to the first line at or after this.
        at: Option<Timestamp>,
    },
    /// Tab 2 filtered by this text.
    Alerts(String),
}

/// One line of the menu: the tab's number, and where it goes or why not.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The tab it lands on; its number is the key.
    pub tab: Tab,
    /// What the line says.
    pub label: String,
    /// `None`: nothing to jump to (the label says why).
    pub target: Option<Target>,
}

/// The open jump menu.
#[derive(Debug, Clone, PartialEq)]
pub struct JumpMenu {
    /// What the jump starts from, for the title.
    pub from: String,
    /// One line per target tab.
    pub choices: Vec<Choice>,
}

/// `db1:9100` → `db1`; `[::1]:5432` → `::1`; a bare name stays.
fn host_part(value: &str) -> &str {
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match value.rsplit_once(':') {
        Some((h, port)) if !h.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => value,
    }
}

/// Quote a filter word that has spaces or quotes, for the alerts filter.
fn filter_word(text: &str) -> String {
    if text.chars().any(|c| c.is_whitespace() || c == '"' || c == '=') {
        format!("\"{}\"", text.replace('"', ""))
    } else {
        text.to_owned()
    }
}

impl AppState {
    /// Open the jump menu for the selected row of the current tab, or say
    /// there is nothing to jump from.
    pub(super) fn open_jump(&mut self) {
        let menu = match self.tab {
            Tab::Alerts => self.alerts.selected_alert().cloned().map(|a| self.jumps_from_alert(&a)),
            Tab::Replication => self.replication.selected_member().map(|(c, m)| {
                let addr = &c.config.members[m];
                // Members on this machine differ only by port: the whole address then.
                let text = match addr {
                    crate::config::clusters::MemberAddr::Tcp { host, .. } if !addr.is_local() => host.clone(),
                    _ => addr.to_string(),
                };
                alerts_menu(format!("member {addr} of {}", c.config.name), &text)
            }),
            Tab::Backups => self
                .backups
                .selected_catalog()
                .map(|c| alerts_menu(format!("backup catalog {}", c.config.name), &c.config.name)),
            Tab::Metrics if self.fleet.focused => self.fleet.selected().map(|r| {
                let text = host_part(&r.node.instance).to_owned();
                alerts_menu(format!("node {}", r.node.instance), &text)
            }),
            _ => None,
        };
        match menu {
            Some(menu) => self.jump = Some(menu),
            None => self
                .notify("nothing to jump from: select an alert, a member, a backup catalog or a fleet node"),
        }
    }

    /// A key while the menu is open: a listed tab's number jumps, anything
    /// else closes it.
    pub(super) fn jump_key(&mut self, tab: Option<Tab>) {
        let Some(menu) = self.jump.take() else { return };
        let Some(choice) = tab.and_then(|t| menu.choices.into_iter().find(|c| c.tab == t)) else { return };
        match choice.target {
            Some(target) => self.go(target),
            None => self.notify(&choice.label),
        }
    }

    fn go(&mut self, target: Target) {
        match target {
            Target::Node(instance) => {
                self.fleet.detail = None;
                self.fleet.select_instance(&instance);
                self.tab = Tab::Metrics;
            }
            Target::ThisNode => {
                self.fleet.detail = None;
                self.fleet.focused = self.fleet.select_instance(&self.host.clone());
                self.tab = Tab::Metrics;
            }
            Target::Member(c, m) => {
                self.replication.selected = Some(super::replication::RowId::Member(c, m));
                self.tab = Tab::Replication;
            }
            Target::Logs { source, text, at } => {
                self.logs.show_around(source, text.as_deref(), at);
                self.tab = Tab::Logs;
            }
            Target::Alerts(text) => {
                self.alerts.set_filter(text);
                self.alerts.selected = None;
                self.tab = Tab::Alerts;
            }
        }
    }

    /// Where an alert leads: its node, its member, its logs.
    fn jumps_from_alert(&self, alert: &Alert) -> JumpMenu {
        let labels = &alert.labels;
        let linked: Vec<&str> = self
            .config
            .alerts
            .link_labels
            .iter()
            .chain(["member".to_owned()].iter())
            .filter_map(|l| labels.get(l).map(String::as_str))
            .collect();
        let hosts: Vec<&str> = linked.iter().map(|v| host_part(v)).collect();
        let first_host = hosts.first().copied();

        let node = self.node_choice(&linked, &hosts);
        let member = self.member_choice(labels, &hosts);
        // Logs: a source the alert names (LogErrors' `source`, or a job named
        // like a source), else this machine's logs, narrowed to another host's name.
        let source = labels
            .get("source")
            .map(String::as_str)
            .into_iter()
            .chain(linked.iter().copied())
            .find_map(|v| self.logs.sources.iter().position(|s| s.name == v))
            .and_then(|i| u16::try_from(i).ok());
        let remote = first_host.filter(|h| !self.is_this_host(h)).map(str::to_owned);
        let text = if source.is_some() { None } else { remote };
        let at = alert.starts_at;
        let mut label = String::from("logs");
        if let Some(s) = source {
            label.push_str(&format!(" of {}", self.logs.sources[usize::from(s)].name));
        }
        if let Some(t) = &text {
            label.push_str(&format!(" mentioning {t}"));
        }
        if let Some(at) = at {
            label.push_str(&format!(" from {}", at.to_zoned(self.tz.clone()).strftime("%H:%M:%S")));
        }
        let logs = Choice { tab: Tab::Logs, label, target: Some(Target::Logs { source, text, at }) };
        JumpMenu { from: format!("alert {}", alert.name), choices: vec![node, member, logs] }
    }

    fn node_choice(&self, linked: &[&str], hosts: &[&str]) -> Choice {
        let found = linked.iter().find(|v| self.fleet.find_instance(v).is_some());
        if let Some(instance) = found.and_then(|v| self.fleet.find_instance(v)) {
            return Choice {
                tab: Tab::Metrics,
                label: format!("node {instance}"),
                target: Some(Target::Node(instance.to_owned())),
            };
        }
        if hosts.iter().any(|h| self.is_this_host(h)) {
            return Choice {
                tab: Tab::Metrics,
                label: format!("this node ({})", self.host),
                target: Some(Target::ThisNode),
            };
        }
        let why = match linked.first() {
            Some(v) => format!("no fleet node matches {v}"),
            None => format!("the alert has none of the labels {}", self.config.alerts.link_labels.join(", ")),
        };
        Choice { tab: Tab::Metrics, label: why, target: None }
    }

    fn member_choice(&self, labels: &std::collections::BTreeMap<String, String>, hosts: &[&str]) -> Choice {
        let clusters = &self.replication.clusters;
        // opsdeck's own replication rules name the cluster and member exactly.
        let exact = labels.get("cluster").zip(labels.get("member")).and_then(|(cluster, member)| {
            let c = clusters.iter().position(|c| &c.config.name == cluster)?;
            let m = clusters[c].config.members.iter().position(|a| &a.to_string() == member)?;
            Some((c, m))
        });
        let by_host = || {
            clusters.iter().enumerate().find_map(|(c, cs)| {
                let m = cs.config.members.iter().position(|a| match a {
                    crate::config::clusters::MemberAddr::Tcp { host, .. } => {
                        hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
                    }
                    crate::config::clusters::MemberAddr::Socket(_) => false,
                })?;
                Some((c, m))
            })
        };
        match exact.or_else(by_host) {
            Some((c, m)) => Choice {
                tab: Tab::Replication,
                label: format!("member {} of {}", clusters[c].config.members[m], clusters[c].config.name),
                target: Some(Target::Member(c, m)),
            },
            None => Choice {
                tab: Tab::Replication,
                label: match hosts.first() {
                    Some(h) => format!("no replication member on {h}"),
                    None => "no replication member named".to_owned(),
                },
                target: None,
            },
        }
    }

    fn is_this_host(&self, host: &str) -> bool {
        host.eq_ignore_ascii_case(&self.host) || host == "localhost"
    }
}

/// A menu with the one way back to the Alerts tab.
fn alerts_menu(from: String, text: &str) -> JumpMenu {
    let filter = filter_word(text);
    let choice = Choice {
        tab: Tab::Alerts,
        label: format!("alerts matching {filter}"),
        target: Some(Target::Alerts(filter)),
    };
    JumpMenu { from, choices: vec![choice] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_parts() {
        assert_eq!(host_part("db1:9100"), "db1");
        assert_eq!(host_part("db1"), "db1");
        assert_eq!(host_part("[::1]:5432"), "::1");
        assert_eq!(host_part("node-exporter"), "node-exporter");
        assert_eq!(host_part("fe80::1"), "fe80::1");
        assert_eq!(filter_word("nightly dumps"), "\"nightly dumps\"");
        assert_eq!(filter_word("db1"), "db1");
    }
}
