//! The vfs graph driver: a container's rootfs as a full copy of its image's layers in
//! `<container dir>/rootfs`, for hosts where overlay cannot be mounted. The copy is bound at
//! `merged` like any rootfs ([`super::rootfs::mount`]), so everything that works on the
//! merged tree (`mount`, `cp`, `export`, the runtime) works unchanged; `diff` and `commit`
//! compare the copy with the image's layers ([`changes`]).
//!
//! Layers are unpacked in overlay form (whiteouts are 0:0 character devices, opaque
//! directories carry `trusted.overlay.opaque=y`); [`populate`] applies them bottom-up with
//! the same meaning. The layer directories are vaina's own (their extraction refused
//! escapes), and the target is only ever descended through directories checked to be real
//! directories, never through a symlink.

use crate::container::fs::diff::{is_opaque, is_whiteout, Change, ChangeKind};
use crate::container::fs::FsError;
use crate::Result;
use std::collections::HashMap;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Copies `layers` (lowest first) into the new directory `dst`.
pub fn populate(dst: &Path, layers: &[PathBuf]) -> Result<()> {
    std::fs::create_dir(dst).map_err(|e| FsError::io(dst, e))?;
    let mut links = HashMap::new();
    for l in layers {
        apply_dir(l, dst, &mut links).map_err(|e| FsError::io(l, e))?;
        if let Ok(m) = std::fs::symlink_metadata(l) {
            copy_meta(l, dst, &m)?;
        }
        links.clear();
    }
    Ok(())
}

/// Removes whatever is at `p` (a file, a symlink or a whole tree), if anything.
fn remove_any(p: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Applies the layer directory `src` onto the directory `dst`.
fn apply_dir(src: &Path, dst: &Path, links: &mut HashMap<(u64, u64), PathBuf>) -> io::Result<()> {
    if is_opaque(src) {
        for e in std::fs::read_dir(dst)? {
            remove_any(&e?.path())?;
        }
    }
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let s = e.path();
        let d = dst.join(e.file_name());
        let m = std::fs::symlink_metadata(&s)?;
        if is_whiteout(&m) {
            remove_any(&d)?;
            continue;
        }
        let ft = m.file_type();
        if ft.is_dir() {
            match std::fs::symlink_metadata(&d) {
                Ok(dm) if dm.is_dir() => {}
                _ => {
                    remove_any(&d)?;
                    std::fs::create_dir(&d)?;
                }
            }
            apply_dir(&s, &d, links)?;
        } else {
            remove_any(&d)?;
            if m.nlink() > 1 {
                if let Some(first) = links.get(&(m.dev(), m.ino())) {
                    std::fs::hard_link(first, &d)?;
                    continue;
                }
                links.insert((m.dev(), m.ino()), d.clone());
            }
            if ft.is_file() {
                std::fs::copy(&s, &d)?;
            } else if ft.is_symlink() {
                std::os::unix::fs::symlink(std::fs::read_link(&s)?, &d)?;
            } else if ft.is_char_device() || ft.is_block_device() || ft.is_fifo() {
                nix::sys::stat::mknod(
                    &d,
                    nix::sys::stat::SFlag::from_bits_truncate(m.mode()),
                    nix::sys::stat::Mode::from_bits_truncate(m.mode()),
                    m.rdev(),
                )?;
            } else {
                continue; // sockets are not copied
            }
        }
        copy_meta(&s, &d, &m).map_err(|e| io::Error::other(e.to_string()))?;
    }
    Ok(())
}

