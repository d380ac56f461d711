//! Listing images for `images`: one summary per image read from the database alone (no blob is
//! opened, so listing stays fast with many images), and Podman's `--filter` keys
//! (`reference`, `before`, `since`, `dangling`, `label`, `id`, `until`... see [`ImageFilter`]).

use super::{name_repository, name_tag, ImageError};
use crate::{Engine, Result};
use std::collections::{BTreeMap, HashMap};

/// One image as `images` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageSummary {
    /// Full ID (hex, no `sha256:`).
    pub id: String,
    /// Names, oldest first.
    pub names: Vec<String>,
    /// Digest of the manifest the image was last stored from.
    pub digest: String,
    /// Every manifest digest the image was stored from.
    pub digests: Vec<String>,
    /// Creation time from the config (ns since the epoch).
    pub created_ns: i64,
    /// Layers (uncompressed) plus config and manifest, in bytes.
    pub size: u64,
    pub labels: BTreeMap<String, String>,
    /// Containers created from the image.
    pub containers: usize,
    pub names_history: Vec<String>,
}

impl ImageSummary {
    /// Tagged names (`RepoTags`).
    pub fn repo_tags(&self) -> Vec<String> {
        self.names
            .iter()
            .filter(|n| !n.contains('@'))
            .cloned()
            .collect()
    }

    /// `repository@digest` for each repository of the image and each manifest digest.
    pub fn repo_digests(&self) -> Vec<String> {
        repo_digests(&self.names, &self.digests)
    }
}

/// `repository@digest` for each repository among `names` and each digest.
pub fn repo_digests(names: &[String], digests: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let repo = name_repository(n);
        for d in digests {
            let s = format!("{repo}@{d}");
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out.sort();
    out
}

/// The `(image_id, value)` rows of `sql` as lists of values by image ID, in row order.
fn grouped_by_image(
    conn: &rusqlite::Connection,
    sql: &str,
) -> Result<HashMap<String, Vec<String>>> {
    let mut st = conn.prepare_cached(sql).map_err(ImageError::from)?;
    let rows = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(ImageError::from)?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for row in rows {
        let (id, v) = row.map_err(ImageError::from)?;
        out.entry(id).or_default().push(v);
    }
    Ok(out)
}

impl Engine {
    /// Every image in the store, newest first.
    pub fn list_images(&self) -> Result<Vec<ImageSummary>> {
        let db = self.db()?;
        let conn = db.conn();
        // One read transaction: the three queries see the same snapshot.
        let snapshot = conn.unchecked_transaction().map_err(ImageError::from)?;
        let mut names = grouped_by_image(
            conn,
            "SELECT image_id, name FROM image_names ORDER BY rowid",
        )?;
        let mut digests = grouped_by_image(
            conn,
            "SELECT image_id, digest FROM image_manifests ORDER BY rowid",
        )?;
        let mut st = conn
            .prepare_cached(
                "SELECT id, manifest_digest, created_ns, size, labels, names_history FROM images
                 ORDER BY created_ns DESC, added_ns DESC",
            )
            .map_err(ImageError::from)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(ImageError::from)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, digest, created_ns, size, labels, hist) = row.map_err(ImageError::from)?;
            let containers = crate::container::containers_using_image(db, &id)?.len();
            out.push(ImageSummary {
                names: names.remove(&id).unwrap_or_default(),
                digests: digests.remove(&id).unwrap_or_default(),
                digest,
                created_ns,
                size: size.max(0) as u64,
                labels: serde_json::from_str(&labels).unwrap_or_default(),
                containers,
                names_history: serde_json::from_str(&hist).unwrap_or_default(),
                id,
            });
        }
        drop(st);
        snapshot.finish().map_err(ImageError::from)?;
        Ok(out)
    }

    /// The images matching every filter (`key=value` strings, Podman's keys).
    pub fn filter_images(
        &self,
        images: Vec<ImageSummary>,
        filters: &[String],
    ) -> Result<Vec<ImageSummary>> {
        let mut parsed: BTreeMap<String, Vec<ImageFilter>> = BTreeMap::new();
        for f in filters {
            let flt = ImageFilter::parse(self, f)?;
            parsed.entry(flt.key().to_string()).or_default().push(flt);
        }
        Ok(images
            .into_iter()
            .filter(|img| {
                parsed
                    .values()
                    .all(|alts| alts.iter().any(|f| f.matches(img)))
            })
            .collect())
    }
}

/// One `--filter` of `images` and `image prune`.
#[derive(Debug, Clone)]
pub enum ImageFilter {
    Reference(String),
    Before(i64),
    Since(i64),
    Dangling(bool),
    Label(String, Option<String>),
    LabelNot(String, Option<String>),
    Id(String),
    Until(i64),
    Containers(bool),
}

