//! auth.json: registry credentials as `podman login` writes them (containers-auth.json(5)).
//!
//! Where: an explicit path (`--authfile`) or `REGISTRY_AUTH_FILE` is the only file read and
//! written. Otherwise vaina writes `$XDG_RUNTIME_DIR/containers/auth.json` (or
//! `/run/containers/<uid>/auth.json` without it) and reads that file, then
//! `$XDG_CONFIG_HOME/containers/auth.json`, then Docker's `$HOME/.docker/config.json`
//! (read-only fallback). Keys are `registry[:port]` or `registry/namespace[/repo]`; a lookup
//! takes the most specific key (`host/ns/repo`, then `host/ns`, then `host`), and finally
//! legacy keys written as URLs (`https://index.docker.io/v1/`). Only the `auth` field
//! (base64 `user:password`) is used; `credHelpers`/`credsStore` (credential helper programs)
//! are out of scope and left untouched. Files are saved atomically with mode 0600, keeping
//! every field vaina does not understand. Used by [`crate::registry`] and `login`/`logout`.

use super::{read_optional, write_atomic, ConfigError, Env, FileKind, ProcessEnv};
use base64::Engine as _;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// One auth file and its parsed content.
#[derive(Debug, Clone)]
pub struct AuthFile {
    path: PathBuf,
    /// Docker's config.json: keys may be URLs whose path is ignored.
    legacy: bool,
    doc: Map<String, Value>,
}

impl AuthFile {
    /// The file `login`/`logout` write: `explicit`, else `REGISTRY_AUTH_FILE`, else
    /// `$XDG_RUNTIME_DIR/containers/auth.json`, else `/run/containers/<uid>/auth.json`.
    pub fn write_path(explicit: Option<&Path>) -> PathBuf {
        Self::write_path_in(explicit, &ProcessEnv)
    }

    pub(crate) fn write_path_in(explicit: Option<&Path>, env: &dyn Env) -> PathBuf {
        if let Some(p) = explicit.filter(|p| !p.as_os_str().is_empty()) {
            return p.to_path_buf();
        }
        if let Some(p) = env.var("REGISTRY_AUTH_FILE") {
            return p;
        }
        if let Some(d) = env.var("XDG_RUNTIME_DIR") {
            return d.join("containers/auth.json");
        }
        let uid = nix::unistd::geteuid().as_raw();
        PathBuf::from(format!("/run/containers/{uid}/auth.json"))
    }

    /// The files credentials are read from, in order (see the module documentation); the
    /// bool marks Docker's legacy config.json.
    pub fn read_paths(explicit: Option<&Path>) -> Vec<(PathBuf, bool)> {
        Self::read_paths_in(explicit, &ProcessEnv)
    }

    pub(crate) fn read_paths_in(explicit: Option<&Path>, env: &dyn Env) -> Vec<(PathBuf, bool)> {
        let explicit = explicit
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .or_else(|| env.var("REGISTRY_AUTH_FILE"));
        if let Some(p) = explicit {
            return vec![(p, false)];
        }
        vec![
            (Self::write_path_in(None, env), false),
            (env.config_home().join("containers/auth.json"), false),
            (env.home().join(".docker/config.json"), true),
        ]
    }

    /// Loads `path`; a missing file is an empty one (saved on the first change).
    pub fn load(path: &Path) -> Result<AuthFile, ConfigError> {
        Self::load_as(path, false)
    }

    fn load_as(path: &Path, legacy: bool) -> Result<AuthFile, ConfigError> {
        let doc = match read_optional(path)? {
            None => Map::new(),
            Some(t) if t.trim().is_empty() => Map::new(),
            Some(t) => match serde_json::from_str::<Value>(&t) {
                Ok(Value::Object(m)) => m,
                Ok(_) => {
                    return Err(ConfigError::parse(
                        FileKind::AuthFile,
                        path,
                        "expected a JSON object",
                    ))
                }
                Err(e) => return Err(ConfigError::parse(FileKind::AuthFile, path, e.to_string())),
            },
        };
        if doc.get("auths").is_some_and(|a| !a.is_object()) {
            return Err(ConfigError::parse(
                FileKind::AuthFile,
                path,
                "\"auths\" must be an object",
            ));
        }
        Ok(AuthFile {
            path: path.to_path_buf(),
            legacy,
            doc,
        })
    }

