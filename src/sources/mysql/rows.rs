//! Running statements and reading their rows as text.
//!
//! `SHOW …` and replication control statements go over the text protocol
//! (`raw_sql`), not as prepared statements: which of them may be prepared
//! differs between MySQL and MariaDB versions, and nothing is bound into
//! them. Plain `SELECT`s use `sqlx::query`.

use sqlx::mysql::{MySqlConnection, MySqlRow};
use sqlx::{AssertSqlSafe, Column, Row};

/// One row as `(column name, text value)` in server order; `None` is NULL.
pub type TextRow = Vec<(String, Option<String>)>;

/// Every row of a `SHOW` statement.
pub async fn show(conn: &mut MySqlConnection, sql: &'static str) -> Result<Vec<TextRow>, sqlx::Error> {
    let rows = sqlx::raw_sql(sql).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(columns).collect())
}

/// Run a statement that returns no rows. `sql` is built only from fixed
/// words and `flavor::quote_string` literals.
pub async fn execute(conn: &mut MySqlConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut *conn).await.map(|_| ())
}

/// Every column of `row`, decoded by name.
pub fn columns(row: &MySqlRow) -> TextRow {
    row.columns().iter().map(|c| (c.name().to_owned(), text(row, c.name()))).collect()
}

/// A column as text, whatever its type: strings as they are, integers
/// (`Seconds_Behind_Master`, `@@read_only`) and decimals printed. A value
/// that decodes as nothing known is `None`, like NULL.
pub fn text(row: &MySqlRow, name: &str) -> Option<String> {
    if let Ok(v) = row.try_get::<Option<String>, _>(name) {
        return v;
    }
    if let Ok(v) = row.try_get::<Option<i64>, _>(name) {
        return v.map(|n| n.to_string());
    }
    if let Ok(v) = row.try_get::<Option<u64>, _>(name) {
        return v.map(|n| n.to_string());
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(name) {
        return v.map(|n| n.to_string());
    }
    // Text-protocol values of other types (DECIMAL, dates) are still text.
    row.try_get_unchecked::<Option<String>, _>(name).ok().flatten()
}
