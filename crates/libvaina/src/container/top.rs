//! `top`: the processes of a running container. Podman's AIX-style descriptors (`pid`,
//! `user`, `args`, `etime`, `comm`, ...) are computed from `/proc` of the container's
//! processes (PIDs as seen inside the container); anything else is handed to the host's
//! `ps(1)` restricted to the container's PIDs.

use super::record::ContainerState;
use super::ContainerError;
use crate::{Engine, Result};

/// Podman's descriptors and their headers.
pub const DESCRIPTORS: &[(&str, &str)] = &[
    ("args", "COMMAND"),
    ("capamb", "AMBIENT CAPS"),
    ("capbnd", "BOUNDING CAPS"),
    ("capeff", "EFFECTIVE CAPS"),
    ("capinh", "INHERITED CAPS"),
    ("capprm", "PERMITTED CAPS"),
    ("comm", "COMMAND"),
    ("etime", "ELAPSED"),
    ("group", "GROUP"),
    ("hgroup", "HGROUP"),
    ("hpid", "HPID"),
    ("huser", "HUSER"),
    ("label", "LABEL"),
    ("nice", "NI"),
    ("pcpu", "%CPU"),
    ("pgid", "PGID"),
    ("pid", "PID"),
    ("ppid", "PPID"),
    ("rgroup", "RGROUP"),
    ("rss", "RSS"),
    ("ruser", "RUSER"),
    ("seccomp", "SECCOMP"),
    ("state", "STATE"),
    ("stime", "STIME"),
    ("time", "TIME"),
    ("tty", "TTY"),
    ("user", "USER"),
    ("vsz", "VSZ"),
];

/// Podman's default descriptors.
pub const DEFAULT: &[&str] = &[
    "user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args",
];

struct Proc {
    hpid: i32,
    status: std::collections::HashMap<String, String>,
    stat: Vec<String>,
    cmdline: Vec<String>,
}

fn read_proc(pid: i32) -> Option<Proc> {
    let base = format!("/proc/{pid}");
    let status = std::fs::read_to_string(format!("{base}/status")).ok()?;
    let status = status
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect();
    let stat = std::fs::read_to_string(format!("{base}/stat")).ok()?;
    // comm may contain spaces: split after the closing parenthesis.
    let close = stat.rfind(')')?;
    let mut fields = vec![
        stat[..stat.find('(')?].trim().to_string(),
        stat[stat.find('(')? + 1..close].to_string(),
    ];
    fields.extend(stat[close + 1..].split_whitespace().map(str::to_string));
    let cmdline = std::fs::read(format!("{base}/cmdline")).unwrap_or_default();
    let cmdline = cmdline
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    Some(Proc {
        hpid: pid,
        status,
        stat: fields,
        cmdline,
    })
}

fn name_for(file: &str, id: &str) -> String {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find(|l| l.split(':').nth(2) == Some(id))
        .and_then(|l| l.split(':').next().map(str::to_string))
        .unwrap_or_else(|| id.to_string())
}

/// Go's `time.Duration.String()` for a number of seconds (`1.5s`, `2m3s`, `1h0m0s`, `0s`).
pub fn go_duration(secs: f64) -> String {
    let nanos = (secs * 1e9).round() as u64;
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000_000_000 {
        let (unit, div) = if nanos < 1_000 {
            ("ns", 1.0)
        } else if nanos < 1_000_000 {
            ("µs", 1e3)
        } else {
            ("ms", 1e6)
        };
        return format!("{}{unit}", trim(nanos as f64 / div));
    }
    let h = nanos / 3_600_000_000_000;
    let m = nanos / 60_000_000_000 % 60;
    let s = (nanos % 60_000_000_000) as f64 / 1e9;
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{}s", trim(s)));
    out
}

