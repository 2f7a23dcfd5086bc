//! Where an LZ4 frame stream may end.
//!
//! lz4_flex's `FrameDecoder` treats the end of its input at a block boundary
//! (or right after a frame's magic number) as the end of the stream, so a file
//! cut there would pass. This walks the frame skeleton (headers, block sizes,
//! end marks, checksums) of exactly the bytes the decoder consumed, without
//! decoding anything, and says whether the input ended between whole frames.

use std::io::{self, Read};

/// LZ4 frame magic number (little-endian on disk: `04 22 4d 18`).
const FRAME_MAGIC: u32 = 0x184D_2204;
/// Skippable frames: `0x184D2A50..=0x184D2A5F`, then a 4-byte size.
const SKIPPABLE_MASK: u32 = 0xFFFF_FFF0;
const SKIPPABLE_MAGIC: u32 = 0x184D_2A50;

/// FLG bits (frame descriptor).
const FLG_BLOCK_CHECKSUM: u8 = 0x10;
const FLG_CONTENT_SIZE: u8 = 0x08;
const FLG_CONTENT_CHECKSUM: u8 = 0x04;
const FLG_DICT_ID: u8 = 0x01;

/// What the next bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// A frame's magic number: the only place the stream may end.
    Magic,
    /// FLG and BD.
    Descriptor,
    /// Optional content size, optional dictionary id, header checksum.
    HeaderRest(usize),
    /// A block's size, or the end mark (0).
    BlockSize,
    /// The content checksum after the end mark.
    ContentChecksum,
    /// A skippable frame's size.
    SkippableSize,
}

/// The frame skeleton seen so far.
#[derive(Debug)]
pub(super) struct Lz4Frames {
    field: Field,
    scratch: [u8; 4],
    have: usize,
    skip: u64,
    flags: u8,
    frames: u64,
    /// Not an LZ4 frame stream: the decoder rejects it, nothing to add.
    lost: bool,
}

impl Lz4Frames {
    pub(super) fn new() -> Lz4Frames {
        Lz4Frames { field: Field::Magic, scratch: [0; 4], have: 0, skip: 0, flags: 0, frames: 0, lost: false }
    }

    /// Whether the bytes seen end between whole frames, after at least one.
    pub(super) fn complete(&self) -> bool {
        self.lost || (self.frames > 0 && self.field == Field::Magic && self.have == 0 && self.skip == 0)
    }

    /// Walk over the next bytes of the stream.
    pub(super) fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.lost {
            if self.skip > 0 {
                let n = usize::try_from(self.skip).unwrap_or(usize::MAX).min(bytes.len());
                self.skip -= n as u64;
                bytes = &bytes[n..];
                continue;
            }
            let need = self.need();
            let n = (need - self.have).min(bytes.len());
            self.scratch[self.have..self.have + n].copy_from_slice(&bytes[..n]);
            self.have += n;
            bytes = &bytes[n..];
            if self.have == need {
                self.have = 0;
                self.advance();
            }
        }
    }

    /// Bytes gathered in `scratch` before the field can be read; longer
    /// fields are gathered 4 bytes at a time (only their length matters).
    fn need(&self) -> usize {
        match self.field {
            Field::Descriptor => 2,
            Field::HeaderRest(len) => len.min(4),
            _ => 4,
        }
    }

    fn advance(&mut self) {
        let word = u32::from_le_bytes(self.scratch);
        self.field = match self.field {
            Field::Magic if word == FRAME_MAGIC => Field::Descriptor,
            Field::Magic if word & SKIPPABLE_MASK == SKIPPABLE_MAGIC => Field::SkippableSize,
            Field::Magic => {
                self.lost = true;
                Field::Magic
            }
            Field::SkippableSize => {
                self.skip = u64::from(word);
                self.frames += 1;
                Field::Magic
            }
            Field::Descriptor => {
                self.flags = self.scratch[0];
                let content_size = if self.flags & FLG_CONTENT_SIZE != 0 { 8 } else { 0 };
                let dict_id = if self.flags & FLG_DICT_ID != 0 { 4 } else { 0 };
                Field::HeaderRest(content_size + dict_id + 1)
            }
            Field::HeaderRest(len) if len > 4 => Field::HeaderRest(len - 4),
            Field::HeaderRest(_) => Field::BlockSize,
            Field::BlockSize if word == 0 && self.flags & FLG_CONTENT_CHECKSUM != 0 => Field::ContentChecksum,
            Field::BlockSize if word == 0 => self.end_frame(),
            Field::BlockSize => {
                let checksum = if self.flags & FLG_BLOCK_CHECKSUM != 0 { 4 } else { 0 };
                self.skip = u64::from(word & 0x7FFF_FFFF) + checksum;
                Field::BlockSize
            }
            Field::ContentChecksum => self.end_frame(),
        };
    }

    fn end_frame(&mut self) -> Field {
        self.frames += 1;
        Field::Magic
    }
}

/// A reader that shows the frame walker every byte it passes on.
pub(super) struct Tracked<R> {
    inner: R,
    pub(super) frames: Lz4Frames,
}

impl<R: Read> Tracked<R> {
    pub(super) fn new(inner: R) -> Tracked<R> {
        Tracked { inner, frames: Lz4Frames::new() }
    }
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.frames.feed(&out[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use lz4_flex::frame::{BlockSize, FrameEncoder, FrameInfo};

    use super::*;

    /// A frame of `len` pseudo-random-ish bytes in 64 KiB blocks.
    fn frame(len: usize, content_checksum: bool, block_checksums: bool) -> Vec<u8> {
        let mut info = FrameInfo::new();
        info.block_size = BlockSize::Max64KB;
        info.content_checksum = content_checksum;
        info.block_checksums = block_checksums;
        info.content_size = Some(len as u64);
        let mut encoder = FrameEncoder::with_frame_info(info, Vec::new());
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8 ^ (i / 1000) as u8).collect();
        encoder.write_all(&data).expect("encode");
        encoder.finish().expect("finish")
    }

    fn walk(bytes: &[u8], piece: usize) -> Lz4Frames {
        let mut frames = Lz4Frames::new();
        for chunk in bytes.chunks(piece) {
            frames.feed(chunk);
        }
        frames
    }

    #[test]
    fn whole_frames_are_complete_in_any_chunking() {
        for (content, blocks) in [(true, false), (false, true), (true, true), (false, false)] {
            let bytes = frame(300_000, content, blocks);
            for piece in [1, 3, 4096, bytes.len()] {
                assert!(walk(&bytes, piece).complete(), "content={content} blocks={blocks} piece={piece}");
            }
        }
    }

    #[test]
    fn concatenated_and_skippable_frames_are_complete() {
        let mut bytes = frame(100_000, true, false);
        bytes.extend_from_slice(&0x184D_2A51u32.to_le_bytes());
        bytes.extend_from_slice(&3u32.to_le_bytes());
        bytes.extend_from_slice(b"abc");
        bytes.extend(frame(10, false, false));
        let frames = walk(&bytes, 7);
        assert!(frames.complete());
        assert_eq!(frames.frames, 3);
    }

    #[test]
    fn every_cut_is_incomplete() {
        let bytes = frame(200_000, true, true);
        for cut in [0, 3, 4, 6, 20, bytes.len() / 2, bytes.len() - 8, bytes.len() - 4, bytes.len() - 1] {
            assert!(!walk(&bytes[..cut], 5).complete(), "cut at {cut} of {}", bytes.len());
        }
    }
}
