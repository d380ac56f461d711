//! Path resolution inside a container root that can never leave it.
//!
//! Every path given for a container is resolved as if the rootfs were `/`: `..` stops at the
//! root and a symlink (absolute or relative, chained, or swapped while we work) is followed
//! inside the root. The kernel does this with `openat2(RESOLVE_IN_ROOT)` (Linux 5.6+); where
//! that is missing, [`resolve_manual`] walks one component at a time with `O_NOFOLLOW` opens
//! relative to the previous directory's descriptor and reads each symlink itself. Callers then
//! do every read and write relative to the returned descriptors (`*at` calls with
//! `O_NOFOLLOW`), so no later path lookup starts outside the root.

use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};
use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Symlinks followed in one resolution before giving up (the kernel's limit).
const MAX_LINKS: usize = 40;

/// Opens the container root itself (`O_PATH | O_DIRECTORY`).
pub fn open_root(root: &Path) -> io::Result<OwnedFd> {
    let fd = nix::fcntl::open(
        root,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    Ok(own(fd))
}

/// Takes ownership of a descriptor a successful `open`-like call just returned.
pub(crate) fn own(fd: std::os::fd::RawFd) -> OwnedFd {
    // SAFETY: only called with a fresh descriptor from a successful open call, which
    // nothing else owns or closes.
    #[allow(unsafe_code)]
    unsafe {
        OwnedFd::from_raw_fd(fd)
    }
}

/// `openat(dir, name, flags)` as an owned descriptor (`O_CLOEXEC` added).
pub fn openat(dir: &OwnedFd, name: &OsStr, flags: OFlag, mode: Mode) -> io::Result<OwnedFd> {
    Ok(own(nix::fcntl::openat(
        Some(dir.as_raw_fd()),
        name,
        flags | OFlag::O_CLOEXEC,
        mode,
    )?))
}

/// `struct open_how` of openat2(2).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// Resolves `path` (taken relative to the root whatever its leading `/`) inside `root`,
/// following a symlink in the last component only when `follow_last`. Returns an `O_PATH`
/// descriptor of the result.
pub fn resolve(root: &OwnedFd, path: &Path, follow_last: bool) -> io::Result<OwnedFd> {
    match resolve_openat2(root, path, follow_last) {
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => resolve_manual(root, path, follow_last),
        r => r,
    }
}

fn resolve_openat2(root: &OwnedFd, path: &Path, follow_last: bool) -> io::Result<OwnedFd> {
    let rel = relative(path);
    let c = std::ffi::CString::new(rel.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let mut flags = libc::O_PATH | libc::O_CLOEXEC;
    if !follow_last {
        flags |= libc::O_NOFOLLOW;
    }
    let how = OpenHow {
        flags: flags as u64,
        mode: 0,
        resolve: libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS | libc::RESOLVE_NO_XDEV,
    };
    // SAFETY: openat2 reads the NUL-terminated path and the `open_how` of the given size, both
    // alive for the call; the returned descriptor is new and owned by us alone.
    #[allow(unsafe_code)]
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            c.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        let e = io::Error::last_os_error();
        // EXDEV: a mount point inside the rootfs (a volume); let the manual walk take it.
        if e.raw_os_error() == Some(libc::EXDEV) {
            return resolve_manual(root, path, follow_last);
        }
        return Err(e);
    }
    Ok(own(fd as i32))
}

/// `path` as a relative path (`.` for the root).
fn relative(path: &Path) -> PathBuf {
    let r: PathBuf = path
        .components()
        .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
        .collect();
    if r.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        r
    }
}

/// The userspace resolver: component by component, each symlink read and resolved again
/// from the root (absolute target) or the current directory (relative target).
pub fn resolve_manual(root: &OwnedFd, path: &Path, follow_last: bool) -> io::Result<OwnedFd> {
    // Directories from the root down to the current one; `..` pops (never past the root).
    let mut stack: Vec<OwnedFd> = vec![root.try_clone()?];
    let mut todo: Vec<Vec<u8>> = components(path.as_os_str().as_bytes());
    todo.reverse();
    let mut links = 0;
    let mut last: Option<OwnedFd> = None;
    while let Some(name) = todo.pop() {
        last = None;
        match name.as_slice() {
            b"." => continue,
            b".." => {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            _ => {}
        }
        let cur = stack.last().expect("the root is never popped");
        let is_last = todo.is_empty();
        let st = fstatat(
            Some(cur.as_raw_fd()),
            OsStr::from_bytes(&name),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )?;
        let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
        if kind == SFlag::S_IFLNK && (!is_last || follow_last) {
            links += 1;
            if links > MAX_LINKS {
                return Err(io::Error::from_raw_os_error(libc::ELOOP));
            }
            let target = nix::fcntl::readlinkat(Some(cur.as_raw_fd()), OsStr::from_bytes(&name))?;
            let t = target.as_bytes();
            if t.starts_with(b"/") {
                stack.truncate(1);
            }
            let mut more = components(t);
            more.reverse();
            todo.extend(more);
            continue;
        }
        let fd = openat(
            cur,
            OsStr::from_bytes(&name),
            OFlag::O_PATH | OFlag::O_NOFOLLOW,
            Mode::empty(),
        )?;
        if kind == SFlag::S_IFDIR {
            stack.push(fd);
        } else if is_last {
            last = Some(fd);
        } else {
            return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
        }
    }
    match last {
        Some(fd) => Ok(fd),
        None => Ok(stack.pop().expect("the root is never popped")),
    }
}

fn components(p: &[u8]) -> Vec<Vec<u8>> {
    p.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(|c| c.to_vec())
        .collect()
}

/// Re-opens an `O_PATH` descriptor with real access `flags` (through `/proc/self/fd`, which
/// reopens the same inode without a path lookup).
pub fn reopen(fd: &OwnedFd, flags: OFlag) -> io::Result<OwnedFd> {
    let p = format!("/proc/self/fd/{}", fd.as_raw_fd());
    Ok(own(nix::fcntl::open(
        p.as_str(),
        flags | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ino(fd: &OwnedFd) -> u64 {
        nix::sys::stat::fstat(fd.as_raw_fd()).unwrap().st_ino
    }

    #[test]
    fn symlinks_stay_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::write(r.join("etc/passwd"), "inside").unwrap();
        std::os::unix::fs::symlink("/", r.join("toroot")).unwrap();
        std::os::unix::fs::symlink("../../../../etc", r.join("etc/up")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", r.join("pw")).unwrap();
        let root = open_root(r).unwrap();
        let want = std::fs::metadata(r.join("etc/passwd")).unwrap();
        let want = std::os::unix::fs::MetadataExt::ino(&want);
        for resolver in [resolve as fn(&_, &_, _) -> _, resolve_manual] {
            for p in [
                "/toroot/etc/passwd",
                "etc/up/passwd",
                "../../etc/passwd",
                "pw",
            ] {
                let fd = resolver(&root, Path::new(p), true).unwrap();
                assert_eq!(ino(&fd), want, "{p}");
            }
            // Not following the last component gives the link itself.
            let fd = resolver(&root, Path::new("pw"), false).unwrap();
            assert_ne!(ino(&fd), want);
            assert_eq!(
                ino(&resolver(&root, Path::new("/.."), true).unwrap()),
                ino(&root)
            );
        }
    }
}
