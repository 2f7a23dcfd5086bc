//! journald through `journalctl -o json`: entries as journalctl prints them
//! (recorded from systemd 252 on Debian 12) become lines with the priority as
//! the level, the realtime timestamp, the unit as the service, and binary
//! messages decoded and made inert; and, where a journal is present on the
//! machine running the tests, the live reader delivers lines.

use std::time::Duration;

use opsdeck::config::sources::{LogKind, LogSource};
use opsdeck::logs::line::Level;
use opsdeck::sources::logs::{journal_entry, spawn_all};
use opsdeck::sources::{Payload, Update};

const NGINX_ERROR: &str = r#"{"__CURSOR":"s=5d1c;i=1a2b","__REALTIME_TIMESTAMP":"1763870400123456","__MONOTONIC_TIMESTAMP":"912345678","_BOOT_ID":"0f1e","PRIORITY":"3","SYSLOG_FACILITY":"3","SYSLOG_IDENTIFIER":"nginx","_PID":"812","_UID":"0","_COMM":"nginx","_SYSTEMD_UNIT":"nginx.service","_HOSTNAME":"web-01","MESSAGE":"connect() failed (111: Connection refused) while connecting to upstream"}"#;

/// journalctl prints a message that is not valid UTF-8 (or holds control
/// characters) as an array of bytes: here ESC [2J, a screen clear.
const BINARY: &str = r#"{"__REALTIME_TIMESTAMP":"1763870401000000","PRIORITY":"6","SYSLOG_IDENTIFIER":"app","MESSAGE":[27,91,50,74,104,105,255]}"#;

#[test]
fn recorded_entries_become_lines() {
    let e = journal_entry(NGINX_ERROR.as_bytes()).expect("an entry");
    assert_eq!(&*e.text, "connect() failed (111: Connection refused) while connecting to upstream");
    assert_eq!(e.level, Some(Level::Error));
    assert_eq!(e.time.map(|t| t.as_microsecond()), Some(1_763_870_400_123_456));
    assert_eq!(e.service(), Some("nginx.service"));
    let host = e.fields().iter().find(|(k, _)| k == "_HOSTNAME").map(|(_, v)| v.as_str());
    assert_eq!(host, Some("web-01"));

    let b = journal_entry(BINARY.as_bytes()).expect("a binary entry");
    assert!(!b.text.contains('\x1b'), "the escape is inert: {:?}", b.text);
    assert!(b.text.contains("hi") && b.text.contains('\u{fffd}'), "{:?}", b.text);
    assert_eq!((b.level, b.service()), (Some(Level::Info), Some("app")));

    assert!(journal_entry(b"not json").is_none());
    assert!(journal_entry(br#"{"PRIORITY":"3"}"#).is_none(), "an entry without a message is not a line");
}

#[test]
fn the_live_journal_delivers_lines_where_there_is_one() {
    let present = std::path::Path::new("/run/systemd/journal").is_dir()
        && std::process::Command::new("journalctl")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !present {
        eprintln!(
            "no systemd journal on this machine: the live reader is covered by the recorded entries only"
        );
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Update>(64);
        let cancel = tokio_util::sync::CancellationToken::new();
        let source =
            LogSource { name: "journal".into(), kind: LogKind::Journald, path: String::new(), units: vec![] };
        spawn_all(&[source], &Default::default(), &tx, &cancel);
        let got = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(u) = rx.recv().await {
                if let Ok(Payload::Logs(batch)) = u.result {
                    return Some(batch);
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .expect("a batch from journalctl");
        assert!(got.state.is_some(), "the reader says how it is doing");
        cancel.cancel();
    });
}
