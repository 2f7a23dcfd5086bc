//! The one reader of a dump file: big chunks, each hashed as it is read, handed
//! to the decoder through `BufRead`; cancel and progress between chunks.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::digest::Hasher;
use super::{Progress, VerifyError};

/// Bytes read from the file at a time: large enough that a read, a hash
/// update and a decoder call each cost little per byte, small enough that
/// cancel is noticed within a few milliseconds.
const CHUNK: usize = 1 << 20;

/// Progress is reported at most this often.
const REPORT_EVERY: Duration = Duration::from_millis(100);

/// The file as the decoder sees it.
///
/// Errors that are not the content's fault (cancel, a failing disk) are kept
/// in `failure` and surface through the decoder as an opaque `io::Error`; the
/// caller asks [`Source::take_failure`] first, so they are never mistaken for
/// corruption.
pub(super) struct Source<'a> {
    file: File,
    path: &'a Path,
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
    eof: bool,
    bytes_read: u64,
    total: u64,
    hasher: Option<Hasher>,
    cancel: &'a AtomicBool,
    progress: &'a mut dyn FnMut(Progress),
    started: Instant,
    last_report: Option<Instant>,
    failure: Option<VerifyError>,
}

impl<'a> Source<'a> {
    /// A source over an open file of `total` bytes, hashing with `hasher`.
    pub(super) fn new(
        file: File,
        path: &'a Path,
        total: u64,
        hasher: Option<Hasher>,
        cancel: &'a AtomicBool,
        progress: &'a mut dyn FnMut(Progress),
        started: Instant,
    ) -> Source<'a> {
        Source {
            file,
            path,
            buf: vec![0; CHUNK].into_boxed_slice(),
            pos: 0,
            filled: 0,
            eof: false,
            bytes_read: 0,
            total,
            hasher,
            cancel,
            progress,
            started,
            last_report: None,
            failure: None,
        }
    }

    /// The unread start of the file (the first chunk), for sniffing magic bytes.
    pub(super) fn peek(&mut self) -> Result<&[u8], VerifyError> {
        if let Err(e) = self.fill() {
            return Err(self.take_failure().unwrap_or_else(|| VerifyError::io(self.path, &e)));
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    /// Bytes handed to the decoder so far: where in the file an error is.
    pub(super) fn position(&self) -> u64 {
        self.bytes_read - (self.filled - self.pos) as u64
    }

    /// Why the source failed, when it did (cancelled, an I/O error).
    pub(super) fn take_failure(&mut self) -> Option<VerifyError> {
        self.failure.take()
    }

    /// Report the end and give back the bytes read and the hasher.
    pub(super) fn finish(self) -> (u64, Option<Hasher>) {
        let done = self.bytes_read;
        (self.progress)(Progress { done, total: self.total.max(done), elapsed: self.started.elapsed() });
        (done, self.hasher)
    }

    /// Make sure unread bytes are buffered, unless the file has ended.
    fn fill(&mut self) -> io::Result<()> {
        if let Some(failure) = &self.failure {
            return Err(io::Error::other(failure.to_string()));
        }
        if self.pos < self.filled || self.eof {
            return Ok(());
        }
        if self.cancel.load(Ordering::Relaxed) {
            return Err(self.fail(VerifyError::Cancelled));
        }
        let mut filled = 0;
        while filled < self.buf.len() {
            match self.file.read(&mut self.buf[filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.fail(VerifyError::io(self.path, &e))),
            }
        }
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&self.buf[..filled]);
        }
        self.pos = 0;
        self.filled = filled;
        self.bytes_read += filled as u64;
        self.report_if_due();
        Ok(())
    }

    /// Keep `failure` for the caller and hand the decoder an error to stop on.
    fn fail(&mut self, failure: VerifyError) -> io::Error {
        let error = io::Error::other(failure.to_string());
        self.failure = Some(failure);
        error
    }

    fn report_if_due(&mut self) {
        let now = Instant::now();
        if self.last_report.is_some_and(|last| now.duration_since(last) < REPORT_EVERY) {
            return;
        }
        self.last_report = Some(now);
        let done = self.bytes_read;
        (self.progress)(Progress {
            done,
            total: self.total.max(done),
            elapsed: now.duration_since(self.started),
        });
    }
}

impl Read for Source<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Source<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.fill()?;
        Ok(&self.buf[self.pos..self.filled])
    }

    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.filled);
    }
}
