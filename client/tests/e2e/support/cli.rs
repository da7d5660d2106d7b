//! Runs the `qrlogin` binary with its own config directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Cli {
    dir: tempfile::TempDir,
    insecure: bool,
}

/// A finished `qrlogin` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}): {}\n{}", self.stdout, self.stderr)
        })
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

impl Cli {
    /// A CLI with a fresh config directory; `insecure` adds
    /// `--insecure-storage` (token in a 0600 file) to every run.
    pub fn new(insecure: bool) -> Self {
        Cli {
            dir: tempfile::tempdir().expect("temp dir"),
            insecure,
        }
    }

    pub fn config_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn run(&self, args: &[&str], stdin: &str) -> Run {
        self.run_with_env(args, stdin, &[])
    }

    /// [`Cli::run`] with extra environment variables.
    pub fn run_with_env(&self, args: &[&str], stdin: &str, env: &[(&str, &Path)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_qrlogin"));
        cmd.args(args)
            .envs(env.iter().copied())
            .env("QRLOGIN_CONFIG_DIR", self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.insecure {
            cmd.arg("--insecure-storage");
        }
        let mut child = cmd.spawn().expect("running qrlogin");
        // qrlogin may exit without reading stdin (e.g. on a usage error).
        let _ = child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(stdin.as_bytes());
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().expect("qrlogin finished");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// `qrlogin login` as `user` with password `demo`.
    pub fn login(&self, server: &str, user: &str) -> Run {
        self.run(
            &[
                "--json",
                "login",
                "--server",
                server,
                "--username",
                user,
                "--password-stdin",
            ],
            "demo\n",
        )
    }

    /// The token the CLI saved, when it uses insecure storage.
    pub fn saved_token(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.dir.path().join("tokens.json")).ok()?;
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).ok()?;
        map.values().next()?.as_str().map(str::to_string)
    }
}
