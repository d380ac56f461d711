//! Images: records, names and tags, layers unpacked per chain ID, inspect, history, save, load,
//! import and prune.
//!
//! Metadata lives in the state database ([`SCHEMA`]), blobs in the OCI layout of
//! [`crate::store::blobs`]. [`crate::container`] asks this module for an image's config and
//! the directories of its unpacked layers (overlay lowerdirs).

/// Tables owned by the image module.
pub const SCHEMA: &str = "";

/// Errors of image operations.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{0}: image not known")]
    NotFound(String),
}
