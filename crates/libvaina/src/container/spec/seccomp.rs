//! The seccomp filter: a profile in the Docker/Podman JSON format (containers-common's
//! seccomp.json, or `--security-opt seccomp=PATH`) converted into the runtime spec's
//! `linux.seccomp` for this host and this container's capabilities.
//!
//! Conversion follows the format's rules: `archMap` gives the native architecture and its
//! sub-architectures; a rule applies only if its `includes` hold (every listed capability is
//! in the container's set, the native architecture is listed, the kernel is at least
//! `minKernel`) and no `excludes` match. Without an installed profile vaina uses its own
//! compact built-in filter ([`builtin`]): allow by default, refuse with EPERM the syscalls
//! that need a capability the container lacks (mount, module loading, ptrace, clock setting,
//! keyrings, namespaces, BPF, ...). It is a safety net, not a copy of the Podman profile.

use super::{HostFacts, SpecError};
use crate::container::options::{SeccompPolicy, SecurityOptions};
use crate::Result;
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArgBuilder, LinuxSeccompBuilder,
    LinuxSeccompFilterFlag, LinuxSeccompOperator, LinuxSyscall, LinuxSyscallBuilder,
};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    default_action: String,
    #[serde(default)]
    default_errno_ret: Option<u32>,
    #[serde(default)]
    arch_map: Option<Vec<ArchMap>>,
    #[serde(default)]
    architectures: Option<Vec<String>>,
    #[serde(default)]
    syscalls: Option<Vec<Rule>>,
    #[serde(default)]
    flags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchMap {
    architecture: String,
    #[serde(default)]
    sub_architectures: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default)]
    names: Option<Vec<String>>,
    #[serde(default)]
    name: Option<String>,
    action: String,
    #[serde(default)]
    errno_ret: Option<u32>,
    #[serde(default)]
    args: Option<Vec<Arg>>,
    #[serde(default)]
    includes: Option<Filter>,
    #[serde(default)]
    excludes: Option<Filter>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    #[serde(default)]
    arches: Option<Vec<String>>,
    #[serde(default)]
    caps: Option<Vec<String>>,
    #[serde(default)]
    min_kernel: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Arg {
    index: usize,
    value: u64,
    #[serde(default)]
    value_two: Option<u64>,
    op: String,
}

/// The filter for a container, or `None` (privileged, `seccomp=unconfined`).
pub fn for_container(
    sec: &SecurityOptions,
    caps: &BTreeSet<String>,
    host: &HostFacts,
) -> Result<Option<LinuxSeccomp>> {
    if sec.privileged {
        return Ok(None);
    }
    let path = match &sec.seccomp {
        SeccompPolicy::Unconfined => return Ok(None),
        SeccompPolicy::Profile(p) => Some(p.as_path()),
        SeccompPolicy::Default => host.seccomp_profile.as_deref(),
    };
    match path {
        Some(p) => Ok(Some(load(p, caps, host)?)),
        None => Ok(Some(builtin(caps)?)),
    }
}

/// Reads and converts a JSON profile.
pub fn load(path: &Path, caps: &BTreeSet<String>, host: &HostFacts) -> Result<LinuxSeccomp> {
    let text = std::fs::read(path).map_err(|e| {
        SpecError::Seccomp(format!(
            "open {}: {}",
            path.display(),
            crate::container::options::parse::io_reason(&e)
        ))
    })?;
    let profile: Profile = serde_json::from_slice(&text)
        .map_err(|e| SpecError::Seccomp(format!("decoding {}: {e}", path.display())))?;
    convert(&profile, caps, host)
        .map_err(|e| SpecError::Seccomp(format!("{}: {e}", path.display())).into())
}

fn parse_enum<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

fn native_scmp_arch(rust_arch: &str) -> &'static str {
    match rust_arch {
        "x86_64" => "SCMP_ARCH_X86_64",
        "x86" => "SCMP_ARCH_X86",
        "aarch64" => "SCMP_ARCH_AARCH64",
        "arm" => "SCMP_ARCH_ARM",
        "powerpc64" => "SCMP_ARCH_PPC64LE",
        "s390x" => "SCMP_ARCH_S390X",
        "riscv64" => "SCMP_ARCH_RISCV64",
        "mips64" => "SCMP_ARCH_MIPSEL64",
        _ => "SCMP_ARCH_NATIVE",
    }
}

