//! Persistent network namespaces for containers: a new namespace bind-mounted on a file (as
//! `ip netns add` does), so it exists before the OCI runtime's `create` (the spec joins it by
//! path) and outlives the container's processes until teardown.
//!
//! The namespace is made on a short-lived thread (`unshare(CLONE_NEWNET)` changes only the
//! calling thread); [`run_in`] runs code on a thread inside one (a netlink socket opened there,
//! or a child process spawned there, belongs to that namespace).

use super::NetworkError;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use std::path::{Path, PathBuf};

fn err(what: &str, path: &Path, e: impl std::fmt::Display) -> NetworkError {
    NetworkError::Command(format!("{what} {}: {e}", path.display()))
}

/// Creates a network namespace pinned at `path` (a new empty file), with `lo` up.
pub fn create(path: &Path) -> Result<(), NetworkError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err("creating", dir, e))?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| err("creating", path, e))?;
    let p = path.to_path_buf();
    let made = std::thread::spawn(move || -> Result<(), NetworkError> {
        unshare(CloneFlags::CLONE_NEWNET).map_err(|e| err("unshare for", &p, e))?;
        let src = PathBuf::from(format!("/proc/self/task/{}/ns/net", nix::unistd::gettid()));
        mount(Some(&src), &p, None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .map_err(|e| err("bind-mounting", &p, e))?;
        lo_up(&p)
    })
    .join()
    .unwrap_or_else(|_| Err(err("creating", path, "thread panicked")));
    if made.is_err() {
        let _ = remove(path);
    }
    made
}

fn lo_up(p: &Path) -> Result<(), NetworkError> {
    let mut nl = super::rtnl::Rtnl::open()?;
    match nl.link_index("lo")? {
        Some(lo) => nl.set_link_up(lo, None, None),
        None => Err(err("no loopback in", p, "lo missing")),
    }
}

/// Runs `f` on a thread that has joined the network namespace at `path`.
pub fn run_in<T: Send + 'static>(
    path: &Path,
    f: impl FnOnce() -> Result<T, NetworkError> + Send + 'static,
) -> Result<T, NetworkError> {
    let ns = std::fs::File::open(path).map_err(|e| err("opening", path, e))?;
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        setns(&ns, CloneFlags::CLONE_NEWNET).map_err(|e| err("entering", &p, e))?;
        f()
    })
    .join()
    .unwrap_or_else(|_| Err(err("running in", path, "thread panicked")))
}

/// Unmounts and deletes a namespace made by [`create`]; a missing one is not an error.
pub fn remove(path: &Path) -> Result<(), NetworkError> {
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => return Err(err("unmounting", path, e)),
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(err("removing", path, e)),
        _ => Ok(()),
    }
}
