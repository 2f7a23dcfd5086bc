//! Small pure readings of what PostgreSQL writes: libpq conninfo strings, the
//! version setting, WAL file names, socket paths; and the few texts the
//! details pane shows.

use std::path::{Path, PathBuf};

/// A member given as the socket file itself (`/run/postgresql/.s.PGSQL.5433`)
/// names its port too; a directory uses the default port.
pub(super) fn socket_dir_and_port(path: &Path) -> (PathBuf, Option<u16>) {
    let port = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix(".s.PGSQL."))
        .and_then(|p| p.parse::<u16>().ok());
    match (port, path.parent()) {
        (Some(port), Some(dir)) => (dir.to_path_buf(), Some(port)),
        _ => (path.to_path_buf(), None),
    }
}

/// `"15.18 (Debian 15.18-0+deb12u1)"` → `"PostgreSQL 15.18"`.
pub(super) fn version_label(server_version: &str) -> String {
    let number = server_version.split_whitespace().next().unwrap_or(server_version);
    format!("PostgreSQL {number}")
}

/// The timeline is the first 8 hex digits of a WAL file name
/// (`000000020000000000000003` → 2).
pub(super) fn timeline_from_walfile(walfile: &str) -> Option<u32> {
    u32::from_str_radix(walfile.get(..8)?, 16).ok()
}

/// `host:port` from a libpq conninfo string (`host=10.0.0.1 port=5432 …`),
/// for servers before 11 that have no `sender_host`. A missing port is
/// libpq's default; a missing host is `None`. Only the first host of a list.
pub(super) fn conninfo_upstream(conninfo: &str) -> Option<String> {
    let pairs = conninfo_pairs(conninfo);
    let value = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let host = value("host").or(value("hostaddr"))?.split(',').next()?.to_owned();
    let port = value("port").and_then(|p| p.split(',').next()).unwrap_or("5432");
    (!host.is_empty()).then(|| upstream(&host, port))
}

/// The `application_name` a conninfo string connects with, if it names one.
pub(super) fn conninfo_application_name(conninfo: &str) -> Option<String> {
    conninfo_pairs(conninfo).into_iter().find(|(k, _)| k == "application_name").map(|(_, v)| v)
}

/// `host:port`, IPv6 in brackets.
pub(super) fn upstream(host: &str, port: impl std::fmt::Display) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

/// `key=value` pairs; values may be single-quoted with `\'` and `\\` escapes.
fn conninfo_pairs(conninfo: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut chars = conninfo.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && !c.is_whitespace())).collect();
        if key.is_empty() {
            break;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next_if_eq(&'=').is_none() {
            break; // not a conninfo string
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '\'' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
    pairs
}

/// Seconds as the details pane shows them: `"0.004 s"`, `"12.5 s"`, `"3m 5s"`.
pub(super) fn seconds_text(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.3} s")
    } else if seconds < 120.0 {
        format!("{seconds:.1} s")
    } else {
        humantime::format_duration(std::time::Duration::from_secs(seconds as u64)).to_string()
    }
}

/// Bytes for a fact: `"731856 bytes"`.
pub(super) fn bytes_text(bytes: i64) -> String {
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_files_name_their_port() {
        assert_eq!(
            socket_dir_and_port(Path::new("/tmp/od/.s.PGSQL.6543")),
            (PathBuf::from("/tmp/od"), Some(6543))
        );
        assert_eq!(
            socket_dir_and_port(Path::new("/run/postgresql")),
            (PathBuf::from("/run/postgresql"), None)
        );
        assert_eq!(
            socket_dir_and_port(Path::new("/x/.s.PGSQL.nope")),
            (PathBuf::from("/x/.s.PGSQL.nope"), None)
        );
    }

    #[test]
    fn versions_and_timelines() {
        assert_eq!(version_label("15.18 (Debian 15.18-0+deb12u1)"), "PostgreSQL 15.18");
        assert_eq!(version_label("17.2"), "PostgreSQL 17.2");
        assert_eq!(timeline_from_walfile("000000020000000000000003"), Some(2));
        assert_eq!(timeline_from_walfile("0000001A00000001000000FF"), Some(26));
        assert_eq!(timeline_from_walfile("short"), None);
    }

    #[test]
    fn conninfo_gives_the_upstream() {
        let pg15 = "user=postgres passfile=/var/lib/postgresql/.pgpass channel_binding=prefer \
                    dbname=replication host=127.0.0.1 port=45001 fallback_application_name=walreceiver";
        assert_eq!(conninfo_upstream(pg15).as_deref(), Some("127.0.0.1:45001"));
        assert_eq!(conninfo_upstream("host=db1 user=r").as_deref(), Some("db1:5432"));
        assert_eq!(conninfo_upstream("host = 'my host' port = '6000'").as_deref(), Some("my host:6000"));
        assert_eq!(conninfo_upstream("password=******** host=::1 port=5").as_deref(), Some("[::1]:5"));
        assert_eq!(conninfo_upstream("password='a\\'b c' host=h2,h3 port=7,8").as_deref(), Some("h2:7"));
        assert_eq!(conninfo_upstream("hostaddr=10.1.2.3").as_deref(), Some("10.1.2.3:5432"));
        assert_eq!(conninfo_upstream("user=r port=5433"), None);
        assert_eq!(conninfo_upstream("garbage"), None);
        assert_eq!(conninfo_upstream(""), None);
    }

    #[test]
    fn seconds_read_well() {
        assert_eq!(seconds_text(0.0042), "0.004 s");
        assert_eq!(seconds_text(12.54), "12.5 s");
        assert_eq!(seconds_text(185.0), "3m 5s");
    }
}
