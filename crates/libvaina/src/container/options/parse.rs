//! Parsers for the values of `create`/`run` flags, with Podman's error messages: sizes,
//! ulimits, devices, namespace modes, `--security-opt`, sysctls, signals, restart and pull
//! policies, env files and `-e` values.
//!
//! Each returns [`Error::InvalidArgument`] with the one-line message the CLI prints; nothing
//! here touches the host except [`env_file`] (reads the file) and [`env_value`] (reads the
//! calling process's environment).

use super::{DeviceMapping, NamespaceMode, PullPolicy, RestartPolicy, SeccompPolicy, Ulimit};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

/// Parses a size as Podman does (`1024`, `512k`, `64m`, `1.5g`, `2GiB`; binary units), or
/// `None` with the reason (`invalid size: 'abc'`).
pub fn size(value: &str) -> std::result::Result<u64, String> {
    let bad = || format!("invalid size: '{value}'");
    let v = value.trim();
    let digits_end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(digits_end);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') {
        return Err(bad());
    }
    let num: f64 = num.parse().map_err(|_| bad())?;
    let unit = unit.trim_start().to_ascii_lowercase();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(&unit);
    let mult: u64 = match unit {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        "p" => 1 << 50,
        _ => return Err(bad()),
    };
    let bytes = num * mult as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// `-m, --memory`, `--memory-reservation`: `invalid value for memory: invalid size: 'abc'`.
pub fn memory(what: &str, value: &str) -> Result<i64> {
    let n = size(value).map_err(|e| invalid(format!("invalid value for {what}: {e}")))?;
    i64::try_from(n)
        .map_err(|_| invalid(format!("invalid value for {what}: invalid size: '{value}'")))
}

/// `--memory-swap`: a size or `-1` (unlimited swap).
pub fn memory_swap(value: &str) -> Result<i64> {
    if value.trim() == "-1" {
        return Ok(-1);
    }
    memory("memory-swap", value)
}

/// `--shm-size`: `unable to translate --shm-size: invalid size: 'abc'`.
pub fn shm_size(value: &str) -> Result<u64> {
    size(value).map_err(|e| invalid(format!("unable to translate --shm-size: {e}")))
}

/// Go's `strconv` message for a number flag, as Podman prints it.
fn number_flag_error(flag: &str, value: &str, func: &str) -> Error {
    invalid(format!(
        "invalid argument \"{value}\" for \"{flag}\" flag: strconv.{func}: parsing \"{value}\": invalid syntax"
    ))
}

/// An unsigned number flag (`-c, --cpu-shares`, `--cpu-period`).
pub fn uint_flag(flag: &str, value: &str) -> Result<u64> {
    value
        .parse()
        .map_err(|_| number_flag_error(flag, value, "ParseUint"))
}

/// A signed number flag (`--pids-limit`, `--cpu-quota`).
pub fn int_flag(flag: &str, value: &str) -> Result<i64> {
    value
        .parse()
        .map_err(|_| number_flag_error(flag, value, "ParseInt"))
}

/// `--cpus` as the CFS quota for a period of 100000 µs, `-1` (unlimited) for `0`. See
/// [`cpus_quota`]; `_host_cpus` is unused (Podman does not cap at the host's CPU count).
pub fn cpus(value: &str, _host_cpus: usize) -> Result<i64> {
    Ok(cpus_quota(value)?.unwrap_or(-1))
}

/// `--cpus`: a decimal number of CPUs, as the CFS quota for a period of 100000 µs; `0` means
/// no limit (`None`). Like Podman, more CPUs than the host has are accepted; a negative count
/// or a quota under 1 ms is refused.
pub fn cpus_quota(value: &str) -> Result<Option<i64>> {
    let n: f64 = value
        .parse()
        .map_err(|_| number_flag_error("--cpus", value, "ParseFloat"))?;
    if !n.is_finite() || n < 0.0 {
        return Err(invalid(format!(
            "invalid argument \"{value}\" for \"--cpus\" flag: the number of CPUs must be a positive number"
        )));
    }
    if n == 0.0 {
        return Ok(None);
    }
    let quota = (n * 100_000.0).round() as i64;
    if quota < 1000 {
        return Err(invalid("CPU cfs quota cannot be less than 1ms (i.e. 1000)"));
    }
    Ok(Some(quota))
}

