//! Choosing the OCI runtime: `--runtime` (a name or a path), else the first of crun and runc
//! that works on this host. crun refuses the hybrid cgroup layout (cgroup2 mounted at
//! `/sys/fs/cgroup/unified` beside the v1 controllers), so on such hosts it is skipped and the
//! reason is kept for `info`.

use super::{Runtime, RuntimeError};
use std::path::{Path, PathBuf};

/// How the host mounts cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum CgroupLayout {
    /// cgroup v1 only.
    V1,
    /// cgroup v2 only (unified).
    V2,
    /// v1 controllers plus a cgroup2 mount at `/sys/fs/cgroup/unified`.
    Hybrid,
}

impl CgroupLayout {
    /// Podman's name for `info` (`v1` or `v2`; hybrid counts as v1).
    pub fn version(self) -> &'static str {
        match self {
            CgroupLayout::V2 => "v2",
            _ => "v1",
        }
    }
}

fn is_cgroup2(p: &Path) -> bool {
    nix::sys::statfs::statfs(p)
        .map(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        .unwrap_or(false)
}

/// The cgroup layout of this host, from the filesystem types under `/sys/fs/cgroup`.
pub fn cgroup_layout() -> CgroupLayout {
    let base = Path::new("/sys/fs/cgroup");
    if is_cgroup2(base) {
        CgroupLayout::V2
    } else if is_cgroup2(&base.join("unified")) {
        CgroupLayout::Hybrid
    } else {
        CgroupLayout::V1
    }
}

/// The chosen runtime and why it was chosen.
#[derive(Debug, Clone)]
pub struct RuntimeChoice {
    pub runtime: Runtime,
    /// One line for `info`, e.g. why crun was skipped.
    pub reason: String,
}

/// Finds `name` in `$PATH` and the usual system directories.
fn find_binary(name: &str, extra: &[PathBuf]) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            ["/usr/local/bin", "/usr/bin", "/usr/sbin", "/bin", "/sbin"]
                .iter()
                .map(PathBuf::from),
        )
        .map(|d| d.join(name))
        .chain(extra.iter().cloned())
        .find(|p| p.is_file())
}

/// Picks the runtime: `wanted` (a name or a path, from `--runtime` or containers.conf) when
/// given; else the first of crun and runc that works here. `paths` lists known binary
/// locations per name (containers.conf `[engine.runtimes]`). The runtime keeps its state in
/// `state_root`.
pub fn select(
    wanted: Option<&str>,
    paths: &[(String, Vec<PathBuf>)],
    state_root: &Path,
) -> Result<RuntimeChoice, RuntimeError> {
    let extra = |name: &str| -> Vec<PathBuf> {
        paths
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, p)| p.iter().cloned())
            .collect()
    };
    let name_of = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "runtime".into())
    };
    if let Some(w) = wanted.filter(|w| !w.is_empty()) {
        let path = find_binary(w, &extra(w)).ok_or_else(|| {
            RuntimeError::NoRuntime(format!(
                "could not find a working binary (used for runtime {w:?})"
            ))
        })?;
        return Ok(RuntimeChoice {
            runtime: Runtime::new(&name_of(&path), path, state_root.to_path_buf()),
            reason: "chosen with --runtime or containers.conf".into(),
        });
    }
    let layout = cgroup_layout();
    let mut skipped = Vec::new();
    for name in ["crun", "runc"] {
        let Some(path) = find_binary(name, &extra(name)) else {
            skipped.push(format!("{name} is not installed"));
            continue;
        };
        if name == "crun" && layout == CgroupLayout::Hybrid {
            skipped.push(
                "crun does not support the hybrid cgroup layout of this host (cgroup2 at /sys/fs/cgroup/unified)".into(),
            );
            continue;
        }
        let reason = if skipped.is_empty() {
            format!("{name} is the first available runtime")
        } else {
            format!("{name} chosen: {}", skipped.join("; "))
        };
        return Ok(RuntimeChoice {
            runtime: Runtime::new(name, path, state_root.to_path_buf()),
            reason,
        });
    }
    Err(RuntimeError::NoRuntime(format!(
        "no usable OCI runtime found: {}",
        skipped.join("; ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_path_wins() {
        let c = select(Some("/bin/sh"), &[], Path::new("/tmp/x")).unwrap();
        assert_eq!(c.runtime.name, "sh");
        assert!(select(Some("/no/such/runtime"), &[], Path::new("/tmp/x")).is_err());
    }

    #[test]
    fn default_skips_crun_on_hybrid() {
        let Ok(c) = select(None, &[], Path::new("/tmp/x")) else {
            eprintln!("skipped: no OCI runtime installed");
            return;
        };
        if cgroup_layout() == CgroupLayout::Hybrid {
            assert_eq!(c.runtime.name, "runc");
            assert!(c.reason.contains("hybrid"), "{}", c.reason);
        }
    }
}
