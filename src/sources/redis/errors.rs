//! redis-rs errors as one line an operator can act on ("connection refused",
//! "no permission to run INFO: grant +info to user \"mon\""), never with the
//! password in it.

use std::time::Duration;

use ::redis::{ErrorKind, RedisError};

/// Who was asking, for messages.
#[derive(Debug, Clone)]
pub struct Asker {
    /// The ACL user, `None` for `default`.
    pub user: Option<String>,
    /// The poll timeout, quoted when the server did not answer in time.
    pub timeout: Duration,
}

impl Asker {
    fn user_name(&self) -> &str {
        self.user.as_deref().unwrap_or("default")
    }

    /// "no answer within 2s".
    pub fn no_answer(&self) -> String {
        format!("no answer within {}", humantime::format_duration(self.timeout))
    }
}

/// `err` from running `command` (e.g. `"INFO"`; `acl` its ACL name, e.g.
/// `"info"`, `"config|get"`) as one line.
pub fn describe(err: &RedisError, command: &str, acl: &str, asker: &Asker) -> String {
    let user = asker.user_name();
    if let Some((code, detail)) = server_error(err) {
        return match code.as_str() {
            "NOAUTH" => "authentication required: set password_env, password_file or password_command".into(),
            "WRONGPASS" => format!("password authentication failed for user {user:?}"),
            "NOPERM" => format!("no permission to run {command}: grant +{acl} to user {user:?}"),
            "LOADING" => "the server is loading its dataset; try again shortly".into(),
            _ => one_line(&format!("{code} {detail}")),
        };
    }
    if err.kind() == ErrorKind::AuthenticationFailed {
        return format!("password authentication failed for user {user:?}");
    }
    if err.is_timeout() {
        return asker.no_answer();
    }
    if err.is_connection_refusal() {
        // A Unix socket that does not exist is reported as a refusal too.
        return "connection refused".into();
    }
    if err.is_connection_dropped() {
        return "connection closed by the server".into();
    }
    if err.kind() == ErrorKind::Parse {
        return "the answer is not the Redis protocol: is this a Redis port (or does it want TLS)?".into();
    }
    let text = err.to_string();
    if text.contains("UnknownIssuer") {
        return "TLS: the server's certificate is not signed by a trusted CA: set ca_file".into();
    }
    if text.contains("peer certificate") {
        return format!("TLS: {}", one_line(&text));
    }
    if err.kind() == ErrorKind::InvalidClientConfig && text.contains("insecure") {
        return "tls = \"require\" (TLS without a certificate check) is not available for redis in this \
                build: use tls = \"verify\" with ca_file"
            .into();
    }
    one_line(&text)
}

/// The code and text of the error the server answered, also when it came
/// inside a pipeline's answer (where `RedisError::code` does not see codes
/// redis-rs has no name for, like `NOAUTH`).
fn server_error(err: &RedisError) -> Option<(String, String)> {
    let errors = err.clone().into_server_errors()?;
    let (_, first) = errors.first()?;
    Some((first.code().to_owned(), first.details().unwrap_or_default().to_owned()))
}

/// The first non-empty line, cut at 200 characters: a server's or a TLS
/// library's message can be long or span lines.
pub fn one_line(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("unknown error");
    if line.chars().count() <= 200 {
        return line.to_owned();
    }
    let mut cut: String = line.chars().take(200).collect();
    cut.push('…');
    cut
}

/// `text` with every occurrence of `secret` masked. A last line of defence:
/// no Redis or redis-rs message is known to quote a password, but an error
/// is shown on screen and in the log.
pub fn scrub(text: String, secret: Option<&str>) -> String {
    match secret {
        Some(s) if !s.is_empty() && text.contains(s) => text.replace(s, "••••"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asker() -> Asker {
        Asker { user: Some("mon".into()), timeout: Duration::from_secs(2) }
    }

    fn server_error(code: &str, detail: &str) -> RedisError {
        ::redis::make_extension_error(code.to_owned(), Some(detail.to_owned()))
    }

    #[test]
    fn server_refusals_name_the_grant_or_the_setting_to_change() {
        let noperm = server_error("NOPERM", "this user has no permissions to run the 'info' command");
        assert_eq!(
            describe(&noperm, "INFO", "info", &asker()),
            "no permission to run INFO: grant +info to user \"mon\""
        );
        let noauth = server_error("NOAUTH", "Authentication required.");
        assert!(describe(&noauth, "INFO", "info", &asker()).starts_with("authentication required"));
        let wrongpass = server_error("WRONGPASS", "invalid username-password pair or user is disabled.");
        let default_user = Asker { user: None, timeout: Duration::from_secs(2) };
        assert_eq!(
            describe(&wrongpass, "AUTH", "auth", &default_user),
            "password authentication failed for user \"default\""
        );
    }

    #[test]
    fn io_failures_are_short() {
        let refused: RedisError = std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into();
        assert_eq!(describe(&refused, "INFO", "info", &asker()), "connection refused");
        let timed_out: RedisError = std::io::Error::from(std::io::ErrorKind::TimedOut).into();
        assert_eq!(describe(&timed_out, "INFO", "info", &asker()), "no answer within 2s");
        let reset: RedisError = std::io::Error::from(std::io::ErrorKind::ConnectionReset).into();
        assert_eq!(describe(&reset, "INFO", "info", &asker()), "connection closed by the server");
        let tls: RedisError =
            std::io::Error::other("invalid peer certificate: NotValidForName\nmore detail").into();
        assert_eq!(
            describe(&tls, "AUTH", "auth", &asker()),
            "TLS: invalid peer certificate: NotValidForName"
        );
    }

    #[test]
    fn long_or_multi_line_messages_become_one_line() {
        assert_eq!(one_line("\n  first line \nsecond"), "first line");
        let long = "x".repeat(300);
        assert_eq!(one_line(&long).chars().count(), 201);
        assert_eq!(one_line(""), "unknown error");
    }

    #[test]
    fn scrub_masks_the_secret() {
        assert_eq!(scrub("bad pass S3cret here".into(), Some("S3cret")), "bad pass •••• here");
        assert_eq!(scrub("fine".into(), Some("")), "fine");
        assert_eq!(scrub("fine".into(), None), "fine");
    }
}
