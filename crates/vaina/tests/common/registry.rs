//! Registries for tests, all on 127.0.0.1 with free random ports:
//! - [`Registry`]: Debian's `docker-registry` (distribution 2.8), plain HTTP, or TLS with a CA
//!   made by openssl plus htpasswd basic auth; started with an empty environment (it reads
//!   `REGISTRY_*` variables as configuration) and killed on drop.
//! - [`FakeRegistry`]: a tiny HTTP server (std `TcpListener`) that serves fixed responses per
//!   route, optionally behind a bearer-token flow of its own; tests use it for what a real
//!   registry never does (403, 500, wrong digests, truncated or huge bodies, odd media types).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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

    fn launch(tls: bool, auth: Auth) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("vaina-registry-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut cfg = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n  secret: vaina-test\n",
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
        let reg = Registry {
            child,
            dir,
            host,
            cert_dir,
            user,
            tokens,
        };
        reg.wait_ready();
        reg
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(&self.host).is_ok() {
                return;
            }
            let log =
                std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default();
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
        let out = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=vaina token issuer",
                "-keyout",
                "token.key",
                "-out",
                "token.crt",
            ])
            .current_dir(dir)
            .output()
            .expect("openssl is installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let der = Command::new("openssl")
            .args(["x509", "-in", "token.crt", "-outform", "DER"])
            .current_dir(dir)
            .output()
            .unwrap()
            .stdout;
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
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(signing_input.as_bytes())
        .unwrap();
    let sig = child.wait_with_output().unwrap().stdout;
    format!("{signing_input}.{}", b64u(&sig))
}

/// A CA and a server certificate for 127.0.0.1 signed by it (`ca.crt`, `server.crt/key`).
fn make_certs(d: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(d)
            .output()
            .expect("openssl is installed");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=vaina test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
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

/// One canned HTTP response.
#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send only this many bytes of the body (while announcing the whole length).
    pub truncate_at: Option<usize>,
}

impl Canned {
    pub fn ok(content_type: &str, body: Vec<u8>) -> Canned {
        Canned {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
            truncate_at: None,
        }
    }

    pub fn status(status: u16) -> Canned {
        let body = match status {
            403 => br#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#.to_vec(),
            _ => Vec::new(),
        };
        Canned {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body,
            truncate_at: None,
        }
    }
}

/// Token auth for a [`FakeRegistry`]: `/v2/` paths need `Bearer <token>`, obtained from
/// `/token` with basic auth `user:password`.
#[derive(Debug, Clone)]
pub struct BearerAuth {
    pub user: String,
    pub password: String,
    pub token: String,
}

struct FakeState {
    routes: HashMap<String, Canned>,
    auth: Option<BearerAuth>,
    log: Vec<String>,
}