fn kernel_at_least(host: (u32, u32), min: &str) -> bool {
    let mut it = min.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let want = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    host >= want
}

fn convert(
    p: &Profile,
    caps: &BTreeSet<String>,
    host: &HostFacts,
) -> std::result::Result<LinuxSeccomp, String> {
    let default_action: LinuxSeccompAction = parse_enum(&p.default_action)
        .ok_or_else(|| format!("unknown action {:?}", p.default_action))?;
    let native = native_scmp_arch(std::env::consts::ARCH);
    let arch_names: Vec<String> = match &p.arch_map {
        Some(map) if !map.is_empty() => map
            .iter()
            .filter(|m| m.architecture == native)
            .flat_map(|m| {
                std::iter::once(m.architecture.clone())
                    .chain(m.sub_architectures.clone().unwrap_or_default())
            })
            .collect(),
        _ => p.architectures.clone().unwrap_or_default(),
    };
    let architectures: Vec<Arch> = arch_names
        .iter()
        .filter(|a| host.x32_abi || a.as_str() != "SCMP_ARCH_X32")
        .filter_map(|a| parse_enum(a))
        .collect();
    let has_cap = |c: &String| caps.contains(c.strip_prefix("CAP_").unwrap_or(c));
    let mut syscalls = Vec::new();
    for r in p.syscalls.iter().flatten() {
        let inc = r.includes.as_ref();
        let exc = r.excludes.as_ref();
        if let Some(arches) = inc
            .and_then(|f| f.arches.as_ref())
            .filter(|a| !a.is_empty())
        {
            if !arches.contains(&host.arch) {
                continue;
            }
        }
        if let Some(need) = inc.and_then(|f| f.caps.as_ref()) {
            if !need.iter().all(has_cap) {
                continue;
            }
        }
        if let Some(min) = inc.and_then(|f| f.min_kernel.as_deref()) {
            if !kernel_at_least(host.kernel, min) {
                continue;
            }
        }
        if let Some(arches) = exc.and_then(|f| f.arches.as_ref()) {
            if arches.contains(&host.arch) {
                continue;
            }
        }
        if let Some(caps_ex) = exc.and_then(|f| f.caps.as_ref()) {
            if caps_ex.iter().any(has_cap) {
                continue;
            }
        }
        let mut names = r.names.clone().unwrap_or_default();
        if let Some(n) = &r.name {
            names.push(n.clone());
        }
        if names.is_empty() {
            continue;
        }
        let action: LinuxSeccompAction =
            parse_enum(&r.action).ok_or_else(|| format!("unknown action {:?}", r.action))?;
        let mut b = LinuxSyscallBuilder::default().names(names).action(action);
        if let Some(e) = r.errno_ret {
            b = b.errno_ret(e);
        }
        if let Some(args) = r.args.as_ref().filter(|a| !a.is_empty()) {
            let mut out = Vec::new();
            for a in args {
                let op: LinuxSeccompOperator =
                    parse_enum(&a.op).ok_or_else(|| format!("unknown operator {:?}", a.op))?;
                let mut ab = LinuxSeccompArgBuilder::default()
                    .index(a.index)
                    .value(a.value)
                    .op(op);
                if let Some(v2) = a.value_two {
                    ab = ab.value_two(v2);
                }
                out.push(ab.build().map_err(|e| e.to_string())?);
            }
            b = b.args(out);
        }
        syscalls.push(b.build().map_err(|e| e.to_string())?);
    }
    let mut sb = LinuxSeccompBuilder::default()
        .default_action(default_action)
        .architectures(architectures)
        .syscalls(syscalls);
    if let Some(e) = p.default_errno_ret {
        sb = sb.default_errno_ret(e);
    }
    let flags: Vec<LinuxSeccompFilterFlag> = p
        .flags
        .iter()
        .flatten()
        .filter_map(|f| parse_enum(f))
        .collect();
    if !flags.is_empty() {
        sb = sb.flags(flags);
    }
    sb.build().map_err(|e| e.to_string())
}