/// `--blkio-weight`: 10 to 1000 (0 means unset).
pub fn blkio_weight(value: &str) -> Result<Option<u16>> {
    let n = uint_flag("--blkio-weight", value)?;
    match n {
        0 => Ok(None),
        10..=1000 => Ok(Some(n as u16)),
        _ => Err(invalid(format!(
            "invalid --blkio-weight {n}: blkio weight must be in the range 10 to 1000"
        ))),
    }
}

/// The `--ulimit` names and their `RLIMIT_*` numbers on Linux.
pub const ULIMIT_NAMES: [(&str, u32); 16] = [
    ("as", 9),
    ("core", 4),
    ("cpu", 0),
    ("data", 2),
    ("fsize", 1),
    ("locks", 10),
    ("memlock", 8),
    ("msgqueue", 12),
    ("nice", 13),
    ("nofile", 7),
    ("nproc", 6),
    ("rss", 5),
    ("rtprio", 14),
    ("rttime", 15),
    ("sigpending", 11),
    ("stack", 3),
];

/// `--ulimit name=soft[:hard]` (`-1` = unlimited); Podman's messages.
pub fn ulimit(value: &str) -> Result<Ulimit> {
    let fail = |why: String| {
        invalid(format!(
            "ulimit option \"{value}\" requires name=SOFT:HARD, failed to be parsed: {why}"
        ))
    };
    let (name, limits) = value
        .split_once('=')
        .ok_or_else(|| fail(format!("invalid ulimit argument: {value}")))?;
    let name = name.trim().to_ascii_lowercase();
    let name = name.strip_prefix("rlimit_").unwrap_or(&name).to_string();
    if !ULIMIT_NAMES.iter().any(|(n, _)| *n == name) {
        return Err(fail(format!("invalid ulimit type: {name}")));
    }
    let num = |s: &str| -> std::result::Result<u64, String> {
        if s == "-1" {
            return Ok(u64::MAX);
        }
        s.parse::<u64>()
            .map_err(|_| format!("strconv.ParseInt: parsing \"{s}\": invalid syntax"))
    };
    let (soft, hard) = match limits.split_once(':') {
        Some((s, h)) => (num(s).map_err(fail)?, num(h).map_err(fail)?),
        None => {
            let v = num(limits).map_err(fail)?;
            (v, v)
        }
    };
    if soft > hard {
        return Err(fail(format!(
            "ulimit soft limit must be less than or equal to hard limit: {} > {}",
            show_limit(soft),
            show_limit(hard)
        )));
    }
    Ok(Ulimit { name, soft, hard })
}

/// A limit as `--ulimit` writes it (`-1` for unlimited).
pub fn show_limit(v: u64) -> String {
    if v == u64::MAX {
        "-1".into()
    } else {
        v.to_string()
    }
}

/// `--device HOST[:CONTAINER][:PERMS]`.
pub fn device(value: &str) -> Result<DeviceMapping> {
    let parts: Vec<&str> = value.split(':').collect();
    let is_mode = |s: &str| !s.is_empty() && s.chars().all(|c| matches!(c, 'r' | 'w' | 'm'));
    let (host, container, perms) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, m] if is_mode(m) => (*h, *h, *m),
        [h, c] => (*h, *c, "rwm"),
        [h, c, m] => (*h, *c, *m),
        _ => return Err(invalid(format!("invalid device specification: {value}"))),
    };
    if !is_mode(perms) {
        return Err(invalid(format!("invalid device mode: {perms}")));
    }
    for p in [host, container] {
        if !p.starts_with('/') {
            return Err(invalid(format!("{p} is not an absolute path")));
        }
    }
    Ok(DeviceMapping {
        host: PathBuf::from(host),
        container: PathBuf::from(container),
        permissions: perms.to_string(),
    })
}

/// `--ipc`: `shareable` (the default), `private`, `none`, `host`, `container:NAME`, `ns:PATH`.
pub fn ipc_namespace(value: &str) -> Result<NamespaceMode> {
    match value {
        "" | "shareable" => Ok(NamespaceMode::Shareable),
        "none" => Ok(NamespaceMode::None),
        v => namespace(v),
    }
}

