//! Verifying dump files made by the real tools (gzip, zstd, lz4, bzip2) with
//! sidecars made by sha256sum and md5sum: clean files, concatenated streams,
//! a flipped byte, truncation, trailing garbage, a mismatching sidecar, a
//! plain file checked by checksum only, cancel and progress.

#[path = "support/sql_dump.rs"]
mod sql_dump;

use sql_dump::sql_dump;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use opsdeck::backups::model::{Checksum, ChecksumAlgorithm};
use opsdeck::backups::verify::{Compression, Progress, VerifyError, VerifyReport, read_sidecar, verify_file};
use tempfile::TempDir;

/// Each format: the tool that makes it, the file extension, what detect says.
const FORMATS: [(&str, &str, Compression); 4] = [
    ("gzip", "gz", Compression::Gzip),
    ("zstd", "zst", Compression::Zstd),
    ("lz4", "lz4", Compression::Lz4),
    ("bzip2", "bz2", Compression::Bzip2),
];

/// A scratch directory under /tmp, removed on drop.
fn scratch() -> TempDir {
    tempfile::Builder::new().prefix("vfy").tempdir_in("/tmp").expect("temp dir")
}

/// `len` bytes that do not compress: the file stays as big as its data.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect()
}

/// Run `tool -c input > output` (every one of the four takes -c).
fn compress(tool: &str, input: &Path, output: &Path) {
    let quiet: &[&str] = if tool == "zstd" || tool == "lz4" { &["-q"] } else { &[] };
    let status = Command::new(tool)
        .args(quiet)
        .arg("-c")
        .arg(input)
        .stdout(File::create(output).expect("create output"))
        .status()
        .expect("run the compressor");
    assert!(status.success(), "{tool} failed on {}", input.display());
}

/// Write `data` as `name` and compress it with `tool` into `name.ext`.
fn dump(dir: &Path, name: &str, data: &[u8], tool: &str, ext: &str) -> PathBuf {
    let plain = dir.join(name);
    fs::write(&plain, data).expect("write plain");
    let packed = dir.join(format!("{name}.{ext}"));
    compress(tool, &plain, &packed);
    packed
}

/// `sha256sum`/`md5sum` of `file`, run in its directory as a backup script
/// would, saved beside it as `<file>.sha256`/`.md5`; and the digest.
fn sidecar(file: &Path, algorithm: ChecksumAlgorithm) -> (PathBuf, String) {
    let (tool, ext) = match algorithm {
        ChecksumAlgorithm::Sha256 => ("sha256sum", "sha256"),
        ChecksumAlgorithm::Md5 => ("md5sum", "md5"),
    };
    let name = file.file_name().expect("file name");
    let output = Command::new(tool)
        .arg(name)
        .current_dir(file.parent().expect("parent"))
        .output()
        .expect("run the checksum tool");
    assert!(output.status.success(), "{tool} failed");
    let path = PathBuf::from(format!("{}.{ext}", file.display()));
    fs::write(&path, &output.stdout).expect("write sidecar");
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let hex = text.split_whitespace().next().expect("a digest").to_owned();
    (path, hex)
}

fn checksum_of(file: &Path, algorithm: ChecksumAlgorithm) -> Checksum {
    let (path, _) = sidecar(file, algorithm);
    let name = file.file_name().and_then(|n| n.to_str()).expect("file name");
    read_sidecar(&path, name, algorithm).expect("read sidecar")
}

fn verify(path: &Path, expected: Option<&Checksum>) -> Result<VerifyReport, VerifyError> {
    verify_file(path, expected, &AtomicBool::new(false), &mut |_| {})
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).expect("metadata").len()
}

