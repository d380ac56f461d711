//! `save` and `load`: images to and from docker-archive (`manifest.json`, `repositories`,
//! one uncompressed tar per layer and the config), oci-archive (a tar of an OCI layout) and
//! oci-dir (an OCI layout directory).
//!
//! `load` detects the format itself, accepts plain or compressed archives, verifies every blob
//! it copies against its digest and commits each image through the same path as a pull; an
//! archive that is no image is refused with one clear error and leaves the store unchanged.

use super::layers::{decompressed, Compression};
use super::manifest::{
    host_arch, ConfigSummary, Descriptor, Manifest, CONFIG_CAP, DOCKER_LIST, MANIFEST_CAP,
    OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_MANIFEST,
};
use super::store::{ImagesLock, REF_NAME};
use super::{normalize_name, ImageError, ImageRecord};
use crate::digest::Digest;
use crate::reference::Reference;
use crate::{Engine, Result};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// The formats of `save --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    DockerArchive,
    OciArchive,
    OciDir,
}

impl std::str::FromStr for ArchiveFormat {
    type Err = ImageError;
    fn from_str(s: &str) -> Result<Self, ImageError> {
        match s {
            "docker-archive" => Ok(ArchiveFormat::DockerArchive),
            "oci-archive" => Ok(ArchiveFormat::OciArchive),
            "oci-dir" => Ok(ArchiveFormat::OciDir),
            other => Err(ImageError::Invalid(format!(
                "unsupported format {other:?}: use docker-archive, oci-archive or oci-dir"
            ))),
        }
    }
}

const NOT_AN_IMAGE: &str =
    "payload does not match any of the supported image formats (oci-archive, docker-archive, oci-dir)";

/// What `load` reads from.
pub enum LoadSource<'a> {
    /// An OCI layout directory.
    Dir(PathBuf),
    /// An archive stream (plain, gzip or zstd).
    Stream(&'a mut dyn Read),
}

struct SavedImage {
    rec: ImageRecord,
    name: Option<String>,
    manifest: Manifest,
    manifest_bytes: Vec<u8>,
    config: Vec<u8>,
    /// (diff ID, uncompressed size) per layer.
    diffs: Vec<(Digest, u64)>,
}

fn tar_header(size: u64, mode: u32, kind: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(kind);
    h
}

fn archive_err(e: impl std::fmt::Display) -> ImageError {
    ImageError::Archive(format!("writing archive: {e}"))
}

