//! Advisory file locks (flock) that serialise operations across concurrent `vaina` processes.
//!
//! Locks live under the run root (`<runroot>/locks/<name>.lock`). They are released when the
//! [`FileLock`] is dropped or the process dies, so a crash never leaves the store locked.

use super::StoreError;
use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// A held flock; released on drop.
pub struct FileLock {
    _flock: Flock<File>,
    path: PathBuf,
}

impl std::fmt::Debug for FileLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileLock")
            .field("path", &self.path)
            .finish()
    }
}

impl FileLock {
    /// Blocks until an exclusive lock on `path` is held.
    pub fn exclusive(path: &Path) -> Result<Self, StoreError> {
        Self::acquire(path, FlockArg::LockExclusive)
    }

    /// Blocks until a shared lock on `path` is held.
    pub fn shared(path: &Path) -> Result<Self, StoreError> {
        Self::acquire(path, FlockArg::LockShared)
    }

    /// Tries an exclusive lock without blocking; `Ok(None)` when another process holds it.
    pub fn try_exclusive(path: &Path) -> Result<Option<Self>, StoreError> {
        match Self::acquire(path, FlockArg::LockExclusiveNonblock) {
            Ok(l) => Ok(Some(l)),
            Err(StoreError::Io { source, .. })
                if source.raw_os_error() == Some(libc::EWOULDBLOCK) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn acquire(path: &Path, arg: FlockArg) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| StoreError::io(path, e))?;
        let flock = Flock::lock(file, arg)
            .map_err(|(_, errno)| StoreError::io(path, std::io::Error::from(errno)))?;
        Ok(FileLock {
            _flock: flock,
            path: path.to_path_buf(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.lock");
        let held = FileLock::exclusive(&p).unwrap();
        // flock locks belong to the open file description: a second open in the same process
        // conflicts just like another process would.
        assert!(FileLock::try_exclusive(&p).unwrap().is_none());
        drop(held);
        assert!(FileLock::try_exclusive(&p).unwrap().is_some());
    }
}
