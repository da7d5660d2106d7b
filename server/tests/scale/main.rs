//! Several real `qrlogin-server` processes sharing Redis and PostgreSQL, and
//! what happens when a part of that fails: an instance restarts or is killed,
//! Redis or PostgreSQL becomes unreachable.
//!
//! Helpers: [`Server`] (a child process of the built binary), [`OwnRedis`]
//! (a throw-away `redis-server` on a free port, for killing), [`PgProxy`] (a
//! TCP proxy to PostgreSQL that the test can cut), [`fresh_database`].

mod faults;
mod multi_instance;
mod support;

pub use support::*;
