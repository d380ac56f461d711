//! One registry endpoint spoken to over HTTP(S) (ureq 2 with rustls): the `/v2/` ping that
//! learns the scheme and the auth challenge, manifest and blob reads, blob existence checks,
//! uploads, manifest writes, tag lists and the catalog.
//!
//! Requests are authorised per [`super::auth`] and retried (3 tries, with backoff) on
//! connection errors, 5xx and 429. Registry error bodies (`{"errors":[...]}`) become the error
//! message, as Podman shows them.

// ureq 2's error is large; it is only ever passed back from request closures.
#![allow(clippy::result_large_err)]

use super::auth::{self, Challenge, Credentials, TokenCache};
use super::manifest::{ACCEPT_MANIFESTS, MAX_MANIFEST_SIZE};
use super::{tls, RegistryError};
use crate::digest::Digest;
use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// How many times a request is tried on transient errors.
pub const TRIES: u32 = 3;

/// How to reach one registry endpoint.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Insecure registry: TLS certificates not verified, plain HTTP allowed (Podman's meaning).
    pub insecure: bool,
    /// `--cert-dir`: CA certificates for this registry instead of certs.d.
    pub cert_dir: Option<PathBuf>,
    pub creds: Option<Credentials>,
}

/// A client for one registry host (`host[:port]`).
pub struct RegistryClient {
    host: String,
    agent: ureq::Agent,
    opts: ClientOptions,
    base: OnceLock<(String, Challenge)>,
    tokens: TokenCache,
}

/// A manifest as fetched: raw bytes, `Content-Type`, and its sha256 digest.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub digest: Digest,
}

impl RegistryClient {
    /// A client for `host` (Docker Hub's `docker.io` is served by `registry-1.docker.io`).
    pub fn new(host: &str, opts: ClientOptions) -> Result<Self, RegistryError> {
        let api_host = match host {
            "docker.io" | "index.docker.io" => "registry-1.docker.io",
            h => h,
        };
        let tls = tls::client_config(api_host, !opts.insecure, opts.cert_dir.as_deref())?;
        let agent = ureq::AgentBuilder::new()
            .tls_config(tls)
            .timeout_connect(Duration::from_secs(30))
            .timeout_read(Duration::from_secs(300))
            .max_idle_connections_per_host(8)
            .user_agent(concat!("vaina/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(RegistryClient {
            host: api_host.to_string(),
            agent,
            opts,
            base: OnceLock::new(),
            tokens: TokenCache::default(),
        })
    }

    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// `GET /v2/`: learns whether the registry speaks HTTPS (or plain HTTP, when insecure) and
    /// what authentication it asks for. Done once per client.
    pub fn ping(&self) -> Result<&(String, Challenge), RegistryError> {
        if let Some(b) = self.base.get() {
            return Ok(b);
        }
        let mut schemes = vec!["https"];
        if self.opts.insecure {
            schemes.push("http");
        }
        let mut last = None;
        for scheme in schemes {
            let base = format!("{scheme}://{}", self.host);
            let url = format!("{base}/v2/");
            let res = retry(|| match self.agent.get(&url).call() {
                Err(ureq::Error::Status(code, r)) if code != 401 && retryable_status(code) => {
                    Err(Attempt::Retry(status_error(code, r)))
                }
                other => Ok(other),
            });
            let challenge = match res {
                Ok(Ok(_)) => Challenge::None,
                Ok(Err(ureq::Error::Status(401, r))) => r
                    .header("www-authenticate")
                    .and_then(Challenge::parse)
                    .unwrap_or(Challenge::Basic),
                Ok(Err(ureq::Error::Status(_, _))) => Challenge::None,
                Ok(Err(ureq::Error::Transport(t))) => {
                    last = Some(transport_error(&t));
                    continue;
                }
                Err(e) => {
                    last = Some(e);
                    continue;
                }
            };
            return Ok(self.base.get_or_init(|| (base, challenge)));
        }
        let err = last.unwrap_or_else(|| RegistryError::Transport("no endpoint".into()));
        Err(err.context(format!("pinging container registry {}", self.host)))
    }

