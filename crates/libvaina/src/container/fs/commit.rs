//! `commit`: a new image from a container, its changes as one more layer on the image's.
//!
//! The layer is a tar of the overlay upper dir read through descriptors ([`super::fdtar`]),
//! whiteouts turned back into OCI `.wh.` entries and opaque dirs into `.wh..wh..opq`, gzip
//! compressed while its diff ID (digest of the uncompressed tar) is computed. `--squash`
//! instead archives the whole merged rootfs as the only layer. The config is the image's,
//! updated with the container's command, entrypoint, environment, working dir, user and
//! labels, then the `--change` instructions (the images module's parser), with a history
//! entry carrying the author and message. The container is paused while it is read, unless
//! asked not to.

use super::fdtar::{self, WriteOptions};
use super::resolve::open_root;
use super::FsError;
use crate::container::record::ContainerRecord;
use crate::digest::{Digest, DigestWriter};
use crate::image::import::{apply_change, rfc3339_nano};
use crate::image::manifest::{
    Descriptor, Manifest, DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, OCI_CONFIG,
    OCI_LAYER_GZIP, OCI_MANIFEST,
};
use crate::image::{normalize_name, ImageError, ImageRecord};
use crate::{Engine, Result};
use serde_json::{json, Map, Value};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

/// Options of `commit` (Podman's flags).
#[derive(Debug, Clone)]
pub struct CommitOptions {
    /// `--author`.
    pub author: Option<String>,
    /// `--message`: the history comment.
    pub message: Option<String>,
    /// `--change` instructions.
    pub changes: Vec<String>,
    /// `--pause` (default true).
    pub pause: bool,
    /// `--squash`: one layer with the whole rootfs.
    pub squash: bool,
    /// `--format docker` instead of OCI.
    pub docker: bool,
    /// `--include-volumes`: the container's volume and bind mount destinations become image
    /// volumes.
    pub include_volumes: bool,
}

impl Default for CommitOptions {
    fn default() -> Self {
        CommitOptions {
            author: None,
            message: None,
            changes: Vec::new(),
            pause: true,
            squash: false,
            docker: false,
            include_volumes: false,
        }
    }
}

/// Files every container gets as mount points; they are not part of its changes.
const SKIP: &[&str] = &[
    "etc/hostname",
    "etc/hosts",
    "etc/resolv.conf",
    "run/.containerenv",
];

/// Writes the layer tar (gzip) to a temporary file; returns it with the diff ID.
/// The changes of a vfs container as a layer: what to archive and what to white out.
struct Selection {
    include: std::collections::BTreeSet<PathBuf>,
    deleted: Vec<PathBuf>,
}

fn layer_blob(
    root: &Path,
    overlay: bool,
    tmpdir: &Path,
    select: Option<Selection>,
) -> Result<(std::fs::File, Digest)> {
    let mut tmp = tempfile::tempfile_in(tmpdir).map_err(|e| FsError::io(tmpdir, e))?;
    let gz = flate2::write::GzEncoder::new(&mut tmp, flate2::Compression::fast());
    let mut dw = DigestWriter::new(std::io::BufWriter::new(gz));
    {
        let mut b = tar::Builder::new(&mut dw);
        if root.exists() {
            let fd = open_root(root).map_err(|e| FsError::io(root, e))?;
            let deleted = select
                .as_ref()
                .map(|s| s.deleted.clone())
                .unwrap_or_default();
            let o = WriteOptions {
                overlay,
                skip: if overlay || select.is_some() {
                    SKIP.iter().map(PathBuf::from).collect()
                } else {
                    Vec::new()
                },
                include: select.map(|s| s.include),
            };
            // The root entry itself is left out: entries are relative (`bin/sh`).
            for e in sorted_children(root)? {
                if o.skip.contains(&e) || !o.wants_below(&e) {
                    continue;
                }
                let efd = super::resolve::resolve(&fd, &e, false)
                    .map_err(|err| FsError::io(root.join(&e), err))?;
                write_child(&mut b, &fd, &efd, &e, &o)?;
            }
            for d in deleted {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(0);
                let mut wh = std::ffi::OsString::from(".wh.");
                wh.push(d.file_name().unwrap_or_default());
                let name = d.parent().unwrap_or(Path::new("")).join(wh);
                b.append_data(&mut h, &name, std::io::empty())
                    .map_err(|e| FsError::io(&d, e))?;
            }
        }
        b.finish().map_err(|e| FsError::io(root, e))?;
    }
    let (w, diff_id, _) = dw.finish();
    let gz = w
        .into_inner()
        .map_err(|e| FsError::io(root, e.into_error()))?;
    gz.finish().map_err(|e| FsError::io(root, e))?;
    tmp.rewind().map_err(|e| FsError::io(tmpdir, e))?;
    Ok((tmp, diff_id))
}

fn sorted_children(root: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| FsError::io(root, e))?
        .flatten()
        .map(|e| PathBuf::from(e.file_name()))
        .collect();
    v.sort();
    Ok(v)
}

