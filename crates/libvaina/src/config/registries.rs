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
    config_home, drop_in_files, env_path, parse_toml, read_optional, toml_message, ConfigError,
    FileKind,
};
use crate::reference::shortnames::{parse_alias_value, validate_short_name};
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
        let explicit = env_path("CONTAINERS_REGISTRIES_CONF");
        let user_main = config_home().join("containers/registries.conf");
        let user_dir = config_home().join("containers/registries.conf.d");
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
        if let Some(d) = env_path("CONTAINERS_REGISTRIES_CONF_DIR") {
            dirs = vec![d];
        }
        Self::load_from(&main, must_exist, &dirs)
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

fn validate_registry(r: RawRegistry) -> Result<Registry, String> {
    let location = strip_slash(r.location.unwrap_or_default());
    let prefix = match r.prefix.map(strip_slash) {
        Some(p) if !p.is_empty() => p,
        _ => location.clone(),
    };
    if prefix.is_empty() {
        return Err("invalid registry: location and prefix are both empty".into());
    }
    if let Some(host) = prefix.strip_prefix("*.") {
        if host.is_empty() || host.contains(['/', '@', ':', '*']) {
            return Err(format!(
                "invalid prefix {prefix:?}: a wildcard prefix must be of the form *.example.com"
            ));
        }
        if !location.is_empty() {
            return Err(format!(
                "invalid location {location:?}: a registry with the wildcard prefix {prefix:?} must not set a location"
            ));
        }
    } else {
        if prefix.contains('*') {
            return Err(format!(
                "invalid prefix {prefix:?}: wildcards are only allowed as a leading *."
            ));
        }
        if location.is_empty() {
            return Err(format!(
                "invalid location for prefix {prefix:?}: cannot be empty"
            ));
        }
    }
    let mut mirrors = Vec::new();
    for m in r.mirror {
        let location = strip_slash(m.location);
        if location.is_empty() {
            return Err(format!(
                "invalid mirror of {prefix:?}: location cannot be empty"
            ));
        }
        let pull_from_mirror = match m.pull_from_mirror.as_deref() {
            None | Some("") | Some("all") => PullFromMirror::All,
            Some("digest-only") => PullFromMirror::DigestOnly,
            Some("tag-only") => PullFromMirror::TagOnly,
            Some(o) => {
                return Err(format!(
                    "unsupported pull-from-mirror value {o:?} for mirror {location:?}"
                ))
            }
        };
        if r.mirror_by_digest_only && pull_from_mirror != PullFromMirror::All {
            return Err(format!(
                "mirror-by-digest-only and pull-from-mirror cannot both be set for {prefix:?}"
            ));
        }
        mirrors.push(Mirror {
            location,
            insecure: m.insecure,
            pull_from_mirror,
        });
    }
    Ok(Registry {
        prefix,
        location,
        insecure: r.insecure,
        blocked: r.blocked,
        mirror_by_digest_only: r.mirror_by_digest_only,
        mirrors,
    })
}

fn strip_slash(s: String) -> String {
    s.trim_end_matches('/').to_string()
}

/// Length of the part of `reference` matched by `prefix`, when it matches at a component
/// boundary (`/`, `:`, `@` or the end). `*.example.com` matches any subdomain's host.
pub fn prefix_match_len(reference: &str, prefix: &str) -> Option<usize> {
    if let Some(suffix) = prefix.strip_prefix('*') {
        // `suffix` is `.example.com`; it must end the host part.
        let host_end = reference.find(['/', '@']).unwrap_or(reference.len());
        let host = &reference[..host_end];
        let host_only = host.split(':').next().unwrap_or(host);
        if host_only.len() > suffix.len() && host_only.ends_with(suffix) {
            return Some(host_only.len());
        }
        return None;
    }
    let rest = reference.strip_prefix(prefix)?;
    match rest.chars().next() {
        None | Some('/') | Some(':') | Some('@') => Some(prefix.len()),
        _ => None,
    }
}

