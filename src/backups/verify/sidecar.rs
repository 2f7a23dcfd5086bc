//! Checksum sidecars: what `sha256sum`/`md5sum` write (`<hex>  <name>`, or
//! `<hex> *<name>` in binary mode, with a leading `\` when the name is
//! escaped), their `--tag` (BSD) form `SHA256 (<name>) = <hex>`, or a bare
//! digest.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::backups::model::{Checksum, ChecksumAlgorithm};

/// A sidecar is a few lines; anything bigger is not one (and is not read
/// whole into memory).
const MAX_SIDECAR: u64 = 1 << 20;

/// The checksum `sidecar` states for the dump named `file_name`.
///
/// A sidecar listing several files gives the line whose name (or its last
/// path component) is `file_name`. A sidecar with a single entry is taken
/// whatever name it carries: it is this file's by its own name, and dumps are
/// often renamed after they are checksummed (`x.tmp` to `x.sql.gz`).
pub fn read_sidecar(
    sidecar: &Path,
    file_name: &str,
    algorithm: ChecksumAlgorithm,
) -> Result<Checksum, String> {
    let text = read_small(sidecar).map_err(|e| format!("cannot read {}: {e}", sidecar.display()))?;
    let hex = pick(&text, file_name, algorithm).map_err(|e| format!("{}: {e}", sidecar.display()))?;
    Ok(Checksum { algorithm, hex, sidecar: sidecar.to_path_buf() })
}

fn read_small(path: &Path) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    File::open(path)?.take(MAX_SIDECAR + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SIDECAR {
        return Err(std::io::Error::other("too large for a checksum sidecar"));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// One line of a sidecar.
#[derive(Debug, PartialEq, Eq)]
struct Entry<'t> {
    hex: &'t str,
    /// `None` for a bare digest.
    name: Option<String>,
}

impl Entry<'_> {
    fn names(&self, file_name: &str) -> bool {
        match &self.name {
            None => true,
            Some(name) => {
                name == file_name || Path::new(name).file_name().is_some_and(|base| base == file_name)
            }
        }
    }
}

/// The validated, lower-case digest for `file_name`.
fn pick(text: &str, file_name: &str, algorithm: ChecksumAlgorithm) -> Result<String, String> {
    let entries: Vec<Entry<'_>> = text.lines().filter_map(|line| parse_line(line, algorithm)).collect();
    let entry = match entries.as_slice() {
        [] => return Err(format!("no {} checksum in it", algorithm.as_str())),
        [only] => only,
        several => several
            .iter()
            .find(|entry| entry.names(file_name))
            .ok_or_else(|| format!("no line for {file_name} among its {} entries", several.len()))?,
    };
    validate_hex(entry.hex, algorithm)
}

/// A line in any of the accepted forms; `None` for blank lines, comments and
/// BSD lines of another algorithm.
fn parse_line(line: &str, algorithm: ChecksumAlgorithm) -> Option<Entry<'_>> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() || line.starts_with('#') {
        return None;
    }
    if let Some(entry) = parse_tagged(line) {
        let tag = entry.0.to_ascii_lowercase().replace('-', "");
        return (tag == algorithm.as_str()).then_some(entry.1);
    }
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line.trim_start()),
    };
    let (hex, rest) = line.split_once([' ', '\t']).unwrap_or((line, ""));
    // GNU: one space, then a space (text mode) or `*` (binary mode).
    let name = rest.strip_prefix([' ', '*']).unwrap_or(rest);
    let name = if name.is_empty() {
        None
    } else if escaped {
        Some(unescape(name))
    } else {
        Some(name.to_owned())
    };
    Some(Entry { hex, name })
}

/// `SHA256 (name) = hex`: the tag and the entry.
fn parse_tagged(line: &str) -> Option<(&str, Entry<'_>)> {
    let (tag, rest) = line.split_once(" (")?;
    let (name, hex) = rest.rsplit_once(") = ")?;
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return None;
    }
    Some((tag, Entry { hex: hex.trim(), name: Some(name.to_owned()) }))
}

