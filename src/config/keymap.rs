//! The keymap is data: `[keys]` in the config maps action names to key
//! strings such as `"q"`, `"ctrl-c"`, `"shift-tab"`. User entries replace the
//! defaults for that action; a key bound to two actions is a config error.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Deserializer};

use crate::action::Action;

/// One key with its modifiers, normalised so that a typed `G` and the
/// string `"G"` compare equal whatever the terminal says about Shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeySpec {
    code: KeyCodeOrd,
    ctrl: bool,
    alt: bool,
}

/// `KeyCode` is not `Ord`; we keep only the keys a keymap can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyCodeOrd {
    Char(char),
    F(u8),
    Named(NamedKey),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum NamedKey {
    Esc,
    Enter,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
}

const NAMED: [(&str, NamedKey); 15] = [
    ("esc", NamedKey::Esc),
    ("enter", NamedKey::Enter),
    ("tab", NamedKey::Tab),
    ("shift-tab", NamedKey::BackTab),
    ("backspace", NamedKey::Backspace),
    ("delete", NamedKey::Delete),
    ("insert", NamedKey::Insert),
    ("up", NamedKey::Up),
    ("down", NamedKey::Down),
    ("left", NamedKey::Left),
    ("right", NamedKey::Right),
    ("home", NamedKey::Home),
    ("end", NamedKey::End),
    ("pageup", NamedKey::PageUp),
    ("pagedown", NamedKey::PageDown),
];

impl KeySpec {
    /// The spec for a key event from the terminal, if it is one a keymap can name.
    pub fn from_event(ev: &KeyEvent) -> Option<KeySpec> {
        let code = match ev.code {
            KeyCode::Char(' ') => KeyCodeOrd::Char(' '),
            KeyCode::Char(c) => KeyCodeOrd::Char(c),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            KeyCode::Esc => KeyCodeOrd::Named(NamedKey::Esc),
            KeyCode::Enter => KeyCodeOrd::Named(NamedKey::Enter),
            KeyCode::Tab => KeyCodeOrd::Named(NamedKey::Tab),
            KeyCode::BackTab => KeyCodeOrd::Named(NamedKey::BackTab),
            KeyCode::Backspace => KeyCodeOrd::Named(NamedKey::Backspace),
            KeyCode::Delete => KeyCodeOrd::Named(NamedKey::Delete),
            KeyCode::Insert => KeyCodeOrd::Named(NamedKey::Insert),
            KeyCode::Up => KeyCodeOrd::Named(NamedKey::Up),
            KeyCode::Down => KeyCodeOrd::Named(NamedKey::Down),
            KeyCode::Left => KeyCodeOrd::Named(NamedKey::Left),
            KeyCode::Right => KeyCodeOrd::Named(NamedKey::Right),
            KeyCode::Home => KeyCodeOrd::Named(NamedKey::Home),
            KeyCode::End => KeyCodeOrd::Named(NamedKey::End),
            KeyCode::PageUp => KeyCodeOrd::Named(NamedKey::PageUp),
            KeyCode::PageDown => KeyCodeOrd::Named(NamedKey::PageDown),
            _ => return None,
        };
        // Shift is carried by the character itself ('G', '?') or by BackTab.
        let code = match code {
            KeyCodeOrd::Char(c) if ev.modifiers.contains(KeyModifiers::CONTROL) => {
                KeyCodeOrd::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        Some(KeySpec {
            code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
            alt: ev.modifiers.contains(KeyModifiers::ALT),
        })
    }
}

impl FromStr for KeySpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut rest = s;
        let (mut ctrl, mut alt) = (false, false);
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = if let Some((_, named)) = NAMED.iter().find(|(name, _)| *name == rest) {
            KeyCodeOrd::Named(*named)
        } else if rest == "space" {
            KeyCodeOrd::Char(' ')
        } else if let Some(n) = rest.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
            if !(1..=24).contains(&n) {
                return Err(format!("key {s:?}: function keys go from f1 to f24"));
            }
            KeyCodeOrd::F(n)
        } else {
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if !c.is_control() => {
                    KeyCodeOrd::Char(if ctrl { c.to_ascii_lowercase() } else { c })
                }
                _ => {
                    return Err(format!(
                        "unknown key {s:?}: use one character, f1..f24, space, or one of {}, \
                         optionally prefixed by ctrl- or alt-",
                        NAMED.map(|(n, _)| n).join(", ")
                    ));
                }
            }
        };
        Ok(KeySpec { code, ctrl, alt })
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCodeOrd::Char(' ') => f.write_str("space"),
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "f{n}"),
            KeyCodeOrd::Named(named) => {
                let name = NAMED.iter().find(|(_, n)| *n == named).map(|(s, _)| *s);
                f.write_str(name.unwrap_or("?"))
            }
        }
    }
}

