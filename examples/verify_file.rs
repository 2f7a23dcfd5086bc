//! Verify one dump file the way the Backups tab does, and print the rate:
//!
//!     cargo run --release --example verify_file -- PATH [SIDECAR]
//!
//! With a SIDECAR (`.sha256` or `.md5`), the file's checksum is compared too.
//! Prints `bytes`, `seconds` and `MB/s` (of the file as stored, and decoded)
//! on one line; exits 1 if the file does not verify. Used by
//! scripts/bench-verify.sh to compare with `gzip -t`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use opsdeck::backups::model::ChecksumAlgorithm;
use opsdeck::backups::verify::{read_sidecar, verify_file};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first().map(Path::new) else {
        eprintln!("usage: verify_file PATH [SIDECAR]");
        return ExitCode::from(2);
    };
    let expected = match args.get(1).map(Path::new) {
        None => None,
        Some(sidecar) => {
            let algorithm = if sidecar.extension().is_some_and(|e| e == "md5") {
                ChecksumAlgorithm::Md5
            } else {
                ChecksumAlgorithm::Sha256
            };
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            match read_sidecar(sidecar, name, algorithm) {
                Ok(checksum) => Some(checksum),
                Err(error) => {
                    eprintln!("{error}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    match verify_file(path, expected.as_ref(), &AtomicBool::new(false), &mut |_| {}) {
        Ok(report) => {
            let seconds = report.duration.as_secs_f64();
            let mb_per_s = |bytes: u64| bytes as f64 / 1e6 / seconds.max(1e-9);
            let checksum =
                report.checksum.map(|c| format!(" {} ok", c.algorithm.as_str())).unwrap_or_default();
            println!(
                "ok {}{checksum}: bytes {} seconds {seconds:.3} MB/s {:.1} (decoded {} bytes, {:.1} MB/s)",
                report.compression.as_str(),
                report.bytes_read,
                mb_per_s(report.bytes_read),
                report.decoded_bytes,
                mb_per_s(report.decoded_bytes),
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            println!("failed: {error}");
            ExitCode::from(1)
        }
    }
}