/// Syscalls refused (EPERM) unless the container holds the capability.
const GUARDED: &[(&str, &[&str])] = &[
    (
        "SYS_ADMIN",
        &[
            "mount",
            "umount",
            "umount2",
            "pivot_root",
            "unshare",
            "setns",
            "bpf",
            "fanotify_init",
            "lookup_dcookie",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "name_to_handle_at",
            "open_tree",
            "move_mount",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "mount_setattr",
            "syslog",
            "vm86",
            "vm86old",
            "get_mempolicy",
            "set_mempolicy",
            "mbind",
            "move_pages",
        ],
    ),
    (
        "SYS_MODULE",
        &[
            "init_module",
            "finit_module",
            "delete_module",
            "create_module",
            "query_module",
            "get_kernel_syms",
        ],
    ),
    (
        "SYS_PTRACE",
        &[
            "ptrace",
            "process_vm_readv",
            "process_vm_writev",
            "kcmp",
            "process_madvise",
        ],
    ),
    (
        "SYS_TIME",
        &[
            "settimeofday",
            "stime",
            "clock_settime",
            "clock_settime64",
            "clock_adjtime",
            "clock_adjtime64",
            "adjtimex",
        ],
    ),
    ("SYS_BOOT", &["reboot", "kexec_load", "kexec_file_load"]),
    ("SYS_PACCT", &["acct"]),
    ("SYS_RAWIO", &["ioperm", "iopl"]),
    ("SYS_TTY_CONFIG", &["vhangup"]),
    ("SYS_NICE", &["set_mempolicy_home_node"]),
    ("DAC_READ_SEARCH", &["open_by_handle_at"]),
];

/// Syscalls refused to every container (obsolete or host-wide).
const ALWAYS_REFUSED: &[&str] = &[
    "keyctl",
    "add_key",
    "request_key",
    "swapon",
    "swapoff",
    "sysfs",
    "_sysctl",
    "uselib",
    "userfaultfd",
    "ustat",
    "nfsservctl",
    "bdflush",
];

