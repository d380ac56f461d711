//! The container root that `cp` works in: the container's files *with its mounts*, so that a
//! path under a volume or a bind mount reaches the volume or the host directory, as in Podman.
//!
//! - A running (or paused) container: its root as its own processes see it,
//!   `/proc/<pid>/root` (checked to be the container's rootfs, so a reused PID is never
//!   taken). Lookups from that descriptor walk the container's mount namespace,
//!   so volumes, binds and tmpfs mounts are all reachable (Podman joins the namespace).
//! - A stopped container: its rootfs is mounted (counted, [`super::mount`]) and a helper
//!   thread leaves the host's mount namespace (`unshare(CLONE_FS | CLONE_NEWNS)` affects that
//!   thread alone), makes every mount private, and binds each volume and bind source at its
//!   destination, resolved inside the root. The copy then runs on a descriptor of the root
//!   opened in that namespace; the thread stays there until the copy is done, and when it
//!   exits the namespace and its binds disappear. Nothing is ever mounted in the host's
//!   namespace beyond the rootfs itself. Destinations missing in the rootfs are created
//!   (the runtime creates them at start anyway). Without the privilege to unshare, the copy
//!   falls back to the rootfs alone.
//!
//! Either way every path is still resolved inside the root ([`super::resolve`]).

use super::mount::RootfsGuard;
use super::resolve::{open_root, openat, resolve};
use super::FsError;
use crate::container::record::{ContainerRecord, ContainerState};
use crate::{Engine, Result};
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use nix::sys::stat::Mode;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// A root descriptor for `cp`, valid while the value lives.
pub struct CopyRoot<'a> {
    root: Option<OwnedFd>,
    _guard: Option<RootfsGuard<'a>>,
    /// The namespace thread: dropping the sender lets it exit.
    ns: Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

impl CopyRoot<'_> {
    pub fn fd(&self) -> &OwnedFd {
        self.root.as_ref().expect("set until drop")
    }
}

impl Drop for CopyRoot<'_> {
    fn drop(&mut self) {
        self.root = None;
        if let Some((tx, h)) = self.ns.take() {
            drop(tx);
            let _ = h.join();
        }
    }
}

impl Engine {
    /// The root `cp` uses for `rec` (see the module docs).
    pub fn copy_root(&self, rec: &ContainerRecord) -> Result<CopyRoot<'_>> {
        if matches!(rec.state, ContainerState::Running | ContainerState::Paused) && rec.pid > 0 {
            if let Ok(fd) = open_root(Path::new(&format!("/proc/{}/root", rec.pid))) {
                // The PID must still be the container's (not reused by a host process): its
                // root is the container's rootfs mounted at `merged`.
                let merged = self.container_paths(&rec.id).merged();
                let same = match (
                    nix::sys::stat::fstat(fd.as_raw_fd()),
                    std::fs::metadata(&merged),
                ) {
                    (Ok(a), Ok(b)) => {
                        use std::os::unix::fs::MetadataExt;
                        a.st_dev == b.dev() && a.st_ino == b.ino()
                    }
                    _ => false,
                };
                if same {
                    return Ok(CopyRoot {
                        root: Some(fd),
                        _guard: None,
                        ns: None,
                    });
                }
            }
        }
        let guard = self.rootfs_guard(rec)?;
        let mounts = crate::volume::attach::host_mounts(self, &rec.id)?;
        if mounts.is_empty() {
            let fd = open_root(guard.path()).map_err(|e| FsError::io(guard.path(), e))?;
            return Ok(CopyRoot {
                root: Some(fd),
                _guard: Some(guard),
                ns: None,
            });
        }
        let merged = guard.path().to_path_buf();
        let (fd_tx, fd_rx) = mpsc::channel::<std::io::Result<OwnedFd>>();
        let (end_tx, end_rx) = mpsc::channel::<()>();
        let h = std::thread::spawn(move || {
            let r = enter_private_namespace().and_then(|()| bind_mounts(&merged, &mounts));
            let _ = fd_tx.send(r);
            // Stay in the namespace until the copy is done (the sender is dropped).
            let _ = end_rx.recv();
        });
        match fd_rx.recv() {
            Ok(Ok(fd)) => Ok(CopyRoot {
                root: Some(fd),
                _guard: Some(guard),
                ns: Some((end_tx, h)),
            }),
            other => {
                drop(end_tx);
                let _ = h.join();
                let err = match other {
                    Ok(Err(e)) => e,
                    _ => std::io::Error::other("the mount namespace thread failed"),
                };
                if err.raw_os_error() == Some(libc::EPERM) {
                    log::warn!("cannot reach the container's volumes from here: {err}");
                    let fd = open_root(guard.path()).map_err(|e| FsError::io(guard.path(), e))?;
                    return Ok(CopyRoot {
                        root: Some(fd),
                        _guard: Some(guard),
                        ns: None,
                    });
                }
                Err(FsError::io(guard.path(), err).into())
            }
        }
    }
}

/// Moves the calling thread into a mount namespace of its own, every mount private.
fn enter_private_namespace() -> std::io::Result<()> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_FS | nix::sched::CloneFlags::CLONE_NEWNS)?;
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )?;
    Ok(())
}

/// Binds each (destination, host source) inside the root at `merged`; returns the root.
fn bind_mounts(merged: &Path, mounts: &[(String, PathBuf)]) -> std::io::Result<OwnedFd> {
    let root = open_root(merged)?;
    for (dest, src) in mounts {
        let Ok(meta) = std::fs::metadata(src) else {
            continue;
        };
        let target = match resolve(&root, Path::new(dest), true) {
            Ok(t) => t,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                create_in_root(&root, Path::new(dest), meta.is_dir())?
            }
            Err(e) => return Err(e),
        };
        let t = format!("/proc/self/fd/{}", target.as_raw_fd());
        nix::mount::mount(
            Some(src.as_path()),
            t.as_str(),
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )?;
    }
    Ok(root)
}

/// Creates `path` inside the root (missing parent directories too): a directory, or an
/// empty file when `dir` is false; returns an `O_PATH` descriptor of it.
fn create_in_root(root: &OwnedFd, path: &Path, dir: bool) -> std::io::Result<OwnedFd> {
    let mut cur = root.try_clone()?;
    let mut prefix = PathBuf::from("/");
    let comps: Vec<_> = path
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .collect();
    for (i, c) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        prefix.push(c);
        cur = match resolve(root, &prefix, true) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                let d = super::resolve::reopen(&cur, OFlag::O_RDONLY | OFlag::O_DIRECTORY)?;
                if last && !dir {
                    openat(
                        &d,
                        c.as_os_str(),
                        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW,
                        Mode::from_bits_truncate(0o644),
                    )?;
                } else {
                    nix::sys::stat::mkdirat(
                        Some(d.as_raw_fd()),
                        c.as_os_str(),
                        Mode::from_bits_truncate(0o755),
                    )?;
                }
                resolve(root, &prefix, false)?
            }
            Err(e) => return Err(e),
        };
    }
    Ok(cur)
}
