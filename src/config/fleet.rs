//! Fleet config (`[fleet]`, `[[nodes]]`). Skeleton: being written.
