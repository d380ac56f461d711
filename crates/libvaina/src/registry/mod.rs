//! The OCI distribution client: pull and push of manifests, indexes and blobs, with anonymous,
//! basic and bearer-token auth, mirrors, per-registry TLS settings and platform choice.
//!
//! It writes verified blobs through [`crate::store::blobs::BlobStore`] and hands complete
//! images to [`Engine::commit_image`](crate::Engine::commit_image); registries.conf semantics
//! come from [`crate::config`].
//!
//! - [`client`]: HTTP to one registry endpoint, retries, error bodies
//! - [`auth`]: credentials, challenges, bearer tokens
//! - [`manifest`]: manifest and index formats, media types, size caps
//! - [`platform`]: platform flags and the choice from an index
//! - [`tls`]: certificate verification and per-registry CAs
//! - [`pull`], [`push`], [`login`]: the operations behind `vaina pull/push/login/logout/search`

pub mod auth;
pub mod client;
pub mod login;
pub mod manifest;
pub mod platform;
pub mod pull;
pub mod push;
pub mod tls;

use crate::digest::Digest;
use crate::store::StoreError;
use std::path::PathBuf;

pub use auth::Credentials;
pub use platform::Platform;

/// Errors talking to a registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("invalid platform {0:?}: expected os/arch[/variant]")]
    InvalidPlatform(String),
    #[error("choosing image instance: no image found in image index for architecture {arch:?}, variant {variant:?}, OS {os:?}")]
    NoPlatform {
        os: String,
        arch: String,
        variant: String,
    },
    #[error("unsupported {0}")]
    UnknownMediaType(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("invalid manifest: {0}")]
    BadManifest(String),
    #[error("{what} is too large: {size} bytes, the limit is {cap}")]
    TooLarge { what: String, size: u64, cap: u64 },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Denied(String),
    #[error("{0}")]
    NotFound(String),
    #[error("received unexpected HTTP status: {status} {message}")]
    Http { status: u16, message: String },
    #[error("{0}")]
    Transport(String),
    #[error("invalid response from registry: {0}")]
    BadResponse(String),
    #[error("tls configuration: {0}")]
    Tls(String),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: Digest,
        actual: Digest,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Several pull candidates failed; one line per candidate, as Podman lists them.
    #[error("{} errors occurred while pulling:\n{}", .0.len(), .0.iter().map(|e| format!(" * {e}")).collect::<Vec<_>>().join("\n"))]
    AllFailed(Vec<String>),
    #[error("{context}: {source}")]
    Context {
        context: String,
        source: Box<RegistryError>,
    },
}

impl RegistryError {
    /// Prefixes the message with `context` (`context: message`).
    pub fn context(self, context: impl Into<String>) -> RegistryError {
        RegistryError::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// The innermost error (past every context).
    pub fn root(&self) -> &RegistryError {
        match self {
            RegistryError::Context { source, .. } => source.root(),
            e => e,
        }
    }
}

/// Options of a pull (Podman's `pull` flags).
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// `--tls-verify`; `None` means "as registries.conf says".
    pub tls_verify: Option<bool>,
    /// `--creds user[:password]`.
    pub creds: Option<String>,
    /// `--authfile`.
    pub authfile: Option<PathBuf>,
    /// `--cert-dir`: CA certificates to trust for the registry.
    pub cert_dir: Option<PathBuf>,
    /// `--platform os/arch[/variant]` (wins over the three below).
    pub platform: Option<String>,
    /// `--os`, `--arch`, `--variant`; `None` is the host's.
    pub os: Option<String>,
    pub arch: Option<String>,
    pub variant: Option<String>,
    /// `--all-tags`.
    pub all_tags: bool,
}

/// What a copied blob is, for progress lines (`Copying blob`, `Copying config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobKind {
    Layer,
    Config,
}

impl BlobKind {
    pub fn word(self) -> &'static str {
        match self {
            BlobKind::Layer => "blob",
            BlobKind::Config => "config",
        }
    }
}

/// Progress of a pull or push, reported to the front end (the CLI draws bars; an API would
/// stream JSON). Called from several threads while blobs are copied.
pub trait PullProgress: Sync {
    /// A step, e.g. `Trying to pull docker.io/library/busybox:latest...`.
    fn message(&self, _msg: &str) {}
    /// A blob starts copying (`skipped` when it is already where it goes).
    fn blob_start(&self, _kind: BlobKind, _digest: &Digest, _size: Option<u64>, _skipped: bool) {}
    /// Bytes of `digest` copied so far.
    fn blob(&self, _digest: &Digest, _done: u64, _total: Option<u64>) {}
    /// A blob is complete.
    fn blob_done(&self, _digest: &Digest) {}
}

/// A progress sink that ignores everything.
pub struct NoProgress;
impl PullProgress for NoProgress {}

/// The TLS/HTTP choice for `host`: `--tls-verify` when given, else registries.conf.
pub fn insecure_for(host: &str, conf_insecure: bool, tls_verify: Option<bool>) -> bool {
    let _ = host;
    match tls_verify {
        Some(v) => !v,
        None => conf_insecure,
    }
}

/// Credentials for `key` (`host/repo`): `--creds` when given, else the auth files.
pub fn credentials(
    creds: Option<&str>,
    authfile: Option<&std::path::Path>,
    key: &str,
) -> Result<Option<Credentials>, RegistryError> {
    if let Some(c) = creds {
        return Ok(Some(Credentials::parse(c)?));
    }
    Ok(crate::config::auth::lookup_credentials(authfile, key)?
        .map(|(username, password)| Credentials { username, password }))
}
