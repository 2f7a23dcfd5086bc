//! Every tab with real data, through the real binary in a PTY at 120×36:
//! this node with history, a queue from a real Alertmanager, a real
//! PostgreSQL pair and Redis pair, a directory catalog of real gzip dumps
//! with a finding, a log with every level, and the wall. Each screen is
//! asserted to show its data; with `OPSDECK_WRITE_SCREENSHOTS=DIR` the
//! screens are also written there as ANSI text, which
//! `scripts/screenshots.sh` turns into the README's SVGs.

mod backends;
mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use backends::Alertmanager;
use backends::postgres::PgPair;
use backends::redis::{self, RedisPair};
use common::{Sandbox, Session};
use serde_json::json;

const ROWS: u16 = 36;
const COLS: u16 = 120;

/// A gzip dump of `kib` KiB, `age` old.
fn dump(dir: &Path, name: &str, kib: usize, age: Duration) {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Incompressible enough that sizes differ as the catalog expects.
    let mut x: u32 = 2_463_534_242;
    for _ in 0..kib * 256 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        gz.write_all(&x.to_le_bytes()).expect("gzip");
    }
    fs::write(dir.join(name), gz.finish().expect("gzip")).expect("write dump");
    let when = SystemTime::now() - age;
    fs::File::options().write(true).open(dir.join(name)).and_then(|f| f.set_modified(when)).expect("mtime");
}

fn log_lines() -> String {
    let now = jiff::Timestamp::now();
    let at = |s: i64| now.checked_sub(jiff::SignedDuration::from_secs(s)).expect("time").to_string();
    let mut out = String::new();
    for (ago, level, text) in [
        (300, "INFO", "api: listening on 0.0.0.0:8080"),
        (240, "INFO", "db: pool ready (20 connections)"),
        (200, "WARN", "db: slow query 1.8s: SELECT * FROM orders WHERE status = 'open'"),
        (150, "INFO", "GET /health 200 1ms"),
        (120, "ERROR", "payments: upstream timeout after 5s (gateway 10.0.3.7:443)"),
        (90, "INFO", "GET /api/orders 200 12ms"),
        (60, "WARN", "cache: redis latency 120ms over 100ms"),
        (30, "ERROR", "payments: retry 3/3 failed, order 88412 queued"),
        (5, "INFO", "GET /api/orders 200 9ms"),
    ] {
        out.push_str(&format!("{} {level} {text}\n", at(ago)));
    }
    out.push_str(&format!(
        "{{\"timestamp\":\"{}\",\"level\":\"error\",\"service_name\":\"checkout\",\"trace_id\":\"4bf92f35\",\"message\":\"card declined: insufficient funds\"}}\n",
        at(2)
    ));
    out
}