/// `--pid`, `--ipc`, `--uts`: `host`, `private`, `container:NAME`, `ns:PATH` (empty = private).
pub fn namespace(value: &str) -> Result<NamespaceMode> {
    match value {
        "" | "private" => Ok(NamespaceMode::Private),
        "host" => Ok(NamespaceMode::Host),
        _ => {
            if let Some(c) = value.strip_prefix("container:").filter(|c| !c.is_empty()) {
                Ok(NamespaceMode::Container(c.to_string()))
            } else if let Some(p) = value.strip_prefix("ns:").filter(|p| p.starts_with('/')) {
                Ok(NamespaceMode::Path(PathBuf::from(p)))
            } else {
                Err(invalid(format!(
                    "unrecognized namespace mode {value} passed"
                )))
            }
        }
    }
}

/// `--network`: `none`, `host`, `container:NAME`, `ns:PATH`; `bridge`, `private`, `default` and
/// network names mean the default private network (set up by the networking code).
pub fn network(value: &str) -> Result<NamespaceMode> {
    match value {
        "none" => Ok(NamespaceMode::None),
        "" | "private" | "bridge" | "default" => Ok(NamespaceMode::Private),
        v if v.starts_with("container:") || v.starts_with("ns:") || v == "host" => namespace(v),
        v if v.starts_with("slirp4netns") || v.starts_with("pasta") => Ok(NamespaceMode::Private),
        _ => Ok(NamespaceMode::Private),
    }
}

/// What one `--security-opt` value changes.
#[derive(Debug, Clone, PartialEq)]
pub enum SecurityOpt {
    Seccomp(SeccompPolicy),
    NoNewPrivileges(bool),
    LabelDisable,
    /// Other `label=` values and `apparmor=`: accepted, no effect on this host.
    Ignored,
    Mask(Vec<String>),
    Unmask(Vec<String>),
}

/// One `--security-opt` value (Podman's `invalid --security-opt N: "..."` on garbage).
pub fn security_opt(value: &str) -> Result<SecurityOpt> {
    let bad = |n: usize| invalid(format!("invalid --security-opt {n}: {value:?}"));
    if value == "no-new-privileges" {
        return Ok(SecurityOpt::NoNewPrivileges(true));
    }
    let (key, val) = value.split_once(['=', ':']).ok_or_else(|| bad(1))?;
    let paths = |v: &str| -> Result<Vec<String>> {
        let v: Vec<String> = v
            .split(':')
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect();
        if v.is_empty() || v.iter().any(|p| p != "ALL" && !p.starts_with('/')) {
            return Err(bad(2));
        }
        Ok(v)
    };
    match key {
        "seccomp" => Ok(SecurityOpt::Seccomp(match val {
            "unconfined" => SeccompPolicy::Unconfined,
            "" => return Err(bad(2)),
            p => SeccompPolicy::Profile(PathBuf::from(p)),
        })),
        "no-new-privileges" => match val {
            "true" => Ok(SecurityOpt::NoNewPrivileges(true)),
            "false" => Ok(SecurityOpt::NoNewPrivileges(false)),
            _ => Err(bad(2)),
        },
        "label" if val == "disable" => Ok(SecurityOpt::LabelDisable),
        "label" | "apparmor" | "proc-opts" => Ok(SecurityOpt::Ignored),
        "mask" => Ok(SecurityOpt::Mask(paths(val)?)),
        "unmask" => Ok(SecurityOpt::Unmask(paths(val)?)),
        _ => Err(bad(2)),
    }
}

/// `--sysctl KEY=VALUE` (only the syntax; the namespace rules are checked in the spec).
pub fn sysctl(value: &str) -> Result<(String, String)> {
    match value.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(invalid(format!(
            "{value} is invalid, sysctl values must be in the form of KEY=VALUE"
        ))),
    }
}

/// `--stop-signal`: a name (`TERM`, `SIGTERM`, `sigterm`) or number, as its number.
pub fn signal(value: &str) -> Result<i32> {
    let bad = || invalid(format!("invalid signal: {value}"));
    if let Ok(n) = value.parse::<i32>() {
        return if (1..=64).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        };
    }
    let upper = value.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<nix::sys::signal::Signal>()
        .map(|s| s as i32)
        .map_err(|_| bad())
}

