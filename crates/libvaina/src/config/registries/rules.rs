//! The rules of `[[registry]]` entries: validation of prefix, location and mirrors, matching
//! a reference against a prefix (including `*.example.com` wildcards) and rewriting a
//! reference for a mirror or location, as containers-registries.conf(5) describes them.

use super::{Mirror, PullFromMirror, RawRegistry, Registry};
use crate::config::ConfigError;
use crate::reference::Reference;

pub(super) fn validate_registry(r: RawRegistry) -> Result<Registry, String> {
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
pub(super) fn rewrite(
    r: &Reference,
    prefix: &str,
    location: &str,
) -> Result<Reference, ConfigError> {
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
