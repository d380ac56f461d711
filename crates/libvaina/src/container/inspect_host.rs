//! The resource and namespace part of inspect's `HostConfig`, read back from the container's
//! OCI spec (what the runtime was really given), with Podman's field names and zero values.

use super::ContainerConfig;
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use serde_json::{json, Map, Value};

/// `pid`/`uts` mode: `host` without a namespace, `container:<id>` when joined, else `private`.
fn ns_mode(spec: Option<&Spec>, typ: LinuxNamespaceType, c: &ContainerConfig) -> String {
    let ns = spec
        .and_then(|s| s.linux().as_ref())
        .and_then(|l| l.namespaces().as_ref())
        .and_then(|n| n.iter().find(|n| n.typ() == typ).cloned());
    match ns {
        None => "host".into(),
        Some(n) if n.path().is_some() => match c.dependencies.as_slice() {
            [one] => format!("container:{one}"),
            _ => "container".into(),
        },
        Some(_) => "private".into(),
    }
}

/// The fields vaina adds to `HostConfig` (those already present are kept).
pub fn host_config_fields(spec: Option<&Spec>, c: &ContainerConfig) -> Map<String, Value> {
    let res = spec
        .and_then(|s| s.linux().as_ref())
        .and_then(|l| l.resources().clone())
        .unwrap_or_default();
    let mem = res.memory().unwrap_or_default();
    let cpu = res.cpu().clone().unwrap_or_default();
    let quota = cpu.quota().unwrap_or(0);
    let period = cpu.period().unwrap_or(0);
    let nano_cpus = if quota > 0 && period > 0 {
        (quota as u128 * 1_000_000_000 / period as u128) as u64
    } else {
        0
    };
    let ulimits: Vec<Value> = spec
        .and_then(|s| s.process().as_ref())
        .and_then(|p| p.rlimits().clone())
        .unwrap_or_default()
        .iter()
        .map(|r| json!({"Name": r.typ().to_string(), "Soft": r.soft(), "Hard": r.hard()}))
        .collect();
    let cgroups_path = spec
        .and_then(|s| s.linux().as_ref())
        .and_then(|l| l.cgroups_path().clone())
        .unwrap_or_default();
    let systemd = cgroups_path.to_string_lossy().contains(':');
    let v2 = crate::runtime::cgroup_layout() == crate::runtime::CgroupLayout::V2;
    let v = json!({
        "CgroupManager": if systemd { "systemd" } else { "cgroupfs" },
        "CgroupMode": if v2 { "private" } else { "host" },
        "ContainerIDFile": "",
        "VolumeDriver": "",
        "VolumesFrom": null,
        "CapAdd": [],
        "CapDrop": [],
        "GroupAdd": [],
        "Cgroup": "",
        "Cgroups": "default",
        "Links": null,
        "OomScoreAdj": 0,
        "PidMode": ns_mode(spec, LinuxNamespaceType::Pid, c),
        "PublishAllPorts": false,
        "ReadonlyRootfs": spec.and_then(|s| s.root().as_ref()).and_then(|r| r.readonly()).unwrap_or(false),
        "SecurityOpt": [],
        "Tmpfs": {},
        "UTSMode": ns_mode(spec, LinuxNamespaceType::Uts, c),
        "UsernsMode": "",
        "Runtime": "oci",
        "ConsoleSize": [0, 0],
        "Isolation": "",
        "CpuShares": cpu.shares().unwrap_or(0),
        "Memory": mem.limit().unwrap_or(0),
        "NanoCpus": nano_cpus,
        "CgroupParent": "",
        "BlkioWeight": res.block_io().as_ref().and_then(|b| b.weight()).unwrap_or(0),
        "BlkioWeightDevice": null,
        "BlkioDeviceReadBps": null,
        "BlkioDeviceWriteBps": null,
        "BlkioDeviceReadIOps": null,
        "BlkioDeviceWriteIOps": null,
        "CpuPeriod": period,
        "CpuQuota": quota,
        "CpuRealtimePeriod": 0,
        "CpuRealtimeRuntime": 0,
        "CpusetCpus": cpu.cpus().clone().unwrap_or_default(),
        "CpusetMems": cpu.mems().clone().unwrap_or_default(),
        "Devices": [],
        "DiskQuota": 0,
        "KernelMemory": 0,
        "MemoryReservation": mem.reservation().unwrap_or(0),
        "MemorySwap": mem.swap().unwrap_or(0),
        "MemorySwappiness": mem.swappiness().unwrap_or(0),
        "OomKillDisable": mem.disable_oom_killer().unwrap_or(false),
        "PidsLimit": res.pids().map_or(0, |p| p.limit()),
        "Ulimits": ulimits,
        "CpuCount": 0,
        "CpuPercent": 0,
        "IOMaximumIOps": 0,
        "IOMaximumBandwidth": 0,
        "CgroupConf": null
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
