//! What one log source follows: a path, or a glob whose matches are found
//! again and again, so files created later are picked up.

use std::fs;
use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

/// A path followed by name, or a glob over paths.
#[derive(Debug, Clone)]
pub enum FollowTarget {
    /// One path, whether or not it names a file yet.
    Path(PathBuf),
    /// Every file matching a glob (`*` and `?` stay within one path component,
    /// `**` crosses them, `{a,b}` and `[...]` as usual).
    Glob(GlobTarget),
}

/// A compiled glob and the directory its walk starts from.
#[derive(Debug, Clone)]
pub struct GlobTarget {
    pattern: String,
    matcher: GlobMatcher,
    /// The longest leading run of components without glob syntax.
    base: PathBuf,
    /// How many components below `base` a match can be; `None` with `**`.
    depth: Option<usize>,
    /// A relative glob walked from `.`: the walk's `./` is not in the pattern.
    from_cwd: bool,
}

impl FollowTarget {
    /// A glob when `spec` has glob syntax (`*?[{`), else a plain path.
    pub fn parse(spec: &str) -> Result<FollowTarget, globset::Error> {
        if !spec.contains(['*', '?', '[', '{']) {
            return Ok(FollowTarget::Path(PathBuf::from(spec)));
        }
        let matcher = GlobBuilder::new(spec).literal_separator(true).build()?.compile_matcher();
        let mut base = PathBuf::new();
        let mut depth = Some(0);
        for component in Path::new(spec).components() {
            let text = component.as_os_str().to_string_lossy();
            if depth == Some(0) && !text.contains(['*', '?', '[', '{']) {
                base.push(component);
            } else if text == "**" {
                depth = None;
            } else if let Some(d) = depth.as_mut() {
                *d += 1;
            }
        }
        let from_cwd = base.as_os_str().is_empty();
        if from_cwd {
            base.push(Component::CurDir);
        }
        Ok(FollowTarget::Glob(GlobTarget { pattern: spec.to_owned(), matcher, base, depth, from_cwd }))
    }

    /// The target as written in the config.
    pub fn spec(&self) -> String {
        match self {
            FollowTarget::Path(path) => path.display().to_string(),
            FollowTarget::Glob(glob) => glob.pattern.clone(),
        }
    }
}

/// What a walk of a glob found.
#[derive(Debug, Default)]
pub(crate) struct Expansion {
    /// Matching regular files (or symlinks to them), sorted.
    pub(crate) files: Vec<PathBuf>,
    /// The directories listed, to watch for new entries.
    pub(crate) dirs: Vec<PathBuf>,
}

impl GlobTarget {
    /// Lists the files matching now. Unreadable directories are skipped: their
    /// files will be found once they can be listed.
    pub(crate) fn expand(&self) -> Expansion {
        let mut found = Expansion::default();
        self.walk(&self.base, 0, &mut found);
        found.files.sort();
        found
    }

    fn walk(&self, dir: &Path, level: usize, found: &mut Expansion) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        found.dirs.push(dir.to_owned());
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = fs::metadata(&path) else { continue };
            if meta.is_file() {
                let relative = if self.from_cwd { path.strip_prefix(".").unwrap_or(&path) } else { &path };
                if self.matcher.is_match(relative) {
                    found.files.push(path);
                }
            } else if meta.is_dir() && self.depth.is_none_or(|depth| level + 1 < depth) {
                // Symlinked directories aren't descended, so a link loop can't trap the walk.
                if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                    self.walk(&path, level + 1, found);
                }
            }
        }
    }
}
