//! Verify throughput per format on a 32 MiB SQL dump made by the real tools
//! (gzip -6, zstd -3, lz4 -1, bzip2 -9: each CLI's default level but gzip's
//! explicit -6), with and without a sha256 sidecar, beside `gzip -t` on the
//! same file in the same run. Throughput is of the dump's decoded bytes, so
//! the formats compare with one another.
//!
//! The 1 GB comparison with `gzip -t` is scripts/bench-verify.sh.

#[path = "../tests/support/sql_dump.rs"]
mod sql_dump;

use sql_dump::sql_dump;
use std::fs::{self, File};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opsdeck::backups::model::{Checksum, ChecksumAlgorithm};
use opsdeck::backups::verify::verify_file;

const DUMP_BYTES: usize = 32 << 20;

fn compress(tool: &str, args: &[&str], input: &Path, output: &Path) {
    let status = Command::new(tool)
        .args(args)
        .arg("-c")
        .arg(input)
        .stdout(File::create(output).expect("create"))
        .status()
        .expect("run the compressor");
    assert!(status.success(), "{tool} failed");
}

fn sha256(path: &Path) -> Checksum {
    let output = Command::new("sha256sum").arg(path).output().expect("sha256sum");
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let hex = text.split_whitespace().next().expect("digest").to_owned();
    Checksum { algorithm: ChecksumAlgorithm::Sha256, hex, sidecar: PathBuf::from("bench.sha256") }
}

fn verify(path: &Path, expected: Option<&Checksum>) -> u64 {
    let report = verify_file(path, expected, &AtomicBool::new(false), &mut |_| {}).expect("verifies");
    report.decoded_bytes
}

fn bench_verify(c: &mut Criterion) {
    let dir = tempfile::Builder::new().prefix("vfyb").tempdir_in("/tmp").expect("temp dir");
    let data = sql_dump(DUMP_BYTES);
    let plain = dir.path().join("dump.sql");
    fs::write(&plain, &data).expect("write");
    let formats = [
        ("gzip", &["-6"][..], "gz"),
        ("zstd", &["-q"], "zst"),
        ("lz4", &["-q"], "lz4"),
        ("bzip2", &[], "bz2"),
    ];
    let mut files = Vec::new();
    for (tool, args, ext) in formats {
        let file = dir.path().join(format!("dump.sql.{ext}"));
        compress(tool, args, &plain, &file);
        files.push((tool, file));
    }

    let mut group = c.benchmark_group("verify");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(data.len() as u64));
    for (tool, file) in &files {
        group.bench_function(*tool, |b| b.iter(|| black_box(verify(file, None))));
    }
    let gzip = &files[0].1;
    let gzip_sum = sha256(gzip);
    group.bench_function("gzip+sha256", |b| b.iter(|| black_box(verify(gzip, Some(&gzip_sum)))));
    let plain_sum = sha256(&plain);
    group.bench_function("plain+sha256", |b| b.iter(|| black_box(verify(&plain, Some(&plain_sum)))));
    group.bench_function("gzip -t (reference)", |b| {
        b.iter(|| {
            let status = Command::new("gzip").arg("-t").arg(gzip).status().expect("gzip -t");
            assert!(status.success());
        })
    });
    group.finish();
}

criterion_group!(benches, bench_verify);
criterion_main!(benches);
