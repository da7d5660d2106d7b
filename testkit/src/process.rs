//! A `qrlogin-server` process (or any server that prints `bound to ADDR` /
//! `listening on ADDR` on stdout), started on a loopback port and killed
//! when dropped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// Longest a server may take to print its address.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What `qrlogin-server` prints once it listens: `… (bound to 127.0.0.1:1234)`.
pub const QRLOGIN_SERVER_MARKER: &str = "bound to";

/// A running server process, killed on drop.
pub struct ServerProcess {
    pub addr: SocketAddr,
    child: Child,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("starting {name}: {source}")]
    Spawn {
        name: String,
        source: std::io::Error,
    },
    #[error("{name} exited before it listened")]
    Exited { name: String },
    #[error("{name} did not listen within {START_TIMEOUT:?}")]
    TimedOut { name: String },
}

impl ServerProcess {
    /// Starts `command` (stdin closed, stdout read here) and waits for a line
    /// of its stdout with `marker` followed by the bound address. Stderr is
    /// left as the command set it.
    pub async fn start(name: &str, mut command: Command, marker: &str) -> Result<Self, StartError> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|source| StartError::Spawn {
            name: name.into(),
            source,
        })?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let found = tokio::time::timeout(START_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(addr) = address_after(&line, marker) {
                    return Some(addr);
                }
            }
            None
        })
        .await;
        let addr = match found {
            Ok(Some(addr)) => addr,
            Ok(None) => return Err(StartError::Exited { name: name.into() }),
            Err(_) => return Err(StartError::TimedOut { name: name.into() }),
        };
        // Keep draining stdout so that a later line never hits a closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { addr, child })
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops the process and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// `marker ADDR` → ADDR, e.g. in
/// `qrlogin-server listening on http://… (bound to 127.0.0.1:1234)`.
pub fn address_after(line: &str, marker: &str) -> Option<SocketAddr> {
    let rest = &line[line.find(marker)? + marker.len()..];
    let text: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '[' | ']'))
        .collect();
    text.parse().ok()
}

/// `$QRLOGIN_SERVER_BIN`, else `qrlogin-server` in the target directory the
/// running test or benchmark binary was built into (`target/<profile>/` or
/// `target/<profile>/deps/`).
pub fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("QRLOGIN_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the running binary's path");
    let mut dir = exe.parent().expect("a binary lives in a directory");
    if dir.ends_with("deps") || dir.ends_with("examples") {
        dir = dir.parent().expect("target/<profile>");
    }
    dir.join(format!("qrlogin-server{}", std::env::consts::EXE_SUFFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_bound_address_of_either_kind_of_line() {
        let line = "qrlogin-server listening on http://127.0.0.1:4000 (bound to 127.0.0.1:4000)";
        assert_eq!(
            address_after(line, QRLOGIN_SERVER_MARKER),
            Some("127.0.0.1:4000".parse().unwrap())
        );
        assert_eq!(
            address_after("listening on [::1]:9", "listening on"),
            Some("[::1]:9".parse().unwrap())
        );
        assert_eq!(address_after("nothing here", QRLOGIN_SERVER_MARKER), None);
    }
}
