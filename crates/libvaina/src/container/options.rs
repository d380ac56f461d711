//! Validated options of `create`/`run`: what the flags and containers.conf say a container
//! should be, independent of the command line (the REST API builds the same struct).
//!
//! The CLI parses raw flags, then merges them with [`ContainerDefaults`] (the `[containers]`
//! table of containers.conf) into one [`CreateOptions`]; spec generation
//! ([`super::spec::generate`]) then needs no configuration files. The value parsers with
//! Podman's error messages live in [`parse`].

pub mod mounts;
pub mod parse;

pub use mounts::{MountSource, UserMount};

use crate::config::containers_conf::ContainersConf;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Everything needed to create a container besides the image.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CreateOptions {
    /// `--name`; generated (adjective_noun) when `None`.
    pub name: Option<String>,
    /// `--rootfs`: the positional argument is this exploded directory, not an image.
    pub rootfs: Option<PathBuf>,
    /// `--rootfs DIR:O`: an overlay over the directory, which stays unchanged.
    pub rootfs_overlay: bool,
    /// `--entrypoint`, already split; `Some(vec![])` clears the image's entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// The command after the image name; empty means the image's CMD.
    pub command: Vec<String>,
    /// Environment set by `--env-host`, `--env-file` and `-e` (in that precedence, already
    /// merged), set over the image's environment.
    pub env: BTreeMap<String, String>,
    /// containers.conf `env`: below the image's environment (Podman's `PATH` and `TERM`).
    pub default_env: Vec<(String, String)>,
    /// `--unsetenv`: names removed from the final environment.
    pub unset_env: Vec<String>,
    /// `--unsetenv-all`: drop every variable that is not set by `-e`/`--env-file`/`--env-host`.
    pub unset_env_all: bool,
    /// `-w`.
    pub workdir: Option<String>,
    /// `-u user[:group]`, unresolved (resolved against the image's /etc/passwd at spec time).
    pub user: Option<String>,
    /// `--group-add`: group names or GIDs, resolved against the image's /etc/group.
    pub group_add: Vec<String>,
    /// `--hostname`; the short container ID when `None`.
    pub hostname: Option<String>,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub interactive: bool,
    /// `--rm`.
    pub remove: bool,
    /// `--label`.
    pub labels: BTreeMap<String, String>,
    /// `--annotation`.
    pub annotations: BTreeMap<String, String>,
    /// Privileges: capabilities, seccomp, masked paths, `--privileged`.
    pub security: SecurityOptions,
    /// `--read-only`: the root filesystem is mounted read-only.
    pub read_only: bool,
    /// `--read-only-tmpfs` (default true): with `--read-only`, tmpfs on /tmp, /var/tmp, /run.
    pub read_only_tmpfs: bool,
    /// `--sysctl` (validated at spec time: namespaced ones only, not in a host namespace).
    pub sysctls: BTreeMap<String, String>,
    /// containers.conf `default_sysctls`: skipped where their namespace is the host's.
    pub default_sysctls: BTreeMap<String, String>,
    /// `--device`.
    pub devices: Vec<DeviceMapping>,
    /// `--pid`, `--ipc`, `--uts`, `--network`.
    pub namespaces: NamespaceOptions,
    /// `--init`: run an init (catatonit) as PID 1 that reaps zombies and forwards signals.
    pub init: bool,
    /// `--init-path` or containers.conf `init_path`; searched in the usual places when `None`.
    pub init_path: Option<PathBuf>,
    /// `--stop-signal` as a number; the image's `StopSignal` or SIGTERM when `None`.
    pub stop_signal: Option<i32>,
    /// `--stop-timeout` in seconds (containers.conf `stop_timeout`, default 10).
    pub stop_timeout: u32,
    /// `--ulimit`: explicit limits; an error at spec time if above the host's hard limit.
    pub ulimits: Vec<Ulimit>,
    /// containers.conf `default_ulimits`: silently clamped to the host's hard limits.
    pub default_ulimits: Vec<Ulimit>,
    /// cgroup resource limits.
    pub resources: Resources,
    /// `--cgroup-parent`.
    pub cgroup_parent: Option<String>,
    /// `--restart`.
    pub restart: RestartPolicy,
    /// `--log-driver` (containers.conf `log_driver`, default `k8s-file`).
    pub log_driver: String,
    /// `--log-opt key=value`.
    pub log_opts: BTreeMap<String, String>,
    /// `--cidfile`: where to write the container ID.
    pub cidfile: Option<PathBuf>,
    /// `--pull`.
    pub pull: PullPolicy,
    /// `--replace`: remove an existing container of the same name first.
    pub replace: bool,
    /// `-v`, `--mount`, `--tmpfs`, in the order given.
    pub mounts: Vec<UserMount>,
    /// `--volumes-from CTR[:ro|rw]`: the container and the forced read-only mode.
    pub volumes_from: Vec<(String, Option<bool>)>,
    /// `--network NAME,...`, `--network-alias`, `--ip`, `-p`, `-P`, `--dns`, `--add-host`, ...
    pub network: super::net::NetworkOptions,
    /// `--pod NAME|ID`: the pod the container joins (see [`crate::pod`]).
    pub pod: Option<String>,
    /// Set by the pod module for a pod's infra container.
    pub infra: bool,
    /// Whether `--network` was given (refused in a pod that shares its network).
    pub network_set: bool,
    /// Whether `-p` was given (refused in a pod that shares its network).
    pub publish_set: bool,
}

