//! `stats` and `update`: resource usage read from the container's cgroup (v1 controllers,
//! hybrid or v2), and new resource limits applied through `runtime update` and kept in the
//! bundle so a restart keeps them.

use super::options::Resources;
use super::record::ContainerState;
use super::ContainerError;
use crate::error::IoContext;
use crate::runtime::{cgroup_layout, CgroupLayout};
use crate::{Engine, Result};
use std::path::{Path, PathBuf};

/// One sample of a container's usage.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StatsSample {
    pub id: String,
    pub name: String,
    /// CPU time used, nanoseconds.
    pub cpu_nanos: u64,
    /// Seconds since the container started.
    pub uptime_secs: f64,
    pub mem_usage: u64,
    pub mem_limit: u64,
    pub pids: u64,
    pub block_read: u64,
    pub block_write: u64,
    /// Bytes received and sent on the container's own network interfaces (not `lo`); zero
    /// when it shares the host's network namespace, as Podman shows.
    pub net_input: u64,
    pub net_output: u64,
}

/// Received and sent bytes over every interface but `lo` in a `/proc/PID/net/dev` text.
fn net_dev_totals(text: &str) -> (u64, u64) {
    let mut rx = 0u64;
    let mut tx = 0u64;
    for line in text.lines().skip(2) {
        let Some((name, counters)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let v: Vec<u64> = counters
            .split_whitespace()
            .map(|c| c.parse().unwrap_or(0))
            .collect();
        // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit.
        if v.len() >= 9 {
            rx += v[0];
            tx += v[8];
        }
    }
    (rx, tx)
}

fn read_u64(p: &Path) -> Option<u64> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

fn host_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The container's cgroup path from its bundle (`linux.cgroupsPath`).
fn cgroup_path(config_json: &Path) -> Option<PathBuf> {
    let spec = oci_spec::runtime::Spec::load(config_json).ok()?;
    let p = spec.linux().as_ref()?.cgroups_path().clone()?;
    let s = p.to_string_lossy();
    // systemd form "slice:prefix:name" is not used by vaina's cgroupfs setup.
    Some(PathBuf::from(s.trim_start_matches('/')))
}

/// Reads one sample from the cgroup at `rel` under /sys/fs/cgroup.
pub fn sample_cgroup(rel: &Path, layout: CgroupLayout) -> StatsSample {
    let base = Path::new("/sys/fs/cgroup");
    let mut s = StatsSample::default();
    match layout {
        CgroupLayout::V2 => {
            let d = base.join(rel);
            s.mem_usage = read_u64(&d.join("memory.current")).unwrap_or(0);
            s.mem_limit = read_u64(&d.join("memory.max")).unwrap_or(0);
            s.pids = read_u64(&d.join("pids.current")).unwrap_or(0);
            s.cpu_nanos = std::fs::read_to_string(d.join("cpu.stat"))
                .unwrap_or_default()
                .lines()
                .find_map(|l| l.strip_prefix("usage_usec "))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(0, |us| us * 1000);
            for l in std::fs::read_to_string(d.join("io.stat"))
                .unwrap_or_default()
                .lines()
            {
                for kv in l.split_whitespace() {
                    if let Some(v) = kv.strip_prefix("rbytes=") {
                        s.block_read += v.parse::<u64>().unwrap_or(0);
                    } else if let Some(v) = kv.strip_prefix("wbytes=") {
                        s.block_write += v.parse::<u64>().unwrap_or(0);
                    }
                }
            }
        }
        _ => {
            let mem = base.join("memory").join(rel);
            s.mem_usage = read_u64(&mem.join("memory.usage_in_bytes")).unwrap_or(0);
            // Podman subtracts the page cache ("inactive_file") from the usage.
            let inactive = std::fs::read_to_string(mem.join("memory.stat"))
                .unwrap_or_default()
                .lines()
                .find_map(|l| l.strip_prefix("total_inactive_file "))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0);
            s.mem_usage = s.mem_usage.saturating_sub(inactive);
            s.mem_limit = read_u64(&mem.join("memory.limit_in_bytes")).unwrap_or(0);
            s.pids = read_u64(&base.join("pids").join(rel).join("pids.current")).unwrap_or(0);
            s.cpu_nanos = read_u64(&base.join("cpuacct").join(rel).join("cpuacct.usage"))
                .or_else(|| read_u64(&base.join("cpu,cpuacct").join(rel).join("cpuacct.usage")))
                .unwrap_or(0);
            let io = base
                .join("blkio")
                .join(rel)
                .join("blkio.throttle.io_service_bytes");
            for l in std::fs::read_to_string(io).unwrap_or_default().lines() {
                let f: Vec<&str> = l.split_whitespace().collect();
                if f.len() == 3 {
                    let v = f[2].parse::<u64>().unwrap_or(0);
                    match f[1] {
                        "Read" => s.block_read += v,
                        "Write" => s.block_write += v,
                        _ => {}
                    }
                }
            }
        }
    }
    let host = host_memory();
    if s.mem_limit == 0 || (host > 0 && s.mem_limit > host) {
        s.mem_limit = host;
    }
    s
}

