//! Containers: OCI spec generation from image config and flags, the lifecycle (create, start,
//! stop, kill, remove, wait), exec sessions and logs.
//!
//! Runs containers through [`crate::runtime`] under a per-container [`crate::monitor`]; takes
//! rootfs layers and config from [`crate::image`]; keeps its records in the state database
//! ([`SCHEMA`], [`record`]). Per container, the graph root holds `containers/<id>/` (the
//! bundle `config.json`, the overlay `upper`/`work`/`merged` dirs, the prepared `/etc` files
//! and the log) and the run root holds `containers/<id>/` (attach socket, pid file, the
//! monitor's lock).

pub mod attach;
pub mod config;
pub mod create;
pub mod depend;
pub mod exec;
pub mod exit_codes;
pub mod files;
pub mod fs;
pub mod inspect;
pub mod inspect_host;
pub mod lifecycle;
pub mod logs;
pub mod names;
pub mod net;
pub mod options;
pub mod record;
pub mod rootfs;
pub mod spec;
pub mod stats;
pub mod top;
pub mod vfs;

pub use config::ContainerConfig;
pub use options::RestartPolicy;
pub use record::{ContainerRecord, ContainerState};

use crate::store::db::Db;
use crate::Result;

/// Tables owned by the container module.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS containers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    image_id TEXT NOT NULL,
    image_name TEXT NOT NULL,
    state TEXT NOT NULL,
    pid INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL,
    started INTEGER NOT NULL DEFAULT 0,
    finished INTEGER NOT NULL DEFAULT 0,
    restart_count INTEGER NOT NULL DEFAULT 0,
    config TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS containers_image ON containers(image_id);
";

/// Errors of container operations.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("no container with name or ID {0:?} found: no such container")]
    NotFound(String),
    #[error("creating container storage: the container name {name:?} is already in use by {id}. You have to remove that container to be able to reuse that name: that name is already in use")]
    NameInUse { name: String, id: String },
    /// A lifecycle operation not allowed in the container's state.
    #[error("{0}: container state improper")]
    StateImproper(String),
    /// `rm` of a running container without `--force` (Podman exits 2).
    #[error("cannot remove container {0} as it is running - running or paused containers cannot be removed without force: container state improper")]
    RemoveRunning(String),
    /// `rm` of a container that others joined (`--pid/--ipc/--uts/--network container:`),
    /// without `--depend`; carries the dependents' IDs joined by ", " (Podman's wording).
    #[error("container {id} has dependent containers which must be removed before it: {dependents}: container already exists")]
    HasDependents { id: String, dependents: String },
    /// `exec` into a container that is not running (Podman exits 255 here).
    #[error("can only create exec sessions on running containers: container state improper")]
    ExecNotRunning,
    /// An exec session could not be set up (a bad user, no command): Podman exits 255.
    #[error("{0}")]
    ExecSetup(String),
    /// The monitor could not be started or reported a failure.
    #[error("container monitor: {0}")]
    Monitor(String),
    /// A mount or unmount of the container's filesystem failed.
    #[error("{what} {}: {source}", path.display())]
    Mount {
        what: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: nix::Error,
    },
    /// A value the container module cannot use.
    #[error("{0}")]
    Invalid(String),
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// IDs of the containers created from image `image_id` (for `rmi`, `image prune`, `images`).
pub fn containers_using_image(db: &Db, image_id: &str) -> Result<Vec<String>> {
    let mut st = db
        .conn()
        .prepare_cached("SELECT id FROM containers WHERE image_id = ?1 ORDER BY created")
        .map_err(ContainerError::from)?;
    let ids = st
        .query_map([image_id], |r| r.get::<_, String>(0))
        .map_err(ContainerError::from)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(ContainerError::from)?;
    Ok(ids)
}
