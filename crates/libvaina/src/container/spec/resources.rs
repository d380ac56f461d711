//! cgroup resource limits (`--memory`, `--memory-swap`, `--memory-reservation`, `--cpus`,
//! `--cpu-shares`, `--cpuset-cpus/-mems`, `--pids-limit`, `--blkio-weight`) as
//! `linux.resources`, and the container's `linux.cgroupsPath`.
//!
//! vaina does not write cgroup files itself: the OCI runtime applies `linux.resources` on
//! cgroup v1, hybrid and v2 hosts alike. Knobs the host lacks are dropped with Podman's
//! warning (block I/O weight on hosts without a weight file; swap without swap accounting).

use super::{CgroupManager, HostFacts, SpecError};
use crate::container::options::Resources;
use crate::Result;
use oci_spec::runtime::{
    LinuxBlockIoBuilder, LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResources,
    LinuxResourcesBuilder,
};
use std::path::PathBuf;

/// Checks the relations between the memory values, with Podman's messages.
pub fn validate(r: &Resources) -> Result<()> {
    let bad = |m: &str| -> Result<()> { Err(SpecError::Invalid(m.to_string()).into()) };
    match (r.memory, r.memory_swap) {
        (None, Some(s)) if s > 0 => {
            return bad(
                "you should always set a memory limit when using a memoryswap limit, see usage",
            )
        }
        (Some(m), Some(s)) if s > 0 && s < m => {
            return bad("minimum memoryswap limit should be larger than memory limit, see usage")
        }
        _ => {}
    }
    if let (Some(m), Some(res)) = (r.memory, r.memory_reservation) {
        if m > 0 && res > m {
            return bad(
                "minimum memory limit cannot be less than memory reservation limit, see usage",
            );
        }
    }
    Ok(())
}

/// `linux.resources` without the device rules (added by the caller).
pub fn build(r: &Resources, host: &HostFacts) -> Result<LinuxResources> {
    validate(r)?;
    let mut res = LinuxResourcesBuilder::default()
        .build()
        .map_err(SpecError::from)?;
    if r.memory.is_some() || r.memory_reservation.is_some() || r.memory_swap.is_some() {
        let mut m = LinuxMemoryBuilder::default();
        if let Some(limit) = r.memory {
            m = m.limit(limit);
        }
        if let Some(rsv) = r.memory_reservation {
            m = m.reservation(rsv);
        }
        if !host.swap_accounting && r.memory_swap.is_some_and(|s| s > 0) {
            log::warn!("Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.");
        }
        if host.swap_accounting {
            // Podman: without --memory-swap, a container may use as much swap as memory.
            let swap = r.memory_swap.or(r.memory.map(|m| m.saturating_mul(2)));
            if let Some(s) = swap {
                m = m.swap(s);
            }
        }
        res.set_memory(Some(m.build().map_err(SpecError::from)?));
    }
    let cpu_set = r.cpu_shares.is_some()
        || r.cpu_quota.is_some()
        || r.cpu_period.is_some()
        || r.cpuset_cpus.is_some()
        || r.cpuset_mems.is_some();
    if cpu_set {
        let mut c = LinuxCpuBuilder::default();
        if let Some(s) = r.cpu_shares {
            c = c.shares(s);
        }
        if let Some(q) = r.cpu_quota {
            c = c.quota(q);
            c = c.period(r.cpu_period.unwrap_or(100_000));
        } else if let Some(p) = r.cpu_period {
            c = c.period(p);
        }
        if let Some(s) = &r.cpuset_cpus {
            c = c.cpus(s.clone());
        }
        if let Some(s) = &r.cpuset_mems {
            c = c.mems(s.clone());
        }
        res.set_cpu(Some(c.build().map_err(SpecError::from)?));
    }
    if let Some(p) = r.pids_limit.filter(|p| *p > 0) {
        res.set_pids(Some(
            LinuxPidsBuilder::default()
                .limit(p)
                .build()
                .map_err(SpecError::from)?,
        ));
    }
    if let Some(w) = r.blkio_weight {
        if host.blkio_weight {
            res.set_block_io(Some(
                LinuxBlockIoBuilder::default()
                    .weight(w)
                    .build()
                    .map_err(SpecError::from)?,
            ));
        } else {
            log::warn!("Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.");
        }
    }
    Ok(res)
}

