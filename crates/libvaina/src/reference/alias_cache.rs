//! The short-name alias cache: short names a user chose at a prompt, remembered so the next
//! pull of the same name does not ask again.
//!
//! Podman keeps its cache in `/var/cache/containers/short-name-aliases.conf` (rootful) or
//! `$HOME/.cache/containers/short-name-aliases.conf`; vaina keeps its own next to its store,
//! `<graph root>/short-name-aliases.conf`, so the two engines never write each other's files.
//! The format is the same TOML: an `[aliases]` table of `"name" = "registry/repository"`.
//! Written atomically (temp file, fsync, rename) after re-reading the file, so concurrent
//! recorders lose nothing but the race for the same name. Consulted by
//! [`super::shortnames::resolve`] before registries.conf's `[aliases]`.

use super::shortnames::{parse_alias_value, validate_short_name};
use super::Reference;
use crate::config::{parse_toml, read_optional, write_atomic, ConfigError, FileKind};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File name of the cache inside the graph root.
pub const ALIAS_CACHE_FILE: &str = "short-name-aliases.conf";

/// The alias cache, loaded from one file.
#[derive(Debug, Clone, Default)]
pub struct AliasCache {
    path: PathBuf,
    aliases: BTreeMap<String, Reference>,
}

impl AliasCache {
    /// The cache file for a store whose graph root is `root`.
    pub fn path_in(root: &Path) -> PathBuf {
        root.join(ALIAS_CACHE_FILE)
    }

    /// Loads the cache at `path`; a missing file is an empty cache.
    pub fn load(path: &Path) -> Result<AliasCache, ConfigError> {
        let aliases = match read_optional(path)? {
            Some(text) => parse_cache(path, &text)?,
            None => BTreeMap::new(),
        };
        Ok(AliasCache {
            path: path.to_path_buf(),
            aliases,
        })
    }

    /// An empty cache that would be written to `path`.
    pub fn empty(path: &Path) -> AliasCache {
        AliasCache {
            path: path.to_path_buf(),
            aliases: BTreeMap::new(),
        }
    }

    /// The file this cache lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The alias recorded for short name `name` (no tag or digest), if any.
    pub fn get(&self, name: &str) -> Option<&Reference> {
        self.aliases.get(name)
    }

    /// Every recorded alias.
    pub fn aliases(&self) -> &BTreeMap<String, Reference> {
        &self.aliases
    }

    /// Records that short name `name` means `resolved` (its tag and digest are dropped) and
    /// writes the file.
    pub fn record(&mut self, name: &str, resolved: &Reference) -> Result<(), ConfigError> {
        validate_short_name(name).map_err(ConfigError::Invalid)?;
        let mut value = resolved.clone();
        value.tag = None;
        value.digest = None;
        if value.is_short() {
            return Err(ConfigError::Invalid(format!(
                "invalid alias {value}: must contain registry and repository"
            )));
        }
        // Merge with what other processes may have written since we loaded.
        let mut current = match read_optional(&self.path)? {
            Some(text) => parse_cache(&self.path, &text)?,
            None => BTreeMap::new(),
        };
        current.insert(name.to_string(), value);
        let mut table = toml::Table::new();
        let aliases: toml::Table = current
            .iter()
            .map(|(k, v)| (k.clone(), toml::Value::String(v.to_string())))
            .collect();
        table.insert("aliases".into(), toml::Value::Table(aliases));
        let text = toml::to_string(&table)
            .map_err(|e| ConfigError::Invalid(format!("encoding alias cache: {e}")))?;
        write_atomic(&self.path, text.as_bytes(), 0o644)?;
        self.aliases = current;
        Ok(())
    }
}

fn parse_cache(path: &Path, text: &str) -> Result<BTreeMap<String, Reference>, ConfigError> {
    let table = parse_toml(FileKind::AliasCache, path, text)?;
    let bad = |m: String| ConfigError::parse(FileKind::AliasCache, path, m);
    let mut out = BTreeMap::new();
    let Some(aliases) = table.get("aliases") else {
        return Ok(out);
    };
    let aliases = aliases
        .as_table()
        .ok_or_else(|| bad("aliases: expected a table".into()))?;
    for (name, value) in aliases {
        let value = value
            .as_str()
            .ok_or_else(|| bad(format!("alias {name:?}: expected a string")))?;
        validate_short_name(name).map_err(bad)?;
        if value.is_empty() {
            continue;
        }
        let r = parse_alias_value(value).map_err(bad)?;
        out.insert(name.clone(), r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_and_reload() {
        let d = tempfile::tempdir().unwrap();
        let p = AliasCache::path_in(d.path());
        let mut c = AliasCache::load(&p).unwrap();
        assert!(c.get("busybox").is_none());
        c.record(
            "busybox",
            &Reference::parse("quay.io/b/busybox:1.36").unwrap(),
        )
        .unwrap();
        // another process records a different name meanwhile
        let mut other = AliasCache::load(&p).unwrap();
        other
            .record("alpine", &Reference::parse("docker.io/alpine").unwrap())
            .unwrap();
        c.record("x", &Reference::parse("localhost/x").unwrap())
            .unwrap();
        let c = AliasCache::load(&p).unwrap();
        assert_eq!(c.get("busybox").unwrap().to_string(), "quay.io/b/busybox");
        assert_eq!(
            c.get("alpine").unwrap().to_string(),
            "docker.io/library/alpine"
        );
        assert_eq!(c.aliases().len(), 3);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("[aliases]"), "{text}");
    }

    #[test]
    fn rejects_bad_input() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c.conf");
        let mut c = AliasCache::empty(&p);
        assert!(c
            .record("quay.io/x", &Reference::parse("quay.io/x").unwrap())
            .is_err());
        assert!(c.record("x", &Reference::parse("x").unwrap()).is_err());
        std::fs::write(&p, "[aliases\n").unwrap();
        let e = AliasCache::load(&p).unwrap_err().to_string();
        assert!(e.contains("c.conf"), "{e}");
    }
}
