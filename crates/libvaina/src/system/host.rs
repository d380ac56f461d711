//! Host probing for `info`: architecture, kernel, distribution, memory, swap, uptime, CPU
//! use, cgroup layout, file system of the store, and a first choice of OCI runtime.
//!
//! Each probe is cheap (a few reads under /proc, /sys and /etc) and never fails the report:
//! what cannot be read is reported empty or zero.

use serde::Serialize;
use std::path::{Path, PathBuf};

/// The architecture in Go's (and so Podman's and OCI's) naming: `amd64`, `arm64`, ...
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// The cgroup layout of the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    /// v1 controllers (also the hybrid layout: v1 controllers plus a v2 mount at `unified`).
    V1,
    /// The unified v2 hierarchy at /sys/fs/cgroup.
    V2,
}

impl CgroupVersion {
    /// `v1` or `v2`, as `info` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            CgroupVersion::V1 => "v1",
            CgroupVersion::V2 => "v2",
        }
    }
}

const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// The file system magic number (its C type differs between architectures).
#[allow(clippy::unnecessary_cast)]
fn fs_magic(s: &nix::sys::statfs::Statfs) -> i64 {
    s.filesystem_type().0 as i64
}

/// Detects the cgroup layout: v2 only when /sys/fs/cgroup itself is a cgroup2 mount.
pub fn cgroup_version() -> CgroupVersion {
    match nix::sys::statfs::statfs("/sys/fs/cgroup") {
        Ok(s) if fs_magic(&s) == CGROUP2_SUPER_MAGIC => CgroupVersion::V2,
        _ => CgroupVersion::V1,
    }
}

/// The cgroup controllers available: v2 from `cgroup.controllers`, v1 the enabled and
/// mounted ones of /proc/cgroups, in that file's order.
pub fn cgroup_controllers(version: CgroupVersion) -> Vec<String> {
    match version {
        CgroupVersion::V2 => std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
            .unwrap_or_default()
            .split_whitespace()
            .map(String::from)
            .collect(),
        CgroupVersion::V1 => {
            parse_proc_cgroups(&std::fs::read_to_string("/proc/cgroups").unwrap_or_default())
        }
    }
}

fn parse_proc_cgroups(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4 && f[1] != "0" && f[3] == "1").then(|| f[0].to_string())
        })
        .collect()
}

/// `uname -r`.
pub fn kernel_release() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The host name.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The distribution, from /etc/os-release.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Distribution {
    pub distribution: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub variant: String,
    pub version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub codename: String,
}

/// Reads /etc/os-release (or /usr/lib/os-release).
pub fn distribution() -> Distribution {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    parse_os_release(&text)
}

fn parse_os_release(text: &str) -> Distribution {
    let mut d = Distribution::default();
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').trim_matches('\'').to_string();
        match k.trim() {
            "ID" => d.distribution = v,
            "VARIANT_ID" => d.variant = v,
            "VERSION_ID" => d.version = v,
            "VERSION_CODENAME" => d.codename = v,
            _ => {}
        }
    }
    d
}

/// Memory figures from /proc/meminfo, in bytes: (MemTotal, MemFree, SwapTotal, SwapFree).
pub fn memory() -> (u64, u64, u64, u64) {
    parse_meminfo(&std::fs::read_to_string("/proc/meminfo").unwrap_or_default())
}

fn parse_meminfo(text: &str) -> (u64, u64, u64, u64) {
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or(0)
    };
    (
        get("MemTotal"),
        get("MemFree"),
        get("SwapTotal"),
        get("SwapFree"),
    )
}

/// Uptime as Podman prints it: `1h 2m 3.00s`.
pub fn uptime() -> String {
    let secs: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    format_uptime(secs)
}

fn format_uptime(secs: f64) -> String {
    let whole = secs.floor() as u64;
    let h = whole / 3600;
    let m = (whole % 3600) / 60;
    let s = (whole % 60) as f64;
    format!("{h}h {m}m {s:.2}s")
}

/// CPU use since boot, in percent (user, system, idle), from /proc/stat.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CpuUtilization {
    pub user_percent: f64,
    pub system_percent: f64,
    pub idle_percent: f64,
}

