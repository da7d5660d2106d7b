//! Where a server's time goes: `perf record` attached to its process for
//! one phase, summarised as the kernel's share and the top user-space
//! symbols (a profile of a release build, which keeps its symbol names).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};

/// A `perf record` running against one process.
pub struct Profiler {
    child: Child,
    data: PathBuf,
}

/// The summary of one profile.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// Share of samples in the kernel (syscalls, network stack, scheduler).
    pub kernel: f64,
    /// The biggest user-space symbols with their share of samples.
    pub top: Vec<(f64, String)>,
}

impl Profiler {
    pub async fn start(pid: u32, data: PathBuf) -> anyhow::Result<Self> {
        let child = Command::new("perf")
            .args(["record", "-q", "-F", "999", "-p", &pid.to_string(), "-o"])
            .arg(&data)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting perf (install linux-perf)")?;
        // perf needs a moment to attach before the phase starts.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(Self { child, data })
    }

    /// Stops recording (SIGINT, so perf writes its file) and summarises.
    pub fn finish(mut self, top: usize) -> anyhow::Result<Profile> {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()?;
        if !status.success() {
            bail!("could not stop perf");
        }
        self.child.wait()?;
        summarise(&self.data, top)
    }
}

fn summarise(data: &Path, top: usize) -> anyhow::Result<Profile> {
    let output = Command::new("perf")
        .args([
            "report",
            "--stdio",
            "--no-children",
            "--sort",
            "symbol",
            "-i",
        ])
        .arg(data)
        .stderr(Stdio::null())
        .output()
        .context("running perf report")?;
    Ok(parse_report(&String::from_utf8_lossy(&output.stdout), top))
}

/// Reads `perf report --sort symbol` lines like `12.90%  [k] name  -  -`.
fn parse_report(text: &str, top: usize) -> Profile {
    let mut profile = Profile::default();
    for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        let mut words = line.split_whitespace();
        let (Some(share), Some(kind)) = (words.next(), words.next()) else {
            continue;
        };
        let Some(share) = share.strip_suffix('%').and_then(|s| s.parse::<f64>().ok()) else {
            continue;
        };
        let name: Vec<&str> = words.take_while(|w| *w != "-").collect();
        match kind {
            "[k]" => profile.kernel += share,
            _ if profile.top.len() < top => profile.top.push((share, name.join(" "))),
            _ => {}
        }
    }
    profile
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_kernel_and_keeps_the_top_user_symbols() {
        let report = "# comment\n\
            \n    12.90%  [k] finish_task_switch.isra.0     -      -\n\
            \n     4.92%  [.] qrcode::canvas::Canvas::compute_adjacent_penalty_score   -   -\n\
            \n     3.00%  [k] do_syscall_64\n\
            \n     2.00%  [.] malloc\n\
            \n     1.00%  [.] free\n";
        let profile = parse_report(report, 2);
        assert!((profile.kernel - 15.9).abs() < 1e-9);
        assert_eq!(profile.top.len(), 2);
        assert_eq!(
            profile.top[0].1,
            "qrcode::canvas::Canvas::compute_adjacent_penalty_score"
        );
        assert_eq!(profile.top[1], (2.0, "malloc".to_string()));
    }
}
