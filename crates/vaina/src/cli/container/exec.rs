//! `exec` and `top`.

use crate::cli::{CmdResult, GlobalOpts};
use clap::{ArgAction, Args};
use libvaina::container::exec::ExecOptions;

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Run the exec session in detached mode (backgrounded)
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Select the key sequence for detaching a container
    #[arg(long, value_name = "KEYS")]
    pub detach_keys: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<std::path::PathBuf>,
    /// Make STDIN available to the contained process
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Give the process extended Linux capabilities inside the container
    #[arg(long)]
    pub privileged: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Sets the username or UID used and optionally the groupname or GID for the specified command
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// The container
    pub container: String,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// Reads `KEY=VALUE` lines (comments and blank lines skipped; a bare `KEY` takes the host's
/// value), as Podman's `--env-file`.
pub fn read_env_file(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let text = String::from_utf8(text)
        .map_err(|_| anyhow::anyhow!("{}: env file is not valid UTF-8", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim_start();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (k, v) = match l.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (l, None),
        };
        if k.is_empty() || k.contains(char::is_whitespace) {
            anyhow::bail!("invalid variable: {line:?} in {}", path.display());
        }
        match v {
            Some(v) => out.push(format!("{k}={v}")),
            None => {
                if let Ok(v) = std::env::var(k) {
                    out.push(format!("{k}={v}"));
                }
            }
        }
    }
    Ok(out)
}

pub fn exec(g: &GlobalOpts, a: ExecArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let mut env = Vec::new();
    for f in &a.env_file {
        env.extend(read_env_file(f)?);
    }
    for e in &a.env {
        if e.contains('=') {
            env.push(e.clone());
        } else if let Ok(v) = std::env::var(e) {
            env.push(format!("{e}={v}"));
        }
    }
    let container = if a.latest {
        engine
            .list_containers()?
            .into_iter()
            .next()
            .map(|c| c.id)
            .ok_or_else(|| anyhow::anyhow!("no containers to exec into"))?
    } else {
        a.container.clone()
    };
    let mut command = a.command.clone();
    if a.latest {
        command.insert(0, a.container.clone());
    }
    let (code, session) = engine.exec_container(
        &container,
        &ExecOptions {
            command,
            env,
            user: a.user.clone(),
            workdir: a.workdir.clone(),
            tty: a.tty,
            interactive: a.interactive,
            detach: a.detach,
            privileged: a.privileged,
        },
    )?;
    if a.detach {
        println!("{session}");
    }
    Ok(code)
}

#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct TopArgs {
    /// Print help
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    pub container: String,
    /// Descriptors (pid, user, args, ...) or ps(1) options
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub descriptors: Vec<String>,
}

pub fn top(g: &GlobalOpts, a: TopArgs) -> CmdResult {
    use libvaina::container::top;
    let engine = g.engine()?;
    // Podman accepts "pid,user" as well as "pid user".
    let words: Vec<String> = a
        .descriptors
        .iter()
        .flat_map(|d| d.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    if words.is_empty() || top::all_descriptors(&words) {
        let words = if words.is_empty() {
            top::DEFAULT.iter().map(|s| s.to_string()).collect()
        } else {
            words
        };
        let rows = engine.top_descriptors(&a.container, &words)?;
        let mut tw = tabwriter::TabWriter::new(Vec::new())
            .minwidth(10)
            .padding(2);
        use std::io::Write;
        for r in rows {
            writeln!(tw, "{}", r.join("\t"))?;
        }
        std::io::stdout().write_all(&tw.into_inner()?)?;
        return Ok(0);
    }
    // Plain ps(1) options, run on the host against the container's processes.
    let pids = engine.container_pids(&a.container)?;
    let list: Vec<String> = pids.iter().map(|p| p.to_string()).collect();
    let status = std::process::Command::new("ps")
        .args(&a.descriptors)
        .arg("-p")
        .arg(list.join(","))
        .status()
        .map_err(|e| anyhow::anyhow!("running ps: {e}"))?;
    if !status.success() {
        anyhow::bail!("ps(1) failed with {status}");
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("e");
        std::fs::write(&p, "# c\nA=1\n\nB=x=y\n").unwrap();
        assert_eq!(read_env_file(&p).unwrap(), vec!["A=1", "B=x=y"]);
        std::fs::write(&p, "bad key=1\n").unwrap();
        assert!(read_env_file(&p).is_err());
        std::fs::write(&p, [0xff, 0xfe]).unwrap();
        assert!(read_env_file(&p).is_err());
    }
}
