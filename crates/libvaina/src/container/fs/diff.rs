//! `diff`: what a container changed in its rootfs, or what an image's top layer changed over
//! its parent, as Podman's A (added), C (changed) and D (deleted) entries.
//!
//! Read from the overlay upper dir (for an image: its top unpacked layer) without mounting:
//! a 0:0 character device is a whiteout (D), a directory with `trusted.overlay.opaque=y`
//! hides everything below it in the lower layers (its lower children are D), and any other
//! entry is C when some lower layer has the path (looked up top-down, honouring the lower
//! layers' own whiteouts), else A.

use super::FsError;
use crate::{Engine, Result};
use serde::Serialize;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Mount points every container gets; Podman leaves them out of a container's diff.
const CONTAINER_MOUNTS: &[&str] = &[
    "/dev",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/mtab",
    "/proc",
    "/run",
    "/run/.containerenv",
    "/run/secrets",
    "/sys",
];

/// The kind of one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    Changed,
    Added,
    Deleted,
}

impl ChangeKind {
    /// Podman's letter.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Changed => 'C',
            ChangeKind::Added => 'A',
            ChangeKind::Deleted => 'D',
        }
    }
}

/// One changed path (absolute, inside the rootfs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
}

/// `diff --format json`: Podman's three lists.
#[derive(Debug, Default, Serialize)]
pub struct ChangesJson {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<String>,
}

impl ChangesJson {
    pub fn new(changes: &[Change]) -> Self {
        let mut j = ChangesJson::default();
        for c in changes {
            match c.kind {
                ChangeKind::Changed => j.changed.push(c.path.clone()),
                ChangeKind::Added => j.added.push(c.path.clone()),
                ChangeKind::Deleted => j.deleted.push(c.path.clone()),
            }
        }
        j
    }
}