    /// The path this file was loaded from and is saved to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn auths(&self) -> Option<&Map<String, Value>> {
        self.doc.get("auths").and_then(Value::as_object)
    }

    fn auths_mut(&mut self) -> &mut Map<String, Value> {
        let v = self
            .doc
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !v.is_object() {
            *v = Value::Object(Map::new());
        }
        match v {
            Value::Object(m) => m,
            _ => unreachable!("made an object above"),
        }
    }

    /// Credentials for `key` (`registry[/namespace/repo]`): the most specific exact key, then
    /// a legacy URL-style entry for the registry.
    pub fn get(&self, key: &str) -> Option<(String, String)> {
        let auths = self.auths()?;
        let key = normalize_key(key);
        let mut k = key.as_str();
        loop {
            if let Some(c) = auths.get(k).and_then(decode_entry) {
                return Some(c);
            }
            match k.rfind('/') {
                Some(i) => k = &k[..i],
                None => break,
            }
        }
        let registry = canonical_registry(k);
        auths.iter().find_map(|(name, v)| {
            (canonical_registry(&legacy_key(name, self.legacy)) == registry)
                .then(|| decode_entry(v))
                .flatten()
        })
    }

    /// Stores credentials for `key` (replacing that entry).
    pub fn set(&mut self, key: &str, user: &str, password: &str) {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut entry = Map::new();
        entry.insert("auth".into(), Value::String(auth));
        self.auths_mut()
            .insert(normalize_key(key), Value::Object(entry));
    }

    /// Removes the entry for `key` (and, for a registry key, legacy URL-style entries of the
    /// same registry). Returns whether anything was removed.
    pub fn remove(&mut self, key: &str) -> bool {
        let key = normalize_key(key);
        let legacy = self.legacy;
        let auths = self.auths_mut();
        let mut removed = auths.remove(&key).is_some();
        if !key.contains('/') {
            let reg = canonical_registry(&key);
            let before = auths.len();
            auths.retain(|k, _| {
                k.contains('/') && !k.contains("://")
                    || canonical_registry(&legacy_key(k, legacy)) != reg
            });
            removed |= auths.len() != before;
        }
        removed
    }

    /// Removes every credential.
    pub fn remove_all(&mut self) {
        self.auths_mut().clear();
    }

    /// The keys that hold credentials.
    pub fn keys(&self) -> Vec<String> {
        self.auths()
            .map(|a| a.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Writes the file atomically, mode 0600, creating its directory (0700) when missing.
    pub fn save(&self) -> Result<(), ConfigError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| ConfigError::io(dir, e))?;
            }
        }
        let mut text = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut text, fmt);
        serde::Serialize::serialize(&self.doc, &mut ser)
            .map_err(|e| ConfigError::parse(FileKind::AuthFile, &self.path, e.to_string()))?;
        text.push(b'\n');
        write_atomic(&self.path, &text, 0o600)
    }
}

