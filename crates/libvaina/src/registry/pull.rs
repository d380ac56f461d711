//! `pull`: resolve the reference to candidates (short names, aliases, mirrors before the
//! location), then for the first candidate that works fetch the manifest (choosing the platform
//! from an index), fetch config and layers concurrently into a private staging layout (every blob
//! verified against its digest and size), move the blobs into the store and commit the image.
//!
//! Nothing reaches the store's blob directory before every blob of the image is verified; a
//! failed pull leaves the store as it was. Staging directories of killed pulls are swept by the
//! next pull.

use super::client::{ClientOptions, RegistryClient};
use super::manifest::{self, Manifest, MAX_CONFIG_SIZE};
use super::platform::Platform;
use super::{BlobKind, PullOptions, PullProgress, RegistryError};
use crate::config::PullSource;
use crate::digest::Digest;
use crate::image::ImageRecord;
use crate::reference::Reference;
use crate::store::blobs::BlobStore;
use crate::store::lock::FileLock;
use crate::store::{sync_dir, StoreError};
use crate::{Engine, Result};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Blobs fetched at the same time.
pub const CONCURRENCY: usize = 6;

impl Engine {
    /// Pulls `reference` (resolving short names per registries.conf) into the store and returns
    /// the pulled images (several with `--all-tags`).
    pub fn pull(
        &mut self,
        reference: &str,
        options: &PullOptions,
        progress: &dyn PullProgress,
    ) -> Result<Vec<ImageRecord>> {
        let parsed = Reference::parse(reference.strip_prefix("docker://").unwrap_or(reference))?;
        if options.all_tags && (parsed.tag.is_some() || parsed.digest.is_some()) {
            return Err(RegistryError::InvalidArgument(
                "tag can't be used with --all-tags/-a".into(),
            )
            .into());
        }
        let resolution = self.resolve_short_name(&parsed)?;
        if let Some(d) = resolution.description() {
            progress.message(&d);
        }
        let candidates = resolution.without_prompt()?.to_vec();
        self.pull_resolved(&candidates, options, progress)
    }

    /// Pulls the first of `candidates` (fully qualified, from short-name resolution) that
    /// works. With several failures the error lists each candidate and why, as Podman does.
    pub fn pull_resolved(
        &mut self,
        candidates: &[Reference],
        options: &PullOptions,
        progress: &dyn PullProgress,
    ) -> Result<Vec<ImageRecord>> {
        let platform = Platform::from_flags(
            options.platform.as_deref(),
            options.os.as_deref(),
            options.arch.as_deref(),
            options.variant.as_deref(),
        )?;
        if options.all_tags {
            if let Some(c) = candidates.iter().find(|c| c.digest.is_some()) {
                return Err(RegistryError::InvalidArgument(format!(
                    "tag can't be used with --all-tags/-a: {c}"
                ))
                .into());
            }
            return self.pull_all_tags(candidates, &platform, options, progress);
        }
        let mut errors = Vec::new();
        for name in candidates {
            progress.message(&format!("Trying to pull {name}..."));
            match self.pull_candidate(name, &platform, options, progress) {
                Ok(rec) => return Ok(vec![rec]),
                Err(e) => errors.push(e),
            }
        }
        if errors.len() == 1 {
            return Err(errors.remove(0));
        }
        if errors.is_empty() {
            return Err(RegistryError::InvalidArgument("no image to pull".into()).into());
        }
        Err(RegistryError::AllFailed(errors.iter().map(|e| e.to_string()).collect()).into())
    }

    fn pull_all_tags(
        &mut self,
        candidates: &[Reference],
        platform: &Platform,
        options: &PullOptions,
        progress: &dyn PullProgress,
    ) -> Result<Vec<ImageRecord>> {
        let mut last = None;
        for cand in candidates {
            let mut repo = cand.clone();
            repo.tag = None;
            repo.digest = None;
            let sources = self.registries_conf()?.pull_sources(&repo)?;
            let Some(src) = sources.last() else { continue };
            let tags = match endpoint_client(src, options).and_then(|c| c.tags(&src.reference.path))
            {
                Ok(t) => t,
                Err(e) => {
                    last = Some(e);
                    continue;
                }
            };
            let mut out = Vec::new();
            for tag in tags {
                let mut name = repo.clone();
                name.tag = Some(tag);
                progress.message(&format!("Trying to pull {name}..."));
                out.push(self.pull_candidate(&name, platform, options, progress)?);
            }
            return Ok(out);
        }
        Err(last
            .unwrap_or_else(|| RegistryError::InvalidArgument("no registry to pull from".into()))
            .into())
    }

