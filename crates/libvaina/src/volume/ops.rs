//! `volume create/ls/inspect/rm/prune/exists` on the [`Engine`]: records plus the
//! `<root>/volumes/<name>/_data` directories, with Podman's checks and messages.

use super::record::{self, VolumeRecord};
use super::{generate_name, valid_name, VolumeError};
use crate::container::record::now_nanos;
use crate::error::IoContext;
use crate::{Engine, Result};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// What `volume create` (or a container's first use) asks for.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// A 64-hex name is generated when `None`.
    pub name: Option<String>,
    /// `--driver`; only `local` exists.
    pub driver: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// `-o key=value` driver options.
    pub options: BTreeMap<String, String>,
    /// `--ignore`: an existing volume of that name is returned instead of an error.
    pub ignore: bool,
    /// Anonymous (for `-v /path` and image volumes).
    pub anonymous: bool,
}

/// A volume as `volume inspect` shows it (Podman's JSON field names and order).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    pub name: String,
    pub driver: String,
    pub mountpoint: PathBuf,
    pub created_at: String,
    pub labels: BTreeMap<String, String>,
    pub scope: String,
    pub options: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub anonymous: bool,
    pub mount_count: u32,
    pub needs_copy_up: bool,
    pub needs_chown: bool,
}

impl Volume {
    /// Whether the volume is backed by a mount of its own (`-o type=/device=`).
    pub fn is_mount_backed(&self) -> bool {
        self.options.contains_key("type") || self.options.contains_key("device")
    }
}

/// Local driver options Podman accepts (lower case).
const LOCAL_OPTIONS: &[&str] = &["type", "device", "o", "uid", "gid", "copy", "nocopy"];