impl Engine {
    /// One usage sample of a container (all zero when it is not running, as Podman shows).
    pub fn container_stats(&self, name_or_id: &str) -> Result<StatsSample> {
        let rec = self.lookup_container(name_or_id)?;
        if !matches!(rec.state, ContainerState::Running | ContainerState::Paused) {
            return Ok(StatsSample {
                id: rec.id.clone(),
                name: rec.name.clone(),
                ..Default::default()
            });
        }
        let paths = self.container_paths(&rec.id);
        let rel = cgroup_path(&paths.config_json())
            .unwrap_or_else(|| PathBuf::from(format!("vaina/vaina-{}", rec.id)));
        let mut s = sample_cgroup(&rel, cgroup_layout());
        s.id = rec.id.clone();
        s.name = rec.name.clone();
        s.uptime_secs = (super::record::now_nanos() - rec.started).max(0) as f64 / 1e9;
        if rec.pid > 0 && rec.config.network.mode != "host" {
            let dev = std::fs::read_to_string(format!("/proc/{}/net/dev", rec.pid));
            (s.net_input, s.net_output) = net_dev_totals(&dev.unwrap_or_default());
        }
        Ok(s)
    }

    /// Applies new resource limits: through the runtime when the container runs, and in the
    /// bundle so the next start uses them.
    pub fn update_container(&mut self, name_or_id: &str, r: &Resources) -> Result<String> {
        let rec = self.lookup_container(name_or_id)?;
        let paths = self.container_paths(&rec.id);
        let host = super::spec::HostFacts::probe();
        let res = super::spec::resources::build(r, &host)?;
        let cfg_path = paths.config_json();
        let mut spec = oci_spec::runtime::Spec::load(&cfg_path)
            .map_err(|e| ContainerError::Invalid(format!("reading {}: {e}", cfg_path.display())))?;
        if let Some(linux) = spec.linux_mut() {
            // Field by field: an update of one knob keeps the others (the limit survives
            // `--memory-reservation`, the shares survive `--cpu-quota`).
            let old = linux.resources().clone().unwrap_or_default();
            let merged = merge_json(&old, &res)?;
            linux.set_resources(Some(merged));
        }
        spec.save(&cfg_path)
            .map_err(|e| ContainerError::Invalid(format!("writing {}: {e}", cfg_path.display())))?;
        if matches!(rec.state, ContainerState::Running | ContainerState::Paused) {
            std::fs::create_dir_all(&paths.run_dir).with_path(&paths.run_dir)?;
            let file = paths.run_dir.join("resources.json");
            let text = serde_json::to_vec(&res)
                .map_err(|e| ContainerError::Invalid(format!("encoding resources: {e}")))?;
            std::fs::write(&file, text).with_path(&file)?;
            let rt = paths.runtime(&self.runtime_for(&rec.config)?);
            let out = rt.update(&rec.id, &file);
            let _ = std::fs::remove_file(&file);
            out?;
        }
        Ok(rec.id)
    }
}

/// `new`'s non-null fields over `old`, recursively (both serialised as JSON).
fn merge_json<T: serde::Serialize + serde::de::DeserializeOwned>(old: &T, new: &T) -> Result<T> {
    fn merge(a: &mut serde_json::Value, b: serde_json::Value) {
        match (a, b) {
            (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
                for (k, v) in b {
                    if v.is_null() {
                        continue;
                    }
                    match a.get_mut(&k) {
                        Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                        _ => {
                            a.insert(k, v);
                        }
                    }
                }
            }
            (a, b) => *a = b,
        }
    }
    let bad = |e: serde_json::Error| ContainerError::Invalid(format!("merging resources: {e}"));
    let mut a = serde_json::to_value(old).map_err(bad)?;
    merge(&mut a, serde_json::to_value(new).map_err(bad)?);
    Ok(serde_json::from_value(a).map_err(bad)?)
}

#[cfg(test)]
mod net_tests {
    #[test]
    fn net_dev_totals_skip_lo() {
        let text = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:    1234      10    0    0    0     0          0         0      648       6    0    0    0     0       0          0
  eth1:      10       1    0    0    0     0          0         0        2       1    0    0    0     0       0          0
";
        assert_eq!(super::net_dev_totals(text), (1244, 650));
        assert_eq!(super::net_dev_totals(""), (0, 0));
    }
}