impl ImageFilter {
    fn key(&self) -> &'static str {
        match self {
            ImageFilter::Reference(_) => "reference",
            ImageFilter::Before(_) => "before",
            ImageFilter::Since(_) => "since",
            ImageFilter::Dangling(_) => "dangling",
            ImageFilter::Label(..) => "label",
            ImageFilter::LabelNot(..) => "label!",
            ImageFilter::Id(_) => "id",
            ImageFilter::Until(_) => "until",
            ImageFilter::Containers(_) => "containers",
        }
    }

    /// Parses `key=value`; `before`/`since` name an image.
    pub fn parse(engine: &Engine, s: &str) -> Result<ImageFilter> {
        let bad = || -> crate::Error {
            ImageError::Invalid(format!("invalid image filter {s:?}")).into()
        };
        let (k, v) = s.split_once('=').ok_or_else(bad)?;
        let created_of = |name: &str| -> Result<i64> {
            let id = engine.resolve_image_id(name)?;
            let ns: i64 = engine
                .db()?
                .conn()
                .query_row("SELECT created_ns FROM images WHERE id=?1", [&id], |r| {
                    r.get(0)
                })
                .map_err(ImageError::from)?;
            Ok(ns)
        };
        let label = |v: &str| match v.split_once('=') {
            Some((a, b)) => (a.to_string(), Some(b.to_string())),
            None => (v.to_string(), None),
        };
        let boolean = |v: &str| match v.to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(bad()),
        };
        Ok(match k {
            "reference" => ImageFilter::Reference(v.to_string()),
            "before" => ImageFilter::Before(created_of(v)?),
            "since" => ImageFilter::Since(created_of(v)?),
            "dangling" => ImageFilter::Dangling(boolean(v)?),
            "label" => {
                let (a, b) = label(v);
                ImageFilter::Label(a, b)
            }
            "label!" => {
                let (a, b) = label(v);
                ImageFilter::LabelNot(a, b)
            }
            "id" => ImageFilter::Id(v.trim_start_matches("sha256:").to_string()),
            "until" => ImageFilter::Until(parse_until(v).ok_or_else(bad)?),
            "containers" => ImageFilter::Containers(boolean(v)?),
            _ => return Err(bad()),
        })
    }

    pub fn matches(&self, img: &ImageSummary) -> bool {
        match self {
            ImageFilter::Reference(p) => img.names.iter().any(|n| reference_matches(p, n)),
            ImageFilter::Before(t) => img.created_ns < *t,
            ImageFilter::Since(t) => img.created_ns > *t,
            ImageFilter::Dangling(d) => img.names.is_empty() == *d,
            ImageFilter::Label(k, v) => match img.labels.get(k) {
                Some(have) => v.as_ref().is_none_or(|w| w == have),
                None => false,
            },
            ImageFilter::LabelNot(k, v) => match img.labels.get(k) {
                Some(have) => v.as_ref().is_some_and(|w| w != have),
                None => true,
            },
            ImageFilter::Id(p) => img.id.starts_with(p.as_str()),
            ImageFilter::Until(t) => img.created_ns < *t,
            ImageFilter::Containers(c) => (img.containers > 0) == *c,
        }
    }
}

/// `until=`: a Unix time or RFC 3339 time, or a Go duration before now (`10m`, `2h`).
fn parse_until(v: &str) -> Option<i64> {
    if let Ok(secs) = v.parse::<i64>() {
        return Some(secs.saturating_mul(1_000_000_000));
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return t.timestamp_nanos_opt();
    }
    let (num, unit) = v.split_at(v.find(|c: char| c.is_alphabetic())?);
    let n: f64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        _ => return None,
    };
    Some(super::store::now_ns() - (n * mult) as i64)
}

/// Podman's `reference=` filter: a glob against the full name, the name without its registry,
/// and the repository alone (for patterns without a tag).
pub fn reference_matches(pattern: &str, name: &str) -> bool {
    let repo = name_repository(name);
    let short = |s: &str| -> String {
        match s.split_once('/') {
            Some((d, rest)) if d.contains('.') || d.contains(':') || d == "localhost" => {
                rest.to_string()
            }
            _ => s.to_string(),
        }
    };
    let mut candidates = vec![name.to_string(), short(name)];
    if name_tag(pattern).is_none() && !pattern.contains('@') {
        candidates.push(repo.to_string());
        candidates.push(short(repo));
        let s = short(repo);
        if let Some(x) = s.strip_prefix("library/") {
            candidates.push(x.to_string());
        }
    }
    candidates.iter().any(|c| glob(pattern, c))
}

/// Shell-style glob with `*`, `?` and `[...]` (no `/` special-casing, like path.Match on names).
pub fn glob(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = s.chars().collect();
    fn m(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => (0..=t.len()).any(|i| m(&p[1..], &t[i..])),
            Some('?') => !t.is_empty() && m(&p[1..], &t[1..]),
            Some('[') => {
                let Some(end) = p.iter().position(|&c| c == ']') else {
                    return !t.is_empty() && t[0] == '[' && m(&p[1..], &t[1..]);
                };
                if t.is_empty() {
                    return false;
                }
                let set = &p[1..end];
                let (neg, set) = match set.first() {
                    Some('^') | Some('!') => (true, &set[1..]),
                    _ => (false, set),
                };
                let mut hit = false;
                let mut i = 0;
                while i < set.len() {
                    if i + 2 < set.len() && set[i + 1] == '-' {
                        hit |= set[i] <= t[0] && t[0] <= set[i + 2];
                        i += 3;
                    } else {
                        hit |= set[i] == t[0];
                        i += 1;
                    }
                }
                hit != neg && m(&p[end + 1..], &t[1..])
            }
            Some(&c) => !t.is_empty() && t[0] == c && m(&p[1..], &t[1..]),
        }
    }
    m(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert!(reference_matches("foo", "localhost/foo:latest"));
        assert!(reference_matches("foo:latest", "localhost/foo:latest"));
        assert!(reference_matches("localhost/foo", "localhost/foo:latest"));
        assert!(reference_matches("f*", "localhost/foo:latest"));
        assert!(!reference_matches("bar", "localhost/foo:latest"));
        assert!(!reference_matches("foo:1", "localhost/foo:latest"));
        assert!(reference_matches(
            "busybox",
            "docker.io/library/busybox:latest"
        ));
        assert!(glob("a[0-9]c", "a5c"));
        assert!(!glob("a[!0-9]c", "a5c"));
    }
}
