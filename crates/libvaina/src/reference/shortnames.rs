//! Short-name resolution as Podman does it: a name without a registry (`busybox`,
//! `ns/app:1`) becomes an ordered list of fully qualified candidates.
//!
//! 1. An alias: the alias cache ([`AliasCache`], names chosen at earlier prompts) first, then
//!    registries.conf `[aliases]`; the input's tag or digest is put on the alias.
//! 2. Otherwise each `unqualified-search-registries` entry in order.
//!
//! With several candidates `short-name-mode` decides: `enforcing` needs a choice (a prompt on
//! a terminal, else the error [`ConfigError::CannotPrompt`]), `permissive` asks on a terminal
//! and otherwise tries them all, `disabled` tries them all. The library never prompts: it
//! returns a [`Resolution`] and the front end (the CLI's `pull`) asks, then records the chosen
//! alias in the cache after a successful pull. Used by [`crate::registry`]'s pull.

use super::alias_cache::AliasCache;
use super::Reference;
use crate::config::{ConfigError, RegistriesConf, ShortNameMode};
use std::path::PathBuf;

/// Why the candidates are what they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rationale {
    /// The input named its registry: the one candidate is the input itself.
    FullyQualified,
    /// An alias from this file (registries.conf, a drop-in, or the alias cache).
    Alias { origin: PathBuf },
    /// The unqualified-search registries of this file.
    SearchRegistries { origin: PathBuf },
}

/// The ordered candidates for one reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The short name as the user wrote it, without tag or digest (`busybox`).
    pub short_name: String,
    /// Fully qualified candidates, in the order to try, each with a tag or digest.
    pub candidates: Vec<Reference>,
    pub rationale: Rationale,
    /// Enforcing mode with several candidates: the user must choose one (prompt on a terminal,
    /// [`ConfigError::CannotPrompt`] without one).
    pub needs_choice: bool,
    /// Permissive mode with several candidates: ask when there is a terminal, else try all.
    pub may_prompt: bool,
}

impl Resolution {
    /// The candidates to try when nobody can be asked: all of them, or
    /// [`ConfigError::CannotPrompt`] in enforcing mode.
    pub fn without_prompt(&self) -> Result<&[Reference], ConfigError> {
        if self.needs_choice {
            return Err(ConfigError::CannotPrompt);
        }
        Ok(&self.candidates)
    }

    /// Whether a choice made at a prompt should be recorded in the alias cache after a
    /// successful pull (only search-registry candidates are recorded).
    pub fn records_choice(&self) -> bool {
        matches!(self.rationale, Rationale::SearchRegistries { .. }) && self.candidates.len() > 1
    }

    /// Podman's note for a pull through an alias: `Resolved "x" as an alias (FILE)`.
    pub fn description(&self) -> Option<String> {
        match &self.rationale {
            Rationale::Alias { origin } => Some(format!(
                "Resolved {:?} as an alias ({})",
                self.short_name,
                origin.display()
            )),
            _ => None,
        }
    }
}

/// Resolves `r` into its pull candidates (see the module documentation).
pub fn resolve(
    conf: &RegistriesConf,
    cache: &AliasCache,
    r: &Reference,
) -> Result<Resolution, ConfigError> {
    if !r.is_short() {
        return Ok(Resolution {
            short_name: r.name(),
            candidates: vec![r.clone().with_default_tag()],
            rationale: Rationale::FullyQualified,
            needs_choice: false,
            may_prompt: false,
        });
    }
    let name = r.path.clone();
    let alias = match cache.get(&name) {
        Some(v) => Some((v.clone(), cache.path().to_path_buf())),
        None => conf
            .aliases
            .get(&name)
            .map(|a| (a.value.clone(), a.origin.clone())),
    };
    if let Some((value, origin)) = alias {
        let mut c = value;
        c.tag = r.tag.clone();
        c.digest = r.digest.clone();
        return Ok(Resolution {
            short_name: name,
            candidates: vec![c.with_default_tag()],
            rationale: Rationale::Alias { origin },
            needs_choice: false,
            may_prompt: false,
        });
    }
    if conf.unqualified_search_registries.is_empty() {
        return Err(ConfigError::NoSearchRegistries {
            name: r.to_string(),
            origin: conf.search_origin.display().to_string(),
        });
    }
    let mut candidates = Vec::new();
    for reg in &conf.unqualified_search_registries {
        let text = format!("{reg}/{r}");
        let c = Reference::parse(&text).map_err(|e| {
            ConfigError::Invalid(format!(
                "creating a candidate from search registry {reg:?}: {e}"
            ))
        })?;
        if !candidates.contains(&c.clone().with_default_tag()) {
            candidates.push(c.with_default_tag());
        }
    }
    let several = candidates.len() > 1;
    Ok(Resolution {
        short_name: name,
        candidates,
        rationale: Rationale::SearchRegistries {
            origin: conf.search_origin.clone(),
        },
        needs_choice: several && conf.short_name_mode == ShortNameMode::Enforcing,
        may_prompt: several && conf.short_name_mode == ShortNameMode::Permissive,
    })
}

