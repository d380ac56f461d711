//! Persistent network namespaces for containers: a new namespace bind-mounted on a file (as
//! `ip netns add` does), so it exists before the OCI runtime's `create` (the spec joins it by
//! path) and outlives the container's processes until teardown.
//!
//! The namespace is made on a short-lived thread (`unshare(CLONE_NEWNET)` changes only the
//! calling thread), which also runs commands inside it: a child process inherits the namespaces
//! of the thread that spawned it.

use super::NetworkError;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use std::path::{Path, PathBuf};
use std::process::Command;

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
    let st = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .map_err(|e| err("ip link set lo up in", p, e))?;
    if !st.success() {
        return Err(err("ip link set lo up in", p, st));
    }
    Ok(())
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
