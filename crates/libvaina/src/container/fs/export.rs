//! `export`: the container's merged root filesystem as an uncompressed tar, mounted for the
//! duration when the container is stopped. Entries are relative to the root (`bin/sh`),
//! symlinks are stored as links, and owners, modes and times are kept.

use super::FsError;
use crate::{Engine, Result};
use std::io::Write;
use std::path::Path;

/// Writes the tree at `root` as a tar stream to `out`, entries named relative to `root`.
pub fn tar_tree(root: &Path, out: &mut dyn Write) -> Result<()> {
    let mut b = tar::Builder::new(out);
    b.follow_symlinks(false);
    b.mode(tar::HeaderMode::Complete);
    append_children(&mut b, root, Path::new(""))?;
    b.finish().map_err(|e| FsError::io(root, e))?;
    Ok(())
}

fn append_children(b: &mut tar::Builder<&mut dyn Write>, root: &Path, rel: &Path) -> Result<()> {
    let dir = root.join(rel);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| FsError::io(&dir, e))?
        .flatten()
        .map(|e| e.file_name())
        .collect();
    names.sort();
    for n in names {
        let r = rel.join(&n);
        let p = root.join(&r);
        let m = std::fs::symlink_metadata(&p).map_err(|e| FsError::io(&p, e))?;
        if m.is_dir() {
            b.append_dir(&r, &p).map_err(|e| FsError::io(&p, e))?;
            append_children(b, root, &r)?;
        } else {
            b.append_path_with_name(&p, &r)
                .map_err(|e| FsError::io(&p, e))?;
        }
    }
    Ok(())
}

impl Engine {
    /// Writes a tar of the container's root filesystem to `out`.
    pub fn export_container(&self, name_or_id: &str, out: &mut dyn Write) -> Result<()> {
        let rec = self.lookup_container(name_or_id)?;
        let guard = self.rootfs_guard(&rec)?;
        tar_tree(guard.path(), out)
    }
}