/// Keep the screen for the README when asked to: every cell with its
/// colours as SGR escapes, one line per row (no cursor movement), the form
/// `scripts/ansi2svg.py` reads.
fn keep(s: &Session, name: &str) {
    let Some(dir) = std::env::var_os("OPSDECK_WRITE_SCREENSHOTS") else { return };
    let text = s.with_screen(|screen| {
        let sgr = |c: vt100::Color, base: u8| match c {
            vt100::Color::Default => format!("{}", base + 9),
            vt100::Color::Idx(i) => format!("{};5;{i}", base + 8),
            vt100::Color::Rgb(r, g, b) => format!("{};2;{r};{g};{b}", base + 8),
        };
        let (rows, cols) = screen.size();
        let mut out = String::new();
        for row in 0..rows {
            for col in 0..cols {
                let Some(cell) = screen.cell(row, col) else { continue };
                if cell.is_wide_continuation() {
                    continue;
                }
                let (fg, bg) = if cell.inverse() {
                    (cell.bgcolor(), cell.fgcolor())
                } else {
                    (cell.fgcolor(), cell.bgcolor())
                };
                let bold = if cell.bold() { "1" } else { "22" };
                out.push_str(&format!("\x1b[0;{bold};{};{}m", sgr(fg, 30), sgr(bg, 40)));
                let text = cell.contents();
                out.push_str(if text.is_empty() { " " } else { text });
            }
            out.push_str("\x1b[0m\n");
        }
        out
    });
    let path = Path::new(&dir).join(format!("{name}.ans"));
    fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

#[test]
fn every_tab_with_real_data() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let (pg, redis, am) = rt.block_on(async {
        let pg = PgPair::start().await;
        let redis = RedisPair::start().await;
        let am = Alertmanager::start().await;
        let alert = |name: &str, severity: &str, instance: &str, summary: &str| {
            json!({"labels": {"alertname": name, "severity": severity, "instance": instance, "job": "node"},
                   "annotations": {"summary": summary}})
        };
        am.post_alerts(&json!([
            alert("InstanceDown", "critical", "db3:9100", "db3 has been down for 5 minutes"),
            alert("DiskWillFillIn4h", "warning", "db1:9100", "/var/lib/postgresql fills in about 3 h"),
            alert("HighLatencyP99", "warning", "api2:8080", "p99 latency 1.9 s over 1 s"),
            alert("CertExpiresSoon", "info", "lb1:443", "certificate expires in 12 days"),
        ]))
        .await;
        (pg, redis, am)
    });
    pg.primary_sql("CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, 1000)");

    let sandbox = Sandbox::new();
    let dumps = sandbox.path().join("dumps/full");
    fs::create_dir_all(&dumps).expect("dumps dir");
    let day = Duration::from_secs(86_400);
    for d in 1..7u32 {
        dump(&dumps, &format!("shop-2026120{d}.sql.gz"), 180 + d as usize, day * (7 - d) + day / 3);
    }
    // The newest is a tenth of the others: a size anomaly the catalog flags.
    dump(&dumps, "shop-20261207.sql.gz", 18, day / 4);
    let log = sandbox.write("app.log", &log_lines());
    let password = sandbox.write("redis.password", &format!("{}\n", redis::MONITOR_PASSWORD));
    let config = format!(
        "[metrics]\nhistory = \"1m\"\n\n[wall]\ncycle = \"1h\"\n\n\
         [[alertmanager]]\nname = \"am\"\nurl = \"{am}\"\ninterval = \"1s\"\n\n\
         [[clusters]]\nname = \"pg-main\"\nkind = \"postgres\"\nmembers = [\"127.0.0.1:{pp}\", \"127.0.0.1:{ps}\"]\ninterval = \"1s\"\n\n\
         [[clusters]]\nname = \"sessions\"\nkind = \"redis\"\nmembers = [\"127.0.0.1:{rp}\", \"127.0.0.1:{rr}\"]\n\
         user = \"{ru}\"\npassword_file = \"{pw}\"\ninterval = \"1s\"\n\n\
         [[backups]]\nname = \"shop-dumps\"\nkind = \"dir\"\npath = \"{dumps}\"\nrpo = \"26h\"\ninterval = \"1s\"\n\
         [backups.patterns]\nfull = \"full/*.sql.gz\"\n\n\
         [[logs]]\nname = \"app\"\npath = \"{log}\"\n",
        am = am.url(),
        pp = pg.primary_port,
        ps = pg.standby_port,
        rp = redis.primary.port,
        rr = redis.replica.port,
        ru = redis::MONITOR_USER,
        pw = password.display(),
        dumps = sandbox.path().join("dumps").display(),
        log = log.display(),
    );
    let cfg = sandbox.write("opsdeck.toml", &config);
    let cfg = cfg.to_str().expect("utf-8 path").to_owned();
    let mut s = sandbox.spawn_sized(&[common::BIN, "--config", &cfg], &[], ROWS, COLS);

    // Metrics: wait for the process table and some history in the charts.
    s.wait_for("the Metrics tab with processes", |t| t.contains("PID") && t.contains("opsdeck"));
    // History to draw (not an assertion): the README's picture waits for a
    // full minute of it, a test run only for a few samples.
    let writing = std::env::var_os("OPSDECK_WRITE_SCREENSHOTS").is_some();
    std::thread::sleep(Duration::from_secs(if writing { 60 } else { 3 }));
    keep(&s, "metrics");

    s.send("2");
    s.wait_for_within("the queue from Alertmanager", Duration::from_secs(30), |t| {
        t.contains("InstanceDown") && t.contains("DiskWillFillIn4h") && t.contains("CertExpiresSoon")
    });
    keep(&s, "alerts");

    s.send("3");
    s.wait_for_within("both clusters streaming", Duration::from_secs(30), |t| {
        t.contains("▾ pg-main") && t.contains("▾ sessions") && t.matches("streaming").count() >= 2
    });
    s.send("jjj"); // header, primary, standby: the PostgreSQL standby's details
    s.wait_for("the standby's details", |t| {
        t.lines().any(|l| l.contains("in recovery") && l.contains("yes"))
    });
    keep(&s, "replication");

    s.send("4");
    s.wait_for_within("the catalog and its finding", Duration::from_secs(30), |t| {
        t.contains("shop-dumps") && t.contains("size")
    });
    s.send("j\r"); // select the catalog, open its backups: the small newest one flagged
    s.wait_for("the catalog's backups", |t| {
        t.contains("shop-20261207.sql.gz") && t.contains("shop-20261201.sql.gz")
    });
    keep(&s, "backups");

    s.send("5");
    s.wait_for("the log with every level", |t| {
        t.contains("upstream timeout") && t.contains("card declined") && t.contains("slow query")
    });
    keep(&s, "logs");
    s.send("q");
    assert_eq!(s.wait_exit(), 0);

    let wall = sandbox.spawn_sized(&[common::BIN, "--config", &cfg, "--wall"], &[], ROWS, COLS);
    wall.wait_for_within("the wall's tiles with figures", Duration::from_secs(30), |t| {
        t.contains("READ-ONLY") && t.contains("of RPO") && t.contains("no fleet configured")
    });
    keep(&wall, "wall");
    drop((pg, redis, am));
}
