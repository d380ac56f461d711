//! Writing images into the store: the images lock, sweeping leftovers, committing an image
//! whose blobs are stored, and keeping the OCI layout's `index.json` in step with the names.
//!
//! Every write runs under one exclusive file lock (`<runroot>/locks/images.lock`), starts by
//! sweeping what an interrupted run left (stale temp blobs, temp and unrecorded layer
//! directories), renames unpacked layers into place, and records the image in a single
//! transaction: an image appears only when complete. Layers are unpacked into temp directories
//! first, by [`Engine::commit_image`] even before it takes the lock. Blob removal also needs
//! `<runroot>/locks/blobs.lock` exclusively, which pulls hold shared while their blobs are not
//! yet recorded ([`Engine::lock_blobs_in_use`]). `index.json` lists one manifest per name
//! with the `org.opencontainers.image.ref.name` annotation (so `skopeo inspect
//! oci:<root>/oci:<name>` works) and unnamed images without it.

use super::layers::{open_blob, unpack_layer};
use super::manifest::{chain_ids, ConfigSummary, Manifest, CONFIG_CAP, MANIFEST_CAP};
use super::{query_column, ImageError, ImageRecord};
use crate::digest::Digest;
use crate::store::lock::FileLock;
use crate::store::write_atomic;
use crate::{Engine, Result};
use rusqlite::{params, OptionalExtension};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// Prefix of layer directories being unpacked without the lock (`.unpack-<pid>-...`).
const UNPACK_PREFIX: &str = ".unpack-";

/// The manifest and config of an image about to be committed.
struct ImageParts {
    manifest: Manifest,
    mbytes: Vec<u8>,
    cbytes: Vec<u8>,
    config: ConfigSummary,
    chains: Vec<Digest>,
}

/// The held images write lock; image writes take it as proof.
#[derive(Debug)]
pub struct ImagesLock {
    _lock: FileLock,
}

pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Nanoseconds since the epoch, now.
pub(crate) fn now_ns() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

impl Engine {
    /// Takes the exclusive images lock and sweeps leftovers of interrupted writes.
    pub fn lock_images(&self) -> Result<ImagesLock> {
        self.db()?;
        let lock = FileLock::exclusive(&self.paths.locks().join("images.lock"))?;
        let l = ImagesLock { _lock: lock };
        self.sweep_images(&l)?;
        Ok(l)
    }

    /// Takes the images lock shared: no image can be removed while it is held. `create` holds
    /// it from looking up the image until the container is recorded, so `rmi` cannot delete
    /// the layers in between.
    pub fn lock_images_shared(&self) -> Result<FileLock> {
        self.db()?;
        Ok(FileLock::shared(&self.paths.locks().join("images.lock"))?)
    }

