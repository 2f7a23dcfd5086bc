//! The Logs tab's engine: following files across rotation, reading lines
//! safely (bounded, decoded, made inert), and understanding them (level,
//! time, JSON fields, multi-line records), and counting them by their own
//! time.

pub mod buffer;
pub mod follow;
pub mod line;
pub mod rate;
