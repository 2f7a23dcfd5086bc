//! Themes: built-in ones from `themes/*.toml`, embedded at build time, and the
//! user's from `<config dir>/themes/NAME.toml`, which override a built-in of
//! the same name or add a new one. A user theme may `inherits = "dark"` and
//! set only what it changes. Each entry is a style string such as
//! `"black on #7aa2f7 bold"`. A theme that fails to parse is an error with
//! line and column, never a silent fallback.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::config::ConfigError;

/// The built-in themes, in the order `--help` lists them.
pub const BUILT_IN: [(&str, &str); 4] = [
    ("dark", include_str!("../themes/dark.toml")),
    ("light", include_str!("../themes/light.toml")),
    ("high-contrast", include_str!("../themes/high-contrast.toml")),
    ("mono", include_str!("../themes/mono.toml")),
];

/// A parsed style string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StyleSpec(pub Style);

impl FromStr for StyleSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut style = Style::default();
        let mut words = s.split_whitespace();
        while let Some(word) = words.next() {
            let modifier = match word {
                "bold" => Some(Modifier::BOLD),
                "dim" => Some(Modifier::DIM),
                "italic" => Some(Modifier::ITALIC),
                "underlined" => Some(Modifier::UNDERLINED),
                "reversed" => Some(Modifier::REVERSED),
                _ => None,
            };
            if let Some(m) = modifier {
                style = style.add_modifier(m);
            } else if word == "on" {
                let bg =
                    words.next().ok_or_else(|| format!("style {s:?}: \"on\" needs a colour after it"))?;
                style = style.bg(parse_color(s, bg)?);
            } else {
                style = style.fg(parse_color(s, word)?);
            }
        }
        Ok(StyleSpec(style))
    }
}

fn parse_color(style: &str, word: &str) -> Result<Color, String> {
    Color::from_str(word).map_err(|_| {
        format!(
            "style {style:?}: {word:?} is not a colour or modifier (colours: names like \"red\", \
             \"#rrggbb\", 0-255, \"reset\"; modifiers: bold dim italic underlined reversed)"
        )
    })
}

impl<'de> Deserialize<'de> for StyleSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

