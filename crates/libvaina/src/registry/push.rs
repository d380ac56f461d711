//! `push`: copy an image from the store to a registry. Blobs the registry already has (checked
//! with `HEAD`) are skipped, the others uploaded (a session `POST`, then one `PUT` with the
//! digest), the manifest written last.
//!
//! `--format oci|v2s2` converts media types between the OCI and Docker families and
//! `--compression-format gzip|zstd` recompresses layers whose compression differs; either
//! changes the manifest (and so its digest). Otherwise the stored manifest is sent byte for
//! byte and keeps its digest.

use super::client::{ClientOptions, RegistryClient};
use super::manifest::{self, Compression, Descriptor, ImageManifest, MAX_MANIFEST_SIZE};
use super::{BlobKind, PullProgress, RegistryError};
use crate::digest::{Digest, DigestWriter};
use crate::reference::{Reference, DOCKER_DOMAIN};
use crate::store::blobs::BlobStore;
use crate::{Engine, Result};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Options of a push (Podman's `push` flags).
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    pub tls_verify: Option<bool>,
    pub creds: Option<String>,
    pub authfile: Option<PathBuf>,
    pub cert_dir: Option<PathBuf>,
    /// `--format`: `oci` or `v2s2` (`None`: as stored).
    pub format: Option<String>,
    /// `--compression-format`: recompress layers that use another compression.
    pub compression: Option<Compression>,
}

/// A blob to send: where its bytes are and its descriptor in the pushed manifest.
struct Upload {
    kind: BlobKind,
    path: PathBuf,
    desc: Descriptor,
}

impl Engine {
    /// Pushes `image` to `destination` (default: the image's own name). Returns the digest of
    /// the manifest written.
    pub fn push(
        &self,
        image: &str,
        destination: Option<&str>,
        opts: &PushOptions,
        progress: &dyn PullProgress,
    ) -> Result<Digest> {
        let rec = self.lookup_image(image)?;
        let dest_text = destination
            .map(|d| d.strip_prefix("docker://").unwrap_or(d).to_string())
            .unwrap_or_else(|| image.to_string());
        let mut dest = Reference::parse(&dest_text)?;
        if dest.is_short() {
            dest = dest.with_domain(DOCKER_DOMAIN);
        }
        let dest = dest.with_default_tag();
        let ctx = |e: RegistryError| e.context(format!("pushing {dest}"));
        let blobs = self.blobs()?;
        let bytes = blobs
            .read_blob(&rec.manifest_digest, MAX_MANIFEST_SIZE)
            .map_err(|e| ctx(e.into()))?;
        let manifest = match manifest::parse(&bytes, "").map_err(ctx)? {
            manifest::Manifest::Image(m) => m,
            manifest::Manifest::Index(_) => {
                return Err(ctx(RegistryError::Unsupported(
                    "pushing an image index is not supported".into(),
                ))
                .into())
            }
        };
        let host = dest.domain.clone().unwrap_or_default();
        let creds = super::credentials(
            opts.creds.as_deref(),
            opts.authfile.as_deref(),
            &format!("{host}/{}", dest.path),
        )?;
        let conf_insecure = self.registries_conf()?.is_insecure(&host);
        let client = RegistryClient::new(
            &host,
            ClientOptions {
                insecure: super::insecure_for(&host, conf_insecure, opts.tls_verify),
                cert_dir: opts.cert_dir.clone(),
                creds,
            },
        )
        .map_err(ctx)?;
        let work = tempfile::Builder::new()
            .prefix("push-")
            .tempdir_in(blobs.layout().join("blobs/.tmp"))
            .map_err(|e| crate::Error::io(blobs.layout(), e))?;
        progress.message("Getting image source signatures");
        let (uploads, new_manifest) = plan(&blobs, &manifest, opts, work.path()).map_err(ctx)?;
        upload_all(&client, &dest.path, &uploads, progress).map_err(ctx)?;
        progress.message("Writing manifest to image destination");
        let (body, media_type) = match new_manifest {
            None => (bytes, manifest.kind().to_string()),
            Some(m) => {
                let kind = m.kind().to_string();
                let b = serde_json::to_vec_pretty(&m)
                    .map_err(|e| ctx(RegistryError::BadManifest(e.to_string())))?;
                (b, kind)
            }
        };
        let reference = dest
            .tag
            .clone()
            .unwrap_or_else(|| Digest::sha256_of(&body).to_string());
        client
            .put_manifest(&dest.path, &reference, &media_type, &body)
            .map_err(ctx)?;
        Ok(Digest::sha256_of(&body))
    }
}

