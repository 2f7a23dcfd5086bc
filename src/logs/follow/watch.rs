//! Waking the driver when a watched directory changes. inotify is a speed-up,
//! never a requirement: without it (no inotify, watch limit reached, /proc,
//! network filesystems) the driver still polls.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use futures::{FutureExt, StreamExt};
use inotify::{EventMask, EventOwned, EventStream, Inotify, WatchDescriptor, WatchMask};

/// inotify on directories, so creates, renames and deletes of the followed
/// names are seen as well as writes.
pub(crate) struct DirWatcher {
    stream: Option<EventStream<Vec<u8>>>,
    watched: Watched,
}

impl DirWatcher {
    /// A watcher, or one that never wakes when inotify can't be set up.
    pub(crate) fn new() -> Self {
        let stream = Inotify::init().and_then(|inotify| inotify.into_event_stream(vec![0; 16 * 1024])).ok();
        Self { stream, watched: Watched::default() }
    }

    /// Whether changes wake the driver (else it only polls).
    pub(crate) fn active(&self) -> bool {
        self.stream.is_some()
    }

    /// Watches `dir` if it isn't yet; a failure (not there yet, no permission,
    /// too many watches) is retried on the next call.
    pub(crate) fn watch(&mut self, dir: &Path) {
        let Some(stream) = &self.stream else { return };
        if self.watched.0.contains_key(dir) {
            return;
        }
        let mask = WatchMask::MODIFY
            | WatchMask::CREATE
            | WatchMask::DELETE
            | WatchMask::MOVED_FROM
            | WatchMask::MOVED_TO
            | WatchMask::ATTRIB
            | WatchMask::DELETE_SELF
            | WatchMask::MOVE_SELF;
        if let Ok(descriptor) = stream.watches().add(dir, mask) {
            self.watched.0.insert(dir.to_owned(), descriptor);
        }
    }

    /// Waits for the next change, then takes every event already queued: one
    /// wake-up per burst, not per write. True when a name was created, moved
    /// or deleted (a glob may match something new). Never returns without
    /// inotify.
    pub(crate) async fn changed(&mut self) -> bool {
        let Some(stream) = self.stream.as_mut() else { return std::future::pending().await };
        let mut names_changed = match stream.next().await {
            Some(Ok(event)) => self.watched.note(&event),
            // The stream failed or ended: poll from now on.
            Some(Err(_)) | None => {
                self.stream = None;
                return true;
            }
        };
        while let Some(Some(Ok(event))) = stream.next().now_or_never() {
            names_changed |= self.watched.note(&event);
        }
        names_changed
    }
}

/// The watched directories.
#[derive(Default)]
struct Watched(HashMap<PathBuf, WatchDescriptor>);

impl Watched {
    /// Whether `event` changed a name. A watch ends when its directory is
    /// deleted or unmounted: it is forgotten, to be added again when the
    /// directory comes back.
    fn note(&mut self, event: &EventOwned) -> bool {
        if event.mask.contains(EventMask::IGNORED) {
            self.0.retain(|_, descriptor| *descriptor != event.wd);
        }
        let renames = EventMask::CREATE | EventMask::DELETE | EventMask::MOVED_FROM | EventMask::MOVED_TO;
        event.mask.intersects(renames | EventMask::IGNORED)
    }
}