impl CreateOptions {
    /// The options of a container with containers.conf's defaults and no flags.
    pub fn with_defaults(defaults: &ContainerDefaults) -> Self {
        CreateOptions {
            default_env: defaults.env.clone(),
            security: SecurityOptions {
                default_capabilities: defaults.default_capabilities.clone(),
                no_new_privileges: defaults.no_new_privileges,
                seccomp: match &defaults.seccomp_profile {
                    Some(p) => SeccompPolicy::Profile(p.clone()),
                    None => SeccompPolicy::Default,
                },
                ..Default::default()
            },
            read_only: defaults.read_only,
            read_only_tmpfs: true,
            default_sysctls: defaults.default_sysctls.clone(),
            init: defaults.init,
            init_path: defaults.init_path.clone(),
            pull: defaults.pull,
            stop_timeout: defaults.stop_timeout,
            default_ulimits: defaults.default_ulimits.clone(),
            resources: Resources {
                pids_limit: (defaults.pids_limit > 0).then_some(defaults.pids_limit),
                shm_size: defaults.shm_size,
                ..Default::default()
            },
            cgroup_parent: defaults.cgroup_parent.clone(),
            log_driver: defaults.log_driver.clone(),
            ..Default::default()
        }
    }
}

/// The `[containers]` values of containers.conf that shape a new container, with Podman's
/// built-in defaults. The config module fills it from the files; tests use `default()`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ContainerDefaults {
    /// `default_capabilities`, without the `CAP_` prefix.
    pub default_capabilities: Vec<String>,
    /// `default_sysctls`.
    pub default_sysctls: BTreeMap<String, String>,
    /// `default_ulimits`.
    pub default_ulimits: Vec<Ulimit>,
    /// `env`.
    pub env: Vec<(String, String)>,
    /// `init_path`.
    pub init_path: Option<PathBuf>,
    /// `log_driver`.
    pub log_driver: String,
    /// `no_new_privileges`.
    pub no_new_privileges: bool,
    /// `pids_limit` (0 = unlimited).
    pub pids_limit: i64,
    /// `read_only`.
    pub read_only: bool,
    /// `seccomp_profile`; the installed containers-common profile or the built-in one if unset.
    pub seccomp_profile: Option<PathBuf>,
    /// `shm_size` in bytes.
    pub shm_size: u64,
    /// `stop_timeout` in seconds.
    pub stop_timeout: u32,
    /// `cgroup_parent` is not a containers.conf key; kept for the REST API's defaults.
    pub cgroup_parent: Option<String>,
    /// `init`: run every container with `--init`.
    pub init: bool,
    /// `env_host`: every container gets `--env-host`.
    pub env_host: bool,
    /// `[engine] pull_policy`.
    pub pull: PullPolicy,
    /// `netns`: the network mode without `--network` (`private`/`bridge`, `none`, `host`).
    #[serde(default)]
    pub netns: Option<String>,
    /// `no_hosts`: no /etc/hosts of vaina's making.
    #[serde(default)]
    pub no_hosts: bool,
}

