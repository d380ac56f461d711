//! Image references: the docker/distribution grammar (domain with port, path components, tag,
//! digest), `docker.io/library` normalisation, and short-name resolution with registries.conf
//! aliases, unqualified-search registries, `short-name-mode` and the alias cache.
//!
//! Used by [`crate::image`] to name images and by [`crate::registry`] to know where to pull from.

/// Why a string is not a usable image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("invalid reference format: {0}")]
    Invalid(String),
}
