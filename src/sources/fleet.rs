//! Fleet sources. Skeleton: being written.
