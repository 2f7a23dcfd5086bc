//! WAL-G storages: `wal-g backup-list --detail --json` becomes a [`Catalog`]
//! of base backups, full or delta. WAL-G reads its storage and credentials
//! from its own environment or `--config` file, so opsdeck passes nothing
//! secret here.
//!
//! The shape, from WAL-G's source (wal-g/wal-g, PostgreSQL):
//! `internal/databases/postgres/backup_list_handler.go` prints, with
//! `--detail --json`, an array of `BackupDetail`
//! (`internal/databases/postgres/backup_detail.go`): `internal.BackupTime`
//! (`internal/backup_time.go`: `backup_name`, `time`, `wal_file_name`, and
//! in 3.x `storage_name`; some 1.x/2.0 releases said `creation_time` and
//! `modification_time` instead of `time`) flattened with
//! `ExtendedMetadataDto` (`backup_sentinel_dto.go`: `start_time`,
//! `finish_time`, `date_fmt`, `hostname`, `data_dir`, `pg_version`,
//! `start_lsn`, `finish_lsn` (LSNs as numbers), `is_permanent`,
//! `system_identifier`, `timeline`, `uncompressed_size`,
//! `compressed_size`, `user_data`). With no backups the handler logs
//! "No backups found" (tracelog's INFO, on stderr) and prints nothing.
//! Go writes unset times as `0001-01-01T00:00:00Z` and unset sizes as 0.

use jiff::Timestamp;
use serde::Deserialize;

use super::tool::{self, ToolRun};
use crate::backups::model::{Backup, BackupType, Catalog, CatalogError, ErrorState};
use crate::config::backups::BackupSource;

/// What WAL-G says when the storage holds no base backup.
const NO_BACKUPS: &str = "No backups found";

/// Most WAL-G warnings kept as catalog notes.
const MAX_WARNINGS: usize = 3;

/// Read the storage's base backups.
pub async fn list(cfg: &BackupSource) -> Result<Catalog, CatalogError> {
    list_with("wal-g", cfg).await
}

/// [`list`] with another program in WAL-G's place, for tests (WAL-G is not
/// packaged for the machines opsdeck is tested on).
pub async fn list_with(program: &str, cfg: &BackupSource) -> Result<Catalog, CatalogError> {
    let mut argv = [program, "backup-list", "--detail", "--json"].map(str::to_owned).to_vec();
    if let Some(config) = &cfg.config_file {
        let Some(config) = config.to_str() else {
            return Err(CatalogError::new(ErrorState::Failed, "config_file is not a UTF-8 path"));
        };
        argv.extend(["--config".to_owned(), config.to_owned()]);
    }
    let run = ToolRun { argv, env: Vec::new(), run_as: cfg.run_as.clone(), timeout: cfg.timeout };
    let out = tool::run(&run).await?;
    if out.code != Some(0) {
        let reason = out.reason();
        return Err(CatalogError::new(ErrorState::Failed, without_log_prefix(&reason)));
    }
    parse_backup_list(&out.stdout, &out.stderr)
}

/// One entry of `backup-list --detail --json`; only the name is required.
#[derive(Deserialize)]
struct Detail {
    backup_name: String,
    #[serde(default)]
    time: Option<Timestamp>,
    #[serde(default)]
    modification_time: Option<Timestamp>,
    #[serde(default)]
    wal_file_name: Option<String>,
    #[serde(default)]
    storage_name: Option<String>,
    #[serde(default)]
    start_time: Option<Timestamp>,
    #[serde(default)]
    finish_time: Option<Timestamp>,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    data_dir: Option<String>,
    #[serde(default)]
    pg_version: Option<u32>,
    #[serde(default)]
    start_lsn: Option<serde_json::Value>,
    #[serde(default)]
    finish_lsn: Option<serde_json::Value>,
    #[serde(default)]
    is_permanent: Option<bool>,
    #[serde(default)]
    uncompressed_size: Option<i64>,
    #[serde(default)]
    compressed_size: Option<i64>,
}

