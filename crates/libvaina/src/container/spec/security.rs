//! Privileges and isolation: the capability sets (Podman's defaults, `--cap-add/--cap-drop`,
//! `--privileged`), masked and read-only paths (`--security-opt mask=/unmask=`), namespaces
//! (`--pid/--ipc/--uts/--network`), sysctls (namespaced ones only) and `--device`.
//!
//! The seccomp filter is in [`super::seccomp`]; the host's bounding set comes from
//! [`super::HostFacts`].

use super::{HostFacts, SpecError, SpecInput};
use crate::container::options::{CreateOptions, NamespaceMode, SecurityOptions};
use crate::Result;
use oci_spec::runtime::{
    Capability, LinuxCapabilities, LinuxDevice, LinuxDeviceBuilder, LinuxDeviceCgroup,
    LinuxDeviceCgroupBuilder, LinuxDeviceType, LinuxNamespace, LinuxNamespaceBuilder,
    LinuxNamespaceType,
};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Every Linux capability, indexed by its number (names without `CAP_`).
pub const ALL_CAPABILITIES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Podman's masked paths (unreadable inside the container).
pub const MASKED_PATHS: [&str; 11] = [
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/fs/selinux",
    "/sys/dev/block",
];

/// Podman's read-only paths.
pub const READONLY_PATHS: [&str; 6] = [
    "/proc/asound",
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The container's capability set (names without `CAP_`, sorted): the defaults, or every
/// capability of the host's bounding set with `--privileged`; then `--cap-drop` and
/// `--cap-add` (either may be `ALL`; an add wins over a drop of the same name, as in Podman).
pub fn capabilities(sec: &SecurityOptions, host: &HostFacts) -> Result<BTreeSet<String>> {
    let bounding: BTreeSet<String> = host.bounding_capabilities.iter().cloned().collect();
    let norm = |names: &[String]| -> Result<Vec<String>> {
        names
            .iter()
            .map(|n| crate::container::options::parse::capability(n))
            .collect()
    };
    let add = norm(&sec.cap_add)?;
    let drop = norm(&sec.cap_drop)?;
    if sec.privileged {
        // Podman: --privileged gives every capability, --cap-drop still applies.
        let mut set = bounding.clone();
        if drop.iter().any(|d| d == "ALL") {
            set.clear();
        }
        for d in &drop {
            set.remove(d);
        }
        return Ok(set);
    }
    let mut set: BTreeSet<String> = norm(&sec.default_capabilities)?
        .into_iter()
        .filter(|c| c != "ALL")
        .collect();
    if drop.iter().any(|d| d == "ALL") {
        set.clear();
    }
    for d in &drop {
        set.remove(d);
    }
    if add.iter().any(|a| a == "ALL") {
        set.extend(bounding.iter().cloned());
        for d in drop.iter().filter(|d| *d != "ALL") {
            set.remove(d);
        }
    }
    set.extend(add.into_iter().filter(|a| a != "ALL"));
    Ok(set)
}

/// The process capability sets of the runtime spec, as Podman sets them. For root, bounding,
/// effective and permitted get the whole set; inheritable and ambient stay empty. For any
/// other user, the bounding set is the same but only capabilities named by `--cap-add` are
/// effective, permitted, inheritable and ambient (so `-u app` runs without privileges).
pub fn linux_capabilities(
    caps: &BTreeSet<String>,
    uid: u32,
    sec: &SecurityOptions,
) -> LinuxCapabilities {
    let to_set = |names: &mut dyn Iterator<Item = &String>| -> oci_spec::runtime::Capabilities {
        names.filter_map(|c| Capability::from_str(c).ok()).collect()
    };
    let all = to_set(&mut caps.iter());
    let granted = if uid == 0 {
        all.clone()
    } else {
        let added: BTreeSet<String> = sec
            .cap_add
            .iter()
            .filter_map(|c| crate::container::options::parse::capability(c).ok())
            .collect();
        let add_all = added.contains("ALL");
        to_set(&mut caps.iter().filter(|c| add_all || added.contains(*c)))
    };
    // Every set is stated: oci-spec's default holds youki's own choice of capabilities.
    let mut c = LinuxCapabilities::default();
    c.set_bounding(Some(all));
    c.set_effective(Some(granted.clone()));
    c.set_permitted(Some(granted.clone()));
    if uid == 0 || granted.is_empty() {
        c.set_inheritable(None);
        c.set_ambient(None);
    } else {
        c.set_inheritable(Some(granted.clone()));
        c.set_ambient(Some(granted));
    }
    c
}

/// Masked and read-only paths after `--security-opt mask=` and `unmask=`.
pub fn masked_paths(sec: &SecurityOptions) -> (Vec<String>, Vec<String>) {
    let unmask_all = sec.unmask.iter().any(|u| u == "ALL");
    let keep = |p: &&&str| !unmask_all && !sec.unmask.iter().any(|u| u == **p);
    let mut masked: Vec<String> = MASKED_PATHS
        .iter()
        .filter(keep)
        .map(|s| s.to_string())
        .collect();
    for m in &sec.mask {
        if !masked.contains(m) {
            masked.push(m.clone());
        }
    }
    let readonly = READONLY_PATHS
        .iter()
        .filter(keep)
        .map(|s| s.to_string())
        .collect();
    (masked, readonly)
}

/// The namespaces of the spec: a new mount namespace always; pid, ipc, uts and network new,
/// the host's (omitted), or another container's (`/proc/PID/ns/...`); a cgroup namespace on
/// cgroup v2 only (v1 and hybrid hosts share the host's, as Podman does).
pub fn namespaces(input: &SpecInput<'_>, host: &HostFacts) -> Result<Vec<LinuxNamespace>> {
    let ns = &input.options.namespaces;
    let mut out = Vec::new();
    let kinds = [
        (LinuxNamespaceType::Pid, &ns.pid, "pid", "pid"),
        (LinuxNamespaceType::Network, &ns.net, "net", "network"),
        (LinuxNamespaceType::Ipc, &ns.ipc, "ipc", "ipc"),
        (LinuxNamespaceType::Uts, &ns.uts, "uts", "uts"),
    ];
    for (typ, mode, file, what) in kinds {
        let path: Option<PathBuf> = match mode {
            NamespaceMode::Host => continue,
            NamespaceMode::Private if typ == LinuxNamespaceType::Network => {
                input.network_namespace.clone()
            }
            NamespaceMode::Private | NamespaceMode::None | NamespaceMode::Shareable => None,
            NamespaceMode::Path(p) => Some(p.clone()),
            NamespaceMode::Container(name) => {
                let pid = input.container_pids.get(name).ok_or_else(|| {
                    SpecError::Invalid(format!(
                        "looking up container to share {what} namespace with: no container with name or ID {name:?} found: no such container"
                    ))
                })?;
                Some(PathBuf::from(format!("/proc/{pid}/ns/{file}")))
            }
        };
        out.push(namespace(typ, path)?);
    }
    out.push(namespace(LinuxNamespaceType::Mount, None)?);
    if host.cgroup_v2 {
        out.push(namespace(LinuxNamespaceType::Cgroup, None)?);
    }
    Ok(out)
}

fn namespace(typ: LinuxNamespaceType, path: Option<PathBuf>) -> Result<LinuxNamespace> {
    let mut b = LinuxNamespaceBuilder::default().typ(typ);
    if let Some(p) = path {
        b = b.path(p);
    }
    Ok(b.build().map_err(SpecError::from)?)
}

/// The kernel namespace a sysctl belongs to, or `None` if it is not namespaced (and so may
/// not be set in a container).
fn sysctl_namespace(key: &str) -> Option<&'static str> {
    const IPC: [&str; 8] = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        Some("IPC")
    } else if key.starts_with("net.") {
        Some("Network")
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        Some("UTS")
    } else {
        None
    }
}

