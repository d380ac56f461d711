//! The crate-wide error: one variant per domain, each wrapping that domain's typed error.
//!
//! Messages are lower-case and carry no final period; the CLI prefixes them with `Error: ` and
//! maps them to exit codes in one place (`vaina/src/main.rs`).

use std::path::{Path, PathBuf};

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error the engine can return.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Reference(#[from] crate::reference::ReferenceError),
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Image(#[from] crate::image::ImageError),
    #[error(transparent)]
    Container(#[from] crate::container::ContainerError),
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    #[error(transparent)]
    Volume(#[from] crate::volume::VolumeError),
    #[error(transparent)]
    Pod(#[from] crate::pod::PodError),
    #[error(transparent)]
    Spec(#[from] crate::container::spec::SpecError),
    #[error(transparent)]
    Fs(#[from] crate::container::fs::FsError),
    /// A flag or argument value the engine cannot use.
    #[error("{0}")]
    InvalidArgument(String),
    /// An I/O error with the path it happened on.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}

/// Adds the path to an `io::Result`, for `?` in the library.
pub trait IoContext<T> {
    fn with_path(self, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn with_path(self, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
