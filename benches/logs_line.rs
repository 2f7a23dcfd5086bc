//! Parsing log lines at the rate the Logs tab's feeder must sustain
//! (100,000 lines/s while following a flood): 100,000 mixed lines per
//! iteration, reported as lines/s.
//!
//! - `parse_mixed_100k`: a realistic mix — timestamped text in several
//!   formats, syslog, stack-trace continuations, JSON (pino/zap/structlog
//!   style, with nested fields), and lines coloured with ANSI escapes;
//! - `parse_text_100k` / `parse_json_100k` / `parse_ansi_100k`: each kind
//!   alone, to see which one a regression is in.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opsdeck::logs::line::{JsonFields, parse};

const LINES: usize = 100_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Json,
    Ansi,
}

fn line(i: usize, kind: Kind) -> String {
    let level = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"][i % 6];
    let ms = i % 1000;
    let (s, m) = (i / 1000 % 60, i / 60_000 % 60);
    match kind {
        Kind::Text => match i % 5 {
            0 => format!(
                "2026-11-22T03:{m:02}:{s:02}.{ms:03}Z {level} opsdeck::sources::http: GET /api/v1/users/{i} \
                 200 in {}ms",
                i % 97
            ),
            1 => format!(
                "2026-11-22 03:{m:02}:{s:02},{ms:03} [http-nio-8080-exec-{}] {level} c.e.web.OrderController - \
                 order {i} accepted for customer-{}",
                i % 16,
                i % 5000
            ),
            2 => format!(
                "Nov 22 03:{m:02}:{s:02} db-{} postgres[{}]: LOG:  checkpoint complete",
                i % 4,
                i % 9999
            ),
            3 => format!("\tat com.example.orders.OrderService.place(OrderService.java:{})", i % 400),
            _ => format!(
                "10.0.{}.{} - - [22/Nov/2026:03:{m:02}:{s:02} +0000] \"GET /static/app.{i}.js HTTP/1.1\" 200 \
                 {} \"-\" \"Mozilla/5.0\"",
                i % 256,
                i % 200,
                i % 90_000
            ),
        },
        Kind::Json => match i % 3 {
            0 => format!(
                r#"{{"level":{},"time":{},"pid":4242,"hostname":"api-7","service_name":"api","trace_id":"{:016x}","msg":"request completed","req":{{"method":"GET","url":"/api/v1/items/{i}"}},"responseTime":{}}}"#,
                [30, 30, 20, 40, 50][i % 5],
                1_732_244_645_000u64 + i as u64,
                i * 7919,
                i % 300
            ),
            1 => format!(
                r#"{{"level":"{}","ts":{}.{:06},"caller":"worker/pool.go:{}","msg":"job finished","job_id":{i},"duration":0.{:03}}}"#,
                level.to_lowercase(),
                1_732_244_645 + i / 1000,
                i % 1_000_000,
                i % 300,
                ms
            ),
            _ => format!(
                r#"{{"timestamp":"2026-11-22T03:{m:02}:{s:02}.{ms:03}+08:00","level":"{level}","service_name":"billing","trace_id":"t-{i}","message":"invoice {i} sent","amount":{}.{:02}}}"#,
                i % 900,
                i % 100
            ),
        },
        Kind::Ansi => format!(
            "\x1b[2m2026-11-22T03:{m:02}:{s:02}.{ms:03}Z\x1b[0m \x1b[{}m{level}\x1b[0m \x1b[1mworker\x1b[0m: \
             processed batch {i}\tsize={}",
            [32, 32, 32, 34, 33, 31][i % 6],
            i % 512
        ),
    }
}

fn lines(kinds: &[Kind]) -> Vec<Vec<u8>> {
    (0..LINES).map(|i| line(i, kinds[i % kinds.len()]).into_bytes()).collect()
}

fn parse_all(lines: &[Vec<u8>], names: &JsonFields) -> usize {
    lines.iter().map(|line| parse(black_box(line), false, names).text.len()).sum()
}

fn bench(c: &mut Criterion) {
    let names = JsonFields::default();
    // 50 % text, 30 % JSON, 20 % ANSI-coloured.
    let mixed =
        [Kind::Text, Kind::Json, Kind::Text, Kind::Ansi, Kind::Json, Kind::Text, Kind::Text, Kind::Json];
    let mixed = [&mixed[..], &[Kind::Text, Kind::Ansi]].concat();
    let cases = [
        ("parse_mixed_100k", lines(&mixed)),
        ("parse_text_100k", lines(&[Kind::Text])),
        ("parse_json_100k", lines(&[Kind::Json])),
        ("parse_ansi_100k", lines(&[Kind::Ansi])),
    ];
    let mut group = c.benchmark_group("logs_line");
    group.throughput(Throughput::Elements(LINES as u64));
    for (name, input) in &cases {
        group.bench_function(*name, |b| b.iter(|| black_box(parse_all(input, &names))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
