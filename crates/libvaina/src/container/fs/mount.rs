//! `mount`/`unmount`: the container's overlay rootfs mounted at its `merged` dir for the user,
//! with a count of user mounts kept in `<container dir>/mountcount`.
//!
//! `mount` mounts (a no-op when the container runs) and adds one to the count; `unmount`
//! takes one off and unmounts only when the count reaches zero and no monitor runs the
//! container, so unmounting a running container never pulls its rootfs away. The same
//! counting brackets the temporary mounts of `export`, `cp` and `commit` ([`RootfsGuard`]).

use crate::container::record::ContainerRecord;
use crate::container::rootfs::{self, ContainerPaths};
use crate::error::IoContext;
use crate::store::lock::FileLock;
use crate::{Engine, Result};
use std::path::{Path, PathBuf};

fn count_file(paths: &ContainerPaths) -> PathBuf {
    paths.dir.join("mountcount")
}

/// The number of user mounts recorded for a container.
pub fn mount_count(paths: &ContainerPaths) -> u32 {
    std::fs::read_to_string(count_file(paths))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn set_count(paths: &ContainerPaths, n: u32) -> Result<()> {
    let f = count_file(paths);
    if n == 0 {
        match std::fs::remove_file(&f) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(crate::Error::io(&f, e)),
            _ => Ok(()),
        }
    } else {
        std::fs::write(&f, n.to_string()).with_path(&f)
    }
}

/// The rootfs mounted for the life of the value (one count), unmounted on drop when nobody
/// else needs it.
pub struct RootfsGuard<'a> {
    engine: &'a Engine,
    id: String,
    merged: PathBuf,
}

impl RootfsGuard<'_> {
    pub fn path(&self) -> &Path {
        &self.merged
    }
}

impl Drop for RootfsGuard<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.engine.release_rootfs(&self.id, false) {
            log::warn!("unmounting container {}: {e}", self.id);
        }
    }
}

impl Engine {
    fn mount_lock(&self, id: &str) -> Result<FileLock> {
        Ok(FileLock::exclusive(
            &self.paths.locks().join(format!("ctr-{id}.mount.lock")),
        )?)
    }

    /// Mounts a container's rootfs and counts one user mount; returns the merged path.
    pub fn mount_container(&self, name_or_id: &str) -> Result<PathBuf> {
        let rec = self.lookup_container(name_or_id)?;
        self.acquire_rootfs(&rec)
    }

    /// The rootfs of `rec` mounted until the guard drops.
    pub fn rootfs_guard(&self, rec: &ContainerRecord) -> Result<RootfsGuard<'_>> {
        let merged = self.acquire_rootfs(rec)?;
        Ok(RootfsGuard {
            engine: self,
            id: rec.id.clone(),
            merged,
        })
    }

    fn acquire_rootfs(&self, rec: &ContainerRecord) -> Result<PathBuf> {
        let paths = self.container_paths(&rec.id);
        let _lock = self.mount_lock(&rec.id)?;
        let merged = rootfs::mount(&paths, &rec.config.layers, rec.config.bind_rootfs())?;
        set_count(&paths, mount_count(&paths) + 1)?;
        Ok(merged)
    }

    /// Takes one user mount off (all of them with `force`); unmounts when none is left and
    /// the container does not run. Returns the container's ID.
    pub fn unmount_container(&self, name_or_id: &str, force: bool) -> Result<String> {
        let rec = self.lookup_container(name_or_id)?;
        self.release_rootfs(&rec.id, force)?;
        Ok(rec.id)
    }

    fn release_rootfs(&self, id: &str, force: bool) -> Result<()> {
        let paths = self.container_paths(id);
        if !paths.dir.exists() {
            return Ok(());
        }
        let _lock = self.mount_lock(id)?;
        let n = if force {
            0
        } else {
            mount_count(&paths).saturating_sub(1)
        };
        set_count(&paths, n)?;
        let running = self
            .lookup_container(id)
            .map(|r| r.state.has_monitor())
            .unwrap_or(false);
        if n == 0 && !running {
            rootfs::unmount(&paths)?;
        }
        Ok(())
    }

    /// Containers whose rootfs is mounted, with the mount point (`mount` without arguments).
    pub fn mounted_containers(&self) -> Result<Vec<(ContainerRecord, PathBuf)>> {
        Ok(self
            .list_containers()?
            .into_iter()
            .filter_map(|r| {
                let m = self.container_paths(&r.id).merged();
                rootfs::is_mounted(&m).then_some((r, m))
            })
            .collect())
    }
}
