//! Facts about the host that shape a spec: resource-limit ceilings, the capability bounding
//! set, the cgroup layout, CPU count, which seccomp profile and init binary are installed.
//!
//! [`HostFacts::probe`] reads them from this process and the host; tests build a
//! [`HostFacts`] by hand so that spec generation stays a pure function.

use super::security::ALL_CAPABILITIES;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where containers-common installs the Podman seccomp profile.
pub const SECCOMP_JSON_PATHS: [&str; 2] = [
    "/usr/share/containers/seccomp.json",
    "/etc/containers/seccomp.json",
];

/// Where catatonit is looked for when `--init` has no `--init-path`.
pub const INIT_PATHS: [&str; 3] = [
    "/usr/libexec/podman/catatonit",
    "/usr/bin/catatonit",
    "/usr/local/libexec/podman/catatonit",
];

/// What spec generation needs to know about the host.
#[derive(Debug, Clone, PartialEq)]
pub struct HostFacts {
    /// Highest hard limit a container may get, per `--ulimit` name: the current process's
    /// hard limit, or (with CAP_SYS_RESOURCE) `fs.nr_open` for nofile and unlimited otherwise.
    pub rlimit_ceilings: BTreeMap<String, u64>,
    /// Capabilities in this process's bounding set (names without `CAP_`); `--privileged`
    /// and `--cap-add ALL` cannot give more.
    pub bounding_capabilities: Vec<String>,
    /// `/sys/fs/cgroup` is a cgroup2 mount (unified layout, not v1 or hybrid).
    pub cgroup_v2: bool,
    /// The cgroup v1 memory controller has swap accounting (`memory.memsw.*`), or v2.
    pub swap_accounting: bool,
    /// A block I/O weight knob exists (`blkio.weight`/`blkio.bfq.weight` or `io.weight`).
    pub blkio_weight: bool,
    /// Online CPUs.
    pub cpus: usize,
    /// The installed containers-common seccomp profile, if any.
    pub seccomp_profile: Option<PathBuf>,
    /// The first installed catatonit, if any.
    pub init_binary: Option<PathBuf>,
    /// The native architecture in Go's naming (`amd64`, `arm64`, ...), as seccomp.json uses.
    pub arch: String,
    /// Kernel version (major, minor) for seccomp `minKernel`.
    pub kernel: (u32, u32),
    /// The kernel accepts x32 system calls (x86_64 only). When it does not, the seccomp filter
    /// leaves out the x32 sub-architecture: no x32 call can reach it, and each architecture in
    /// the filter costs the runtime ~10 ms per create and exec (libseccomp compiles the rules
    /// once per architecture).
    pub x32_abi: bool,
}

impl HostFacts {
    /// Reads the facts of this host and this process.
    pub fn probe() -> Self {
        let bounding = read_cap_mask("CapBnd").unwrap_or(u64::MAX);
        let effective = read_cap_mask("CapEff").unwrap_or(0);
        let sys_resource = effective & (1 << 24) != 0;
        let nr_open = std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1_048_576);
        let mut rlimit_ceilings = BTreeMap::new();
        for (name, res) in super::rlimits::RESOURCES {
            let hard = nix::sys::resource::getrlimit(res)
                .map(|(_, h)| h)
                .unwrap_or(u64::MAX);
            let ceiling = match (sys_resource, name) {
                (true, "nofile") => nr_open,
                (true, _) => u64::MAX,
                (false, _) => hard,
            };
            rlimit_ceilings.insert(name.to_string(), ceiling);
        }
        let cgroup_v2 = is_cgroup2(Path::new("/sys/fs/cgroup"));
        let exists = |p: &str| Path::new(p).exists();
        let (swap_accounting, blkio_weight) = if cgroup_v2 {
            (
                true,
                exists("/sys/fs/cgroup/io.weight") || exists("/sys/fs/cgroup/io.bfq.weight"),
            )
        } else {
            (
                exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"),
                exists("/sys/fs/cgroup/blkio/blkio.weight")
                    || exists("/sys/fs/cgroup/blkio/blkio.bfq.weight"),
            )
        };
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|r| parse_kernel(&r))
            .unwrap_or((0, 0));
        HostFacts {
            rlimit_ceilings,
            bounding_capabilities: caps_in_mask(bounding),
            cgroup_v2,
            swap_accounting,
            blkio_weight,
            cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            seccomp_profile: SECCOMP_JSON_PATHS
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file()),
            init_binary: INIT_PATHS.iter().map(PathBuf::from).find(|p| p.is_file()),
            arch: go_arch(std::env::consts::ARCH).to_string(),
            kernel,
            x32_abi: x32_abi(),
        }
    }
}

/// Whether an x32 system call works here: a child process makes one (`getpid` with the x32
/// bit set) and reports. The kernel answers ENOSYS when it was built without x32 or booted
/// with it off; a seccomp filter around vaina that lacks x32 kills the child, and such a filter
/// also holds every container vaina starts, so x32 is unusable there too.
#[cfg(target_arch = "x86_64")]
fn x32_abi() -> bool {
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::{fork, ForkResult};
    const X32_SYSCALL_BIT: libc::c_long = 0x4000_0000;
    // SAFETY: the child only makes raw system calls and `_exit`s (async-signal-safe).
    #[allow(unsafe_code)]
    match unsafe { fork() } {
        #[allow(unsafe_code)]
        Ok(ForkResult::Child) => unsafe {
            let r = libc::syscall(X32_SYSCALL_BIT | libc::SYS_getpid);
            libc::_exit(if r > 0 { 0 } else { 1 })
        },
        Ok(ForkResult::Parent { child }) => {
            matches!(waitpid(child, None), Ok(WaitStatus::Exited(_, 0)))
        }
        // Cannot tell: keep x32 in the filter, as Podman does.
        Err(_) => true,
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn x32_abi() -> bool {
    false
}

/// The capabilities in this process's bounding set (names without `CAP_`).
pub fn bounding_capabilities() -> Vec<String> {
    caps_in_mask(read_cap_mask("CapBnd").unwrap_or(u64::MAX))
}

/// A capability mask line (`CapBnd:\t000001ff...`) of /proc/self/status.
fn read_cap_mask(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    u64::from_str_radix(line.split_whitespace().nth(1)?, 16).ok()
}

/// The names of the capabilities set in `mask` (bit N = capability number N).
pub fn caps_in_mask(mask: u64) -> Vec<String> {
    ALL_CAPABILITIES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1u64 << i) != 0)
        .map(|(_, n)| n.to_string())
        .collect()
}

fn is_cgroup2(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        .map(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        .unwrap_or(false)
}

/// `6.18.0-1-amd64` → (6, 18).
fn parse_kernel(release: &str) -> (u32, u32) {
    let mut it = release
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// Rust's architecture name → Go's (used by seccomp.json `includes.arches`).
pub fn go_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64le",
        "riscv64" => "riscv64",
        "s390x" => "s390x",
        "mips64" => "mips64le",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_reads_this_host() {
        let h = HostFacts::probe();
        assert!(h.cpus >= 1);
        assert!(h.rlimit_ceilings.contains_key("nofile"));
        assert!(h.bounding_capabilities.iter().any(|c| c == "CHOWN"));
        assert!(h.kernel.0 >= 3);
    }

    #[test]
    fn helpers() {
        assert_eq!(parse_kernel("6.18.0-1-amd64"), (6, 18));
        assert_eq!(parse_kernel("5.4"), (5, 4));
        assert_eq!(caps_in_mask(0b101), vec!["CHOWN", "DAC_READ_SEARCH"]);
        assert_eq!(go_arch("x86_64"), "amd64");
    }
}
