//! Plain data that sources produce and views read. Nothing here knows about
//! the terminal or about how the data was fetched.

pub mod history;
pub mod metrics;
