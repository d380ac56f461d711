//! `exec` and `top`.

use crate::cli::{CmdResult, GlobalOpts};
use clap::{ArgAction, Args};
use libvaina::container::exec::ExecOptions;
use libvaina::container::options::parse;

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
    /// Pass N additional file descriptors to the container
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub preserve_fds: u32,
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

pub fn exec(g: &GlobalOpts, a: ExecArgs) -> CmdResult {
    let mut engine = g.engine()?;
    // The same grammar as `run`: files first, then `-e` (NAME, NAME=VALUE, PREFIX*).
    let host: Vec<(String, String)> = std::env::vars().collect();
    let mut env = Vec::new();
    for f in &a.env_file {
        env.extend(parse::env_file(f, &host)?);
    }
    for e in &a.env {
        env.extend(parse::env_value(e, &host)?);
    }
    let env: Vec<String> = env.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
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
    let keys = a.detach_keys.as_deref().unwrap_or("ctrl-p,ctrl-q");
    super::attach_io::parse_detach_keys(keys)?;
    let opts = ExecOptions {
        command,
        env,
        user: a.user.clone(),
        workdir: a.workdir.clone(),
        tty: a.tty,
        interactive: a.interactive,
        detach: a.detach,
        privileged: a.privileged,
        preserve_fds: a.preserve_fds,
    };
    // Every descriptor handed over must be open (Podman's check).
    for fd in 3..3 + a.preserve_fds as i32 {
        if nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFD).is_err() {
            anyhow::bail!("file descriptor {fd} is not available - the preserve-fds option requires that all file descriptors must be passed");
        }
    }
    if a.detach {
        // Podman reports a detached session that failed to start with its engine code (125).
        let (session, _) =
            engine
                .exec_monitored(&container, &opts, false)
                .map_err(|e| match e {
                    libvaina::Error::Runtime(_) => anyhow::anyhow!("{e}"),
                    other => other.into(),
                })?;
        println!("{session}");
        return Ok(0);
    }
    if a.tty {
        // A terminal session runs under its own monitor, so the detach keys can leave it
        // running.
        let (_, stream) = engine.exec_monitored(&container, &opts, true)?;
        let stream = stream.ok_or_else(|| anyhow::anyhow!("no attach socket"))?;
        return Ok(
            match super::attach_io::attach(stream, true, a.interactive, keys)? {
                super::attach_io::AttachEnd::Exited(c) => c,
                super::attach_io::AttachEnd::Detached => 0,
                super::attach_io::AttachEnd::Lost => {
                    anyhow::bail!("the exec session's monitor went away")
                }
            },
        );
    }
    let (code, _) = engine.exec_container(&container, &opts)?;
    Ok(code)
}

#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct TopArgs {
    /// Print help
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,
    pub container: Option<String>,
    /// Descriptors (pid, user, args, ...) or ps(1) options
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub descriptors: Vec<String>,
}

pub fn top(g: &GlobalOpts, a: TopArgs) -> CmdResult {
    use libvaina::container::top;
    let engine = g.engine()?;
    let container = super::lifecycle::one_target(&engine, a.latest, a.container.as_deref())?;
    if let Err(e) = engine.lookup_container(&container) {
        anyhow::bail!("unable to look up requested container: {e}");
    }
    let mut descriptors = a.descriptors.clone();
    if a.latest {
        descriptors.splice(0..0, a.container.clone());
    }
    // Podman accepts "pid,user" as well as "pid user".
    let words: Vec<String> = descriptors
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
        let rows = engine.top_descriptors(&container, &words)?;
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
    // Anything else is ps(1) options, run inside the container as Podman does (a container
    // without ps fails; the host's ps would show host processes for options like -e).
    let mut engine = engine;
    let mut command = vec!["ps".to_string()];
    command.extend(descriptors);
    let opts = ExecOptions {
        command,
        ..Default::default()
    };
    match engine.exec_container(&container, &opts) {
        Ok((code, _)) => Ok(code),
        Err(e) => anyhow::bail!("executing ps(1) in the container: {e}"),
    }
}
