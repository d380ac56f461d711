//! `-u user[:group]` and `--group-add`, resolved against the image's /etc/passwd and
//! /etc/group as Podman does, and the user's home directory for `HOME`.
//!
//! The files are read from the container's rootfs with every symlink resolved inside that
//! rootfs, so an image cannot make vaina read a host file.

use super::SpecError;
use crate::container::options::CreateOptions;
use crate::Result;
use oci_spec::image::ImageConfiguration;
use std::path::{Component, Path, PathBuf};

/// The user the container process runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (including the primary group, as Podman passes them).
    pub additional_gids: Vec<u32>,
    /// Home directory from /etc/passwd (`/` when the user has no entry).
    pub home: String,
}

/// One /etc/passwd entry.
struct Passwd {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

/// One /etc/group entry.
struct Group {
    name: String,
    gid: u32,
    members: Vec<String>,
}

/// Resolves `-u` (or the image's `User`) and `--group-add` for the rootfs at `rootfs`.
pub fn resolve(
    rootfs: &Path,
    image: &ImageConfiguration,
    opts: &CreateOptions,
) -> Result<ResolvedUser> {
    let spec = opts
        .user
        .clone()
        .or_else(|| image.config().as_ref().and_then(|c| c.user().clone()))
        .unwrap_or_default();
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u.to_string(), Some(g.to_string())),
        None => (spec.clone(), None),
    };
    let passwd = read_passwd(rootfs);
    let groups = read_group(rootfs);

    let entry = if user_part.is_empty() {
        passwd.iter().find(|p| p.uid == 0)
    } else if let Ok(uid) = user_part.parse::<u32>() {
        passwd.iter().find(|p| p.uid == uid)
    } else {
        Some(
            passwd
                .iter()
                .find(|p| p.name == user_part)
                .ok_or_else(|| SpecError::UserNotFound(user_part.clone()))?,
        )
    };
    let uid = match (user_part.parse::<u32>(), entry) {
        (Ok(uid), _) => uid,
        (Err(_), Some(e)) => e.uid,
        (Err(_), None) => 0,
    };
    let home = entry
        .map(|e| e.home.clone())
        .unwrap_or_else(|| if uid == 0 { "/root" } else { "/" }.to_string());

    let lookup_group = |g: &str| -> Result<u32> {
        if let Ok(gid) = g.parse::<u32>() {
            return Ok(gid);
        }
        groups
            .iter()
            .find(|e| e.name == g)
            .map(|e| e.gid)
            .ok_or_else(|| SpecError::GroupNotFound(g.to_string()).into())
    };

    // Podman's order: the primary group, then --group-add, then the memberships in
    // /etc/group. Without any -u (or image USER) and no --group-add: no list at all.
    let (gid, memberships) = match group_part.as_deref().filter(|g| !g.is_empty()) {
        Some(g) => (lookup_group(g)?, Vec::new()),
        None => {
            let gid = entry.map(|e| e.gid).unwrap_or(0);
            let member_of = entry
                .map(|e| {
                    groups
                        .iter()
                        .filter(|g| g.members.contains(&e.name))
                        .map(|g| g.gid)
                        .collect()
                })
                .unwrap_or_default();
            (gid, member_of)
        }
    };
    let mut additional = Vec::new();
    if !spec.is_empty() || !opts.group_add.is_empty() {
        additional.push(gid);
        for g in &opts.group_add {
            if g != "keep-groups" {
                additional.push(lookup_group(g)?);
            }
        }
        additional.extend(memberships);
    }
    let mut seen = std::collections::BTreeSet::new();
    additional.retain(|g| seen.insert(*g));
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids: additional,
        home,
    })
}

fn read_passwd(rootfs: &Path) -> Vec<Passwd> {
    read_in_root(rootfs, "etc/passwd")
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 || l.starts_with('#') {
                return None;
            }
            Some(Passwd {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f.get(5).map(|s| s.to_string()).unwrap_or_default(),
            })
        })
        .collect()
}

