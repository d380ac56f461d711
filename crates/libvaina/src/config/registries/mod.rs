//! registries.conf (v2, and the old v1 tables): unqualified-search registries, `[[registry]]`
//! entries with prefix, location, insecure, blocked and mirrors, `[aliases]` and
//! `short-name-mode`, loaded with Podman's precedence and `registries.conf.d` drop-ins.
//!
//! Files, in order: the main file (`CONTAINERS_REGISTRIES_CONF`, else the per-user
//! `$XDG_CONFIG_HOME/containers/registries.conf` when it exists, else
//! `/etc/containers/registries.conf`), then the `*.conf` drop-ins sorted by name
//! (`/etc/containers/registries.conf.d`, then the per-user `registries.conf.d`; a per-user main
//! file uses only the per-user drop-ins; `CONTAINERS_REGISTRIES_CONF_DIR`, a vaina extension,
//! replaces both). Later files override: search registries and mode replace, `[[registry]]`
//! entries replace by prefix, aliases merge per name (an empty value erases).
//!
//! [`crate::registry`] asks [`RegistriesConf::pull_sources`] where to fetch a reference from
//! (mirrors first) and [`RegistriesConf::is_insecure`] for push and login;
//! [`crate::reference::shortnames`] uses the search list, aliases and mode.

use super::{
    drop_in_files, parse_toml, read_optional, toml_message, ConfigError, Env, FileKind, ProcessEnv,
};
use crate::reference::shortnames::{parse_alias_value, validate_short_name};
use rules::{rewrite, validate_registry};

pub use rules::prefix_match_len;

mod rules;
#[cfg(test)]
mod tests;
use crate::reference::Reference;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The system-wide main file.
pub const SYSTEM_REGISTRIES_CONF: &str = "/etc/containers/registries.conf";
/// The system-wide drop-in directory.
pub const SYSTEM_REGISTRIES_CONF_DIR: &str = "/etc/containers/registries.conf.d";

/// How ambiguous short names are handled (`short-name-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShortNameMode {
    /// Several candidates: ask on a terminal, fail without one.
    Enforcing,
    /// Several candidates: ask on a terminal, else try them all in order (the default).
    #[default]
    Permissive,
    /// Never ask; try every candidate in order.
    Disabled,
}

impl ShortNameMode {
    fn parse(s: &str) -> Result<Option<ShortNameMode>, String> {
        match s {
            "" => Ok(None),
            "enforcing" => Ok(Some(ShortNameMode::Enforcing)),
            "permissive" => Ok(Some(ShortNameMode::Permissive)),
            "disabled" => Ok(Some(ShortNameMode::Disabled)),
            other => Err(format!("invalid short-name mode: {other:?}")),
        }
    }
}

/// Which references a mirror serves (`pull-from-mirror`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullFromMirror {
    #[default]
    All,
    DigestOnly,
    TagOnly,
}

/// A `[[registry.mirror]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub location: String,
    pub insecure: bool,
    pub pull_from_mirror: PullFromMirror,
}

/// A `[[registry]]` entry after validation (`prefix` defaults to `location`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    pub prefix: String,
    /// Where references matching `prefix` are really fetched; empty only for `*.` prefixes.
    pub location: String,
    pub insecure: bool,
    pub blocked: bool,
    pub mirror_by_digest_only: bool,
    pub mirrors: Vec<Mirror>,
}

/// One alias and the file that defined it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub value: Reference,
    pub origin: PathBuf,
}

/// Where a reference can be pulled from, in the order to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSource {
    /// The reference rewritten for this endpoint (mirror or location).
    pub reference: Reference,
    /// TLS verification off (and plain HTTP allowed) for this endpoint.
    pub insecure: bool,
    /// True for a mirror, false for the registry's own location.
    pub mirror: bool,
}

