//! Dev-only helpers shared by the server's and the client's tests and by the
//! benchmarks, so that each starts what it needs the same way. Never a
//! dependency of a shipped crate.

pub mod postgres;
pub mod process;
pub mod sse;