/// A fake registry serving canned responses by `METHOD /path` (query ignored).
pub struct FakeRegistry {
    pub host: String,
    state: Arc<Mutex<FakeState>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeRegistry {
    pub fn start(auth: Option<BearerAuth>) -> FakeRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let state = Arc::new(Mutex::new(FakeState {
            routes: HashMap::new(),
            auth,
            log: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp, h) = (state.clone(), stop.clone(), host.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                let h = h.clone();
                std::thread::spawn(move || serve(conn, &st, &h));
            }
        });
        FakeRegistry {
            host,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// Sets the response of `METHOD /path`.
    pub fn route(&self, method: &str, path: &str, resp: Canned) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(format!("{method} {path}"), resp);
    }

    /// Serves image `layout:tag` as `repo` (manifest by tag and digest, every blob).
    pub fn serve_layout(&self, layout: &Path, tag: &str, repo: &str) {
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
        let desc = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == tag)
            .expect("tag in layout")
            .clone();
        let blob = |d: &str| std::fs::read(layout.join("blobs/sha256").join(&d[7..])).unwrap();
        let mt = desc["mediaType"].as_str().unwrap().to_string();
        let digest = desc["digest"].as_str().unwrap().to_string();
        let body = blob(&digest);
        self.route(
            "GET",
            &format!("/v2/{repo}/manifests/{tag}"),
            Canned::ok(&mt, body.clone()),
        );
        self.route(
            "GET",
            &format!("/v2/{repo}/manifests/{digest}"),
            Canned::ok(&mt, body),
        );
        for e in std::fs::read_dir(layout.join("blobs/sha256"))
            .unwrap()
            .flatten()
        {
            let name = e.file_name().to_string_lossy().to_string();
            let data = std::fs::read(e.path()).unwrap();
            self.route(
                "GET",
                &format!("/v2/{repo}/blobs/sha256:{name}"),
                Canned::ok("application/octet-stream", data.clone()),
            );
            // Child manifests of an index are fetched by digest.
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&data) {
                if let Some(mt) = v["mediaType"].as_str() {
                    self.route(
                        "GET",
                        &format!("/v2/{repo}/manifests/sha256:{name}"),
                        Canned::ok(mt, data.clone()),
                    );
                }
            }
        }
    }

    /// The requests received so far (`METHOD /path?query`).
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    /// A registries.conf marking this registry insecure.
    pub fn insecure_conf(&self) -> String {
        format!(
            "unqualified-search-registries = []\n[[registry]]\nlocation = \"{}\"\ninsecure = true\n",
            self.host
        )
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.host);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, state: &Mutex<FakeState>, host: &str) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = target.split('?').next().unwrap_or("").to_string();
        let resp = {
            let mut st = state.lock().unwrap();
            st.log.push(format!("{method} {target}"));
            respond(&st, &method, &path, &target, &headers, host)
        };
        let mut head = format!(
            "HTTP/1.1 {} X\r\nContent-Length: {}\r\nDocker-Distribution-Api-Version: registry/2.0\r\n",
            resp.status,
            resp.body.len()
        );
        for (k, v) in &resp.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        if conn.write_all(head.as_bytes()).is_err() {
            return;
        }
        if method != "HEAD" {
            let n = resp.truncate_at.unwrap_or(resp.body.len());
            if conn.write_all(&resp.body[..n]).is_err() {
                return;
            }
            if resp.truncate_at.is_some() {
                let _ = conn.shutdown(std::net::Shutdown::Both);
                return;
            }
        }
    }
}

fn respond(
    st: &FakeState,
    method: &str,
    path: &str,
    target: &str,
    headers: &HashMap<String, String>,
    host: &str,
) -> Canned {
    if let Some(auth) = &st.auth {
        if path == "/token" {
            let want = format!(
                "Basic {}",
                base64_encode(format!("{}:{}", auth.user, auth.password).as_bytes())
            );
            if headers.get("authorization") != Some(&want) {
                return Canned::status(401);
            }
            let _ = target;
            return Canned::ok(
                "application/json",
                format!(r#"{{"token":"{}","expires_in":300}}"#, auth.token).into_bytes(),
            );
        }
        if headers.get("authorization") != Some(&format!("Bearer {}", auth.token)) {
            let mut c = Canned::status(401);
            c.body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#
                .to_vec();
            c.headers.push((
                "WWW-Authenticate".into(),
                format!(r#"Bearer realm="http://{host}/token",service="fake""#),
            ));
            return c;
        }
    }
    if path == "/v2/" || path == "/v2" {
        return Canned::ok("application/json", b"{}".to_vec());
    }
    let key = format!("{method} {path}");
    if let Some(c) = st.routes.get(&key) {
        return c.clone();
    }
    if method == "HEAD" {
        if let Some(c) = st.routes.get(&format!("GET {path}")) {
            return c.clone();
        }
    }
    let mut c = Canned::status(404);
    c.body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#.to_vec();
    c
}

fn base64_encode(data: &[u8]) -> String {
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