impl ContainerDefaults {
    /// The defaults from a loaded containers.conf. Podman's nofile and nproc limits of
    /// 1048576 are added unless `default_ulimits` names them (they are clamped to the host
    /// at spec time). A bad value is an error naming the key.
    pub fn from_conf(conf: &ContainersConf) -> crate::Result<Self> {
        let c = &conf.containers;
        let bad = |key: &str, e: crate::Error| {
            crate::Error::InvalidArgument(format!("containers.conf: {key}: {e}"))
        };
        let mut d = ContainerDefaults {
            default_capabilities: conf
                .default_capabilities()
                .iter()
                .map(|n| parse::capability(n).map_err(|e| bad("default_capabilities", e)))
                .collect::<crate::Result<_>>()?,
            ..Default::default()
        };
        d.default_sysctls = conf
            .default_sysctls()
            .iter()
            .map(|s| parse::sysctl(s).map_err(|e| bad("default_sysctls", e)))
            .collect::<crate::Result<_>>()?;
        let mut ulimits: Vec<Ulimit> = conf
            .default_ulimits()
            .iter()
            .map(|u| parse::ulimit(u).map_err(|e| bad("default_ulimits", e)))
            .collect::<crate::Result<_>>()?;
        for name in ["nofile", "nproc"] {
            if !ulimits.iter().any(|u| u.name == name) {
                ulimits.push(Ulimit::new(name, 1_048_576, 1_048_576));
            }
        }
        d.default_ulimits = ulimits;
        d.env = conf
            .env()
            .iter()
            .map(|e| {
                let (k, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
                (k.to_string(), v.to_string())
            })
            .collect();
        d.init_path = c
            .init_path
            .as_ref()
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        d.log_driver = conf.log_driver();
        d.pids_limit = conf.pids_limit();
        d.read_only = c.read_only.unwrap_or(false);
        d.seccomp_profile = c
            .seccomp_profile
            .as_ref()
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        d.shm_size = parse::shm_size(&conf.shm_size()).map_err(|e| bad("shm_size", e))?;
        d.stop_timeout = u32::try_from(conf.stop_timeout()).unwrap_or(u32::MAX);
        d.init = conf.init();
        d.env_host = c.env_host.unwrap_or(false);
        d.netns = c.netns.clone().filter(|n| !n.is_empty());
        d.no_hosts = c.no_hosts.unwrap_or(false);
        if let Some(p) = &conf.engine.pull_policy {
            d.pull = parse::pull(p).map_err(|e| bad("pull_policy", e))?;
        }
        Ok(d)
    }
}

/// Podman's default capability set (containers-common `default_capabilities`).
pub use crate::config::containers_conf::DEFAULT_CAPABILITIES;

/// Podman's default `PATH` inside a container.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl Default for ContainerDefaults {
    fn default() -> Self {
        ContainerDefaults {
            default_capabilities: DEFAULT_CAPABILITIES.iter().map(|c| c.to_string()).collect(),
            default_sysctls: BTreeMap::from([(
                "net.ipv4.ping_group_range".to_string(),
                "0 0".to_string(),
            )]),
            default_ulimits: vec![
                Ulimit::new("nofile", 1_048_576, 1_048_576),
                Ulimit::new("nproc", 1_048_576, 1_048_576),
            ],
            env: vec![
                ("PATH".into(), DEFAULT_PATH.into()),
                ("TERM".into(), "xterm".into()),
            ],
            init_path: None,
            log_driver: "k8s-file".into(),
            no_new_privileges: false,
            pids_limit: 2048,
            read_only: false,
            seccomp_profile: None,
            shm_size: 64 * 1024 * 1024,
            stop_timeout: 10,
            cgroup_parent: None,
            init: false,
            env_host: false,
            pull: PullPolicy::Missing,
            netns: None,
            no_hosts: false,
        }
    }
}