impl Engine {
    fn saved_image(&self, name: &str) -> Result<SavedImage> {
        let rec = self.lookup_image(name)?;
        let matched = self.matched_name(name, &rec.id)?;
        let blobs = self.blobs()?;
        let manifest_bytes = blobs
            .read_blob(&rec.manifest_digest, MANIFEST_CAP)
            .map_err(ImageError::from)?;
        let manifest = Manifest::parse(&rec.manifest_digest, &manifest_bytes)?;
        let config = blobs
            .read_blob(&manifest.config.digest, CONFIG_CAP)
            .map_err(ImageError::from)?;
        let conn = self.db()?.conn();
        let mut st = conn
            .prepare_cached(
                "SELECT l.diff_id, l.size FROM image_layers il JOIN layers l ON l.chain_id=il.chain_id
                 WHERE il.image_id=?1 ORDER BY il.position",
            )
            .map_err(ImageError::from)?;
        let diffs = st
            .query_map([&rec.id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .map_err(ImageError::from)?
            .map(|r| {
                let (d, s) = r.map_err(ImageError::from)?;
                let d: Digest = d
                    .parse()
                    .map_err(|_| ImageError::Invalid(format!("bad diff ID {d:?} in the store")))?;
                Ok((d, s.max(0) as u64))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SavedImage {
            rec,
            name: matched,
            manifest,
            manifest_bytes,
            config,
            diffs,
        })
    }

    /// Writes `images` in `format` to `out` (docker-archive, oci-archive).
    pub fn save_images_to(
        &self,
        images: &[String],
        format: ArchiveFormat,
        out: &mut dyn Write,
    ) -> Result<()> {
        let saved = images
            .iter()
            .map(|n| self.saved_image(n))
            .collect::<Result<Vec<_>>>()?;
        let mut b = tar::Builder::new(out);
        match format {
            ArchiveFormat::DockerArchive => self.write_docker_archive(&mut b, &saved)?,
            ArchiveFormat::OciArchive | ArchiveFormat::OciDir => {
                self.write_oci_layout(&mut TarSink(&mut b), &saved)?
            }
        }
        b.finish().map_err(archive_err)?;
        Ok(())
    }

    /// Writes `images` as an OCI layout into the directory `dir` (created if needed).
    pub fn save_images_to_dir(&self, images: &[String], dir: &Path) -> Result<()> {
        let saved = images
            .iter()
            .map(|n| self.saved_image(n))
            .collect::<Result<Vec<_>>>()?;
        self.write_oci_layout(&mut DirSink(dir.to_path_buf()), &saved)
    }

    fn write_docker_archive<W: Write>(
        &self,
        b: &mut tar::Builder<W>,
        saved: &[SavedImage],
    ) -> Result<()> {
        let blobs = self.blobs()?;
        let mut written: HashSet<String> = HashSet::new();
        let mut manifest = Vec::new();
        let mut repos = serde_json::Map::new();
        for img in saved {
            let mut layers = Vec::new();
            for (i, (diff, size)) in img.diffs.iter().enumerate() {
                let file = format!("{}.tar", diff.hex());
                if written.insert(file.clone()) {
                    let desc = &img.manifest.layers[i];
                    let blob = File::open(blobs.path(&desc.digest))
                        .map_err(|e| crate::Error::io(blobs.path(&desc.digest), e))?;
                    let data = decompressed(blob).map_err(archive_err)?;
                    let mut h = tar_header(*size, 0o444, tar::EntryType::Regular);
                    b.append_data(&mut h, &file, data.take(*size))
                        .map_err(archive_err)?;
                }
                layers.push(file);
            }
            let cfg = format!("{}.json", img.rec.id);
            if written.insert(cfg.clone()) {
                let mut h = tar_header(img.config.len() as u64, 0o444, tar::EntryType::Regular);
                b.append_data(&mut h, &cfg, &img.config[..])
                    .map_err(archive_err)?;
            }
            let tags: Vec<String> = img.name.iter().cloned().collect();
            if let (Some(n), Some(top)) = (&img.name, img.diffs.last()) {
                if let Some(tag) = super::name_tag(n) {
                    let repo = super::name_repository(n).to_string();
                    let entry = repos.entry(repo).or_insert_with(|| json!({}));
                    entry[tag] = json!(top.0.hex());
                }
            }
            manifest.push(json!({"Config": cfg, "RepoTags": tags, "Layers": layers}));
        }
        for (name, data) in [
            ("manifest.json", serde_json::to_vec(&manifest)),
            ("repositories", serde_json::to_vec(&repos)),
        ] {
            let data = data.map_err(archive_err)?;
            let mut h = tar_header(data.len() as u64, 0o444, tar::EntryType::Regular);
            b.append_data(&mut h, name, &data[..])
                .map_err(archive_err)?;
        }
        Ok(())
    }

    fn write_oci_layout(&self, sink: &mut dyn LayoutSink, saved: &[SavedImage]) -> Result<()> {
        let blobs = self.blobs()?;
        sink.dir("blobs")?;
        sink.dir("blobs/sha256")?;
        let mut written: HashSet<Digest> = HashSet::new();
        let mut index = Vec::new();
        for img in saved {
            let mut put = |d: &Digest, data: Option<&[u8]>| -> Result<()> {
                if !written.insert(d.clone()) {
                    return Ok(());
                }
                let path = format!("blobs/{}/{}", d.algorithm(), d.hex());
                match data {
                    Some(bytes) => sink.file(&path, bytes.len() as u64, &mut &bytes[..]),
                    None => {
                        let p = blobs.path(d);
                        let f = File::open(&p).map_err(|e| crate::Error::io(&p, e))?;
                        let len = f.metadata().map_err(|e| crate::Error::io(&p, e))?.len();
                        sink.file(&path, len, &mut BufReader::new(f))
                    }
                }
            };
            put(&img.rec.manifest_digest, Some(&img.manifest_bytes))?;
            put(&img.manifest.config.digest, Some(&img.config))?;
            for l in &img.manifest.layers {
                put(&l.digest, None)?;
            }
            let mut d = json!({
                "mediaType": img.manifest.kind(),
                "digest": img.rec.manifest_digest.to_string(),
                "size": img.manifest_bytes.len(),
            });
            if let Some(n) = &img.name {
                d["annotations"] = json!({ REF_NAME: n });
            }
            index.push(d);
        }
        let index = json!({"schemaVersion": 2, "manifests": index});
        let data = serde_json::to_vec(&index).map_err(archive_err)?;
        sink.file("index.json", data.len() as u64, &mut &data[..])?;
        let layout = br#"{"imageLayoutVersion": "1.0.0"}"#;
        sink.file("oci-layout", layout.len() as u64, &mut &layout[..])?;
        Ok(())
    }

    /// Loads every image of an archive or OCI layout; returns the names loaded (`sha256:<id>`
    /// for images without one).
    pub fn load_images(&mut self, source: LoadSource<'_>) -> Result<Vec<String>> {
        let staging;
        let dir = match source {
            LoadSource::Dir(d) => d,
            LoadSource::Stream(r) => {
                fs::create_dir_all(&self.paths.tmpdir)
                    .map_err(|e| crate::Error::io(&self.paths.tmpdir, e))?;
                staging = tempfile::Builder::new()
                    .prefix("load-")
                    .tempdir_in(&self.paths.tmpdir)
                    .map_err(|e| crate::Error::io(&self.paths.tmpdir, e))?;
                extract_archive(r, staging.path())?;
                staging.path().to_path_buf()
            }
        };
        let lock = self.lock_images()?;
        let mut staged: Vec<Digest> = Vec::new();
        let res = if dir.join("manifest.json").is_file() {
            self.load_docker(&lock, &dir, &mut staged)
        } else if dir.join("index.json").is_file() {
            self.load_oci(&lock, &dir, &mut staged)
        } else {
            Err(ImageError::Archive(NOT_AN_IMAGE.into()).into())
        };
        if res.is_err() {
            let _ = self.gc_blobs(&lock, &staged);
        }
        res
    }

    fn load_docker(
        &mut self,
        lock: &ImagesLock,
        dir: &Path,
        staged: &mut Vec<Digest>,
    ) -> Result<Vec<String>> {
        let bad = |r: String| -> crate::Error {
            ImageError::Archive(format!("docker-archive: {r}")).into()
        };
        let text = read_capped(&dir.join("manifest.json"), MANIFEST_CAP)?;
        let entries: Vec<Value> =
            serde_json::from_slice(&text).map_err(|e| bad(format!("manifest.json: {e}")))?;
        if entries.is_empty() {
            return Err(bad("manifest.json lists no image".into()));
        }
        let blobs = self.blobs()?;
        let mut loaded = Vec::new();
        for e in entries {
            let cfg_path = e
                .get("Config")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("manifest.json entry without Config".into()))?;
            let cfg_bytes = read_capped(&inside(dir, cfg_path)?, CONFIG_CAP)?;
            let cdigest = blobs.put_bytes(&cfg_bytes)?;
            staged.push(cdigest.clone());
            ConfigSummary::parse(&cdigest, &cfg_bytes)?;
            let mut layers = Vec::new();
            for l in e
                .get("Layers")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("manifest.json entry without Layers".into()))?
            {
                let p = inside(dir, l.as_str().ok_or_else(|| bad("bad layer path".into()))?)?;
                let mut f = File::open(&p).map_err(|e| crate::Error::io(&p, e))?;
                let mut head = [0u8; 4];
                let n = f.read(&mut head).map_err(|e| crate::Error::io(&p, e))?;
                let mt = match Compression::sniff(&head[..n]) {
                    Compression::Gzip => OCI_LAYER_GZIP,
                    Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
                    Compression::None => OCI_LAYER_TAR,
                };
                let mut f = File::open(&p).map_err(|e| crate::Error::io(&p, e))?;
                let (d, size) = blobs.put_stream(&mut f)?;
                staged.push(d.clone());
                layers.push(Descriptor {
                    media_type: mt.into(),
                    digest: d,
                    size,
                    annotations: None,
                });
            }
            let m = Manifest {
                schema_version: 2,
                media_type: Some(OCI_MANIFEST.into()),
                config: Descriptor {
                    media_type: OCI_CONFIG.into(),
                    digest: cdigest,
                    size: cfg_bytes.len() as u64,
                    annotations: None,
                },
                layers,
                annotations: None,
            };
            let mbytes = serde_json::to_vec(&m).map_err(|e| bad(e.to_string()))?;
            let md = blobs.put_bytes(&mbytes)?;
            staged.push(md.clone());
            let mut names = Vec::new();
            for t in e
                .get("RepoTags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(t) = t.as_str() {
                    let r = Reference::parse(t)?;
                    let r = if r.is_short() {
                        r.with_domain("docker.io")
                    } else {
                        r
                    };
                    names.push(r.with_default_tag().to_string());
                }
            }
            let rec = self.commit_image_locked(lock, &md, &names)?;
            if names.is_empty() {
                loaded.push(format!("sha256:{}", rec.id));
            }
            loaded.extend(names);
        }
        Ok(loaded)
    }

