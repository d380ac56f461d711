//! Image references: the docker/distribution grammar (domain with port, path components, tag,
//! digest), `docker.io/library` normalisation, and short-name resolution with registries.conf
//! aliases, unqualified-search registries, `short-name-mode` and the alias cache.
//!
//! Used by [`crate::image`] to name images and by [`crate::registry`] to know where to pull from.
//! A [`Reference`] remembers whether its registry was written out: a short name such as
//! `busybox` is resolved against registries.conf, never silently sent to Docker Hub.

pub mod alias_cache;
pub mod shortnames;

pub use alias_cache::AliasCache;
pub use shortnames::{resolve, Resolution};

use crate::digest::Digest;
use std::fmt;

/// Why a string is not a usable image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("invalid reference format: {0}")]
    Invalid(String),
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    Uppercase(String),
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexName(String),
    #[error("invalid reference format: repository name must not be more than 255 characters")]
    TooLong(String),
}

/// Docker Hub's canonical domain.
pub const DOCKER_DOMAIN: &str = "docker.io";
/// The namespace of Docker Hub's official images.
pub const OFFICIAL_REPO_PREFIX: &str = "library/";

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// The registry (host[:port]) when the reference names one; `None` for a short name.
    pub domain: Option<String>,
    /// Repository path inside the registry (`library/busybox`, `ns/app`).
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses `s` with the docker/distribution grammar. The domain is kept only when written
    /// out (first component with `.` or `:`, or `localhost`); `docker.io` (and
    /// `index.docker.io`) names get the `library/` prefix for single-component paths.
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        let invalid = || ReferenceError::Invalid(s.to_string());
        if s.is_empty() || s.trim() != s {
            return Err(invalid());
        }
        let (rest, digest) = match s.split_once('@') {
            Some((n, d)) => {
                let dg: Digest = d.parse().map_err(|_| invalid())?;
                (n, Some(dg))
            }
            None => (s, None),
        };
        // The tag follows the last ':' that comes after the last '/'.
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let i = last_slash + i;
                (&rest[..i], Some(rest[i + 1..].to_string()))
            }
            None => (rest, None),
        };
        if let Some(t) = &tag {
            if !valid_tag(t) {
                return Err(invalid());
            }
        }
        if name.len() > 255 {
            return Err(ReferenceError::TooLong(s.to_string()));
        }
        let (domain, path) = split_domain(name);
        if let Some(d) = &domain {
            if !valid_domain(d) {
                return Err(invalid());
            }
        }
        if path.is_empty() {
            return Err(invalid());
        }
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            if path.split('/').all(valid_path_component_ci) {
                return Err(ReferenceError::Uppercase(name.to_string()));
            }
            return Err(invalid());
        }
        if !path.split('/').all(valid_path_component) {
            return Err(invalid());
        }
        if domain.is_none() && !path.contains('/') && is_hex64(path) {
            return Err(ReferenceError::HexName(s.to_string()));
        }
        let domain = domain.map(|d| {
            if d == "index.docker.io" {
                DOCKER_DOMAIN.to_string()
            } else {
                d
            }
        });
        let path = if domain.as_deref() == Some(DOCKER_DOMAIN) && !path.contains('/') {
            format!("{OFFICIAL_REPO_PREFIX}{path}")
        } else {
            path.to_string()
        };
        Ok(Reference {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// True when no registry was written out (needs short-name resolution).
    pub fn is_short(&self) -> bool {
        self.domain.is_none()
    }

    /// This reference placed in `domain` (for short-name candidates): `busybox` in
    /// `docker.io` is `docker.io/library/busybox`, in `quay.io` it is `quay.io/busybox`.
    pub fn with_domain(&self, domain: &str) -> Reference {
        let mut r = self.clone();
        r.domain = Some(domain.to_string());
        if domain == DOCKER_DOMAIN && !r.path.contains('/') {
            r.path = format!("{OFFICIAL_REPO_PREFIX}{}", r.path);
        }
        r
    }

    /// With `latest` as tag when neither tag nor digest is given.
    pub fn with_default_tag(mut self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some("latest".into());
        }
        self
    }

    /// `domain/path` (or just `path` for a short name), without tag or digest.
    pub fn name(&self) -> String {
        match &self.domain {
            Some(d) => format!("{d}/{}", self.path),
            None => self.path.clone(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn split_domain(name: &str) -> (Option<String>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (Some(first.to_string()), rest)
        }
        _ => (None, name),
    }
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `[\w][\w.-]{0,127}`
fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-')
}

/// `host(.host)*(:port)?` or `[ipv6](:port)?`
fn valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.is_empty() || !v6.bytes().all(|c| c.is_ascii_hexdigit() || c == b':') {
            return false;
        }
        match after {
            "" => return true,
            a => match a.strip_prefix(':') {
                Some(p) => ("", Some(p)),
                None => return false,
            },
        }
    } else {
        match d.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    if host.is_empty() {
        return d.starts_with('[');
    }
    host.split('.').all(|c| {
        let b = c.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
    })
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum_lower(b[0]) || !is_alnum_lower(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum_lower(b[i]) {
            i += 1;
            continue;
        }
        // a separator run
        let start = i;
        while i < b.len() && !is_alnum_lower(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn valid_path_component_ci(c: &str) -> bool {
    valid_path_component(&c.to_ascii_lowercase())
}

fn is_alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_common_forms() {
        let r = p("busybox");
        assert_eq!(
            (r.domain.as_deref(), r.path.as_str(), r.tag.as_deref()),
            (None, "busybox", None)
        );
        assert!(r.is_short());
        assert_eq!(
            r.with_domain("docker.io").to_string(),
            "docker.io/library/busybox"
        );
        assert_eq!(r.with_domain("quay.io").to_string(), "quay.io/busybox");
        assert_eq!(
            p("docker.io/busybox").to_string(),
            "docker.io/library/busybox"
        );
        assert_eq!(
            p("index.docker.io/busybox:1").to_string(),
            "docker.io/library/busybox:1"
        );
        assert_eq!(
            p("localhost/demo:latest").domain.as_deref(),
            Some("localhost")
        );
        let r = p("127.0.0.1:5000/a/b/c:v1.0-x_y");
        assert_eq!(r.domain.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(r.path, "a/b/c");
        assert_eq!(r.tag.as_deref(), Some("v1.0-x_y"));
        let d = "sha256:".to_string() + &"a".repeat(64);
        let r = p(&format!("quay.io/x/y:t@{d}"));
        assert_eq!(r.digest.unwrap().to_string(), d);
        assert_eq!(p("[::1]:5000/x").domain.as_deref(), Some("[::1]:5000"));
        assert_eq!(p("ns/a__b.c-d---e").path, "ns/a__b.c-d---e");
        assert_eq!(
            p("localhost:5000/x").domain.as_deref(),
            Some("localhost:5000")
        );
    }

    #[test]
    fn rejects_bad_forms() {
        for s in [
            "",
            " busybox",
            "Busybox",
            "docker.io/Busy",
            "a:b:c",
            "x@sha256:abc",
            "-x",
            "x-",
            "a...b",
            "a/",
            "/a",
            "a//b",
            "host:port/x",
            "x:-tag",
            "x:",
            "a___b",
            "a..b",
            &"a".repeat(256),
            &"a".repeat(64),
        ] {
            assert!(Reference::parse(s).is_err(), "{s:?} should be rejected");
        }
        assert!(matches!(
            Reference::parse("Busybox"),
            Err(ReferenceError::Uppercase(_))
        ));
        assert!(matches!(
            Reference::parse(&"a".repeat(64)),
            Err(ReferenceError::HexName(_))
        ));
    }

    #[test]
    fn default_tag() {
        assert_eq!(p("x").with_default_tag().to_string(), "x:latest");
        let d = "sha256:".to_string() + &"b".repeat(64);
        assert_eq!(p(&format!("x@{d}")).with_default_tag().tag, None);
    }
}