/// `quit = "q"` or `quit = ["q", "ctrl-c"]` in `[keys]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum KeyList {
    One(String),
    Many(Vec<String>),
}

/// Keys to actions, and actions to keys for the help overlay.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    by_key: HashMap<KeySpec, Action>,
    by_action: BTreeMap<Action, Vec<KeySpec>>,
}

/// The built-in bindings; `config.example.toml` lists the same.
const DEFAULT_BINDINGS: [(Action, &[&str]); 41] = [
    (Action::Quit, &["q", "ctrl-c"]),
    (Action::Suspend, &["ctrl-z"]),
    (Action::Redraw, &["ctrl-l"]),
    (Action::NextTab, &["tab"]),
    (Action::PrevTab, &["shift-tab"]),
    (Action::TabMetrics, &["1"]),
    (Action::TabAlerts, &["2"]),
    (Action::TabReplication, &["3"]),
    (Action::TabBackups, &["4"]),
    (Action::TabLogs, &["5"]),
    (Action::ToggleHelp, &["?"]),
    (Action::ToggleInternalLog, &["L"]),
    (Action::Up, &["up", "k"]),
    (Action::Down, &["down", "j"]),
    (Action::PageUp, &["pageup", "ctrl-b"]),
    (Action::PageDown, &["pagedown", "ctrl-f"]),
    (Action::Top, &["home", "g"]),
    (Action::Bottom, &["end", "G"]),
    (Action::SortByCpu, &["c"]),
    (Action::SortByMemory, &["m"]),
    (Action::ToggleKernelThreads, &["K"]),
    (Action::Filter, &["/"]),
    (Action::Back, &["esc"]),
    (Action::ActionMenu, &["x"]),
    (Action::CommandLine, &[":"]),
    (Action::ToggleArm, &["A"]),
    (Action::ToggleAudit, &["a"]),
    (Action::ToggleQuiet, &["s"]),
    (Action::Open, &["enter"]),
    (Action::Search, &["f"]),
    (Action::SearchNext, &["n"]),
    (Action::SearchPrev, &["N"]),
    (Action::ToggleFollow, &["F"]),
    (Action::ToggleWrap, &["w"]),
    (Action::ScrollLeft, &["h"]),
    (Action::ScrollRight, &["l"]),
    (Action::CopyLine, &["y"]),
    (Action::CycleSource, &["o"]),
    (Action::CycleLevel, &["e"]),
    (Action::SwitchPane, &["p"]),
    (Action::Jump, &["J"]),
];

impl Default for Keymap {
    fn default() -> Self {
        let bindings = DEFAULT_BINDINGS.iter().map(|(action, keys)| {
            let specs = keys.iter().filter_map(|k| k.parse().ok()).collect();
            (*action, specs)
        });
        // The defaults are tested to parse and to be free of duplicates.
        Keymap::build(bindings.collect())
            .unwrap_or_else(|_| Keymap { by_key: HashMap::new(), by_action: BTreeMap::new() })
    }
}

impl Keymap {
    fn build(by_action: BTreeMap<Action, Vec<KeySpec>>) -> Result<Keymap, String> {
        let mut by_key = HashMap::new();
        for (action, keys) in &by_action {
            for key in keys {
                if let Some(other) = by_key.insert(*key, *action)
                    && other != *action
                {
                    return Err(format!(
                        "key \"{key}\" is bound to both {} and {}",
                        other.config_name(),
                        action.config_name()
                    ));
                }
            }
        }
        Ok(Keymap { by_key, by_action })
    }