/// Capabilities, seccomp and path masking.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SecurityOptions {
    /// `--privileged`: every capability, no seccomp, no masked paths, all host devices.
    pub privileged: bool,
    /// The base set (containers.conf `default_capabilities`), names without `CAP_`.
    pub default_capabilities: Vec<String>,
    /// `--cap-add`, upper case without `CAP_`; may hold `ALL`.
    pub cap_add: Vec<String>,
    /// `--cap-drop`, upper case without `CAP_`; may hold `ALL`.
    pub cap_drop: Vec<String>,
    /// `--security-opt seccomp=`.
    pub seccomp: SeccompPolicy,
    /// `--security-opt no-new-privileges`.
    pub no_new_privileges: bool,
    /// `--security-opt label=disable` (accepted; SELinux labelling is not done).
    pub label_disable: bool,
    /// `--security-opt mask=/a:/b`: extra masked paths.
    pub mask: Vec<String>,
    /// `--security-opt unmask=/a:/b` or `ALL`: default masked/read-only paths to drop.
    pub unmask: Vec<String>,
}

/// Which seccomp filter the container gets.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum SeccompPolicy {
    /// containers-common's seccomp.json when installed, else vaina's built-in profile.
    #[default]
    Default,
    /// `seccomp=unconfined`: no filter.
    Unconfined,
    /// `seccomp=PATH`: a profile in the Docker/Podman JSON format.
    Profile(PathBuf),
}

/// A `--device HOST[:CONTAINER[:PERMS]]` mapping.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeviceMapping {
    pub host: PathBuf,
    pub container: PathBuf,
    /// Some of `r`, `w`, `m`.
    pub permissions: String,
}

/// How a namespace is set up.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NamespaceMode {
    /// A new namespace for the container.
    #[default]
    Private,
    /// The host's namespace.
    Host,
    /// The namespace of another container (name or ID, resolved by the caller).
    Container(String),
    /// A namespace file (`ns:PATH`).
    Path(PathBuf),
    /// Network only: a new namespace with just loopback (`--network none`). IPC: a new
    /// namespace without /dev/shm.
    None,
    /// IPC only (Podman's default): a new namespace whose /dev/shm is a tmpfs vaina mounts
    /// on the host (`userdata/shm`), so `--ipc container:NAME` can share it.
    Shareable,
}

/// `--pid`, `--ipc`, `--uts`, `--network`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct NamespaceOptions {
    pub pid: NamespaceMode,
    pub ipc: NamespaceMode,
    pub uts: NamespaceMode,
    /// `Private` means the default network (bridge, a later issue); `None` is loopback only.
    pub net: NamespaceMode,
}

