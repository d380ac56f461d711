//! The OCI distribution client: pull and push of manifests, indexes and blobs, with anonymous,
//! basic and bearer-token auth, mirrors, per-registry TLS settings and platform choice.
//!
//! It writes verified blobs through [`crate::store::blobs::BlobStore`] and hands complete
//! images to [`crate::image`]; registries.conf semantics come from [`crate::config`].

/// Errors talking to a registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0}")]
    Other(String),
}
