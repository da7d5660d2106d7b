//! Helpers: a real server process, a request recorder, the CLI binary.

pub mod cli;
pub mod recorder;
pub mod server;

pub use cli::Cli;
pub use recorder::Recorder;
pub use server::TestServer;
