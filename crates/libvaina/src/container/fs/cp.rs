//! `cp` between the host and a container, in both directions, with `-` as a tar stream.
//!
//! The container side is always reached through [`super::resolve`] (inside the root) and
//! [`super::fdtar`] (relative to directory descriptors, no symlink followed), so a container
//! cannot redirect vaina outside its rootfs. The host side is the caller's own filesystem
//! and uses ordinary paths. Both directions stream a tar between a producer thread and the
//! consumer, so memory use does not depend on the size copied.
//!
//! Naming follows Podman: copying onto an existing directory puts the source inside it, onto
//! a missing path creates it (its parent must exist), and a source ending in `/.` copies the
//! directory's contents.

use super::fdtar::{self, ExtractOptions};
use super::resolve::resolve;
use super::FsError;
use crate::container::record::ContainerRecord;
use crate::{Engine, Result};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Options of `cp`.
#[derive(Debug, Clone, Copy)]
pub struct CpOptions {
    /// `--archive` (default true): chown what lands in the container to its primary user.
    pub archive: bool,
    /// `--overwrite`: replace directories by non-directories and the reverse.
    pub overwrite: bool,
}

impl Default for CpOptions {
    fn default() -> Self {
        CpOptions {
            archive: true,
            overwrite: false,
        }
    }
}

/// Where the data of a copy into a container comes from.
pub enum CopySource<'a> {
    Host(PathBuf),
    /// A tar stream (`-`).
    Tar(&'a mut dyn Read),
}

/// Where the data of a copy out of a container goes.
pub enum CopyTarget<'a> {
    Host(PathBuf),
    /// A tar stream (`-`).
    Tar(&'a mut dyn Write),
}

/// Whether a path asks for a directory's contents (`dir/.`).
fn wants_contents(p: &str) -> bool {
    p == "." || p.ends_with("/.")
}

/// The base name of a path as `cp` uses it (`/a/b/` → `b`; `/` → none).
fn base_name(p: &str) -> Option<PathBuf> {
    Path::new(p).file_name().map(PathBuf::from)
}

fn not_on_container(path: &str, ctr: &str) -> crate::Error {
    FsError::NotFound(format!(
        "{path:?} could not be found on container {ctr}: no such file or directory"
    ))
    .into()
}

fn not_on_host(path: &Path) -> crate::Error {
    FsError::NotFound(format!(
        "{:?} could not be found on the host: no such file or directory",
        path.display().to_string()
    ))
    .into()
}

impl Engine {
    /// The primary uid/gid of a container's process (from its bundle).
    fn container_user(&self, rec: &ContainerRecord) -> (u32, u32) {
        let p = self.container_paths(&rec.id).config_json();
        oci_spec::runtime::Spec::load(p)
            .ok()
            .and_then(|s| s.process().clone())
            .map(|p| (p.user().uid(), p.user().gid()))
            .unwrap_or((0, 0))
    }

