//! One followed path: which file it names now, how far that file was read,
//! and the file it named before while that one is drained.

use std::fs::{self, File, Metadata};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use super::lines::LineAssembler;
use super::tail::tail_of;
use super::truncate::{ReadSoFar, find_copy, fingerprint_before, remember_tail, rewritten};
use super::{FollowEvent, FollowOptions, RawLine};

/// Bytes read per `read` call.
const CHUNK: usize = 64 * 1024;

/// Where reading starts in a file the path names for the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartAt {
    /// Its last `initial_lines` lines: a file that was there when following began.
    Tail,
    /// Its start: a file that appeared, or replaced another, while followed.
    Beginning,
    /// Its end: a file whose content was already read under another name.
    End,
}

/// Follows one path by name, like `tail -F`: see the [module](super) docs.
///
/// Never blocks on anything but local file I/O and never holds more than one
/// partial line per open file; all state changes come out of [`poll`](Self::poll).
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    opts: FollowOptions,
    start_at: StartAt,
    current: Option<OpenFile>,
    /// The file the path named before, read until it stays idle for `rotate_grace`.
    retired: Option<(OpenFile, Instant)>,
    missing_reported: bool,
    last_error: Option<String>,
    behind: bool,
    buf: Vec<u8>,
}

/// An open file and how far it was read.
#[derive(Debug)]
struct OpenFile {
    file: File,
    id: (u64, u64),
    offset: u64,
    lines: LineAssembler,
    /// The last bytes before `offset`, to tell whether they were rewritten.
    fingerprint: Vec<u8>,
    /// Length and mtime when the fingerprint was last checked.
    checked: (u64, Option<SystemTime>),
}

impl OpenFile {
    fn read_so_far(&self) -> ReadSoFar<'_> {
        ReadSoFar { id: self.id, offset: self.offset, fingerprint: &self.fingerprint }
    }
}

impl Follower {
    /// Follows `path`. Nothing is read until the first [`poll`](Self::poll),
    /// which shows the last `initial_lines` lines of the file; a path that
    /// names no file yet is fine, and its file is read from its start once it
    /// appears.
    pub fn open(path: PathBuf, opts: FollowOptions) -> Follower {
        Self::starting(path, opts, StartAt::Tail)
    }

    pub(crate) fn starting(path: PathBuf, opts: FollowOptions, start_at: StartAt) -> Follower {
        Follower {
            path,
            opts,
            start_at,
            current: None,
            retired: None,
            missing_reported: false,
            last_error: None,
            behind: false,
            buf: Vec::new(),
        }
    }

    /// The followed path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the last poll stopped at [`FollowOptions::read_budget`] with
    /// more to read: poll again soon.
    pub fn behind(&self) -> bool {
        self.behind
    }

    /// The (device, inode) of the files open now, the current one first.
    pub(crate) fn open_ids(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.current.iter().chain(self.retired.iter().map(|(f, _)| f)).map(|f| f.id)
    }

    /// Whether the path names no file and nothing is left to read.
    pub(crate) fn is_gone(&self) -> bool {
        self.missing_reported && self.current.is_none() && self.retired.is_none()
    }

    /// Reads whatever is new, without blocking: the rest of a rotated-away
    /// file first, then the file the path names now.
    pub fn poll(&mut self) -> Vec<FollowEvent> {
        let mut events = Vec::new();
        self.behind = false;
        self.poll_retired(&mut events);
        match fs::metadata(&self.path) {
            Ok(meta) => self.poll_present(&meta, &mut events),
            Err(err) if is_absent(&err) => self.poll_missing(&mut events),
            Err(err) => self.report(&err, "cannot stat", &mut events),
        }
        events
    }

    fn poll_present(&mut self, meta: &Metadata, events: &mut Vec<FollowEvent>) {
        if let Some(current) = self.current.take_if(|f| f.id != (meta.dev(), meta.ino())) {
            let how = match current.file.metadata() {
                Ok(old) if old.nlink() == 0 => "recreated",
                _ => "renamed",
            };
            self.retire(current, events);
            events.push(FollowEvent::Rotated { how });
            self.start_at = StartAt::Beginning;
        }
        if self.behind {
            // The old file still has lines to give; the new one waits for them.
            return;
        }
        if self.current.is_none() && !self.open_current(events) {
            return;
        }
        let Some(mut current) = self.current.take() else { return };
        match self.read_current(&mut current, events) {
            Ok(()) => {
                self.last_error = None;
                self.current = Some(current);
            }
            Err(err) => {
                self.report(&err, "cannot read", events);
                self.current = Some(current);
            }
        }
    }

    fn poll_missing(&mut self, events: &mut Vec<FollowEvent>) {
        if let Some(current) = self.current.take() {
            self.retire(current, events);
        }
        self.start_at = StartAt::Beginning;
        self.last_error = None;
        if !self.missing_reported {
            self.missing_reported = true;
            events.push(FollowEvent::Missing);
        }
    }

