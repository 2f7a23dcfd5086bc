//! The man page, from the same sources as everything a person sees: clap's
//! `Cli` (what `--help` prints) for the synopsis, options and subcommands,
//! the default keymap (what `?` shows) for KEYS, and the paths opsdeck
//! really uses for FILES. Nothing here is a second copy to keep in step.

use std::io::Write;

use clap::CommandFactory;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, italic, roman};

use crate::action::Action;
use crate::cli::{Cli, EXAMPLES};
use crate::config::keymap::Keymap;

/// Write the whole page as roff.
pub fn render(out: &mut dyn Write) -> std::io::Result<()> {
    let cmd = Cli::command();
    let man = Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    let mut roff = Roff::new();
    commands(&mut roff, &cmd);
    keys(&mut roff);
    files(&mut roff);
    environment(&mut roff);
    exit_status(&mut roff);
    examples(&mut roff);
    roff.to_writer(out)?;
    man.render_version_section(out)
}

/// Each subcommand with its own options, nested ones included.
fn commands(roff: &mut Roff, cmd: &clap::Command) {
    roff.control("SH", ["COMMANDS"]);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        subcommand(roff, sub, &format!("{} {}", cmd.get_name(), sub.get_name()));
    }
}

fn subcommand(roff: &mut Roff, sub: &clap::Command, path: &str) {
    roff.control("SS", [path]);
    if let Some(about) = sub.get_long_about().or(sub.get_about()) {
        roff.text([roman(about.to_string())]);
    }
    for arg in sub.get_arguments().filter(|a| !a.is_hide_set() && !a.is_global_set()) {
        let name = match (arg.get_long(), arg.get_short()) {
            (Some(long), _) => format!("--{long}"),
            (None, Some(short)) => format!("-{short}"),
            (None, None) => format!("<{}>", arg.get_id()),
        };
        if matches!(name.as_str(), "--help" | "-h") {
            continue;
        }
        roff.control("TP", []);
        roff.text([bold(name)]);
        if let Some(help) = arg.get_help() {
            roff.text([roman(help.to_string())]);
        }
    }
    for nested in sub.get_subcommands().filter(|s| !s.is_hide_set()) {
        subcommand(roff, nested, &format!("{path} {}", nested.get_name()));
    }
}

/// Every action with its default keys, as the help overlay lists them;
/// actions whose description names a tab are listed under it.
fn keys(roff: &mut Roff) {
    let keymap = Keymap::default();
    roff.control("SH", ["KEYS"]);
    roff.text([roman(
        "Keys are data: every action below can be rebound in the [keys] table of the config, \
         by the name in parentheses; ? shows the live keymap. While a filter or a dialog field has \
         the focus, typed keys go to it.",
    )]);
    // A description that starts with a tab's name is that tab's key; a few
    // keys only one tab uses say so in this list instead.
    let tab_of = |a: &Action| {
        let named = ["Metrics", "Alerts", "Replication", "Backups", "Logs"]
            .into_iter()
            .find(|t| a.description().starts_with(&format!("{t}: ")));
        named.or(match a {
            Action::SortByCpu | Action::SortByMemory | Action::ToggleKernelThreads => Some("Metrics"),
            Action::ToggleQuiet => Some("Alerts"),
            _ => None,
        })
    };
    let strip = |a: &Action| {
        let text = a.description();
        tab_of(a).and_then(|t| text.strip_prefix(&format!("{t}: "))).unwrap_or(text).to_owned()
    };
    let mut groups: Vec<(&str, Vec<Action>)> =
        ["Everywhere", "Metrics", "Alerts", "Replication", "Backups", "Logs"].map(|g| (g, Vec::new())).into();
    for a in Action::ALL {
        let group = tab_of(&a).unwrap_or("Everywhere");
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, actions)) => actions.push(a),
            None => groups.push((group, vec![a])),
        }
    }
    for (group, actions) in groups.into_iter().filter(|(_, actions)| !actions.is_empty()) {
        roff.control("SS", [group]);
        for a in actions {
            roff.control("TP", []);
            roff.text([bold(keymap.describe(a)), roman(format!("  ({})", a.config_name()))]);
            roff.text([roman(strip(&a))]);
        }
    }
    roff.control("SS", ["Guarded actions"]);
    roff.text([roman(
        "x opens the actions for the selected row. The dialog shows what will run and every \
         precondition with its live value. Confirm with y, or by typing the target's name (and a \
         reason) for dangerous ones. Where a failing precondition may be overridden, type ",
    )]);
    roff.text([bold(crate::ops::guard::OVERRIDE_WORD), roman(" and a reason; it is audited as an override. Mutating actions need the session armed (A) and are refused in read-only mode.")]);
}