/// The merged registries configuration.
#[derive(Debug, Clone, Default)]
pub struct RegistriesConf {
    pub unqualified_search_registries: Vec<String>,
    /// The file that set `unqualified-search-registries` last (for error messages).
    pub search_origin: PathBuf,
    /// `[[registry]]` entries, sorted by prefix.
    pub registries: Vec<Registry>,
    /// `[aliases]`, by short name.
    pub aliases: BTreeMap<String, Alias>,
    pub short_name_mode: ShortNameMode,
    /// The main file (read or not).
    pub main_path: PathBuf,
    /// Drop-in directories consulted.
    pub drop_in_dirs: Vec<PathBuf>,
    /// Every file actually read, in order.
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawFile {
    unqualified_search_registries: Option<Vec<String>>,
    short_name_mode: Option<String>,
    #[serde(default)]
    registry: Vec<RawRegistry>,
    aliases: Option<BTreeMap<String, String>>,
    /// The v1 format: `[registries.search|insecure|block] registries = [...]`.
    registries: Option<RawV1>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawRegistry {
    prefix: Option<String>,
    location: Option<String>,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    blocked: bool,
    #[serde(default)]
    mirror_by_digest_only: bool,
    #[serde(default)]
    mirror: Vec<RawMirror>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawMirror {
    #[serde(default)]
    location: String,
    #[serde(default)]
    insecure: bool,
    pull_from_mirror: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RawV1 {
    search: Option<RawV1List>,
    insecure: Option<RawV1List>,
    block: Option<RawV1List>,
}

#[derive(Debug, Default, Deserialize)]
struct RawV1List {
    #[serde(default)]
    registries: Vec<String>,
}

impl RegistriesConf {
    /// Loads the configuration from the standard places (see the module documentation).
    pub fn load() -> Result<RegistriesConf, ConfigError> {
        let (main, must_exist, dirs) = Self::locations(&ProcessEnv);
        Self::load_from(&main, must_exist, &dirs)
    }

    /// The main file, whether it must exist, and the drop-in directories, per `env`.
    pub(crate) fn locations(env: &dyn Env) -> (PathBuf, bool, Vec<PathBuf>) {
        let explicit = env.var("CONTAINERS_REGISTRIES_CONF");
        let user_main = env.config_home().join("containers/registries.conf");
        let user_dir = env.config_home().join("containers/registries.conf.d");
        let (main, must_exist, mut dirs) = match explicit {
            Some(p) => (
                p,
                true,
                vec![PathBuf::from(SYSTEM_REGISTRIES_CONF_DIR), user_dir],
            ),
            None if user_main.exists() => (user_main, false, vec![user_dir]),
            None => (
                PathBuf::from(SYSTEM_REGISTRIES_CONF),
                false,
                vec![PathBuf::from(SYSTEM_REGISTRIES_CONF_DIR), user_dir],
            ),
        };
        if let Some(d) = env.var("CONTAINERS_REGISTRIES_CONF_DIR") {
            dirs = vec![d];
        }
        (main, must_exist, dirs)
    }

    /// Loads `main` (an error when `must_exist` and it is missing) and the drop-ins of `dirs`.
    pub fn load_from(
        main: &Path,
        must_exist: bool,
        dirs: &[PathBuf],
    ) -> Result<RegistriesConf, ConfigError> {
        let mut conf = RegistriesConf {
            main_path: main.to_path_buf(),
            search_origin: main.to_path_buf(),
            drop_in_dirs: dirs.to_vec(),
            ..Default::default()
        };
        match read_optional(main)? {
            Some(text) => conf.merge_file(main, &text)?,
            None if must_exist => {
                return Err(ConfigError::io(
                    main,
                    std::io::Error::from(std::io::ErrorKind::NotFound),
                ))
            }
            None => {}
        }
        for dir in dirs {
            for f in drop_in_files(dir)? {
                if let Some(text) = read_optional(&f)? {
                    conf.merge_file(&f, &text)?;
                }
            }
        }
        Ok(conf)
    }

    /// Parses one file's text (as if loaded from `path`) on top of this configuration.
    pub fn merge_file(&mut self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let table = parse_toml(FileKind::RegistriesConf, path, text)?;
        let raw: RawFile = table.try_into().map_err(|e: toml::de::Error| {
            ConfigError::parse(FileKind::RegistriesConf, path, toml_message(None, &e))
        })?;
        let bad = |m: String| ConfigError::parse(FileKind::RegistriesConf, path, m);
        self.files.push(path.to_path_buf());

        let mut raw_regs = raw.registry;
        let mut search = raw.unqualified_search_registries;
        if let Some(v1) = raw.registries {
            if search.is_some() || !raw_regs.is_empty() {
                return Err(bad("mixing sysregistry v1/v2 is not supported".to_string()));
            }
            let list = |l: Option<RawV1List>| l.map(|l| l.registries).unwrap_or_default();
            search = Some(list(v1.search));
            for (hosts, insecure) in [(list(v1.insecure), true), (list(v1.block), false)] {
                for h in hosts {
                    raw_regs.push(RawRegistry {
                        location: Some(h),
                        insecure,
                        blocked: !insecure,
                        ..Default::default()
                    });
                }
            }
        }
        if let Some(s) = search {
            for r in &s {
                if r.trim().is_empty() {
                    return Err(bad(format!("invalid unqualified-search registry {r:?}")));
                }
            }
            self.unqualified_search_registries = s;
            self.search_origin = path.to_path_buf();
        }
        if let Some(m) = raw.short_name_mode {
            if let Some(mode) = ShortNameMode::parse(&m).map_err(bad)? {
                self.short_name_mode = mode;
            }
        }
        let mut seen = Vec::new();
        for r in raw_regs {
            let reg = validate_registry(r).map_err(bad)?;
            if seen.contains(&reg.prefix) {
                return Err(bad(format!(
                    "registry with prefix {:?} defined more than once",
                    reg.prefix
                )));
            }
            seen.push(reg.prefix.clone());
            self.registries.retain(|x| x.prefix != reg.prefix);
            self.registries.push(reg);
        }
        self.registries.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        for (name, value) in raw.aliases.unwrap_or_default() {
            validate_short_name(&name).map_err(bad)?;
            if value.is_empty() {
                self.aliases.remove(&name);
                continue;
            }
            let value = parse_alias_value(&value).map_err(bad)?;
            self.aliases.insert(
                name,
                Alias {
                    value,
                    origin: path.to_path_buf(),
                },
            );
        }
        Ok(())
    }

    /// `main or dir` for messages about where something was configured.
    pub fn origin_description(&self) -> String {
        let mut s = self.main_path.display().to_string();
        if let Some(d) = self.drop_in_dirs.first() {
            s.push_str(&format!(" or {}", d.display()));
        }
        s
    }

    /// The `[[registry]]` whose prefix matches `reference` (a full `host/path[:tag][@digest]`
    /// string, or a bare host) the longest.
    pub fn find_registry(&self, reference: &str) -> Option<&Registry> {
        let mut best: Option<&Registry> = None;
        for r in &self.registries {
            if prefix_match_len(reference, &r.prefix).is_some()
                && best.is_none_or(|b| r.prefix.len() > b.prefix.len())
            {
                best = Some(r);
            }
        }
        best
    }

    /// Whether `host` (`host[:port]`) is marked insecure.
    pub fn is_insecure(&self, host: &str) -> bool {
        self.find_registry(host).is_some_and(|r| r.insecure)
    }

    /// Whether `host` is blocked.
    pub fn is_blocked(&self, host: &str) -> bool {
        self.find_registry(host).is_some_and(|r| r.blocked)
    }

    /// Where to pull `r` (a fully qualified reference) from: usable mirrors first, then the
    /// registry's location. An error naming the reference when its registry is blocked.
    pub fn pull_sources(&self, r: &Reference) -> Result<Vec<PullSource>, ConfigError> {
        if r.is_short() {
            return Err(ConfigError::Invalid(format!(
                "{r}: a short name must be resolved before pulling"
            )));
        }
        let s = r.to_string();
        let Some(reg) = self.find_registry(&s) else {
            return Ok(vec![PullSource {
                reference: r.clone(),
                insecure: false,
                mirror: false,
            }]);
        };
        if reg.blocked {
            return Err(ConfigError::Blocked {
                reference: s,
                registry: reg.prefix.clone(),
                origin: self.origin_description(),
            });
        }
        let mut out = Vec::new();
        if !reg.mirror_by_digest_only || r.digest.is_some() {
            for m in &reg.mirrors {
                let usable = match m.pull_from_mirror {
                    PullFromMirror::All => true,
                    PullFromMirror::DigestOnly => r.digest.is_some(),
                    PullFromMirror::TagOnly => r.digest.is_none(),
                };
                if usable {
                    out.push(PullSource {
                        reference: rewrite(r, &reg.prefix, &m.location)?,
                        insecure: m.insecure,
                        mirror: true,
                    });
                }
            }
        }
        out.push(PullSource {
            reference: rewrite(r, &reg.prefix, &reg.location)?,
            insecure: reg.insecure,
            mirror: false,
        });
        Ok(out)
    }
}
