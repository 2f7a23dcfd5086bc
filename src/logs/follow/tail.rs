//! The last lines of a file, read backwards from its end: showing the end of a
//! 1 GB log costs the size of its tail, not of the log.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::RawLine;

/// Bytes read per step while looking backwards for newlines.
const BLOCK: u64 = 64 * 1024;

/// The last `n` complete lines of the file at `path` (each capped at
/// `max_line` bytes), and the offset just past the last of them, where
/// following should go on. A last line without its newline is still being
/// written: it is not returned, and the offset stays before it.
pub fn tail_lines(path: &Path, n: usize, max_line: usize) -> io::Result<(Vec<RawLine>, u64)> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    tail_of(&file, len, n, max_line)
}

/// [`tail_lines`] on an open file whose length is `len`.
pub(crate) fn tail_of(file: &File, len: u64, n: usize, max_line: usize) -> io::Result<(Vec<RawLine>, u64)> {
    let (starts, end) = line_starts(file, len, n)?;
    let mut lines = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        // Each line ends at its newline, one byte before the next line starts.
        let stop = starts.get(i + 1).copied().unwrap_or(end) - 1;
        let keep = (stop - start).min(max_line as u64);
        let mut bytes = vec![0; keep as usize];
        file.read_exact_at(&mut bytes, start)?;
        lines.push(RawLine { bytes, truncated: stop - start > keep });
    }
    Ok((lines, end))
}

/// Where the last `n` complete lines start, oldest first, and the end of the
/// last complete line (0 when there is none). Only newline positions are
/// kept, so a huge line costs reading time, not memory.
fn line_starts(file: &File, len: u64, n: usize) -> io::Result<(Vec<u64>, u64)> {
    let mut block = vec![0; BLOCK.min(len) as usize];
    let mut end = None;
    let mut starts = Vec::with_capacity(n.min(1 << 16));
    let mut pos = len;
    'scan: while pos > 0 {
        let from = pos.saturating_sub(BLOCK);
        let buf = &mut block[..(pos - from) as usize];
        file.read_exact_at(buf, from)?;
        let mut upto = buf.len();
        while let Some(at) = buf[..upto].iter().rposition(|&b| b == b'\n') {
            let next_line = from + at as u64 + 1;
            if end.is_none() {
                end = Some(next_line);
            } else {
                if starts.len() == n {
                    break 'scan;
                }
                starts.push(next_line);
            }
            upto = at;
        }
        pos = from;
    }
    let Some(end) = end else { return Ok((Vec::new(), 0)) };
    // Reached the file's start: its first line starts at 0.
    if pos == 0 && starts.len() < n && starts.last() != Some(&0) {
        starts.push(0);
    }
    starts.reverse();
    Ok((starts, end))
}