#[test]
fn every_format_decodes_and_matches_its_sidecar() {
    let dir = scratch();
    let data = sql_dump(3 << 20);
    for (tool, ext, compression) in FORMATS {
        let file = dump(dir.path(), "full.sql", &data, tool, ext);
        for algorithm in [ChecksumAlgorithm::Sha256, ChecksumAlgorithm::Md5] {
            let (_, hex) = sidecar(&file, algorithm);
            let expected = checksum_of(&file, algorithm);
            let report = verify(&file, Some(&expected)).unwrap_or_else(|e| panic!("{tool}: {e}"));
            assert_eq!(report.compression, compression);
            assert_eq!(report.bytes_read, file_len(&file), "{tool}");
            assert_eq!(report.decoded_bytes, data.len() as u64, "{tool}");
            let matched = report.checksum.expect("a checksum match");
            assert_eq!((matched.algorithm, matched.hex), (algorithm, hex), "{tool}");
        }
        // Without a sidecar the content alone is checked.
        let report = verify(&file, None).expect("decodes");
        assert_eq!((report.checksum, report.decoded_bytes), (None, data.len() as u64));
    }
}

#[test]
fn a_flipped_byte_is_corrupt_and_the_decode_error_wins_over_the_checksum() {
    let dir = scratch();
    let data = sql_dump(2 << 20);
    for (tool, ext, compression) in FORMATS {
        let file = dump(dir.path(), "full.sql", &data, tool, ext);
        let expected = checksum_of(&file, ChecksumAlgorithm::Sha256);
        let mut bytes = fs::read(&file).expect("read");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x55;
        fs::write(&file, &bytes).expect("write");
        for sidecar in [None, Some(&expected)] {
            match verify(&file, sidecar) {
                Err(error @ VerifyError::Corrupt { compression: c, .. }) if c == compression => {
                    assert!(error.to_string().starts_with(&format!("corrupt {tool} data: ")), "{error}");
                }
                other => panic!("{tool} (sidecar: {}): {other:?}", sidecar.is_some()),
            }
        }
    }
}

#[test]
fn a_truncated_file_is_truncated() {
    let dir = scratch();
    let data = sql_dump(2 << 20);
    for (tool, ext, compression) in FORMATS {
        let file = dump(dir.path(), "full.sql", &data, tool, ext);
        let whole = fs::read(&file).expect("read");
        let cut = dir.path().join(format!("cut.sql.{ext}"));
        // Mid-stream, just before the end (gzip's trailer, lz4's end mark and
        // content checksum, the last bytes of zstd's and bzip2's), empty.
        for keep in [whole.len() * 2 / 3, whole.len() - 8, whole.len() - 4, whole.len() - 1, 0] {
            fs::write(&cut, &whole[..keep]).expect("write");
            match verify(&cut, None) {
                Err(VerifyError::Truncated { compression: c }) if c == compression => {}
                other => panic!("{tool} cut to {keep} of {}: {other:?}", whole.len()),
            }
        }
    }
    let error = VerifyError::Truncated { compression: Compression::Gzip }.to_string();
    assert!(error.contains("truncated gzip"), "{error}");
}

#[test]
fn lz4_cut_at_a_block_boundary_is_truncated() {
    // lz4 -B4: 64 KiB blocks; without a content checksum the end mark is the
    // last 4 bytes, so cutting them leaves whole blocks and no end.
    let dir = scratch();
    let plain = dir.path().join("wal.bin");
    fs::write(&plain, sql_dump(1 << 20)).expect("write");
    let file = dir.path().join("wal.bin.lz4");
    let status = Command::new("lz4")
        .args(["-q", "-B4", "--no-frame-crc", "-c"])
        .arg(&plain)
        .stdout(File::create(&file).expect("create"))
        .status()
        .expect("run lz4");
    assert!(status.success());
    verify(&file, None).expect("the whole file decodes");
    let whole = fs::read(&file).expect("read");
    assert_eq!(&whole[whole.len() - 4..], &[0, 0, 0, 0], "ends with the end mark");
    fs::write(&file, &whole[..whole.len() - 4]).expect("write");
    assert_eq!(verify(&file, None), Err(VerifyError::Truncated { compression: Compression::Lz4 }));
}