/// Reads /proc/stat.
pub fn cpu_utilization() -> CpuUtilization {
    parse_proc_stat(&std::fs::read_to_string("/proc/stat").unwrap_or_default())
}

fn parse_proc_stat(text: &str) -> CpuUtilization {
    let Some(line) = text.lines().find(|l| l.starts_with("cpu ")) else {
        return CpuUtilization::default();
    };
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: f64 = v.iter().sum();
    if v.len() < 4 || total <= 0.0 {
        return CpuUtilization::default();
    }
    let pct = |x: f64| (x / total * 10000.0).round() / 100.0;
    CpuUtilization {
        user_percent: pct(v[0] + v[1]),
        system_percent: pct(v[2]),
        idle_percent: pct(v[3]),
    }
}

/// The number of online CPUs.
pub fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Size and use of the file system holding `path` (bytes allocated, bytes used), and its
/// type name as Podman's graphStatus reports it.
pub fn filesystem(path: &Path) -> (u64, u64, String) {
    let mut p = path.to_path_buf();
    while !p.exists() {
        if !p.pop() {
            break;
        }
    }
    let (total, used) = match nix::sys::statvfs::statvfs(&p) {
        Ok(s) => {
            let f = s.fragment_size();
            let total = s.blocks() * f;
            (total, total.saturating_sub(s.blocks_free() * f))
        }
        Err(_) => (0, 0),
    };
    let kind = match nix::sys::statfs::statfs(&p) {
        Ok(s) => fs_type_name(fs_magic(&s)),
        Err(_) => String::new(),
    };
    (total, used, kind)
}

fn fs_type_name(magic: i64) -> String {
    match magic {
        0xef53 => "extfs".into(),
        0x5846_5342 => "xfs".into(),
        0x9123_683e => "btrfs".into(),
        0x0102_1994 => "tmpfs".into(),
        0x794c_7630 => "overlayfs".into(),
        0x2fc1_2fc1 => "zfs".into(),
        0x6573_5546 => "fuse".into(),
        other => format!("<unknown ({other:#x})>"),
    }
}

/// An OCI runtime binary as `info` reports it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OciRuntimeInfo {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub package: String,
    pub path: String,
    pub version: String,
    /// Why this runtime was chosen (vaina's addition: e.g. crun skipped on hybrid cgroups).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// Describes the runtime binary at `path` for `info`: its version is what `--version` prints.
pub fn oci_runtime_info(name: &str, path: &Path, reason: &str) -> OciRuntimeInfo {
    let version = std::process::Command::new(path)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim_end().to_string())
        .unwrap_or_default();
    OciRuntimeInfo {
        name: name.to_string(),
        package: String::new(),
        path: path.display().to_string(),
        version,
        reason: reason.to_string(),
    }
}

/// The first executable `name` on $PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers() {
        let c = parse_proc_cgroups(
            "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t3\t1\nnet_cls\t0\t2\t1\nmemory\t4\t68\t1\nrdma\t5\t1\t0\n",
        );
        assert_eq!(c, ["cpuset", "memory"]);
        let d = parse_os_release("ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n");
        assert_eq!(
            (
                d.distribution.as_str(),
                d.version.as_str(),
                d.codename.as_str()
            ),
            ("debian", "12", "bookworm")
        );
        assert_eq!(
            parse_meminfo("MemTotal:  100 kB\nMemFree: 50 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n"),
            (102400, 51200, 0, 0)
        );
        assert_eq!(format_uptime(3723.5), "1h 2m 3.00s");
        let u = parse_proc_stat("cpu  10 0 10 80 0 0 0 0 0 0\ncpu0 1 2 3 4\n");
        assert_eq!(
            (u.user_percent, u.system_percent, u.idle_percent),
            (10.0, 10.0, 80.0)
        );
    }

    #[test]
    fn probes_do_not_fail() {
        assert!(!kernel_release().is_empty());
        assert!(cpus() >= 1);
        let (total, _, kind) = filesystem(Path::new("/tmp/does/not/exist"));
        assert!(total > 0);
        assert!(!kind.is_empty());
        let _ = cgroup_controllers(cgroup_version());
    }
}
