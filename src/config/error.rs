//! Config errors that point at the file, line and column, with the offending
//! line quoted, the way a compiler would.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A config (or theme) file that could not be used.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The file as the user named it.
    pub path: PathBuf,
    /// 1-based line and column of the problem, when known.
    pub position: Option<(usize, usize)>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The offending source line and the caret width under it.
    excerpt: Option<(String, usize)>,
}

impl ConfigError {
    /// A TOML syntax or schema error.
    pub fn toml(path: &Path, src: &str, err: &toml::de::Error) -> ConfigError {
        let message = err.message().trim().to_owned();
        match err.span() {
            Some(span) => ConfigError::at(path, src, span, message),
            None => ConfigError { path: path.into(), position: None, message, excerpt: None },
        }
    }

    /// An error at a byte range of `src`.
    pub fn at(path: &Path, src: &str, span: Range<usize>, message: String) -> ConfigError {
        let start = span.start.min(src.len());
        let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
        let line_no = src[..start].matches('\n').count() + 1;
        let col = src[line_start..start].chars().count() + 1;
        let text = src[line_start..line_end].trim_end_matches('\r').to_owned();
        let width = src[start..span.end.clamp(start, line_end)].chars().count().max(1);
        ConfigError {
            path: path.into(),
            position: Some((line_no, col)),
            message,
            excerpt: Some((text, width)),
        }
    }

    /// The file could not be read.
    pub fn io(path: &Path, err: &std::io::Error) -> ConfigError {
        ConfigError::plain(path, format!("cannot read: {err}"))
    }

    /// An error about the file as a whole.
    pub fn plain(path: &Path, message: String) -> ConfigError {
        ConfigError { path: path.into(), position: None, message, excerpt: None }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match self.position {
            Some((line, col)) => write!(f, "{path}:{line}:{col}: {}", self.message)?,
            None => write!(f, "{path}: {}", self.message)?,
        }
        if let (Some((line, col)), Some((text, width))) = (self.position, &self.excerpt) {
            let gutter = line.to_string().len();
            let pad: String =
                text.chars().take(col - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            write!(f, "\n{:gutter$} |\n{line} | {text}\n{:gutter$} | {pad}{}", "", "", "^".repeat(*width))?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_line_and_column() {
        let src = "theme = \"dark\"\nrefresh = 5\n";
        let e = ConfigError::at(Path::new("c.toml"), src, 25..26, "bad".into());
        assert_eq!(e.position, Some((2, 11)));
        assert_eq!(e.to_string(), "c.toml:2:11: bad\n  |\n2 | refresh = 5\n  |           ^");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let src = "name = \"告警\" x";
        let e = ConfigError::at(Path::new("c.toml"), src, src.find('x').unwrap()..src.len(), "m".into());
        assert_eq!(e.position, Some((1, 13)));
    }
}