/// Finds credentials for `key` in the files of [`AuthFile::read_paths`], first match wins.
pub fn lookup_credentials(
    explicit: Option<&Path>,
    key: &str,
) -> Result<Option<(String, String)>, ConfigError> {
    for (path, legacy) in AuthFile::read_paths(explicit) {
        let f = AuthFile::load_as(&path, legacy)?;
        if let Some(c) = f.get(key) {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// `https://host/x/` → `host/x`; keys are stored without scheme or trailing slash.
fn normalize_key(key: &str) -> String {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.trim_end_matches('/').to_string()
}

/// A stored key reduced to its registry when it is URL-style (or from a legacy file).
fn legacy_key(key: &str, legacy: bool) -> String {
    let stripped = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"));
    match stripped {
        Some(s) => s.split('/').next().unwrap_or(s).to_string(),
        None if legacy => key.split('/').next().unwrap_or(key).to_string(),
        None => key.to_string(),
    }
}

/// Docker Hub's several host names are one registry.
fn canonical_registry(host: &str) -> &str {
    match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "docker.io",
        h => h,
    }
}

fn decode_entry(v: &Value) -> Option<(String, String)> {
    let auth = v.get("auth")?.as_str()?;
    if auth.is_empty() {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.trim_end_matches('\n').to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str, legacy: bool) -> (tempfile::TempDir, AuthFile) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("auth.json");
        std::fs::write(&p, text).unwrap();
        let f = AuthFile::load_as(&p, legacy).unwrap();
        (d, f)
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn most_specific_key_wins() {
        let text = format!(
            r#"{{"auths": {{"quay.io": {{"auth": "{}"}}, "quay.io/ns": {{"auth": "{}"}}, "quay.io/ns/app": {{"auth": "{}"}}}}}}"#,
            b64("host:1"),
            b64("ns:2"),
            b64("app:3")
        );
        let (_d, f) = file(&text, false);
        let g = |k: &str| f.get(k).map(|(u, _)| u);
        assert_eq!(g("quay.io/ns/app").as_deref(), Some("app"));
        assert_eq!(g("quay.io/ns/other").as_deref(), Some("ns"));
        assert_eq!(g("quay.io/x/y").as_deref(), Some("host"));
        assert_eq!(g("quay.io").as_deref(), Some("host"));
        assert_eq!(g("example.com/ns/app"), None);
        assert_eq!(f.get("quay.io/ns/app").unwrap().1, "3");
    }

    #[test]
    fn legacy_keys() {
        let text = format!(
            r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{}"}}, "http://localhost:5000": {{"auth": "{}"}}}}}}"#,
            b64("hub:pw:with:colons"),
            b64("loc:pw")
        );
        let (_d, f) = file(&text, true);
        assert_eq!(
            f.get("docker.io/library/busybox"),
            Some(("hub".into(), "pw:with:colons".into()))
        );
        assert_eq!(f.get("localhost:5000/x").unwrap().0, "loc");
    }

    #[test]
    fn set_remove_save_keeps_other_fields() {
        let (d, mut f) = file(
            r#"{"credHelpers": {"gcr.io": "gcloud"}, "auths": {}}"#,
            false,
        );
        f.set("https://127.0.0.1:5000/", "u", "p");
        f.set("quay.io/ns", "n", "q");
        f.save().unwrap();
        use std::os::unix::fs::PermissionsExt;
        let p = d.path().join("auth.json");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let mut g = AuthFile::load(&p).unwrap();
        assert_eq!(g.get("127.0.0.1:5000"), Some(("u".into(), "p".into())));
        assert_eq!(g.keys(), ["127.0.0.1:5000", "quay.io/ns"]);
        assert!(g.remove("127.0.0.1:5000"));
        assert!(!g.remove("127.0.0.1:5000"));
        assert!(g.get("127.0.0.1:5000").is_none());
        g.remove_all();
        g.save().unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("credHelpers"), "{text}");
        assert!(AuthFile::load(&p).unwrap().keys().is_empty());
    }

    #[test]
    fn missing_and_bad_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/dir/auth.json");
        let mut f = AuthFile::load(&p).unwrap();
        assert!(f.get("x.io").is_none());
        f.set("x.io", "a", "b");
        f.save().unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(p.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::write(&p, "{not json").unwrap();
        let e = AuthFile::load(&p).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "unmarshaling JSON at {:?}",
                p.display().to_string()
            )),
            "{e}"
        );
        assert!(lookup_credentials(Some(&p), "x.io").is_err());
    }

    #[test]
    fn path_precedence() {
        use std::collections::HashMap;
        let mut env: HashMap<&str, PathBuf> = HashMap::new();
        env.insert("HOME", "/h".into());
        env.insert("XDG_RUNTIME_DIR", "/run/user/7".into());
        let paths: Vec<_> = AuthFile::read_paths_in(None, &env)
            .into_iter()
            .map(|(p, legacy)| (p.display().to_string(), legacy))
            .collect();
        assert_eq!(
            paths,
            [
                ("/run/user/7/containers/auth.json".to_string(), false),
                ("/h/.config/containers/auth.json".to_string(), false),
                ("/h/.docker/config.json".to_string(), true),
            ]
        );
        env.insert("REGISTRY_AUTH_FILE", "/env/auth.json".into());
        assert_eq!(
            AuthFile::write_path_in(None, &env),
            PathBuf::from("/env/auth.json")
        );
        assert_eq!(AuthFile::read_paths_in(None, &env).len(), 1);
        let flag = PathBuf::from("/flag.json");
        assert_eq!(AuthFile::write_path_in(Some(&flag), &env), flag);
        env.clear();
        let uid = nix::unistd::geteuid().as_raw();
        assert_eq!(
            AuthFile::write_path_in(None, &env),
            PathBuf::from(format!("/run/containers/{uid}/auth.json"))
        );
    }

    #[test]
    fn explicit_path_is_the_only_one() {
        let p = PathBuf::from("/tmp/explicit.json");
        assert_eq!(AuthFile::read_paths(Some(&p)), vec![(p.clone(), false)]);
        assert_eq!(AuthFile::write_path(Some(&p)), p);
    }
}
