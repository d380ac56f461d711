//! Tar streams read from and written to a container root through directory descriptors.
//!
//! [`write_tree`] archives a tree it reaches only by `openat(O_NOFOLLOW)` from an already
//! resolved descriptor, and [`extract`] creates every entry relative to the descriptor of its
//! parent directory, opened component by component with `O_NOFOLLOW` (a symlink where a
//! directory is expected is an error, never followed). Together with [`super::resolve`] this
//! keeps `cp` inside the container root even while the container swaps paths under it.

use super::resolve::{openat, reopen};
use super::FsError;
use crate::Result;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode, SFlag};
use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT
}

fn header_for(st: &FileStat, ty: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(ty);
    h.set_mode(st.st_mode & 0o7777);
    h.set_uid(st.st_uid as u64);
    h.set_gid(st.st_gid as u64);
    h.set_mtime(st.st_mtime.max(0) as u64);
    h.set_size(0);
    h
}

fn ioerr(p: &Path, e: impl Into<io::Error>) -> crate::Error {
    FsError::io(p, e.into()).into()
}

/// Archives the entry `fd` (an `O_PATH` descriptor; a directory recursively) as `name`.
pub fn write_tree<W: Write>(b: &mut tar::Builder<W>, fd: &OwnedFd, name: &Path) -> Result<()> {
    write_tree_with(b, fd, name, &WriteOptions::default())
}

/// What [`write_tree_with`] leaves out or converts.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// The tree is an overlay upper dir: whiteouts (0:0 char devices) become OCI `.wh.`
    /// files and opaque directories get a `.wh..wh..opq` entry.
    pub overlay: bool,
    /// Entry names (as archived) to leave out.
    pub skip: Vec<PathBuf>,
    /// When set, only these entries (as archived) are written; directories are still
    /// descended when an entry below them is wanted.
    pub include: Option<std::collections::BTreeSet<PathBuf>>,
}

impl WriteOptions {
    /// Whether `name` itself is written.
    pub fn wants(&self, name: &Path) -> bool {
        self.include.as_ref().is_none_or(|s| s.contains(name))
    }
    /// Whether `name` or anything below it is written.
    pub fn wants_below(&self, name: &Path) -> bool {
        self.include.as_ref().is_none_or(|s| {
            s.range(name.to_path_buf()..)
                .next()
                .is_some_and(|p| p.starts_with(name))
        })
    }
}

/// [`write_tree`] with options.
pub fn write_tree_with<W: Write>(
    b: &mut tar::Builder<W>,
    fd: &OwnedFd,
    name: &Path,
    o: &WriteOptions,
) -> Result<()> {
    let st = fstat(fd.as_raw_fd()).map_err(|e| ioerr(name, e))?;
    match kind(&st) {
        SFlag::S_IFDIR => {
            let d = reopen(fd, OFlag::O_RDONLY | OFlag::O_DIRECTORY).map_err(|e| ioerr(name, e))?;
            write_dir(b, d, &st, name, o)
        }
        SFlag::S_IFREG => {
            let f = reopen(fd, OFlag::O_RDONLY).map_err(|e| ioerr(name, e))?;
            write_file(b, f, &st, name)
        }
        _ => Err(
            FsError::Invalid(format!("{}: cannot copy this kind of file", name.display())).into(),
        ),
    }
}

fn write_file<W: Write>(
    b: &mut tar::Builder<W>,
    f: OwnedFd,
    st: &FileStat,
    name: &Path,
) -> Result<()> {
    let mut h = header_for(st, tar::EntryType::Regular);
    h.set_size(st.st_size as u64);
    let file = std::fs::File::from(f);
    // Never archive more than the size in the header, even if the file grows meanwhile.
    b.append_data(&mut h, name, file.take(st.st_size as u64))
        .map_err(|e| ioerr(name, e))
}