/// Decides what to upload; returns the new manifest when it differs from the stored one.
fn plan(
    blobs: &BlobStore,
    m: &ImageManifest,
    opts: &PushOptions,
    work: &Path,
) -> Result<(Vec<Upload>, Option<ImageManifest>), RegistryError> {
    let docker = match opts.format.as_deref() {
        None | Some("") => m.kind() == manifest::DOCKER_MANIFEST,
        Some("v2s2") => true,
        Some("oci") => false,
        Some(other) => {
            return Err(RegistryError::InvalidArgument(format!(
                "unsupported manifest format {other:?}: use oci or v2s2"
            )))
        }
    };
    let mut changed = (m.kind() == manifest::DOCKER_MANIFEST) != docker;
    let mut out = m.clone();
    let mut uploads = Vec::new();
    for (i, layer) in m.layers.iter().enumerate() {
        let have = manifest::layer_compression(&layer.media_type)?;
        let want = opts.compression.unwrap_or(have);
        if docker && want != Compression::Gzip {
            return Err(RegistryError::Unsupported(format!(
                "{} layers cannot be stored in a docker v2s2 manifest (use --compression-format gzip or --format oci)",
                want.name()
            )));
        }
        let mut desc = layer.clone();
        let path = if want != have {
            changed = true;
            let (path, digest, size) = recompress(blobs, &layer.digest, have, want, work)?;
            desc.digest = digest;
            desc.size = size;
            desc.media_type = manifest::layer_media_type(want, docker).to_string();
            path
        } else {
            desc.media_type = manifest::convert_media_type(&layer.media_type, docker)?;
            blobs.path(&layer.digest)
        };
        out.layers[i] = desc.clone();
        uploads.push(Upload {
            kind: BlobKind::Layer,
            path,
            desc,
        });
    }
    let mut cfg = m.config.clone();
    cfg.media_type = manifest::convert_media_type(
        if cfg.media_type.is_empty() {
            manifest::OCI_CONFIG
        } else {
            &cfg.media_type
        },
        docker,
    )?;
    out.config = cfg.clone();
    uploads.push(Upload {
        kind: BlobKind::Config,
        path: blobs.path(&m.config.digest),
        desc: cfg,
    });
    out.media_type = Some(
        if docker {
            manifest::DOCKER_MANIFEST
        } else {
            manifest::OCI_MANIFEST
        }
        .to_string(),
    );
    Ok((uploads, changed.then_some(out)))
}

/// Decompresses a stored layer and compresses it again with `want` into `work`.
fn recompress(
    blobs: &BlobStore,
    digest: &Digest,
    have: Compression,
    want: Compression,
    work: &Path,
) -> Result<(PathBuf, Digest, u64), RegistryError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e: std::io::Error| RegistryError::Io { path: p, source: e }
    };
    let src = blobs.open_blob(digest)?;
    let src = std::io::BufReader::with_capacity(1 << 20, src);
    let mut reader: Box<dyn Read> = match have {
        Compression::None => Box::new(src),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(src)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(src).map_err(io(&blobs.path(digest)))?,
        ),
    };
    let path = work.join(digest.hex());
    let file = std::fs::File::create(&path).map_err(io(&path))?;
    let mut w = DigestWriter::new(std::io::BufWriter::new(file));
    match want {
        Compression::None => {
            std::io::copy(&mut reader, &mut w).map_err(io(&path))?;
        }
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(&mut w, flate2::Compression::default());
            std::io::copy(&mut reader, &mut enc).map_err(io(&path))?;
            enc.finish().map_err(io(&path))?;
        }
        Compression::Zstd => {
            let mut enc = zstd::stream::write::Encoder::new(&mut w, 3).map_err(io(&path))?;
            std::io::copy(&mut reader, &mut enc).map_err(io(&path))?;
            enc.finish().map_err(io(&path))?;
        }
    }
    let (mut buf, d, n) = w.finish();
    buf.flush().map_err(io(&path))?;
    Ok((path, d, n))
}

/// Uploads the blobs the registry lacks, up to four at a time.
fn upload_all(
    client: &RegistryClient,
    repo: &str,
    uploads: &[Upload],
    progress: &dyn PullProgress,
) -> Result<(), RegistryError> {
    // Popped from the end: layers first, the config last, as Podman reports them.
    let queue = Mutex::new(uploads.iter().rev().collect::<Vec<_>>());
    let failed: Mutex<Option<RegistryError>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..4.min(uploads.len()).max(1) {
            s.spawn(|| loop {
                if failed.lock().map(|f| f.is_some()).unwrap_or(true) {
                    return;
                }
                let Some(u) = queue.lock().ok().and_then(|mut q| q.pop()) else {
                    return;
                };
                let res = client.has_blob(repo, &u.desc.digest).and_then(|has| {
                    progress.blob_start(u.kind, &u.desc.digest, Some(u.desc.size), has);
                    if has {
                        return Ok(());
                    }
                    let path = u.path.clone();
                    client.upload_blob(repo, &u.desc.digest, u.desc.size, &move || {
                        Ok(Box::new(std::io::BufReader::with_capacity(
                            1 << 20,
                            std::fs::File::open(&path)?,
                        )) as Box<dyn Read>)
                    })?;
                    progress.blob_done(&u.desc.digest);
                    Ok(())
                });
                if let Err(e) = res {
                    if let Ok(mut f) = failed.lock() {
                        f.get_or_insert(e);
                    }
                    return;
                }
            });
        }
    });
    match failed.into_inner().ok().flatten() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