    /// Opens the file the path names; false (with an error event) when it can't be.
    fn open_current(&mut self, events: &mut Vec<FollowEvent>) -> bool {
        let opened = File::open(&self.path).and_then(|file| {
            let meta = file.metadata()?;
            let id = (meta.dev(), meta.ino());
            let (initial, offset) = match self.start_at {
                StartAt::Tail => tail_of(&file, meta.len(), self.opts.initial_lines, self.opts.max_line)?,
                StartAt::End => tail_of(&file, meta.len(), 0, self.opts.max_line)?,
                StartAt::Beginning => (Vec::new(), 0),
            };
            let fingerprint = fingerprint_before(&file, offset)?;
            let lines = LineAssembler::new(self.opts.max_line);
            let checked = (meta.len(), meta.modified().ok());
            Ok((OpenFile { file, id, offset, lines, fingerprint, checked }, initial))
        });
        match opened {
            Ok((file, initial)) => {
                if std::mem::take(&mut self.missing_reported) {
                    events.push(FollowEvent::Appeared);
                }
                if self.start_at == StartAt::Tail {
                    // Even empty: the backlog has been read, which `opsdeck check` waits for.
                    events.push(FollowEvent::Backlog(initial));
                } else {
                    push_lines(events, initial);
                }
                self.current = Some(file);
                self.start_at = StartAt::Beginning;
                self.last_error = None;
                true
            }
            Err(err) if is_absent(&err) => {
                self.poll_missing(events);
                false
            }
            Err(err) => {
                self.report(&err, "cannot open", events);
                false
            }
        }
    }

    /// Reads the current file from its offset. A truncated file is read again
    /// from its start, after the rest of its copy when one is found beside it
    /// (see [`find_copy`]).
    fn read_current(&mut self, current: &mut OpenFile, events: &mut Vec<FollowEvent>) -> io::Result<()> {
        let meta = current.file.metadata()?;
        let seen = (meta.len(), meta.modified().ok());
        if meta.len() < current.offset
            || (seen != current.checked && rewritten(&current.file, &current.read_so_far())?)
        {
            let restarted = OpenFile {
                file: current.file.try_clone()?,
                id: current.id,
                offset: 0,
                lines: LineAssembler::new(self.opts.max_line),
                fingerprint: Vec::new(),
                checked: seen,
            };
            let mut before = std::mem::replace(current, restarted);
            match find_copy(&self.path, &before.read_so_far()) {
                Some((file, id)) => self.retire(OpenFile { file, id, ..before }, events),
                None => push_lines(events, before.lines.finish().into_iter().collect()),
            }
            events.push(FollowEvent::Truncated);
            if self.behind {
                return Ok(());
            }
        }
        current.checked = seen;
        let lines = self.read_available(current)?;
        push_lines(events, lines);
        Ok(())
    }

    /// Moves the current file aside after reading what it has left.
    fn retire(&mut self, mut file: OpenFile, events: &mut Vec<FollowEvent>) {
        if let Some((older, _)) = self.retired.take() {
            self.close(older, events);
        }
        match self.read_available(&mut file) {
            Ok(lines) => push_lines(events, lines),
            Err(err) => self.report(&err, "cannot read the rotated file", events),
        }
        self.retired = Some((file, Instant::now()));
    }

    /// Reads a rotated-away file's late lines; closes it once idle for the grace.
    fn poll_retired(&mut self, events: &mut Vec<FollowEvent>) {
        let Some((mut file, last_grew)) = self.retired.take() else { return };
        let before = file.offset;
        let lines = match self.read_available(&mut file) {
            Ok(lines) => lines,
            Err(err) => {
                self.report(&err, "cannot read the rotated file", events);
                Vec::new()
            }
        };
        push_lines(events, lines);
        if file.offset != before || self.behind {
            self.retired = Some((file, Instant::now()));
        } else if last_grew.elapsed() < self.opts.rotate_grace {
            self.retired = Some((file, last_grew));
        } else {
            self.close(file, events);
        }
    }

    /// Drops a file for good: its unterminated last line is a line now.
    fn close(&mut self, mut file: OpenFile, events: &mut Vec<FollowEvent>) {
        if let Ok(lines) = self.read_available(&mut file) {
            push_lines(events, lines);
        }
        push_lines(events, file.lines.finish().into_iter().collect());
    }

    /// Reads from the offset to the end, or up to the read budget.
    fn read_available(&mut self, file: &mut OpenFile) -> io::Result<Vec<RawLine>> {
        self.buf.resize(CHUNK, 0);
        let mut lines = Vec::new();
        let mut budget = self.opts.read_budget.max(1);
        while budget > 0 {
            let want = budget.min(CHUNK);
            let got = match file.file.read_at(&mut self.buf[..want], file.offset) {
                Ok(got) => got,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            if got == 0 {
                return Ok(lines);
            }
            let chunk = &self.buf[..got];
            file.lines.push(chunk, &mut lines);
            remember_tail(&mut file.fingerprint, chunk);
            file.offset += got as u64;
            budget -= got;
        }
        self.behind = true;
        Ok(lines)
    }

    /// Sends `err` once, until following works again or the error changes.
    fn report(&mut self, err: &io::Error, doing: &str, events: &mut Vec<FollowEvent>) {
        let message = format!("{}: {doing}: {err}", self.path.display());
        if self.last_error.as_ref() != Some(&message) {
            events.push(FollowEvent::Error(message.clone()));
            self.last_error = Some(message);
        }
    }
}

fn is_absent(err: &io::Error) -> bool {
    matches!(err.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

fn push_lines(events: &mut Vec<FollowEvent>, lines: Vec<RawLine>) {
    if !lines.is_empty() {
        events.push(FollowEvent::Lines(lines));
    }
}
