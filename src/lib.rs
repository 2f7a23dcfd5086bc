//! opsdeck: a terminal operations cockpit. The binary is a thin CLI over
//! this library so tests and benchmarks can drive the same code.

pub mod action;
pub mod alerts;
pub mod app;
pub mod backups;
pub mod check;
pub mod cli;
pub mod config;
pub mod logging;
pub mod logs;
pub mod man;
pub mod model;
pub mod ops;
pub mod replication;
pub mod sources;
pub mod store;
pub mod theme;
pub mod tui;
pub mod ui;