/// `linux.cgroupsPath`: `<parent or /vaina>/<id>` for cgroupfs, `<slice>:vaina:<id>` for
/// systemd (parent default `machine.slice`).
pub fn cgroups_path(id: &str, manager: CgroupManager, parent: Option<&str>) -> PathBuf {
    match manager {
        CgroupManager::Cgroupfs => {
            let parent = parent.unwrap_or("/vaina").trim_end_matches('/');
            let parent = if parent.starts_with('/') {
                parent.to_string()
            } else {
                format!("/{parent}")
            };
            PathBuf::from(format!("{parent}/{id}"))
        }
        CgroupManager::Systemd => {
            PathBuf::from(format!("{}:vaina:{id}", parent.unwrap_or("machine.slice")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostFacts {
        let mut h = HostFacts::probe();
        h.swap_accounting = true;
        h.blkio_weight = false;
        h
    }

    #[test]
    fn memory_values() {
        let r = Resources {
            memory: Some(64 << 20),
            memory_reservation: Some(32 << 20),
            ..Default::default()
        };
        let res = build(&r, &host()).unwrap();
        let m = res.memory().unwrap();
        assert_eq!(m.limit(), Some(64 << 20));
        assert_eq!(m.swap(), Some(128 << 20));
        assert_eq!(m.reservation(), Some(32 << 20));
        let r = Resources {
            memory: Some(64 << 20),
            memory_swap: Some(-1),
            ..Default::default()
        };
        assert_eq!(
            build(&r, &host()).unwrap().memory().unwrap().swap(),
            Some(-1)
        );
        let mut h = host();
        h.swap_accounting = false;
        assert_eq!(build(&r, &h).unwrap().memory().unwrap().swap(), None);
    }

    #[test]
    fn memory_errors() {
        let e = |r: Resources| validate(&r).unwrap_err().to_string();
        assert_eq!(
            e(Resources {
                memory: Some(10 << 20),
                memory_swap: Some(5 << 20),
                ..Default::default()
            }),
            "minimum memoryswap limit should be larger than memory limit, see usage"
        );
        assert!(e(Resources {
            memory_swap: Some(10 << 20),
            ..Default::default()
        })
        .contains("memory limit"));
        assert!(e(Resources {
            memory: Some(10 << 20),
            memory_reservation: Some(20 << 20),
            ..Default::default()
        })
        .contains("reservation"));
    }

    #[test]
    fn cpu_pids_blkio() {
        let r = Resources {
            cpu_quota: Some(150_000),
            cpu_shares: Some(512),
            cpuset_cpus: Some("0".into()),
            pids_limit: Some(100),
            blkio_weight: Some(500),
            ..Default::default()
        };
        let res = build(&r, &host()).unwrap();
        let c = res.cpu().as_ref().unwrap();
        assert_eq!(
            (c.quota(), c.period(), c.shares()),
            (Some(150_000), Some(100_000), Some(512))
        );
        assert_eq!(c.cpus().as_deref(), Some("0"));
        assert_eq!(res.pids().unwrap().limit(), 100);
        assert!(res.block_io().is_none(), "no weight knob on this fake host");
        let mut h = host();
        h.blkio_weight = true;
        assert_eq!(
            build(&r, &h).unwrap().block_io().clone().unwrap().weight(),
            Some(500)
        );
        let r = Resources {
            pids_limit: Some(-1),
            ..Default::default()
        };
        assert!(build(&r, &host()).unwrap().pids().is_none());
    }

    #[test]
    fn cgroup_paths() {
        assert_eq!(
            cgroups_path("abc", CgroupManager::Cgroupfs, None),
            PathBuf::from("/vaina/abc")
        );
        assert_eq!(
            cgroups_path("abc", CgroupManager::Cgroupfs, Some("mine/")),
            PathBuf::from("/mine/abc")
        );
        assert_eq!(
            cgroups_path("abc", CgroupManager::Systemd, None),
            PathBuf::from("machine.slice:vaina:abc")
        );
    }
}
