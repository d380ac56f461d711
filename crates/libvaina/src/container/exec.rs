//! `exec`: runs a process in a running container through `runtime exec --process`. The
//! process description starts from the container's own (capabilities, rlimits, environment,
//! terminal settings) with the exec's command, user, directory and variables on top.
//!
//! A foreground exec runs the runtime with the caller's stdio and returns the process's exit
//! code (the runtime waits for it); 126/127 come from the runtime's error text. A detached exec
//! (`-d`) returns at once; its process is reparented to the container's monitor, which reaps it.

use super::record::ContainerState;
use super::ContainerError;
use crate::error::IoContext;
use crate::runtime::RuntimeError;
use crate::{Engine, Result};
use std::process::Stdio;

/// What `exec` runs.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub command: Vec<String>,
    /// `KEY=VALUE` additions.
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub tty: bool,
    pub interactive: bool,
    pub detach: bool,
    pub privileged: bool,
}

/// Resolves `user[:group]` against the container's /etc/passwd and /etc/group.
pub fn resolve_user(rootfs: &std::path::Path, spec: &str) -> Result<(u32, u32)> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap_or_default();
    let find = |text: &str, name: &str| -> Option<Vec<String>> {
        text.lines()
            .map(|l| l.split(':').map(str::to_string).collect::<Vec<_>>())
            .find(|f| f.first().map(String::as_str) == Some(name))
    };
    let (uid, mut gid) = match user.parse::<u32>() {
        Ok(u) => (u, 0),
        Err(_) => {
            let f = find(&passwd, user).ok_or_else(|| {
                ContainerError::Invalid(format!(
                    "unable to find user {user}: no matching entries in passwd file"
                ))
            })?;
            (
                f.get(2).and_then(|v| v.parse().ok()).unwrap_or(0),
                f.get(3).and_then(|v| v.parse().ok()).unwrap_or(0),
            )
        }
    };
    if let Some(g) = group {
        gid = match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                let groups = std::fs::read_to_string(rootfs.join("etc/group")).unwrap_or_default();
                let f = find(&groups, g).ok_or_else(|| {
                    ContainerError::Invalid(format!(
                        "unable to find group {g}: no matching entries in group file"
                    ))
                })?;
                f.get(2).and_then(|v| v.parse().ok()).unwrap_or(0)
            }
        };
    }
    Ok((uid, gid))
}

impl Engine {
    /// Runs a process in a running container; returns its exit code (0 for `detach`) and
    /// the exec session's ID.
    pub fn exec_container(
        &mut self,
        name_or_id: &str,
        opts: &ExecOptions,
    ) -> Result<(i32, String)> {
        let rec = self.lookup_container(name_or_id)?;
        if rec.state != ContainerState::Running {
            return Err(ContainerError::ExecNotRunning.into());
        }
        if opts.command.is_empty() {
            return Err(ContainerError::Invalid(
                "must provide a non-empty command to start an exec session: invalid argument"
                    .into(),
            )
            .into());
        }
        let paths = self.container_paths(&rec.id);
        let spec = oci_spec::runtime::Spec::load(paths.config_json()).map_err(|e| {
            ContainerError::Invalid(format!("reading {}: {e}", paths.config_json().display()))
        })?;
        let mut process = spec.process().clone().unwrap_or_default();
        process.set_args(Some(opts.command.clone()));
        process.set_terminal(Some(opts.tty));
        let mut env = process.env().clone().unwrap_or_default();
        for e in &opts.env {
            let key = e.split_once('=').map_or(e.as_str(), |(k, _)| k);
            env.retain(|x| x.split_once('=').map_or(x.as_str(), |(k, _)| k) != key);
            env.push(e.clone());
        }
        process.set_env(Some(env));
        if let Some(w) = &opts.workdir {
            process.set_cwd(w.into());
        }
        if let Some(u) = &opts.user {
            let (uid, gid) = resolve_user(&paths.merged(), u)?;
            let mut user = process.user().clone();
            user.set_uid(uid);
            user.set_gid(gid);
            process.set_user(user);
        }
        if opts.privileged {
            if let Some(mut caps) = process.capabilities().clone() {
                let all: oci_spec::runtime::Capabilities =
                    caps.bounding().clone().unwrap_or_default();
                caps.set_effective(Some(all.clone()));
                caps.set_permitted(Some(all));
                process.set_capabilities(Some(caps));
            }
        }
        let session_id = super::create::new_id();
        let session = &session_id[..16];
        std::fs::create_dir_all(&paths.run_dir).with_path(&paths.run_dir)?;
        let pfile = paths.run_dir.join(format!("exec-{session}.json"));
        let text = serde_json::to_vec(&process)
            .map_err(|e| ContainerError::Invalid(format!("encoding exec process: {e}")))?;
        std::fs::write(&pfile, text).with_path(&pfile)?;
        let rt = paths
            .runtime(&self.runtime_for(&rec.config)?)
            .with_log(paths.run_dir.join(format!("exec-{session}.log")));
        let mut c = rt.exec_command(&rec.id, &pfile, opts.detach, None, None);
        if opts.detach {
            c.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
        } else if !opts.interactive && !opts.tty {
            c.stdin(Stdio::null());
        }
        let status = c.status().map_err(|source| RuntimeError::Spawn {
            path: rt.path.clone(),
            source,
        });
        let logged = rt.last_logged_error();
        let _ = std::fs::remove_file(&pfile);
        let _ = std::fs::remove_file(&rt.log);
        let status = status?;
        if let Some(msg) = logged {
            return Err(crate::runtime::classify(&rt.name, msg).into());
        }
        let code = status.code().unwrap_or_else(|| {
            128 + std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0)
        });
        Ok((code, session_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_resolve_from_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(d.path().join("etc/group"), "root:x:0:\nusers:x:100:app\n").unwrap();
        assert_eq!(resolve_user(d.path(), "app").unwrap(), (1000, 1001));
        assert_eq!(resolve_user(d.path(), "app:users").unwrap(), (1000, 100));
        assert_eq!(resolve_user(d.path(), "5:6").unwrap(), (5, 6));
        assert!(resolve_user(d.path(), "nosuch").is_err());
    }
}
