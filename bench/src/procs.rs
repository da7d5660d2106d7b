//! The processes under test: `qrlogin-server` and the hello-world floor,
//! started from release binaries on an ephemeral loopback port and killed
//! on drop; their CPU time is read from `/proc`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use qrlogin_testkit::process::{QRLOGIN_SERVER_MARKER, ServerProcess};
use tokio::process::Command;

/// A running server process (killed on drop).
pub struct Proc {
    process: ServerProcess,
}

impl Proc {
    /// Starts `command` and waits for a stdout line containing `marker`
    /// followed by the bound address.
    async fn start(name: &str, command: Command, marker: &str) -> anyhow::Result<Self> {
        let process = ServerProcess::start(name, command, marker).await?;
        Ok(Self { process })
    }

    /// The address it is bound to.
    pub fn addr(&self) -> SocketAddr {
        self.process.addr
    }

    pub fn pid(&self) -> anyhow::Result<u32> {
        self.process.pid().context("the process has exited")
    }

    /// User + system CPU time used so far.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        cpu_time_of(&format!("/proc/{}/stat", self.pid()?))
    }
}

/// CPU time of this process (the load generator).
pub fn own_cpu_time() -> anyhow::Result<Duration> {
    cpu_time_of("/proc/self/stat")
}

fn cpu_time_of(stat_path: &str) -> anyhow::Result<Duration> {
    let stat =
        std::fs::read_to_string(stat_path).with_context(|| format!("reading {stat_path}"))?;
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = &stat[stat.rfind(") ").context("malformed stat")? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat; here 11 and 12 (0-based).
    let ticks: u64 = fields.get(11).context("no utime")?.parse::<u64>()?
        + fields.get(12).context("no stime")?.parse::<u64>()?;
    Ok(Duration::from_secs_f64(
        ticks as f64 / clock_ticks_per_second(),
    ))
}

/// `sysconf(_SC_CLK_TCK)`; 100 on every Linux we run on (no libc call, since
/// unsafe code is forbidden here).
fn clock_ticks_per_second() -> f64 {
    100.0
}

/// Starts the hello-world floor (`qrlogin-bench hello`).
pub async fn hello() -> anyhow::Result<Proc> {
    let mut command = Command::new(crate::beside_me("qrlogin-bench")?);
    command.args(["hello", "--listen", "127.0.0.1:0"]);
    Proc::start("hello world", command, "listening on").await
}

/// Where a `qrlogin-server` keeps its tickets.
#[derive(Debug, Clone)]
pub enum Store {
    Memory,
    Redis { url: String, prefix: String },
}

/// Where a `qrlogin-server` keeps its users, sessions and sign-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Database {
    /// A SQLite file in the run's directory (the default).
    Sqlite,
    /// A fresh schema in the local PostgreSQL (`qrlogin_testkit::postgres`).
    Postgres,
}

impl Database {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }

    /// A new, empty database of this kind.
    async fn fresh_url(self, dir: &Path) -> String {
        match self {
            Self::Sqlite => format!("sqlite://{}", dir.join("users.db").display()),
            Self::Postgres => qrlogin_testkit::postgres::fresh_schema().await,
        }
    }
}

/// Starts `qrlogin-server` with the demo users, no creation rate limit and
/// lifetimes long enough for every phase of a run, on SQLite.
pub async fn qrlogin_server(
    binary: &Path,
    name: &str,
    dir: &Path,
    store: &Store,
) -> anyhow::Result<Proc> {
    qrlogin_server_on(binary, name, dir, store, Database::Sqlite).await
}

/// [`qrlogin_server`] on a fresh database of the given kind.
pub async fn qrlogin_server_on(
    binary: &Path,
    name: &str,
    dir: &Path,
    store: &Store,
    database: Database,
) -> anyhow::Result<Proc> {
    let mut command = Command::new(binary);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--demo"])
        .args(["--create-rate", "0", "--scan-rate", "0"])
        .args(["--max-tickets", "2000000"])
        .args(["--pending-lifetime", "900", "--scanned-lifetime", "900"])
        .args(["--confirmed-lifetime", "900"])
        .arg("--database-url")
        .arg(database.fresh_url(dir).await)
        .arg("--jwt-key")
        .arg(dir.join("jwt.pem"))
        .env("RUST_LOG", "warn")
        .stderr(log_file(dir, name)?);
    if let Store::Redis { url, prefix } = store {
        command.args(["--redis-url", url, "--redis-prefix", prefix]);
    }
    Proc::start(name, command, QRLOGIN_SERVER_MARKER).await
}

fn log_file(dir: &Path, name: &str) -> anyhow::Result<std::fs::File> {
    let path: PathBuf = dir.join(format!("{}.log", name.replace(' ', "-")));
    std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))
}
