//! Finding an image the way Podman does: full ID (with or without `sha256:`), an exact stored
//! name, a unique ID prefix, then the name as a reference (a missing tag means `latest`; a short
//! name is tried as `localhost/<name>` and then against stored names ending in `/<name>`;
//! `name@digest` and a bare digest match the manifests an image was stored from).

use super::{name_repository, query_column, ImageError};
use crate::reference::Reference;
use crate::{Engine, Result};
use rusqlite::OptionalExtension;

fn is_hex(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Engine {
    /// The full ID of the image `name_or_id` designates.
    pub fn resolve_image_id(&self, name_or_id: &str) -> Result<String> {
        let not_found = || -> crate::Error { ImageError::NotFound(name_or_id.to_string()).into() };
        let conn = self.db()?.conn();
        let q = |sql: &str, arg: &str| -> Result<Option<String>> {
            Ok(conn
                .query_row(sql, [arg], |r| r.get::<_, String>(0))
                .optional()
                .map_err(ImageError::from)?)
        };
        let bare = name_or_id.strip_prefix("sha256:").unwrap_or(name_or_id);
        if bare.len() == 64 && is_hex(bare) {
            if let Some(id) = q("SELECT id FROM images WHERE id=?1", bare)? {
                return Ok(id);
            }
            if name_or_id.starts_with("sha256:") {
                // A bare digest may also be a manifest digest.
                if let Some(id) = q(
                    "SELECT image_id FROM image_manifests WHERE digest=?1",
                    name_or_id,
                )? {
                    return Ok(id);
                }
            }
            return Err(not_found());
        }
        if let Some(id) = q("SELECT image_id FROM image_names WHERE name=?1", name_or_id)? {
            return Ok(id);
        }
        if is_hex(bare) {
            let ids: Vec<String> = query_column(
                conn,
                "SELECT id FROM images WHERE id >= ?1 AND id < ?1 || 'g' LIMIT 2",
                [bare],
            )?;
            match ids.len() {
                1 => return Ok(ids[0].clone()),
                0 => {}
                _ => {
                    return Err(ImageError::Invalid(format!(
                        "{name_or_id}: image ID prefix is ambiguous"
                    ))
                    .into())
                }
            }
        }
        let Ok(r) = Reference::parse(name_or_id) else {
            return Err(not_found());
        };
        if let Some(d) = &r.digest {
            return first_matching(
                conn,
                "SELECT m.image_id, n.name FROM image_manifests m
                 JOIN image_names n ON n.image_id = m.image_id WHERE m.digest=?1",
                &d.to_string(),
                &r,
            )?
            .ok_or_else(not_found);
        }
        let r = r.with_default_tag();
        let tag = r.tag.clone().unwrap_or_default();
        if r.is_short() {
            let local = r.with_domain("localhost").to_string();
            if let Some(id) = q("SELECT image_id FROM image_names WHERE name=?1", &local)? {
                return Ok(id);
            }
            // Any stored name whose path ends in /<path>:<tag>.
            let suffix = format!("%/{}:{}", r.path, tag);
            if let Some(id) = first_matching(
                conn,
                "SELECT n.image_id, n.name FROM image_names n JOIN images i ON i.id=n.image_id
                 WHERE n.name LIKE ?1 ESCAPE '\\' ORDER BY i.added_ns DESC",
                &suffix.replace('_', "\\_"),
                &r,
            )? {
                return Ok(id);
            }
        } else if let Some(id) = q(
            "SELECT image_id FROM image_names WHERE name=?1",
            &r.to_string(),
        )? {
            return Ok(id);
        }
        Err(not_found())
    }
}

/// The image ID of the first `(image_id, name)` row of `sql` (one parameter, `arg`) whose
/// name's repository is what `r` names.
fn first_matching(
    conn: &rusqlite::Connection,
    sql: &str,
    arg: &str,
    r: &Reference,
) -> Result<Option<String>> {
    let mut st = conn.prepare_cached(sql).map_err(ImageError::from)?;
    let rows: Vec<(String, String)> = st
        .query_map([arg], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(ImageError::from)?
        .collect::<rusqlite::Result<_>>()
        .map_err(ImageError::from)?;
    Ok(rows
        .into_iter()
        .find(|(_, name)| repo_matches(r, name_repository(name)))
        .map(|(id, _)| id))
}

/// Whether the stored repository `repo` (`domain/path`) is what `r` names: equal when `r` has a
/// domain, else ending in `/<path>` (Docker Hub's `library/` included).
fn repo_matches(r: &Reference, repo: &str) -> bool {
    if !r.is_short() {
        return repo == r.name();
    }
    repo.ends_with(&format!("/{}", r.path))
        || repo.ends_with(&format!("/library/{}", r.path)) && r.path.find('/').is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_matches() {
        let r = Reference::parse("busybox").unwrap();
        assert!(repo_matches(&r, "docker.io/library/busybox"));
        assert!(repo_matches(&r, "quay.io/busybox"));
        assert!(!repo_matches(&r, "quay.io/xbusybox"));
        let r = Reference::parse("quay.io/busybox").unwrap();
        assert!(!repo_matches(&r, "docker.io/library/busybox"));
    }
}
