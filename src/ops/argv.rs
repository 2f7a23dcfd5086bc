//! `{placeholders}` in an action's argv, filled per argument from the pinned
//! target's fields. There is no shell anywhere: a value such as `; rm -rf /`,
//! `$(reboot)`, a newline or a leading `-` stays one literal argument.

use std::collections::BTreeMap;

/// Fill `{name}` in each argument from `fields`; `{{` and `}}` are literal
/// braces. An unknown or unclosed placeholder is an error naming it, so a
/// typo in the config can never run a command with a hole in it.
pub fn render(template: &[String], fields: &BTreeMap<String, String>) -> Result<Vec<String>, String> {
    if template.is_empty() {
        return Err("argv is empty".into());
    }
    template.iter().map(|arg| render_one(arg, fields)).collect()
}

fn render_one(arg: &str, fields: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(arg.len());
    let mut chars = arg.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err(format!("argument {arg:?}: unclosed placeholder {{{name}")),
                    }
                }
                let value = fields.get(&name).ok_or_else(|| {
                    let known = fields.keys().map(String::as_str).collect::<Vec<_>>().join(", ");
                    format!("argument {arg:?}: unknown placeholder {{{name}}} (this target has: {known})")
                })?;
                out.push_str(value);
            }
            '}' => return Err(format!("argument {arg:?}: lone '}}' (write '}}}}' for a literal brace)")),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn argv(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn fills_each_argument_without_splitting() {
        let f = fields(&[("service", "nginx; rm -rf /"), ("host", "db1")]);
        let got = render(&argv(&["systemctl", "restart", "{service}", "--host={host}"]), &f).unwrap();
        assert_eq!(got, ["systemctl", "restart", "nginx; rm -rf /", "--host=db1"]);
    }

    #[test]
    fn braces_escape_and_errors_name_the_placeholder() {
        let f = fields(&[("name", "x")]);
        assert_eq!(render(&argv(&["{{literal}} {name}"]), &f).unwrap(), ["{literal} x"]);
        let err = render(&argv(&["echo", "{nmae}"]), &f).unwrap_err();
        assert!(err.contains("unknown placeholder {nmae}") && err.contains("has: name"), "{err}");
        assert!(render(&argv(&["a}b"]), &f).unwrap_err().contains("lone '}'"));
        assert!(render(&argv(&["{name"]), &f).is_err(), "unclosed placeholder");
        assert!(render(&[], &f).unwrap_err().contains("empty"));
    }
}