/// The sysctls of the spec: containers.conf defaults that apply (skipped silently where the
/// namespace is the host's), then `--sysctl` values, validated as Podman does.
pub fn sysctls(opts: &CreateOptions) -> Result<BTreeMap<String, String>> {
    let shared = |ns: &str| {
        let mode = match ns {
            "IPC" => &opts.namespaces.ipc,
            "Network" => &opts.namespaces.net,
            _ => &opts.namespaces.uts,
        };
        matches!(mode, NamespaceMode::Host)
    };
    let mut out = BTreeMap::new();
    for (k, v) in &opts.default_sysctls {
        if sysctl_namespace(k).is_some_and(|ns| !shared(ns)) {
            out.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in &opts.sysctls {
        let Some(ns) = sysctl_namespace(k) else {
            return Err(SpecError::Invalid(format!("sysctl '{k}' is not allowed")).into());
        };
        if shared(ns) {
            return Err(SpecError::Invalid(format!(
                "sysctl {k}={v} can't be set since {ns} Namespace set to host: invalid argument"
            ))
            .into());
        }
        out.insert(k.clone(), v.clone());
    }
    Ok(out)
}

/// Device nodes and cgroup device rules: deny everything, then allow each `--device` (and
/// with `--privileged` every device node of the host, with an allow-all rule). The runtime
/// adds its default devices (null, zero, full, random, urandom, tty, ptmx) itself.
pub fn devices(opts: &CreateOptions) -> Result<(Vec<LinuxDevice>, Vec<LinuxDeviceCgroup>)> {
    let mut nodes = Vec::new();
    let mut rules = vec![LinuxDeviceCgroupBuilder::default()
        .allow(false)
        .access("rwm")
        .build()
        .map_err(SpecError::from)?];
    if opts.security.privileged {
        let mut found = Vec::new();
        host_devices(Path::new("/dev"), &mut found);
        for (path, typ, major, minor, mode) in found {
            nodes.push(device_node(&path, typ, major, minor, mode)?);
        }
        rules.push(
            LinuxDeviceCgroupBuilder::default()
                .allow(true)
                .access("rwm")
                .build()
                .map_err(SpecError::from)?,
        );
    }
    for d in &opts.devices {
        let meta = std::fs::metadata(&d.host).map_err(|e| {
            SpecError::Invalid(format!(
                "stat {}: {}",
                d.host.display(),
                crate::container::options::parse::io_reason(&e)
            ))
        })?;
        let ft = meta.file_type();
        // A directory (`--device /dev/snd`) brings every device node below it.
        let found: Vec<FoundDevice> = if ft.is_dir() {
            let mut v = Vec::new();
            host_devices(&d.host, &mut v);
            v.into_iter()
                .map(|(p, t, ma, mi, mode)| {
                    let rel = p.strip_prefix(&d.host).unwrap_or(&p).to_path_buf();
                    (d.container.join(rel), t, ma, mi, mode)
                })
                .collect()
        } else if ft.is_char_device() || ft.is_block_device() {
            let typ = if ft.is_char_device() {
                LinuxDeviceType::C
            } else {
                LinuxDeviceType::B
            };
            let (major, minor) = split_dev(meta.rdev());
            vec![(d.container.clone(), typ, major, minor, meta.mode() & 0o777)]
        } else {
            return Err(SpecError::Invalid(format!(
                "{} is not a valid device: not a device node",
                d.host.display()
            ))
            .into());
        };
        for (path, typ, major, minor, mode) in found {
            nodes.retain(|n: &LinuxDevice| n.path() != &path);
            nodes.push(device_node(&path, typ, major, minor, mode)?);
            rules.push(
                LinuxDeviceCgroupBuilder::default()
                    .allow(true)
                    .typ(typ)
                    .major(major)
                    .minor(minor)
                    .access(d.permissions.clone())
                    .build()
                    .map_err(SpecError::from)?,
            );
        }
    }
    Ok((nodes, rules))
}

fn device_node(
    path: &Path,
    typ: LinuxDeviceType,
    major: i64,
    minor: i64,
    mode: u32,
) -> Result<LinuxDevice> {
    Ok(LinuxDeviceBuilder::default()
        .path(path)
        .typ(typ)
        .major(major)
        .minor(minor)
        .file_mode(mode)
        .uid(0u32)
        .gid(0u32)
        .build()
        .map_err(SpecError::from)?)
}

fn split_dev(rdev: u64) -> (i64, i64) {
    (
        nix::sys::stat::major(rdev) as i64,
        nix::sys::stat::minor(rdev) as i64,
    )
}

type FoundDevice = (PathBuf, LinuxDeviceType, i64, i64, u32);

/// Every char and block device under `dir` (the runtime's own /dev/pts, /dev/shm, /dev/mqueue
/// and the console are skipped, as Podman does).
fn host_devices(dir: &Path, out: &mut Vec<FoundDevice>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let path = e.path();
        if [
            "/dev/pts",
            "/dev/shm",
            "/dev/mqueue",
            "/dev/console",
            "/dev/ptmx",
        ]
        .iter()
        .any(|s| path == Path::new(s))
        {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let ft = meta.file_type();
        if ft.is_dir() {
            host_devices(&path, out);
            continue;
        }
        let typ = if ft.is_char_device() {
            LinuxDeviceType::C
        } else if ft.is_block_device() {
            LinuxDeviceType::B
        } else {
            continue;
        };
        let (major, minor) = split_dev(meta.rdev());
        out.push((path, typ, major, minor, meta.mode() & 0o777));
    }
}