    fn load_oci(
        &mut self,
        lock: &ImagesLock,
        dir: &Path,
        staged: &mut Vec<Digest>,
    ) -> Result<Vec<String>> {
        let bad =
            |r: String| -> crate::Error { ImageError::Archive(format!("oci layout: {r}")).into() };
        let index: Value =
            serde_json::from_slice(&read_capped(&dir.join("index.json"), MANIFEST_CAP)?)
                .map_err(|e| bad(format!("index.json: {e}")))?;
        let descs = index
            .get("manifests")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if descs.is_empty() {
            return Err(bad("index.json lists no image".into()));
        }
        let blobs = self.blobs()?;
        let copy = |d: &Digest, size: Option<u64>, staged: &mut Vec<Digest>| -> Result<()> {
            let p = inside(dir, &format!("blobs/{}/{}", d.algorithm(), d.hex()))?;
            let mut f = File::open(&p).map_err(|e| crate::Error::io(&p, e))?;
            if !blobs.has(d) {
                blobs.put_verified(d, size, &mut f)?;
                staged.push(d.clone());
            }
            Ok(())
        };
        let mut loaded = Vec::new();
        for desc in descs {
            let desc: Descriptor =
                serde_json::from_value(desc).map_err(|e| bad(format!("index.json: {e}")))?;
            let name = desc
                .annotations
                .as_ref()
                .and_then(|a| a.get(REF_NAME))
                .and_then(|n| normalize_name(n).ok());
            let mut mdesc = desc.clone();
            if desc.media_type == OCI_INDEX || desc.media_type == DOCKER_LIST {
                cap(&desc, MANIFEST_CAP, "image index")?;
                copy(&desc.digest, Some(desc.size), staged)?;
                let ib = blobs
                    .read_blob(&desc.digest, MANIFEST_CAP)
                    .map_err(ImageError::from)?;
                let inner: Value = serde_json::from_slice(&ib).map_err(|e| bad(e.to_string()))?;
                let list = inner
                    .get("manifests")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let pick = list
                    .iter()
                    .find(|m| {
                        m.pointer("/platform/architecture").and_then(Value::as_str)
                            == Some(host_arch())
                            && m.pointer("/platform/os").and_then(Value::as_str) == Some("linux")
                    })
                    .or_else(|| list.first())
                    .ok_or_else(|| bad("empty image index".into()))?;
                mdesc = serde_json::from_value(pick.clone()).map_err(|e| bad(e.to_string()))?;
            }
            cap(&mdesc, MANIFEST_CAP, "manifest")?;
            copy(&mdesc.digest, Some(mdesc.size), staged)?;
            let mb = blobs
                .read_blob(&mdesc.digest, MANIFEST_CAP)
                .map_err(ImageError::from)?;
            let m = Manifest::parse(&mdesc.digest, &mb)?;
            cap(&m.config, CONFIG_CAP, "config")?;
            copy(&m.config.digest, Some(m.config.size), staged)?;
            for l in &m.layers {
                copy(&l.digest, Some(l.size), staged)?;
            }
            let names: Vec<String> = name.into_iter().collect();
            let rec = self.commit_image_locked(lock, &mdesc.digest, &names)?;
            if names.is_empty() {
                loaded.push(format!("sha256:{}", rec.id));
            }
            loaded.extend(names);
        }
        Ok(loaded)
    }
}