macro_rules! theme_fields {
    ($($(#[doc = $doc:literal])* $field:ident),* $(,)?) => {
        /// Resolved styles every view draws with.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            /// The name it was selected by.
            pub name: String,
            $($(#[doc = $doc])* pub $field: Style,)*
        }

        /// A theme file as written; every entry optional so user themes can inherit.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ThemeFile {
            inherits: Option<String>,
            $($field: Option<StyleSpec>,)*
        }

        impl ThemeFile {
            /// Fill what this file leaves out from `base`.
            fn over(self, base: &Theme, name: &str) -> Theme {
                Theme {
                    name: name.to_owned(),
                    $($field: self.$field.map_or(base.$field, |s| s.0),)*
                }
            }

            /// Names of the entries a standalone theme lacks.
            fn missing(&self) -> Vec<&'static str> {
                let mut v = Vec::new();
                $(if self.$field.is_none() { v.push(stringify!($field)); })*
                v
            }

            fn complete(self, name: &str) -> Theme {
                let base = Theme { name: String::new(), $($field: Style::default(),)* };
                self.over(&base, name)
            }
        }

        impl Theme {
            fn map_styles(mut self, f: impl Fn(Style) -> Style) -> Theme {
                $(self.$field = f(self.$field);)*
                self
            }
        }
    };
}

theme_fields! {
    /// Ordinary text.
    text,
    /// Secondary text: labels, units, hints.
    muted,
    /// Pane borders.
    border,
    /// Pane titles.
    title,
    /// Things to notice that are not problems: keys in hints, the filter.
    accent,
    /// The current tab's title.
    tab_active,
    /// Other tabs' titles.
    tab_inactive,
    /// The selected row; must stay visible without colour.
    selection,
    /// Table header rows.
    header,
    /// A value within its thresholds, a healthy source.
    ok,
    /// A value above its warning threshold, a stale source.
    warning,
    /// A value above its critical threshold, a failing source.
    critical,
    /// The status bar.
    status_bar,
    /// The READ-ONLY badge.
    read_only,
    /// CPU history.
    chart_cpu,
    /// Memory history.
    chart_memory,
    /// Network received.
    chart_net_rx,
    /// Network sent.
    chart_net_tx,
    /// Disk read.
    chart_disk_read,
    /// Disk written.
    chart_disk_write,
}

impl Theme {
    /// Load a theme by name: the user's file first, else a built-in.
    /// `truecolor` false maps RGB colours to the 256-colour palette.
    pub fn load(name: &str, user_dir: Option<&Path>, truecolor: bool) -> Result<Theme, ConfigError> {
        let theme = match user_dir.map(|d| d.join(format!("{name}.toml"))).filter(|p| p.is_file()) {
            Some(path) => load_user(name, &path)?,
            None => built_in(name).ok_or_else(|| {
                ConfigError::plain(
                    Path::new(&format!("theme {name:?}")),
                    format!(
                        "no such theme; built in: {}{}",
                        BUILT_IN.map(|(n, _)| n).join(", "),
                        user_dir.map(|d| format!("; or add {}/{name}.toml", d.display())).unwrap_or_default()
                    ),
                )
            })??,
        };
        Ok(if truecolor { theme } else { theme.map_styles(to_256) })
    }
}

fn built_in(name: &str) -> Option<Result<Theme, ConfigError>> {
    let (_, src) = BUILT_IN.iter().find(|(n, _)| *n == name)?;
    let path = PathBuf::from(format!("themes/{name}.toml (built in)"));
    Some(parse_file(src, &path).and_then(|file| {
        let missing = file.missing();
        if !missing.is_empty() {
            return Err(ConfigError::at(
                &path,
                src,
                0..0,
                format!("missing entries: {}", missing.join(", ")),
            ));
        }
        Ok(file.complete(name))
    }))
}

fn load_user(name: &str, path: &Path) -> Result<Theme, ConfigError> {
    let src = std::fs::read_to_string(path).map_err(|e| ConfigError::io(path, &e))?;
    let file = parse_file(&src, path)?;
    // A user theme named like a built-in inherits from it unless told otherwise.
    let base_name = file
        .inherits
        .clone()
        .unwrap_or_else(|| if built_in(name).is_some() { name.to_owned() } else { "dark".to_owned() });
    let base = match built_in(&base_name) {
        Some(base) => base?,
        None => {
            return Err(ConfigError::plain(
                path,
                format!(
                    "inherits {base_name:?}, which is not a built-in theme ({})",
                    BUILT_IN.map(|(n, _)| n).join(", ")
                ),
            ));
        }
    };
    Ok(file.over(&base, name))
}

fn parse_file(src: &str, path: &Path) -> Result<ThemeFile, ConfigError> {
    toml::from_str(src).map_err(|e| ConfigError::toml(path, src, &e))
}

/// Whether the terminal advertises 24-bit colour (`COLORTERM`).
pub fn terminal_has_truecolor() -> bool {
    std::env::var("COLORTERM").is_ok_and(|v| v == "truecolor" || v == "24bit")
}

/// `NO_COLOR` set to anything non-empty asks for no colour (no-color.org).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

fn to_256(style: Style) -> Style {
    let map = |c: Option<Color>| match c {
        Some(Color::Rgb(r, g, b)) => Some(Color::Indexed(rgb_to_256(r, g, b))),
        other => other,
    };
    Style { fg: map(style.fg), bg: map(style.bg), ..style }
}

/// The nearest xterm-256 palette entry: the 6×6×6 cube or the grey ramp,
/// whichever is closer.
pub fn rgb_to_256(r: u8, g: u8, b: u8) -> u8 {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    let nearest_level =
        |v: u8| (0..6).min_by_key(|&i| (i32::from(LEVELS[i]) - i32::from(v)).abs()).unwrap_or(0);
    let (ri, gi, bi) = (nearest_level(r), nearest_level(g), nearest_level(b));
    let cube = (LEVELS[ri], LEVELS[gi], LEVELS[bi]);
    let cube_index = 16 + 36 * ri + 6 * gi + bi;
    let avg = (u32::from(r) + u32::from(g) + u32::from(b)) / 3;
    let grey_step = ((avg.saturating_sub(8)) / 10).min(23);
    let grey_level = (8 + grey_step * 10) as u8;
    let dist = |(cr, cg, cb): (u8, u8, u8)| {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        d(cr, r) + d(cg, g) + d(cb, b)
    };
    if dist((grey_level, grey_level, grey_level)) < dist(cube) {
        (232 + grey_step) as u8
    } else {
        cube_index as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_is_complete_and_parses() {
        for (name, _) in BUILT_IN {
            let t = Theme::load(name, None, true).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(t.name, name);
        }
    }

    #[test]
    fn mono_selection_is_visible_without_colour() {
        let t = Theme::load("mono", None, true).unwrap();
        assert!(t.selection.add_modifier.contains(Modifier::REVERSED));
        for s in [t.text, t.ok, t.warning, t.critical, t.selection] {
            assert_eq!(s.fg, None, "mono sets no colours");
        }
    }

    #[test]
    fn style_strings() {
        let s: StyleSpec = "black on #7aa2f7 bold".parse().unwrap();
        assert_eq!(s.0, Style::new().fg(Color::Black).bg(Color::Rgb(0x7a, 0xa2, 0xf7)).bold());
        assert!("red on".parse::<StyleSpec>().unwrap_err().contains("needs a colour"));
        assert!("blurple".parse::<StyleSpec>().unwrap_err().contains("\"blurple\" is not a colour"));
    }

    #[test]
    fn rgb_maps_to_the_nearest_palette_entry() {
        assert_eq!(rgb_to_256(0, 0, 0), 16);
        assert_eq!(rgb_to_256(255, 255, 255), 231);
        assert_eq!(rgb_to_256(255, 0, 0), 196);
        assert_eq!(rgb_to_256(128, 128, 128), 244);
        let t = Theme::load("dark", None, false).unwrap();
        assert!(!matches!(t.text.fg, Some(Color::Rgb(..))));
    }

    #[test]
    fn user_themes_inherit_and_report_errors_with_position() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.toml"), "inherits = \"light\"\ncritical = \"magenta bold\"\n")
            .unwrap();
        let t = Theme::load("mine", Some(dir.path()), true).unwrap();
        let light = Theme::load("light", None, true).unwrap();
        assert_eq!(t.critical, Style::new().fg(Color::Magenta).bold());
        assert_eq!(t.text, light.text);

        std::fs::write(dir.path().join("dark.toml"), "text = \"white\"\nwarning = \"yelow\"\n").unwrap();
        let err = Theme::load("dark", Some(dir.path()), true).unwrap_err();
        assert_eq!(err.position, Some((2, 11)), "{err}");
        assert!(err.message.contains("\"yelow\" is not a colour"), "{err}");

        let err = Theme::load("nope", Some(dir.path()), true).unwrap_err();
        assert!(err.message.contains("built in: dark, light, high-contrast, mono"), "{err}");
    }
}
