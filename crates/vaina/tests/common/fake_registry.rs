//! A fake registry for tests: a tiny HTTP server (std `TcpListener`) that serves fixed
//! responses per route, optionally behind a bearer-token flow of its own. Tests use it for what a
//! real registry never does (403, 500, wrong digests, truncated or huge bodies, odd media types).

#![allow(dead_code)]

use super::registry::base64_encode;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