fn write_dir<W: Write>(
    b: &mut tar::Builder<W>,
    dir: OwnedFd,
    st: &FileStat,
    name: &Path,
    o: &WriteOptions,
) -> Result<()> {
    if o.wants(name) {
        let mut h = header_for(st, tar::EntryType::Directory);
        b.append_data(&mut h, name, io::empty())
            .map_err(|e| ioerr(name, e))?;
    }
    if o.overlay && is_opaque_fd(&dir) {
        let mut h = header_for(st, tar::EntryType::Regular);
        h.set_mode(0o644);
        b.append_data(&mut h, name.join(".wh..wh..opq"), io::empty())
            .map_err(|e| ioerr(name, e))?;
    }
    let dup = dir.try_clone().map_err(|e| ioerr(name, e))?;
    let mut names: Vec<OsString> = {
        let d = nix::dir::Dir::from_fd(std::os::fd::IntoRawFd::into_raw_fd(dup))
            .map_err(|e| ioerr(name, e))?;
        let mut v = Vec::new();
        for e in d.into_iter() {
            let e = e.map_err(|e| ioerr(name, e))?;
            let n = OsStr::from_bytes(e.file_name().to_bytes());
            if n != "." && n != ".." {
                v.push(n.to_os_string());
            }
        }
        v
    };
    names.sort();
    for n in names {
        let child = name.join(&n);
        if o.skip.contains(&child) || !o.wants_below(&child) {
            continue;
        }
        let cst = match fstatat(
            Some(dir.as_raw_fd()),
            n.as_os_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Ok(s) => s,
            // Removed meanwhile: skip it, as tar does.
            Err(nix::Error::ENOENT) => continue,
            Err(e) => return Err(ioerr(&child, e)),
        };
        match kind(&cst) {
            SFlag::S_IFDIR => {
                let fl = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW;
                match openat(&dir, &n, fl, Mode::empty()) {
                    Ok(d) => write_dir(b, d, &cst, &child, o)?,
                    // Swapped for a symlink or removed meanwhile: not followed.
                    Err(e)
                        if matches!(
                            e.raw_os_error(),
                            Some(libc::ENOTDIR | libc::ELOOP | libc::ENOENT)
                        ) => {}
                    Err(e) => return Err(ioerr(&child, e)),
                }
            }
            SFlag::S_IFREG => {
                let fl = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK;
                match openat(&dir, &n, fl, Mode::empty()) {
                    Ok(f) => {
                        // Re-check the opened inode: it must still be a regular file.
                        let fst = fstat(f.as_raw_fd()).map_err(|e| ioerr(&child, e))?;
                        if kind(&fst) == SFlag::S_IFREG {
                            write_file(b, f, &fst, &child)?;
                        }
                    }
                    Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOENT)) => {}
                    Err(e) => return Err(ioerr(&child, e)),
                }
            }
            SFlag::S_IFLNK => {
                let t = match nix::fcntl::readlinkat(Some(dir.as_raw_fd()), n.as_os_str()) {
                    Ok(t) => t,
                    Err(nix::Error::ENOENT | nix::Error::EINVAL) => continue,
                    Err(e) => return Err(ioerr(&child, e)),
                };
                let mut h = header_for(&cst, tar::EntryType::Symlink);
                b.append_link(&mut h, &child, Path::new(&t))
                    .map_err(|e| ioerr(&child, e))?;
            }
            SFlag::S_IFCHR if o.overlay && cst.st_rdev == 0 => {
                let mut h = header_for(&cst, tar::EntryType::Regular);
                h.set_mode(0o644);
                let mut wh = OsString::from(".wh.");
                wh.push(&n);
                b.append_data(&mut h, name.join(wh), io::empty())
                    .map_err(|e| ioerr(&child, e))?;
            }
            k => {
                let ty = match k {
                    SFlag::S_IFCHR => tar::EntryType::Char,
                    SFlag::S_IFBLK => tar::EntryType::Block,
                    SFlag::S_IFIFO => tar::EntryType::Fifo,
                    _ => continue,
                };
                let mut h = header_for(&cst, ty);
                let rdev = cst.st_rdev;
                h.set_device_major(libc::major(rdev))
                    .map_err(|e| ioerr(&child, e))?;
                h.set_device_minor(libc::minor(rdev))
                    .map_err(|e| ioerr(&child, e))?;
                b.append_data(&mut h, &child, io::empty())
                    .map_err(|e| ioerr(&child, e))?;
            }
        }
    }
    Ok(())
}

/// Whether the open directory carries overlay's opaque mark.
fn is_opaque_fd(dir: &OwnedFd) -> bool {
    let p = format!("/proc/self/fd/{}", dir.as_raw_fd());
    matches!(xattr::get(p, "trusted.overlay.opaque"), Ok(Some(v)) if v == b"y")
}