    /// Removes what interrupted writes left: temp blobs nobody has written to for an hour (a
    /// pull stages blobs without this lock, so fresh ones belong to a live writer), blobs no
    /// image refers to that are older than a day (a crash between the database change and the
    /// blob removal of `rmi`), temp layer directories and layer directories the database does
    /// not know (unpacked, but the image was never recorded).
    fn sweep_images(&self, _lock: &ImagesLock) -> Result<()> {
        let blobs = self.blobs()?;
        let now = std::time::SystemTime::now();
        let older_than = |p: &std::path::Path, secs: u64| -> bool {
            std::fs::symlink_metadata(p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age.as_secs() > secs)
        };
        if let Ok(rd) = std::fs::read_dir(blobs.layout().join("blobs/.tmp")) {
            for e in rd.flatten() {
                if older_than(&e.path(), 3600) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        let conn = self.db()?.conn();
        let strings = |sql: &str| -> Result<HashSet<String>> { query_column(conn, sql, []) };
        let gc = FileLock::try_exclusive(&self.paths.locks().join("blobs.lock"))?;
        let rd = std::fs::read_dir(blobs.layout().join("blobs/sha256"));
        if let (Some(_gc), Ok(rd)) = (gc, rd) {
            let used = strings(
                "SELECT config_digest FROM images UNION SELECT digest FROM image_manifests
                 UNION SELECT blob_digest FROM layers",
            )?;
            for e in rd.flatten() {
                let name = format!("sha256:{}", e.file_name().to_string_lossy());
                if !used.contains(&name) && older_than(&e.path(), 86400) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        let dir = self.paths.layers();
        let Ok(rd) = std::fs::read_dir(&dir) else {
            return Ok(());
        };
        let known = strings("SELECT chain_id FROM layers")?;
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(rest) = name.strip_prefix(UNPACK_PREFIX) {
                let pid = rest.split('-').next().unwrap_or("");
                if !pid.is_empty() && std::path::Path::new("/proc").join(pid).exists() {
                    continue;
                }
            }
            if name.starts_with(".tmp-") || !known.contains(&name) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        Ok(())
    }

    /// The directory of the unpacked layer with this chain ID (hex).
    pub fn layer_dir(&self, chain_hex: &str) -> PathBuf {
        self.paths.layers().join(chain_hex)
    }

    /// Chain IDs (hex) of an image's layers, lowest first.
    pub fn image_chain_ids(&self, image_id: &str) -> Result<Vec<String>> {
        query_column(
            self.db()?.conn(),
            "SELECT chain_id FROM image_layers WHERE image_id=?1 ORDER BY position",
            [image_id],
        )
    }

    /// The record of the image with this full ID, if it exists.
    pub fn image_record(&self, id: &str) -> Result<Option<ImageRecord>> {
        let conn = self.db()?.conn();
        let md: Option<String> = conn
            .query_row(
                "SELECT manifest_digest FROM images WHERE id=?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(ImageError::from)?;
        let Some(md) = md else { return Ok(None) };
        let manifest_digest = md
            .parse()
            .map_err(|_| ImageError::Invalid(format!("bad manifest digest {md:?} in the store")))?;
        Ok(Some(ImageRecord {
            id: id.to_string(),
            manifest_digest,
            names: self.image_names(id)?,
        }))
    }

    /// Names of an image, oldest first.
    pub fn image_names(&self, id: &str) -> Result<Vec<String>> {
        query_column(
            self.db()?.conn(),
            "SELECT name FROM image_names WHERE image_id=?1 ORDER BY rowid",
            [id],
        )
    }

    /// Reads and checks the manifest and config of an image whose blobs are stored.
    fn image_parts(&self, manifest_digest: &Digest) -> Result<ImageParts> {
        let blobs = self.blobs()?;
        let mbytes = blobs
            .read_blob(manifest_digest, MANIFEST_CAP)
            .map_err(ImageError::from)?;
        let manifest = Manifest::parse(manifest_digest, &mbytes)?;
        let config_digest = manifest.config.digest.clone();
        if config_digest.algorithm() != "sha256" {
            return Err(ImageError::Config {
                digest: config_digest.to_string(),
                reason: "only sha256 config digests are supported".into(),
            }
            .into());
        }
        let cbytes = blobs
            .read_blob(&config_digest, CONFIG_CAP)
            .map_err(ImageError::from)?;
        let config = ConfigSummary::parse(&config_digest, &cbytes)?;
        if config.rootfs.diff_ids.len() != manifest.layers.len() {
            return Err(ImageError::Manifest {
                digest: manifest_digest.to_string(),
                reason: format!(
                    "{} layers but the config lists {} diff IDs",
                    manifest.layers.len(),
                    config.rootfs.diff_ids.len()
                ),
            }
            .into());
        }
        let chains = chain_ids(&config.rootfs.diff_ids);
        Ok(ImageParts {
            manifest,
            mbytes,
            cbytes,
            config,
            chains,
        })
    }

    /// The recorded size of a layer whose directory is in place, if both are true.
    fn layer_in_place(&self, chain: &str) -> Result<Option<u64>> {
        let known: Option<i64> = self
            .db()?
            .conn()
            .query_row("SELECT size FROM layers WHERE chain_id=?1", [chain], |r| {
                r.get(0)
            })
            .optional()
            .map_err(ImageError::from)?;
        Ok(known
            .filter(|_| self.layer_dir(chain).is_dir())
            .map(|s| s.max(0) as u64))
    }

    /// Unpacks layer `i` into a new temp directory under `layers/` whose name starts with
    /// `prefix`, checking its diff ID.
    fn unpack_to_temp(
        &self,
        parts: &ImageParts,
        i: usize,
        prefix: &str,
    ) -> Result<(tempfile::TempDir, u64)> {
        let layers_dir = self.paths.layers();
        std::fs::create_dir_all(&layers_dir).map_err(|e| crate::Error::io(&layers_dir, e))?;
        let tmp = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(&layers_dir)
            .map_err(|e| crate::Error::io(&layers_dir, e))?;
        let desc = &parts.manifest.layers[i];
        let want = &parts.config.rootfs.diff_ids[i];
        let layer = desc.digest.to_string();
        let f = open_blob(&self.blobs()?.path(&desc.digest), &layer)?;
        let u = unpack_layer(f, tmp.path(), &layer)?;
        if &u.diff_id != want {
            return Err(ImageError::layer(
                &layer,
                format!(
                    "diff ID mismatch: the config says {want}, the layer is {}",
                    u.diff_id
                ),
            )
            .into());
        }
        Ok((tmp, u.size))
    }

    /// Unpacks the layers not yet in the store, without the images lock, into temp directories
    /// named after this process (the sweep spares those of live processes).
    fn unpack_missing(
        &self,
        parts: &ImageParts,
    ) -> Result<HashMap<String, (tempfile::TempDir, u64)>> {
        let prefix = format!("{UNPACK_PREFIX}{}-", std::process::id());
        let mut out = HashMap::new();
        for (i, chain) in parts.chains.iter().enumerate() {
            let c = chain.hex().to_string();
            if out.contains_key(&c) || self.layer_in_place(&c)?.is_some() {
                continue;
            }
            let unpacked = self.unpack_to_temp(parts, i, &prefix)?;
            out.insert(c, unpacked);
        }
        Ok(out)
    }

    /// [`Engine::commit_image`] with the lock already held; `names` are full, normalised names.
    pub fn commit_image_locked(
        &mut self,
        lock: &ImagesLock,
        manifest_digest: &Digest,
        names: &[String],
    ) -> Result<ImageRecord> {
        let parts = self.image_parts(manifest_digest)?;
        self.commit_parts(lock, manifest_digest, parts, HashMap::new(), names)
    }

    /// Unpacks what is missing without the lock, then records the image under it.
    pub(crate) fn commit_image_unlocked(
        &mut self,
        manifest_digest: &Digest,
        names: &[String],
    ) -> Result<ImageRecord> {
        let parts = self.image_parts(manifest_digest)?;
        let prepared = self.unpack_missing(&parts)?;
        let lock = self.lock_images()?;
        self.commit_parts(&lock, manifest_digest, parts, prepared, names)
    }

    fn commit_parts(
        &mut self,
        lock: &ImagesLock,
        manifest_digest: &Digest,
        parts: ImageParts,
        mut prepared: HashMap<String, (tempfile::TempDir, u64)>,
        names: &[String],
    ) -> Result<ImageRecord> {
        let ImageParts {
            manifest,
            mbytes,
            cbytes,
            config,
            chains,
        } = &parts;
        let diff_ids = &config.rootfs.diff_ids;
        let config_digest = manifest.config.digest.clone();
        let id = config_digest.hex().to_string();

        // Put each missing layer in place: unpacked before the lock, or now.
        let mut created: Vec<PathBuf> = Vec::new();
        let mut sizes: Vec<u64> = Vec::new();
        let result = (|| -> Result<()> {
            for (i, chain) in chains.iter().enumerate() {
                let chain = chain.hex();
                if let Some(size) = self.layer_in_place(chain)? {
                    sizes.push(size);
                    continue;
                }
                let (tmp, size) = match prepared.remove(chain) {
                    Some(p) => p,
                    None => self.unpack_to_temp(&parts, i, ".tmp-")?,
                };
                let dest = self.layer_dir(chain);
                if dest.exists() {
                    let _ = std::fs::remove_dir_all(&dest);
                }
                let tmp = tmp.keep();
                std::fs::rename(&tmp, &dest).map_err(|e| crate::Error::io(&dest, e))?;
                created.push(dest);
                sizes.push(size);
            }
            Ok(())
        })();
        if let Err(e) = result {
            for d in &created {
                let _ = std::fs::remove_dir_all(d);
            }
            return Err(e);
        }

        let size = sizes.iter().sum::<u64>() + cbytes.len() as u64 + mbytes.len() as u64;
        let labels = config
            .config
            .as_ref()
            .and_then(|c| c.labels.clone())
            .unwrap_or_default();
        let labels = serde_json::to_string(&labels).unwrap_or_else(|_| "{}".into());
        let created_ns = config.created_ns();
        let kind = manifest.kind().to_string();
        let md = manifest_digest.to_string();
        let mlen = mbytes.len() as i64;
        let res = self.db_mut()?.transaction(|tx| -> Result<(), ImageError> {
            let exists: bool = tx
                .query_row("SELECT 1 FROM images WHERE id=?1", [&id], |_| Ok(true))
                .optional()?
                .unwrap_or(false);
            if !exists {
                tx.execute(
                    "INSERT INTO images(id, config_digest, manifest_digest, manifest_type, created_ns, added_ns, size, labels, top_layer)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        id,
                        config_digest.to_string(),
                        md,
                        kind,
                        created_ns,
                        now_ns(),
                        size as i64,
                        labels,
                        chains.last().map(|c| c.hex().to_string())
                    ],
                )?;
                for (i, desc) in manifest.layers.iter().enumerate() {
                    let chain = chains[i].hex();
                    let parent = if i > 0 { Some(chains[i - 1].hex()) } else { None };
                    tx.execute(
                        "INSERT OR IGNORE INTO layers(chain_id, diff_id, parent, blob_digest, media_type, blob_size, size, refs)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
                        params![
                            chain,
                            diff_ids[i].to_string(),
                            parent,
                            desc.digest.to_string(),
                            desc.media_type,
                            desc.size as i64,
                            sizes[i] as i64
                        ],
                    )?;
                    tx.execute(
                        "INSERT INTO image_layers(image_id, position, chain_id) VALUES (?1, ?2, ?3)",
                        params![id, i as i64, chain],
                    )?;
                }
                let distinct: HashSet<&str> = chains.iter().map(|c| c.hex()).collect();
                for c in distinct {
                    tx.execute("UPDATE layers SET refs = refs + 1 WHERE chain_id=?1", [c])?;
                }
            } else {
                tx.execute(
                    "UPDATE images SET manifest_digest=?2, manifest_type=?3 WHERE id=?1",
                    params![id, md, kind],
                )?;
            }
            tx.execute(
                "INSERT OR IGNORE INTO image_manifests(image_id, digest, size, media_type) VALUES (?1, ?2, ?3, ?4)",
                params![id, md, mlen, kind],
            )?;
            for n in names {
                set_name(tx, &id, n)?;
            }
            Ok(())
        });
        if let Err(e) = res {
            for d in &created {
                let _ = std::fs::remove_dir_all(d);
            }
            return Err(e.into());
        }
        self.write_index(lock)?;
        self.image_record(&id)?
            .ok_or_else(|| ImageError::NotFound(id.clone()).into())
    }

    /// Rewrites the OCI layout's `index.json` from the database.
    pub fn write_index(&self, _lock: &ImagesLock) -> Result<()> {
        let conn = self.db()?.conn();
        let mut st = conn
            .prepare_cached(
                "SELECT i.manifest_digest, m.size, m.media_type, n.name
                 FROM images i JOIN image_manifests m ON m.image_id=i.id AND m.digest=i.manifest_digest
                 LEFT JOIN image_names n ON n.image_id=i.id
                 ORDER BY i.added_ns, n.rowid",
            )
            .map_err(ImageError::from)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(ImageError::from)?;
        let mut manifests = Vec::new();
        for row in rows {
            let (digest, size, mt, name) = row.map_err(ImageError::from)?;
            let mut m = serde_json::json!({"mediaType": mt, "digest": digest, "size": size});
            if let Some(n) = name {
                m["annotations"] = serde_json::json!({ REF_NAME: n });
            }
            manifests.push(m);
        }
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        let blobs = self.blobs()?;
        write_atomic(&blobs.index_path(), index.to_string().as_bytes())?;
        Ok(())
    }

    /// Marks blobs as in use by an operation that stores them before it commits (a pull):
    /// while any such shared lock is held, removals leave unreferenced blobs in place (the
    /// sweep collects them a day later), so a concurrent `rmi` cannot delete a blob the pull
    /// is about to commit. Hold it from before staging blobs until `commit_image` returns.
    pub fn lock_blobs_in_use(&self) -> Result<FileLock> {
        // Lives in the run root, so taking it creates nothing in the store.
        Ok(FileLock::shared(&self.paths.locks().join("blobs.lock"))?)
    }

    /// Deletes the given blobs unless an image or layer still refers to them (lock held), or
    /// an operation holds [`Engine::lock_blobs_in_use`].
    pub fn gc_blobs(&self, _lock: &ImagesLock, candidates: &[Digest]) -> Result<()> {
        let Some(_gc) = FileLock::try_exclusive(&self.paths.locks().join("blobs.lock"))? else {
            return Ok(());
        };
        let conn = self.db()?.conn();
        let blobs = self.blobs()?;
        for d in candidates {
            let s = d.to_string();
            let used: bool = conn
                .query_row(
                    "SELECT 1 WHERE EXISTS (SELECT 1 FROM images WHERE config_digest=?1)
                        OR EXISTS (SELECT 1 FROM image_manifests WHERE digest=?1)
                        OR EXISTS (SELECT 1 FROM layers WHERE blob_digest=?1)",
                    [&s],
                    |_| Ok(true),
                )
                .optional()
                .map_err(ImageError::from)?
                .unwrap_or(false);
            if !used {
                blobs.remove(d)?;
            }
        }
        Ok(())
    }
}

/// Points `name` at image `id` inside a transaction, taking it from any other image, and adds
/// it to the image's names history.
pub(crate) fn set_name(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    name: &str,
) -> Result<(), ImageError> {
    let current: Option<String> = tx
        .query_row(
            "SELECT image_id FROM image_names WHERE name=?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    if current.as_deref() != Some(id) {
        tx.execute("DELETE FROM image_names WHERE name=?1", [name])?;
        tx.execute(
            "INSERT INTO image_names(name, image_id) VALUES (?1, ?2)",
            params![name, id],
        )?;
    }
    let hist: String = tx.query_row("SELECT names_history FROM images WHERE id=?1", [id], |r| {
        r.get(0)
    })?;
    let mut h: Vec<String> = serde_json::from_str(&hist).unwrap_or_default();
    h.retain(|n| n != name);
    h.insert(0, name.to_string());
    tx.execute(
        "UPDATE images SET names_history=?2 WHERE id=?1",
        params![
            id,
            serde_json::to_string(&h).unwrap_or_else(|_| "[]".into())
        ],
    )?;
    Ok(())
}