/// `--restart no|on-failure[:N]|always|unless-stopped`.
pub fn restart(value: &str) -> Result<RestartPolicy> {
    let bad = || {
        invalid(format!(
            "running container create option: {value:?} is not a valid restart policy: invalid argument"
        ))
    };
    let (name, count) = match value.split_once(':') {
        Some((n, c)) => (n, Some(c)),
        None => (value, None),
    };
    let policy = match name {
        "" | "no" => RestartPolicy::No,
        "always" => RestartPolicy::Always,
        "unless-stopped" => RestartPolicy::UnlessStopped,
        "on-failure" => {
            let max_retries = match count {
                None => 0,
                Some(c) => c.parse::<u32>().map_err(|_| {
                    invalid(format!(
                        "restart count must be a positive integer: {value:?}: invalid argument"
                    ))
                })?,
            };
            return Ok(RestartPolicy::OnFailure { max_retries });
        }
        _ => return Err(bad()),
    };
    if count.is_some() {
        return Err(invalid(format!(
            "restart policy {name:?} does not accept a retry count: invalid argument"
        )));
    }
    Ok(policy)
}

/// `--pull always|missing|never|newer` (`true`/`false` as always/never).
pub fn pull(value: &str) -> Result<PullPolicy> {
    match value.to_ascii_lowercase().as_str() {
        "always" | "true" => Ok(PullPolicy::Always),
        "missing" | "ifmissing" | "ifnotpresent" | "" => Ok(PullPolicy::Missing),
        "never" | "false" => Ok(PullPolicy::Never),
        "newer" | "ifnewer" => Ok(PullPolicy::Newer),
        _ => Err(invalid(format!("unsupported pull policy {value:?}"))),
    }
}

/// `--entrypoint`: a JSON array of strings, or one string (`""` clears the entrypoint).
pub fn entrypoint(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    if value.trim_start().starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Vec<String>>(value) {
            return v;
        }
    }
    vec![value.to_string()]
}

/// `KEY=VALUE` of `--label`, `--annotation`, `--log-opt` (a missing `=` gives an empty value).
pub fn key_value(value: &str) -> (String, String) {
    match value.split_once('=') {
        Some((k, v)) => (k.to_string(), v.to_string()),
        None => (value.to_string(), String::new()),
    }
}

/// One `-e` value: `NAME=VALUE`, `NAME` (from `host`, skipped when unset) or `PREFIX*` (every
/// host variable starting with PREFIX).
pub fn env_value(value: &str, host: &[(String, String)]) -> Result<Vec<(String, String)>> {
    if let Some((k, v)) = value.split_once('=') {
        if k.is_empty() {
            return Err(invalid(format!("invalid environment variable: {value:?}")));
        }
        return Ok(vec![(k.to_string(), v.to_string())]);
    }
    if value.is_empty() {
        return Err(invalid(format!("invalid environment variable: {value:?}")));
    }
    if let Some(prefix) = value.strip_suffix('*') {
        return Ok(host
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .cloned()
            .collect());
    }
    Ok(host.iter().filter(|(k, _)| k == value).cloned().collect())
}

/// Reads an `--env-file`: `NAME=VALUE` lines, `NAME` alone (from `host`), `#` comments and
/// blank lines. Garbage (an empty name, a name with blanks, bad UTF-8) is an error naming the
/// file and the line.
pub fn env_file(path: &Path, host: &[(String, String)]) -> Result<Vec<(String, String)>> {
    let fail = |why: String| {
        invalid(format!(
            "parsing env file {:?}: {why}",
            path.display().to_string()
        ))
    };
    let bytes = std::fs::read(path).map_err(|e| {
        fail(match e.raw_os_error() {
            Some(libc::EISDIR) => format!("read {}: is a directory", path.display()),
            _ => format!("open {}: {}", path.display(), io_reason(&e)),
        })
    })?;
    let mut out = Vec::new();
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = i + 1;
        let line =
            std::str::from_utf8(raw).map_err(|_| fail(format!("line {line_no}: invalid UTF-8")))?;
        let line = line.trim_start().trim_end_matches('\r');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line.split_once('=').map(|(k, _)| k).unwrap_or(line);
        if name.is_empty() || name.contains(['\0']) {
            return Err(fail(format!(
                "line {line_no}: invalid environment variable: {line:?}"
            )));
        }
        if name.chars().any(char::is_whitespace) {
            return Err(fail(format!(
                "line {line_no}: variable {name:?} contains whitespaces"
            )));
        }
        out.extend(env_value(line, host).map_err(|_| {
            fail(format!(
                "line {line_no}: invalid environment variable: {line:?}"
            ))
        })?);
    }
    Ok(out)
}

