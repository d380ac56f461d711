//! `info`: the host, the store, the registries configuration and the version, in Podman's
//! JSON shape (camelCase keys as Podman's JSON; the CLI maps them to Go field names for
//! templates).

use super::host::{self, CpuUtilization, Distribution, OciRuntimeInfo};
use super::{version_info, VersionInfo};
use crate::config::registries::{PullFromMirror, Registry};
use crate::{Engine, Result};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The whole `info` report.
#[derive(Debug, Clone, Serialize)]
pub struct Info {
    pub host: HostInfo,
    pub store: StoreInfo,
    /// `[[registry]]` entries by prefix, and `search`: the unqualified-search registries.
    pub registries: BTreeMap<String, Value>,
    pub plugins: Plugins,
    pub version: VersionInfo,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostInfo {
    pub arch: String,
    pub cgroup_manager: String,
    pub cgroup_version: String,
    pub cgroup_controllers: Vec<String>,
    /// The container monitor (conmon's role; vaina's own, in the vaina binary).
    pub conmon: MonitorInfo,
    pub cpus: usize,
    pub cpu_utilization: CpuUtilization,
    pub distribution: Distribution,
    pub event_logger: String,
    pub hostname: String,
    pub id_mappings: IdMappings,
    pub kernel: String,
    pub log_driver: String,
    pub mem_free: u64,
    pub mem_total: u64,
    pub network_backend: String,
    pub oci_runtime: OciRuntimeInfo,
    pub os: String,
    pub service_is_remote: bool,
    pub security: SecurityInfo,
    pub swap_free: u64,
    pub swap_total: u64,
    pub uptime: String,
    pub linkmode: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MonitorInfo {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub package: String,
    pub path: String,
    pub version: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct IdMappings {
    pub gidmap: Option<Vec<Value>>,
    pub uidmap: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityInfo {
    pub apparmor_enabled: bool,
    pub capabilities: String,
    pub rootless: bool,
    pub seccomp_enabled: bool,
    pub seccomp_profile_path: String,
    pub selinux_enabled: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreInfo {
    pub config_file: String,
    pub container_store: ContainerStore,
    pub graph_driver_name: String,
    pub graph_options: BTreeMap<String, String>,
    pub graph_root: String,
    pub graph_root_allocated: u64,
    pub graph_root_used: u64,
    pub graph_status: BTreeMap<String, String>,
    pub image_copy_tmp_dir: String,
    pub image_store: ImageStore,
    pub run_root: String,
    pub volume_path: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ContainerStore {
    pub number: u64,
    pub paused: u64,
    pub running: u64,
    pub stopped: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImageStore {
    pub number: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plugins {
    pub volume: Vec<String>,
    pub network: Vec<String>,
    pub log: Vec<String>,
    pub authorization: Option<Vec<String>>,
}

impl Engine {
    /// Gathers the `info` report. Host probes never fail it; a broken configuration file or
    /// store does.
    pub fn info(&self) -> Result<Info> {
        let conf = self.containers_conf()?;
        let regs = self.registries_conf()?;
        let cg = host::cgroup_version();
        let (mem_total, mem_free, swap_total, swap_free) = host::memory();
        let runtime_setting = self.runtime_setting()?;
        let oci_runtime = match self.runtime_choice() {
            Ok(c) => host::oci_runtime_info(&c.runtime.name, &c.runtime.path, &c.reason),
            Err(e) => OciRuntimeInfo {
                name: runtime_setting.clone().unwrap_or_default(),
                reason: e.to_string(),
                ..Default::default()
            },
        };
        let seccomp_profile = conf
            .containers
            .seccomp_profile
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "/usr/share/containers/seccomp.json".into());
        let mut caps: Vec<String> = conf
            .default_capabilities()
            .iter()
            .map(|c| {
                let c = c.to_ascii_uppercase();
                if c.starts_with("CAP_") {
                    c
                } else {
                    format!("CAP_{c}")
                }
            })
            .collect();
        caps.sort();
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let host = HostInfo {
            arch: host::go_arch().into(),
            cgroup_manager: self.cgroup_manager()?,
            cgroup_version: cg.as_str().into(),
            cgroup_controllers: host::cgroup_controllers(cg),
            conmon: MonitorInfo {
                package: String::new(),
                path: exe,
                version: format!("vaina monitor {}", env!("CARGO_PKG_VERSION")),
            },
            cpus: host::cpus(),
            cpu_utilization: host::cpu_utilization(),
            distribution: host::distribution(),
            event_logger: self.events_backend()?,
            hostname: host::hostname(),
            id_mappings: IdMappings::default(),
            kernel: host::kernel_release(),
            log_driver: conf.log_driver(),
            mem_free,
            mem_total,
            network_backend: conf
                .network
                .network_backend
                .clone()
                .unwrap_or_else(|| "vaina".into()),
            oci_runtime,
            os: std::env::consts::OS.into(),
            service_is_remote: false,
            security: SecurityInfo {
                apparmor_enabled: std::fs::read_to_string(
                    "/sys/module/apparmor/parameters/enabled",
                )
                .is_ok_and(|s| s.trim() == "Y"),
                capabilities: caps.join(","),
                rootless: self.mode == crate::config::Mode::Rootless,
                seccomp_enabled: std::fs::read_to_string("/proc/self/status")
                    .is_ok_and(|s| s.lines().any(|l| l.starts_with("Seccomp:"))),
                seccomp_profile_path: seccomp_profile,
                selinux_enabled: std::path::Path::new("/sys/fs/selinux/enforce").exists(),
            },
            swap_free,
            swap_total,
            uptime: host::uptime(),
            linkmode: "dynamic".into(),
        };
        let (images, containers) = self.store_counts()?;
        let (allocated, used, fs_kind) = host::filesystem(&self.paths.root);
        let driver = self.graph_driver()?;
        let mut graph_status = BTreeMap::new();
        // Podman's vfs driver reports no status.
        if driver == crate::store::driver::GraphDriver::Overlay {
            graph_status.insert("Backing Filesystem".into(), fs_kind);
            graph_status.insert("Native Overlay Diff".into(), "true".into());
            graph_status.insert("Supports d_type".into(), "true".into());
            graph_status.insert("Using metacopy".into(), "false".into());
        }
        let store = StoreInfo {
            config_file: String::new(),
            container_store: containers,
            graph_driver_name: driver.name().into(),
            graph_options: BTreeMap::new(),
            graph_root: self.paths.root.display().to_string(),
            graph_root_allocated: allocated,
            graph_root_used: used,
            graph_status,
            image_copy_tmp_dir: self.paths.tmpdir.display().to_string(),
            image_store: ImageStore { number: images },
            run_root: self.paths.runroot.display().to_string(),
            volume_path: conf
                .engine
                .volume_path
                .clone()
                .unwrap_or_else(|| self.paths.root.join("volumes").display().to_string()),
        };
        let mut registries = BTreeMap::new();
        for r in &regs.registries {
            registries.insert(r.prefix.clone(), registry_json(r));
        }
        if !regs.unqualified_search_registries.is_empty() {
            registries.insert(
                "search".into(),
                json!(regs.unqualified_search_registries.clone()),
            );
        }
        Ok(Info {
            host,
            store,
            registries,
            plugins: Plugins {
                volume: vec!["local".into()],
                network: vec!["bridge".into()],
                log: vec![
                    "k8s-file".into(),
                    "json-file".into(),
                    "none".into(),
                    "passthrough".into(),
                ],
                authorization: None,
            },
            version: version_info(),
        })
    }

    /// Numbers of images and of containers by state, 0 while the tables do not exist.
    fn store_counts(&self) -> Result<(u64, ContainerStore)> {
        let db = self.db()?;
        let conn = db.conn();
        let has_table = |t: &str| -> bool {
            conn.query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [t],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .unwrap_or(false)
        };
        let count = |sql: &str| -> u64 {
            conn.query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n.max(0) as u64)
                .unwrap_or(0)
        };
        let images = if has_table("images") {
            count("SELECT COUNT(*) FROM images")
        } else {
            0
        };
        let mut cs = ContainerStore::default();
        if has_table("containers") {
            cs.number = count("SELECT COUNT(*) FROM containers");
            let has_state = conn.prepare("SELECT state FROM containers LIMIT 0").is_ok();
            if has_state {
                cs.running = count("SELECT COUNT(*) FROM containers WHERE state = 'running'");
                cs.paused = count("SELECT COUNT(*) FROM containers WHERE state = 'paused'");
            }
            cs.stopped = cs.number.saturating_sub(cs.running + cs.paused);
        }
        Ok((images, cs))
    }
}

fn registry_json(r: &Registry) -> Value {
    let pfm = |p: PullFromMirror| match p {
        PullFromMirror::All => "",
        PullFromMirror::DigestOnly => "digest-only",
        PullFromMirror::TagOnly => "tag-only",
    };
    json!({
        "Prefix": r.prefix,
        "Location": r.location,
        "Insecure": r.insecure,
        "PullFromMirror": "",
        "Mirrors": r.mirrors.iter().map(|m| json!({
            "Location": m.location,
            "Insecure": m.insecure,
            "PullFromMirror": pfm(m.pull_from_mirror),
        })).collect::<Vec<_>>(),
        "Blocked": r.blocked,
        "MirrorByDigestOnly": r.mirror_by_digest_only,
    })
}
