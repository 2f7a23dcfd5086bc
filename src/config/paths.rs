//! Where opsdeck keeps things, per the platform's conventions (XDG on Linux).

use std::path::PathBuf;

use directories::ProjectDirs;

fn dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "opsdeck")
}

/// `~/.config/opsdeck` on Linux.
pub fn config_dir() -> Option<PathBuf> {
    dirs().map(|d| d.config_dir().to_path_buf())
}

/// The config file read when neither `--config` nor `$OPSDECK_CONFIG` is given.
pub fn config_file() -> Option<PathBuf> {
    config_dir().map(|d| d.join("config.toml"))
}

/// User themes: `<config dir>/themes/NAME.toml`.
pub fn themes_dir() -> Option<PathBuf> {
    config_dir().map(|d| d.join("themes"))
}

/// `~/.local/share/opsdeck` on Linux: the state store and opsdeck's own log.
pub fn data_dir() -> Option<PathBuf> {
    dirs().map(|d| d.data_dir().to_path_buf())
}
