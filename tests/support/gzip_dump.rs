//! A real gzip dump with its `sha256sum` sidecar, made by the real tools
//! (gzip, sha256sum), shared by the Backups end-to-end and check tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Write `dir/name`: `lines` INSERTs through `gzip -c`, and beside it
/// `name.sha256`. Returns the dump's path and its compressed bytes.
pub fn gzip_dump(dir: &Path, name: &str, lines: u32) -> (PathBuf, Vec<u8>) {
    let text: String = (0..lines).map(|i| format!("INSERT INTO t VALUES ({i});\n")).collect();
    let mut gz =
        Command::new("gzip").arg("-c").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("gzip");
    gz.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("feed gzip");
    let out = gz.wait_with_output().expect("gzip output");
    let path = dir.join(name);
    std::fs::write(&path, &out.stdout).expect("write dump");
    let sum = Command::new("sha256sum").arg(name).current_dir(dir).output().expect("sha256sum");
    std::fs::write(dir.join(format!("{name}.sha256")), sum.stdout).expect("sidecar");
    (path, out.stdout)
}
