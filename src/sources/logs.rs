//! Log sources: one task per `[[logs]]` entry following its files (or the
//! journal), parsing every line on that task — sanitized, levelled, JSON
//! read — and handing the tab batches, so the screen never parses.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Payload, Update};
use crate::config::sources::{LogKind, LogSource};
use crate::logs::follow::{FollowEvent, FollowOptions, FollowTarget, RawLine};
use crate::logs::line::{self, JsonFields, Parsed};

/// The status bar's name for the log readers.
pub const SOURCE: &str = "logs";

/// Most lines in one batch: a flood arrives in screen-sized bites.
const BATCH_MAX: usize = 4096;

/// Lines from one source, parsed, and how the source is doing.
#[derive(Debug, Clone)]
pub struct LogBatch {
    /// Index of the source in the tab's list.
    pub source: u16,
    /// Each line and whether it continues the previous record.
    pub lines: Vec<(Parsed, bool)>,
    /// News about the source itself.
    pub state: Option<LogState>,
    /// The lines are the backlog read at start (a file's last lines), not
    /// news: without a time of their own they count toward no rate.
    pub backlog: bool,
    /// When they were read: the time a line without its own counts at.
    pub read_at: jiff::Timestamp,
}

impl LogBatch {
    /// An empty batch of news from `source`, read now.
    pub fn new(source: u16, state: Option<LogState>) -> LogBatch {
        LogBatch { source, lines: Vec::new(), state, backlog: false, read_at: jiff::Timestamp::now() }
    }
}

/// How a source is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogState {
    /// Reading normally (clears an error).
    Reading,
    /// Cannot read: the reason, naming the path.
    Error(String),
    /// Something worth a note: rotated, truncated, appeared, missing.
    Note(String),
}

/// The sources to show: the configured ones, or with none configured the
/// readable system logs and the journal, else opsdeck's own log.
pub fn resolve(configured: &[LogSource], own_log: Option<&Path>) -> Vec<LogSource> {
    if !configured.is_empty() {
        return configured.to_vec();
    }
    let file = |name: &str, path: &str| LogSource {
        name: name.into(),
        kind: LogKind::File,
        path: path.into(),
        units: Vec::new(),
    };
    let mut out: Vec<LogSource> = ["/var/log/syslog", "/var/log/messages"]
        .iter()
        .filter(|p| std::fs::File::open(p).is_ok())
        .map(|p| file(p.trim_start_matches("/var/log/"), p))
        .collect();
    if journal_readable() {
        out.push(LogSource {
            name: "journal".into(),
            kind: LogKind::Journald,
            path: String::new(),
            units: Vec::new(),
        });
    }
    if out.is_empty()
        && let Some(own) = own_log.and_then(Path::to_str)
    {
        out.push(file("opsdeck", own));
    }
    out
}

/// Whether `journalctl` exists and there is a journal to read.
fn journal_readable() -> bool {
    Path::new("/run/systemd/journal").is_dir()
        && std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("journalctl").is_file()))
}

/// Start a reader per source.
pub fn spawn_all(
    sources: &[LogSource],
    tail: &crate::config::tail::TailConfig,
    tx: &mpsc::Sender<Update>,
    cancel: &CancellationToken,
) {
    let opts = &tail.follow_options();
    let names = Arc::new(tail.json.clone());
    for (i, s) in sources.iter().enumerate() {
        let Ok(index) = u16::try_from(i) else { break };
        match s.kind {
            LogKind::File => {
                let names = Arc::clone(&names);
                tokio::spawn(follow_files(
                    index,
                    s.path.clone(),
                    opts.clone(),
                    names,
                    tx.clone(),
                    cancel.clone(),
                ));
            }
            LogKind::Journald => {
                tokio::spawn(follow_journal(
                    index,
                    s.units.clone(),
                    opts.clone(),
                    tx.clone(),
                    cancel.clone(),
                ));
            }
        }
    }
}

async fn send(tx: &mpsc::Sender<Update>, batch: LogBatch) -> bool {
    tx.send(Update::now(SOURCE, Ok(Payload::Logs(batch)))).await.is_ok()
}

/// Parse raw lines into `out`, keeping stack traces with their record.
fn parse_into(out: &mut Vec<(Parsed, bool)>, lines: Vec<RawLine>, names: &JsonFields) {
    for raw in lines {
        let parsed = line::parse(&raw.bytes, raw.truncated, names);
        let continuation = !parsed.is_json() && line::continues_record(&parsed.text);
        out.push((parsed, continuation));
    }
}

