//! The tables that name backends for tabs 2–5. This build parses and checks
//! them so the snippets the empty tabs show are valid config; the pollers
//! that read them arrive with their tabs, which extend these tables.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::duration;
use super::secret::Secret;

/// A table entry that has a name which must be unique within its table.
pub trait Named {
    /// The entry's name as written in the config.
    fn name(&self) -> &str;
}

/// `[[prometheus]]` or `[[alertmanager]]`: an HTTP API.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawHttpSource")]
pub struct HttpSource {
    /// Shown in the status bar and in every row from this source.
    pub name: String,
    /// Base URL, e.g. `http://127.0.0.1:9093` (a path prefix is kept).
    pub url: String,
    /// Time between polls while they work (failures back off from it).
    pub interval: Duration,
    /// Longest one request may take, connecting included.
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpSource {
    name: String,
    url: String,
    #[serde(default = "five_seconds", deserialize_with = "duration::refresh")]
    interval: Duration,
    #[serde(default = "five_seconds", deserialize_with = "duration::refresh")]
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

fn five_seconds() -> Duration {
    Duration::from_secs(5)
}

impl TryFrom<RawHttpSource> for HttpSource {
    type Error = String;

    fn try_from(r: RawHttpSource) -> Result<Self, Self::Error> {
        let name = &r.name;
        let url = http_url(name, &r.url)?;
        let (password, bearer_token) = http_credentials(
            name,
            r.username.as_ref(),
            [r.password_env, r.bearer_token_env],
            [r.password_file, r.bearer_token_file],
            [r.password_command, r.bearer_token_command],
        )?;
        Ok(HttpSource {
            url: url.to_owned(),
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

/// An entry's `url`, trimmed, once it is http(s) with no credentials in it.
pub(super) fn http_url<'a>(name: &str, url: &'a str) -> Result<&'a str, String> {
    let trimmed = url.trim();
    let Some((_, rest)) = trimmed
        .split_once("://")
        .filter(|(scheme, rest)| matches!(*scheme, "http" | "https") && !rest.is_empty())
    else {
        return Err(format!("{name:?}: url {url:?} must start with http:// or https://"));
    };
    if rest.split(['/', '?', '#']).next().is_some_and(|authority| authority.contains('@')) {
        return Err(format!(
            "{name:?}: no credentials in url: use username with password_env, password_file or password_command"
        ));
    }
    Ok(trimmed)
}

/// An HTTP entry's basic-auth password and bearer token from their
/// `*_env` / `*_file` / `*_command` fields (each pair: password, then
/// token), refusing combinations that cannot mean anything.
pub(super) fn http_credentials(
    name: &str,
    username: Option<&String>,
    [password_env, bearer_token_env]: [Option<String>; 2],
    [password_file, bearer_token_file]: [Option<PathBuf>; 2],
    [password_command, bearer_token_command]: [Option<Vec<String>>; 2],
) -> Result<(Option<Secret>, Option<Secret>), String> {
    let password = Secret::from_fields("password", password_env, password_file, password_command)
        .map_err(|e| format!("{name:?}: {e}"))?;
    let bearer_token =
        Secret::from_fields("bearer_token", bearer_token_env, bearer_token_file, bearer_token_command)
            .map_err(|e| format!("{name:?}: {e}"))?;
    if password.is_some() && bearer_token.is_some() {
        return Err(format!("{name:?}: give a password or a bearer token, not both"));
    }
    if password.is_some() && username.is_none() {
        return Err(format!("{name:?}: a password needs username = \"...\""));
    }
    if username.is_some() && bearer_token.is_some() {
        return Err(format!("{name:?}: username is for basic auth; it cannot go with a bearer token"));
    }
    Ok((password, bearer_token))
}

/// `[[logs]]`: a log file (or glob) to tail, or the journal.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawLogSource")]
pub struct LogSource {
    /// Shown beside every line from this source.
    pub name: String,
    /// What to read.
    pub kind: LogKind,
    /// `file`: the path or glob (a glob picks up files created later).
    pub path: String,
    /// `journald`: only these units (all when empty).
    pub units: Vec<String>,
}

/// Where a log source's lines come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    /// Files followed by name across rotation.
    #[default]
    File,
    /// `journalctl -f -o json`.
    Journald,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogSource {
    name: String,
    #[serde(default)]
    kind: LogKind,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    units: Vec<String>,
}

impl TryFrom<RawLogSource> for LogSource {
    type Error = String;

    fn try_from(r: RawLogSource) -> Result<Self, Self::Error> {
        let path = r.path.filter(|p| !p.trim().is_empty());
        match (r.kind, &path) {
            (LogKind::File, None) => return Err(format!("log {:?} needs path = \"<file or glob>\"", r.name)),
            (LogKind::Journald, Some(_)) => {
                return Err(format!("log {:?}: kind = \"journald\" takes units, not a path", r.name));
            }
            _ => {}
        }
        if r.kind == LogKind::File && !r.units.is_empty() {
            return Err(format!("log {:?}: units apply to kind = \"journald\" only", r.name));
        }
        Ok(LogSource { name: r.name, kind: r.kind, path: path.unwrap_or_default(), units: r.units })
    }
}

macro_rules! named {
    ($($t:ty),*) => {$(impl Named for $t { fn name(&self) -> &str { &self.name } })*};
}
named!(HttpSource, super::clusters::Cluster, super::backups::BackupSource, LogSource);

/// Deserialize a table array whose entries must have distinct, non-empty names.
pub fn unique_names<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Named,
{
    let items = Vec::<T>::deserialize(d)?;
    let mut seen = std::collections::HashSet::new();
    for item in &items {
        if item.name().trim().is_empty() {
            return Err(serde::de::Error::custom("name must not be empty"));
        }
        if !seen.insert(item.name()) {
            return Err(serde::de::Error::custom(format!(
                "name {:?} is used twice in this table",
                item.name()
            )));
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse(body: &str) -> Result<HttpSource, String> {
        let src = format!("[[alertmanager]]\nname = \"am\"\nurl = \"http://127.0.0.1:9093\"\n{body}\n");
        crate::config::parse(&src, Path::new("c.toml"))
            .map(|mut c| c.alertmanager.remove(0))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_secrets() {
        let s = parse("").unwrap();
        assert_eq!((s.interval, s.timeout), (Duration::from_secs(5), Duration::from_secs(5)));
        assert_eq!((s.username, s.password, s.bearer_token, s.ca_file), (None, None, None, None));
        let s =
            parse("username = \"ops\"\npassword_command = [\"pass\", \"show\", \"am\"]\ninterval = \"1m\"")
                .unwrap();
        assert_eq!(s.password, Some(Secret::Command(vec!["pass".into(), "show".into(), "am".into()])));
        assert_eq!(s.interval, Duration::from_secs(60));
        let s = parse("bearer_token_file = \"/etc/opsdeck/token\"\nca_file = \"/etc/ca.pem\"").unwrap();
        assert_eq!(s.bearer_token, Some(Secret::File("/etc/opsdeck/token".into())));
    }

    #[test]
    fn errors_point_at_the_table() {
        let table = [
            (
                "username = \"u\"\npassword_env = \"A\"\npassword_file = \"/f\"",
                "give only one of password_env",
            ),
            ("username = \"u\"\npassword_env = \"A\"\nbearer_token_env = \"B\"", "not both"),
            ("password_env = \"A\"", "a password needs username"),
            ("timeout = \"5 parsecs\"", "invalid duration"),
            ("password = \"inline\"", "unknown field `password`"),
        ];
        for (body, want) in table {
            let err = parse(body).unwrap_err();
            assert!(err.starts_with("c.toml:") && err.contains(want), "{body}: {err}");
        }
        let err = parse("").map(|_| ()).and_then(|()| {
            crate::config::parse(
                "[[prometheus]]\nname = \"p\"\nurl = \"localhost:9090\"\n",
                Path::new("c.toml"),
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        });
        assert!(err.unwrap_err().contains("must start with http:// or https://"));
        let inline = crate::config::parse(
            "[[prometheus]]\nname = \"p\"\nurl = \"http://u:pw@host:9090\"\n",
            Path::new("c.toml"),
        );
        assert!(inline.unwrap_err().to_string().contains("no credentials in url"));
    }
}
