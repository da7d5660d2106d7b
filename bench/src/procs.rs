//! The processes under test: `qrlogin-server` and the hello-world floor,
//! started from release binaries on an ephemeral loopback port and killed
//! on drop; their CPU time is read from `/proc`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// Longest a server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running server process (killed on drop).
pub struct Proc {
    pub addr: SocketAddr,
    child: Child,
}

impl Proc {
    /// Starts `command` and waits for a stdout line containing `marker`
    /// followed by the bound address.
    async fn start(name: &str, mut command: Command, marker: &str) -> anyhow::Result<Self> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(addr) = address_after(&line, marker) {
                    return anyhow::Ok(addr);
                }
            }
            bail!("{name} exited before listening")
        })
        .await
        .with_context(|| format!("{name} did not start within {START_TIMEOUT:?}"))??;
        // Keep draining stdout so a later line never hits a closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { addr, child })
    }

    pub fn pid(&self) -> anyhow::Result<u32> {
        self.child.id().context("the process has exited")
    }

    /// User + system CPU time used so far.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        cpu_time_of(&format!("/proc/{}/stat", self.pid()?))
    }
}

/// `marker ADDR` → ADDR, e.g. in `qrlogin-server listening on http://… (bound to 127.0.0.1:1234)`.
fn address_after(line: &str, marker: &str) -> Option<SocketAddr> {
    let rest = &line[line.find(marker)? + marker.len()..];
    let text: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ':' | '[' | ']'))
        .collect();
    text.parse().ok()
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

/// Starts `qrlogin-server` with the demo users, no creation rate limit and
/// lifetimes long enough for every phase of a run.
pub async fn qrlogin_server(
    binary: &Path,
    name: &str,
    dir: &Path,
    store: &Store,
) -> anyhow::Result<Proc> {
    let mut command = Command::new(binary);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--demo"])
        .args(["--create-rate", "0", "--scan-rate", "0"])
        .args(["--max-tickets", "2000000"])
        .args(["--pending-lifetime", "900", "--scanned-lifetime", "900"])
        .args(["--confirmed-lifetime", "900"])
        .arg("--database-url")
        .arg(format!("sqlite://{}", dir.join("users.db").display()))
        .arg("--jwt-key")
        .arg(dir.join("jwt.pem"))
        .env("RUST_LOG", "warn")
        .stderr(log_file(dir, name)?);
    if let Store::Redis { url, prefix } = store {
        command.args(["--redis-url", url, "--redis-prefix", prefix]);
    }
    Proc::start(name, command, "bound to").await
}

fn log_file(dir: &Path, name: &str) -> anyhow::Result<std::fs::File> {
    let path: PathBuf = dir.join(format!("{}.log", name.replace(' ', "-")));
    std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_bound_address_of_either_server() {
        let line = "qrlogin-server listening on http://127.0.0.1:4000 (bound to 127.0.0.1:4000)";
        assert_eq!(
            address_after(line, "bound to"),
            Some("127.0.0.1:4000".parse().unwrap())
        );
        assert_eq!(
            address_after("listening on 127.0.0.1:9", "listening on"),
            Some("127.0.0.1:9".parse().unwrap())
        );
        assert_eq!(address_after("nothing here", "bound to"), None);
    }
}
