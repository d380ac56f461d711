//! Images: records, names and tags, layers unpacked per chain ID, inspect, history, save, load,
//! import and prune.
//!
//! Metadata lives in the state database ([`SCHEMA`], see [`schema`]), blobs in the OCI layout of
//! [`crate::store::blobs`] whose `index.json` is kept in step with the names ([`store`]).
//! [`crate::registry`] stores verified blobs and then calls [`Engine::commit_image`];
//! [`crate::container`] asks for an image's config ([`Engine::image_config`]) and the
//! directories of its unpacked layers ([`Engine::image_layer_dirs`], overlay lowerdirs made by
//! [`layers`]).

pub mod archive;
pub mod history;
pub mod import;
pub mod inspect;
pub mod layers;
pub mod list;
pub mod lookup;
pub mod manifest;
pub mod prune;
pub mod remove;
pub mod schema;
pub mod store;

use crate::digest::Digest;
use crate::reference::Reference;
use crate::{Engine, Result};
use std::path::PathBuf;

pub use schema::SCHEMA;

/// Errors of image operations.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{0}: image not known")]
    NotFound(String),
    /// Podman's wording and meaning (exit code 2).
    #[error("image used by {container}: image is in use by a container: consider listing external containers and force-removing image")]
    InUse { container: String },
    #[error("invalid image manifest {digest}: {reason}")]
    Manifest { digest: String, reason: String },
    #[error("invalid image config {digest}: {reason}")]
    Config { digest: String, reason: String },
    #[error("layer {layer}: {reason}")]
    Layer { layer: String, reason: String },
    #[error("layer {layer}: entry {entry:?}: {reason}")]
    UnsafeEntry {
        layer: String,
        entry: String,
        reason: String,
    },
    #[error("{0}")]
    Archive(String),
    #[error("invalid change {0:?}")]
    Change(String),
    #[error("{0}")]
    Invalid(String),
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl ImageError {
    pub(crate) fn layer(layer: impl std::fmt::Display, reason: impl std::fmt::Display) -> Self {
        ImageError::Layer {
            layer: layer.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// One image in the store.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageRecord {
    /// The image ID: hex of the config digest.
    pub id: String,
    /// Digest of the manifest the image was stored from.
    pub manifest_digest: Digest,
    /// Full names (`registry/path:tag`) pointing at this image.
    pub names: Vec<String>,
}

/// Normalises a name as Podman does for `tag`, `import` and `load`: a short name goes to
/// `localhost/`, a missing tag becomes `latest` (`foo` → `localhost/foo:latest`).
pub fn normalize_name(name: &str) -> Result<String> {
    let r = Reference::parse(name)?;
    let r = if r.is_short() {
        r.with_domain("localhost")
    } else {
        r
    };
    Ok(r.with_default_tag().to_string())
}

/// The repository part of a stored name (`localhost/foo:1` → `localhost/foo`).
pub fn name_repository(name: &str) -> &str {
    let no_digest = name.split_once('@').map(|(n, _)| n).unwrap_or(name);
    let slash = no_digest.rfind('/').map(|i| i + 1).unwrap_or(0);
    match no_digest[slash..].rfind(':') {
        Some(i) => &no_digest[..slash + i],
        None => no_digest,
    }
}

/// The tag of a stored name, if it has one.
pub fn name_tag(name: &str) -> Option<&str> {
    let no_digest = name.split_once('@').map(|(n, _)| n).unwrap_or(name);
    let slash = no_digest.rfind('/').map(|i| i + 1).unwrap_or(0);
    no_digest[slash..]
        .rfind(':')
        .map(|i| &no_digest[slash + i + 1..])
}

impl Engine {
    /// Registers an image whose manifest, config and layer blobs are all in the blob store:
    /// unpacks its layers, records it and points `names` at it (taking them from any other
    /// image). Returns the record.
    pub fn commit_image(
        &mut self,
        manifest_digest: &Digest,
        names: &[Reference],
    ) -> Result<ImageRecord> {
        let names: Vec<String> = names
            .iter()
            .map(|r| {
                if r.is_short() {
                    r.with_domain("localhost")
                } else {
                    r.clone()
                }
                .with_default_tag()
                .to_string()
            })
            .collect();
        self.commit_image_unlocked(manifest_digest, &names)
    }

    /// Finds an image by full or short name, full or short ID, or digest, as Podman does.
    pub fn lookup_image(&self, name_or_id: &str) -> Result<ImageRecord> {
        let id = self.resolve_image_id(name_or_id)?;
        self.image_record(&id)?
            .ok_or_else(|| ImageError::NotFound(name_or_id.to_string()).into())
    }

    /// The image's OCI config.
    pub fn image_config(&self, image: &ImageRecord) -> Result<oci_spec::image::ImageConfiguration> {
        self.read_image_config(&image.id)
    }

    /// The config blob of image `id` (its config digest), parsed as `T`.
    pub(crate) fn read_image_config<T: serde::de::DeserializeOwned>(&self, id: &str) -> Result<T> {
        let digest =
            Digest::from_sha256_hex(id).map_err(|_| ImageError::NotFound(id.to_string()))?;
        let bytes = self
            .blobs()?
            .read_blob(&digest, manifest::CONFIG_CAP)
            .map_err(ImageError::from)?;
        serde_json::from_slice(&bytes).map_err(|e| {
            ImageError::Config {
                digest: digest.to_string(),
                reason: e.to_string(),
            }
            .into()
        })
    }

    /// Directories of the image's unpacked layers, lowest first; each is usable as an overlay
    /// lowerdir (whiteouts already in overlay form).
    pub fn image_layer_dirs(&self, image: &ImageRecord) -> Result<Vec<PathBuf>> {
        let chains = self.image_chain_ids(&image.id)?;
        Ok(chains.iter().map(|c| self.layer_dir(c)).collect())
    }
}

/// The first column of every row the query `sql` returns for `params`, in order.
pub(crate) fn query_column<T, C>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<C>
where
    T: rusqlite::types::FromSql,
    C: FromIterator<T>,
{
    let mut st = conn.prepare_cached(sql).map_err(ImageError::from)?;
    let rows = st
        .query_map(params, |r| r.get::<_, T>(0))
        .map_err(ImageError::from)?;
    Ok(rows
        .collect::<rusqlite::Result<C>>()
        .map_err(ImageError::from)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(normalize_name("foo").unwrap(), "localhost/foo:latest");
        assert_eq!(normalize_name("a/b:c").unwrap(), "localhost/a/b:c");
        assert_eq!(
            normalize_name("docker.io/busybox").unwrap(),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            normalize_name("127.0.0.1:5000/x:1").unwrap(),
            "127.0.0.1:5000/x:1"
        );
        assert_eq!(name_repository("127.0.0.1:5000/x:1"), "127.0.0.1:5000/x");
        assert_eq!(name_tag("127.0.0.1:5000/x:1"), Some("1"));
        assert_eq!(name_repository("127.0.0.1:5000/x"), "127.0.0.1:5000/x");
        assert_eq!(name_tag("127.0.0.1:5000/x"), None);
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(name_repository(&format!("q.io/x@{d}")), "q.io/x");
        assert_eq!(name_tag(&format!("q.io/x@{d}")), None);
    }
}
