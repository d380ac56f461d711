//! Images: records, names and tags, layers unpacked per chain ID, inspect, history, save, load,
//! import and prune.
//!
//! Metadata lives in the state database ([`SCHEMA`]), blobs in the OCI layout of
//! [`crate::store::blobs`]. [`crate::registry`] stores verified blobs and then calls
//! [`Engine::commit_image`]; [`crate::container`] asks for an image's config and the
//! directories of its unpacked layers (overlay lowerdirs).

use crate::digest::Digest;
use crate::reference::Reference;
use crate::{Engine, Result};
use std::path::PathBuf;

/// Tables owned by the image module.
pub const SCHEMA: &str = "";

/// Errors of image operations.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{0}: image not known")]
    NotFound(String),
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

impl Engine {
    /// Registers an image whose manifest, config and layer blobs are all in the blob store:
    /// unpacks its layers, records it and points `names` at it (taking them from any other
    /// image). Returns the record.
    pub fn commit_image(
        &mut self,
        manifest_digest: &Digest,
        names: &[Reference],
    ) -> Result<ImageRecord> {
        let _ = names;
        Err(ImageError::NotFound(manifest_digest.to_string()).into())
    }

    /// Finds an image by full or short name, full or short ID, or digest, as Podman does.
    pub fn lookup_image(&self, name_or_id: &str) -> Result<ImageRecord> {
        Err(ImageError::NotFound(name_or_id.to_string()).into())
    }

    /// The image's OCI config.
    pub fn image_config(&self, image: &ImageRecord) -> Result<oci_spec::image::ImageConfiguration> {
        Err(ImageError::NotFound(image.id.clone()).into())
    }

    /// Directories of the image's unpacked layers, lowest first; each is usable as an overlay
    /// lowerdir (whiteouts already in overlay form).
    pub fn image_layer_dirs(&self, image: &ImageRecord) -> Result<Vec<PathBuf>> {
        Err(ImageError::NotFound(image.id.clone()).into())
    }
}
