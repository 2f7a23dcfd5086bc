//! The async driver: one task per log source, reading on inotify wake-ups and
//! on a poll timer, with the file I/O off the async threads.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::time::{sleep, sleep_until};
use tokio_util::sync::CancellationToken;

use super::follower::{Follower, StartAt};
use super::target::{FollowTarget, GlobTarget};
use super::watch::DirWatcher;
use super::{FollowEvent, FollowOptions};

/// Shortest time between two reads after an inotify wake-up: a writer doing
/// one write per line then costs one read per few milliseconds, not one per
/// line, for at most this much added lag.
const COALESCE: Duration = Duration::from_millis(5);

/// Follows `target` until `cancel` fires or the receiver is dropped, sending
/// each file's events tagged with its path.
///
/// A path is followed by name ([`Follower`]). A glob is expanded again
/// whenever a name changes in a watched directory (and every `opts.poll`):
/// files there at the start show their last `initial_lines` lines, files that
/// appear later are read from their start (but one renamed in from a name
/// already followed starts at its end: its lines were read), and a file that
/// is gone for good is dropped. A full channel pauses reading, so a slow consumer costs no
/// memory here. File reads run on tokio's blocking pool: a hung filesystem
/// stalls this source only.
pub async fn follow(
    target: FollowTarget,
    opts: FollowOptions,
    tx: mpsc::Sender<(Arc<Path>, FollowEvent)>,
    cancel: CancellationToken,
) {
    let poll = opts.poll;
    let mut watcher = DirWatcher::new();
    let mut set = FollowSet::new(target, opts, !watcher.active());
    let mut names_changed = true;
    loop {
        let task = tokio::task::spawn_blocking(move || {
            let round = set.round(names_changed);
            (set, round)
        });
        let round;
        (set, round) = tokio::select! {
            _ = cancel.cancelled() => return,
            done = task => match done {
                Ok(done) => done,
                Err(_) => return,
            },
        };
        for dir in &round.dirs {
            watcher.watch(dir);
        }
        for event in round.events {
            tokio::select! {
                _ = cancel.cancelled() => return,
                sent = tx.send(event) => if sent.is_err() { return },
            }
        }
        if round.behind {
            names_changed = false;
            tokio::task::yield_now().await;
            continue;
        }
        let read_at = tokio::time::Instant::now();
        names_changed = tokio::select! {
            _ = cancel.cancelled() => return,
            changed = watcher.changed() => {
                sleep_until(read_at + COALESCE).await;
                changed
            }
            _ = sleep(poll) => false,
        };
    }
}

/// The followers of one target, moved to a blocking thread for each round.
struct FollowSet {
    target: FollowTarget,
    opts: FollowOptions,
    followers: Vec<(Arc<Path>, Follower)>,
    first_scan: bool,
    /// Whether to expand a glob on every round (nothing tells when names change).
    always_rescan: bool,
    last_scan: Option<Instant>,
}

/// What one round read, and which directories to watch.
#[derive(Default)]
struct Round {
    events: Vec<(Arc<Path>, FollowEvent)>,
    dirs: Vec<PathBuf>,
    behind: bool,
}

impl FollowSet {
    fn new(target: FollowTarget, opts: FollowOptions, always_rescan: bool) -> Self {
        Self { target, opts, followers: Vec::new(), first_scan: true, always_rescan, last_scan: None }
    }

    fn round(&mut self, names_changed: bool) -> Round {
        let mut round = Round::default();
        match &self.target {
            FollowTarget::Path(path) => {
                if self.followers.is_empty() {
                    let follower = Follower::open(path.clone(), self.opts.clone());
                    self.followers.push((Arc::from(path.as_path()), follower));
                }
                round.dirs.push(parent_dir(path));
            }
            FollowTarget::Glob(glob) => {
                let due = self.last_scan.is_none_or(|at| at.elapsed() >= self.opts.poll);
                if names_changed || self.always_rescan || due {
                    let glob = glob.clone();
                    round.dirs = self.rescan(&glob);
                }
            }
        }
        for (path, follower) in &mut self.followers {
            round.events.extend(follower.poll().into_iter().map(|event| (path.clone(), event)));
            round.behind |= follower.behind();
        }
        if matches!(self.target, FollowTarget::Glob(_)) {
            self.followers.retain(|(_, follower)| !follower.is_gone());
        }
        round
    }

    /// Starts following the glob's new matches; returns the directories walked.
    fn rescan(&mut self, glob: &GlobTarget) -> Vec<PathBuf> {
        let found = glob.expand();
        self.last_scan = Some(Instant::now());
        for path in found.files {
            if self.followers.iter().any(|(followed, _)| **followed == *path) {
                continue;
            }
            let start_at = if self.first_scan {
                StartAt::Tail
            } else if self.already_open(&path) {
                // Renamed into the glob from a followed name: its lines were read.
                StartAt::End
            } else {
                StartAt::Beginning
            };
            let follower = Follower::starting(path.clone(), self.opts.clone(), start_at);
            self.followers.push((Arc::from(path.as_path()), follower));
        }
        self.first_scan = false;
        found.dirs
    }

    fn already_open(&self, path: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = std::fs::metadata(path) else { return false };
        let id = (meta.dev(), meta.ino());
        self.followers.iter().any(|(_, follower)| follower.open_ids().any(|open| open == id))
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}
