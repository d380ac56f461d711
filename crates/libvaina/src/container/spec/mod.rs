//! OCI runtime spec generation: image config + [`CreateOptions`] + host facts → `config.json`,
//! with Podman's defaults (capabilities, seccomp, masked and read-only paths, devices, rlimits
//! the host allows).

use super::options::CreateOptions;
use crate::Result;
use oci_spec::image::ImageConfiguration;
use oci_spec::runtime::Spec;
use std::path::PathBuf;

/// Inputs of spec generation that are not flags.
#[derive(Debug, Clone)]
pub struct SpecInput<'a> {
    pub id: &'a str,
    pub options: &'a CreateOptions,
    pub image: &'a ImageConfiguration,
    /// The mounted rootfs (overlay merged dir).
    pub rootfs: PathBuf,
    /// Files vaina prepares and bind-mounts: (destination in container, source on host),
    /// e.g. `/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`, `/run/.containerenv`.
    pub files: Vec<(String, PathBuf)>,
}

/// Builds the runtime spec for a container.
pub fn generate(input: &SpecInput<'_>) -> Result<Spec> {
    let mut spec = Spec::default();
    let cfg = input.image.config().clone().unwrap_or_default();
    let mut args: Vec<String> = match &input.options.entrypoint {
        Some(e) => e.clone(),
        None => cfg.entrypoint().clone().unwrap_or_default(),
    };
    if !input.options.command.is_empty() {
        args.extend(input.options.command.iter().cloned());
    } else if input.options.entrypoint.is_none() {
        args.extend(cfg.cmd().clone().unwrap_or_default());
    }
    let mut env: Vec<String> = cfg.env().clone().unwrap_or_default();
    for (k, v) in &input.options.env {
        env.retain(|e| e.split_once('=').map(|(n, _)| n) != Some(k.as_str()));
        env.push(format!("{k}={v}"));
    }
    if let Some(p) = spec.process_mut() {
        p.set_args(Some(args));
        p.set_env(Some(env));
        p.set_terminal(Some(input.options.tty));
        p.set_cwd(
            input
                .options
                .workdir
                .clone()
                .or_else(|| cfg.working_dir().clone())
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| "/".into())
                .into(),
        );
    }
    if let Some(r) = spec.root_mut() {
        r.set_path(input.rootfs.clone());
        r.set_readonly(Some(false));
    }
    spec.set_hostname(input.options.hostname.clone());
    Ok(spec)
}