/// The paths as `config::paths` makes them on Linux (XDG), written for any
/// user: the page is generated once and read by everyone.
fn files(roff: &mut Roff) {
    roff.control("SH", ["FILES"]);
    let entries = [
        (
            "$XDG_CONFIG_HOME/opsdeck/config.toml (~/.config/opsdeck/config.toml)",
            "The config, when neither --config nor OPSDECK_CONFIG names one. opsdeck config init writes the commented example; opsdeck config check validates it.",
        ),
        (
            "$XDG_CONFIG_HOME/opsdeck/themes/NAME.toml",
            "User themes; one named like a built-in (dark, light, high-contrast, mono) overrides it.",
        ),
        (
            "$XDG_DATA_HOME/opsdeck/state.db (~/.local/share/opsdeck/state.db)",
            "The state store (SQLite): sessions, the audit trail, acks, alert history, backup checks.",
        ),
        ("$XDG_DATA_HOME/opsdeck/opsdeck.log", "opsdeck's own log (L shows it in the cockpit)."),
    ];
    for (path, what) in entries {
        roff.control("TP", []);
        roff.text([italic(path)]);
        roff.text([roman(what)]);
    }
}

fn environment(roff: &mut Roff) {
    roff.control("SH", ["ENVIRONMENT"]);
    let vars = [
        ("OPSDECK_CONFIG", "The config file, when --config is not given."),
        ("OPSDECK_LOG", "opsdeck's own log level: error, warn, info (the default), debug, trace."),
        ("NO_COLOR", "Set and not empty: no colour (the mono theme), unless --theme names one."),
        ("COLORTERM", "truecolor or 24bit: themes use 24-bit colour; else the 256-colour palette."),
        (
            "MALLOC_ARENA_MAX",
            "Left alone when set; otherwise the cockpit limits glibc to two malloc arenas, which keeps the log follower's memory low.",
        ),
        (
            "USER, SUDO_USER, SSH_CONNECTION",
            "Recorded in the audit trail as what the session claims; the identity opsdeck trusts comes from the process itself (uid, login uid).",
        ),
        (
            "*_env",
            "Secrets named by password_env and the other *_env keys of the config are read from the environment, never from argv; a child process gets only the ones its own source or action declares.",
        ),
    ];
    for (name, what) in vars {
        roff.control("TP", []);
        roff.text([bold(name)]);
        roff.text([roman(what)]);
    }
}

fn exit_status(roff: &mut Roff) {
    roff.control("SH", ["EXIT STATUS"]);
    let codes = [
        ("0", "Quit normally; opsdeck check: every line is OK."),
        ("1", "opsdeck check: the worst line is a warning; other commands: an error, named on stderr."),
        ("2", "opsdeck check: a line is critical."),
        ("3", "opsdeck check: a source could not be checked (unknown), and nothing is critical."),
        ("78", "The config is invalid (file, line and column on stderr)."),
        ("128+N", "The cockpit ended on signal N (SIGTERM, SIGHUP, SIGQUIT), the terminal restored."),
    ];
    for (code, what) in codes {
        roff.control("TP", []);
        roff.text([bold(code)]);
        roff.text([roman(what)]);
    }
}

fn examples(roff: &mut Roff) {
    roff.control("SH", ["EXAMPLES"]);
    for line in EXAMPLES.lines().filter(|l| !l.trim().is_empty() && !l.starts_with("Examples")) {
        match line.trim_start().strip_prefix("$ ") {
            Some(command) => {
                roff.control("TP", []);
                roff.text([bold(command)]);
            }
            None => {
                roff.text([roman(line.trim())]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> String {
        let mut out = Vec::new();
        render(&mut out).expect("render");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn every_section_a_person_reaches_for_is_there() {
        let page = page();
        for section in [
            "NAME",
            "SYNOPSIS",
            "OPTIONS",
            "COMMANDS",
            "KEYS",
            "FILES",
            "ENVIRONMENT",
            "EXIT STATUS",
            "EXAMPLES",
        ] {
            // roff quotes a heading with a space in it.
            let heading = if section.contains(' ') { format!("\"{section}\"") } else { section.to_owned() };
            assert!(page.contains(&format!(".SH {heading}\n")), "no {section} section");
        }
    }

    #[test]
    fn every_action_and_subcommand_is_in_it() {
        let page = page();
        for a in Action::ALL {
            assert!(page.contains(&format!("({})", a.config_name())), "{} is missing", a.config_name());
        }
        for sub in Cli::command().get_subcommands().filter(|s| !s.is_hide_set()) {
            assert!(page.contains(&format!("opsdeck {}", sub.get_name())), "{} is missing", sub.get_name());
        }
        assert!(page.contains("OPSDECK_CONFIG") && page.contains("state store"));
        // FILES says what `config::paths` and the store really use.
        let tail = |p: Option<std::path::PathBuf>| {
            let p = p.expect("a home dir");
            let n = p.components().count();
            p.components().skip(n - 2).collect::<std::path::PathBuf>().display().to_string()
        };
        for path in [crate::config::paths::config_file(), crate::store::default_path()] {
            assert!(page.contains(&tail(path.clone())), "{path:?} is not in FILES");
        }
    }
}
