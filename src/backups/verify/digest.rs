//! The sidecar's hash over the file as stored.

use std::fmt::Write;

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::backups::model::ChecksumAlgorithm;

/// A running hash of one of the sidecar algorithms.
pub(super) enum Hasher {
    Sha256(Sha256),
    Md5(Md5),
}

impl Hasher {
    pub(super) fn new(algorithm: ChecksumAlgorithm) -> Hasher {
        match algorithm {
            ChecksumAlgorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            ChecksumAlgorithm::Md5 => Hasher::Md5(Md5::new()),
        }
    }

    pub(super) fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(hasher) => hasher.update(bytes),
            Hasher::Md5(hasher) => hasher.update(bytes),
        }
    }

    /// The digest in lower-case hex, as sha256sum and md5sum print it.
    pub(super) fn finish_hex(self) -> String {
        match self {
            Hasher::Sha256(hasher) => to_hex(&hasher.finalize()),
            Hasher::Md5(hasher) => to_hex(&hasher.finalize()),
        }
    }
}

fn to_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        let mut sha = Hasher::new(ChecksumAlgorithm::Sha256);
        sha.update(b"ab");
        sha.update(b"c");
        assert_eq!(sha.finish_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let mut md5 = Hasher::new(ChecksumAlgorithm::Md5);
        md5.update(b"abc");
        assert_eq!(md5.finish_hex(), "900150983cd24fb0d6963f7d28e17f72");
    }
}
