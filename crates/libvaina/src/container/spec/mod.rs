//! OCI runtime spec generation: image config + [`CreateOptions`] + host facts → `config.json`,
//! with Podman's defaults (capabilities, seccomp, masked and read-only paths, devices, rlimits
//! the host allows).
//!
//! [`generate`] is a pure function of its [`SpecInput`] apart from reading the image's
//! /etc/passwd and /etc/group, the seccomp profile, device nodes named by `--device` and the
//! host facts ([`HostFacts::probe`], which tests replace). The parts live in their own files:
//! [`process`] (arguments, environment), [`user`], [`mounts`], [`security`] (capabilities,
//! masked paths, devices, sysctls, namespaces), [`seccomp`], [`rlimits`] and [`resources`].

pub mod host;
pub mod mounts;
pub mod process;
pub mod resources;
pub mod rlimits;
pub mod seccomp;
pub mod security;
pub mod user;

pub use host::HostFacts;

use super::options::CreateOptions;
use crate::Result;
use oci_spec::image::ImageConfiguration;
use oci_spec::runtime::{LinuxBuilder, RootBuilder, Spec, SpecBuilder};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// Errors of spec generation. Those about the user are exit code 126 in Podman (the container
/// cannot be started); the rest are 125.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// `-u NAME` not in the image's /etc/passwd.
    #[error("unable to find user {0}: no matching entries in passwd file")]
    UserNotFound(String),
    /// A group (of `-u user:GROUP` or `--group-add`) not in the image's /etc/group.
    #[error("unable to find group {0}: no matching entries in group file")]
    GroupNotFound(String),
    /// Neither the command line nor the image say what to run.
    #[error("no command or entrypoint provided, and no CMD or ENTRYPOINT from image")]
    NoCommand,
    /// A flag value that is only invalid on this host or with the other options.
    #[error("{0}")]
    Invalid(String),
    /// The seccomp profile could not be read or understood.
    #[error("opening seccomp profile failed: {0}")]
    Seccomp(String),
    /// `--init` without an init binary on the host.
    #[error("{0}")]
    NoInit(String),
    /// oci-spec refused a value (a bug in vaina).
    #[error("building the runtime spec: {0}")]
    Build(#[from] oci_spec::OciSpecError),
}

impl SpecError {
    /// Podman's exit code for this error: 126 when the user or group cannot be resolved.
    pub fn exit_code(&self) -> i32 {
        match self {
            SpecError::UserNotFound(_) | SpecError::GroupNotFound(_) => 126,
            _ => 125,
        }
    }
}

/// Which cgroup manager creates the container's cgroup; decides `linux.cgroupsPath`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CgroupManager {
    /// Paths under each hierarchy: `/vaina/<id>` (or `<cgroup-parent>/<id>`).
    #[default]
    Cgroupfs,
    /// A systemd scope `machine.slice:vaina:<id>` (only where systemd is PID 1).
    Systemd,
}

impl CgroupManager {
    /// `systemd` where systemd runs as PID 1, else `cgroupfs`; `name` (from
    /// `--cgroup-manager` or containers.conf) wins when given, except that `systemd` without a
    /// running systemd falls back to `cgroupfs`.
    pub fn choose(name: Option<&str>) -> Self {
        let systemd = std::path::Path::new("/run/systemd/system").is_dir();
        match name {
            Some("cgroupfs") => CgroupManager::Cgroupfs,
            _ if systemd => CgroupManager::Systemd,
            _ => CgroupManager::Cgroupfs,
        }
    }
}

/// Inputs of spec generation that are not flags. Build it with [`SpecInput::new`] and set the
/// fields that apply; new fields always get a neutral default there.
#[derive(Debug, Clone)]
pub struct SpecInput<'a> {
    /// The full container ID (64 hex digits).
    pub id: &'a str,
    pub options: &'a CreateOptions,
    pub image: &'a ImageConfiguration,
    /// The mounted rootfs (overlay merged dir); its /etc/passwd and /etc/group resolve `-u`.
    pub rootfs: PathBuf,
    /// Files vaina prepares and bind-mounts: (destination in container, source on host),
    /// e.g. `/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`, `/run/.containerenv`.
    pub files: Vec<(String, PathBuf)>,
    /// PIDs of the running containers named by `container:NAME` in `--pid`, `--ipc`, `--uts`
    /// and `--network`, keyed by NAME exactly as given; the caller resolves the names listed
    /// by [`crate::container::options::NamespaceOptions::joined_containers`].
    pub container_pids: BTreeMap<String, u32>,
    /// A network namespace prepared by the network code (an nsfs bind mount), joined when
    /// the network mode is private. `None`: a new namespace with only loopback.
    pub network_namespace: Option<PathBuf>,
    pub cgroup_manager: CgroupManager,
    /// Facts about the host; `None` probes this host ([`HostFacts::probe`]).
    pub host: Option<HostFacts>,
    /// The user's volumes, binds and tmpfs mounts, resolved by
    /// [`crate::volume::attach_for_container`]; they go last and replace any default mount
    /// on the same destination.
    pub user_mounts: Vec<oci_spec::runtime::Mount>,
    /// The container's own host-side /dev/shm (`--ipc shareable`); `None`: a tmpfs inside.
    pub shm_dir: Option<PathBuf>,
    /// The host-side /dev/shm of the containers named by `--ipc container:NAME` (keyed as
    /// in `container_pids`), when they have one.
    pub container_shm: BTreeMap<String, PathBuf>,
}

