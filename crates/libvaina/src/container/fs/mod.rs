//! A container's files seen from the host: `mount`/`unmount` of the overlay rootfs with a
//! user mount count, `diff` of the upper dir against the image's layers, `export` of the
//! merged tree as a tar, `commit` of the upper dir as a new image layer and `cp` between the
//! host and the container.
//!
//! Everything here works on stopped containers too: the rootfs is mounted for the duration of
//! the operation (counted like a user mount, so a container started meanwhile keeps its
//! rootfs). Paths inside a container are always resolved inside its root ([`resolve`]).

pub mod commit;
pub mod copyroot;
pub mod cp;
pub mod diff;
pub mod export;
pub mod fdtar;
pub mod mount;
pub mod resolve;

/// Errors of the container filesystem commands.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// A path inside a container that does not exist (Podman's wording).
    #[error("{0}")]
    NotFound(String),
    /// A value the command cannot use.
    #[error("{0}")]
    Invalid(String),
    /// An I/O error on a path inside the container.
    #[error("{}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl FsError {
    pub(crate) fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        FsError::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}