#[test]
fn concatenated_streams_decode_to_the_end() {
    let dir = scratch();
    let (first, second) = (sql_dump(1 << 20), sql_dump(300_000));
    for (tool, ext, compression) in FORMATS {
        let a = dump(dir.path(), "a.sql", &first, tool, ext);
        let b = dump(dir.path(), "b.sql", &second, tool, ext);
        // `cat a.gz b.gz > both.gz`, as pigz, pbzip2 and zstd -T do with members.
        let both = dir.path().join(format!("both.sql.{ext}"));
        let mut bytes = fs::read(&a).expect("read a");
        bytes.extend(fs::read(&b).expect("read b"));
        fs::write(&both, &bytes).expect("write");
        let expected = checksum_of(&both, ChecksumAlgorithm::Sha256);
        let report = verify(&both, Some(&expected)).unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert_eq!(report.compression, compression);
        assert_eq!(report.decoded_bytes, (first.len() + second.len()) as u64, "{tool}");
    }
}

#[test]
fn trailing_garbage_and_a_bad_header_are_corrupt() {
    let dir = scratch();
    let data = sql_dump(500_000);
    for (tool, ext, compression) in FORMATS {
        let file = dump(dir.path(), "full.sql", &data, tool, ext);
        let whole = fs::read(&file).expect("read");
        // Long garbage, and a single byte (too short to be read as a header).
        for garbage in [&b"garbage after the end\n"[..], b"\n", b"\0"] {
            fs::write(&file, [whole.as_slice(), garbage].concat()).expect("write");
            match verify(&file, None) {
                Err(VerifyError::Corrupt { compression: c, message }) if c == compression => {
                    let at = format!("at byte {}", whole.len());
                    assert!(message.contains("garbage") && message.contains(&at), "{tool}: {message}");
                }
                other => panic!("{tool} with trailing {garbage:?}: {other:?}"),
            }
        }
    }
    // Not gzip inside, but named .gz: decoded as gzip and rejected, not
    // passed as a plain file.
    let fake = dir.path().join("fake.sql.gz");
    fs::write(&fake, b"-- PostgreSQL database dump\n").expect("write");
    match verify(&fake, None) {
        Err(VerifyError::Corrupt { compression: Compression::Gzip, message }) => {
            assert!(message.contains("header"), "{message}")
        }
        other => panic!("fake gzip: {other:?}"),
    }
}

#[test]
fn a_plain_file_verifies_by_checksum_only() {
    let dir = scratch();
    let data = sql_dump(1 << 20);
    let file = dir.path().join("full.sql");
    fs::write(&file, &data).expect("write");
    for algorithm in [ChecksumAlgorithm::Sha256, ChecksumAlgorithm::Md5] {
        let expected = checksum_of(&file, algorithm);
        let report = verify(&file, Some(&expected)).expect("verifies");
        assert_eq!(report.compression, Compression::None);
        assert_eq!((report.bytes_read, report.decoded_bytes), (data.len() as u64, data.len() as u64));
        assert_eq!(report.checksum.map(|c| c.hex), Some(expected.hex));
    }
    // One changed byte: only the checksum can tell.
    let expected = checksum_of(&file, ChecksumAlgorithm::Sha256);
    let mut bytes = data.clone();
    bytes[1000] ^= 1;
    fs::write(&file, &bytes).expect("write");
    assert!(matches!(verify(&file, Some(&expected)), Err(VerifyError::ChecksumMismatch { .. })));
    assert!(verify(&file, None).is_ok());
}

