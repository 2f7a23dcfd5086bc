//! Following log files exactly as `tail -F` does, and a little better.
//!
//! A file is followed by *name*: whatever file the path names now is the one
//! read, and the file it named before is drained to its end first, so no line
//! is lost or repeated across logrotate's rename, `copytruncate`, a delete and
//! re-create, or a file that only appears later. Lines are raw bytes without
//! their newline, capped at [`FollowOptions::max_line`] so one endless line
//! can't take memory with it; decoding and making them inert is the line
//! module's job.
//!
//! Three layers, each usable alone:
//! - [`tail_lines`]: the last N lines of a file, read backwards from its end
//!   (never the whole file), and the offset to follow from.
//! - [`Follower`]: one path, polled without blocking; it tells what happened
//!   since the last poll as [`FollowEvent`]s.
//! - [`follow`]: the async driver for a path or a glob, woken by inotify on the
//!   watched directories when it can be, and polling every
//!   [`FollowOptions::poll`] in any case (network filesystems and /proc give no
//!   events, and an inotify queue can overflow).
//!
//! # What can still be lost
//!
//! - `copytruncate`: lines written between logrotate's copy and its truncate
//!   are in neither file, and are lost here as in any follower; that window is
//!   the only loss. A truncation is noticed by the size dropping below the
//!   offset read so far or, when the file already grew back past it between
//!   two polls, by the bytes just before that offset having changed. Lines
//!   written before the copy but not read yet are read from the copy, when it
//!   is beside the log under a longer name and not compressed yet.
//! - Two rotations between two polls: the file in the middle is never seen
//!   (as with `tail -F`); with inotify a poll follows each change at once.
//! - A rotated-away file is read for [`FollowOptions::rotate_grace`] after it
//!   last grew, so a writer that reopens its log a little late loses nothing;
//!   what it writes to the old file after that is not read.

mod driver;
mod follower;
mod lines;
mod tail;
mod target;
mod truncate;
mod watch;

use std::time::Duration;

pub use driver::follow;
pub use follower::Follower;
pub use tail::tail_lines;
pub use target::FollowTarget;

/// One line as read from a file: its bytes without the newline, exactly as
/// written (invalid UTF-8 and `\r` included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLine {
    /// At most [`FollowOptions::max_line`] bytes.
    pub bytes: Vec<u8>,
    /// The line was longer than the cap: the rest of it, up to its newline,
    /// was skipped.
    pub truncated: bool,
}

/// How files are read and followed.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Longest line kept, in bytes; the rest of a longer line is dropped.
    pub max_line: usize,
    /// Lines shown from the end of a file that exists when following starts.
    pub initial_lines: usize,
    /// How often files are looked at when no inotify event came (the only
    /// wake-up where inotify is unavailable).
    pub poll: Duration,
    /// How long a rotated-away or deleted file is still read after it last
    /// grew, for writers that reopen their log only after a signal.
    pub rotate_grace: Duration,
    /// Bytes read from one file in one poll, so a burst can't fill memory and
    /// other files get their turn; the rest is read on the next poll.
    pub read_budget: usize,
}

impl Default for FollowOptions {
    fn default() -> Self {
        Self {
            max_line: 16 * 1024,
            initial_lines: 1000,
            poll: Duration::from_millis(250),
            rotate_grace: Duration::from_secs(2),
            read_budget: 4 * 1024 * 1024,
        }
    }
}

/// What happened to a followed path since the last poll, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowEvent {
    /// New complete lines (or the cut head of an overlong one).
    Lines(Vec<RawLine>),
    /// The last `initial_lines` lines of a file that was there when
    /// following began: written before, not news. Sent even when empty, so
    /// a reader knows the backlog was read.
    Backlog(Vec<RawLine>),
    /// The path now names another file: `"renamed"` when the old one was moved
    /// away (logrotate's default), `"recreated"` when it was deleted. The old
    /// file's remaining lines came before this event; the new file is read
    /// from its start.
    Rotated { how: &'static str },
    /// The file got shorter than what was read (`copytruncate`): it is read
    /// again from its start.
    Truncated,
    /// The path names no file (deleted, renamed away, or not created yet).
    Missing,
    /// A missing path names a file again; it is read from its start.
    Appeared,
    /// The path can't be read (permission denied, …): the message names the
    /// path. Sent once per distinct error; following keeps trying.
    Error(String),
}