impl NamespaceOptions {
    /// The containers whose namespaces are joined (`container:NAME` in any of the modes),
    /// deduplicated. The caller resolves each to the PID of that running container and puts
    /// it in [`super::spec::SpecInput::container_pids`] under the same NAME.
    pub fn joined_containers(&self) -> Vec<&str> {
        let mut v: Vec<&str> = [&self.pid, &self.ipc, &self.uts, &self.net]
            .into_iter()
            .filter_map(|m| match m {
                NamespaceMode::Container(c) => Some(c.as_str()),
                _ => None,
            })
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// One resource limit, `--ulimit name=soft[:hard]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ulimit {
    /// The short name as in `--ulimit` (`nofile`, `nproc`, `core`, ...).
    pub name: String,
    pub soft: u64,
    pub hard: u64,
}

impl Ulimit {
    pub fn new(name: &str, soft: u64, hard: u64) -> Self {
        Ulimit {
            name: name.to_string(),
            soft,
            hard,
        }
    }
}

/// cgroup limits; `None` leaves the runtime's default.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Resources {
    /// `-m, --memory` in bytes.
    pub memory: Option<i64>,
    /// `--memory-swap` in bytes (memory + swap); -1 unlimited; twice `memory` when unset.
    pub memory_swap: Option<i64>,
    /// `--memory-reservation` in bytes.
    pub memory_reservation: Option<i64>,
    /// `-c, --cpu-shares`.
    pub cpu_shares: Option<u64>,
    /// `--cpu-period` in microseconds (`--cpus` sets 100000).
    pub cpu_period: Option<u64>,
    /// `--cpu-quota` in microseconds (`--cpus` sets cpus × period).
    pub cpu_quota: Option<i64>,
    /// `--cpuset-cpus`.
    pub cpuset_cpus: Option<String>,
    /// `--cpuset-mems`.
    pub cpuset_mems: Option<String>,
    /// `--pids-limit` (containers.conf `pids_limit`, 2048); `None` = unlimited.
    pub pids_limit: Option<i64>,
    /// `--blkio-weight` (10–1000).
    pub blkio_weight: Option<u16>,
    /// `--shm-size` in bytes (default 64 MiB).
    pub shm_size: u64,
}

/// `--restart` policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RestartPolicy {
    #[default]
    No,
    /// `on-failure[:N]`; `max_retries` 0 means no limit.
    OnFailure {
        max_retries: u32,
    },
    Always,
    UnlessStopped,
}

impl RestartPolicy {
    /// The policy's name as `--restart` spells it.
    pub fn name(&self) -> &'static str {
        match self {
            RestartPolicy::No => "no",
            RestartPolicy::OnFailure { .. } => "on-failure",
            RestartPolicy::Always => "always",
            RestartPolicy::UnlessStopped => "unless-stopped",
        }
    }
}

/// `--pull` policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PullPolicy {
    Always,
    #[default]
    Missing,
    Never,
    Newer,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_from_containers_conf() {
        let conf = ContainersConf::parse(
            std::path::Path::new("/test/containers.conf"),
            "[containers]\ndefault_ulimits = [\"nofile=500:1000\"]\ndefault_capabilities = [\"chown\"]\npids_limit = 10\nshm_size = \"1m\"\ninit = true\n[engine]\nstop_timeout = 3\n",
        )
        .unwrap();
        let d = ContainerDefaults::from_conf(&conf).unwrap();
        assert_eq!(d.default_capabilities, ["CHOWN"]);
        assert_eq!(
            d.default_ulimits,
            [
                Ulimit::new("nofile", 500, 1000),
                Ulimit::new("nproc", 1_048_576, 1_048_576)
            ]
        );
        assert_eq!((d.pids_limit, d.shm_size, d.stop_timeout), (10, 1 << 20, 3));
        assert!(d.init);
        assert_eq!(d.env[0].0, "PATH");
        let ns = NamespaceOptions {
            pid: NamespaceMode::Container("a".into()),
            ipc: NamespaceMode::Container("a".into()),
            net: NamespaceMode::Container("b".into()),
            uts: NamespaceMode::Host,
        };
        assert_eq!(ns.joined_containers(), ["a", "b"]);
        let plain = ContainerDefaults::from_conf(&ContainersConf::default()).unwrap();
        assert_eq!(plain, ContainerDefaults::default());
        let bad = ContainersConf::parse(
            std::path::Path::new("/x"),
            "[containers]\ndefault_ulimits = [\"bogus=1\"]\n",
        )
        .unwrap();
        assert!(ContainerDefaults::from_conf(&bad)
            .unwrap_err()
            .to_string()
            .starts_with("containers.conf: default_ulimits: "));
    }
}