/// How [`extract`] treats owners and existing entries.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractOptions {
    /// Owner for every entry (`cp --archive`: the container's user); `None` keeps the tar's.
    pub chown: Option<(u32, u32)>,
    /// Replace a directory by a non-directory and the reverse.
    pub overwrite: bool,
}

/// The normal components of an entry path; `..` or anything odd is refused.
fn entry_components(p: &Path) -> Result<Vec<OsString>> {
    let mut v = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => v.push(n.to_os_string()),
            Component::CurDir | Component::RootDir => {}
            _ => {
                return Err(
                    FsError::Invalid(format!("invalid path in archive: {}", p.display())).into(),
                )
            }
        }
    }
    Ok(v)
}

/// Opens (creating when missing) the directory `comps` below `base`, never following links.
fn open_dirs(base: &OwnedFd, comps: &[OsString], shown: &Path) -> Result<OwnedFd> {
    let mut cur = base.try_clone().map_err(|e| ioerr(shown, e))?;
    for c in comps {
        let fl = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW;
        let next = match openat(&cur, c, fl, Mode::empty()) {
            Ok(d) => d,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                nix::sys::stat::mkdirat(
                    Some(cur.as_raw_fd()),
                    c.as_os_str(),
                    Mode::from_bits_truncate(0o755),
                )
                .map_err(|e| ioerr(shown, e))?;
                openat(&cur, c, fl, Mode::empty()).map_err(|e| ioerr(shown, e))?
            }
            Err(e) => return Err(ioerr(shown, e)),
        };
        cur = next;
    }
    Ok(cur)
}

