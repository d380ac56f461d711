//! Debian's `docker-registry` (distribution 2.8) for tests, on 127.0.0.1 with a free random
//! port: plain HTTP, TLS with a CA made by openssl plus htpasswd basic auth, or bearer tokens
//! from a [`TokenServer`] (JWTs signed with openssl). Started with an empty environment (it
//! reads `REGISTRY_*` variables as configuration) and killed on drop. The fake registry for
//! faults is in `fake_registry.rs`; helpers shared by the registry test files are at the end.

#![allow(dead_code)]

use super::TestEnv;
use libvaina::digest::Digest;
use libvaina::reference::Reference as LibReference;
use libvaina::registry::client::{ClientOptions, RegistryClient};
use libvaina::registry::pull::{fetch_image_manifests, stage_blobs};
use libvaina::registry::{NoProgress, Platform, RegistryError};
use libvaina::store::blobs::BlobStore;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (bound then released; the registry binds it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Skips the calling test (returns early) unless the named programs are installed.
#[macro_export]
macro_rules! require_programs {
    ($($p:expr),+) => {
        for p in [$($p),+] {
            if !$crate::common::registry::installed(p) {
                eprintln!("skipped: {p} is not installed (see .ci/run)");
                return;
            }
        }
    };
}

pub fn installed(cmd: &str) -> bool {
    have(cmd)
}

/// A running `docker-registry`.
pub struct Registry {
    child: Child,
    pub dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`
    pub host: String,
    /// For TLS instances: a directory with the CA as `ca.crt` (for `--cert-dir`).
    pub cert_dir: Option<PathBuf>,
    pub user: Option<(String, String)>,
    /// The token server of a bearer-auth instance.
    pub tokens: Option<TokenServer>,
}

/// How a [`Registry`] authenticates clients.
#[derive(Clone)]
enum Auth {
    None,
    Htpasswd(String, String),
    Token(String, String),
}

impl Registry {
    /// Plain HTTP, no auth.
    pub fn start() -> Registry {
        Self::launch(false, Auth::None)
    }

    /// Plain HTTP with bearer-token auth: a [`TokenServer`] issues JWTs (signed with openssl)
    /// that the registry verifies, for `user`.
    pub fn start_token(user: &str, password: &str) -> Registry {
        Self::launch(false, Auth::Token(user.to_string(), password.to_string()))
    }

    /// HTTPS with a certificate signed by a fresh CA, and htpasswd basic auth for `user`.
    pub fn start_tls(user: &str, password: &str) -> Registry {
        Self::launch(true, Auth::Htpasswd(user.to_string(), password.to_string()))
    }

    /// Starts a registry on a free port. The port is only reserved until it is handed over, so
    /// a parallel test may take it first: then this registry exits at once and we retry on
    /// another port rather than talk to somebody else's registry.
    fn launch(tls: bool, auth: Auth) -> Registry {
        for _ in 0..8 {
            if let Some(reg) = Self::try_launch(tls, auth.clone()) {
                return reg;
            }
        }
        panic!("docker-registry could not bind a free loopback port in 8 tries");
    }

    fn try_launch(tls: bool, auth: Auth) -> Option<Registry> {
        let dir = tempfile::Builder::new()
            .prefix("vaina-registry-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut cfg = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n  secret: vaina-test\n",
            d.join("data").display()
        );
        let mut cert_dir = None;
        if tls {
            make_certs(d);
            cfg.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                d.join("server.crt").display(),
                d.join("server.key").display()
            ));
            let cd = d.join("certs");
            std::fs::create_dir_all(&cd).unwrap();
            std::fs::copy(d.join("ca.crt"), cd.join("ca.crt")).unwrap();
            cert_dir = Some(cd);
        }
        let mut tokens = None;
        let user = match auth {
            Auth::None => None,
            Auth::Htpasswd(u, p) | Auth::Token(u, p) => Some((u, p)),
        };
        if let (false, Some((u, p))) = (tls, &user) {
            let ts = TokenServer::start(d, u, p);
            cfg.push_str(&format!(
                "auth:\n  token:\n    realm: http://{}/token\n    service: vaina-test\n    issuer: vaina-test-issuer\n    rootcertbundle: {}\n",
                ts.host,
                d.join("token.crt").display()
            ));
            tokens = Some(ts);
        } else if let Some((u, p)) = &user {
            let out = Command::new("htpasswd")
                .args(["-Bbn", u, p])
                .output()
                .expect("htpasswd (apache2-utils)");
            assert!(out.status.success());
            std::fs::write(d.join("htpasswd"), &out.stdout).unwrap();
            cfg.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: vaina-test\n    path: {}\n",
                d.join("htpasswd").display()
            ));
        }
        std::fs::write(d.join("config.yml"), cfg).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(d.join("config.yml"))
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("registry.log")).unwrap())
            .spawn()
            .expect("docker-registry is installed");
        let mut reg = Registry {
            child,
            dir,
            host,
            cert_dir,
            user,
            tokens,
        };
        if reg.wait_ready() {
            Some(reg)
        } else {
            None
        }
    }

    /// Waits until this registry logged that it listens (it logs so only after binding) and
    /// accepts connections; false when it exited first (its port was taken).
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log =
                std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default();
            if log.contains("listening on") && TcpStream::connect(&self.host).is_ok() {
                return true;
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not start on {}: {log}",
                self.host
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Copies the OCI layout image `layout:tag` to `name` (`repo:tag`) in this registry.
    pub fn push_oci(&self, layout: &Path, tag: &str, name: &str) {
        let mut c = Command::new("skopeo");
        c.arg("copy").arg("--quiet").arg("--all");
        match &self.cert_dir {
            Some(cd) => c.arg(format!("--dest-cert-dir={}", cd.display())),
            None => c.arg("--dest-tls-verify=false"),
        };
        if let Some((u, p)) = &self.user {
            c.arg(format!("--dest-creds={u}:{p}"));
        }
        let out = c
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{name}", self.host))
            .env(
                "REGISTRY_AUTH_FILE",
                self.dir.path().join("skopeo-auth.json"),
            )
            .output()
            .expect("skopeo is installed");
        assert!(
            out.status.success(),
            "skopeo copy to {}/{name}: {}",
            self.host,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Writes `spec` to a temporary OCI layout and copies it to `name` (`repo:tag`) here.
    pub fn push_image(&self, spec: &super::fixtures::ImageSpec, name: &str) {
        let src = tempfile::tempdir().unwrap();
        super::fixtures::write_oci_image(src.path(), "img", spec);
        self.push_oci(src.path(), "img", name);
    }

    /// A registries.conf marking this registry insecure (plain HTTP allowed).
    pub fn insecure_conf(&self) -> String {
        format!(
            "unqualified-search-registries = []\n[[registry]]\nlocation = \"{}\"\ninsecure = true\n",
            self.host
        )
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A token server for docker-registry's `auth: token`: `GET /token?service=..&scope=..` with
/// basic auth answers a JWT (RS256, the signing certificate in `x5c`) granting the requested
/// actions; wrong or missing credentials get 401.
pub struct TokenServer {
    pub host: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TokenServer {
    fn start(dir: &Path, user: &str, password: &str) -> TokenServer {
        self_signed(dir, "vaina token issuer", "token");
        let der = openssl(dir, &["x509", "-in", "token.crt", "-outform", "DER"]);
        let x5c = base64_encode(&der);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let sp = stop.clone();
        let key = dir.join("token.key");
        let want = format!(
            "Basic {}",
            base64_encode(format!("{user}:{password}").as_bytes())
        );
        let user = user.to_string();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut authz = None;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        if k.eq_ignore_ascii_case("authorization") {
                            authz = Some(v.trim().to_string());
                        }
                    }
                }
                let (status, body) = if authz.as_deref() == Some(want.as_str()) {
                    let jwt = sign_jwt(&key, &x5c, &user, &target);
                    (200, format!(r#"{{"token":"{jwt}","expires_in":300}}"#))
                } else {
                    (
                        401,
                        r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#
                            .to_string(),
                    )
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        TokenServer {
            host,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.host);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let v = u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?');
                out.push(v);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JWT for the scopes asked in `target` (`/token?service=..&scope=repository:x:pull,push`).
fn sign_jwt(key: &Path, x5c: &str, user: &str, target: &str) -> String {
    let query = target.split_once('?').map(|x| x.1).unwrap_or("");
    let mut access = Vec::new();
    for kv in query.split('&') {
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        if k != "scope" {
            continue;
        }
        let v = url_decode(v);
        let parts: Vec<&str> = v.splitn(3, ':').collect();
        if parts.len() == 3 {
            let actions: Vec<&str> = parts[2].split(',').collect();
            access
                .push(serde_json::json!({"type": parts[0], "name": parts[1], "actions": actions}));
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5c": [x5c]});
    let claims = serde_json::json!({
        "iss": "vaina-test-issuer", "sub": user, "aud": "vaina-test",
        "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", access.len()),
        "access": access,
    });
    let b64u = |d: &[u8]| {
        base64_encode(d)
            .replace('+', "-")
            .replace('/', "_")
            .trim_end_matches('=')
            .to_string()
    };
    let signing_input = format!(
        "{}.{}",
        b64u(header.to_string().as_bytes()),
        b64u(claims.to_string().as_bytes())
    );
    let sig = super::output_with_stdin(
        Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(key),
        signing_input.as_bytes(),
    )
    .stdout;
    format!("{signing_input}.{}", b64u(&sig))
}

/// Runs `openssl args...` in `dir`, asserts success and returns its stdout.
fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    super::checked_output(Command::new("openssl").args(args).current_dir(dir)).stdout
}

/// A self-signed certificate `<name>.crt` with key `<name>.key` in `dir`, for common name `cn`.
fn self_signed(dir: &Path, cn: &str, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={cn}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
        ],
    );
}

/// A CA and a server certificate for 127.0.0.1 signed by it (`ca.crt`, `server.crt/key`).
fn make_certs(d: &Path) {
    let run = |args: &[&str]| {
        openssl(d, args);
    };
    self_signed(d, "vaina test CA", "ca");
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.crt",
    ]);
}

pub fn base64_encode(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---- helpers shared by the registry test files ----

/// Fetches `host/repo:tag` into the OCI layout at `layout` the way `pull` does before it
/// commits the image; returns the manifest digest.
pub fn fetch(
    layout: &Path,
    reference: &str,
    opts: ClientOptions,
    platform: &Platform,
) -> Result<Digest, RegistryError> {
    let r = LibReference::parse(reference).unwrap();
    let client = RegistryClient::new(r.domain.as_deref().unwrap(), opts)?;
    let fetched = fetch_image_manifests(&client, &r, platform)?;
    let store = BlobStore::open(layout)?;
    let staged = stage_blobs(&client, &store, &r.path, &fetched, &NoProgress)?;
    staged.publish(&store)?;
    Ok(fetched.manifest_digest)
}

pub fn insecure() -> ClientOptions {
    ClientOptions {
        insecure: true,
        ..Default::default()
    }
}

pub fn blob_exists(layout: &Path, digest: &str) -> bool {
    layout
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
        .is_file()
}

pub fn tmp_is_empty(layout: &Path) -> bool {
    std::fs::read_dir(layout.join("blobs/.tmp"))
        .map(|mut d| d.next().is_none())
        .unwrap_or(true)
}

/// The blobs a manifest in `layout` refers to.
pub fn manifest_blobs(layout: &Path, digest: &str) -> Vec<String> {
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(layout.join("blobs/sha256").join(&digest[7..])).unwrap(),
    )
    .unwrap();
    let mut v = vec![m["config"]["digest"].as_str().unwrap().to_string()];
    for l in m["layers"].as_array().unwrap() {
        v.push(l["digest"].as_str().unwrap().to_string());
    }
    v
}

/// A test environment whose registries.conf marks `host` insecure, with its store created.
pub fn env_for(conf: &str) -> TestEnv {
    let env = TestEnv::new();
    env.set_registries_conf(conf);
    libvaina::Engine::new(libvaina::EngineOptions {
        root: Some(env.root.clone()),
        runroot: Some(env.runroot.clone()),
        ..Default::default()
    })
    .unwrap()
    .blobs()
    .unwrap();
    env
}

/// `vaina pull IMAGE` must fail with exit 125, one `Error:` line naming the image and
/// containing `reason`, and leave the store as it was.
pub fn assert_pull_fails(env: &TestEnv, image: &str, extra: &[&str], reason: &str) {
    let before = env.store_snapshot();
    let mut args = vec!["pull", "-q"];
    args.extend_from_slice(extra);
    args.push(image);
    let err = env.fails(125, &args);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {err}");
    assert!(lines[0].starts_with("Error: "), "{err}");
    let name = image.split(['@', ':']).next().unwrap();
    assert!(err.contains(name), "error should name {name}: {err}");
    assert!(err.contains(reason), "error should say {reason:?}: {err}");
    assert_eq!(before, env.store_snapshot(), "store changed by {image}");
    assert!(tmp_is_empty(&env.root.join("oci")));
}

pub fn images_list(env: &TestEnv) -> Vec<String> {
    env.ok(["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"])
        .lines()
        .map(str::to_string)
        .collect()
}