/// Refuses a manifest or config whose descriptor is over the size cap, before copying it.
fn cap(desc: &Descriptor, cap: u64, what: &str) -> Result<()> {
    if desc.size > cap {
        return Err(ImageError::Archive(format!(
            "{what} {} is {} bytes, more than the {} MiB limit",
            desc.digest,
            desc.size,
            cap >> 20
        ))
        .into());
    }
    Ok(())
}

/// `rel` inside `dir`, refusing paths that leave it.
fn inside(dir: &Path, rel: &str) -> Result<PathBuf> {
    let mut p = dir.to_path_buf();
    for c in rel.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                return Err(
                    ImageError::Archive(format!("archive path {rel:?} leaves the archive")).into(),
                )
            }
            c => p.push(c),
        }
    }
    if rel.starts_with('/') {
        return Err(ImageError::Archive(format!("archive path {rel:?} is absolute")).into());
    }
    Ok(p)
}

fn read_capped(p: &Path, cap: u64) -> Result<Vec<u8>> {
    let f = File::open(p).map_err(|e| crate::Error::io(p, e))?;
    let mut buf = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| crate::Error::io(p, e))?;
    if buf.len() as u64 > cap {
        return Err(
            ImageError::Archive(format!("{} is larger than {cap} bytes", p.display())).into(),
        );
    }
    Ok(buf)
}

