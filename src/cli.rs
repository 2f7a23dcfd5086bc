//! The command line. Secrets never go here: everything that needs one reads
//! it from the environment, a file or a command named in the config.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// What `--help` ends with, and the man page's EXAMPLES: a `$ ` line is a
/// command, the line under it says what it does.
pub const EXAMPLES: &str = "Examples:
  $ opsdeck
      This node, live, no config needed.
  $ opsdeck --config /etc/opsdeck/prod.toml --read-only
      Every configured tab; no mutating action can run.
  $ opsdeck --log /var/log/nginx/error.log --log '/var/log/app/*.log'
      Follow these logs on the Logs tab.
  $ opsdeck --wall
      The war-room screen: large type, read-only, cycling the tabs.
  $ opsdeck check --markdown
      The daily inspection as a report; exit 0 OK, 1 warning, 2 critical, 3 unknown.
  $ opsdeck audit --since 24h
      Who ran what in the last day, newest first.
  $ opsdeck config init && opsdeck config check
      Write the commented example config, then validate it.";

/// A terminal operations cockpit: this node's metrics, alerts, replication,
/// backups and logs, live, with guarded maintenance actions.
#[derive(Debug, Parser)]
#[command(name = "opsdeck", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    /// Config file [default: $OPSDECK_CONFIG, else ~/.config/opsdeck/config.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Refuse every mutating action (also `read_only = true` in the config)
    #[arg(long)]
    pub read_only: bool,

    /// War-room screen: a large-type summary, then each tab in turn every
    /// `[wall] cycle`; read-only; high-contrast unless --theme says otherwise
    #[arg(long)]
    pub wall: bool,

    /// Theme: dark, light, high-contrast, mono, or a file in the themes dir
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,

    /// Poll interval, e.g. 500ms, 2s [default: the config's `refresh`, else 1s]
    #[arg(long, value_name = "DURATION", value_parser = crate::config::duration::parse_refresh_arg)]
    pub refresh: Option<Duration>,

    /// Follow this log file or glob on the Logs tab, instead of the configured
    /// ones (repeatable); opsdeck opens on the Logs tab
    #[arg(long = "log", value_name = "PATH")]
    pub logs: Vec<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The `[[logs]]` sources `--log` names, each called by its file name
    /// (its whole path when two share a file name).
    pub fn log_sources(&self) -> Vec<crate::config::sources::LogSource> {
        use crate::config::sources::{LogKind, LogSource};
        let base = |path: &str| path.rsplit('/').next().filter(|b| !b.is_empty()).unwrap_or(path).to_owned();
        let mut paths: Vec<&String> = Vec::new();
        for path in &self.logs {
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        paths
            .iter()
            .map(|&path| {
                let shared = paths.iter().filter(|other| base(other) == base(path)).count() > 1;
                LogSource {
                    name: if shared { path.clone() } else { base(path) },
                    kind: LogKind::File,
                    path: path.clone(),
                    units: Vec::new(),
                }
            })
            .collect()
    }
}

/// Subcommands; with none, opsdeck runs the cockpit.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check or create the config file
    Config {
        #[command(subcommand)]
        action: ConfigCommand,
    },
    /// Print the audit trail of actions, newest first
    Audit {
        /// Only actions started within this long, e.g. 24h, 7d
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        since: Option<Duration>,
        /// One JSON object per line instead of a table
        #[arg(long)]
        json: bool,
        /// At most this many rows
        #[arg(long, default_value_t = 200)]
        limit: u32,
        /// Check the trail instead of printing it: the hash chain over every
        /// row and the append-only triggers; exit 0 intact, 1 tampered
        #[arg(long, conflicts_with_all = ["since", "json"])]
        verify: bool,
    },
    /// Export the alert timeline (every state change) of an incident, oldest first
    Alerts {
        /// How far back, e.g. 2h, 1d
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "2h")]
        since: Duration,
        /// One JSON object per line
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// A Markdown table for the incident channel or the postmortem
        #[arg(long)]
        markdown: bool,
    },
    /// The daily inspection, no TUI: poll every configured source once,
    /// judge every rule, print a report; exit 0 OK, 1 warning, 2 critical,
    /// 3 a source could not be checked
    Check {
        /// One JSON object for machines
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// Markdown, for an incident channel or a daily report
        #[arg(long)]
        markdown: bool,
    },
    /// Print shell completions to stdout
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout
    Man,
    /// Internal: run an action's command under a supervisor that enforces
    /// its timeout even if the cockpit dies
    #[command(name = "__supervise", hide = true)]
    Supervise {
        /// Kill the command's process group after this many milliseconds
        #[arg(long)]
        timeout_ms: u64,
        /// Report to this inherited fd
        #[arg(long)]
        status_fd: Option<i32>,
        /// Start the command only after a byte arrives on this inherited fd
        #[arg(long)]
        go_fd: Option<i32>,
        /// The command
        #[arg(last = true, required = true)]
        argv: Vec<String>,
    },
}

/// `opsdeck config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a config file; exit 0 if good, 78 with file:line:column if not
    Check {
        /// File to check [default: the file opsdeck would read]
        path: Option<PathBuf>,
    },
    /// Write the commented example config
    Init {
        /// Where to write it [default: the file opsdeck would read]
        path: Option<PathBuf>,
        /// Overwrite an existing file
        #[arg(long)]
        force: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(args: &[&str]) -> Vec<(String, String)> {
        let cli = Cli::parse_from(std::iter::once("opsdeck").chain(args.iter().copied()));
        cli.log_sources().into_iter().map(|s| (s.name, s.path)).collect()
    }

    #[test]
    fn log_flags_name_sources_by_file_name_unless_two_share_it() {
        let pair = |n: &str, p: &str| (n.to_owned(), p.to_owned());
        assert_eq!(
            names(&["--log", "/var/log/app.log", "--log", "/srv/*.log", "--log", "/var/log/app.log"]),
            vec![pair("app.log", "/var/log/app.log"), pair("*.log", "/srv/*.log")]
        );
        assert_eq!(
            names(&["--log", "/a/x.log", "--log", "/b/x.log"]),
            vec![pair("/a/x.log", "/a/x.log"), pair("/b/x.log", "/b/x.log")]
        );
        assert!(names(&[]).is_empty());
    }
}