#[test]
fn a_mismatching_sidecar_names_both_digests() {
    let dir = scratch();
    let file = dump(dir.path(), "full.sql", &sql_dump(400_000), "gzip", "gz");
    let other = dump(dir.path(), "other.sql", &sql_dump(100_000), "gzip", "gz");
    let (_, actual) = sidecar(&file, ChecksumAlgorithm::Sha256);
    // The other file's sidecar, copied over this one's: a single entry is
    // taken whatever name it carries.
    let (other_sidecar, other_hex) = sidecar(&other, ChecksumAlgorithm::Sha256);
    let wrong = dir.path().join("full.sql.gz.sha256");
    fs::copy(&other_sidecar, &wrong).expect("copy");
    let expected = read_sidecar(&wrong, "full.sql.gz", ChecksumAlgorithm::Sha256).expect("read");
    let error = verify(&file, Some(&expected)).expect_err("mismatch");
    assert_eq!(
        error,
        VerifyError::ChecksumMismatch {
            algorithm: ChecksumAlgorithm::Sha256,
            expected: other_hex.clone(),
            actual: actual.clone()
        }
    );
    let line = error.to_string();
    assert!(line.contains(&other_hex) && line.contains(&actual) && line.contains("sha256"), "{line}");
}

#[test]
fn cancel_stops_promptly() {
    let dir = scratch();
    let file = dump(dir.path(), "big.bin", &noise(8 << 20), "gzip", "gz");
    let total = file_len(&file);
    assert!(total > 4 << 20, "several chunks: {total}");

    let cancelled = AtomicBool::new(true);
    let mut calls = 0;
    assert_eq!(verify_file(&file, None, &cancelled, &mut |_| calls += 1), Err(VerifyError::Cancelled));
    assert_eq!(calls, 0, "nothing read");

    // Cancelled from the first progress report, as the UI's cancel key would.
    let cancel = AtomicBool::new(false);
    let mut seen: Vec<Progress> = Vec::new();
    let result = verify_file(&file, None, &cancel, &mut |p| {
        seen.push(p);
        cancel.store(true, Ordering::Relaxed);
    });
    assert_eq!(result, Err(VerifyError::Cancelled));
    assert_eq!(seen.len(), 1, "no final report after a cancel: {seen:?}");
    assert!(seen[0].done <= 1 << 20 && seen[0].total == total, "{seen:?}");
    assert_eq!(VerifyError::Cancelled.to_string(), "verification cancelled");
}

#[test]
fn progress_reaches_the_total_and_is_rate_limited() {
    let dir = scratch();
    let file = dump(dir.path(), "big.bin", &noise(6 << 20), "gzip", "gz");
    let total = file_len(&file);
    let mut seen: Vec<Progress> = Vec::new();
    let expected = checksum_of(&file, ChecksumAlgorithm::Sha256);
    let report = verify_file(&file, Some(&expected), &AtomicBool::new(false), &mut |p| seen.push(p))
        .expect("verifies");
    let last = seen.last().expect("a final report");
    assert_eq!((last.done, last.total), (total, total));
    assert_eq!(report.bytes_read, total);
    assert!(seen.windows(2).all(|w| w[0].done <= w[1].done && w[0].elapsed <= w[1].elapsed), "{seen:?}");
    // First chunk, then at most ten a second, then the end.
    let allowed = 2 + (report.duration.as_secs_f64() * 10.0).ceil() as usize;
    assert!(seen.len() <= allowed, "{} reports in {:?}", seen.len(), report.duration);
}

#[test]
fn an_unreadable_path_is_an_io_error_naming_it() {
    let dir = scratch();
    let missing = dir.path().join("gone.sql.gz");
    match verify(&missing, None) {
        Err(VerifyError::Io(message)) => assert!(message.contains("gone.sql.gz"), "{message}"),
        other => panic!("{other:?}"),
    }
    // A directory opens but cannot be read.
    match verify(dir.path(), None) {
        Err(error @ VerifyError::Io(_)) => assert!(error.to_string().starts_with("cannot read"), "{error}"),
        other => panic!("{other:?}"),
    }
}
