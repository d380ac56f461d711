//! The mounts of the spec, in Podman's order: /proc, /dev, /sys, /dev/pts, /dev/mqueue,
//! tmpfs for `--read-only` (/tmp, /var/tmp, /run), the files vaina prepared (/etc/hosts,
//! /etc/resolv.conf, /etc/hostname, /run/.containerenv), /dev/shm (`--shm-size`), the cgroup
//! tree (read-only unless privileged) and the `--init` binary; then the user's mounts
//! (`-v`, `--mount`, `--tmpfs`, resolved by the volume module), parents before children,
//! each replacing a default mount on the same destination.
//!
//! /sys is a fresh sysfs in a private network namespace; with `--network host` the host's
//! /sys is bind-mounted instead (sysfs can only be mounted by the owner of the netns).
//! /dev/shm is a tmpfs of its own (also with `--ipc container:NAME`, see [`shm_mount`]), or the
//! host's with `--ipc host`.

use super::{HostFacts, SpecError, SpecInput};
use crate::container::options::NamespaceMode;
use crate::Result;
use oci_spec::runtime::{Mount, MountBuilder};

fn mount(dest: &str, typ: &str, source: &str, options: &[&str]) -> Result<Mount> {
    Ok(MountBuilder::default()
        .destination(dest)
        .typ(typ)
        .source(source)
        .options(options.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .build()
        .map_err(SpecError::from)?)
}

/// Every mount of the container, in the order the runtime must perform them.
pub fn build(input: &SpecInput<'_>, host: &HostFacts) -> Result<Vec<Mount>> {
    let o = input.options;
    let privileged = o.security.privileged;
    let mut m = vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"])?,
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "noexec", "strictatime", "mode=755", "size=65536k"],
        )?,
    ];
    let ro = if privileged { "rw" } else { "ro" };
    if o.namespaces.net == NamespaceMode::Host {
        m.push(mount(
            "/sys",
            "bind",
            "/sys",
            &["rbind", "rprivate", "nosuid", "noexec", "nodev", ro],
        )?);
    } else {
        m.push(mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", ro],
        )?);
    }
    m.push(mount(
        "/dev/pts",
        "devpts",
        "devpts",
        &[
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ],
    )?);
    m.push(mount(
        "/dev/mqueue",
        "mqueue",
        "mqueue",
        &["nosuid", "noexec", "nodev"],
    )?);
    if o.read_only && o.read_only_tmpfs {
        for (dest, mode) in [
            ("/tmp", "mode=1777"),
            ("/var/tmp", "mode=1777"),
            ("/run", "mode=755"),
        ] {
            m.push(mount(
                dest,
                "tmpfs",
                "tmpfs",
                &["rw", "rprivate", "nosuid", "nodev", mode],
            )?);
        }
    }
    for (dest, source) in &input.files {
        m.push(
            MountBuilder::default()
                .destination(dest)
                .typ("bind")
                .source(source)
                .options(vec!["bind".to_string(), "rprivate".to_string()])
                .build()
                .map_err(SpecError::from)?,
        );
    }
    m.extend(shm_mount(input)?);
    m.push(mount(
        "/sys/fs/cgroup",
        "cgroup",
        "cgroup",
        &["rprivate", "nosuid", "noexec", "nodev", "relatime", ro],
    )?);
    if o.init {
        let bin = super::process::init_binary(o, host)?;
        m.push(
            MountBuilder::default()
                .destination(super::process::INIT_IN_CONTAINER)
                .typ("bind")
                .source(bin)
                .options(vec![
                    "bind".to_string(),
                    "rprivate".to_string(),
                    "nosuid".to_string(),
                    "nodev".to_string(),
                    "ro".to_string(),
                ])
                .build()
                .map_err(SpecError::from)?,
        );
    }
    add_user_mounts(&mut m, &input.user_mounts);
    Ok(m)
}

/// Appends the user's mounts (shallow destinations first, so a parent is mounted before
/// what is mounted inside it), dropping default mounts they replace.
pub fn add_user_mounts(m: &mut Vec<Mount>, user: &[Mount]) {
    if user.is_empty() {
        return;
    }
    m.retain(|d| !user.iter().any(|u| u.destination() == d.destination()));
    let mut user = user.to_vec();
    user.sort_by_key(|u| u.destination().components().count());
    m.extend(user);
}

fn shm_mount(input: &SpecInput<'_>) -> Result<Option<Mount>> {
    let bind = |source: String| {
        mount(
            "/dev/shm",
            "bind",
            &source,
            &["rbind", "rprivate", "nosuid", "noexec", "nodev"],
        )
        .map(Some)
    };
    let tmpfs = || {
        let bytes = match input.options.resources.shm_size {
            0 => 64 << 20,
            n => n,
        };
        let size = format!("size={}k", bytes.div_ceil(1024));
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", &size],
        )
        .map(Some)
    };
    match &input.options.namespaces.ipc {
        NamespaceMode::Host => bind("/dev/shm".into()),
        NamespaceMode::None => Ok(None),
        NamespaceMode::Container(name) if !input.container_pids.contains_key(name) => {
            Err(SpecError::Invalid(format!(
                "looking up container to share ipc namespace with: no container with name or ID {name:?} found: no such container"
            ))
            .into())
        }
        // The other container's host-side /dev/shm; one made with `--ipc private` has none
        // (its tmpfs lives only in its own mount namespace), so the joiner gets its own.
        NamespaceMode::Container(name) => match input.container_shm.get(name) {
            Some(dir) => bind(dir.to_string_lossy().into_owned()),
            None => tmpfs(),
        },
        NamespaceMode::Shareable => match &input.shm_dir {
            Some(dir) => bind(dir.to_string_lossy().into_owned()),
            None => tmpfs(),
        },
        _ => tmpfs(),
    }
}
