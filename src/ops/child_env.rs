//! Every program opsdeck starts starts here, with a cleared environment:
//! only a short list of harmless variables passes through, and beside them
//! the variables that child's own source or action declares. opsdeck's
//! environment holds secrets (a cluster's `password_env`, an API token), and
//! a child that inherited it would hand them to whatever it runs next, or
//! to anyone who reads `/proc/<pid>/environ` of the same user.

use std::ffi::{OsStr, OsString};

/// Passed to every child: locating programs and files, language, time zone
/// and terminal, and who the (claimed) user is. None of them is a secret.
const HARMLESS: [&str; 13] = [
    "PATH",
    "HOME",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TERM",
    "USER",
    "LOGNAME",
    "TMPDIR",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "XDG_RUNTIME_DIR",
];

/// What a password manager (`password_command = ["pass", …]`) needs to
/// reach its agent and its store; passed to secret commands only.
pub const SECRET_HELPER: [&str; 6] = [
    "GNUPGHOME",
    "PASSWORD_STORE_DIR",
    "GPG_AGENT_INFO",
    "GPG_TTY",
    "DBUS_SESSION_BUS_ADDRESS",
    "SSH_AUTH_SOCK",
];

fn harmless(name: &OsStr) -> bool {
    name.to_str().is_some_and(|n| HARMLESS.contains(&n) || n.starts_with("LC_"))
}

/// The variables of opsdeck's own environment a child may see, plus those
/// named in `extra`.
pub fn inherited(extra: &[&str]) -> Vec<(OsString, OsString)> {
    std::env::vars_os()
        .filter(|(k, _)| harmless(k) || k.to_str().is_some_and(|k| extra.contains(&k)))
        .collect()
}

/// A command for `program` with the cleared environment and the harmless
/// variables; the caller adds the child's declared variables with `.env`.
pub fn command(program: impl AsRef<OsStr>) -> tokio::process::Command {
    command_with(program, &[])
}

/// [`command`], also passing the variables named in `extra` through.
pub fn command_with(program: impl AsRef<OsStr>, extra: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(program);
    cmd.env_clear().envs(inherited(extra));
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_harmless_names_pass() {
        for name in ["PATH", "LANG", "LC_ALL", "LC_TIME", "TZ", "HOME"] {
            assert!(harmless(OsStr::new(name)), "{name}");
        }
        for name in
            ["PGPASSWORD", "OPSDECK_AM_TOKEN", "RESTIC_PASSWORD", "AWS_SECRET_ACCESS_KEY", "LD_PRELOAD"]
        {
            assert!(!harmless(OsStr::new(name)), "{name}");
        }
    }
}