/// Checks that `name` can be an alias key: a repository without registry, tag or digest.
pub(crate) fn validate_short_name(name: &str) -> Result<(), String> {
    let r = Reference::parse(name).map_err(|e| format!("cannot parse short name {name:?}: {e}"))?;
    if r.digest.is_some() {
        return Err(format!(
            "invalid short name {name:?}: must not contain digest"
        ));
    }
    if r.tag.is_some() {
        return Err(format!("invalid short name {name:?}: must not contain tag"));
    }
    if !r.is_short() {
        return Err(format!(
            "invalid short name {name:?}: must not contain registry"
        ));
    }
    Ok(())
}

/// Parses an alias value: a fully qualified repository without tag or digest.
pub(crate) fn parse_alias_value(value: &str) -> Result<Reference, String> {
    let r = Reference::parse(value).map_err(|e| format!("parsing alias {value:?}: {e}"))?;
    if r.digest.is_some() {
        return Err(format!("invalid alias {value:?}: must not contain digest"));
    }
    if r.tag.is_some() {
        return Err(format!("invalid alias {value:?}: must not contain tag"));
    }
    if r.is_short() {
        return Err(format!(
            "invalid alias {value:?}: must contain registry and repository"
        ));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn conf(text: &str) -> RegistriesConf {
        let mut c = RegistriesConf::default();
        c.merge_file(Path::new("/etc/r.conf"), text).unwrap();
        c
    }

    fn names(r: &Resolution) -> Vec<String> {
        r.candidates.iter().map(|c| c.to_string()).collect()
    }

    fn p(s: &str) -> Reference {
        Reference::parse(s).unwrap()
    }

    #[test]
    fn search_registries_in_order() {
        let c = conf("unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n");
        let cache = AliasCache::default();
        let r = resolve(&c, &cache, &p("busybox")).unwrap();
        assert_eq!(
            names(&r),
            ["quay.io/busybox:latest", "docker.io/library/busybox:latest"]
        );
        assert!(r.may_prompt && !r.needs_choice && r.records_choice());
        assert_eq!(r.without_prompt().unwrap().len(), 2);
        let r = resolve(&c, &cache, &p("ns/app:1")).unwrap();
        assert_eq!(names(&r), ["quay.io/ns/app:1", "docker.io/ns/app:1"]);
    }

    #[test]
    fn modes() {
        let c = conf(
            "unqualified-search-registries = [\"a.io\", \"b.io\"]\nshort-name-mode = \"enforcing\"\n",
        );
        let r = resolve(&c, &AliasCache::default(), &p("x")).unwrap();
        assert!(r.needs_choice && !r.may_prompt);
        assert_eq!(
            r.without_prompt().unwrap_err().to_string(),
            "short-name resolution enforced but cannot prompt without a TTY"
        );
        let c =
            conf("unqualified-search-registries = [\"a.io\"]\nshort-name-mode = \"enforcing\"\n");
        let r = resolve(&c, &AliasCache::default(), &p("x")).unwrap();
        assert!(!r.needs_choice);
        assert!(!r.records_choice());
        let c = conf(
            "unqualified-search-registries = [\"a.io\", \"b.io\"]\nshort-name-mode = \"disabled\"\n",
        );
        let r = resolve(&c, &AliasCache::default(), &p("x")).unwrap();
        assert!(!r.needs_choice && !r.may_prompt);
    }

    #[test]
    fn aliases_first_cache_before_conf() {
        let c = conf(
            "unqualified-search-registries = [\"a.io\", \"b.io\"]\n[aliases]\n\"x\" = \"conf.io/x\"\n\"y\" = \"conf.io/y\"\n",
        );
        let d = tempfile::tempdir().unwrap();
        let mut cache = AliasCache::load(&d.path().join("c.conf")).unwrap();
        cache.record("y", &p("cache.io/yy")).unwrap();
        let r = resolve(&c, &cache, &p("x:2")).unwrap();
        assert_eq!(names(&r), ["conf.io/x:2"]);
        assert_eq!(
            r.rationale,
            Rationale::Alias {
                origin: "/etc/r.conf".into()
            }
        );
        assert_eq!(
            r.description().unwrap(),
            "Resolved \"x\" as an alias (/etc/r.conf)"
        );
        let r = resolve(&c, &cache, &p("y")).unwrap();
        assert_eq!(names(&r), ["cache.io/yy:latest"]);
        let dg = format!("sha256:{}", "c".repeat(64));
        let r = resolve(&c, &cache, &p(&format!("x@{dg}"))).unwrap();
        assert_eq!(names(&r), [format!("conf.io/x@{dg}")]);
    }

    #[test]
    fn qualified_and_empty() {
        let c = conf("unqualified-search-registries = []\n");
        let r = resolve(&c, &AliasCache::default(), &p("quay.io/x")).unwrap();
        assert_eq!(names(&r), ["quay.io/x:latest"]);
        assert_eq!(r.rationale, Rationale::FullyQualified);
        let e = resolve(&c, &AliasCache::default(), &p("busybox")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "short-name \"busybox\" did not resolve to an alias and no unqualified-search registries are defined in \"/etc/r.conf\""
        );
    }
}
