//! The container's directories and its root filesystem: an overlay mount of the image's
//! unpacked layers (lower, top layer first in `lowerdir`) with a per-container `upper` and
//! `work` dir, mounted at `merged` while the container runs (by the monitor) and unmounted at
//! cleanup. A container made with `--rootfs DIR` has no layers: the user's directory is
//! bind-mounted at `merged` instead, so writes land in it as with Podman (with `DIR:O` the
//! directory is the overlay's only lower dir instead). With the vfs driver the container's
//! own copy of the layers (`<dir>/rootfs`, see [`super::vfs`]) is bound at `merged`.

use super::ContainerError;
use crate::store::StorePaths;
use nix::mount::{MntFlags, MsFlags};
use std::path::{Path, PathBuf};

/// Every path of one container.
#[derive(Debug, Clone)]
pub struct ContainerPaths {
    /// `<root>/containers/<id>`: the bundle, overlay dirs, /etc files, the log.
    pub dir: PathBuf,
    /// `<runroot>/containers/<id>`: sockets, pid file, the monitor's lock.
    pub run_dir: PathBuf,
    /// `<runroot>/runtime`: the OCI runtime's `--root`.
    pub runtime_root: PathBuf,
}

impl ContainerPaths {
    pub fn new(store: &StorePaths, id: &str) -> Self {
        ContainerPaths {
            dir: store.containers().join(id),
            run_dir: store.run_containers().join(id),
            runtime_root: store.runroot.join("runtime"),
        }
    }
    pub fn config_json(&self) -> PathBuf {
        self.dir.join("config.json")
    }
    pub fn upper(&self) -> PathBuf {
        self.dir.join("upper")
    }
    pub fn work(&self) -> PathBuf {
        self.dir.join("work")
    }
    pub fn merged(&self) -> PathBuf {
        self.dir.join("merged")
    }
    /// The vfs driver's copy of the image (absent for overlay containers).
    pub fn vfs_rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }
    /// What holds the container's own bytes: the vfs copy or the overlay upper dir.
    pub fn writable_layer(&self) -> PathBuf {
        if self.is_vfs() {
            self.vfs_rootfs()
        } else {
            self.upper()
        }
    }
    /// Whether the container was made by the vfs driver.
    pub fn is_vfs(&self) -> bool {
        self.vfs_rootfs().is_dir()
    }
    pub fn default_log(&self) -> PathBuf {
        self.dir.join("ctr.log")
    }
    /// The attach socket (connect through [`short_socket_path`]: the full path may be too long
    /// for a unix socket address).
    pub fn attach_socket(&self) -> PathBuf {
        self.run_dir.join("attach")
    }
    pub fn pid_file(&self) -> PathBuf {
        self.run_dir.join("pidfile")
    }
    /// Held exclusively by the monitor for its whole life: free means no monitor.
    pub fn monitor_lock(&self) -> PathBuf {
        self.run_dir.join("monitor.lock")
    }
    pub fn runtime_log(&self) -> PathBuf {
        self.run_dir.join("runtime.log")
    }
    /// The OCI runtime for this container, logging to its own file.
    pub fn runtime(&self, rt: &crate::runtime::Runtime) -> crate::runtime::Runtime {
        let mut r = rt.clone().with_log(self.runtime_log());
        r.root = self.runtime_root.clone();
        r
    }
}

/// Whether `path` is a mount point (per /proc/self/mountinfo).
pub fn is_mounted(path: &Path) -> bool {
    let p = path.to_string_lossy();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(&*p))
}

/// Mounts the overlay rootfs at `paths.merged()` (no-op when already mounted), or binds
/// `rootfs` (the `--rootfs` directory) there.
pub fn mount(
    paths: &ContainerPaths,
    layers: &[PathBuf],
    rootfs: Option<&Path>,
) -> Result<PathBuf, ContainerError> {
    let merged = paths.merged();
    if let Some(dir) = rootfs {
        return bind_dir(dir, &merged);
    }
    if paths.is_vfs() {
        return bind_dir(&paths.vfs_rootfs(), &merged);
    }
    for d in [paths.upper(), paths.work(), merged.clone()] {
        std::fs::create_dir_all(&d).map_err(|e| ContainerError::Mount {
            what: "creating",
            path: d.clone(),
            source: nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        })?;
    }
    if is_mounted(&merged) {
        return Ok(merged);
    }
    if layers.is_empty() {
        return Err(ContainerError::Invalid("the image has no layers".into()));
    }
    let lower: Vec<String> = layers
        .iter()
        .rev()
        .map(|p| p.to_string_lossy().replace(':', "\\:"))
        .collect();
    // `volatile`: no sync of the upper dir at unmount (which costs ~100 ms here). After a
    // crash overlay refuses such a work dir until its marker is removed; the container's
    // writable layer is scratch space, as for Podman's transient containers.
    let _ = std::fs::remove_dir_all(paths.work().join("work/incompat/volatile"));
    let data = format!(
        "lowerdir={},upperdir={},workdir={},volatile",
        lower.join(":"),
        paths.upper().display(),
        paths.work().display()
    );
    nix::mount::mount(
        Some("overlay"),
        &merged,
        Some("overlay"),
        MsFlags::empty(),
        Some(data.as_str()),
    )
    .map_err(|source| ContainerError::Mount {
        what: "mounting overlay at",
        path: merged.clone(),
        source,
    })?;
    Ok(merged)
}