/// One top-level entry: whiteouts are converted here too, the rest by [`fdtar`].
fn write_child<W: Write>(
    b: &mut tar::Builder<W>,
    _root: &std::os::fd::OwnedFd,
    fd: &std::os::fd::OwnedFd,
    name: &Path,
    o: &WriteOptions,
) -> Result<()> {
    use std::os::fd::AsRawFd;
    let st = nix::sys::stat::fstat(fd.as_raw_fd()).map_err(|e| FsError::io(name, e.into()))?;
    let kind =
        nix::sys::stat::SFlag::from_bits_truncate(st.st_mode) & nix::sys::stat::SFlag::S_IFMT;
    match kind {
        nix::sys::stat::SFlag::S_IFDIR | nix::sys::stat::SFlag::S_IFREG => {
            fdtar::write_tree_with(b, fd, name, o)
        }
        nix::sys::stat::SFlag::S_IFCHR if o.overlay && st.st_rdev == 0 => {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(0);
            let mut wh = std::ffi::OsString::from(".wh.");
            wh.push(name.as_os_str());
            b.append_data(&mut h, wh, std::io::empty())
                .map_err(|e| FsError::io(name, e).into())
        }
        nix::sys::stat::SFlag::S_IFLNK => {
            let p = format!("/proc/self/fd/{}", fd.as_raw_fd());
            // readlink on an O_PATH descriptor of a symlink (empty path) reads the link.
            let t = nix::fcntl::readlinkat(Some(fd.as_raw_fd()), "")
                .map_err(|e| FsError::io(&p, e.into()))?;
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_mode(0o777);
            h.set_uid(st.st_uid as u64);
            h.set_gid(st.st_gid as u64);
            h.set_mtime(st.st_mtime.max(0) as u64);
            h.set_size(0);
            b.append_link(&mut h, name, Path::new(&t))
                .map_err(|e| FsError::io(name, e).into())
        }
        _ => Ok(()),
    }
}

impl Engine {
    /// Commits container `name_or_id` as a new image named `name` (normalised as Podman
    /// does); returns the image.
    pub fn commit_container(
        &mut self,
        name_or_id: &str,
        name: Option<&str>,
        opts: &CommitOptions,
    ) -> Result<ImageRecord> {
        let rec = self.lookup_container(name_or_id)?;
        if rec.config.rootfs.is_some() {
            return Err(crate::container::ContainerError::Invalid(
                "cannot commit a container that uses an exploded rootfs".into(),
            )
            .into());
        }
        let names = match name {
            Some(n) => vec![normalize_name(n)?],
            None => vec![],
        };
        let pause = opts.pause && rec.state == crate::container::ContainerState::Running;
        if pause {
            self.pause_container(&rec.id)?;
        }
        let blobs = self.layer_for_commit(&rec, opts);
        if pause {
            if let Err(e) = self.unpause_container(&rec.id) {
                log::warn!("unpausing {}: {e}", rec.id);
            }
        }
        let (layer_file, diff_id) = blobs?;
        self.store_commit(&rec, layer_file, diff_id, &names, opts)
    }

    fn layer_for_commit(
        &self,
        rec: &ContainerRecord,
        opts: &CommitOptions,
    ) -> Result<(std::fs::File, Digest)> {
        let tmpdir = self.paths.root.join("tmp");
        std::fs::create_dir_all(&tmpdir).map_err(|e| FsError::io(&tmpdir, e))?;
        let paths = self.container_paths(&rec.id);
        if opts.squash {
            let guard = self.rootfs_guard(rec)?;
            layer_blob(guard.path(), false, &tmpdir, None)
        } else if paths.is_vfs() {
            let root = paths.vfs_rootfs();
            let mut sel = Selection {
                include: Default::default(),
                deleted: Vec::new(),
            };
            for c in crate::container::vfs::changes(&root, &rec.config.layers)? {
                let rel = PathBuf::from(c.path.trim_start_matches('/'));
                match c.kind {
                    super::diff::ChangeKind::Deleted => sel.deleted.push(rel),
                    _ => {
                        sel.include.insert(rel);
                    }
                }
            }
            layer_blob(&root, false, &tmpdir, Some(sel))
        } else {
            layer_blob(&paths.upper(), true, &tmpdir, None)
        }
    }