impl<'a> SpecInput<'a> {
    /// An input with no prepared files, no other containers, a private network without a
    /// prepared namespace, the cgroupfs manager and the real host.
    pub fn new(
        id: &'a str,
        options: &'a CreateOptions,
        image: &'a ImageConfiguration,
        rootfs: PathBuf,
    ) -> Self {
        SpecInput {
            id,
            options,
            image,
            rootfs,
            files: Vec::new(),
            container_pids: BTreeMap::new(),
            network_namespace: None,
            cgroup_manager: CgroupManager::Cgroupfs,
            host: None,
            user_mounts: Vec::new(),
            shm_dir: None,
            container_shm: BTreeMap::new(),
        }
    }

    /// The hostname the container gets: `--hostname` or the first 12 digits of its ID.
    pub fn hostname(&self) -> String {
        self.options
            .hostname
            .clone()
            .unwrap_or_else(|| self.id.chars().take(12).collect())
    }
}

/// Builds the runtime spec for a container.
pub fn generate(input: &SpecInput<'_>) -> Result<Spec> {
    let probed;
    let host = match &input.host {
        Some(h) => h,
        None => {
            probed = HostFacts::probe();
            &probed
        }
    };
    let opts = input.options;
    let user = user::resolve(&input.rootfs, input.image, opts)?;
    let caps = security::capabilities(&opts.security, host)?;
    let mut proc = process::build(input, &user, host)?;
    proc.set_capabilities(Some(security::linux_capabilities(
        &caps,
        user.uid,
        &opts.security,
    )));
    proc.set_rlimits(Some(rlimits::build(opts, host)?));
    // oci-spec's builders start from its own defaults: state every value Podman leaves out.
    proc.set_no_new_privileges(opts.security.no_new_privileges.then_some(true));

    let namespaces = security::namespaces(input, host)?;
    let sysctls = security::sysctls(opts)?;
    let (devices, device_rules) = security::devices(opts)?;
    let mut res = resources::build(&opts.resources, host)?;
    res.set_devices(Some(device_rules));

    let mut linux = LinuxBuilder::default()
        .resources(res)
        .cgroups_path(resources::cgroups_path(
            input.id,
            input.cgroup_manager,
            opts.cgroup_parent.as_deref(),
        ))
        .namespaces(namespaces)
        .devices(devices)
        .sysctl(sysctls.into_iter().collect::<HashMap<_, _>>())
        .build()
        .map_err(SpecError::from)?;
    if opts.security.privileged {
        linux.set_masked_paths(None);
        linux.set_readonly_paths(None);
    } else {
        let (masked, readonly) = security::masked_paths(&opts.security);
        linux.set_masked_paths(Some(masked));
        linux.set_readonly_paths(Some(readonly));
    }
    linux.set_seccomp(seccomp::for_container(&opts.security, &caps, host)?);

    let uts_private = opts.namespaces.uts == crate::container::options::NamespaceMode::Private;
    let mut spec = SpecBuilder::default()
        .version("1.0.2")
        .root(
            RootBuilder::default()
                .path(input.rootfs.clone())
                .readonly(opts.read_only)
                .build()
                .map_err(SpecError::from)?,
        )
        .mounts(mounts::build(input, host)?)
        .process(proc)
        .linux(linux)
        .annotations(annotations(input))
        .build()
        .map_err(SpecError::from)?;
    spec.set_hostname(uts_private.then(|| input.hostname()));
    Ok(spec)
}

/// Podman's annotations plus `--annotation`s (which win).
fn annotations(input: &SpecInput<'_>) -> HashMap<String, String> {
    let o = input.options;
    let flag = |b: bool| if b { "TRUE" } else { "FALSE" }.to_string();
    let mut a = HashMap::from([
        ("io.container.manager".to_string(), "vaina".to_string()),
        ("io.podman.annotations.autoremove".into(), flag(o.remove)),
        ("io.podman.annotations.init".into(), flag(o.init)),
        (
            "io.podman.annotations.privileged".into(),
            flag(o.security.privileged),
        ),
        (
            "org.opencontainers.image.stopSignal".into(),
            process::stop_signal(o, input.image).to_string(),
        ),
    ]);
    for (k, v) in &o.annotations {
        a.insert(k.clone(), v.clone());
    }
    a
}

#[cfg(test)]
pub(crate) mod tests;
