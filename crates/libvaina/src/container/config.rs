//! What vaina remembers about a container beyond its state: the parts of the create options
//! that the lifecycle needs later (restart policy, log driver, stop signal, terminal, stdin,
//! `--rm`) and what `inspect` and `ps` show (command, entrypoint, labels). Stored as JSON in
//! the `config` column of the containers table; the OCI spec itself is the bundle's
//! `config.json`.

use super::ContainerError;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `--restart`: Podman's policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "name", content = "max", rename_all = "kebab-case")]
pub enum RestartPolicy {
    #[default]
    No,
    /// Restart on a non-zero exit, at most N times (0 = no limit).
    OnFailure(u32),
    Always,
    UnlessStopped,
}

impl RestartPolicy {
    /// Parses `no|on-failure[:N]|always|unless-stopped` (empty is `no`).
    pub fn parse(s: &str) -> Result<Self, ContainerError> {
        let bad = || ContainerError::Invalid(format!("{s:?} is not a valid restart policy: invalid argument"));
        let (name, max) = match s.split_once(':') {
            Some((n, m)) => (n, Some(m)),
            None => (s, None),
        };
        let p = match name {
            "" | "no" => RestartPolicy::No,
            "on-failure" => {
                let n = match max {
                    Some(m) => m.parse::<u32>().map_err(|_| {
                        ContainerError::Invalid(format!(
                            "restart count {m:?} is not a non-negative number: invalid argument"
                        ))
                    })?,
                    None => 0,
                };
                return Ok(RestartPolicy::OnFailure(n));
            }
            "always" => RestartPolicy::Always,
            "unless-stopped" => RestartPolicy::UnlessStopped,
            _ => return Err(bad()),
        };
        if max.is_some() {
            return Err(ContainerError::Invalid(
                "restart policy retries can only be specified with on-failure restart policy: invalid argument".into(),
            ));
        }
        Ok(p)
    }

    /// Podman's name of the policy (`""` for no).
    pub fn name(self) -> &'static str {
        match self {
            RestartPolicy::No => "",
            RestartPolicy::OnFailure(_) => "on-failure",
            RestartPolicy::Always => "always",
            RestartPolicy::UnlessStopped => "unless-stopped",
        }
    }

    /// Whether a container that exited with `code` after `restarts` restarts runs again.
    pub fn should_restart(self, code: i32, restarts: u32) -> bool {
        match self {
            RestartPolicy::No => false,
            RestartPolicy::OnFailure(max) => code != 0 && (max == 0 || restarts < max),
            RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
        }
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

/// The lifecycle options of `create`/`run` that are not part of the OCI spec.
#[derive(Debug, Clone, Default)]
pub struct LifecycleOptions {
    pub restart: RestartPolicy,
    pub log_driver: LogDriver,
    /// `--log-opt path=...`.
    pub log_path: Option<PathBuf>,
    /// `--stop-signal` as a number (default SIGTERM).
    pub stop_signal: Option<i32>,
    /// `--stop-timeout` in seconds (default 10).
    pub stop_timeout: Option<u64>,
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
    /// Path of the OCI runtime binary chosen at create time.
    #[serde(default)]
    pub runtime: String,
    /// Set by `stop` so the restart policy does not bring the container back.
    #[serde(default)]
    pub stopped_by_user: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        assert_eq!(RestartPolicy::parse("no").unwrap(), RestartPolicy::No);
        assert_eq!(
            RestartPolicy::parse("on-failure:3").unwrap(),
            RestartPolicy::OnFailure(3)
        );
        assert_eq!(
            RestartPolicy::parse("unless-stopped").unwrap(),
            RestartPolicy::UnlessStopped
        );
        let e = RestartPolicy::parse("sometimes").unwrap_err().to_string();
        assert_eq!(e, "\"sometimes\" is not a valid restart policy: invalid argument");
        assert!(RestartPolicy::parse("always:2").is_err());
        assert!(RestartPolicy::parse("on-failure:x").is_err());
        assert!(RestartPolicy::OnFailure(2).should_restart(1, 1));
        assert!(!RestartPolicy::OnFailure(2).should_restart(1, 2));
        assert!(!RestartPolicy::OnFailure(0).should_restart(0, 0));
        assert!(RestartPolicy::Always.should_restart(0, 9));
    }

    #[test]
    fn log_drivers() {
        assert_eq!(LogDriver::parse("json-file").unwrap(), LogDriver::JsonFile);
        assert!(LogDriver::parse("syslog").is_err());
    }
}