    fn store_commit(
        &mut self,
        rec: &ContainerRecord,
        mut layer_file: std::fs::File,
        diff_id: Digest,
        names: &[String],
        opts: &CommitOptions,
    ) -> Result<ImageRecord> {
        let img = self.lookup_image(&rec.image_id)?;
        let base_digest =
            Digest::from_sha256_hex(&img.id).map_err(|_| ImageError::NotFound(img.id.clone()))?;
        let blobs = self.blobs()?;
        let base_cfg: Value = serde_json::from_slice(
            &blobs
                .read_blob(&base_digest, crate::image::manifest::CONFIG_CAP)
                .map_err(ImageError::from)?,
        )
        .map_err(|e| ImageError::Config {
            digest: base_digest.to_string(),
            reason: e.to_string(),
        })?;
        let base_manifest = blobs
            .read_blob(&img.manifest_digest, crate::image::manifest::MANIFEST_CAP)
            .map_err(ImageError::from)?;
        let base_manifest = Manifest::parse(&img.manifest_digest, &base_manifest)?;
        let lock = self.lock_images()?;
        let (layer, size) = blobs.put_stream(&mut layer_file)?;
        let created = rfc3339_nano(chrono::Utc::now());
        let mut cfg = base_cfg;
        let mut c: Map<String, Value> = cfg
            .get("config")
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        let rc = &rec.config;
        if !rc.command.is_empty() {
            c.insert("Cmd".into(), json!(rc.command));
        }
        c.insert("Entrypoint".into(), json!(rc.entrypoint));
        if c.get("Entrypoint")
            .is_some_and(|v| v.as_array().is_some_and(|a| a.is_empty()))
        {
            c.remove("Entrypoint");
        }
        if !rc.env.is_empty() {
            c.insert("Env".into(), json!(rc.env));
        }
        if !rc.workdir.is_empty() {
            c.insert("WorkingDir".into(), json!(rc.workdir));
        }
        if !rc.user.is_empty() {
            c.insert("User".into(), json!(rc.user));
        }
        if !rc.labels.is_empty() {
            let l = c.entry("Labels").or_insert_with(|| json!({}));
            if let Some(l) = l.as_object_mut() {
                for (k, v) in &rc.labels {
                    l.insert(k.clone(), json!(v));
                }
            }
        }
        if opts.include_volumes {
            let vols = c.entry("Volumes").or_insert_with(|| json!({}));
            if let Some(v) = vols.as_object_mut() {
                for (dest, _) in crate::volume::attach::host_mounts(self, &rec.id)? {
                    v.insert(dest, json!({}));
                }
            }
        }
        for ch in &opts.changes {
            apply_change(&mut c, ch)?;
        }
        cfg["config"] = Value::Object(c);
        cfg["created"] = json!(created);
        if let Some(a) = &opts.author {
            cfg["author"] = json!(a);
        }
        let mut diff_ids: Vec<Value> = if opts.squash {
            Vec::new()
        } else {
            cfg["rootfs"]["diff_ids"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        };
        diff_ids.push(json!(diff_id.to_string()));
        cfg["rootfs"] = json!({"type": "layers", "diff_ids": diff_ids});
        let mut history: Vec<Value> = if opts.squash {
            Vec::new()
        } else {
            cfg["history"].as_array().cloned().unwrap_or_default()
        };
        let mut h = json!({"created": created, "created_by": rc.args.join(" ")});
        if let Some(a) = &opts.author {
            h["author"] = json!(a);
        }
        if let Some(m) = &opts.message {
            h["comment"] = json!(m);
        }
        history.push(h);
        cfg["history"] = json!(history);
        let cbytes = serde_json::to_vec(&cfg).map_err(|e| ImageError::Invalid(e.to_string()))?;
        let cdigest = blobs.put_bytes(&cbytes)?;
        let (mt, ct, lt) = if opts.docker {
            (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER_GZIP)
        } else {
            (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP)
        };
        let mut layers: Vec<Descriptor> = if opts.squash {
            Vec::new()
        } else {
            base_manifest
                .layers
                .iter()
                .cloned()
                .map(|mut d| {
                    d.media_type = convert_media_type(&d.media_type, opts.docker);
                    d
                })
                .collect()
        };
        layers.push(Descriptor {
            media_type: lt.into(),
            digest: layer.clone(),
            size,
            annotations: None,
        });
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(mt.into()),
            config: Descriptor {
                media_type: ct.into(),
                digest: cdigest.clone(),
                size: cbytes.len() as u64,
                annotations: None,
            },
            layers,
            annotations: None,
        };
        let mbytes =
            serde_json::to_vec(&manifest).map_err(|e| ImageError::Invalid(e.to_string()))?;
        let mdigest = blobs.put_bytes(&mbytes)?;
        match self.commit_image_locked(&lock, &mdigest, names) {
            Ok(r) => Ok(r),
            Err(e) => {
                let staged: [Digest; 3] = [layer, cdigest, mdigest];
                let _ = self.gc_blobs(&lock, &staged);
                Err(e)
            }
        }
    }
}

/// A layer media type in the other format's spelling when the formats differ.
fn convert_media_type(mt: &str, docker: bool) -> String {
    use crate::image::manifest::OCI_LAYER_TAR;
    match (mt, docker) {
        (OCI_LAYER_GZIP, true) => DOCKER_LAYER_GZIP.into(),
        (DOCKER_LAYER_GZIP, false) => OCI_LAYER_GZIP.into(),
        (OCI_LAYER_TAR, true) => "application/vnd.docker.image.rootfs.diff.tar".into(),
        ("application/vnd.docker.image.rootfs.diff.tar", false) => OCI_LAYER_TAR.into(),
        _ => mt.to_string(),
    }
}