/// Checks `-o` options and returns them with Podman's key spelling.
fn check_options(
    options: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, VolumeError> {
    let mut out = BTreeMap::new();
    for (k, v) in options {
        let key = k.to_ascii_lowercase();
        match key.as_str() {
            "size" | "inodes" => return Err(VolumeError::QuotaUnsupported),
            "noquota" => {}
            _ if LOCAL_OPTIONS.contains(&key.as_str()) => {}
            _ => return Err(VolumeError::InvalidOption(k.clone())),
        }
        if matches!(key.as_str(), "uid" | "gid") && v.parse::<u32>().is_err() {
            return Err(VolumeError::Invalid(format!(
                "cannot convert {} to integer: strconv.Atoi: parsing {v:?}: invalid syntax",
                key.to_uppercase()
            )));
        }
        let key = match key.as_str() {
            "uid" | "gid" => key.to_uppercase(),
            _ => key,
        };
        out.insert(key, v.clone());
    }
    Ok(out)
}

fn timestamp(nanos: i64) -> String {
    let t = chrono::DateTime::from_timestamp(
        nanos.div_euclid(1_000_000_000),
        nanos.rem_euclid(1_000_000_000) as u32,
    )
    .unwrap_or_default()
    .with_timezone(&chrono::Local);
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

impl Engine {
    /// `<root>/volumes`.
    pub fn volumes_dir(&self) -> PathBuf {
        self.paths.root.join("volumes")
    }

    /// The `_data` directory of a volume.
    pub fn volume_mountpoint(&self, name: &str) -> PathBuf {
        self.volumes_dir().join(name).join("_data")
    }

    pub(crate) fn volume_view(&self, r: &VolumeRecord) -> Volume {
        Volume {
            name: r.name.clone(),
            driver: r.driver.clone(),
            mountpoint: self.volume_mountpoint(&r.name),
            created_at: timestamp(r.created),
            labels: r.labels.clone(),
            scope: "local".into(),
            options: r.options.clone(),
            anonymous: r.anonymous,
            mount_count: r.mount_count,
            needs_copy_up: r.needs_copy_up,
            needs_chown: true,
        }
    }

    /// Creates a volume: validates the name, driver and options, makes its directory, then
    /// records it (so an interrupted create leaves at most an unrecorded directory).
    pub fn volume_create(&self, opts: &CreateOptions) -> Result<Volume> {
        let name = match &opts.name {
            Some(n) if !valid_name(n) => return Err(VolumeError::InvalidName(n.clone()).into()),
            Some(n) => n.clone(),
            None => generate_name(),
        };
        let driver = opts.driver.clone().unwrap_or_else(|| "local".into());
        if driver != "local" {
            return Err(VolumeError::NoPlugin { name, driver }.into());
        }
        let options = check_options(&opts.options)?;
        if let Some(existing) = record::get(self.db()?.conn(), &name)? {
            if opts.ignore {
                return Ok(self.volume_view(&existing));
            }
            return Err(VolumeError::Exists(name).into());
        }
        let dir = self.volumes_dir().join(&name);
        let data = dir.join("_data");
        std::fs::create_dir_all(&data).with_path(&data)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).with_path(&dir)?;
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).with_path(&data)?;
        let uid = options.get("UID").and_then(|v| v.parse::<u32>().ok());
        let gid = options.get("GID").and_then(|v| v.parse::<u32>().ok());
        if uid.is_some() || gid.is_some() {
            std::os::unix::fs::chown(&data, uid, gid).with_path(&data)?;
        }
        let rec = VolumeRecord {
            name: name.clone(),
            driver,
            created: now_nanos(),
            labels: opts.labels.clone(),
            options,
            anonymous: opts.anonymous,
            needs_copy_up: true,
            mount_count: 0,
        };
        match record::insert(self.db()?.conn(), &rec) {
            Ok(()) => {}
            // Created by someone else meanwhile: the directory is theirs now.
            Err(VolumeError::Exists(_)) if opts.ignore => return self.volume_inspect(&name),
            Err(e @ VolumeError::Exists(_)) => return Err(e.into()),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e.into());
            }
        }
        Ok(self.volume_view(&rec))
    }

    /// Every volume, by name.
    pub fn volume_list(&self) -> Result<Vec<Volume>> {
        Ok(record::list(self.db()?.conn())?
            .iter()
            .map(|r| self.volume_view(r))
            .collect())
    }

    /// One volume by exact name.
    pub fn volume_inspect(&self, name: &str) -> Result<Volume> {
        match record::get(self.db()?.conn(), name)? {
            Some(r) => Ok(self.volume_view(&r)),
            None => Err(VolumeError::NotFound(name.to_string()).into()),
        }
    }

    /// `volume exists`.
    pub fn volume_exists(&self, name: &str) -> Result<bool> {
        Ok(record::get(self.db()?.conn(), name)?.is_some())
    }

    /// IDs of the containers using a volume.
    pub fn volume_users(&self, name: &str) -> Result<Vec<String>> {
        Ok(record::users(self.db()?.conn(), name)?)
    }

    /// Removes a volume. In use: refused unless `force`, which removes those containers
    /// first (stopping them with `timeout`). Returns the name.
    pub fn volume_remove(
        &mut self,
        name: &str,
        force: bool,
        timeout: Option<u64>,
    ) -> Result<String> {
        let rec = record::get(self.db()?.conn(), name)?
            .ok_or_else(|| VolumeError::NotFound(name.to_string()))?;
        let users = record::users(self.db()?.conn(), name)?;
        if !users.is_empty() {
            if !force {
                return Err(VolumeError::InUse {
                    name: name.to_string(),
                    containers: users,
                }
                .into());
            }
            for id in &users {
                self.remove_container(id, true, timeout)?;
                super::attach::release_for_container(self, id, false)?;
            }
        }
        self.volume_delete(&rec.name)?;
        Ok(rec.name)
    }

    /// Deletes an unused volume's directory (unmounting a mount-backed one) and record.
    pub(crate) fn volume_delete(&self, name: &str) -> Result<()> {
        let dir = self.volumes_dir().join(name);
        super::attach::force_unmount(&dir.join("_data"), name)?;
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(crate::Error::io(&dir, e))
            }
            _ => {}
        }
        record::delete(self.db()?.conn(), name)?;
        Ok(())
    }

    /// Removes every volume no container uses and `keep` does not keep; returns the names.
    pub fn volume_prune(&mut self, keep: &dyn Fn(&Volume) -> bool) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for v in self.volume_list()? {
            if keep(&v) || !record::users(self.db()?.conn(), &v.name)?.is_empty() {
                continue;
            }
            self.volume_delete(&v.name)?;
            removed.push(v.name);
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let m = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        assert_eq!(check_options(&m("uid", "1")).unwrap(), m("UID", "1"));
        assert_eq!(
            check_options(&m("type", "tmpfs")).unwrap(),
            m("type", "tmpfs")
        );
        assert_eq!(
            check_options(&m("foo", "bar")).unwrap_err().to_string(),
            "invalid mount option foo for driver 'local': invalid argument"
        );
        assert!(matches!(
            check_options(&m("size", "1m")),
            Err(VolumeError::QuotaUnsupported)
        ));
        assert!(check_options(&m("uid", "x")).is_err());
    }
}