    /// Tries each endpoint of a candidate (mirrors first); the last error wins.
    fn pull_candidate(
        &mut self,
        name: &Reference,
        platform: &Platform,
        options: &PullOptions,
        progress: &dyn PullProgress,
    ) -> Result<ImageRecord> {
        self.policy()?.check("docker", name)?;
        let sources = self.registries_conf()?.pull_sources(name)?;
        let mut last = None;
        for ep in &sources {
            match self.pull_endpoint(ep, name, platform, options, progress) {
                Ok(r) => return Ok(r),
                Err(e) => {
                    log::debug!("pulling from {}: {e}", ep.reference);
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| {
            RegistryError::InvalidArgument(format!("no registry to pull {name} from")).into()
        }))
    }

    fn pull_endpoint(
        &mut self,
        ep: &PullSource,
        name: &Reference,
        platform: &Platform,
        options: &PullOptions,
        progress: &dyn PullProgress,
    ) -> Result<ImageRecord> {
        let src = ep.reference.clone().with_default_tag();
        let source = format!("docker://{src}");
        let client = endpoint_client(ep, options)
            .map_err(|e| e.context(format!("initializing source {source}")))?;
        let fetched = fetch_image_manifests(&client, &src, platform)
            .map_err(|e| e.context(format!("initializing source {source}")))?;
        let blobs = self.blobs()?;
        // Held until commit_image returns, so a concurrent rmi or prune cannot delete a blob
        // this pull found present (and skipped) or has published but not yet recorded.
        let _blobs_in_use = self.lock_blobs_in_use()?;
        let staged = stage_blobs(&client, &blobs, &src.path, &fetched, progress)
            .map_err(|e| e.context(format!("copying image {source}")))?;
        progress.message("Writing manifest to image destination");
        let added = staged
            .publish(&blobs)
            .map_err(|e| RegistryError::from(e).context(format!("storing image {source}")))?;
        match self.commit_image(&fetched.manifest_digest, std::slice::from_ref(name)) {
            Ok(rec) => Ok(rec),
            Err(e) => {
                for d in &added {
                    let _ = blobs.remove(d);
                }
                Err(e)
            }
        }
    }
}

/// A client for an endpoint with the TLS choice and credentials that apply to it.
fn endpoint_client(
    ep: &PullSource,
    options: &PullOptions,
) -> Result<RegistryClient, RegistryError> {
    let host = ep.reference.domain.clone().unwrap_or_default();
    let creds = super::credentials(
        options.creds.as_deref(),
        options.authfile.as_deref(),
        &format!("{host}/{}", ep.reference.path),
    )?;
    RegistryClient::new(
        &host,
        ClientOptions {
            insecure: super::insecure_for(&host, ep.insecure, options.tls_verify),
            cert_dir: options.cert_dir.clone(),
            creds,
        },
    )
}

/// The manifests of one image: the image manifest (and the index it was chosen from).
pub struct FetchedImage {
    pub manifest: manifest::ImageManifest,
    pub manifest_bytes: Vec<u8>,
    pub manifest_digest: Digest,
    pub index: Option<(Vec<u8>, Digest)>,
}

/// Fetches the manifest of `src`, following an index to the entry for `platform`; checks
/// digests (the reference's, the index entry's) and media types.
pub fn fetch_image_manifests(
    client: &RegistryClient,
    src: &Reference,
    platform: &Platform,
) -> Result<FetchedImage, RegistryError> {
    let wanted = match (&src.digest, &src.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => "latest".into(),
    };
    let top = client.get_manifest(&src.path, &wanted)?;
    if let Some(d) = &src.digest {
        if &top.digest != d {
            return Err(RegistryError::DigestMismatch {
                what: format!("manifest {wanted}"),
                expected: d.clone(),
                actual: top.digest,
            });
        }
    }
    let (manifest, bytes, digest, index) = match manifest::parse(&top.bytes, &top.content_type)? {
        Manifest::Image(m) => (m, top.bytes, top.digest, None),
        Manifest::Index(idx) => {
            let entry = platform.choose(&idx)?;
            let child = client.get_manifest(&src.path, &entry.digest.to_string())?;
            if child.digest != entry.digest || child.bytes.len() as u64 != entry.size {
                return Err(RegistryError::DigestMismatch {
                    what: format!("manifest {}", entry.digest),
                    expected: entry.digest.clone(),
                    actual: child.digest,
                });
            }
            match manifest::parse(&child.bytes, &child.content_type)? {
                Manifest::Image(m) => (m, child.bytes, child.digest, Some((top.bytes, top.digest))),
                Manifest::Index(_) => {
                    return Err(RegistryError::BadManifest(
                        "nested image indexes are not supported".into(),
                    ))
                }
            }
        }
    };
    manifest.validate()?;
    Ok(FetchedImage {
        manifest,
        manifest_bytes: bytes,
        manifest_digest: digest,
        index,
    })
}

/// A private OCI layout under `<layout>/blobs/.tmp/pull-*` where a pull's blobs wait until
/// all are verified. Removed on drop; a killed pull's directory is swept by the next pull
/// (its lock file is then free).
pub struct Staging {
    dir: tempfile::TempDir,
    store: BlobStore,
    _lock: FileLock,
}

impl Staging {
    pub fn new(main: &BlobStore) -> Result<Staging, StoreError> {
        let tmp = main.layout().join("blobs/.tmp");
        std::fs::create_dir_all(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        sweep_stale(&tmp);
        let dir = tempfile::Builder::new()
            .prefix("pull-")
            .tempdir_in(&tmp)
            .map_err(|e| StoreError::io(&tmp, e))?;
        let lock = FileLock::exclusive(&dir.path().join("lock"))?;
        let store = BlobStore::open(dir.path())?;
        Ok(Staging {
            dir,
            store,
            _lock: lock,
        })
    }

    pub fn store(&self) -> &BlobStore {
        &self.store
    }

    /// Moves every staged blob into `main` (those it lacks) and returns the ones added.
    pub fn publish(&self, main: &BlobStore) -> Result<Vec<Digest>, StoreError> {
        let sha = self.dir.path().join("blobs/sha256");
        let rd = std::fs::read_dir(&sha).map_err(|e| StoreError::io(&sha, e))?;
        let mut added = Vec::new();
        for e in rd.flatten() {
            let Ok(d) = Digest::from_sha256_hex(&e.file_name().to_string_lossy()) else {
                continue;
            };
            if main.has(&d) {
                continue;
            }
            let dest = main.path(&d);
            std::fs::rename(e.path(), &dest).map_err(|err| StoreError::io(&dest, err))?;
            added.push(d);
        }
        if let Some(parent) = main.path(&Digest::sha256_of(b"")).parent() {
            sync_dir(parent)?;
        }
        Ok(added)
    }
}

/// Removes `pull-*` staging directories whose pull is gone (their lock is free).
fn sweep_stale(tmp: &std::path::Path) {
    let Ok(rd) = std::fs::read_dir(tmp) else {
        return;
    };
    for e in rd.flatten() {
        if !e.file_name().to_string_lossy().starts_with("pull-") {
            continue;
        }
        let lock = e.path().join("lock");
        if let Ok(Some(_held)) = FileLock::try_exclusive(&lock) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Fetches config and layers of `image` that `main` lacks, `CONCURRENCY` at a time, into a
/// staging layout together with the manifest (and index); every blob is verified.
pub fn stage_blobs(
    client: &RegistryClient,
    main: &BlobStore,
    repo: &str,
    image: &FetchedImage,
    progress: &dyn PullProgress,
) -> Result<Staging, RegistryError> {
    let staging = Staging::new(main)?;
    progress.message("Getting image source signatures");
    let mut todo: Vec<(BlobKind, Digest, u64)> = Vec::new();
    let items = image
        .manifest
        .layers
        .iter()
        .map(|l| (BlobKind::Layer, l))
        .chain(std::iter::once((BlobKind::Config, &image.manifest.config)));
    for (kind, d) in items {
        if todo.iter().any(|(_, x, _)| x == &d.digest) {
            continue;
        }
        if main.has(&d.digest) {
            progress.blob_start(kind, &d.digest, Some(d.size), true);
            continue;
        }
        todo.push((kind, d.digest.clone(), d.size));
    }
    // Config last in the list, first to go: it is small and Podman reports it after layers.
    todo.reverse();
    let queue = Mutex::new(todo);
    let failed: Mutex<Option<RegistryError>> = Mutex::new(None);
    let stop = AtomicBool::new(false);
    let workers = CONCURRENCY
        .min(queue.lock().map(|q| q.len()).unwrap_or(1))
        .max(1);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some((kind, digest, size)) = next else {
                    return;
                };
                progress.blob_start(kind, &digest, Some(size), false);
                match fetch_blob(client, staging.store(), repo, &digest, size, progress) {
                    Ok(()) => progress.blob_done(&digest),
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        if let Ok(mut f) = failed.lock() {
                            f.get_or_insert(e);
                        }
                        return;
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(e);
    }
    // The config must be JSON (its size was capped by the manifest check).
    let cfg_digest = &image.manifest.config.digest;
    let cfg_store = if staging.store().has(cfg_digest) {
        staging.store()
    } else {
        main
    };
    let cfg = cfg_store.read_blob(cfg_digest, MAX_CONFIG_SIZE)?;
    serde_json::from_slice::<serde_json::Value>(&cfg).map_err(|e| {
        RegistryError::BadManifest(format!("config {cfg_digest} is not valid JSON: {e}"))
    })?;
    let st = staging.store();
    st.put_verified(
        &image.manifest_digest,
        Some(image.manifest_bytes.len() as u64),
        &mut &image.manifest_bytes[..],
    )?;
    if let Some((bytes, d)) = &image.index {
        st.put_verified(d, Some(bytes.len() as u64), &mut &bytes[..])?;
    }
    Ok(staging)
}

/// Streams one blob into `store`, verifying digest and size; retried on read errors.
fn fetch_blob(
    client: &RegistryClient,
    store: &BlobStore,
    repo: &str,
    digest: &Digest,
    size: u64,
    progress: &dyn PullProgress,
) -> Result<(), RegistryError> {
    let mut tries = 0;
    loop {
        tries += 1;
        let reader = client.get_blob(repo, digest)?;
        let read_failed = AtomicBool::new(false);
        let mut counting = Counting {
            inner: reader,
            done: 0,
            reported: 0,
            size,
            digest,
            progress,
            failed: &read_failed,
        };
        match store.put_verified(digest, Some(size), &mut counting) {
            Ok(_) => return Ok(()),
            Err(StoreError::Io { source, .. }) if read_failed.load(Ordering::Relaxed) => {
                if tries >= super::client::TRIES {
                    return Err(RegistryError::Transport(format!(
                        "reading blob {digest}: {source}"
                    )));
                }
                log::debug!("retrying blob {digest} after: {source}");
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// A reader that reports progress and remembers whether reading failed (network) as opposed
/// to writing (disk), so only the former is retried.
struct Counting<'a, R> {
    inner: R,
    done: u64,
    reported: u64,
    size: u64,
    digest: &'a Digest,
    progress: &'a dyn PullProgress,
    failed: &'a AtomicBool,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.done += n as u64;
                if self.done - self.reported >= 256 << 10 || n == 0 {
                    self.reported = self.done;
                    self.progress.blob(self.digest, self.done, Some(self.size));
                }
                Ok(n)
            }
            Err(e) => {
                self.failed.store(true, Ordering::Relaxed);
                Err(e)
            }
        }
    }
}