/// Binds the user's directory at `merged` (recursively, private: nothing propagates back).
fn bind_dir(dir: &Path, merged: &Path) -> Result<PathBuf, ContainerError> {
    std::fs::create_dir_all(merged).map_err(|e| ContainerError::Mount {
        what: "creating",
        path: merged.to_path_buf(),
        source: nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    })?;
    if is_mounted(merged) {
        return Ok(merged.to_path_buf());
    }
    check_rootfs_dir(dir)?;
    let mount_err = |source| ContainerError::Mount {
        what: "binding the rootfs directory at",
        path: merged.to_path_buf(),
        source,
    };
    nix::mount::mount(
        Some(dir),
        merged,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(mount_err)?;
    nix::mount::mount(
        None::<&str>,
        merged,
        None::<&str>,
        MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(mount_err)?;
    Ok(merged.to_path_buf())
}

/// A `--rootfs` path must be an existing directory (Podman's wording for a missing one).
pub fn check_rootfs_dir(dir: &Path) -> Result<(), ContainerError> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(ContainerError::Invalid(format!(
            "running container create option: {}: not a directory",
            dir.display()
        ))),
        Err(e) => Err(ContainerError::Invalid(format!(
            "running container create option: stat {}: {}",
            dir.display(),
            match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => e.to_string(),
            }
        ))),
    }
}

/// The container's host-side /dev/shm (Podman keeps it in the same place).
pub fn shm_dir(paths: &ContainerPaths) -> PathBuf {
    paths.dir.join("userdata").join("shm")
}

/// Mounts the container's host-side /dev/shm: a tmpfs of `size` bytes (no-op when mounted).
pub fn mount_shm(paths: &ContainerPaths, size: u64) -> Result<(), ContainerError> {
    let dir = shm_dir(paths);
    if is_mounted(&dir) {
        return Ok(());
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| ContainerError::Invalid(format!("{}: {e}", dir.display())))?;
    let data = format!("mode=1777,size={}k", size.div_ceil(1024));
    nix::mount::mount(
        Some("shm"),
        &dir,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some(data.as_str()),
    )
    .map_err(|source| ContainerError::Mount {
        what: "mounting /dev/shm at",
        path: dir,
        source,
    })
}

/// Unmounts the rootfs and the host-side /dev/shm (no-op when not mounted).
pub fn unmount(paths: &ContainerPaths) -> Result<(), ContainerError> {
    let shm = shm_dir(paths);
    while shm.exists() && is_mounted(&shm) {
        match nix::mount::umount2(&shm, MntFlags::MNT_DETACH) {
            Ok(()) => {}
            Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => break,
            Err(source) => {
                return Err(ContainerError::Mount {
                    what: "unmounting",
                    path: shm,
                    source,
                })
            }
        }
    }
    let merged = paths.merged();
    while is_mounted(&merged) {
        // A lazy unmount: the mount leaves the namespace at once and the kernel finishes the
        // work after the RCU grace period, which a plain unmount waits for (~20 ms here). The
        // container's processes are gone by now, so nothing can hold the tree busy.
        match nix::mount::umount2(&merged, MntFlags::MNT_DETACH) {
            Ok(()) => {}
            Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => break,
            Err(source) => {
                return Err(ContainerError::Mount {
                    what: "unmounting",
                    path: merged,
                    source,
                })
            }
        }
    }
    Ok(())
}

/// The path of a unix socket shortened through an open directory descriptor
/// (`/proc/self/fd/N/name`), since socket addresses are limited to 108 bytes. Keep the
/// returned directory handle alive while the path is in use.
pub fn short_socket_path(path: &Path) -> std::io::Result<(std::fs::File, PathBuf)> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let name = path.file_name().unwrap_or_default();
    let f = std::fs::File::open(dir)?;
    let p = PathBuf::from(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&f)
    ))
    .join(name);
    Ok((f, p))
}
