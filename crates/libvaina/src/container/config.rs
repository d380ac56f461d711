//! What vaina remembers about a container beyond its state: the parts of the create options
//! that the lifecycle needs later (restart policy, log driver, stop signal, terminal, stdin,
//! `--rm`) and what `inspect` and `ps` show (command, entrypoint, labels). Stored as JSON in
//! the `config` column of the containers table; the OCI spec itself is the bundle's
//! `config.json`.

use super::ContainerError;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub use super::options::RestartPolicy;

/// Whether a container with `policy` that exited with `code` after `restarts` restarts runs
/// again.
pub fn should_restart(policy: &RestartPolicy, code: i32, restarts: u32) -> bool {
    match *policy {
        RestartPolicy::No => false,
        RestartPolicy::OnFailure { max_retries } => {
            code != 0 && (max_retries == 0 || restarts < max_retries)
        }
        RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
    }
}

/// `--log-driver`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogDriver {
    #[default]
    K8sFile,
    JsonFile,
    None,
    Passthrough,
}

impl LogDriver {
    pub fn parse(s: &str) -> Result<Self, ContainerError> {
        Ok(match s {
            "" | "k8s-file" => LogDriver::K8sFile,
            "json-file" => LogDriver::JsonFile,
            "none" => LogDriver::None,
            "passthrough" => LogDriver::Passthrough,
            "journald" => {
                return Err(ContainerError::Invalid(
                    "journald logging is not available on this host (no systemd journal)".into(),
                ))
            }
            other => {
                return Err(ContainerError::Invalid(format!(
                    "invalid log driver: {other}: invalid argument"
                )))
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            LogDriver::K8sFile => "k8s-file",
            LogDriver::JsonFile => "json-file",
            LogDriver::None => "none",
            LogDriver::Passthrough => "passthrough",
        }
    }
}

/// The stored configuration of a container.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ContainerConfig {
    /// The process arguments (entrypoint + command) as the container runs them.
    pub args: Vec<String>,
    /// The command part (after the entrypoint), for `ps`.
    pub command: Vec<String>,
    pub entrypoint: Vec<String>,
    pub env: Vec<String>,
    pub workdir: String,
    pub user: String,
    pub hostname: String,
    pub tty: bool,
    pub interactive: bool,
    pub remove: bool,
    pub restart: RestartPolicy,
    pub log_driver: LogDriver,
    pub log_path: PathBuf,
    pub stop_signal: i32,
    pub stop_timeout: u64,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Overlay lower dirs, lowest first (the image's unpacked layers).
    pub layers: Vec<PathBuf>,
    /// `--rootfs DIR`: the user's directory, bound as the root instead of the layers.
    #[serde(default)]
    pub rootfs: Option<PathBuf>,
    /// `--rootfs DIR:O`: the directory is the overlay's lower dir (in `layers`), not bound.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rootfs_overlay: bool,
    /// Path of the OCI runtime binary chosen at create time.
    #[serde(default)]
    pub runtime: String,
    /// Set by `stop` so the restart policy does not bring the container back.
    #[serde(default)]
    pub stopped_by_user: bool,
    /// Full IDs of the containers whose namespaces this one joined; they cannot be removed
    /// before it (`rm --depend` removes it first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Namespaces joined from other containers: kind (`pid`, `net`, `ipc`, `uts`) to full
    /// container ID. Their `/proc/PID/ns` paths in `config.json` are refreshed at each start,
    /// since the other container may have been restarted with a new PID.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub namespace_joins: BTreeMap<String, String>,
    /// Full ID of the container's pod (empty when it has none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pod: String,
    /// Whether this is its pod's infra container.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub infra: bool,
    /// Network mode, networks, ports, DNS and hosts settings.
    #[serde(default)]
    pub network: super::net::ContainerNetwork,
    /// Size in bytes of the container's host-side /dev/shm (`--ipc shareable`), which the
    /// monitor mounts at `userdata/shm` before the runtime's create; `None`: no such mount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<u64>,
    /// `run --timeout`: seconds a run may last before the monitor kills the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// `run -d --rmi`: the image (as named) the monitor removes after removing the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_image: Option<String>,
}

impl ContainerConfig {
    /// The directory bound as the root (`--rootfs DIR` without `:O`).
    pub fn bind_rootfs(&self) -> Option<&std::path::Path> {
        self.rootfs.as_deref().filter(|_| !self.rootfs_overlay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        assert!(should_restart(
            &RestartPolicy::OnFailure { max_retries: 2 },
            1,
            1
        ));
        assert!(!should_restart(
            &RestartPolicy::OnFailure { max_retries: 2 },
            1,
            2
        ));
        assert!(!should_restart(
            &RestartPolicy::OnFailure { max_retries: 0 },
            0,
            0
        ));
        assert!(should_restart(&RestartPolicy::Always, 0, 9));
        assert!(!should_restart(&RestartPolicy::No, 1, 0));
    }

    #[test]
    fn log_drivers() {
        assert_eq!(LogDriver::parse("json-file").unwrap(), LogDriver::JsonFile);
        assert!(LogDriver::parse("syslog").is_err());
    }
}