/// Owner, mode, extended attributes (not overlay's own) and times of `s` onto `d`.
fn copy_meta(s: &Path, d: &Path, m: &std::fs::Metadata) -> Result<()> {
    use nix::sys::stat::{utimensat, UtimensatFlags};
    use nix::sys::time::TimeSpec;
    let io = |e: nix::Error| FsError::io(d, e.into());
    nix::unistd::fchownat(
        None,
        d,
        Some(m.uid().into()),
        Some(m.gid().into()),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(io)?;
    if !m.file_type().is_symlink() {
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(m.mode()))
            .map_err(|e| FsError::io(d, e))?;
        if let Ok(names) = xattr::list(s) {
            for n in names {
                if n.to_string_lossy().starts_with("trusted.overlay.") {
                    continue;
                }
                if let Ok(Some(v)) = xattr::get(s, &n) {
                    let _ = xattr::set(d, &n, &v);
                }
            }
        }
    }
    utimensat(
        None,
        d,
        &TimeSpec::new(m.atime(), m.atime_nsec()),
        &TimeSpec::new(m.mtime(), m.mtime_nsec()),
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(io)?;
    Ok(())
}

/// The path of `rel` in the topmost of `lowers` (lowest first) that has it, honouring
/// whiteouts and opaque directories; `None` when the union does not have it.
pub fn lower_entry(lowers: &[PathBuf], rel: &Path) -> Option<PathBuf> {
    for l in lowers.iter().rev() {
        let p = l.join(rel);
        if let Ok(m) = std::fs::symlink_metadata(&p) {
            return (!is_whiteout(&m)).then_some(p);
        }
        // An opaque ancestor in this layer hides the layers below.
        let mut a = rel.parent();
        while let Some(q) = a {
            if q.as_os_str().is_empty() {
                break;
            }
            if is_opaque(&l.join(q)) {
                return None;
            }
            a = q.parent();
        }
    }
    None
}

/// Whether `now` differs from `was` as containers/storage's naive diff sees it: type, mode,
/// owner, device, size (not for directories), modification time, symlink target.
fn differs(now: &Path, nm: &std::fs::Metadata, was: &Path, wm: &std::fs::Metadata) -> bool {
    if nm.mode() != wm.mode()
        || nm.uid() != wm.uid()
        || nm.gid() != wm.gid()
        || nm.rdev() != wm.rdev()
        || nm.mtime() != wm.mtime()
        || nm.mtime_nsec() != wm.mtime_nsec()
    {
        return true;
    }
    if nm.is_dir() {
        return false;
    }
    if nm.size() != wm.size() {
        return true;
    }
    nm.file_type().is_symlink() && std::fs::read_link(now).ok() != std::fs::read_link(was).ok()
}

/// The changes of the copy `root` over the union of `lowers` (lowest first), sorted.
pub fn changes(root: &Path, lowers: &[PathBuf]) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    walk(root, Path::new(""), lowers, &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn names(dir: &Path) -> Vec<std::ffi::OsString> {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default()
}

/// Records the changes below directory `rel`; returns whether there were any.
fn walk(root: &Path, rel: &Path, lowers: &[PathBuf], out: &mut Vec<Change>) -> Result<bool> {
    let mut all: std::collections::BTreeSet<std::ffi::OsString> =
        names(&root.join(rel)).into_iter().collect();
    for l in lowers {
        all.extend(names(&l.join(rel)));
    }
    let mut any = false;
    for n in all {
        let r = rel.join(&n);
        let abs = format!("/{}", r.display());
        let p = root.join(&r);
        let now = std::fs::symlink_metadata(&p).ok();
        let was = lower_entry(lowers, &r)
            .and_then(|w| std::fs::symlink_metadata(&w).ok().map(|m| (w, m)));
        match (now, was) {
            (None, None) => continue,
            (None, Some(_)) => out.push(Change {
                path: abs,
                kind: ChangeKind::Deleted,
            }),
            (Some(nm), None) => {
                out.push(Change {
                    path: abs,
                    kind: ChangeKind::Added,
                });
                if nm.is_dir() {
                    walk(root, &r, &[], out)?;
                }
            }
            (Some(nm), Some((w, wm))) => {
                let both_dirs = nm.is_dir() && wm.is_dir();
                let inner = if both_dirs {
                    walk(root, &r, lowers, out)?
                } else if nm.is_dir() {
                    walk(root, &r, &[], out)?
                } else {
                    false
                };
                if inner || differs(&p, &nm, &w, &wm) || nm.is_dir() != wm.is_dir() {
                    out.push(Change {
                        path: abs,
                        kind: ChangeKind::Changed,
                    });
                } else {
                    continue;
                }
            }
        }
        any = true;
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_applies_whiteouts_and_diff_sees_changes() {
        let t = tempfile::tempdir().unwrap();
        let (l1, l2, dst) = (t.path().join("l1"), t.path().join("l2"), t.path().join("r"));
        std::fs::create_dir_all(l1.join("etc")).unwrap();
        std::fs::write(l1.join("etc/a"), "a").unwrap();
        std::fs::write(l1.join("etc/gone"), "g").unwrap();
        std::fs::create_dir_all(l2.join("etc")).unwrap();
        nix::sys::stat::mknod(
            &l2.join("etc/gone"),
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::empty(),
            0,
        )
        .unwrap();
        std::fs::write(l2.join("b"), "b").unwrap();
        let layers = vec![l1, l2];
        populate(&dst, &layers).unwrap();
        assert_eq!(std::fs::read_to_string(dst.join("etc/a")).unwrap(), "a");
        assert!(!dst.join("etc/gone").exists());
        assert!(changes(&dst, &layers).unwrap().is_empty());
        std::fs::write(dst.join("etc/new"), "n").unwrap();
        std::fs::remove_file(dst.join("b")).unwrap();
        let c: Vec<String> = changes(&dst, &layers)
            .unwrap()
            .iter()
            .map(|c| format!("{} {}", c.kind.letter(), c.path))
            .collect();
        assert_eq!(c, ["D /b", "C /etc", "A /etc/new"]);
    }
}
