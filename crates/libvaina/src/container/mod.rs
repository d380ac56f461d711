//! Containers: OCI spec generation from image config and flags, the lifecycle (create, start,
//! stop, kill, remove, wait), exec sessions and logs.
//!
//! Runs containers through [`crate::runtime`] under a per-container [`crate::monitor`]; takes
//! rootfs layers and config from [`crate::image`]; keeps its records in the state database.

pub mod options;
pub mod spec;

use crate::store::db::Db;
use crate::Result;

/// Tables owned by the container module.
pub const SCHEMA: &str = "";

/// Errors of container operations.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("no container with name or ID {0:?} found: no such container")]
    NotFound(String),
}

/// IDs of the containers created from image `image_id` (for `rmi`, `image prune`, `images`).
pub fn containers_using_image(db: &Db, image_id: &str) -> Result<Vec<String>> {
    let _ = (db, image_id);
    Ok(Vec::new())
}