/// Removes the non-directory `name` in `dir` (or an empty directory with `overwrite`) so a
/// new entry of another kind can take its place.
fn clear(
    dir: &OwnedFd,
    name: &OsStr,
    want_dir: bool,
    o: &ExtractOptions,
    shown: &Path,
) -> Result<bool> {
    let st = match fstatat(Some(dir.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(s) => s,
        Err(nix::Error::ENOENT) => return Ok(false),
        Err(e) => return Err(ioerr(shown, e)),
    };
    let is_dir = kind(&st) == SFlag::S_IFDIR;
    if is_dir && want_dir {
        return Ok(true);
    }
    if is_dir != want_dir && !o.overwrite && (is_dir || kind(&st) != SFlag::S_IFLNK) {
        let what = if is_dir {
            format!("cannot overwrite directory {:?} with non-directory", shown)
        } else {
            format!("cannot overwrite non-directory {:?} with directory", shown)
        };
        return Err(FsError::Invalid(what).into());
    }
    let flag = if is_dir {
        nix::unistd::UnlinkatFlags::RemoveDir
    } else {
        nix::unistd::UnlinkatFlags::NoRemoveDir
    };
    nix::unistd::unlinkat(Some(dir.as_raw_fd()), name, flag).map_err(|e| ioerr(shown, e))?;
    Ok(false)
}

fn set_owner(fd: &OwnedFd, h: &tar::Header, o: &ExtractOptions, shown: &Path) -> Result<()> {
    let (uid, gid) = match o.chown {
        Some(ug) => ug,
        None => (h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32),
    };
    nix::unistd::fchown(
        fd.as_raw_fd(),
        Some(nix::unistd::Uid::from_raw(uid)),
        Some(nix::unistd::Gid::from_raw(gid)),
    )
    .map_err(|e| ioerr(shown, e))?;
    let mode = h.mode().unwrap_or(0o644) & 0o7777;
    nix::sys::stat::fchmod(
        fd.as_raw_fd(),
        Mode::from_bits_truncate(mode as libc::mode_t),
    )
    .map_err(|e| ioerr(shown, e))
}

/// Extracts a tar stream below the directory `dest` (a descriptor inside the container).
pub fn extract<R: Read>(dest: &OwnedFd, src: R, o: &ExtractOptions) -> Result<()> {
    let mut a = tar::Archive::new(src);
    let entries = a
        .entries()
        .map_err(|e| FsError::Invalid(format!("reading archive: {e}")))?;
    for e in entries {
        let mut e = e.map_err(|e| FsError::Invalid(format!("reading archive: {e}")))?;
        let path: PathBuf = e
            .path()
            .map_err(|e| FsError::Invalid(format!("reading archive: {e}")))?
            .into_owned();
        let comps = entry_components(&path)?;
        let Some((last, parents)) = comps.split_last() else {
            continue; // `.`: the destination itself
        };
        let shown = Path::new("/").join(&path);
        let dir = open_dirs(dest, parents, &shown)?;
        let h = e.header().clone();
        let ty = h.entry_type();
        match ty {
            tar::EntryType::Directory => {
                if !clear(&dir, last, true, o, &shown)? {
                    nix::sys::stat::mkdirat(
                        Some(dir.as_raw_fd()),
                        last.as_os_str(),
                        Mode::from_bits_truncate(0o700),
                    )
                    .map_err(|e| ioerr(&shown, e))?;
                }
                let fl = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW;
                let d = openat(&dir, last, fl, Mode::empty()).map_err(|e| ioerr(&shown, e))?;
                set_owner(&d, &h, o, &shown)?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                clear(&dir, last, false, o, &shown)?;
                let fl = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW;
                let f = openat(&dir, last, fl, Mode::from_bits_truncate(0o600))
                    .map_err(|e| ioerr(&shown, e))?;
                let mut file = std::fs::File::from(f);
                io::copy(&mut e, &mut file).map_err(|e| ioerr(&shown, e))?;
                let f: OwnedFd = file.into();
                set_owner(&f, &h, o, &shown)?;
            }
            tar::EntryType::Symlink => {
                let target = h.link_name().ok().flatten().ok_or_else(|| {
                    FsError::Invalid(format!("{}: symlink without target", shown.display()))
                })?;
                clear(&dir, last, false, o, &shown)?;
                nix::unistd::symlinkat(target.as_os_str(), Some(dir.as_raw_fd()), last.as_os_str())
                    .map_err(|e| ioerr(&shown, e))?;
                let (uid, gid) = o
                    .chown
                    .unwrap_or((h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32));
                nix::unistd::fchownat(
                    Some(dir.as_raw_fd()),
                    last.as_os_str(),
                    Some(nix::unistd::Uid::from_raw(uid)),
                    Some(nix::unistd::Gid::from_raw(gid)),
                    AtFlags::AT_SYMLINK_NOFOLLOW,
                )
                .map_err(|e| ioerr(&shown, e))?;
            }
            tar::EntryType::Link => {
                let target = h.link_name().ok().flatten().ok_or_else(|| {
                    FsError::Invalid(format!("{}: link without target", shown.display()))
                })?;
                let tcomps = entry_components(&target)?;
                let Some((tlast, tparents)) = tcomps.split_last() else {
                    continue;
                };
                let tdir = open_dirs(dest, tparents, &shown)?;
                clear(&dir, last, false, o, &shown)?;
                nix::unistd::linkat(
                    Some(tdir.as_raw_fd()),
                    tlast.as_os_str(),
                    Some(dir.as_raw_fd()),
                    last.as_os_str(),
                    AtFlags::empty(),
                )
                .map_err(|e| ioerr(&shown, e))?;
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                clear(&dir, last, false, o, &shown)?;
                let k = match ty {
                    tar::EntryType::Char => SFlag::S_IFCHR,
                    tar::EntryType::Block => SFlag::S_IFBLK,
                    _ => SFlag::S_IFIFO,
                };
                let dev = libc::makedev(
                    h.device_major().ok().flatten().unwrap_or(0),
                    h.device_minor().ok().flatten().unwrap_or(0),
                );
                let mode =
                    Mode::from_bits_truncate((h.mode().unwrap_or(0o600) & 0o7777) as libc::mode_t);
                nix::sys::stat::mknodat(Some(dir.as_raw_fd()), last.as_os_str(), k, mode, dev)
                    .map_err(|e| ioerr(&shown, e))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A directory descriptor for `fd` when it is one (for extracting into it).
pub fn as_dir(fd: &OwnedFd) -> io::Result<Option<OwnedFd>> {
    let st = fstat(fd.as_raw_fd())?;
    if kind(&st) != SFlag::S_IFDIR {
        return Ok(None);
    }
    reopen(fd, OFlag::O_RDONLY | OFlag::O_DIRECTORY).map(Some)
}