    /// The defaults with `overrides` replacing whole entries.
    fn with_overrides(overrides: BTreeMap<Action, KeyList>) -> Result<Keymap, String> {
        let mut by_action = Keymap::default().by_action;
        for (action, list) in overrides {
            let strings = match list {
                KeyList::One(s) => vec![s],
                KeyList::Many(v) => v,
            };
            let specs = strings
                .iter()
                .map(|s| s.parse::<KeySpec>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{}: {e}", action.config_name()))?;
            by_action.insert(action, specs);
        }
        Keymap::build(by_action)
    }

    /// The action bound to a key event, if any.
    pub fn action_for(&self, ev: &KeyEvent) -> Option<Action> {
        KeySpec::from_event(ev).and_then(|k| self.by_key.get(&k).copied())
    }

    /// The action a key is bound to, if any.
    pub fn bound_to(&self, key: KeySpec) -> Option<Action> {
        self.by_key.get(&key).copied()
    }

    /// The keys bound to an action, in the order they were given.
    pub fn keys_for(&self, action: Action) -> &[KeySpec] {
        self.by_action.get(&action).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The one key to name in a short hint: the shortest spelling ("j" over
    /// "down", "?" for help); "unbound" when there is none.
    pub fn hint(&self, action: Action) -> String {
        let shortest =
            self.keys_for(action).iter().map(ToString::to_string).min_by_key(|k| k.chars().count());
        shortest.unwrap_or_else(|| "unbound".into())
    }

    /// "q, ctrl-c" for the help overlay and hints; "unbound" when empty.
    pub fn describe(&self, action: Action) -> String {
        let keys = self.keys_for(action);
        if keys.is_empty() {
            return "unbound".into();
        }
        keys.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}

impl<'de> Deserialize<'de> for Keymap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let overrides = BTreeMap::<Action, KeyList>::deserialize(deserializer)?;
        Keymap::with_overrides(overrides).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    fn keymap(toml_src: &str) -> Result<Keymap, String> {
        toml::from_str::<Keymap>(toml_src).map_err(|e| e.message().to_owned())
    }

    #[test]
    fn defaults_parse_and_have_no_duplicates() {
        for (action, keys) in DEFAULT_BINDINGS {
            for k in keys {
                assert!(k.parse::<KeySpec>().is_ok(), "{action:?}: {k}");
            }
        }
        let flat: BTreeMap<_, _> = DEFAULT_BINDINGS
            .iter()
            .map(|(a, ks)| (*a, ks.iter().map(|k| k.parse().unwrap()).collect()))
            .collect();
        assert!(Keymap::build(flat).is_ok());
        for action in Action::ALL {
            assert!(!Keymap::default().keys_for(action).is_empty(), "{action:?} unbound");
        }
    }

    #[test]
    fn key_strings_round_trip() {
        for s in ["q", "ctrl-c", "shift-tab", "f5", "space", "alt-x", "G", "?", "pagedown"] {
            let spec: KeySpec = s.parse().unwrap();
            assert_eq!(spec.to_string(), s);
        }
    }

    #[test]
    fn bad_key_strings_are_rejected_with_the_string() {
        for s in ["ctrl-", "f99", "hyper-x", "qq", ""] {
            let err = s.parse::<KeySpec>().unwrap_err();
            assert!(err.contains(&format!("{s:?}")), "{err}");
        }
    }

    #[test]
    fn events_match_specs_whatever_the_terminal_says_about_shift() {
        let km = Keymap::default();
        let cases = [
            (key(KeyCode::Char('q'), KeyModifiers::NONE), Some(Action::Quit)),
            (key(KeyCode::Char('c'), KeyModifiers::CONTROL), Some(Action::Quit)),
            (key(KeyCode::Char('G'), KeyModifiers::SHIFT), Some(Action::Bottom)),
            (key(KeyCode::Char('g'), KeyModifiers::NONE), Some(Action::Top)),
            (key(KeyCode::Char('?'), KeyModifiers::SHIFT), Some(Action::ToggleHelp)),
            (key(KeyCode::BackTab, KeyModifiers::SHIFT), Some(Action::PrevTab)),
            (key(KeyCode::Char('3'), KeyModifiers::NONE), Some(Action::TabReplication)),
            (key(KeyCode::Char('z'), KeyModifiers::NONE), None),
            (key(KeyCode::Char('q'), KeyModifiers::ALT), None),
        ];
        for (ev, want) in cases {
            assert_eq!(km.action_for(&ev), want, "{ev:?}");
        }
    }

    #[test]
    fn overrides_replace_the_default_for_that_action() {
        let km = keymap(r#"quit = "Q""#).unwrap();
        assert_eq!(km.action_for(&key(KeyCode::Char('Q'), KeyModifiers::SHIFT)), Some(Action::Quit));
        assert_eq!(km.action_for(&key(KeyCode::Char('q'), KeyModifiers::NONE)), None);
        assert_eq!(km.describe(Action::Quit), "Q");
        let km = keymap(r#"quit = []"#).unwrap();
        assert_eq!(km.describe(Action::Quit), "unbound");
        assert_eq!(km.hint(Action::Quit), "unbound");
        assert_eq!(km.hint(Action::Down), "j");
        assert_eq!(km.hint(Action::ToggleHelp), "?");
    }

    #[test]
    fn duplicates_are_rejected_naming_both_actions() {
        let err = keymap(r#"sort_by_cpu = "q""#).unwrap_err();
        assert_eq!(err, r#"key "q" is bound to both quit and sort_by_cpu"#);
        let err = keymap(r#"up = ["k", "down"]"#).unwrap_err();
        assert!(err.contains(r#"key "down" is bound to both"#), "{err}");
    }

    #[test]
    fn unknown_actions_and_keys_are_rejected() {
        let err = keymap(r#"launch_missiles = "l""#).unwrap_err();
        assert!(err.contains("unknown variant `launch_missiles`"), "{err}");
        let err = keymap(r#"quit = "ctrl-hyper""#).unwrap_err();
        assert!(err.starts_with("quit: unknown key"), "{err}");
    }
}
