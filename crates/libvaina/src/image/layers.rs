//! Layers unpacked once per chain ID into `<root>/layers/<chain-id-hex>`, a directory usable as
//! an overlay lowerdir.
//!
//! A layer blob is decompressed by sniffing its magic bytes (gzip, zstd or plain tar), its diff
//! ID (sha256 of the uncompressed stream) is computed on the way and checked against the image
//! config, and the tar is extracted into a temp directory that is renamed into place only when
//! complete. OCI whiteouts become overlay ones (`.wh.x` → char device 0:0, `.wh..wh..opq` →
//! `trusted.overlay.opaque=y`). Extraction is defensive: `..` and absolute paths, writes through
//! symbolic links, hardlinks leaving the layer and device nodes are refused, and every parent
//! directory is checked component by component without following links. Ownership, modes,
//! times and extended attributes are kept as they are in the tar.

use super::ImageError;
use crate::digest::Digest;
use sha2::{Digest as _, Sha256};
use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What unpacking a layer produced.
#[derive(Debug, Clone)]
pub struct UnpackedLayer {
    /// sha256 of the uncompressed tar.
    pub diff_id: Digest,
    /// Size of the uncompressed tar in bytes.
    pub size: u64,
}

/// The compression of a stream ([`Compression::sniff`] tells it from its first bytes).
pub use crate::registry::manifest::Compression;

/// Wraps `r` in the decompressor its magic bytes call for.
pub fn decompressed<'a, R: Read + 'a>(r: R) -> io::Result<Box<dyn Read + 'a>> {
    let mut br = BufReader::with_capacity(1 << 16, r);
    let head = br.fill_buf()?.to_vec();
    Ok(match Compression::sniff(&head) {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(br)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(br)?),
        Compression::None => Box::new(br),
    })
}

/// A reader that hashes (sha256) and counts what passes through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// Reads the rest of the stream and returns its digest and total length.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        let hex = hex::encode(self.hasher.finalize());
        let d = Digest::from_sha256_hex(&hex).map_err(io::Error::other)?;
        Ok((d, self.len))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

/// Unpacks the (possibly compressed) layer `blob` into the empty directory `dest`, converting
/// whiteouts to overlay form. `layer` names the layer in error messages.
pub fn unpack_layer(
    blob: impl Read,
    dest: &Path,
    layer: &str,
) -> Result<UnpackedLayer, ImageError> {
    let stream = decompressed(blob).map_err(|e| ImageError::layer(layer, e))?;
    let mut hashing = HashingReader::new(stream);
    {
        let mut archive = tar::Archive::new(&mut hashing);
        let mut x = Extractor::new(dest, layer);
        let entries = archive.entries().map_err(|e| ImageError::layer(layer, e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| tar_error(layer, e))?;
            x.entry(&mut entry)?;
        }
        x.finish()?;
    }
    let (diff_id, size) = hashing.finish().map_err(|e| tar_error(layer, e))?;
    Ok(UnpackedLayer { diff_id, size })
}

/// A tar read error as one printable line (errors about corrupt headers quote raw bytes).
fn tar_error(layer: &str, e: io::Error) -> ImageError {
    let msg = e.to_string();
    let msg = if msg.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        msg
    } else {
        "invalid tar header".to_string()
    };
    ImageError::layer(layer, format!("reading tar: {msg}"))
}

/// Splits a tar path into normal components, refusing absolute paths and `..`.
fn clean_path(raw: &[u8]) -> Result<Vec<&OsStr>, &'static str> {
    if raw.starts_with(b"/") {
        return Err("absolute paths are not allowed in a layer");
    }
    let mut out = Vec::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err("\"..\" would escape the layer root"),
            c => out.push(OsStr::from_bytes(c)),
        }
    }
    Ok(out)
}

struct Extractor<'a> {
    root: PathBuf,
    layer: &'a str,
    /// Directories known to be real directories inside the root (relative paths).
    dirs: HashSet<PathBuf>,
    /// Directory times, applied at the end (children change them while extracting).
    dir_times: Vec<(PathBuf, u64)>,
    is_root: bool,
}

impl<'a> Extractor<'a> {
    fn new(root: &Path, layer: &'a str) -> Self {
        Extractor {
            root: root.to_path_buf(),
            layer,
            dirs: HashSet::new(),
            dir_times: Vec::new(),
            is_root: nix::unistd::geteuid().is_root(),
        }
    }

    fn unsafe_entry(&self, entry: &Path, reason: impl Into<String>) -> ImageError {
        ImageError::UnsafeEntry {
            layer: self.layer.to_string(),
            entry: entry.display().to_string(),
            reason: reason.into(),
        }
    }

    fn io(&self, path: &Path, e: io::Error) -> ImageError {
        ImageError::layer(self.layer, format!("{}: {e}", path.display()))
    }

