//! Names and removal: `tag`, `untag`, `rmi`/`image rm`.
//!
//! Removing an image drops its names, its manifests, and one reference from each of its layers;
//! a layer whose count reaches zero loses its directory, and blobs nothing refers to any more
//! are deleted. Database changes happen in one transaction under the images lock; directories
//! and blobs go afterwards (a crash in between leaves only what the next sweep removes).

use super::store::{set_name, ImagesLock};
use super::{normalize_name, query_column, ImageError};
use crate::digest::Digest;
use crate::reference::Reference;
use crate::{Engine, Result};
use rusqlite::{params, OptionalExtension};

/// Options of `rmi` (Podman's flags).
#[derive(Debug, Clone, Default)]
pub struct RemoveOptions {
    /// `-f`: remove images with several names by ID, and images used by containers.
    pub force: bool,
    /// `-a`: every image.
    pub all: bool,
    /// `-i`: no error for images that do not exist.
    pub ignore: bool,
}

/// What `rmi` did, in Podman's reporting order, and what failed.
#[derive(Debug, Default)]
pub struct RemoveReport {
    pub untagged: Vec<String>,
    pub deleted: Vec<String>,
    pub errors: Vec<crate::Error>,
}

impl Engine {
    /// Adds `names` (normalised as Podman does) to the image `image`, taking them from any
    /// other image.
    pub fn tag_image(&mut self, image: &str, names: &[String]) -> Result<()> {
        let mut full = Vec::new();
        for n in names {
            let r = Reference::parse(n)?;
            if r.digest.is_some() {
                return Err(
                    ImageError::Invalid(format!("{n}: tag by digest not supported")).into(),
                );
            }
            full.push(normalize_name(n)?);
        }
        let lock = self.lock_images()?;
        let id = self.resolve_image_id(image)?;
        self.db_mut()?.transaction(|tx| -> Result<(), ImageError> {
            for n in &full {
                set_name(tx, &id, n)?;
            }
            Ok(())
        })?;
        self.write_index(&lock)
    }

    /// Removes `names` from the image (all its names when `names` is empty).
    pub fn untag_image(&mut self, image: &str, names: &[String]) -> Result<()> {
        let lock = self.lock_images()?;
        let id = self.resolve_image_id(image)?;
        let have = self.image_names(&id)?;
        let mut drop = Vec::new();
        if names.is_empty() {
            drop = have.clone();
        }
        for n in names {
            let full = normalize_name(n)?;
            if !have.contains(&full) {
                return Err(ImageError::Invalid(format!("{full}: tag not known")).into());
            }
            drop.push(full);
        }
        self.db_mut()?.transaction(|tx| -> Result<(), ImageError> {
            for n in &drop {
                tx.execute(
                    "DELETE FROM image_names WHERE name=?1 AND image_id=?2",
                    params![n, id],
                )?;
            }
            Ok(())
        })?;
        self.write_index(&lock)
    }

    /// `rmi`: removes or untags each image; errors are collected, not fatal.
    pub fn remove_images(&mut self, refs: &[String], opts: &RemoveOptions) -> Result<RemoveReport> {
        let lock = self.lock_images()?;
        let mut report = RemoveReport::default();
        let mut targets: Vec<(String, Option<String>)> = Vec::new();
        if opts.all {
            let conn = self.db()?.conn();
            let ids: Vec<String> =
                query_column(conn, "SELECT id FROM images ORDER BY created_ns DESC", [])?;
            targets.extend(ids.into_iter().map(|i| (i, None)));
        }
        for r in refs {
            match self.resolve_image_id(r) {
                Ok(id) => {
                    let name = self.matched_name(r, &id)?;
                    targets.push((id, name));
                }
                Err(crate::Error::Image(ImageError::NotFound(_))) if opts.ignore => {}
                Err(e) => report.errors.push(e),
            }
        }
        for (id, name) in targets {
            if let Err(e) = self.remove_one(&lock, &id, name.as_deref(), opts.force, &mut report) {
                report.errors.push(e);
            }
        }
        self.write_index(&lock)?;
        Ok(report)
    }