/// vaina's own filter for hosts without containers-common (see the module docs).
pub fn builtin(caps: &BTreeSet<String>) -> Result<LinuxSeccomp> {
    let mut refused: Vec<String> = ALWAYS_REFUSED.iter().map(|s| s.to_string()).collect();
    for (cap, calls) in GUARDED {
        if !caps.contains(*cap) {
            refused.extend(calls.iter().map(|s| s.to_string()));
        }
    }
    let mut rules: Vec<LinuxSyscall> = vec![LinuxSyscallBuilder::default()
        .names(refused)
        .action(LinuxSeccompAction::ScmpActErrno)
        .errno_ret(libc::EPERM as u32)
        .build()
        .map_err(SpecError::from)?];
    if !caps.contains("SYS_ADMIN") {
        // clone3 cannot be inspected by seccomp: answer ENOSYS so libc falls back to clone.
        rules.push(
            LinuxSyscallBuilder::default()
                .names(vec!["clone3".to_string()])
                .action(LinuxSeccompAction::ScmpActErrno)
                .errno_ret(libc::ENOSYS as u32)
                .build()
                .map_err(SpecError::from)?,
        );
    }
    let arch = parse_enum::<Arch>(native_scmp_arch(std::env::consts::ARCH))
        .unwrap_or(Arch::ScmpArchNative);
    Ok(LinuxSeccompBuilder::default()
        .default_action(LinuxSeccompAction::ScmpActAllow)
        .architectures(vec![arch])
        .syscalls(rules)
        .build()
        .map_err(SpecError::from)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::options::DEFAULT_CAPABILITIES;

    fn default_caps() -> BTreeSet<String> {
        DEFAULT_CAPABILITIES.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn installed_profile_converts() {
        let mut host = HostFacts::probe();
        host.x32_abi = true;
        let Some(path) = host.seccomp_profile.clone() else {
            eprintln!("skipped: containers-common's seccomp.json is not installed");
            return;
        };
        let s = load(&path, &default_caps(), &host).unwrap();
        assert_eq!(s.default_action(), LinuxSeccompAction::ScmpActErrno);
        let calls = s.syscalls().clone().unwrap();
        let allowed = |name: &str| {
            calls.iter().any(|c| {
                c.action() == LinuxSeccompAction::ScmpActAllow
                    && c.args().is_none()
                    && c.names().iter().any(|n| n == name)
            })
        };
        assert!(allowed("read") && allowed("openat") && allowed("clone"));
        // CAP_SYS_CHROOT is a default capability: chroot is allowed; CAP_SYS_ADMIN is not.
        assert!(allowed("chroot"));
        assert!(!allowed("bpf") && !allowed("perf_event_open"));
        if std::env::consts::ARCH == "x86_64" {
            assert!(allowed("arch_prctl"));
            assert!(!allowed("s390_runtime_instr"));
            assert_eq!(
                s.architectures().clone().unwrap(),
                vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
            );
            // A kernel without x32 gets no x32 rules (each architecture costs the runtime).
            let no_x32 = HostFacts {
                x32_abi: false,
                ..host.clone()
            };
            let s = load(&path, &default_caps(), &no_x32).unwrap();
            assert_eq!(
                s.architectures().clone().unwrap(),
                vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86]
            );
        }
        // With CAP_SYS_ADMIN the guarded calls open up.
        let mut caps = default_caps();
        caps.insert("SYS_ADMIN".into());
        let s = load(&path, &caps, &host).unwrap();
        assert!(s
            .syscalls()
            .iter()
            .flatten()
            .any(|c| c.action() == LinuxSeccompAction::ScmpActAllow
                && c.names().iter().any(|n| n == "bpf")));
    }

    #[test]
    fn rule_filters() {
        let json = r#"{
            "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
            "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
            "syscalls": [
                {"names": ["a"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["b"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["c"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["d"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
                {"names": ["e"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}},
                {"names": ["f"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}
            ]}"#;
        let p: Profile = serde_json::from_str(json).unwrap();
        let mut host = HostFacts::probe();
        host.arch = "amd64".into();
        let s = convert(&p, &default_caps(), &host).unwrap();
        let names: Vec<String> = s
            .syscalls()
            .iter()
            .flatten()
            .flat_map(|c| c.names().clone())
            .collect();
        assert_eq!(names, vec!["a", "c", "d", "f"]);
        assert_eq!(s.default_errno_ret(), Some(38));
        let f = s.syscalls().clone().unwrap().pop().unwrap();
        assert_eq!(
            f.args().clone().unwrap()[0].op(),
            LinuxSeccompOperator::ScmpCmpEq
        );
        let bad: Profile =
            serde_json::from_str(r#"{"defaultAction": "SCMP_ACT_WHATEVER"}"#).unwrap();
        assert!(convert(&bad, &default_caps(), &host).is_err());
    }

    #[test]
    fn builtin_refuses_what_caps_do_not_allow() {
        let s = builtin(&default_caps()).unwrap();
        let calls = s.syscalls().clone().unwrap();
        let refused: Vec<&String> = calls.iter().flat_map(|c| c.names()).collect();
        assert!(refused.iter().any(|n| *n == "mount"));
        assert!(refused.iter().any(|n| *n == "ptrace"));
        assert!(!refused.iter().any(|n| *n == "chroot"));
        let mut caps = default_caps();
        caps.insert("SYS_ADMIN".into());
        let s = builtin(&caps).unwrap();
        assert!(!s
            .syscalls()
            .iter()
            .flatten()
            .flat_map(|c| c.names())
            .any(|n| n == "mount"));
    }

    #[test]
    fn policies() {
        let host = HostFacts::probe();
        let caps = default_caps();
        let sec = SecurityOptions {
            seccomp: SeccompPolicy::Unconfined,
            ..Default::default()
        };
        assert!(for_container(&sec, &caps, &host).unwrap().is_none());
        let sec = SecurityOptions {
            privileged: true,
            ..Default::default()
        };
        assert!(for_container(&sec, &caps, &host).unwrap().is_none());
        let sec = SecurityOptions {
            seccomp: SeccompPolicy::Profile("/nonexist".into()),
            ..Default::default()
        };
        assert_eq!(
            for_container(&sec, &caps, &host).unwrap_err().to_string(),
            "opening seccomp profile failed: open /nonexist: no such file or directory"
        );
        let mut h = host.clone();
        h.seccomp_profile = None;
        let s = for_container(&SecurityOptions::default(), &caps, &h)
            .unwrap()
            .unwrap();
        assert_eq!(s.default_action(), LinuxSeccompAction::ScmpActAllow);
    }
}