fn trim(v: f64) -> String {
    let t = format!("{v:.9}");
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn field(p: &Proc, d: &str, rootfs: &std::path::Path, boot: f64, now: f64) -> String {
    let tick = 100.0;
    let stat = |i: usize| p.stat.get(i).cloned().unwrap_or_default();
    let st = |k: &str| p.status.get(k).cloned().unwrap_or_default();
    let ns_pid = |k: &str| st(k).split_whitespace().last().unwrap_or("0").to_string();
    let start = stat(21).parse::<f64>().unwrap_or(0.0) / tick + boot;
    let cpu =
        (stat(13).parse::<f64>().unwrap_or(0.0) + stat(14).parse::<f64>().unwrap_or(0.0)) / tick;
    let first = |k: &str| st(k).split_whitespace().next().unwrap_or("0").to_string();
    let etc = |f: &str| rootfs.join("etc").join(f).to_string_lossy().into_owned();
    match d {
        "pid" => ns_pid("NSpid"),
        "hpid" => p.hpid.to_string(),
        "ppid" => {
            let pp = stat(3);
            // PPID inside the container: the parent's NSpid, 0 for the container's init.
            if ns_pid("NSpid") == "1" {
                "0".into()
            } else {
                read_proc(pp.parse().unwrap_or(0))
                    .map(|q| {
                        q.status
                            .get("NSpid")
                            .and_then(|v| v.split_whitespace().last().map(str::to_string))
                            .unwrap_or(pp.clone())
                    })
                    .unwrap_or(pp)
            }
        }
        "pgid" => stat(4),
        "user" => name_for(
            &etc("passwd"),
            st("Uid").split_whitespace().nth(1).unwrap_or("0"),
        ),
        "ruser" => name_for(&etc("passwd"), &first("Uid")),
        "group" => name_for(
            &etc("group"),
            st("Gid").split_whitespace().nth(1).unwrap_or("0"),
        ),
        "rgroup" => name_for(&etc("group"), &first("Gid")),
        "huser" => name_for(
            "/etc/passwd",
            st("Uid").split_whitespace().nth(1).unwrap_or("0"),
        ),
        "hgroup" => name_for(
            "/etc/group",
            st("Gid").split_whitespace().nth(1).unwrap_or("0"),
        ),
        "args" => {
            if p.cmdline.is_empty() {
                format!("[{}]", stat(1))
            } else {
                p.cmdline.join(" ")
            }
        }
        "comm" => stat(1),
        "etime" => go_duration((now - start).max(0.0)),
        "time" => go_duration(cpu.floor()),
        "pcpu" => {
            let el = (now - start).max(0.001);
            format!("{:.3}", cpu / el * 100.0)
        }
        "tty" => {
            let n = stat(6).parse::<u32>().unwrap_or(0);
            if n == 0 {
                "?".into()
            } else {
                format!("pts/{}", n & 0xff)
            }
        }
        "nice" => stat(18),
        "state" => stat(2),
        "vsz" => (stat(22).parse::<u64>().unwrap_or(0) / 1024).to_string(),
        // Resident size in KiB (VmRSS), as psgo reports it.
        "rss" => first("VmRSS"),
        // No SELinux or AppArmor labels here: psgo prints "?" then.
        "label" => "?".into(),
        "stime" => chrono::DateTime::from_timestamp(start as i64, 0)
            .map(|t| {
                // Go's time.Time text: the zone's abbreviation, which for UTC is "UTC".
                let t = t.with_timezone(&chrono::Local);
                let zone = match t.offset().local_minus_utc() {
                    0 => "UTC".to_string(),
                    _ => t.format("%Z").to_string(),
                };
                format!("{} {zone}", t.format("%Y-%m-%d %H:%M:%S %z"))
            })
            .unwrap_or_default(),
        "seccomp" => match st("Seccomp").as_str() {
            "0" => "disabled".into(),
            "1" => "strict".into(),
            "2" => "filter".into(),
            s => s.to_string(),
        },
        "capamb" | "capbnd" | "capeff" | "capinh" | "capprm" => {
            let key = match d {
                "capamb" => "CapAmb",
                "capbnd" => "CapBnd",
                "capeff" => "CapEff",
                "capinh" => "CapInh",
                _ => "CapPrm",
            };
            let v = u64::from_str_radix(&st(key), 16).unwrap_or(0);
            if v == 0 {
                "none".into()
            } else {
                caps_text(v)
            }
        }
        _ => String::new(),
    }
}

fn caps_text(mask: u64) -> String {
    // Sorted by name, as psgo prints them.
    let mut names: Vec<String> = (0..64)
        .filter(|b| mask & (1 << b) != 0)
        .map(|b| {
            crate::container::spec::security::ALL_CAPABILITIES
                .get(b)
                .map_or_else(|| format!("CAP_{b}"), |n| n.to_string())
        })
        .collect();
    names.sort();
    names.join(",")
}

impl Engine {
    /// Host PIDs of a running container's processes.
    pub fn container_pids(&self, name_or_id: &str) -> Result<Vec<i32>> {
        let rec = self.lookup_container(name_or_id)?;
        if !matches!(rec.state, ContainerState::Running | ContainerState::Paused) {
            return Err(ContainerError::StateImproper(
                "top can only be used on running containers".to_string(),
            )
            .into());
        }
        let paths = self.container_paths(&rec.id);
        let rt = paths.runtime(&self.runtime_for(&rec.config)?);
        let out = rt
            .command(&["ps", "--format", "json", &rec.id])
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| crate::Error::io(&rt.path, e))?;
        if !out.status.success() {
            return Err(rt.failure(&String::from_utf8_lossy(&out.stderr)).into());
        }
        let mut pids: Vec<i32> = serde_json::from_slice(&out.stdout).unwrap_or_default();
        pids.sort();
        Ok(pids)
    }

    /// `top` with Podman descriptors: a header row then one row per process.
    pub fn top_descriptors(
        &self,
        name_or_id: &str,
        descriptors: &[String],
    ) -> Result<Vec<Vec<String>>> {
        let rec = self.lookup_container(name_or_id)?;
        let pids = self.container_pids(&rec.id)?;
        let rootfs = self.container_paths(&rec.id).merged();
        let boot = boot_time();
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) as f64 / 1e9;
        let mut rows = vec![descriptors
            .iter()
            .map(|d| {
                DESCRIPTORS
                    .iter()
                    .find(|(n, _)| n == d)
                    .map(|(_, h)| h.to_string())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()];
        for pid in pids {
            if let Some(p) = read_proc(pid) {
                rows.push(
                    descriptors
                        .iter()
                        .map(|d| field(&p, d, &rootfs, boot, now))
                        .collect(),
                );
            }
        }
        Ok(rows)
    }
}

/// Whether every word is a Podman descriptor.
pub fn all_descriptors(words: &[String]) -> bool {
    words
        .iter()
        .all(|w| DESCRIPTORS.iter().any(|(n, _)| n == w))
}

fn boot_time() -> f64 {
    std::fs::read_to_string("/proc/stat")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_and_caps() {
        assert!(all_descriptors(&["pid".into(), "args".into()]));
        assert!(!all_descriptors(&["-ef".into()]));
        assert_eq!(caps_text(0b101), "CHOWN,DAC_READ_SEARCH");
        assert_eq!(go_duration(1.5), "1.5s");
        assert_eq!(go_duration(0.0), "0s");
        assert_eq!(go_duration(125.0), "2m5s");
        assert_eq!(go_duration(3600.0), "1h0m0s");
        assert_eq!(go_duration(0.25), "250ms");
    }
}
