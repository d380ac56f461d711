//! The graph driver: how a container's root filesystem is made from the image's unpacked
//! layers. `overlay` mounts them as lower dirs under a per-container upper dir; `vfs` copies
//! them into a per-container directory (slower, more space, works on any filesystem).
//!
//! The choice is, in order: `--storage-driver`, the `STORAGE_DRIVER` environment variable,
//! storage.conf's `[storage] driver` (`CONTAINERS_STORAGE_CONF`, else the per-user file when
//! rootless, else `/etc/containers/storage.conf`, else `/usr/share/containers/storage.conf`).
//! Without one, overlay is tried once with a real mount under the graph root and vfs taken
//! when it fails. The driver is recorded in `<root>/storage-driver` the first time the store
//! needs it; asking for another one later is an error (Podman's "database configuration
//! mismatch"), since containers made by one driver cannot be used by the other.

use super::{StoreError, StorePaths};
use crate::config::Mode;
use std::path::{Path, PathBuf};

/// The two drivers vaina implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphDriver {
    Overlay,
    Vfs,
}

impl GraphDriver {
    /// Podman's name.
    pub fn name(self) -> &'static str {
        match self {
            GraphDriver::Overlay => "overlay",
            GraphDriver::Vfs => "vfs",
        }
    }

    /// A driver by name (`overlay2` is overlay, as in containers/storage).
    pub fn parse(name: &str, root: &Path) -> Result<Self, StoreError> {
        match name {
            "overlay" | "overlay2" => Ok(GraphDriver::Overlay),
            "vfs" => Ok(GraphDriver::Vfs),
            other => Err(StoreError::Driver(format!(
                "failed to GetDriver graph {other} {}: driver not supported",
                root.display()
            ))),
        }
    }
}

/// The file recording the store's driver.
fn record_path(paths: &StorePaths) -> PathBuf {
    paths.root.join("storage-driver")
}

/// The driver recorded for the store, if any.
pub fn recorded(paths: &StorePaths) -> Option<String> {
    std::fs::read_to_string(record_path(paths))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The driver the user asked for by flag or environment (not the config file).
pub fn explicit(flag: Option<&str>) -> Option<String> {
    flag.map(str::to_string)
        .or_else(|| std::env::var("STORAGE_DRIVER").ok())
        .filter(|s| !s.is_empty())
}

/// Refuses a driver other than the recorded one.
pub fn check_matches(paths: &StorePaths, wanted: &str) -> Result<(), StoreError> {
    match recorded(paths) {
        Some(r) if r != wanted && !(r == "overlay" && wanted == "overlay2") => {
            Err(StoreError::Driver(format!(
                "database storage graph driver {r:?} does not match our storage graph driver \
                 {wanted:?}: database configuration mismatch"
            )))
        }
        _ => Ok(()),
    }
}

/// storage.conf's `[storage] driver`, from the first file that exists.
fn configured(mode: Mode) -> Result<Option<String>, StoreError> {
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("CONTAINERS_STORAGE_CONF") {
        files.push(p.into());
    } else {
        if mode == Mode::Rootless {
            let xdg = std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")));
            if let Some(x) = xdg {
                files.push(x.join("containers/storage.conf"));
            }
        }
        files.push("/etc/containers/storage.conf".into());
        files.push("/usr/share/containers/storage.conf".into());
    }
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let v: toml::Value = toml::from_str(&text).map_err(|e| {
            StoreError::Driver(format!("decode configuration {}: {e}", f.display()))
        })?;
        return Ok(v
            .get("storage")
            .and_then(|s| s.get("driver"))
            .and_then(|d| d.as_str())
            .filter(|d| !d.is_empty())
            .map(str::to_string));
    }
    Ok(None)
}

/// Whether an overlay mount with an upper dir works under `dir` (tried for real).
pub fn overlay_works(dir: &Path) -> bool {
    let Ok(t) = tempfile::Builder::new()
        .prefix(".overlay-probe-")
        .tempdir_in(dir)
    else {
        return false;
    };
    let [l, u, w, m] = ["l", "u", "w", "m"].map(|n| t.path().join(n));
    for d in [&l, &u, &w, &m] {
        if std::fs::create_dir(d).is_err() {
            return false;
        }
    }
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        l.display(),
        u.display(),
        w.display()
    );
    let ok = nix::mount::mount(
        Some("overlay"),
        &m,
        Some("overlay"),
        nix::mount::MsFlags::empty(),
        Some(data.as_str()),
    )
    .is_ok();
    if ok {
        let _ = nix::mount::umount2(&m, nix::mount::MntFlags::MNT_DETACH);
    }
    ok
}

/// Chooses the store's driver (see the module docs) and records it.
pub fn select(
    paths: &StorePaths,
    flag: Option<&str>,
    mode: Mode,
) -> Result<GraphDriver, StoreError> {
    let wanted = match explicit(flag) {
        Some(w) => Some(w),
        None => configured(mode)?,
    };
    if let Some(w) = &wanted {
        let d = GraphDriver::parse(w, &paths.root)?;
        check_matches(paths, d.name())?;
        if recorded(paths).is_none() {
            super::write_atomic(&record_path(paths), d.name().as_bytes())?;
        }
        return Ok(d);
    }
    if let Some(r) = recorded(paths) {
        return GraphDriver::parse(&r, &paths.root);
    }
    let tmp = paths.root.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
    let d = if overlay_works(&tmp) {
        GraphDriver::Overlay
    } else {
        log::info!(
            "overlay mounts do not work under {}: using the vfs driver",
            paths.root.display()
        );
        GraphDriver::Vfs
    };
    super::write_atomic(&record_path(paths), d.name().as_bytes())?;
    Ok(d)
}
