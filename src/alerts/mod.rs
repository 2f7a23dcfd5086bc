//! The Alerts tab's pure logic: one model for every source, severity mapping,
//! Alertmanager-style matchers, the deduplicated and grouped queue the tab
//! draws, and opsdeck's own threshold rules. No I/O happens here: pollers
//! hand lists in, the UI reads views out.

pub mod history;
pub mod matcher;
pub mod model;
pub mod queue;
pub mod rules;
pub mod severity;
