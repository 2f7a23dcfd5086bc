//! Why a verification failed, one clear line each.

use std::fmt;
use std::io;
use std::path::Path;

use super::Compression;
use crate::backups::model::ChecksumAlgorithm;

/// Why a dump file did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The file could not be opened or read (not the content's fault).
    Io(String),
    /// The decoder rejected the content: bad data, a bad CRC or content
    /// checksum, an invalid header, or garbage after the last stream.
    Corrupt { compression: Compression, message: String },
    /// The file ends before the compressed stream does.
    Truncated { compression: Compression },
    /// The file decodes but is not the file its sidecar describes.
    ChecksumMismatch { algorithm: ChecksumAlgorithm, expected: String, actual: String },
    /// The caller cancelled.
    Cancelled,
}

impl VerifyError {
    /// An I/O error on `path`, naming it.
    pub(super) fn io(path: &Path, error: &io::Error) -> VerifyError {
        VerifyError::Io(format!("{}: {error}", path.display()))
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Io(message) => write!(f, "cannot read {message}"),
            VerifyError::Corrupt { compression, message } => {
                write!(f, "corrupt {} data: {message}", compression.as_str())
            }
            VerifyError::Truncated { compression } => {
                write!(f, "truncated {} file: it ends before the end of the stream", compression.as_str())
            }
            VerifyError::ChecksumMismatch { algorithm, expected, actual } => {
                let algorithm = algorithm.as_str();
                write!(f, "{algorithm} mismatch: the sidecar says {expected}, the file is {actual}")
            }
            VerifyError::Cancelled => write!(f, "verification cancelled"),
        }
    }
}

impl std::error::Error for VerifyError {}