    /// Checks the credentials (for `login`): the ping, then a token when the registry uses
    /// bearer auth, or an authorised `GET /v2/` for basic auth.
    pub fn check_login(&self) -> Result<(), RegistryError> {
        let (base, challenge) = self.ping()?;
        match challenge {
            Challenge::None => Ok(()),
            Challenge::Bearer { realm, service } => {
                auth::fetch_token(
                    &self.agent,
                    realm,
                    service.as_deref(),
                    "",
                    self.opts.creds.as_ref(),
                )?;
                Ok(())
            }
            Challenge::Basic => {
                let Some(c) = &self.opts.creds else {
                    return Err(RegistryError::Unauthorized(
                        "authentication required".into(),
                    ));
                };
                match self
                    .agent
                    .get(&format!("{base}/v2/"))
                    .set("Authorization", &c.basic_header())
                    .call()
                {
                    Ok(_) => Ok(()),
                    Err(ureq::Error::Status(401 | 403, _)) => Err(RegistryError::Unauthorized(
                        "invalid username/password".into(),
                    )),
                    Err(ureq::Error::Status(code, r)) => Err(status_error(code, r)),
                    Err(ureq::Error::Transport(t)) => Err(transport_error(&t)),
                }
            }
        }
    }

    fn authorization(&self, scope: &str, fresh: bool) -> Result<Option<String>, RegistryError> {
        let (_, challenge) = self.ping()?;
        match challenge {
            Challenge::None => Ok(None),
            Challenge::Basic => Ok(self.opts.creds.as_ref().map(|c| c.basic_header())),
            Challenge::Bearer { realm, service } => {
                if !fresh {
                    if let Some(t) = self.tokens.get(scope) {
                        return Ok(Some(format!("Bearer {t}")));
                    }
                }
                let t = auth::fetch_token(
                    &self.agent,
                    realm,
                    service.as_deref(),
                    scope,
                    self.opts.creds.as_ref(),
                )?;
                self.tokens.put(scope, t.clone());
                Ok(Some(format!("Bearer {t}")))
            }
        }
    }

