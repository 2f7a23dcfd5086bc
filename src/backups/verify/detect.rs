//! Which decoder a dump file needs: its magic bytes, else its name.

use std::path::Path;

/// How a dump file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// gzip (`1f 8b`), one member or several concatenated.
    Gzip,
    /// Zstandard (`28 b5 2f fd`), one frame or several.
    Zstd,
    /// LZ4 frame format (`04 22 4d 18`), one frame or several.
    Lz4,
    /// bzip2 (`BZh`), one stream or several.
    Bzip2,
    /// Not compressed (or not in a format we decode): checked by checksum only.
    None,
}

impl Compression {
    /// `gzip`, `zstd`, `lz4`, `bzip2` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Lz4 => "lz4",
            Compression::Bzip2 => "bzip2",
            Compression::None => "none",
        }
    }
}

/// The magic bytes that start a stream (member, frame) of each format.
const MAGIC: [(&[u8], Compression); 4] = [
    (&[0x1f, 0x8b], Compression::Gzip),
    (&[0x28, 0xb5, 0x2f, 0xfd], Compression::Zstd),
    (&[0x04, 0x22, 0x4d, 0x18], Compression::Lz4),
    (b"BZh", Compression::Bzip2),
];

/// Whether `bytes` (at least the first one of them) may start another stream
/// of `compression`: its magic, or a prefix of it when fewer bytes are at
/// hand. Zstandard also allows skippable frames (`5? 2a 4d 18`).
pub(super) fn may_start_stream(compression: Compression, bytes: &[u8]) -> bool {
    let prefix_of = |magic: &[u8]| {
        let n = bytes.len().min(magic.len());
        bytes[..n] == magic[..n]
    };
    let skippable = compression == Compression::Zstd
        && bytes.first().is_some_and(|b| b & 0xf0 == 0x50)
        && prefix_of(&[bytes[0], 0x2a, 0x4d, 0x18]);
    skippable || MAGIC.iter().any(|(magic, c)| *c == compression && prefix_of(magic))
}

/// The compression of the file at `path` whose first bytes are `head`.
///
/// Magic bytes decide. The extension is consulted only when they match no
/// format, so a `.gz` file whose header is damaged (or that is empty) is still
/// decoded as gzip and reported corrupt or truncated, instead of passing as a
/// plain file.
pub fn detect(path: &Path, head: &[u8]) -> Compression {
    if let Some((_, compression)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return *compression;
    }
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match extension.as_str() {
        "gz" | "tgz" => Compression::Gzip,
        "zst" | "tzst" => Compression::Zstd,
        "lz4" => Compression::Lz4,
        "bz2" | "tbz" | "tbz2" => Compression::Bzip2,
        _ => Compression::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_win_over_the_extension() {
        let sql = Path::new("dump.sql");
        assert_eq!(detect(sql, &[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(detect(sql, &[0x28, 0xb5, 0x2f, 0xfd, 0x24]), Compression::Zstd);
        assert_eq!(detect(sql, &[0x04, 0x22, 0x4d, 0x18, 0x64]), Compression::Lz4);
        assert_eq!(detect(sql, b"BZh91AY&SY"), Compression::Bzip2);
        assert_eq!(detect(Path::new("dump.sql.gz"), b"BZh91AY&SY"), Compression::Bzip2);
    }

    #[test]
    fn the_extension_is_the_fallback() {
        assert_eq!(detect(Path::new("a.sql.gz"), b""), Compression::Gzip);
        assert_eq!(detect(Path::new("a.SQL.GZ"), b"garbage"), Compression::Gzip);
        assert_eq!(detect(Path::new("a.tar.zst"), b"\0"), Compression::Zstd);
        assert_eq!(detect(Path::new("a.lz4"), b""), Compression::Lz4);
        assert_eq!(detect(Path::new("a.tbz2"), b""), Compression::Bzip2);
        assert_eq!(detect(Path::new("a.sql"), b"-- PostgreSQL dump"), Compression::None);
        assert_eq!(detect(Path::new("noext"), b""), Compression::None);
        // A short head that is only a prefix of a magic is no match.
        assert_eq!(detect(Path::new("a.sql"), &[0x28, 0xb5]), Compression::None);
    }

    #[test]
    fn what_may_start_another_stream() {
        assert!(may_start_stream(Compression::Gzip, &[0x1f, 0x8b, 8]));
        assert!(may_start_stream(Compression::Gzip, &[0x1f]), "a prefix at a chunk's end");
        assert!(!may_start_stream(Compression::Gzip, b"junk"));
        assert!(!may_start_stream(Compression::Gzip, &[0]));
        assert!(may_start_stream(Compression::Zstd, &[0x5e, 0x2a, 0x4d, 0x18, 4, 0, 0, 0]));
        assert!(!may_start_stream(Compression::Lz4, &[0x5e, 0x2a, 0x4d, 0x18]));
        assert!(may_start_stream(Compression::Bzip2, b"BZh9"));
        assert!(!may_start_stream(Compression::Bzip2, b"\n"));
    }
}