    /// The stored name `r` designates on image `id`, or `None` when `r` is an ID.
    pub(crate) fn matched_name(&self, r: &str, id: &str) -> Result<Option<String>> {
        let bare = r.strip_prefix("sha256:").unwrap_or(r);
        if id.starts_with(bare) {
            return Ok(None);
        }
        let names = self.image_names(id)?;
        if names.iter().any(|n| n == r) {
            return Ok(Some(r.to_string()));
        }
        let Ok(parsed) = Reference::parse(r) else {
            return Ok(None);
        };
        if parsed.digest.is_some() {
            return Ok(None);
        }
        let full = normalize_name(r)?;
        if names.contains(&full) {
            return Ok(Some(full));
        }
        let p = parsed.with_default_tag();
        let suffix = format!("/{}:{}", p.path, p.tag.unwrap_or_default());
        Ok(names.into_iter().find(|n| n.ends_with(&suffix)))
    }

    fn remove_one(
        &mut self,
        lock: &ImagesLock,
        id: &str,
        name: Option<&str>,
        force: bool,
        report: &mut RemoveReport,
    ) -> Result<()> {
        let names = self.image_names(id)?;
        if let Some(n) = name {
            if names.len() > 1 {
                self.db_mut()?.transaction(|tx| -> Result<(), ImageError> {
                    tx.execute("DELETE FROM image_names WHERE name=?1", [n])?;
                    Ok(())
                })?;
                report.untagged.push(n.to_string());
                return Ok(());
            }
        } else if names.len() > 1 && !force {
            return Err(ImageError::Invalid(format!(
                "unable to delete image {id:?} by ID with more than one tag ([{}]): please force removal",
                names.join(" ")
            ))
            .into());
        }
        let users = crate::container::containers_using_image(self.db()?, id)?;
        if let Some(c) = users.first() {
            if !force {
                return Err(ImageError::InUse {
                    container: c.clone(),
                }
                .into());
            }
            // Podman's `rmi -f`: the containers go first (running ones are stopped).
            for c in &users {
                self.remove_container(c, true, None)?;
            }
        }
        self.delete_image(lock, id)?;
        report.untagged.extend(names);
        report.deleted.push(id.to_string());
        Ok(())
    }

    /// Deletes image `id` with its names, unused layers and unreferenced blobs (lock held).
    pub fn delete_image(&mut self, lock: &ImagesLock, id: &str) -> Result<()> {
        let (dead_layers, mut blobs) =
            self.db_mut()?
                .transaction(|tx| -> Result<(Vec<String>, Vec<String>), ImageError> {
                    let config: Option<String> = tx
                        .query_row("SELECT config_digest FROM images WHERE id=?1", [id], |r| {
                            r.get(0)
                        })
                        .optional()?;
                    let Some(config) = config else {
                        return Err(ImageError::NotFound(id.to_string()));
                    };
                    let mut blobs = vec![config];
                    {
                        let mut st =
                            tx.prepare("SELECT digest FROM image_manifests WHERE image_id=?1")?;
                        for d in st.query_map([id], |r| r.get::<_, String>(0))? {
                            blobs.push(d?);
                        }
                    }
                    let chains: Vec<String> = {
                        let mut st = tx.prepare(
                            "SELECT DISTINCT chain_id FROM image_layers WHERE image_id=?1",
                        )?;
                        let v = st
                            .query_map([id], |r| r.get::<_, String>(0))?
                            .collect::<rusqlite::Result<_>>()?;
                        v
                    };
                    tx.execute("DELETE FROM image_layers WHERE image_id=?1", [id])?;
                    tx.execute("DELETE FROM image_manifests WHERE image_id=?1", [id])?;
                    tx.execute("DELETE FROM image_names WHERE image_id=?1", [id])?;
                    tx.execute("DELETE FROM images WHERE id=?1", [id])?;
                    let mut dead = Vec::new();
                    for c in chains {
                        tx.execute("UPDATE layers SET refs = refs - 1 WHERE chain_id=?1", [&c])?;
                        let (refs, blob): (i64, String) = tx.query_row(
                            "SELECT refs, blob_digest FROM layers WHERE chain_id=?1",
                            [&c],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )?;
                        if refs <= 0 {
                            tx.execute("DELETE FROM layers WHERE chain_id=?1", [&c])?;
                            blobs.push(blob);
                            dead.push(c);
                        }
                    }
                    Ok((dead, blobs))
                })?;
        for c in dead_layers {
            let dir = self.layer_dir(&c);
            // Rename first so a crash mid-removal leaves a temp dir the next sweep deletes.
            let tmp = self.paths.layers().join(format!(".tmp-del-{c}"));
            if std::fs::rename(&dir, &tmp).is_ok() {
                let _ = std::fs::remove_dir_all(&tmp);
            }
        }
        blobs.dedup();
        let digests: Vec<Digest> = blobs.iter().filter_map(|b| b.parse().ok()).collect();
        self.gc_blobs(lock, &digests)
    }
}