    /// Sends a request built by `build` (called once per try) with authorisation for `scope`;
    /// a 401 with a cached token fetches a fresh token once. Error statuses become errors.
    fn send(
        &self,
        method: &str,
        path: &str,
        scope: &str,
        tries: u32,
        build: &dyn Fn(ureq::Request) -> Result<ureq::Response, ureq::Error>,
    ) -> Result<ureq::Response, RegistryError> {
        let (base, _) = self.ping()?;
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{base}{path}")
        };
        let mut fresh = false;
        loop {
            let authz = self.authorization(scope, fresh)?;
            let res = retry_n(tries, || {
                let mut req = self.agent.request(method, &url);
                if let Some(a) = &authz {
                    req = req.set("Authorization", a);
                }
                match build(req) {
                    Ok(r) => Ok(Ok(r)),
                    Err(ureq::Error::Status(code, r)) if retryable_status(code) => {
                        Err(Attempt::Retry(status_error(code, r)))
                    }
                    Err(ureq::Error::Transport(t)) if retryable_transport(&t) => {
                        Err(Attempt::Retry(transport_error(&t)))
                    }
                    Err(e) => Ok(Err(e)),
                }
            })?;
            return match res {
                Ok(r) => Ok(r),
                Err(ureq::Error::Status(401, _))
                    if !fresh && matches!(self.ping()?.1, Challenge::Bearer { .. }) =>
                {
                    fresh = true;
                    continue;
                }
                Err(ureq::Error::Status(code, r)) => Err(status_error(code, r)),
                Err(ureq::Error::Transport(t)) => Err(transport_error(&t)),
            };
        }
    }

    /// Fetches a manifest or index by tag or digest; refuses more than the size cap.
    pub fn get_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<FetchedManifest, RegistryError> {
        let ctx = || format!("reading manifest {reference} in {}/{repo}", self.host);
        self.ping()?;
        let resp = self
            .send(
                "GET",
                &format!("/v2/{repo}/manifests/{reference}"),
                &pull_scope(repo),
                TRIES,
                &|r| r.set("Accept", ACCEPT_MANIFESTS).call(),
            )
            .map_err(|e| e.context(ctx()))?;
        let too_large = |size| RegistryError::TooLarge {
            what: format!("manifest {reference} in {}/{repo}", self.host),
            size,
            cap: MAX_MANIFEST_SIZE,
        };
        if let Some(len) = resp
            .header("content-length")
            .and_then(|v| v.parse::<u64>().ok())
        {
            if len > MAX_MANIFEST_SIZE {
                return Err(too_large(len));
            }
        }
        let content_type = resp.header("content-type").unwrap_or("").to_string();
        let mut bytes = Vec::new();
        resp.into_reader()
            .take(MAX_MANIFEST_SIZE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| RegistryError::Transport(e.to_string()).context(ctx()))?;
        if bytes.len() as u64 > MAX_MANIFEST_SIZE {
            return Err(too_large(bytes.len() as u64));
        }
        let digest = Digest::sha256_of(&bytes);
        Ok(FetchedManifest {
            bytes,
            content_type,
            digest,
        })
    }

    /// Opens a blob for streaming.
    pub fn get_blob(
        &self,
        repo: &str,
        digest: &Digest,
    ) -> Result<Box<dyn Read + Send + Sync>, RegistryError> {
        let resp = self
            .send(
                "GET",
                &format!("/v2/{repo}/blobs/{digest}"),
                &pull_scope(repo),
                TRIES,
                &|r| r.call(),
            )
            .map_err(|e| e.context(format!("fetching blob {digest}")))?;
        Ok(resp.into_reader())
    }

    /// Whether the registry has the blob (`HEAD`).
    pub fn has_blob(&self, repo: &str, digest: &Digest) -> Result<bool, RegistryError> {
        match self.send(
            "HEAD",
            &format!("/v2/{repo}/blobs/{digest}"),
            &push_scope(repo),
            TRIES,
            &|r| r.call(),
        ) {
            Ok(_) => Ok(true),
            Err(RegistryError::NotFound(_)) => Ok(false),
            Err(e) => Err(e.context(format!("checking blob {digest}"))),
        }
    }

    /// Uploads a blob in one `PUT` after opening an upload session; `open` gives the content
    /// (called again on a retry).
    pub fn upload_blob(
        &self,
        repo: &str,
        digest: &Digest,
        size: u64,
        open: &dyn Fn() -> std::io::Result<Box<dyn Read>>,
    ) -> Result<(), RegistryError> {
        let ctx = || format!("uploading blob {digest}");
        let scope = push_scope(repo);
        let mut last = None;
        for _ in 0..TRIES {
            let resp = self
                .send(
                    "POST",
                    &format!("/v2/{repo}/blobs/uploads/"),
                    &scope,
                    TRIES,
                    &|r| r.set("Content-Length", "0").call(),
                )
                .map_err(|e| e.context(ctx()))?;
            let loc = resp
                .header("location")
                .ok_or_else(|| RegistryError::BadResponse("upload without a location".into()))?
                .to_string();
            let loc = if loc.starts_with('/') {
                format!("{}{loc}", self.ping()?.0)
            } else {
                loc
            };
            let sep = if loc.contains('?') { '&' } else { '?' };
            let url = format!("{loc}{sep}digest={digest}");
            let put = self.send("PUT", &url, &scope, 1, &|r| {
                let body = open().map_err(ureq::Error::from)?;
                r.set("Content-Type", "application/octet-stream")
                    .set("Content-Length", &size.to_string())
                    .send(body)
            });
            match put {
                Ok(_) => return Ok(()),
                Err(e @ (RegistryError::Transport(_) | RegistryError::Http { .. })) => {
                    last = Some(e)
                }
                Err(e) => return Err(e.context(ctx())),
            }
        }
        Err(last
            .unwrap_or_else(|| RegistryError::Transport("upload failed".into()))
            .context(ctx()))
    }

    /// Writes a manifest under a tag or digest.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<(), RegistryError> {
        self.send(
            "PUT",
            &format!("/v2/{repo}/manifests/{reference}"),
            &push_scope(repo),
            TRIES,
            &|r| r.set("Content-Type", media_type).send_bytes(bytes),
        )
        .map(|_| ())
        .map_err(|e| {
            e.context(format!(
                "writing manifest {reference} to {}/{repo}",
                self.host
            ))
        })
    }

    /// The tags of a repository.
    pub fn tags(&self, repo: &str) -> Result<Vec<String>, RegistryError> {
        #[derive(serde::Deserialize)]
        struct Tags {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let t: Tags = self
            .get_json(&format!("/v2/{repo}/tags/list"), &pull_scope(repo))
            .map_err(|e| e.context(format!("listing tags of {}/{repo}", self.host)))?;
        Ok(t.tags.unwrap_or_default())
    }

    /// Repository names from `/v2/_catalog`, following `Link` pages up to `max` names.
    pub fn catalog(&self, max: usize) -> Result<Vec<String>, RegistryError> {
        #[derive(serde::Deserialize)]
        struct Catalog {
            #[serde(default)]
            repositories: Vec<String>,
        }
        let mut out = Vec::new();
        let mut path = "/v2/_catalog?n=1000".to_string();
        loop {
            let resp = self.send("GET", &path, "registry:catalog:*", TRIES, &|r| r.call())?;
            let next = resp
                .header("link")
                .and_then(|l| l.split(['<', '>']).nth(1))
                .map(str::to_string);
            let mut body = Vec::new();
            resp.into_reader()
                .take(16 << 20)
                .read_to_end(&mut body)
                .map_err(|e| RegistryError::Transport(e.to_string()))?;
            let c: Catalog = serde_json::from_slice(&body)
                .map_err(|e| RegistryError::BadResponse(e.to_string()))?;
            let empty = c.repositories.is_empty();
            out.extend(c.repositories);
            match next {
                Some(n) if !empty && out.len() < max => path = n,
                _ => return Ok(out),
            }
        }
    }

    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        scope: &str,
    ) -> Result<T, RegistryError> {
        let resp = self.send("GET", path, scope, TRIES, &|r| r.call())?;
        let mut body = Vec::new();
        resp.into_reader()
            .take(16 << 20)
            .read_to_end(&mut body)
            .map_err(|e| RegistryError::Transport(e.to_string()))?;
        serde_json::from_slice(&body).map_err(|e| RegistryError::BadResponse(e.to_string()))
    }

    /// The host requests go to.
    pub fn host(&self) -> &str {
        &self.host
    }
}