/// Parse what `wal-g backup-list --detail --json` printed. An empty store
/// is an empty catalog, however WAL-G says it: nothing, `[]`, `null`, or
/// "No backups found" on either stream. Warnings on stderr become notes.
pub fn parse_backup_list(stdout: &[u8], stderr: &str) -> Result<Catalog, CatalogError> {
    let text = String::from_utf8_lossy(stdout);
    let trimmed = text.trim();
    let mut catalog = Catalog::default();
    let says_empty = trimmed.is_empty() || (trimmed.contains(NO_BACKUPS) && !trimmed.starts_with('['));
    if !says_empty {
        let details: Option<Vec<Detail>> =
            serde_json::from_str(trimmed).map_err(|e| bad_answer(trimmed, &e))?;
        for detail in details.unwrap_or_default() {
            let name = detail.backup_name.clone();
            match to_backup(detail) {
                Some(backup) => catalog.backups.push(backup),
                None => catalog.notes.push(format!("{name}: no time in WAL-G's listing; left out")),
            }
        }
    }
    catalog.notes.extend(warnings(stderr));
    catalog.sort();
    Ok(catalog)
}

/// WAL-G's warnings (a backup whose metadata could not be read, ...): not
/// errors, but worth a line beside the catalog. A few at most.
fn warnings(stderr: &str) -> impl Iterator<Item = String> + '_ {
    stderr
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("WARNING:"))
        .map(without_log_prefix)
        .take(MAX_WARNINGS)
}

/// A base backup as a [`Backup`]; `None` when WAL-G gives it no time at all.
/// A name with `_D_` (`base_<wal>_D_<base wal>`) is a delta from the backup
/// named after it.
fn to_backup(d: Detail) -> Option<Backup> {
    let time = [d.finish_time, d.time, d.modification_time].into_iter().flatten().find(|t| is_set(*t))?;
    let delta_from = d.backup_name.split_once("_D_").map(|(_, base)| format!("base_{base}"));
    let kind = if delta_from.is_some() { BackupType::Incremental } else { BackupType::Full };
    let mut backup = Backup::new(d.backup_name, kind, time);
    backup.started = d.start_time.filter(|t| is_set(*t));
    backup.host = d.hostname.filter(|h| !h.is_empty());
    backup.size = d.compressed_size.and_then(positive);
    backup.original_size = d.uncompressed_size.and_then(positive);
    let mut detail = |key: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            backup.detail.push((key.to_owned(), value));
        }
    };
    detail("delta from", delta_from);
    detail("WAL start", d.wal_file_name);
    let lsns = (d.start_lsn.as_ref().and_then(lsn), d.finish_lsn.as_ref().and_then(lsn));
    detail("LSN", lsns.0.map(|start| format!("{start} – {}", lsns.1.unwrap_or_else(|| "?".into()))));
    detail("PostgreSQL", d.pg_version.filter(|v| *v > 0).map(pg_version));
    detail("data dir", d.data_dir);
    detail("storage", d.storage_name);
    detail("permanent", d.is_permanent.filter(|p| *p).map(|_| "yes (kept by delete)".to_owned()));
    Some(backup)
}

/// Go's zero time (year 1) means "not recorded".
fn is_set(t: Timestamp) -> bool {
    t.as_second() > 0
}

/// Go's zero size means "not recorded" (backups taken before WAL-G kept sizes).
fn positive(n: i64) -> Option<u64> {
    u64::try_from(n).ok().filter(|n| *n > 0)
}

