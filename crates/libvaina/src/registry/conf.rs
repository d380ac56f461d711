//! Interim reader of the registries.conf and auth.json parts the registry client needs: pull
//! candidates for a reference (aliases, unqualified-search registries, `[[registry]]` prefix,
//! location, mirrors, insecure, blocked) and credentials per registry.
//!
//! [`crate::config`] owns these files; this module is the small fallback used until its
//! shared implementation lands, kept behind [`pull_sources`] and [`AuthStore`] so switching
//! touches only this file.

use super::auth::Credentials;
use super::RegistryError;
use crate::reference::Reference;
use base64::Engine as _;
use std::path::{Path, PathBuf};

/// One place to try for a candidate: the reference rewritten for a mirror or the location.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub reference: Reference,
    pub insecure: bool,
}

/// One fully-qualified name to pull, with where to fetch it from (mirrors first).
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The name the image gets in the store.
    pub name: Reference,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RegistriesConf {
    #[serde(default)]
    unqualified_search_registries: Vec<String>,
    #[serde(default)]
    registry: Vec<RegistryEntry>,
    #[serde(default)]
    aliases: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct RegistryEntry {
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    blocked: bool,
    #[serde(default)]
    mirror: Vec<MirrorEntry>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct MirrorEntry {
    location: String,
    #[serde(default)]
    insecure: bool,
}

/// The registries.conf in effect (`CONTAINERS_REGISTRIES_CONF`, else the user's, else /etc).
pub fn registries_conf_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CONTAINERS_REGISTRIES_CONF").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    if !nix::unistd::geteuid().is_root() {
        if let Some(home) = std::env::var_os("HOME") {
            let p = Path::new(&home).join(".config/containers/registries.conf");
            if p.exists() {
                return p;
            }
        }
    }
    PathBuf::from("/etc/containers/registries.conf")
}

