//! sqlx errors as one line an operator can act on ("connection refused",
//! "password authentication failed for user \"x\"", "no permission: …"),
//! and whether an error ends the poll or only one part of it.

use std::io::ErrorKind;

/// What a failed query means for the poll.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Severity {
    /// The server refused this one query (a permission, a missing view): the
    /// rest of the status is still good, so it becomes a warning.
    Query,
    /// The connection is gone or unusable: the poll fails.
    Connection,
}

/// Classes of SQLSTATE that mean the session itself is over or was never
/// allowed: connection exceptions, operator intervention (shutdown, starting
/// up), invalid authorization, insufficient resources, unknown database.
const SESSION_CLASSES: [&str; 5] = ["08", "57", "28", "53", "3D"];

pub(super) fn severity(err: &sqlx::Error) -> Severity {
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if SESSION_CLASSES.iter().any(|class| code.starts_with(class)) && code != "57014" {
                // 57014 is a statement cancelled by statement_timeout: one slow query, not a dead session.
                Severity::Connection
            } else {
                Severity::Query
            }
        }
        sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::RowNotFound => Severity::Query,
        _ => Severity::Connection,
    }
}

/// The SQLSTATE, when the server sent one.
pub(super) fn sqlstate(err: &sqlx::Error) -> Option<String> {
    err.as_database_error().and_then(|db| db.code()).map(|c| c.into_owned())
}

/// Permission denied (`42501`).
pub(super) fn is_permission_denied(err: &sqlx::Error) -> bool {
    sqlstate(err).as_deref() == Some("42501")
}

/// One line, no driver prefixes. The caller scrubs the password (see
/// `PgMember::explain`), though none of these texts should contain it.
pub(super) fn describe(err: &sqlx::Error) -> String {
    let text = match err {
        sqlx::Error::Database(db) if is_permission_denied(err) => format!("no permission: {}", db.message()),
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(e) => match e.kind() {
            ErrorKind::ConnectionRefused => "connection refused".to_owned(),
            ErrorKind::NotFound => "no server socket there (is PostgreSQL running?)".to_owned(),
            ErrorKind::TimedOut => "connection timed out".to_owned(),
            ErrorKind::ConnectionReset => "connection reset by the server".to_owned(),
            ErrorKind::UnexpectedEof => "the server closed the connection".to_owned(),
            _ => e.to_string(),
        },
        sqlx::Error::Tls(e) => format!("TLS: {e}"),
        sqlx::Error::Protocol(p) => format!("protocol error: {p}"),
        sqlx::Error::Configuration(e) => format!("bad connection settings: {e}"),
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".to_owned(),
        sqlx::Error::PoolClosed => "the connection pool is closed".to_owned(),
        sqlx::Error::ColumnNotFound(c) => format!("unexpected answer: no column {c}"),
        sqlx::Error::ColumnDecode { index, source } => {
            format!("unexpected answer in column {index}: {source}")
        }
        other => other.to_string(),
    };
    one_line(&text)
}

/// Lines joined, whitespace collapsed, long texts cut: a status cell is one line.
pub(super) fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() > 300 { joined.chars().take(299).chain(['…']).collect() } else { joined }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_as_what_happened() {
        let refused = sqlx::Error::Io(std::io::Error::from(ErrorKind::ConnectionRefused));
        assert_eq!(describe(&refused), "connection refused");
        assert_eq!(severity(&refused), Severity::Connection);
        assert_eq!(severity(&sqlx::Error::PoolTimedOut), Severity::Connection);
        assert_eq!(severity(&sqlx::Error::ColumnNotFound("x".into())), Severity::Query);
    }

    #[test]
    fn texts_become_one_short_line() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
        let long = "x ".repeat(400);
        assert_eq!(one_line(&long).chars().count(), 300);
    }
}
