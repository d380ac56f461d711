//! The container process: arguments (ENTRYPOINT/CMD semantics of Docker and Podman, `--init`),
//! environment, working directory, user and terminal.
//!
//! Arguments: `--entrypoint` replaces the image's ENTRYPOINT and also drops its CMD; the
//! command after the image replaces CMD; what runs is ENTRYPOINT followed by CMD.
//!
//! Environment, lowest precedence first: containers.conf `env` (Podman's `PATH` and
//! `TERM=xterm`), the image's `Env`, `container=podman`, then `--env-host`/`--env-file`/`-e`
//! (already merged into [`CreateOptions::env`]); `--unsetenv-all` keeps only the latter. Then
//! `PATH` (if still missing), `TERM=xterm` with `-t`, `HOME` from /etc/passwd and `HOSTNAME`
//! are added when not set, and `--unsetenv` names are removed last. `container=podman` is
//! kept for drop-in compatibility: tools such as toolbox and systemd look for it.

use super::user::ResolvedUser;
use super::{HostFacts, SpecError, SpecInput};
use crate::container::options::{CreateOptions, DEFAULT_PATH};
use crate::Result;
use oci_spec::image::ImageConfiguration;
use oci_spec::runtime::{Process, ProcessBuilder, UserBuilder};
use std::path::PathBuf;

/// Where `--init` bind-mounts the init binary inside the container.
pub const INIT_IN_CONTAINER: &str = "/run/vaina-init";

/// The command line of the container: ENTRYPOINT + CMD after the flags' overrides.
pub fn args(opts: &CreateOptions, image: &ImageConfiguration) -> Result<Vec<String>> {
    let cfg = image.config().clone().unwrap_or_default();
    let mut args = match &opts.entrypoint {
        Some(e) => e.clone(),
        None => cfg.entrypoint().clone().unwrap_or_default(),
    };
    if !opts.command.is_empty() {
        args.extend(opts.command.iter().cloned());
    } else if opts.entrypoint.is_none() {
        args.extend(cfg.cmd().clone().unwrap_or_default());
    }
    if args.is_empty() {
        return Err(SpecError::NoCommand.into());
    }
    Ok(args)
}

/// The final environment, as `NAME=VALUE` strings in a stable order.
pub fn env(
    opts: &CreateOptions,
    image: &ImageConfiguration,
    home: &str,
    hostname: &str,
) -> Vec<String> {
    let mut env: Vec<(String, String)> = Vec::new();
    let set = |env: &mut Vec<(String, String)>, k: &str, v: &str| match env
        .iter_mut()
        .find(|(n, _)| n == k)
    {
        Some(e) => e.1 = v.to_string(),
        None => env.push((k.to_string(), v.to_string())),
    };
    if !opts.unset_env_all {
        for (k, v) in &opts.default_env {
            set(&mut env, k, v);
        }
        let image_env = image
            .config()
            .as_ref()
            .and_then(|c| c.env().clone())
            .unwrap_or_default();
        for e in image_env {
            let (k, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
            set(&mut env, k, v);
        }
        set(&mut env, "container", "podman");
    }
    for (k, v) in &opts.env {
        set(&mut env, k, v);
    }
    if !opts.unset_env_all {
        if !env.iter().any(|(k, _)| k == "PATH") {
            set(&mut env, "PATH", DEFAULT_PATH);
        }
        if opts.tty && !env.iter().any(|(k, _)| k == "TERM") {
            set(&mut env, "TERM", "xterm");
        }
    }
    for (k, v) in [("HOME", home), ("HOSTNAME", hostname)] {
        if !env.iter().any(|(n, _)| n == k) {
            set(&mut env, k, v);
        }
    }
    env.retain(|(k, _)| !opts.unset_env.contains(k));
    env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// The stop signal: `--stop-signal`, else the image's `StopSignal`, else SIGTERM.
pub fn stop_signal(opts: &CreateOptions, image: &ImageConfiguration) -> i32 {
    opts.stop_signal
        .or_else(|| {
            image
                .config()
                .as_ref()
                .and_then(|c| c.stop_signal().clone())
                .and_then(|s| crate::container::options::parse::signal(&s).ok())
        })
        .unwrap_or(libc::SIGTERM)
}

/// The host binary `--init` mounts: `--init-path`/containers.conf `init_path`, else an
/// installed catatonit.
pub fn init_binary(opts: &CreateOptions, host: &HostFacts) -> Result<PathBuf> {
    if let Some(p) = &opts.init_path {
        if !p.is_file() {
            return Err(SpecError::NoInit(format!(
                "container-init binary not found on the host: {}: no such file or directory",
                p.display()
            ))
            .into());
        }
        return Ok(p.clone());
    }
    host.init_binary.clone().ok_or_else(|| {
        SpecError::NoInit(format!(
            "--init needs catatonit, found in none of {}: install it (Debian: apt-get install catatonit) or set init_path in containers.conf",
            super::host::INIT_PATHS.join(", ")
        ))
        .into()
    })
}

/// The OCI process (capabilities and rlimits are set by the caller).
pub fn build(input: &SpecInput<'_>, user: &ResolvedUser, host: &HostFacts) -> Result<Process> {
    let opts = input.options;
    let mut argv = args(opts, input.image)?;
    if opts.init {
        init_binary(opts, host)?;
        let mut with_init = vec![INIT_IN_CONTAINER.to_string(), "--".to_string()];
        with_init.append(&mut argv);
        argv = with_init;
    }
    let cwd = opts
        .workdir
        .clone()
        .or_else(|| {
            input
                .image
                .config()
                .as_ref()
                .and_then(|c| c.working_dir().clone())
        })
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| "/".into());
    // Podman accepts a relative -w and runs it from the root.
    let cwd = if cwd.starts_with('/') {
        cwd
    } else {
        format!("/{cwd}")
    };
    let hostname = input.hostname();
    let oci_user = UserBuilder::default()
        .uid(user.uid)
        .gid(user.gid)
        .umask(0o022u32)
        .build()
        .map_err(SpecError::from)?;
    let mut oci_user = oci_user;
    oci_user.set_additional_gids(
        (!user.additional_gids.is_empty()).then(|| user.additional_gids.clone()),
    );
    Ok(ProcessBuilder::default()
        .terminal(opts.tty)
        .user(oci_user)
        .args(argv)
        .env(env(opts, input.image, &user.home, &hostname))
        .cwd(cwd)
        .build()
        .map_err(SpecError::from)?)
}