    /// Copies `src` into container `ctr` at `dst` (`cp SRC CTR:DST`, `cp - CTR:DST`).
    pub fn copy_into_container(
        &self,
        ctr: &str,
        src: CopySource<'_>,
        dst: &str,
        opts: &CpOptions,
    ) -> Result<()> {
        let rec = self.lookup_container(ctr)?;
        if let CopySource::Host(p) = &src {
            if std::fs::symlink_metadata(p).is_err() {
                return Err(not_on_host(p));
            }
        }
        let croot = self.copy_root(&rec)?;
        let root = croot.fd();
        let xo = ExtractOptions {
            chown: opts.archive.then(|| self.container_user(&rec)),
            overwrite: opts.overwrite,
        };
        let existing = resolve(root, Path::new(dst), true).ok();
        let existing_dir = match &existing {
            Some(fd) => fdtar::as_dir(fd).map_err(|e| FsError::io(dst, e))?,
            None => None,
        };
        match src {
            CopySource::Tar(r) => {
                let Some(dir) = existing_dir else {
                    if existing.is_none() {
                        return Err(not_on_container(dst, ctr));
                    }
                    return Err(FsError::Invalid(
                        "destination must be a directory when copying from stdin".into(),
                    )
                    .into());
                };
                fdtar::extract(&dir, r, &xo)
            }
            CopySource::Host(p) => {
                let src_s = p.to_string_lossy().into_owned();
                let src_is_dir = std::fs::metadata(&p).map(|m| m.is_dir()).unwrap_or(false);
                let (dir, name): (OwnedFd, PathBuf) = match existing_dir {
                    Some(d) => {
                        let name = if wants_contents(&src_s) {
                            PathBuf::from(".")
                        } else {
                            base_name(&src_s).unwrap_or_else(|| PathBuf::from("."))
                        };
                        (d, name)
                    }
                    None => {
                        if existing.is_some() && src_is_dir {
                            return Err(FsError::Invalid(
                                "destination must be a directory when copying a directory".into(),
                            )
                            .into());
                        }
                        if dst.ends_with('/') {
                            return Err(not_on_container(dst, ctr));
                        }
                        let name = base_name(dst).ok_or_else(|| not_on_container(dst, ctr))?;
                        let parent = Path::new(dst).parent().unwrap_or(Path::new("/"));
                        let pfd =
                            resolve(root, parent, true).map_err(|_| not_on_container(dst, ctr))?;
                        let d = fdtar::as_dir(&pfd)
                            .map_err(|e| FsError::io(parent, e))?
                            .ok_or_else(|| not_on_container(dst, ctr))?;
                        (d, name)
                    }
                };
                stream_host_into(&p, &name, &dir, &xo)
            }
        }
    }

    /// Copies `src` out of container `ctr` (`cp CTR:SRC DST`, `cp CTR:SRC -`).
    pub fn copy_from_container(
        &self,
        ctr: &str,
        src: &str,
        target: CopyTarget<'_>,
        _opts: &CpOptions,
    ) -> Result<()> {
        let rec = self.lookup_container(ctr)?;
        let croot = self.copy_root(&rec)?;
        let root = croot.fd();
        let follow = src.ends_with('/') || wants_contents(src);
        let fd = resolve(root, Path::new(src), follow).map_err(|_| not_on_container(src, ctr))?;
        let src_is_dir = fdtar::as_dir(&fd).ok().flatten().is_some();
        let base = base_name(src).unwrap_or_else(|| PathBuf::from("."));
        match target {
            CopyTarget::Tar(w) => {
                let name = if wants_contents(src) {
                    PathBuf::from(".")
                } else {
                    base
                };
                let mut b = tar::Builder::new(w);
                fdtar::write_tree(&mut b, &fd, &name)?;
                b.finish().map_err(|e| FsError::io("-", e))?;
                Ok(())
            }
            CopyTarget::Host(dst) => {
                let meta = std::fs::metadata(&dst).ok();
                let (dir, name) = match meta {
                    Some(m) if m.is_dir() => {
                        let name = if wants_contents(src) {
                            PathBuf::from(".")
                        } else {
                            base
                        };
                        (dst.clone(), name)
                    }
                    Some(_) if src_is_dir => {
                        return Err(FsError::Invalid(
                            "destination must be a directory when copying a directory".into(),
                        )
                        .into())
                    }
                    _ => {
                        let parent = match dst.parent() {
                            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                            _ => PathBuf::from("."),
                        };
                        let name = dst.file_name().map(PathBuf::from);
                        match name {
                            Some(n)
                                if parent.is_dir()
                                    && !dst.as_os_str().as_bytes().ends_with(b"/") =>
                            {
                                (parent, n)
                            }
                            _ => return Err(not_on_host(&dst)),
                        }
                    }
                };
                stream_out_to_host(&fd, &name, &dir)
            }
        }
    }
}

