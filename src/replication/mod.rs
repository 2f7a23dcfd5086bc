//! The Replication tab's data: what each member says (`model`), filled by
//! the PostgreSQL, MySQL/MariaDB and Redis sources.

pub mod judge;
pub mod model;
pub mod topology;