/// An I/O error's reason the way Go prints it (`no such file or directory`).
pub fn io_reason(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code)
            .desc()
            .to_ascii_lowercase(),
        None => e.to_string(),
    }
}

/// Normalises a capability name (`net_admin`, `CAP_NET_ADMIN` → `NET_ADMIN`); `ALL` stays;
/// unknown names are Podman's `"CAP_FOO": unknown capability`.
pub fn capability(value: &str) -> Result<String> {
    let upper = value.trim().to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(upper);
    }
    let name = upper.strip_prefix("CAP_").unwrap_or(&upper).to_string();
    if crate::container::spec::security::ALL_CAPABILITIES.contains(&name.as_str()) {
        Ok(name)
    } else {
        Err(invalid(format!("\"CAP_{name}\": unknown capability")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size("1024").unwrap(), 1024);
        assert_eq!(size("64m").unwrap(), 64 << 20);
        assert_eq!(size("64M").unwrap(), 64 << 20);
        assert_eq!(size("1g").unwrap(), 1 << 30);
        assert_eq!(size("2GiB").unwrap(), 2 << 30);
        assert_eq!(size("512kb").unwrap(), 512 << 10);
        assert_eq!(size("1.5k").unwrap(), 1536);
        assert_eq!(size("10b").unwrap(), 10);
        for bad in ["abc", "", "m", "1x", "-1", "1.2.3k", ".5m"] {
            assert!(size(bad).is_err(), "{bad}");
        }
        assert_eq!(
            memory("memory", "abc").unwrap_err().to_string(),
            "invalid value for memory: invalid size: 'abc'"
        );
        assert_eq!(memory_swap("-1").unwrap(), -1);
        assert_eq!(
            shm_size("x").unwrap_err().to_string(),
            "unable to translate --shm-size: invalid size: 'x'"
        );
    }

    #[test]
    fn numbers_and_cpus() {
        assert_eq!(
            uint_flag("-c, --cpu-shares", "abc").unwrap_err().to_string(),
            "invalid argument \"abc\" for \"-c, --cpu-shares\" flag: strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
        assert_eq!(int_flag("--pids-limit", "-1").unwrap(), -1);
        assert_eq!(cpus_quota("1.5").unwrap(), Some(150_000));
        assert_eq!(cpus_quota("0.01").unwrap(), Some(1000));
        assert_eq!(cpus_quota("3").unwrap(), Some(300_000));
        assert_eq!(cpus_quota("0").unwrap(), None);
        assert_eq!(
            cpus_quota("-1").unwrap_err().to_string(),
            "invalid argument \"-1\" for \"--cpus\" flag: the number of CPUs must be a positive number"
        );
        assert_eq!(
            cpus_quota("0.001").unwrap_err().to_string(),
            "CPU cfs quota cannot be less than 1ms (i.e. 1000)"
        );
        assert!(cpus_quota("x")
            .unwrap_err()
            .to_string()
            .contains("ParseFloat"));
        assert_eq!(cpus("0", 2).unwrap(), -1);
        assert_eq!(cpus("0.5", 2).unwrap(), 50_000);
        assert_eq!(blkio_weight("500").unwrap(), Some(500));
        assert_eq!(blkio_weight("0").unwrap(), None);
        assert!(blkio_weight("5").is_err());
    }

    #[test]
    fn ulimits() {
        assert_eq!(
            ulimit("nofile=100:200").unwrap(),
            Ulimit::new("nofile", 100, 200)
        );
        assert_eq!(ulimit("nproc=50").unwrap(), Ulimit::new("nproc", 50, 50));
        assert_eq!(
            ulimit("core=-1").unwrap(),
            Ulimit::new("core", u64::MAX, u64::MAX)
        );
        assert_eq!(ulimit("RLIMIT_NOFILE=1").unwrap().name, "nofile");
        assert_eq!(
            ulimit("foo=1").unwrap_err().to_string(),
            "ulimit option \"foo=1\" requires name=SOFT:HARD, failed to be parsed: invalid ulimit type: foo"
        );
        assert_eq!(
            ulimit("nofile=10:5").unwrap_err().to_string(),
            "ulimit option \"nofile=10:5\" requires name=SOFT:HARD, failed to be parsed: ulimit soft limit must be less than or equal to hard limit: 10 > 5"
        );
        assert!(ulimit("nofile").is_err());
        assert!(ulimit("nofile=a:b").is_err());
    }

    #[test]
    fn devices() {
        let d = device("/dev/fuse").unwrap();
        assert_eq!(
            (d.host.to_str(), d.container.to_str()),
            (Some("/dev/fuse"), Some("/dev/fuse"))
        );
        assert_eq!(d.permissions, "rwm");
        let d = device("/dev/null:/dev/mynull:r").unwrap();
        assert_eq!(d.container, PathBuf::from("/dev/mynull"));
        assert_eq!(d.permissions, "r");
        assert_eq!(device("/dev/null:rw").unwrap().permissions, "rw");
        assert!(device("/dev/null:/x:rwx").is_err());
        assert!(device("null").is_err());
        assert!(device("/a:/b:r:x").is_err());
    }

    #[test]
    fn namespaces() {
        assert_eq!(namespace("host").unwrap(), NamespaceMode::Host);
        assert_eq!(namespace("private").unwrap(), NamespaceMode::Private);
        assert_eq!(
            namespace("container:web").unwrap(),
            NamespaceMode::Container("web".into())
        );
        assert_eq!(
            namespace("ns:/proc/1/ns/pid").unwrap(),
            NamespaceMode::Path("/proc/1/ns/pid".into())
        );
        assert_eq!(
            namespace("foo").unwrap_err().to_string(),
            "unrecognized namespace mode foo passed"
        );
        assert!(namespace("container:").is_err());
        assert_eq!(network("none").unwrap(), NamespaceMode::None);
        assert_eq!(network("host").unwrap(), NamespaceMode::Host);
        assert_eq!(network("bridge").unwrap(), NamespaceMode::Private);
    }

    #[test]
    fn security_opts() {
        assert_eq!(
            security_opt("seccomp=unconfined").unwrap(),
            SecurityOpt::Seccomp(SeccompPolicy::Unconfined)
        );
        assert_eq!(
            security_opt("seccomp=/x.json").unwrap(),
            SecurityOpt::Seccomp(SeccompPolicy::Profile("/x.json".into()))
        );
        assert_eq!(
            security_opt("no-new-privileges").unwrap(),
            SecurityOpt::NoNewPrivileges(true)
        );
        assert_eq!(
            security_opt("no-new-privileges=false").unwrap(),
            SecurityOpt::NoNewPrivileges(false)
        );
        assert_eq!(
            security_opt("label=disable").unwrap(),
            SecurityOpt::LabelDisable
        );
        assert_eq!(
            security_opt("mask=/proc/a:/proc/b").unwrap(),
            SecurityOpt::Mask(vec!["/proc/a".into(), "/proc/b".into()])
        );
        assert_eq!(
            security_opt("unmask=ALL").unwrap(),
            SecurityOpt::Unmask(vec!["ALL".into()])
        );
        assert_eq!(
            security_opt("foo=bar").unwrap_err().to_string(),
            "invalid --security-opt 2: \"foo=bar\""
        );
        assert_eq!(
            security_opt("foo").unwrap_err().to_string(),
            "invalid --security-opt 1: \"foo\""
        );
        assert!(security_opt("mask=relative").is_err());
    }

    #[test]
    fn sysctl_signal_restart_pull() {
        assert_eq!(
            sysctl("net.ipv4.ip_forward=1").unwrap(),
            ("net.ipv4.ip_forward".into(), "1".into())
        );
        assert_eq!(
            sysctl("foo").unwrap_err().to_string(),
            "foo is invalid, sysctl values must be in the form of KEY=VALUE"
        );
        assert_eq!(signal("TERM").unwrap(), 15);
        assert_eq!(signal("SIGKILL").unwrap(), 9);
        assert_eq!(signal("sigint").unwrap(), 2);
        assert_eq!(signal("10").unwrap(), 10);
        assert_eq!(
            signal("FOO").unwrap_err().to_string(),
            "invalid signal: FOO"
        );
        assert!(signal("0").is_err());
        assert_eq!(restart("no").unwrap(), RestartPolicy::No);
        assert_eq!(restart("always").unwrap(), RestartPolicy::Always);
        assert_eq!(
            restart("on-failure:3").unwrap(),
            RestartPolicy::OnFailure { max_retries: 3 }
        );
        assert_eq!(
            restart("sometimes").unwrap_err().to_string(),
            "running container create option: \"sometimes\" is not a valid restart policy: invalid argument"
        );
        assert!(restart("on-failure:x").is_err());
        assert!(restart("always:3").is_err());
        assert_eq!(pull("never").unwrap(), PullPolicy::Never);
        assert!(pull("sometimes").is_err());
    }

    #[test]
    fn entrypoints_and_env() {
        assert_eq!(entrypoint(""), Vec::<String>::new());
        assert_eq!(entrypoint("/bin/sh"), vec!["/bin/sh"]);
        assert_eq!(entrypoint("/bin/echo a"), vec!["/bin/echo a"]);
        assert_eq!(entrypoint(r#"["/bin/echo","a"]"#), vec!["/bin/echo", "a"]);
        let host = vec![
            ("HOME".to_string(), "/root".to_string()),
            ("HOSTTYPE".to_string(), "x86".to_string()),
        ];
        assert_eq!(
            env_value("A=1", &host).unwrap(),
            vec![("A".into(), "1".into())]
        );
        assert_eq!(
            env_value("A==", &host).unwrap(),
            vec![("A".into(), "=".into())]
        );
        assert_eq!(
            env_value("HOME", &host).unwrap(),
            vec![("HOME".into(), "/root".into())]
        );
        assert!(env_value("NOPE", &host).unwrap().is_empty());
        assert_eq!(env_value("HOS*", &host).unwrap().len(), 1);
        assert_eq!(env_value("HO*", &host).unwrap().len(), 2);
        assert!(env_value("=x", &host).is_err());
    }

    #[test]
    fn env_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("env");
        std::fs::write(&f, "A=1\n# comment\n\n  B=two words\nHOME\nNOPE\nC=\r\n").unwrap();
        let host = vec![("HOME".to_string(), "/root".to_string())];
        let v = env_file(&f, &host).unwrap();
        assert_eq!(
            v,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("HOME".into(), "/root".into()),
                ("C".into(), "".into()),
            ]
        );
        std::fs::write(&f, "A=1\n=x\n").unwrap();
        let e = env_file(&f, &host).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "parsing env file {:?}: line 2: invalid environment variable: \"=x\"",
                f.display().to_string()
            )
        );
        std::fs::write(&f, "this is garbage\n").unwrap();
        let e = env_file(&f, &host).unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("whitespaces"), "{e}");
        std::fs::write(&f, b"A=\xff\xfe\n").unwrap();
        assert!(env_file(&f, &host)
            .unwrap_err()
            .to_string()
            .contains("line 1: invalid UTF-8"));
        let e = env_file(&dir.path().join("missing"), &host)
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("no such file or directory"), "{e}");
        let e = env_file(dir.path(), &host).unwrap_err().to_string();
        assert!(e.ends_with("is a directory"), "{e}");
    }

    #[test]
    fn capabilities() {
        assert_eq!(capability("net_admin").unwrap(), "NET_ADMIN");
        assert_eq!(capability("CAP_SYS_ADMIN").unwrap(), "SYS_ADMIN");
        assert_eq!(capability("all").unwrap(), "ALL");
        assert_eq!(
            capability("FOO").unwrap_err().to_string(),
            "\"CAP_FOO\": unknown capability"
        );
    }
}
