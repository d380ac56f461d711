//! The engine's view of the configuration: each file loaded lazily, once per command, and
//! the flag-over-file precedence for the settings global flags can override.
//!
//! [`Engine::new`] stays cheap: `vaina ps` never reads registries.conf, `vaina pull` never
//! reads containers.conf unless it needs a default from it.

use super::{ConfigError, ContainersConf, Policy, RegistriesConf};
use crate::reference::{shortnames, AliasCache, Reference, Resolution};
use crate::{Engine, Result};
use std::cell::OnceCell;
use std::path::PathBuf;

/// Lazily loaded configuration files (one field of [`Engine`]).
#[derive(Debug, Default)]
pub struct ConfigCache {
    containers: OnceCell<ContainersConf>,
    registries: OnceCell<RegistriesConf>,
    policy: OnceCell<Policy>,
}

fn cached<T>(
    cell: &OnceCell<T>,
    load: impl FnOnce() -> std::result::Result<T, ConfigError>,
) -> Result<&T> {
    if let Some(v) = cell.get() {
        return Ok(v);
    }
    let v = load()?;
    Ok(cell.get_or_init(|| v))
}

impl Engine {
    /// containers.conf, merged per Podman's precedence (loaded on first use).
    pub fn containers_conf(&self) -> Result<&ContainersConf> {
        cached(&self.config.containers, || ContainersConf::load(self.mode))
    }

    /// registries.conf with its drop-ins (loaded on first use).
    pub fn registries_conf(&self) -> Result<&RegistriesConf> {
        cached(&self.config.registries, RegistriesConf::load)
    }

    /// policy.json (loaded on first use; an error when there is none).
    pub fn policy(&self) -> Result<&Policy> {
        cached(&self.config.policy, Policy::load)
    }

    /// vaina's own short-name alias cache, `<graph root>/short-name-aliases.conf`.
    pub fn alias_cache(&self) -> Result<AliasCache> {
        Ok(AliasCache::load(&AliasCache::path_in(&self.paths.root))?)
    }

    /// The pull candidates of `r` (see [`shortnames::resolve`]).
    pub fn resolve_short_name(&self, r: &Reference) -> Result<Resolution> {
        let conf = self.registries_conf()?;
        let cache = self.alias_cache()?;
        Ok(shortnames::resolve(conf, &cache, r)?)
    }

    /// Records in vaina's alias cache that short name `name` means `resolved` (after a
    /// successful pull of a candidate the user chose at a prompt).
    pub fn record_short_name_alias(&self, name: &str, resolved: &Reference) -> Result<()> {
        let mut cache = self.alias_cache()?;
        cache.record(name, resolved)?;
        Ok(())
    }

    /// The OCI runtime asked for: `--runtime`, else containers.conf `[engine] runtime`;
    /// `None` means "choose the default for this host".
    pub fn runtime_setting(&self) -> Result<Option<String>> {
        if let Some(r) = self.options.runtime.clone().filter(|r| !r.is_empty()) {
            return Ok(Some(r));
        }
        Ok(self
            .containers_conf()?
            .engine
            .runtime
            .clone()
            .filter(|r| !r.is_empty()))
    }

    /// `--cgroup-manager`, else containers.conf, else `systemd` or `cgroupfs` per the host.
    pub fn cgroup_manager(&self) -> Result<String> {
        if let Some(m) = self.options.cgroup_manager.clone() {
            return Ok(m);
        }
        Ok(self.containers_conf()?.cgroup_manager())
    }

    /// `--events-backend`, else containers.conf `events_logger`, else `file`.
    pub fn events_backend(&self) -> Result<String> {
        if let Some(m) = self.options.events_backend.clone() {
            return Ok(m);
        }
        Ok(self.containers_conf()?.events_logger())
    }

    /// The engine's temporary state directory: `--tmpdir`, else containers.conf
    /// `[engine] tmp_dir`, else `<run root>/tmp`.
    pub fn engine_tmp_dir(&self) -> Result<PathBuf> {
        if let Some(t) = self.options.tmpdir.clone() {
            return Ok(t);
        }
        Ok(match &self.containers_conf()?.engine.tmp_dir {
            Some(t) if !t.is_empty() => PathBuf::from(t),
            _ => self.paths.runroot.join("tmp"),
        })
    }
}
