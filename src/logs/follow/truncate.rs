//! Telling a truncated file (logrotate's `copytruncate`) from a grown one,
//! and finding the copy that holds what wasn't read yet.

use std::fs::{self, File};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::time::SystemTime;

/// Bytes remembered just before the read offset, to notice a file that was
/// truncated and grew back past that offset between two polls, and to know its
/// copy. Long enough to span several lines, so lines that differ only near
/// their start still tell apart.
const FINGERPRINT: usize = 512;

/// How far a file was read, and the bytes just before that point.
pub(crate) struct ReadSoFar<'a> {
    pub(crate) id: (u64, u64),
    pub(crate) offset: u64,
    pub(crate) fingerprint: &'a [u8],
}

/// The copy logrotate's `copytruncate` left of a truncated file, opened.
///
/// It lies beside the log under a longer name (`app.log.1`,
/// `app.log-20250101`) and starts with exactly what was read, so the bytes
/// before the offset identify it; the newest such file wins. Reading its rest
/// recovers the lines written before the copy but not read yet: only those
/// written between the copy and the truncate are lost. A copy compressed
/// already, or put in another directory (`olddir`), isn't found.
pub(crate) fn find_copy(path: &Path, truncated: &ReadSoFar) -> Option<(File, (u64, u64))> {
    if truncated.offset == 0 {
        return None;
    }
    let name = path.file_name()?.as_bytes();
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut newest: Option<(Option<SystemTime>, File, (u64, u64))> = None;
    for entry in fs::read_dir(dir).ok()?.flatten() {
        let entry_name = entry.file_name();
        if entry_name.len() == name.len() || !entry_name.as_bytes().starts_with(name) {
            continue;
        }
        let Ok(file) = File::open(entry.path()) else { continue };
        let Ok(meta) = file.metadata() else { continue };
        let id = (meta.dev(), meta.ino());
        if !meta.is_file() || meta.len() < truncated.offset || id == truncated.id {
            continue;
        }
        if fingerprint_before(&file, truncated.offset).ok().as_deref() != Some(truncated.fingerprint) {
            continue;
        }
        let modified = meta.modified().ok();
        if newest.as_ref().is_none_or(|(newest, _, _)| modified > *newest) {
            newest = Some((modified, file, id));
        }
    }
    newest.map(|(_, file, id)| (file, id))
}

/// The last [`FINGERPRINT`] bytes before `offset`.
pub(crate) fn fingerprint_before(file: &File, offset: u64) -> io::Result<Vec<u8>> {
    let from = offset.saturating_sub(FINGERPRINT as u64);
    let mut bytes = vec![0; (offset - from) as usize];
    file.read_exact_at(&mut bytes, from)?;
    Ok(bytes)
}

/// Whether the bytes before the offset are no longer what was read there: the
/// file was truncated and written again past the offset between two polls.
pub(crate) fn rewritten(file: &File, read: &ReadSoFar) -> io::Result<bool> {
    match fingerprint_before(file, read.offset) {
        Ok(now) => Ok(now != read.fingerprint),
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => Ok(true),
        Err(err) => Err(err),
    }
}

pub(crate) fn remember_tail(fingerprint: &mut Vec<u8>, chunk: &[u8]) {
    let keep_new = chunk.len().min(FINGERPRINT);
    let keep_old = (FINGERPRINT - keep_new).min(fingerprint.len());
    fingerprint.drain(..fingerprint.len() - keep_old);
    fingerprint.extend_from_slice(&chunk[chunk.len() - keep_new..]);
}
