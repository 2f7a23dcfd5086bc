//! Splitting a byte stream into lines with a cap, so one endless line can't
//! take memory with it.

use std::mem;

use super::RawLine;

/// Turns chunks of a file into complete lines. A line longer than `max_line`
/// is cut at `max_line` bytes and handed out at once with `truncated`, and the
/// rest of it is skipped up to its newline: memory stays at most `max_line`
/// per file, however long the line.
#[derive(Debug)]
pub(crate) struct LineAssembler {
    max_line: usize,
    /// The start of a line whose newline hasn't been read yet.
    partial: Vec<u8>,
    /// Inside an overlong line whose head was already handed out.
    skipping: bool,
}

impl LineAssembler {
    pub(crate) fn new(max_line: usize) -> Self {
        Self { max_line: max_line.max(1), partial: Vec::new(), skipping: false }
    }

    /// Appends `chunk` to the stream and pushes every line it completes.
    pub(crate) fn push(&mut self, mut chunk: &[u8], out: &mut Vec<RawLine>) {
        while !chunk.is_empty() {
            let newline = chunk.iter().position(|&b| b == b'\n');
            if self.skipping {
                let Some(at) = newline else { return };
                self.skipping = false;
                chunk = &chunk[at + 1..];
                continue;
            }
            let (body, rest) = match newline {
                Some(at) => (&chunk[..at], &chunk[at + 1..]),
                None => (chunk, &[][..]),
            };
            let room = self.max_line - self.partial.len();
            if body.len() > room {
                self.partial.extend_from_slice(&body[..room]);
                out.push(RawLine { bytes: mem::take(&mut self.partial), truncated: true });
                self.skipping = newline.is_none();
            } else if newline.is_none() {
                self.partial.extend_from_slice(body);
            } else if self.partial.is_empty() {
                out.push(RawLine { bytes: body.to_vec(), truncated: false });
            } else {
                self.partial.extend_from_slice(body);
                out.push(RawLine { bytes: mem::take(&mut self.partial), truncated: false });
            }
            chunk = rest;
        }
    }

    /// The held-back end of a stream that will get no more bytes (a file
    /// rotated away or truncated), as a line of its own.
    pub(crate) fn finish(&mut self) -> Option<RawLine> {
        self.skipping = false;
        (!self.partial.is_empty()).then(|| RawLine { bytes: mem::take(&mut self.partial), truncated: false })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(max_line: usize, chunks: &[&[u8]]) -> (Vec<(String, bool)>, LineAssembler) {
        let mut assembler = LineAssembler::new(max_line);
        let mut out = Vec::new();
        for chunk in chunks {
            assembler.push(chunk, &mut out);
        }
        let lines = out.into_iter().map(|l| (String::from_utf8_lossy(&l.bytes).into_owned(), l.truncated));
        (lines.collect(), assembler)
    }

    fn line(text: &str, truncated: bool) -> (String, bool) {
        (text.to_owned(), truncated)
    }

    #[test]
    fn lines_split_across_chunks_are_joined() {
        let (lines, mut rest) = feed(100, &[b"ab", b"c\nde", b"f\n\ngh"]);
        assert_eq!(lines, [line("abc", false), line("def", false), line("", false)]);
        assert_eq!(rest.finish().map(|l| l.bytes), Some(b"gh".to_vec()));
        assert_eq!(rest.finish(), None);
    }

    #[test]
    fn a_line_of_exactly_the_cap_is_whole() {
        let (lines, _) = feed(4, &[b"abcd", b"\nabcde\n"]);
        assert_eq!(lines, [line("abcd", false), line("abcd", true)]);
    }

    #[test]
    fn an_overlong_line_is_cut_at_once_and_its_rest_skipped() {
        let (lines, mut rest) = feed(3, &[b"abcdef", b"ghi", b"jk\nxy\n"]);
        assert_eq!(lines, [line("abc", true), line("xy", false)]);
        assert_eq!(rest.finish(), None);
        assert!(rest.partial.capacity() <= 3);
    }

    #[test]
    fn the_cut_lands_inside_a_partial_line_too() {
        let (lines, _) = feed(4, &[b"ab", b"cdef\nz\n"]);
        assert_eq!(lines, [line("abcd", true), line("z", false)]);
    }
}
