//! `volume export` (a tar of the volume's content, owners and modes kept) and `volume import`
//! (a tar, plain or gzip-compressed, unpacked into the volume over what is there).
//!
//! Unpacking uses the tar crate's checks: entries with `..` or absolute paths and writes
//! through symlinks that lead outside the volume are refused.

use super::VolumeError;
use crate::error::IoContext;
use crate::{Engine, Result};
use std::io::{BufRead, BufReader, Read, Write};

impl Engine {
    /// Writes a tar of the volume's content to `out`.
    pub fn volume_export(&self, name: &str, out: &mut dyn Write) -> Result<()> {
        let v = self.volume_inspect(name)?;
        let mut b = tar::Builder::new(out);
        b.mode(tar::HeaderMode::Complete);
        b.follow_symlinks(false);
        // Entries are named relative to the volume (`dir/`, `dir/file`), without a `./` root.
        let mut entries: Vec<_> = std::fs::read_dir(&v.mountpoint)
            .with_path(&v.mountpoint)?
            .collect::<std::io::Result<_>>()
            .with_path(&v.mountpoint)?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            if e.file_type().with_path(&path)?.is_dir() {
                b.append_dir_all(e.file_name(), &path).with_path(&path)?;
            } else {
                b.append_path_with_name(&path, e.file_name())
                    .with_path(&path)?;
            }
        }
        b.into_inner()
            .with_path(&v.mountpoint)?
            .flush()
            .with_path(&v.mountpoint)?;
        Ok(())
    }

    /// Unpacks the tar read from `input` into the volume.
    pub fn volume_import(&mut self, name: &str, input: &mut dyn Read) -> Result<()> {
        let v = self.volume_inspect(name)?;
        let mut r = BufReader::new(input);
        let gz = r
            .fill_buf()
            .with_path(&v.mountpoint)?
            .starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn Read + '_> = if gz {
            Box::new(flate2::read::GzDecoder::new(r))
        } else {
            Box::new(r)
        };
        let mut a = tar::Archive::new(reader);
        a.set_preserve_permissions(true);
        a.set_preserve_ownerships(true);
        a.set_overwrite(true);
        a.unpack(&v.mountpoint)
            .map_err(|e| VolumeError::Invalid(format!("importing into volume {name}: {e}")))?;
        super::record::clear_copy_up(self.db()?.conn(), name)?;
        Ok(())
    }
}