/// GNU coreutils escapes `\` and newlines in names (and marks the line).
fn unescape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn validate_hex(hex: &str, algorithm: ChecksumAlgorithm) -> Result<String, String> {
    let digits = match algorithm {
        ChecksumAlgorithm::Sha256 => 64,
        ChecksumAlgorithm::Md5 => 32,
    };
    if hex.len() == digits && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(hex.to_ascii_lowercase());
    }
    let excerpt: String = hex.chars().take(20).collect();
    let more = if hex.chars().count() > 20 { "…" } else { "" };
    Err(format!(
        "a {} digest is {digits} hex digits, the sidecar has \"{excerpt}{more}\" ({} chars)",
        algorithm.as_str(),
        hex.chars().count()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const SHA2: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

    fn sha(text: &str, name: &str) -> Result<String, String> {
        pick(text, name, ChecksumAlgorithm::Sha256)
    }

    #[test]
    fn coreutils_text_and_binary_mode() {
        // sha256sum (GNU coreutils 9.x) output, text and binary (-b) mode.
        assert_eq!(sha(&format!("{SHA}  full.sql.gz\n"), "full.sql.gz"), Ok(SHA.to_owned()));
        assert_eq!(sha(&format!("{SHA} *full.sql.gz\n"), "full.sql.gz"), Ok(SHA.to_owned()));
        let md5 = format!("{MD5}  full.sql.gz\r\n");
        assert_eq!(pick(&md5, "full.sql.gz", ChecksumAlgorithm::Md5), Ok(MD5.to_owned()));
    }

    #[test]
    fn bare_digest_and_upper_case() {
        assert_eq!(sha(&format!("{SHA}\n"), "x.gz"), Ok(SHA.to_owned()));
        assert_eq!(sha(&format!("  {}  \n", SHA.to_uppercase()), "x.gz"), Ok(SHA.to_owned()));
    }

    #[test]
    fn several_files_pick_the_named_line() {
        let text = format!("# made by backup.sh\n{SHA}  a.sql.gz\n{SHA2}  /data/backup/full/b.sql.gz\n\n");
        assert_eq!(sha(&text, "a.sql.gz"), Ok(SHA.to_owned()));
        assert_eq!(sha(&text, "b.sql.gz"), Ok(SHA2.to_owned()));
        let missing = sha(&text, "c.sql.gz").expect_err("no line for c");
        assert!(missing.contains("c.sql.gz"), "{missing}");
    }

    #[test]
    fn a_single_entry_is_taken_whatever_its_name() {
        assert_eq!(sha(&format!("{SHA}  dump.tmp\n"), "dump.sql.gz"), Ok(SHA.to_owned()));
    }

    #[test]
    fn escaped_names() {
        // sha256sum prints `\<hex>  a\\b.gz` for a file named `a\b.gz`.
        let text = format!("\\{SHA}  a\\\\b.gz\n{SHA2}  other.gz\n");
        assert_eq!(sha(&text, "a\\b.gz"), Ok(SHA.to_owned()));
    }

    #[test]
    fn bsd_tagged_form() {
        // `sha256sum --tag` / BSD `sha256` and `md5` output.
        let text = format!("SHA256 (a.sql.gz) = {SHA}\nSHA256 (b (copy).sql.gz) = {SHA2}\n");
        assert_eq!(sha(&text, "b (copy).sql.gz"), Ok(SHA2.to_owned()));
        let md5 = format!("MD5 (a.sql.gz) = {MD5}\n");
        assert_eq!(pick(&md5, "a.sql.gz", ChecksumAlgorithm::Md5), Ok(MD5.to_owned()));
        // A line tagged with another algorithm is not ours.
        assert!(sha(&md5, "a.sql.gz").is_err());
    }

    #[test]
    fn bad_hex_is_an_error() {
        let short = sha(&format!("{}  a.gz\n", &SHA[..63]), "a.gz").expect_err("63 digits");
        assert!(short.contains("64 hex digits") && short.contains("63 chars"), "{short}");
        assert!(sha(&format!("{}g  a.gz\n", &SHA[..63]), "a.gz").is_err());
        // An md5 digest in a sha256 sidecar.
        assert!(sha(&format!("{MD5}  a.gz\n"), "a.gz").is_err());
        let empty = sha("\n# nothing\n", "a.gz").expect_err("empty");
        assert!(empty.contains("no sha256"), "{empty}");
    }

    #[test]
    fn reads_a_file_and_names_it_in_errors() {
        let dir = tempfile::Builder::new().prefix("vfysc").tempdir_in("/tmp").expect("temp dir");
        let path = dir.path().join("a.sql.gz.sha256");
        std::fs::write(&path, format!("{SHA}  a.sql.gz\n")).expect("write");
        let checksum = read_sidecar(&path, "a.sql.gz", ChecksumAlgorithm::Sha256).expect("read");
        assert_eq!(
            checksum,
            Checksum { algorithm: ChecksumAlgorithm::Sha256, hex: SHA.to_owned(), sidecar: path }
        );
        let missing = dir.path().join("nope.sha256");
        let error = read_sidecar(&missing, "a", ChecksumAlgorithm::Sha256).expect_err("missing");
        assert!(error.contains("nope.sha256"), "{error}");
    }
}
