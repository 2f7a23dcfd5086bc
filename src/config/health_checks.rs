//! `[[health]]`: HTTP health checks (the handbooks' `/health` and `/ready`).
//! Skeleton: being written.