async fn follow_files(
    source: u16,
    spec: String,
    opts: FollowOptions,
    names: Arc<JsonFields>,
    tx: mpsc::Sender<Update>,
    cancel: CancellationToken,
) {
    let target = match FollowTarget::parse(&spec) {
        Ok(t) => t,
        Err(e) => {
            let state = Some(LogState::Error(format!("{spec}: bad glob: {e}")));
            send(&tx, LogBatch::new(source, state)).await;
            return;
        }
    };
    let (events_tx, mut events) = mpsc::channel::<(Arc<Path>, FollowEvent)>(256);
    tokio::spawn(crate::logs::follow::follow(target, opts, events_tx, cancel.clone()));
    // An event that did not fit the last batch (backlog and news never share one).
    let mut carried: Option<(Arc<Path>, FollowEvent)> = None;
    loop {
        let first = match carried.take() {
            Some(event) => event,
            None => match events.recv().await {
                Some(event) => event,
                None => return,
            },
        };
        let mut batch = LogBatch::new(source, None);
        let mut next = Some(first);
        // Drain what is already waiting into one batch.
        while let Some((path, event)) = next.take() {
            let backlog = matches!(event, FollowEvent::Backlog(_));
            if matches!(event, FollowEvent::Lines(_) | FollowEvent::Backlog(_)) {
                if !batch.lines.is_empty() && backlog != batch.backlog {
                    carried = Some((path, event));
                    break;
                }
                batch.backlog = backlog;
            }
            match event {
                FollowEvent::Lines(lines) | FollowEvent::Backlog(lines) => {
                    if batch.state.is_none() {
                        batch.state = Some(LogState::Reading);
                    }
                    parse_into(&mut batch.lines, lines, &names);
                }
                FollowEvent::Error(e) => batch.state = Some(LogState::Error(e)),
                FollowEvent::Rotated { how } => batch.state = Some(note(&path, how)),
                FollowEvent::Truncated => batch.state = Some(note(&path, "truncated, read from its start")),
                FollowEvent::Missing => batch.state = Some(note(&path, "missing, waiting for it")),
                FollowEvent::Appeared => batch.state = Some(note(&path, "appeared")),
            }
            if batch.lines.len() >= BATCH_MAX {
                break;
            }
            next = events.try_recv().ok();
        }
        if !send(&tx, batch).await {
            return;
        }
    }
}

fn note(path: &Path, what: &str) -> LogState {
    LogState::Note(format!("{}: {what}", path.display()))
}

/// `journalctl -f -o json`, restarted with a pause if it exits.
async fn follow_journal(
    source: u16,
    units: Vec<String>,
    opts: FollowOptions,
    tx: mpsc::Sender<Update>,
    cancel: CancellationToken,
) {
    let mut argv: Vec<String> = vec![
        "-f".into(),
        "-o".into(),
        "json".into(),
        "-n".into(),
        opts.initial_lines.to_string(),
        "--no-pager".into(),
    ];
    for u in &units {
        argv.push("-u".into());
        argv.push(u.clone());
    }
    loop {
        let result = tokio::select! {
            () = cancel.cancelled() => return,
            r = read_journal(source, &argv, &opts, &tx) => r,
        };
        let state = Some(LogState::Error(match result {
            Ok(()) => "journalctl exited".to_owned(),
            Err(e) => e,
        }));
        if !send(&tx, LogBatch::new(source, state)).await {
            return;
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    }
}

async fn read_journal(
    source: u16,
    argv: &[String],
    opts: &FollowOptions,
    tx: &mpsc::Sender<Update>,
) -> Result<(), String> {
    let mut child = crate::ops::child_env::command("journalctl")
        .args(argv)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start journalctl: {e}"))?;
    let out = child.stdout.take().ok_or("no pipe from journalctl")?;
    let mut reader = BufReader::new(out);
    let mut buf = Vec::new();
    let mut lines = Vec::new();
    loop {
        buf.clear();
        // A journal entry is one JSON object per line; cap what one may take.
        let n = (&mut reader)
            .take(opts.max_line as u64 * 4)
            .read_until(b'\n', &mut buf)
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(());
        }
        if let Some(parsed) = journal_entry(&buf) {
            lines.push((parsed, false));
        }
        // Send when nothing more is buffered: a burst goes as one batch.
        if reader.buffer().is_empty() || lines.len() >= BATCH_MAX {
            // Journal entries carry their own time, so `-n`'s backlog counts by it.
            let mut batch = LogBatch::new(source, Some(LogState::Reading));
            batch.lines = std::mem::take(&mut lines);
            if !send(tx, batch).await {
                return Ok(());
            }
        }
    }
}

/// One `journalctl -o json` entry: MESSAGE (text, or bytes for binary
/// messages), PRIORITY as the level, the realtime timestamp, the unit.
pub fn journal_entry(json: &[u8]) -> Option<Parsed> {
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    let message = match v.get("MESSAGE")? {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(bytes) => {
            let raw: Vec<u8> =
                bytes.iter().filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok())).collect();
            String::from_utf8_lossy(&raw).into_owned()
        }
        _ => return None,
    };
    let text = line::sanitize_str(&message);
    let level = v
        .get("PRIORITY")
        .and_then(|p| p.as_str())
        .and_then(|p| p.parse::<u8>().ok())
        .map(line::from_syslog_priority);
    let time = v
        .get("__REALTIME_TIMESTAMP")
        .and_then(|t| t.as_str())
        .and_then(|t| t.parse::<i64>().ok())
        .and_then(|us| jiff::Timestamp::from_microsecond(us).ok());
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(line::sanitize_str);
    let fields: Vec<(String, String)> = ["_SYSTEMD_UNIT", "SYSLOG_IDENTIFIER", "_PID", "_HOSTNAME"]
        .iter()
        .filter_map(|k| field(k).map(|val| ((*k).to_owned(), val)))
        .collect();
    Some(Parsed {
        text: text.into(),
        level,
        time,
        // A journal record is one JSON object: whole, never continued.
        json: Some(Box::new(line::JsonParts {
            service: field("_SYSTEMD_UNIT").or_else(|| field("SYSLOG_IDENTIFIER")),
            trace_id: None,
            fields,
        })),
        truncated: false,
    })
}

/// Where opsdeck's own log is, for the default sources.
pub fn own_log(data_dir: Option<&Path>) -> Option<PathBuf> {
    data_dir.map(|d| d.join("opsdeck.log"))
}
