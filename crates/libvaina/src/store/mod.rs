//! The on-disk store: the state database, content-addressed blobs and locks.
//!
//! Layout under the graph root (`--root`, default `/var/lib/vaina` or `$XDG_DATA_HOME/vaina`):
//! - `vaina.db`: SQLite (WAL) with the metadata of images, containers, and later pods, volumes,
//!   networks and IP leases; each domain module contributes its tables ([`db::SCHEMAS`])
//! - `oci/`: the standard OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) that
//!   skopeo and umoci read as is ([`blobs::BlobStore`])
//! - `tmp/`: staging for writes that are fsynced and renamed into place; swept on open
//!
//! The run root (`--runroot`, default `/run/vaina` or `$XDG_RUNTIME_DIR/vaina`) holds what does
//! not survive a reboot: locks, sockets, monitor state. Every path is a parameter ([`StorePaths`]),
//! so tests run on temp dirs in parallel.

pub mod blobs;
pub mod db;
pub mod driver;
pub mod lock;

use std::path::{Path, PathBuf};

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {}: {source}", path.display())]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("size mismatch for {what}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        what: String,
        expected: u64,
        actual: u64,
    },
    #[error("blob {0} not found in the store")]
    BlobNotFound(String),
    /// The graph driver cannot be used (unknown, or not the one the store was made with).
    #[error("{0}")]
    Driver(String),
}

impl StoreError {
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}

/// Where the store lives. Every path the engine touches is derived from these.
#[derive(Debug, Clone)]
pub struct StorePaths {
    /// Persistent graph root.
    pub root: PathBuf,
    /// Volatile run root (tmpfs in production).
    pub runroot: PathBuf,
    /// Directory for big temporary files (image downloads, archives), default `<root>/tmp`.
    pub tmpdir: PathBuf,
}

impl StorePaths {
    pub fn new(root: PathBuf, runroot: PathBuf, tmpdir: Option<PathBuf>) -> Self {
        let tmpdir = tmpdir.unwrap_or_else(|| root.join("tmp"));
        StorePaths {
            root,
            runroot,
            tmpdir,
        }
    }

    /// The SQLite state database.
    pub fn db(&self) -> PathBuf {
        self.root.join("vaina.db")
    }

    /// The OCI image layout holding every blob.
    pub fn oci_layout(&self) -> PathBuf {
        self.root.join("oci")
    }

    /// Unpacked layers, one directory per chain ID.
    pub fn layers(&self) -> PathBuf {
        self.root.join("layers")
    }

    /// Per-container persistent data (upper dirs, bundles, logs).
    pub fn containers(&self) -> PathBuf {
        self.root.join("containers")
    }

    /// Per-container volatile data (sockets, pid files, exit files).
    pub fn run_containers(&self) -> PathBuf {
        self.runroot.join("containers")
    }

    /// Lock files.
    pub fn locks(&self) -> PathBuf {
        self.runroot.join("locks")
    }

    /// Creates the directories that must exist before anything else runs.
    pub fn ensure(&self) -> Result<(), StoreError> {
        for d in [&self.root, &self.runroot, &self.tmpdir] {
            std::fs::create_dir_all(d).map_err(|e| StoreError::io(d, e))?;
        }
        let locks = self.locks();
        std::fs::create_dir_all(&locks).map_err(|e| StoreError::io(&locks, e))?;
        Ok(())
    }
}

/// Writes `data` to `path` atomically: temp file in the same directory, fsync, rename, fsync dir.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), StoreError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| StoreError::io(dir, e))?;
    tmp.write_all(data)
        .map_err(|e| StoreError::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| StoreError::io(tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| StoreError::io(path, e.error))?;
    sync_dir(dir)
}

/// fsyncs a directory so a rename inside it is durable.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}