fn load() -> Result<RegistriesConf, RegistryError> {
    let path = registries_conf_path();
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text)
            .map_err(|e| RegistryError::Config(format!("parsing {}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RegistriesConf::default()),
        Err(e) => Err(RegistryError::Config(format!("{}: {e}", path.display()))),
    }
}

/// The candidates to try for `reference` (short names expanded), each with its endpoints.
pub fn pull_sources(reference: &Reference) -> Result<Vec<Candidate>, RegistryError> {
    let conf = load()?;
    let names: Vec<Reference> = if reference.is_short() {
        if let Some(alias) = conf.aliases.get(&reference.path) {
            let mut r =
                Reference::parse(alias).map_err(|e| RegistryError::Config(e.to_string()))?;
            if r.tag.is_none() && r.digest.is_none() {
                r.tag = reference.tag.clone();
                r.digest = reference.digest.clone();
            }
            vec![r]
        } else if conf.unqualified_search_registries.is_empty() {
            return Err(RegistryError::ShortName(format!(
                "short-name {:?} did not resolve to an alias and no unqualified-search registries are defined in {:?}",
                reference.to_string(),
                registries_conf_path().display().to_string()
            )));
        } else {
            conf.unqualified_search_registries
                .iter()
                .map(|d| reference.with_domain(d))
                .collect()
        }
    } else {
        vec![reference.clone()]
    };
    names
        .into_iter()
        .map(|name| endpoints(&conf, &name).map(|endpoints| Candidate { name, endpoints }))
        .collect()
}

/// Whether `host` is marked insecure in registries.conf (for push, login, search).
pub fn is_insecure(host: &str) -> bool {
    load()
        .ok()
        .and_then(|c| {
            c.registry
                .iter()
                .find(|r| {
                    entry_prefix(r) == host || entry_prefix(r).starts_with(&format!("{host}/"))
                })
                .map(|r| r.insecure)
        })
        .unwrap_or(false)
}

fn entry_prefix(r: &RegistryEntry) -> &str {
    if r.prefix.is_empty() {
        &r.location
    } else {
        &r.prefix
    }
}

fn prefix_matches(prefix: &str, name: &str) -> bool {
    if let Some(suffix) = prefix.strip_prefix("*.") {
        let host = name.split('/').next().unwrap_or("");
        return host.ends_with(&format!(".{suffix}"));
    }
    name == prefix || name.starts_with(&format!("{prefix}/"))
}

fn endpoints(conf: &RegistriesConf, name: &Reference) -> Result<Vec<Endpoint>, RegistryError> {
    let full = name.name();
    let entry = conf
        .registry
        .iter()
        .filter(|r| prefix_matches(entry_prefix(r), &full))
        .max_by_key(|r| entry_prefix(r).len());
    let Some(entry) = entry else {
        return Ok(vec![Endpoint {
            reference: name.clone(),
            insecure: false,
        }]);
    };
    if entry.blocked {
        return Err(RegistryError::Blocked(full));
    }
    let prefix = entry_prefix(entry);
    let rewrite = |location: &str| -> Result<Reference, RegistryError> {
        if prefix.starts_with("*.") || location.is_empty() {
            return Ok(name.clone());
        }
        let rest = &full[prefix.len()..];
        let mut r = Reference::parse(&format!("{location}{rest}"))
            .map_err(|e| RegistryError::Config(e.to_string()))?;
        r.tag = name.tag.clone();
        r.digest = name.digest.clone();
        Ok(r)
    };
    let mut out = Vec::new();
    for m in &entry.mirror {
        out.push(Endpoint {
            reference: rewrite(&m.location)?,
            insecure: m.insecure,
        });
    }
    out.push(Endpoint {
        reference: rewrite(&entry.location)?,
        insecure: entry.insecure,
    });
    Ok(out)
}

/// auth.json: where credentials are read from and written to.
#[derive(Debug, Clone)]
pub struct AuthStore {
    pub path: PathBuf,
}

impl AuthStore {
    /// `--authfile`, else `REGISTRY_AUTH_FILE`, else the per-user default.
    pub fn new(authfile: Option<&Path>) -> AuthStore {
        let path = authfile
            .map(Path::to_path_buf)
            .or_else(|| {
                std::env::var_os("REGISTRY_AUTH_FILE")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| {
                let uid = nix::unistd::geteuid().as_raw();
                match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
                    Some(d) if uid != 0 => PathBuf::from(d).join("containers/auth.json"),
                    _ => PathBuf::from(format!("/run/containers/{uid}/auth.json")),
                }
            });
        AuthStore { path }
    }

    fn read_json(path: &Path) -> Result<serde_json::Value, RegistryError> {
        match std::fs::read(path) {
            Ok(b) if b.iter().all(u8::is_ascii_whitespace) => Ok(serde_json::json!({})),
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| RegistryError::Config(format!("parsing {}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(serde_json::json!({})),
            Err(e) => Err(RegistryError::Config(format!("{}: {e}", path.display()))),
        }
    }

    /// Credentials for `key` (`host` or `host/repo`): the most specific entry of the auth
    /// file, else of `~/.docker/config.json`.
    pub fn get(&self, key: &str) -> Result<Option<Credentials>, RegistryError> {
        let mut files = vec![self.path.clone()];
        if let Some(home) = std::env::var_os("HOME") {
            files.push(Path::new(&home).join(".docker/config.json"));
        }
        for f in files {
            let v = Self::read_json(&f)?;
            let Some(auths) = v.get("auths").and_then(|a| a.as_object()) else {
                continue;
            };
            let mut k = key.to_string();
            loop {
                let entry = auths.get(&k).or_else(|| {
                    if k == "docker.io" {
                        auths.get("https://index.docker.io/v1/")
                    } else {
                        auths.get(&format!("https://{k}"))
                    }
                });
                if let Some(c) = entry.and_then(decode_entry) {
                    return Ok(Some(c));
                }
                match k.rsplit_once('/') {
                    Some((parent, _)) => k = parent.to_string(),
                    None => break,
                }
            }
        }
        Ok(None)
    }

    /// Stores credentials for `key` (file mode 0600, directory 0700).
    pub fn set(&self, key: &str, creds: &Credentials) -> Result<(), RegistryError> {
        let mut v = Self::read_json(&self.path)?;
        let raw = format!("{}:{}", creds.username, creds.password);
        let enc = base64::engine::general_purpose::STANDARD.encode(raw);
        if !v.is_object() {
            v = serde_json::json!({});
        }
        let obj = v
            .as_object_mut()
            .ok_or_else(|| RegistryError::Config("auth file".into()))?;
        let auths = obj.entry("auths").or_insert_with(|| serde_json::json!({}));
        if !auths.is_object() {
            *auths = serde_json::json!({});
        }
        if let Some(a) = auths.as_object_mut() {
            a.insert(key.to_string(), serde_json::json!({ "auth": enc }));
        }
        self.write(&v)
    }

    /// Removes the entry for `key` (or every entry); false when there was none.
    pub fn remove(&self, key: Option<&str>) -> Result<bool, RegistryError> {
        let mut v = Self::read_json(&self.path)?;
        let Some(auths) = v.get_mut("auths").and_then(|a| a.as_object_mut()) else {
            return Ok(key.is_none());
        };
        let removed = match key {
            Some(k) => auths.remove(k).is_some(),
            None => {
                auths.clear();
                true
            }
        };
        if removed && self.path.exists() {
            self.write(&v)?;
        }
        Ok(removed)
    }

    fn write(&self, v: &serde_json::Value) -> Result<(), RegistryError> {
        use std::io::Write;
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let err =
            |e: std::io::Error| RegistryError::Config(format!("{}: {e}", self.path.display()));
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(err)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".auth-")
            .tempfile_in(dir)
            .map_err(err)?;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
        let text =
            serde_json::to_string_pretty(v).map_err(|e| RegistryError::Config(e.to_string()))?;
        tmp.write_all(text.as_bytes()).map_err(err)?;
        tmp.write_all(b"\n").map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        tmp.persist(&self.path).map_err(|e| err(e.error))?;
        Ok(())
    }
}

fn decode_entry(e: &serde_json::Value) -> Option<Credentials> {
    let auth = e.get("auth")?.as_str()?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (u, p) = raw.split_once(':')?;
    Some(Credentials {
        username: u.to_string(),
        password: p.to_string(),
    })
}