impl Engine {
    /// Copies `src` of container `from` to `dst` in container `to` (`cp CTR1:SRC CTR2:DST`),
    /// staged in a temporary directory so the naming rules are those of the two halves.
    pub fn copy_between_containers(
        &self,
        from: &str,
        src: &str,
        to: &str,
        dst: &str,
        opts: &CpOptions,
    ) -> Result<()> {
        self.lookup_container(to)?;
        let tmpdir = &self.paths.tmpdir;
        std::fs::create_dir_all(tmpdir).map_err(|e| FsError::io(tmpdir, e))?;
        let stage = tempfile::Builder::new()
            .prefix("cp-")
            .tempdir_in(tmpdir)
            .map_err(|e| FsError::io(tmpdir, e))?;
        let name = match base_name(src) {
            Some(n) if !wants_contents(src) => n,
            _ => PathBuf::from("contents"),
        };
        let staged = stage.path().join(name);
        self.copy_from_container(from, src, CopyTarget::Host(staged.clone()), opts)?;
        let staged = if wants_contents(src) {
            staged.join(".")
        } else {
            staged
        };
        self.copy_into_container(to, CopySource::Host(staged), dst, opts)
    }
}

/// A pipe as two files (read end, write end).
fn pipe() -> std::io::Result<(std::fs::File, std::fs::File)> {
    let (r, w) = nix::unistd::pipe()?;
    Ok((r.into(), w.into()))
}

/// Host → container: a thread archives the host path as `name`, this one extracts it.
fn stream_host_into(src: &Path, name: &Path, dir: &OwnedFd, xo: &ExtractOptions) -> Result<()> {
    let (reader, writer) = pipe().map_err(|e| FsError::io(src, e))?;
    std::thread::scope(|s| {
        let producer = s.spawn(move || -> std::io::Result<()> {
            let mut b = tar::Builder::new(std::io::BufWriter::new(writer));
            b.follow_symlinks(false);
            let m = std::fs::symlink_metadata(src)?;
            if m.is_dir() {
                b.append_dir_all(name, src)?;
            } else {
                b.append_path_with_name(src, name)?;
            }
            b.into_inner()?.flush()
        });
        let mut br = std::io::BufReader::new(reader);
        let r = fdtar::extract(dir, &mut br, xo);
        // Drain what the producer still writes so it does not block on a full pipe.
        let _ = std::io::copy(&mut br, &mut std::io::sink());
        let p = producer.join();
        r?;
        match p {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(FsError::io(src, e).into()),
            Err(_) => Err(FsError::Invalid("archiving thread panicked".into()).into()),
        }
    })
}

/// Container → host: a thread archives the container entry, this one unpacks on the host.
fn stream_out_to_host(fd: &OwnedFd, name: &Path, dir: &Path) -> Result<()> {
    let (reader, writer) = pipe().map_err(|e| FsError::io(dir, e))?;
    std::thread::scope(|s| {
        let producer = s.spawn(move || -> Result<()> {
            let mut b = tar::Builder::new(std::io::BufWriter::new(writer));
            fdtar::write_tree(&mut b, fd, name)?;
            b.into_inner()
                .and_then(|mut w| w.flush())
                .map_err(|e| FsError::io(name, e))?;
            Ok(())
        });
        let mut a = tar::Archive::new(std::io::BufReader::new(reader));
        a.set_preserve_permissions(true);
        a.set_preserve_ownerships(nix::unistd::geteuid().is_root());
        a.set_preserve_mtime(true);
        a.set_overwrite(true);
        let r = a.unpack(dir).map_err(|e| FsError::io(dir, e));
        // Drain what the producer still writes so it does not block on a full pipe.
        let _ = std::io::copy(&mut a.into_inner(), &mut std::io::sink());
        let p = producer.join();
        r?;
        match p {
            Ok(r) => r,
            Err(_) => Err(FsError::Invalid("archiving thread panicked".into()).into()),
        }
    })
}