pub fn pull_scope(repo: &str) -> String {
    format!("repository:{repo}:pull")
}

pub fn push_scope(repo: &str) -> String {
    format!("repository:{repo}:pull,push")
}

/// One try's outcome: a final result, or an error worth another try.
enum Attempt {
    Retry(RegistryError),
}

fn retry<T>(f: impl FnMut() -> Result<T, Attempt>) -> Result<T, RegistryError> {
    retry_n(TRIES, f)
}

/// Runs `f` up to `tries` times with exponential backoff (100 ms, 200 ms, ...).
fn retry_n<T>(tries: u32, mut f: impl FnMut() -> Result<T, Attempt>) -> Result<T, RegistryError> {
    let mut delay = Duration::from_millis(100);
    let mut n = 1;
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(Attempt::Retry(e)) if n >= tries.max(1) => return Err(e),
            Err(Attempt::Retry(e)) => {
                log::debug!("retrying after: {e}");
                std::thread::sleep(delay);
                delay *= 2;
                n += 1;
            }
        }
    }
}

fn retryable_status(code: u16) -> bool {
    code == 429 || (500..600).contains(&code)
}

fn retryable_transport(t: &ureq::Transport) -> bool {
    matches!(
        t.kind(),
        ureq::ErrorKind::ConnectionFailed | ureq::ErrorKind::Io
    )
}

fn transport_error(t: &ureq::Transport) -> RegistryError {
    let msg = t.to_string();
    if msg.contains("InvalidContentType") {
        // A plain HTTP registry answered a TLS handshake (Go's wording for it).
        return RegistryError::Transport(format!(
            "{msg}: http: server gave HTTP response to HTTPS client"
        ));
    }
    RegistryError::Transport(msg)
}

/// The registry's own error message (`{"errors":[{"code":..,"message":..}]}`) or the status.
fn status_error(code: u16, resp: ureq::Response) -> RegistryError {
    #[derive(serde::Deserialize)]
    struct Errs {
        errors: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        #[serde(default)]
        message: String,
        #[serde(default)]
        code: String,
    }
    let status_text = resp.status_text().to_ascii_lowercase();
    let mut body = Vec::new();
    let _ = resp.into_reader().take(64 << 10).read_to_end(&mut body);
    let message = serde_json::from_slice::<Errs>(&body)
        .ok()
        .map(|e| {
            e.errors
                .iter()
                .map(|i| {
                    if i.message.is_empty() {
                        i.code.to_ascii_lowercase().replace('_', " ")
                    } else {
                        i.message.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .filter(|m| !m.is_empty());
    match code {
        401 => {
            RegistryError::Unauthorized(message.unwrap_or_else(|| "authentication required".into()))
        }
        403 => RegistryError::Denied(
            message.unwrap_or_else(|| "requested access to the resource is denied".into()),
        ),
        404 => RegistryError::NotFound(message.unwrap_or_else(|| "not found".into())),
        _ => RegistryError::Http {
            status: code,
            message: message.unwrap_or(status_text),
        },
    }
}
