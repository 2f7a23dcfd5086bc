//! sqlx errors as one line an operator can act on. The pool's own messages
//! ("pool timed out while waiting for an open connection") say nothing about
//! the server; the server's say too much (several lines, sometimes quoting
//! the statement). Every message passes `scrub` last, so even a server that
//! echoes the password cannot leak it.

use sqlx::mysql::MySqlDatabaseError;

use crate::config::secret::SecretValue;

/// MySQL/MariaDB error numbers that mean "not allowed" rather than "broken":
/// 1227 ER_SPECIFIC_ACCESS_DENIED_ERROR (SHOW REPLICA STATUS without
/// REPLICATION CLIENT), 1142/1143 table/column access denied, 1044 database
/// access denied.
const PERMISSION_ERRORS: &[u16] = &[1044, 1142, 1143, 1227];

/// 1146 ER_NO_SUCH_TABLE, 1049 ER_BAD_DB_ERROR.
const MISSING_TABLE_ERRORS: &[u16] = &[1049, 1146];

/// The server's error number, when the server answered with an error.
pub fn server_errno(e: &sqlx::Error) -> Option<u16> {
    e.as_database_error()?.try_downcast_ref::<MySqlDatabaseError>().map(MySqlDatabaseError::number)
}

/// The server refused this statement to this user; the connection is fine.
pub fn is_permission(e: &sqlx::Error) -> bool {
    server_errno(e).is_some_and(|n| PERMISSION_ERRORS.contains(&n))
}

/// The table (or its database) does not exist.
pub fn is_missing_table(e: &sqlx::Error) -> bool {
    server_errno(e).is_some_and(|n| MISSING_TABLE_ERRORS.contains(&n))
}

/// The server answered (with an error): the statement failed, the session did
/// not. Anything else (IO, TLS, protocol, pool) means the member is unreachable.
pub fn is_statement_error(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(_))
}

/// One line for an operator, never containing `password`.
pub fn describe(e: &sqlx::Error, user: &str, password: Option<&SecretValue>) -> String {
    let text = match e {
        sqlx::Error::Database(db) => match server_errno(e) {
            Some(1045) => format!(
                "access denied for user \"{user}\" (wrong password, or the user may not log in from this host)"
            ),
            Some(n) if PERMISSION_ERRORS.contains(&n) => format!("no permission: {}", db.message()),
            Some(n) => format!("{} (error {n})", db.message()),
            None => db.message().to_owned(),
        },
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
            std::io::ErrorKind::NotFound => "no such socket file".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied opening the socket".to_owned(),
            std::io::ErrorKind::TimedOut => "connection timed out".to_owned(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof => {
                "the server closed the connection".to_owned()
            }
            _ => format!("network error: {io}"),
        },
        sqlx::Error::Tls(tls) => format!("TLS: {tls}"),
        sqlx::Error::Configuration(c) => format!("bad connection settings: {c}"),
        sqlx::Error::Protocol(p) => format!("protocol error: {p}"),
        sqlx::Error::PoolTimedOut => "no connection became available in time".to_owned(),
        other => other.to_string(),
    };
    scrub(&text, password)
}

/// Collapse to one line and blank out the password wherever it appears.
pub fn scrub(text: &str, password: Option<&SecretValue>) -> String {
    let mut line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(pw) = password.map(SecretValue::expose).filter(|p| !p.is_empty()) {
        line = line.replace(pw, "••••");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_without_the_password() {
        let pw = SecretValue::new("hunter2".into());
        assert_eq!(scrub("bad\n  hunter2 there", Some(&pw)), "bad •••• there");
        assert_eq!(scrub("x", None), "x");
        let refused = sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert_eq!(describe(&refused, "monitor", Some(&pw)), "connection refused");
        assert!(!is_statement_error(&refused));
        assert!(!is_permission(&refused));
        let tls = sqlx::Error::Tls("certificate expired:\nhunter2".into());
        assert_eq!(describe(&tls, "monitor", Some(&pw)), "TLS: certificate expired: ••••");
    }
}
