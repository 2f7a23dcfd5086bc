//! Polls `[[health]]` checks. Skeleton: being written.
