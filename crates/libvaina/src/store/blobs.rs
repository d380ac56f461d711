//! Content-addressed blobs in the standard OCI image layout (`oci-layout`, `index.json`,
//! `blobs/<alg>/<hex>`), so `skopeo inspect oci:<root>/oci` reads the store as it is.
//!
//! A blob is written to a temp file under `<layout>/blobs/.tmp`, hashed while it is written,
//! verified against the expected digest and size, fsynced, then renamed into place: a blob that
//! exists is always complete and correct. Leftover temp files are swept by the image store
//! (only old ones: a concurrent pull may be writing the fresh ones).

use super::{sync_dir, write_atomic, StoreError};
use crate::digest::{Digest, DigestWriter};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// The blob directory of an OCI image layout.
#[derive(Debug, Clone)]
pub struct BlobStore {
    layout: PathBuf,
}

impl BlobStore {
    /// Opens the layout at `layout`, creating `oci-layout`, `index.json` and `blobs/sha256`.
    pub fn open(layout: &Path) -> Result<Self, StoreError> {
        let store = BlobStore {
            layout: layout.to_path_buf(),
        };
        let sha = layout.join("blobs/sha256");
        if !sha.is_dir() {
            std::fs::create_dir_all(&sha).map_err(|e| StoreError::io(&sha, e))?;
            std::fs::create_dir_all(store.tmp_dir()).map_err(|e| StoreError::io(layout, e))?;
        }
        let marker = layout.join("oci-layout");
        if !marker.exists() {
            write_atomic(&marker, OCI_LAYOUT)?;
        }
        let index = store.index_path();
        if !index.exists() {
            write_atomic(
                &index,
                br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
            )?;
        }
        Ok(store)
    }

    /// The layout directory itself.
    pub fn layout(&self) -> &Path {
        &self.layout
    }

    /// `index.json` of the layout (the image module keeps it in step with the database).
    pub fn index_path(&self) -> PathBuf {
        self.layout.join("index.json")
    }

    fn tmp_dir(&self) -> PathBuf {
        self.layout.join("blobs/.tmp")
    }

    /// Where the blob with `digest` lives (whether or not it exists).
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.layout
            .join("blobs")
            .join(digest.algorithm())
            .join(digest.hex())
    }

    pub fn has(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

    /// Opens a stored blob for reading.
    pub fn open_blob(&self, digest: &Digest) -> Result<File, StoreError> {
        let p = self.path(digest);
        File::open(&p).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                StoreError::BlobNotFound(digest.to_string())
            } else {
                StoreError::io(&p, e)
            }
        })
    }

    /// Reads a whole (small) blob, refusing blobs larger than `cap` bytes.
    pub fn read_blob(&self, digest: &Digest, cap: u64) -> Result<Vec<u8>, StoreError> {
        let f = self.open_blob(digest)?;
        let mut buf = Vec::new();
        f.take(cap + 1)
            .read_to_end(&mut buf)
            .map_err(|e| StoreError::io(self.path(digest), e))?;
        if buf.len() as u64 > cap {
            return Err(StoreError::SizeMismatch {
                what: digest.to_string(),
                expected: cap,
                actual: buf.len() as u64,
            });
        }
        Ok(buf)
    }

    /// Stores bytes and returns their digest.
    pub fn put_bytes(&self, data: &[u8]) -> Result<Digest, StoreError> {
        let d = Digest::sha256_of(data);
        if !self.has(&d) {
            write_atomic(&self.path(&d), data)?;
        }
        Ok(d)
    }

    /// Streams `reader` into the store, verifying it against `expected` (and `size` when known).
    /// Nothing is stored when the content does not match. Returns the byte count.
    pub fn put_verified(
        &self,
        expected: &Digest,
        size: Option<u64>,
        reader: &mut dyn Read,
    ) -> Result<u64, StoreError> {
        let (tmp, actual, n) = self.stage(reader)?;
        if &actual != expected {
            return Err(StoreError::DigestMismatch {
                what: expected.to_string(),
                expected: expected.to_string(),
                actual: actual.to_string(),
            });
        }
        if let Some(s) = size {
            if s != n {
                return Err(StoreError::SizeMismatch {
                    what: expected.to_string(),
                    expected: s,
                    actual: n,
                });
            }
        }
        self.commit(tmp, &actual)?;
        Ok(n)
    }

    /// Streams `reader` into the store, computing its digest. Returns digest and byte count.
    pub fn put_stream(&self, reader: &mut dyn Read) -> Result<(Digest, u64), StoreError> {
        let (tmp, d, n) = self.stage(reader)?;
        self.commit(tmp, &d)?;
        Ok((d, n))
    }

    fn stage(
        &self,
        reader: &mut dyn Read,
    ) -> Result<(tempfile::NamedTempFile, Digest, u64), StoreError> {
        let dir = self.tmp_dir();
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        let tmp = tempfile::Builder::new()
            .prefix("blob-")
            .tempfile_in(&dir)
            .map_err(|e| StoreError::io(&dir, e))?;
        let mut w = DigestWriter::new(io::BufWriter::with_capacity(1 << 20, tmp));
        io::copy(reader, &mut w).map_err(|e| StoreError::io(&dir, e))?;
        let (buf, d, n) = w.finish();
        let tmp = buf
            .into_inner()
            .map_err(|e| StoreError::io(&dir, e.into_error()))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| StoreError::io(tmp.path(), e))?;
        Ok((tmp, d, n))
    }

    fn commit(&self, tmp: tempfile::NamedTempFile, d: &Digest) -> Result<(), StoreError> {
        let dest = self.path(d);
        let dir = dest.parent().unwrap_or(&self.layout).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        tmp.persist(&dest)
            .map_err(|e| StoreError::io(&dest, e.error))?;
        sync_dir(&dir)
    }

    /// Removes a blob (missing is fine).
    pub fn remove(&self, digest: &Digest) -> Result<(), StoreError> {
        let p = self.path(digest);
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(StoreError::io(&p, e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verified_put_rejects_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let s = BlobStore::open(dir.path()).unwrap();
        let good = Digest::sha256_of(b"hello");
        assert!(s.put_verified(&good, Some(5), &mut &b"hellO"[..]).is_err());
        assert!(!s.has(&good));
        assert!(s.put_verified(&good, Some(4), &mut &b"hello"[..]).is_err());
        assert_eq!(
            s.put_verified(&good, Some(5), &mut &b"hello"[..]).unwrap(),
            5
        );
        assert_eq!(s.read_blob(&good, 100).unwrap(), b"hello");
        assert!(s.read_blob(&good, 3).is_err());
        assert_eq!(
            std::fs::read_dir(dir.path().join("blobs/.tmp"))
                .unwrap()
                .count(),
            0
        );
    }
}
