//! Run the right decoder over the source to the end, discarding its output.
//!
//! Every format allows several streams back to back (gzip members from pigz
//! or `cat a.gz b.gz`, zstd and lz4 frames, bzip2 streams from pbzip2). They
//! are decoded one at a time, and after each the next bytes must start another
//! stream: anything else is garbage after the end, reported as corruption even
//! when it is too short to be read as a header (which the libraries' own
//! multi-stream readers would call a truncated stream).

use std::io::{self, BufRead, Read};

use super::detect::may_start_stream;
use super::lz4_frames::Tracked;
use super::source::Source;
use super::{Compression, VerifyError};

/// Decoded bytes are written here and dropped: big enough that each decoder
/// call does a lot of work, small enough to stay in the L2 cache.
const OUT: usize = 256 << 10;

/// Decode the whole file; the number of decoded bytes (for an uncompressed
/// file, the bytes read).
pub(super) fn decode_all(compression: Compression, source: &mut Source<'_>) -> Result<u64, VerifyError> {
    let mut out = vec![0; OUT];
    let decoded = match compression {
        Compression::None => skim(source),
        Compression::Gzip => streams(compression, source, &mut out, |source, out| {
            discard(flate2::bufread::GzDecoder::new(source), out)
        }),
        Compression::Zstd => streams(compression, source, &mut out, |source, out| {
            discard(zstd::stream::read::Decoder::with_buffer(source)?.single_frame(), out)
        }),
        Compression::Bzip2 => streams(compression, source, &mut out, |source, out| {
            discard(bzip2::bufread::BzDecoder::new(source), out)
        }),
        Compression::Lz4 => streams(compression, source, &mut out, lz4_frame),
    };
    decoded.map_err(|error| classify(compression, source, error))
}

/// Decode stream after stream with `decode_one` until the input ends.
fn streams<'a>(
    compression: Compression,
    source: &mut Source<'a>,
    out: &mut [u8],
    mut decode_one: impl FnMut(&mut Source<'a>, &mut [u8]) -> io::Result<u64>,
) -> io::Result<u64> {
    let mut decoded = 0;
    loop {
        decoded += decode_one(source, out)?;
        let at = source.position();
        let next = source.fill_buf()?;
        if next.is_empty() {
            return Ok(decoded);
        }
        if !may_start_stream(compression, next) {
            return Err(io::Error::new(io::ErrorKind::InvalidData, Trailing(at)));
        }
    }
}

/// Read an uncompressed file to the end (the source hashes it on the way).
fn skim(source: &mut Source<'_>) -> io::Result<u64> {
    let mut total = 0;
    loop {
        let n = source.fill_buf()?.len();
        if n == 0 {
            return Ok(total);
        }
        source.consume(n);
        total += n as u64;
    }
}

/// One LZ4 frame. lz4_flex takes the end of input at a block boundary for
/// the end of the frame; the frame walker tells a cut file apart.
fn lz4_frame(source: &mut Source<'_>, out: &mut [u8]) -> io::Result<u64> {
    let mut tracked = Tracked::new(&mut *source);
    let decoded = discard(lz4_flex::frame::FrameDecoder::new(&mut tracked), out)?;
    if tracked.frames.complete() { Ok(decoded) } else { Err(io::ErrorKind::UnexpectedEof.into()) }
}

/// Read `decoder` to its end, counting what it produces.
fn discard(mut decoder: impl Read, out: &mut [u8]) -> io::Result<u64> {
    let mut total = 0;
    loop {
        match decoder.read(out) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Bytes after the last stream that cannot start another, at this offset.
#[derive(Debug)]
struct Trailing(u64);

impl std::fmt::Display for Trailing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "garbage after the end of the last stream, at byte {}", self.0)
    }
}

impl std::error::Error for Trailing {}

/// A decoder's error as the verdict: the source's own failure (cancel, I/O)
/// first, then an early end of input as truncation, anything else corruption.
fn classify(compression: Compression, source: &mut Source<'_>, error: io::Error) -> VerifyError {
    if let Some(failure) = source.take_failure() {
        return failure;
    }
    if error.kind() == io::ErrorKind::UnexpectedEof {
        return VerifyError::Truncated { compression };
    }
    if let Some(trailing) = error.get_ref().and_then(|inner| inner.downcast_ref::<Trailing>()) {
        return VerifyError::Corrupt { compression, message: trailing.to_string() };
    }
    let message = describe(&error);
    VerifyError::Corrupt { compression, message: format!("{message} (near byte {})", source.position()) }
}

/// The decoder's words; lz4_flex's errors print as their Debug names, so the
/// common ones get a sentence.
fn describe(error: &io::Error) -> String {
    use lz4_flex::frame::Error as Lz4;
    match error.get_ref().and_then(|inner| inner.downcast_ref::<Lz4>()) {
        Some(Lz4::ContentChecksumError) => "content checksum does not match".to_owned(),
        Some(Lz4::BlockChecksumError) => "block checksum does not match".to_owned(),
        Some(Lz4::HeaderChecksumError) => "frame header checksum does not match".to_owned(),
        Some(Lz4::WrongMagicNumber) => "not an LZ4 frame (wrong magic number)".to_owned(),
        Some(Lz4::DecompressionError(e)) => format!("invalid block data ({e})"),
        Some(other) => format!("{other}"),
        None => error.to_string(),
    }
}