/// Whether `m` is an overlay whiteout (a 0:0 character device).
pub fn is_whiteout(m: &std::fs::Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

/// Whether `dir` is an overlay opaque directory.
pub fn is_opaque(dir: &Path) -> bool {
    matches!(xattr::get(dir, "trusted.overlay.opaque"), Ok(Some(v)) if v == b"y")
}

/// Whether `rel` exists in the union of `lowers` (lowest first).
fn in_lower(lowers: &[PathBuf], rel: &Path) -> bool {
    for l in lowers.iter().rev() {
        if let Ok(m) = std::fs::symlink_metadata(l.join(rel)) {
            return !is_whiteout(&m);
        }
        // An opaque ancestor in this layer hides the layers below.
        let mut a = rel.parent();
        while let Some(p) = a {
            if p.as_os_str().is_empty() {
                break;
            }
            if is_opaque(&l.join(p)) {
                return false;
            }
            a = p.parent();
        }
    }
    false
}

/// The names in the union of `lowers` at directory `rel`.
fn lower_children(lowers: &[PathBuf], rel: &Path) -> Vec<std::ffi::OsString> {
    let mut names = std::collections::BTreeSet::new();
    for l in lowers {
        if let Ok(rd) = std::fs::read_dir(l.join(rel)) {
            names.extend(rd.flatten().map(|e| e.file_name()));
        }
    }
    names
        .into_iter()
        .filter(|n| in_lower(lowers, &rel.join(n)))
        .collect()
}

/// The changes of `upper` over `lowers` (lowest first), sorted by path.
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    if upper.exists() {
        walk(upper, Path::new(""), lowers, &mut out)?;
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn walk(upper: &Path, rel: &Path, lowers: &[PathBuf], out: &mut Vec<Change>) -> Result<()> {
    let dir = upper.join(rel);
    let rd = std::fs::read_dir(&dir).map_err(|e| FsError::io(&dir, e))?;
    for e in rd {
        let e = e.map_err(|e| FsError::io(&dir, e))?;
        let r = rel.join(e.file_name());
        let p = upper.join(&r);
        let m = std::fs::symlink_metadata(&p).map_err(|e| FsError::io(&p, e))?;
        let abs = format!("/{}", r.display());
        if is_whiteout(&m) {
            out.push(Change {
                path: abs,
                kind: ChangeKind::Deleted,
            });
            continue;
        }
        let kind = if in_lower(lowers, &r) {
            ChangeKind::Changed
        } else {
            ChangeKind::Added
        };
        out.push(Change { path: abs, kind });
        if m.is_dir() {
            if kind == ChangeKind::Changed && is_opaque(&p) {
                for n in lower_children(lowers, &r) {
                    if std::fs::symlink_metadata(p.join(&n)).is_err() {
                        out.push(Change {
                            path: format!("/{}", r.join(&n).display()),
                            kind: ChangeKind::Deleted,
                        });
                    }
                }
            }
            walk(upper, &r, lowers, out)?;
        }
    }
    Ok(())
}

/// One side of a two-argument `diff`: a real directory tree to compare, or layers.
enum Side<'a> {
    /// A container's mounted rootfs.
    Container(super::mount::RootfsGuard<'a>),
    /// An image's layer directories (lowest first).
    Image(Vec<PathBuf>),
}

impl Engine {
    fn diff_side(&self, name_or_id: &str) -> Result<Side<'_>> {
        match self.lookup_container(name_or_id) {
            Ok(rec) => Ok(Side::Container(self.rootfs_guard(&rec)?)),
            Err(crate::Error::Container(crate::container::ContainerError::NotFound(_))) => {
                let img = self.lookup_image(name_or_id).map_err(|e| match e {
                    crate::Error::Image(crate::image::ImageError::NotFound(_)) => {
                        FsError::NotFound(format!("{name_or_id} not found: layer not known")).into()
                    }
                    e => e,
                })?;
                Ok(Side::Image(self.image_layer_dirs(&img)?))
            }
            Err(e) => Err(e),
        }
    }

    /// `diff A B`: what `a` changed relative to `b` (each a container or an image).
    pub fn diff_pair(&self, a: &str, b: &str) -> Result<Vec<Change>> {
        let new = self.diff_side(a)?;
        let old = self.diff_side(b)?;
        let any_container = matches!(new, Side::Container(_)) || matches!(old, Side::Container(_));
        let lowers = match &old {
            Side::Container(g) => vec![g.path().to_path_buf()],
            Side::Image(l) => l.clone(),
        };
        let mut v = match &new {
            Side::Container(g) => crate::container::vfs::changes(g.path(), &lowers)?,
            Side::Image(layers) => {
                // An image has no tree of its own: compare a temporary copy of its layers.
                let tmp = &self.paths.tmpdir;
                std::fs::create_dir_all(tmp).map_err(|e| FsError::io(tmp, e))?;
                let t = tempfile::Builder::new()
                    .prefix("diff-")
                    .tempdir_in(tmp)
                    .map_err(|e| FsError::io(tmp, e))?;
                let root = t.path().join("rootfs");
                crate::container::vfs::populate(&root, layers)?;
                crate::container::vfs::changes(&root, &lowers)?
            }
        };
        if any_container {
            v.retain(|c| !CONTAINER_MOUNTS.contains(&c.path.as_str()));
        }
        Ok(v)
    }

    /// `diff` of a container (by name or ID) or else of an image against its parent.
    pub fn diff(&self, name_or_id: &str) -> Result<Vec<Change>> {
        match self.lookup_container(name_or_id) {
            Ok(rec) => {
                let paths = self.container_paths(&rec.id);
                let mut v = if paths.is_vfs() {
                    crate::container::vfs::changes(&paths.vfs_rootfs(), &rec.config.layers)?
                } else {
                    changes(&paths.upper(), &rec.config.layers)?
                };
                v.retain(|c| !CONTAINER_MOUNTS.contains(&c.path.as_str()));
                Ok(v)
            }
            Err(crate::Error::Container(crate::container::ContainerError::NotFound(_))) => {
                let img = self.lookup_image(name_or_id).map_err(|e| match e {
                    crate::Error::Image(crate::image::ImageError::NotFound(_)) => {
                        FsError::NotFound(format!("{name_or_id} not found: layer not known")).into()
                    }
                    e => e,
                })?;
                let mut layers = self.image_layer_dirs(&img)?;
                let Some(top) = layers.pop() else {
                    return Ok(Vec::new());
                };
                changes(&top, &layers)
            }
            Err(e) => Err(e),
        }
    }
}