/// `r` with the part matched by `prefix` replaced by `location` (an empty location keeps `r`).
fn rewrite(r: &Reference, prefix: &str, location: &str) -> Result<Reference, ConfigError> {
    if location.is_empty() {
        return Ok(r.clone());
    }
    let s = r.to_string();
    let n = prefix_match_len(&s, prefix).ok_or_else(|| {
        ConfigError::Invalid(format!("{s} does not match the registry prefix {prefix}"))
    })?;
    let new = format!("{location}{}", &s[n..]);
    let parsed = Reference::parse(&new)
        .map_err(|e| ConfigError::Invalid(format!("rewriting {s} for {location}: {e}")))?;
    if parsed.is_short() {
        return Err(ConfigError::Invalid(format!(
            "rewriting {s} for {location}: {new} has no registry"
        )));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(text: &str) -> RegistriesConf {
        let mut c = RegistriesConf::default();
        c.merge_file(Path::new("/t/registries.conf"), text)
            .unwrap_or_else(|e| panic!("{e}"));
        c
    }

    fn refr(s: &str) -> Reference {
        Reference::parse(s).unwrap()
    }

    #[test]
    fn prefix_matching() {
        assert_eq!(
            prefix_match_len("example.com/a/b:t", "example.com"),
            Some(11)
        );
        assert_eq!(
            prefix_match_len("example.com/a/b:t", "example.com/a"),
            Some(13)
        );
        assert_eq!(prefix_match_len("example.com/ab", "example.com/a"), None);
        assert_eq!(prefix_match_len("example.community/x", "example.com"), None);
        assert_eq!(prefix_match_len("example.com", "example.com"), Some(11));
        assert_eq!(
            prefix_match_len("a.example.com/x", "*.example.com"),
            Some(13)
        );
        assert_eq!(
            prefix_match_len("a.b.example.com:5000/x", "*.example.com"),
            Some(15)
        );
        assert_eq!(prefix_match_len("example.com/x", "*.example.com"), None);
        assert_eq!(
            prefix_match_len("x.com/a.example.com", "*.example.com"),
            None
        );
    }

    #[test]
    fn longest_prefix_wins_and_rewrites() {
        let c = conf(
            r#"
[[registry]]
location = "example.com"
insecure = true

[[registry]]
prefix = "example.com/foo"
location = "internal:5000/bar"

[[registry.mirror]]
location = "mirror.local/m"
insecure = true

[[registry.mirror]]
location = "digests.local"
pull-from-mirror = "digest-only"
"#,
        );
        let src = c.pull_sources(&refr("example.com/foo/app:1")).unwrap();
        let got: Vec<_> = src
            .iter()
            .map(|s| (s.reference.to_string(), s.insecure, s.mirror))
            .collect();
        assert_eq!(
            got,
            [
                ("mirror.local/m/app:1".to_string(), true, true),
                ("internal:5000/bar/app:1".to_string(), false, false),
            ]
        );
        let d = format!("example.com/foo/app@sha256:{}", "a".repeat(64));
        let src = c.pull_sources(&refr(&d)).unwrap();
        assert_eq!(src.len(), 3);
        assert!(src[1]
            .reference
            .to_string()
            .starts_with("digests.local/app@"));
        let src = c.pull_sources(&refr("example.com/other:2")).unwrap();
        assert_eq!(src.len(), 1);
        assert!(src[0].insecure);
        assert_eq!(src[0].reference.to_string(), "example.com/other:2");
        assert!(c.is_insecure("example.com"));
        assert!(!c.is_insecure("example.org"));
        let src = c.pull_sources(&refr("quay.io/x")).unwrap();
        assert_eq!(src[0].reference, refr("quay.io/x"));
    }

    #[test]
    fn blocked_and_wildcards() {
        let c = conf(
            r#"
[[registry]]
prefix = "*.blocked.io"
blocked = true

[[registry]]
location = "localhost:5000"
insecure = true
"#,
        );
        let e = c.pull_sources(&refr("a.blocked.io/x:1")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "initializing source docker://a.blocked.io/x:1: registry *.blocked.io is blocked in "
        );
        assert!(c.is_insecure("localhost:5000"));
        assert!(!c.is_insecure("localhost"));
        assert!(c.pull_sources(&refr("busybox")).is_err());
    }

    #[test]
    fn docker_io_library_prefix() {
        let c = conf(
            "[[registry]]\nprefix = \"docker.io/library\"\nlocation = \"127.0.0.1:5000/hub\"\n",
        );
        let s = c.pull_sources(&refr("docker.io/busybox")).unwrap();
        assert_eq!(s[0].reference.to_string(), "127.0.0.1:5000/hub/busybox");
    }

    #[test]
    fn drop_ins_override() {
        let d = tempfile::tempdir().unwrap();
        let main = d.path().join("registries.conf");
        let dir = d.path().join("registries.conf.d");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(
            &main,
            r#"unqualified-search-registries = ["a.io", "b.io"]
short-name-mode = "enforcing"
[aliases]
"x" = "a.io/x"
"y" = "a.io/y"
[[registry]]
location = "a.io"
insecure = true
"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("20-late.conf"),
            "unqualified-search-registries = [\"c.io\"]\n[aliases]\n\"y\" = \"\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("10-early.conf"),
            "short-name-mode = \"disabled\"\n[aliases]\n\"x\" = \"b.io/x\"\n[[registry]]\nlocation = \"a.io\"\n",
        )
        .unwrap();
        let c = RegistriesConf::load_from(&main, true, std::slice::from_ref(&dir)).unwrap();
        assert_eq!(c.unqualified_search_registries, ["c.io"]);
        assert_eq!(c.search_origin, dir.join("20-late.conf"));
        assert_eq!(c.short_name_mode, ShortNameMode::Disabled);
        assert_eq!(c.aliases["x"].value.to_string(), "b.io/x");
        assert!(!c.aliases.contains_key("y"));
        assert!(!c.is_insecure("a.io"));
        assert_eq!(c.files.len(), 3);
    }

    #[test]
    fn missing_files() {
        let d = tempfile::tempdir().unwrap();
        let main = d.path().join("nope.conf");
        let c = RegistriesConf::load_from(&main, false, &[]).unwrap();
        assert!(c.unqualified_search_registries.is_empty());
        assert_eq!(c.short_name_mode, ShortNameMode::Permissive);
        let e = RegistriesConf::load_from(&main, true, &[]).unwrap_err();
        assert!(e.to_string().contains("no such file"), "{e}");
    }

    #[test]
    fn v1_format() {
        let c = conf(
            "[registries.search]\nregistries = [\"a.io\"]\n[registries.insecure]\nregistries = [\"b.io:5000\"]\n[registries.block]\nregistries = [\"c.io\"]\n",
        );
        assert_eq!(c.unqualified_search_registries, ["a.io"]);
        assert!(c.is_insecure("b.io:5000"));
        assert!(c.is_blocked("c.io"));
    }

    #[test]
    fn bad_files() {
        let mut c = RegistriesConf::default();
        for text in [
            "short-name-mode = \"sometimes\"",
            "[[registry]]\nprefix = \"x.io\"\n",
            "[[registry]]\nprefix = \"*.x.io\"\nlocation = \"y.io\"\n",
            "[aliases]\n\"a.io/x\" = \"a.io/x\"\n",
            "[aliases]\n\"x\" = \"x\"\n",
            "[aliases]\n\"x:1\" = \"a.io/x\"\n",
            "[[registry]]\nlocation = \"a.io\"\n[[registry]]\nlocation = \"a.io\"\n",
            "unqualified-search-registries = \"a.io\"",
            "[[registry]\n",
        ] {
            let e = c
                .merge_file(Path::new("/t/r.conf"), text)
                .expect_err(text)
                .to_string();
            assert!(
                e.starts_with("loading registries configuration \"/t/r.conf\": "),
                "{e}"
            );
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