fn read_group(rootfs: &Path) -> Vec<Group> {
    read_in_root(rootfs, "etc/group")
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 3 || l.starts_with('#') {
                return None;
            }
            Some(Group {
                name: f[0].to_string(),
                gid: f[2].parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Reads `rel` inside `root` with symlinks resolved relative to `root` (never escaping it);
/// an empty string when the file does not exist or cannot be read.
pub fn read_in_root(root: &Path, rel: &str) -> String {
    resolve_in_root(root, rel)
        .and_then(|p| std::fs::read(p).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The host path of `rel` inside `root`, following symlinks as a chroot would.
pub fn resolve_in_root(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut pending: Vec<String> = components(rel);
    pending.reverse();
    let mut current: Vec<String> = Vec::new();
    let mut hops = 0;
    while let Some(c) = pending.pop() {
        if c == ".." {
            current.pop();
            continue;
        }
        let mut candidate = root.to_path_buf();
        candidate.extend(current.iter());
        candidate.push(&c);
        match std::fs::symlink_metadata(&candidate) {
            Ok(m) if m.file_type().is_symlink() => {
                hops += 1;
                if hops > 40 {
                    return None;
                }
                let target = std::fs::read_link(&candidate).ok()?;
                let target = target.to_string_lossy().to_string();
                if target.starts_with('/') {
                    current.clear();
                }
                let mut t = components(&target);
                t.reverse();
                pending.extend(t);
            }
            Ok(_) => current.push(c),
            Err(_) => return None,
        }
    }
    let mut p = root.to_path_buf();
    p.extend(current.iter());
    Some(p)
}

fn components(p: &str) -> Vec<String> {
    Path::new(p)
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rootfs() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n# c\nbroken\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("etc/group"),
            "root:x:0:\napp:x:1000:\nusers:x:100:app,other\nwheel:x:10:\n",
        )
        .unwrap();
        d
    }

    fn user(root: &Path, u: Option<&str>, add: &[&str]) -> Result<ResolvedUser> {
        let opts = CreateOptions {
            user: u.map(String::from),
            group_add: add.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        resolve(root, &ImageConfiguration::default(), &opts)
    }

    #[test]
    fn names_and_numbers() {
        let d = rootfs();
        let r = user(d.path(), None, &[]).unwrap();
        assert_eq!((r.uid, r.gid, r.home.as_str()), (0, 0, "/root"));
        assert!(r.additional_gids.is_empty());
        let r = user(d.path(), Some("app"), &[]).unwrap();
        assert_eq!((r.uid, r.gid, r.home.as_str()), (1000, 1000, "/home/app"));
        assert_eq!(r.additional_gids, vec![1000, 100]);
        let r = user(d.path(), Some("1000:users"), &[]).unwrap();
        assert_eq!((r.uid, r.gid), (1000, 100));
        assert_eq!(r.additional_gids, vec![100]);
        let r = user(d.path(), Some("4242"), &[]).unwrap();
        assert_eq!((r.uid, r.gid, r.home.as_str()), (4242, 0, "/"));
        assert_eq!(r.additional_gids, vec![0]);
        let r = user(d.path(), Some("app:7"), &["wheel", "55"]).unwrap();
        assert_eq!(r.gid, 7);
        assert_eq!(r.additional_gids, vec![7, 10, 55]);
        let r = user(d.path(), Some("app"), &["10"]).unwrap();
        assert_eq!(r.additional_gids, vec![1000, 10, 100]);
    }

    #[test]
    fn unknown_user_and_group() {
        let d = rootfs();
        let e = user(d.path(), Some("nosuchuser"), &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unable to find user nosuchuser: no matching entries in passwd file"
        );
        let e = user(d.path(), Some("app:nosuchgroup"), &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unable to find group nosuchgroup: no matching entries in group file"
        );
        assert!(user(d.path(), None, &["nogroup"]).is_err());
    }

    #[test]
    fn symlinks_stay_inside_the_rootfs() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::create_dir_all(d.path().join("real")).unwrap();
        std::fs::write(d.path().join("real/passwd"), "x:x:5:6::/h:/bin/sh\n").unwrap();
        // An absolute link resolves inside the rootfs, not on the host.
        std::os::unix::fs::symlink("/real/passwd", d.path().join("etc/passwd")).unwrap();
        let r = user(d.path(), Some("x"), &[]).unwrap();
        assert_eq!((r.uid, r.gid), (5, 6));
        std::os::unix::fs::symlink("../../../../../etc/shadow", d.path().join("etc/group"))
            .unwrap();
        assert_eq!(read_in_root(d.path(), "etc/group"), "");
        assert_eq!(
            resolve_in_root(d.path(), "etc/passwd").unwrap(),
            d.path().join("real/passwd")
        );
    }
}