/// An LSN in PostgreSQL's `X/Y` form: WAL-G prints the 64-bit number (0
/// when it recorded none).
fn lsn(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Number(n) => {
            n.as_u64().filter(|n| *n > 0).map(|n| format!("{:X}/{:X}", n >> 32, n & 0xFFFF_FFFF))
        }
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// `server_version_num` as people write it: 150004 → 15.4, 90624 → 9.6.24.
fn pg_version(v: u32) -> String {
    if v >= 100_000 {
        format!("{}.{}", v / 10_000, v % 10_000)
    } else {
        format!("{}.{}.{}", v / 10_000, v / 100 % 100, v % 100)
    }
}

/// WAL-G's log lines read `ERROR: 2024/01/15 10:00:00.123456 <why>`: keep the why.
fn without_log_prefix(line: &str) -> String {
    let mut words = line.splitn(4, ' ');
    let (level, date, time, rest) = (words.next(), words.next(), words.next(), words.next());
    let is_level =
        level.is_some_and(|l| l.ends_with(':') && l[..l.len() - 1].chars().all(|c| c.is_ascii_uppercase()));
    let is_date = date.is_some_and(|d| d.len() == 10 && d.as_bytes().get(4) == Some(&b'/'));
    let is_time = time.is_some_and(|t| t.as_bytes().get(2) == Some(&b':'));
    match rest {
        Some(rest) if is_level && is_date && is_time => rest.trim().to_owned(),
        _ => line.to_owned(),
    }
}

/// A non-JSON (or not WAL-G's JSON) answer, with a one-line excerpt.
fn bad_answer(text: &str, e: &serde_json::Error) -> CatalogError {
    let excerpt = super::tool::excerpt(text);
    let what = if e.is_data() { "not WAL-G's backup list" } else { "not JSON" };
    CatalogError::new(ErrorState::BadAnswer, format!("{what}: {excerpt}"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::backups::BackupKind;

    /// WAL-G 3.x shape (`time`, `storage_name`), newest first as WAL-G
    /// prints it: a delta on top of a full, the full marked permanent.
    const V3: &str = r#"[
      {"backup_name":"base_000000010000000000000007_D_000000010000000000000004","time":"2026-11-23T03:00:05.123Z",
       "wal_file_name":"000000010000000000000007","storage_name":"default",
       "start_time":"2026-11-23T03:00:00.5Z","finish_time":"2026-11-23T03:00:04Z","date_fmt":"%Y-%m-%dT%H:%M:%S.%fZ",
       "hostname":"db1","data_dir":"/var/lib/postgresql/15/main","pg_version":150004,
       "start_lsn":117440552,"finish_lsn":117440848,"is_permanent":false,"system_identifier":7301234567890123456,
       "timeline":1,"uncompressed_size":41943040,"compressed_size":5242880,"user_data":{"by":"cron"}},
      {"backup_name":"base_000000010000000000000004","time":"2026-11-23T01:00:05Z",
       "wal_file_name":"000000010000000000000004","start_time":"2026-11-23T01:00:00Z",
       "finish_time":"2026-11-23T01:00:03Z","hostname":"db1","data_dir":"/var/lib/postgresql/15/main",
       "pg_version":90624,"start_lsn":67108904,"finish_lsn":67109160,"is_permanent":true,
       "uncompressed_size":0,"compressed_size":0}
    ]"#;

    /// Older (1.x) shape: `modification_time`/`creation_time`, zero times
    /// where nothing was recorded.
    const V1: &str = r#"[{"backup_name":"base_000000010000000000000002","creation_time":"0001-01-01T00:00:00Z",
      "modification_time":"2021-05-01T10:00:00Z","wal_file_name":"000000010000000000000002",
      "start_time":"0001-01-01T00:00:00Z","finish_time":"0001-01-01T00:00:00Z","hostname":"","pg_version":0,
      "start_lsn":0,"finish_lsn":0,"is_permanent":false,"uncompressed_size":0,"compressed_size":0}]"#;

    fn details(b: &Backup) -> Vec<(&str, &str)> {
        b.detail.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn fulls_and_deltas_oldest_first_with_their_metadata() {
        let c = parse_backup_list(V3.as_bytes(), "").unwrap();
        let kinds: Vec<_> = c.backups.iter().map(|b| (b.id.as_str(), b.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("base_000000010000000000000004", BackupType::Full),
                ("base_000000010000000000000007_D_000000010000000000000004", BackupType::Incremental)
            ]
        );
        let delta = &c.backups[1];
        assert_eq!(delta.time, "2026-11-23T03:00:04Z".parse::<Timestamp>().unwrap(), "finish_time wins");
        assert_eq!(delta.started, Some("2026-11-23T03:00:00.5Z".parse().unwrap()));
        assert_eq!((delta.size, delta.original_size), (Some(5_242_880), Some(41_943_040)));
        assert_eq!(delta.host.as_deref(), Some("db1"));
        let d = details(delta);
        assert!(d.contains(&("delta from", "base_000000010000000000000004")), "{d:?}");
        assert!(d.contains(&("LSN", "0/7000028 – 0/7000150")), "{d:?}");
        assert!(d.contains(&("PostgreSQL", "15.4")), "{d:?}");
        assert!(d.contains(&("storage", "default")), "{d:?}");
        let full = &c.backups[0];
        assert_eq!((full.size, full.original_size), (None, None), "zero sizes are unknown");
        assert!(details(full).contains(&("PostgreSQL", "9.6.24")));
        assert!(details(full).contains(&("permanent", "yes (kept by delete)")));
    }

    #[test]
    fn warnings_on_stderr_become_notes() {
        let stderr = "INFO: 2026/11/23 10:00:00.000000 listing\n\
                      WARNING: 2026/11/23 10:00:00.100000 failed to read metadata of base_9: not found\n";
        let c = parse_backup_list(V3.as_bytes(), stderr).unwrap();
        assert_eq!(c.notes, ["failed to read metadata of base_9: not found"]);
    }

    #[test]
    fn older_releases_and_zero_times() {
        let c = parse_backup_list(V1.as_bytes(), "").unwrap();
        let b = &c.backups[0];
        assert_eq!(b.time, "2021-05-01T10:00:00Z".parse::<Timestamp>().unwrap());
        assert_eq!((b.started, b.host.as_deref()), (None, None));
        assert!(details(b).iter().all(|(k, _)| !["PostgreSQL", "LSN"].contains(k)), "{:?}", b.detail);
        let no_time =
            parse_backup_list(br#"[{"backup_name":"base_1","finish_time":"0001-01-01T00:00:00Z"}]"#, "")
                .unwrap();
        assert!(no_time.backups.is_empty());
        assert_eq!(no_time.notes, ["base_1: no time in WAL-G's listing; left out"]);
    }

    #[test]
    fn an_empty_store_in_every_spelling_is_an_empty_catalog() {
        let info = "INFO: 2026/11/23 10:00:00.000000 No backups found\n";
        for (stdout, stderr) in [("", info), ("", ""), ("[]", ""), ("null\n", ""), ("No backups found\n", "")]
        {
            assert_eq!(parse_backup_list(stdout.as_bytes(), stderr), Ok(Catalog::default()), "{stdout:?}");
        }
    }

    #[test]
    fn anything_else_is_a_bad_answer() {
        let e = parse_backup_list(b"name  modified  wal_segment_backup_start\nbase_1 ...", "").unwrap_err();
        assert_eq!(e.state, ErrorState::BadAnswer);
        assert_eq!(e.message, "not JSON: name modified wal_segment_backup_start base_1 ...");
        let e = parse_backup_list(br#"[{"time":"2026-11-23T01:00:00Z"}]"#, "").unwrap_err();
        assert!(e.message.starts_with("not WAL-G's backup list"), "{}", e.message);
    }

    #[test]
    fn log_prefixes_are_dropped_from_reasons() {
        assert_eq!(
            without_log_prefix("ERROR: 2026/11/23 10:00:00.123456 failed to list s3 folder: AccessDenied"),
            "failed to list s3 folder: AccessDenied"
        );
        assert_eq!(without_log_prefix("something else: entirely"), "something else: entirely");
    }

    fn config() -> BackupSource {
        let mut cfg = BackupSource::new("walg", BackupKind::Walg, "", Duration::from_secs(3600));
        cfg.timeout = Duration::from_secs(10);
        cfg
    }

    #[tokio::test]
    async fn wal_g_not_installed_is_tool_missing() {
        // WAL-G has no Debian package; the machines these tests run on do not have it.
        let e = list(&config()).await.unwrap_err();
        assert_eq!(e.state, ErrorState::ToolMissing, "{e}");
        assert!(e.message.contains("wal-g"), "{e}");
    }

    /// A stand-in for wal-g that records its argv and answers like WAL-G.
    fn fake_walg(dir: &std::path::Path, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("wal-g");
        let script = format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}/argv'\n{body}\n", dir.display());
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.to_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn the_argv_the_empty_store_and_a_failure_through_a_stand_in() {
        let dir = tempfile::Builder::new().prefix("od-wg-").tempdir_in("/tmp").unwrap();
        let mut cfg = config();
        cfg.config_file = Some(dir.path().join("walg.json"));
        let empty = fake_walg(dir.path(), "echo 'INFO: 2026/11/23 10:00:00.000000 No backups found' >&2");
        assert_eq!(list_with(&empty, &cfg).await, Ok(Catalog::default()));
        let argv = std::fs::read_to_string(dir.path().join("argv")).unwrap();
        let config = dir.path().join("walg.json");
        assert_eq!(argv, format!("backup-list\n--detail\n--json\n--config\n{}\n", config.display()));

        let failing = fake_walg(
            dir.path(),
            "echo 'ERROR: 2026/11/23 10:00:00.000000 failed to list s3 folder: AccessDenied' >&2; exit 1",
        );
        let e = list_with(&failing, &cfg).await.unwrap_err();
        assert_eq!(
            (e.state, e.message.as_str()),
            (ErrorState::Failed, "failed to list s3 folder: AccessDenied")
        );
    }
}
