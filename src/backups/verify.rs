//! Verify a dump file: stream-decode it to the end (gzip, zstd, lz4, bzip2)
//! and compare it with its checksum sidecar, in one pass over the file.
//!
//! The file is read once, in 1 MiB chunks; each chunk is hashed as it is read
//! and the decoder pulls its input from the same chunks, so the checksum is of
//! the file as stored (what `sha256sum file.sql.gz` prints) and the disk is
//! not read twice. Decoded output goes to a reusable buffer and is discarded:
//! memory stays bounded whatever the file's size.
//!
//! When both checks fail, the decode error wins: it says what is wrong with
//! the content (corrupt, truncated), and reading stops there, without hashing
//! the rest. A checksum mismatch is reported only for a file that decodes
//! cleanly (a dump replaced or rewritten after its sidecar was made, or a
//! plain file whose only check is its checksum).
//!
//! Blocking: the caller runs it on `tokio::task::spawn_blocking`.

mod decode;
mod detect;
mod digest;
mod error;
mod lz4_frames;
mod sidecar;
mod source;

use std::fs::File;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::backups::model::{Checksum, ChecksumAlgorithm};

pub use detect::{Compression, detect};
pub use error::VerifyError;
pub use sidecar::read_sidecar;

use digest::Hasher;
use source::Source;

/// How far a verification is: compressed bytes read of the file's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the file read so far.
    pub done: u64,
    /// The file's size when verification started (or the bytes read, if it
    /// has grown since).
    pub total: u64,
    /// Time since verification started.
    pub elapsed: Duration,
}

/// A checksum the file was proven to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumMatch {
    /// Which hash.
    pub algorithm: ChecksumAlgorithm,
    /// The digest, lower-case hex: equal to the sidecar's.
    pub hex: String,
}

/// What a successful verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// How the file is compressed.
    pub compression: Compression,
    /// Bytes of the file read (its whole size).
    pub bytes_read: u64,
    /// Bytes the decoder produced; for an uncompressed file, `bytes_read`.
    pub decoded_bytes: u64,
    /// The sidecar's checksum, when one was given (and it matched).
    pub checksum: Option<ChecksumMatch>,
    /// Wall time the verification took.
    pub duration: Duration,
}

/// Decode `path` to the end and, when `expected` is given, hash it and compare.
///
/// `cancel` is checked between chunks (every 1 MiB read): setting it ends the
/// verification with [`VerifyError::Cancelled`] promptly. `progress` is called
/// at most about ten times a second (the first time on the first chunk, so a
/// progress bar appears at once), and once more at the end with `done` equal
/// to the bytes read.
pub fn verify_file(
    path: &Path,
    expected: Option<&Checksum>,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<VerifyReport, VerifyError> {
    let started = Instant::now();
    let file = File::open(path).map_err(|e| VerifyError::io(path, &e))?;
    let total = file.metadata().map_err(|e| VerifyError::io(path, &e))?.len();
    let hasher = expected.map(|checksum| Hasher::new(checksum.algorithm));
    let mut source = Source::new(file, path, total, hasher, cancel, progress, started);

    let compression = detect(path, source.peek()?);
    let decoded_bytes = decode::decode_all(compression, &mut source)?;
    let (bytes_read, hasher) = source.finish();

    let checksum = match (expected, hasher) {
        (Some(expected), Some(hasher)) => Some(compare(expected, hasher)?),
        _ => None,
    };
    Ok(VerifyReport { compression, bytes_read, decoded_bytes, checksum, duration: started.elapsed() })
}

/// The file's digest against the sidecar's (case-insensitively: the model
/// keeps lower case, but a hand-written sidecar may not).
fn compare(expected: &Checksum, hasher: Hasher) -> Result<ChecksumMatch, VerifyError> {
    let actual = hasher.finish_hex();
    if actual.eq_ignore_ascii_case(expected.hex.trim()) {
        Ok(ChecksumMatch { algorithm: expected.algorithm, hex: actual })
    } else {
        Err(VerifyError::ChecksumMismatch {
            algorithm: expected.algorithm,
            expected: expected.hex.trim().to_ascii_lowercase(),
            actual,
        })
    }
}