/// Extracts the regular files and directories of an archive (only those; links and devices
/// are not part of any image archive format we read) into `dest`.
fn extract_archive(r: &mut dyn Read, dest: &Path) -> Result<()> {
    let not_image = || -> crate::Error { ImageError::Archive(NOT_AN_IMAGE.into()).into() };
    let stream = decompressed(r).map_err(|_| not_image())?;
    let mut a = tar::Archive::new(stream);
    let entries = a.entries().map_err(|_| not_image())?;
    let mut count = 0;
    for e in entries {
        let mut e = e.map_err(|_| not_image())?;
        let raw = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let kind = e.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            continue;
        }
        let p = inside(dest, &raw)?;
        if kind.is_dir() {
            fs::create_dir_all(&p).map_err(|e| crate::Error::io(&p, e))?;
            continue;
        }
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).map_err(|e| crate::Error::io(parent, e))?;
        }
        let mut f = File::create(&p).map_err(|e| crate::Error::io(&p, e))?;
        let want = e.size();
        let got = io::copy(&mut e, &mut f).map_err(|_| not_image())?;
        if got != want {
            return Err(ImageError::Archive("archive is truncated".into()).into());
        }
        count += 1;
    }
    if count == 0 {
        return Err(not_image());
    }
    Ok(())
}

/// Where an OCI layout is written: a tar stream or a directory.
trait LayoutSink {
    fn dir(&mut self, path: &str) -> Result<()>;
    fn file(&mut self, path: &str, size: u64, data: &mut dyn Read) -> Result<()>;
}

struct TarSink<'a, W: Write>(&'a mut tar::Builder<W>);

impl<W: Write> LayoutSink for TarSink<'_, W> {
    fn dir(&mut self, path: &str) -> Result<()> {
        let mut h = tar_header(0, 0o755, tar::EntryType::Directory);
        self.0
            .append_data(&mut h, format!("{path}/"), io::empty())
            .map_err(archive_err)?;
        Ok(())
    }
    fn file(&mut self, path: &str, size: u64, data: &mut dyn Read) -> Result<()> {
        let mut h = tar_header(size, 0o644, tar::EntryType::Regular);
        self.0
            .append_data(&mut h, path, data.take(size))
            .map_err(archive_err)?;
        Ok(())
    }
}

struct DirSink(PathBuf);

impl LayoutSink for DirSink {
    fn dir(&mut self, path: &str) -> Result<()> {
        let p = self.0.join(path);
        fs::create_dir_all(&p).map_err(|e| crate::Error::io(&p, e))?;
        Ok(())
    }
    fn file(&mut self, path: &str, _size: u64, data: &mut dyn Read) -> Result<()> {
        let p = self.0.join(path);
        let mut f = File::create(&p).map_err(|e| crate::Error::io(&p, e))?;
        io::copy(data, &mut f).map_err(|e| crate::Error::io(&p, e))?;
        Ok(())
    }
}