    /// Makes sure every component of `rel` is a real directory inside the root (creating
    /// missing ones), never following a symbolic link.
    fn ensure_dirs(&mut self, shown: &Path, rel: &Path) -> Result<(), ImageError> {
        let mut cur = PathBuf::new();
        for c in rel.components() {
            cur.push(c);
            if self.dirs.contains(&cur) {
                continue;
            }
            let full = self.root.join(&cur);
            match fs::symlink_metadata(&full) {
                Ok(m) if m.file_type().is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(self.unsafe_entry(shown, "path goes through a symbolic link"))
                }
                Ok(_) => return Err(self.unsafe_entry(shown, "a parent is not a directory")),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fs::create_dir(&full).map_err(|e| self.io(&full, e))?;
                    fs::set_permissions(&full, fs::Permissions::from_mode(0o755))
                        .map_err(|e| self.io(&full, e))?;
                }
                Err(e) => return Err(self.io(&full, e)),
            }
            self.dirs.insert(cur.clone());
        }
        Ok(())
    }

    /// Removes whatever is at `rel` (a later entry replaces an earlier one).
    fn clear(&mut self, rel: &Path) -> Result<(), ImageError> {
        let full = self.root.join(rel);
        match fs::symlink_metadata(&full) {
            Ok(m) if m.file_type().is_dir() => {
                fs::remove_dir_all(&full).map_err(|e| self.io(&full, e))?;
                self.dirs.retain(|d| !d.starts_with(rel));
                self.dir_times.retain(|(d, _)| !d.starts_with(rel));
            }
            Ok(_) => fs::remove_file(&full).map_err(|e| self.io(&full, e))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.io(&full, e)),
        }
        Ok(())
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), ImageError> {
        let raw = entry.path_bytes().into_owned();
        let shown = PathBuf::from(OsStr::from_bytes(&raw));
        let comps = clean_path(&raw).map_err(|r| self.unsafe_entry(&shown, r))?;
        let rel: PathBuf = comps.iter().collect();
        let parent = rel.parent().map(Path::to_path_buf).unwrap_or_default();
        let name = comps.last().copied();
        let kind = entry.header().entry_type();

        // Whiteouts.
        if let Some(n) = name.and_then(|n| n.as_bytes().strip_prefix(b".wh.")) {
            self.ensure_dirs(&shown, &parent)?;
            if n == b".wh..opq" {
                let dir = self.root.join(&parent);
                xattr::set(&dir, "trusted.overlay.opaque", b"y").map_err(|e| self.io(&dir, e))?;
            } else if !n.starts_with(b".wh.") && !n.is_empty() {
                let target = parent.join(OsStr::from_bytes(n));
                self.clear(&target)?;
                self.whiteout(&target)?;
            }
            return Ok(());
        }

        let header = entry.header();
        let mode = header
            .mode()
            .map_err(|e| ImageError::layer(self.layer, e))?
            & 0o7777;
        let uid = header.uid().unwrap_or(0) as u32;
        let gid = header.gid().unwrap_or(0) as u32;
        let mtime = header.mtime().unwrap_or(0);
        let full = self.root.join(&rel);

        use tar::EntryType as T;
        match kind {
            T::Directory => {
                self.ensure_dirs(&shown, &parent)?;
                if !rel.as_os_str().is_empty() {
                    match fs::symlink_metadata(&full) {
                        Ok(m) if m.file_type().is_dir() => {}
                        _ => {
                            self.clear(&rel)?;
                            fs::create_dir(&full).map_err(|e| self.io(&full, e))?;
                        }
                    }
                    self.dirs.insert(rel.clone());
                }
                self.owner(&full, uid, gid)?;
                fs::set_permissions(&full, fs::Permissions::from_mode(mode))
                    .map_err(|e| self.io(&full, e))?;
                self.xattrs(entry, &full)?;
                self.dir_times.push((rel, mtime));
            }
            T::Regular | T::Continuous | T::GNUSparse => {
                self.require_name(&shown, name)?;
                self.ensure_dirs(&shown, &parent)?;
                self.clear(&rel)?;
                let mut f = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .custom_flags(libc::O_NOFOLLOW)
                    .open(&full)
                    .map_err(|e| self.io(&full, e))?;
                let want = entry.size();
                let got = io::copy(entry, &mut f).map_err(|e| tar_error(self.layer, e))?;
                if got < want && kind != T::GNUSparse {
                    return Err(ImageError::layer(
                        self.layer,
                        format!(
                            "{}: unexpected end of data (truncated layer)",
                            shown.display()
                        ),
                    ));
                }
                self.owner(&full, uid, gid)?;
                f.set_permissions(fs::Permissions::from_mode(mode))
                    .map_err(|e| self.io(&full, e))?;
                self.xattrs(entry, &full)?;
                let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime);
                f.set_times(fs::FileTimes::new().set_accessed(t).set_modified(t))
                    .map_err(|e| self.io(&full, e))?;
            }
            T::Symlink => {
                self.require_name(&shown, name)?;
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| self.unsafe_entry(&shown, "symbolic link without a target"))?
                    .into_owned();
                self.ensure_dirs(&shown, &parent)?;
                self.clear(&rel)?;
                std::os::unix::fs::symlink(OsStr::from_bytes(&target), &full)
                    .map_err(|e| self.io(&full, e))?;
                self.owner(&full, uid, gid)?;
                self.times_nofollow(&full, mtime)?;
            }
            T::Link => {
                self.require_name(&shown, name)?;
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| self.unsafe_entry(&shown, "hard link without a target"))?
                    .into_owned();
                let tcomps = clean_path(&target)
                    .map_err(|_| self.unsafe_entry(&shown, "hard link points outside the layer"))?;
                let trel: PathBuf = tcomps.iter().collect();
                if trel.as_os_str().is_empty() {
                    return Err(self.unsafe_entry(&shown, "hard link points outside the layer"));
                }
                if let Some(tp) = trel.parent() {
                    self.ensure_existing_dirs(&shown, tp)?;
                }
                let src = self.root.join(&trel);
                match fs::symlink_metadata(&src) {
                    Ok(m) if !m.file_type().is_dir() => {}
                    Ok(_) => return Err(self.unsafe_entry(&shown, "hard link to a directory")),
                    Err(_) => {
                        return Err(
                            self.unsafe_entry(&shown, "hard link target is not in the layer")
                        )
                    }
                }
                self.ensure_dirs(&shown, &parent)?;
                if trel == rel {
                    return Ok(());
                }
                self.clear(&rel)?;
                fs::hard_link(&src, &full).map_err(|e| self.io(&full, e))?;
            }
            T::Char | T::Block => {
                let major = header.device_major().ok().flatten().unwrap_or(0);
                let minor = header.device_minor().ok().flatten().unwrap_or(0);
                if kind == T::Char && major == 0 && minor == 0 {
                    self.require_name(&shown, name)?;
                    self.ensure_dirs(&shown, &parent)?;
                    self.clear(&rel)?;
                    self.whiteout(&rel)?;
                } else {
                    return Err(self.unsafe_entry(&shown, "device nodes are not allowed in layers"));
                }
            }
            T::Fifo => {
                self.require_name(&shown, name)?;
                self.ensure_dirs(&shown, &parent)?;
                self.clear(&rel)?;
                nix::unistd::mkfifo(&full, nix::sys::stat::Mode::from_bits_truncate(mode))
                    .map_err(|e| self.io(&full, e.into()))?;
                self.owner(&full, uid, gid)?;
                self.times_nofollow(&full, mtime)?;
            }
            T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => {}
            other => {
                return Err(self.unsafe_entry(&shown, format!("unsupported entry type {other:?}")))
            }
        }
        Ok(())
    }

    /// Like [`Self::ensure_dirs`] but for a hardlink source: nothing is created.
    fn ensure_existing_dirs(&mut self, shown: &Path, rel: &Path) -> Result<(), ImageError> {
        let mut cur = PathBuf::new();
        for c in rel.components() {
            cur.push(c);
            if self.dirs.contains(&cur) {
                continue;
            }
            match fs::symlink_metadata(self.root.join(&cur)) {
                Ok(m) if m.file_type().is_dir() => {
                    self.dirs.insert(cur.clone());
                }
                _ => return Err(self.unsafe_entry(shown, "hard link target is not in the layer")),
            }
        }
        Ok(())
    }

    fn require_name(&self, shown: &Path, name: Option<&OsStr>) -> Result<(), ImageError> {
        match name {
            Some(_) => Ok(()),
            None => Err(self.unsafe_entry(shown, "the layer root must be a directory")),
        }
    }

    fn whiteout(&self, rel: &Path) -> Result<(), ImageError> {
        use nix::sys::stat::{makedev, mknod, Mode, SFlag};
        let full = self.root.join(rel);
        mknod(&full, SFlag::S_IFCHR, Mode::empty(), makedev(0, 0))
            .map_err(|e| self.io(&full, e.into()))
    }

    fn owner(&self, path: &Path, uid: u32, gid: u32) -> Result<(), ImageError> {
        match std::os::unix::fs::lchown(path, Some(uid), Some(gid)) {
            Err(_) if !self.is_root => Ok(()),
            r => r.map_err(|e| self.io(path, e)),
        }
    }

    fn times_nofollow(&self, path: &Path, mtime: u64) -> Result<(), ImageError> {
        use nix::sys::stat::{utimensat, UtimensatFlags};
        use nix::sys::time::TimeSpec;
        let t = TimeSpec::new(mtime as i64, 0);
        utimensat(None, path, &t, &t, UtimensatFlags::NoFollowSymlink)
            .map_err(|e| self.io(path, e.into()))
    }

    fn xattrs<R: Read>(
        &self,
        entry: &mut tar::Entry<'_, R>,
        path: &Path,
    ) -> Result<(), ImageError> {
        let Ok(Some(exts)) = entry.pax_extensions() else {
            return Ok(());
        };
        for ext in exts.flatten() {
            let Some(name) = ext.key_bytes().strip_prefix(b"SCHILY.xattr.") else {
                continue;
            };
            // Overlay's own attributes would let a layer forge whiteouts; never take them.
            if name.starts_with(b"trusted.overlay.") {
                continue;
            }
            if let Err(e) = xattr::set(path, OsStr::from_bytes(name), ext.value_bytes()) {
                log::debug!(
                    "{}: xattr {:?}: {e}",
                    path.display(),
                    OsStr::from_bytes(name)
                );
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(), ImageError> {
        use nix::sys::stat::{utimensat, UtimensatFlags};
        use nix::sys::time::TimeSpec;
        // Deepest first, so setting a parent's time is the last change to it.
        self.dir_times
            .sort_by_key(|(p, _)| std::cmp::Reverse(p.components().count()));
        for (rel, mtime) in &self.dir_times {
            let full = self.root.join(rel);
            let t = TimeSpec::new(*mtime as i64, 0);
            utimensat(None, &full, &t, &t, UtimensatFlags::NoFollowSymlink)
                .map_err(|e| self.io(&full, e.into()))?;
        }
        Ok(())
    }
}

/// Opens a blob file for unpacking.
pub fn open_blob(path: &Path, layer: &str) -> Result<File, ImageError> {
    File::open(path).map_err(|e| ImageError::layer(layer, format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap()
    }

    fn file(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        // set_path refuses "..", so write the name bytes directly.
        let name = &mut h.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    fn link(b: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, path: &str, target: &str) {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o777);
        h.set_entry_type(kind);
        h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        h.as_old_mut().linkname[..target.len()].copy_from_slice(target.as_bytes());
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
    }

    #[test]
    fn whiteouts_and_files() {
        let t = tar_with(|b| {
            file(b, "a/b.txt", b"hi");
            file(b, "a/.wh.gone", b"");
            file(b, "d/.wh..wh..opq", b"");
        });
        let dir = tempfile::tempdir().unwrap();
        let u = unpack_layer(&t[..], dir.path(), "l").unwrap();
        assert_eq!(u.diff_id, Digest::sha256_of(&t));
        assert_eq!(fs::read(dir.path().join("a/b.txt")).unwrap(), b"hi");
        let m = fs::symlink_metadata(dir.path().join("a/gone")).unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(m.file_type().is_char_device());
        if nix::unistd::geteuid().is_root() {
            assert_eq!(
                xattr::get(dir.path().join("d"), "trusted.overlay.opaque").unwrap(),
                Some(b"y".to_vec())
            );
        }
    }

    #[test]
    fn escapes_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        let o = outside.path().to_str().unwrap().to_string();
        let cases: Vec<Vec<u8>> = vec![
            tar_with(|b| file(b, "../evil", b"x")),
            tar_with(|b| file(b, &format!("{o}/evil"), b"x")),
            tar_with(|b| {
                link(b, tar::EntryType::Symlink, "l", &o);
                file(b, "l/evil", b"x");
            }),
            tar_with(|b| link(b, tar::EntryType::Link, "h", "../../etc/passwd")),
            tar_with(|b| link(b, tar::EntryType::Link, "h", "/etc/passwd")),
        ];
        for t in cases {
            let dir = tempfile::tempdir().unwrap();
            let e = unpack_layer(&t[..], dir.path(), "l").unwrap_err();
            assert!(matches!(e, ImageError::UnsafeEntry { .. }), "{e}");
            assert!(!outside.path().join("evil").exists());
        }
    }

    #[test]
    fn gzip_and_zstd() {
        let t = tar_with(|b| file(b, "x", b"data"));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &t).unwrap();
        let gz = gz.finish().unwrap();
        let zs = zstd::encode_all(&t[..], 3).unwrap();
        for blob in [gz.clone(), zs] {
            let dir = tempfile::tempdir().unwrap();
            let u = unpack_layer(&blob[..], dir.path(), "l").unwrap();
            assert_eq!(u.diff_id, Digest::sha256_of(&t));
            assert_eq!(u.size, t.len() as u64);
        }
        let dir = tempfile::tempdir().unwrap();
        assert!(unpack_layer(&gz[..gz.len() / 2], dir.path(), "l").is_err());
    }
}
