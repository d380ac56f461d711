//! `inspect` data of a container in Podman's JSON shape (field names and nesting of
//! `podman container inspect`), built from the record, its stored config and the bundle's
//! OCI spec.

use super::record::{ContainerRecord, ContainerState};
use super::RestartPolicy;
use crate::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// RFC 3339 with nanoseconds, Podman's form; the zero time for 0.
pub fn time_text(nanos: i64) -> String {
    if nanos == 0 {
        return ZERO_TIME.to_string();
    }
    // Go's RFC3339Nano: fractional seconds without trailing zeros.
    let t =
        DateTime::<Utc>::from_timestamp_nanos(nanos).to_rfc3339_opts(SecondsFormat::Nanos, true);
    match t.split_once('.') {
        Some((head, frac)) => {
            let digits = frac.trim_end_matches('Z').trim_end_matches('0');
            if digits.is_empty() {
                format!("{head}Z")
            } else {
                format!("{head}.{digits}Z")
            }
        }
        None => t,
    }
}

impl Engine {
    /// The container as `podman container inspect` shows it.
    pub fn inspect_container(&self, rec: &ContainerRecord) -> Value {
        let paths = self.container_paths(&rec.id);
        let network_settings = self
            .container_network_settings(rec)
            .unwrap_or_else(|_| super::net::empty_network_settings());
        let ports = self
            .container_ports(rec)
            .unwrap_or_else(|_| rec.config.network.ports.clone());
        let spec = oci_spec::runtime::Spec::load(paths.config_json()).ok();
        let process = spec.as_ref().and_then(|s| s.process().clone());
        let caps = |f: fn(
            &oci_spec::runtime::LinuxCapabilities,
        ) -> Option<oci_spec::runtime::Capabilities>|
         -> Vec<String> {
            let mut v: Vec<String> = process
                .as_ref()
                .and_then(|p| p.capabilities().as_ref().and_then(f))
                .map(|c| {
                    c.iter()
                        .map(|c| format!("CAP_{}", c.to_string().trim_start_matches("CAP_")))
                        .collect()
                })
                .unwrap_or_default();
            v.sort();
            v
        };
        let effective = caps(|c| c.effective().clone());
        let bounding = caps(|c| c.bounding().clone());
        let c = &rec.config;
        let (path, args) = match c.args.split_first() {
            Some((p, _)) => (p.clone(), c.args.clone()),
            None => (String::new(), vec![]),
        };
        let st = rec.state;
        let running = matches!(
            st,
            ContainerState::Running | ContainerState::Paused | ContainerState::Stopping
        );
        let lower: Vec<String> = c
            .layers
            .iter()
            .rev()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let userdata = paths.dir.join("userdata");
        let (ipc_mode, shm_size) = ipc_of(spec.as_ref(), c);
        let (restart_name, restart_max) = match &c.restart {
            RestartPolicy::OnFailure { max_retries } => ("on-failure", *max_retries),
            RestartPolicy::No => ("", 0),
            p => (p.name(), 0),
        };
        let labels: Value = if c.labels.is_empty() {
            Value::Null
        } else {
            json!(c.labels)
        };
        let mut v = json!({
            "Id": rec.id,
            "Created": time_text(rec.created),
            "Path": path,
            "Args": args,
            "State": {
                "OciVersion": spec.as_ref().map(|s| s.version().clone()).unwrap_or_default(),
                "Status": st.as_str(),
                "Running": running && st != ContainerState::Paused,
                "Paused": st == ContainerState::Paused,
                "Restarting": false,
                "OOMKilled": false,
                "Dead": false,
                "Pid": if running { rec.pid } else { 0 },
                "ExitCode": rec.exit_code,
                "Error": "",
                "StartedAt": time_text(rec.started),
                "FinishedAt": time_text(rec.finished),
                "Health": {"Status": "", "FailingStreak": 0, "Log": null},
                "CheckpointedAt": ZERO_TIME,
                "RestoredAt": ZERO_TIME
            },
            "Image": rec.image_id,
            "ImageName": rec.image_name,
            "Rootfs": rec.config.rootfs.as_deref().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default(),
            "Pod": rec.config.pod,
            "ResolvConfPath": userdata.join("resolv.conf"),
            "HostnamePath": userdata.join("hostname"),
            "HostsPath": userdata.join("hosts"),
            "StaticDir": paths.dir,
            "OCIConfigPath": paths.config_json(),
            "OCIRuntime": std::path::Path::new(&c.runtime).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            "ConmonPidFile": "",
            "PidFile": paths.pid_file(),
            "Name": rec.name,
            "RestartCount": rec.restart_count,
            "Driver": if paths.is_vfs() { "vfs" } else { "overlay" },
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "EffectiveCaps": effective,
            "BoundingCaps": bounding,
            "ExecIDs": super::exec::list_sessions(&paths).into_iter().map(|s| s.id).collect::<Vec<_>>(),
            "GraphDriver": if paths.is_vfs() {
                serde_json::json!({"Name": "vfs", "Data": null})
            } else {
                serde_json::json!({
                    "Name": "overlay",
                    "Data": {
                        "LowerDir": lower.join(":"),
                        "MergedDir": paths.merged(),
                        "UpperDir": paths.upper(),
                        "WorkDir": paths.work()
                    }
                })
            },
            "Mounts": self.container_mounts_inspect(&rec.id),
            "Dependencies": rec.config.dependencies,
            "NetworkSettings": network_settings,
            "Namespace": "",
            "IsInfra": rec.config.infra,
            "IsService": false,
            "Config": {
                "Hostname": c.hostname,
                "Domainname": "",
                "User": c.user,
                "AttachStdin": false,
                "AttachStdout": false,
                "AttachStderr": false,
                "Tty": c.tty,
                "OpenStdin": c.interactive,
                "StdinOnce": false,
                "Env": c.env,
                "Cmd": c.command,
                "Image": rec.image_name,
                "Volumes": null,
                "WorkingDir": c.workdir,
                "Entrypoint": c.entrypoint.join(" "),
                "OnBuild": null,
                "Labels": labels,
                "Annotations": c.annotations,
                "StopSignal": c.stop_signal,
                "Umask": "0022",
                "Timeout": c.timeout.unwrap_or(0),
                "StopTimeout": c.stop_timeout
            },
            "HostConfig": {
                "Binds": [],
                "LogConfig": {"Type": c.log_driver.name(), "Config": null, "Path": c.log_path, "Tag": "", "Size": "0B"},
                "NetworkMode": if c.network.mode.is_empty() { "none" } else { c.network.mode.as_str() },
                "PortBindings": super::net::ports_json(&ports),
                "Dns": c.network.dns_servers,
                "DnsOptions": c.network.dns_options,
                "DnsSearch": c.network.dns_search,
                "ExtraHosts": c.network.add_hosts.iter().map(|(n, ip)| format!("{n}:{ip}")).collect::<Vec<_>>(),
                "RestartPolicy": {"Name": restart_name, "MaximumRetryCount": restart_max},
                "AutoRemove": c.remove,
                "Privileged": false,
                "Tty": c.tty,
                "IpcMode": ipc_mode,
                "ShmSize": shm_size
            }
        });
        if let Some(cfg) = v.get_mut("Config").and_then(Value::as_object_mut) {
            // No health checks and no sd-notify support: Podman's values for that case.
            for (k, val) in [
                ("HealthcheckOnFailureAction", json!("none")),
                ("Passwd", json!(true)),
                ("sdNotifyMode", json!("container")),
            ] {
                cfg.entry(k).or_insert(val);
            }
        }
        if let Some(hc) = v.get_mut("HostConfig").and_then(Value::as_object_mut) {
            for (k, val) in super::inspect_host::host_config_fields(spec.as_ref(), c) {
                hc.entry(k).or_insert(val);
            }
        }
        v
    }
}

/// `HostConfig.IpcMode` and `ShmSize` from the container's config and spec.
fn ipc_of(spec: Option<&oci_spec::runtime::Spec>, c: &super::ContainerConfig) -> (String, u64) {
    if let Some(size) = c.shm_size {
        return ("shareable".into(), size);
    }
    let shm = spec.and_then(|s| s.mounts().as_ref()).and_then(|m| {
        m.iter()
            .find(|m| m.destination() == std::path::Path::new("/dev/shm"))
    });
    let ipc_ns = spec
        .and_then(|s| s.linux().as_ref())
        .and_then(|l| l.namespaces().as_ref())
        .and_then(|n| {
            n.iter()
                .find(|n| n.typ() == oci_spec::runtime::LinuxNamespaceType::Ipc)
                .cloned()
        });
    let size = shm
        .and_then(|m| m.options().as_ref())
        .and_then(|o| o.iter().find_map(|o| o.strip_prefix("size=")))
        .and_then(|v| v.strip_suffix('k').and_then(|k| k.parse::<u64>().ok()))
        .map_or(0, |k| k * 1024);
    let mode = match (ipc_ns, shm) {
        (None, _) => "host",
        (Some(ns), _) if ns.path().is_some() => "container",
        (Some(_), None) => "none",
        (Some(_), Some(_)) => "private",
    };
    (mode.into(), size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(time_text(0), ZERO_TIME);
        assert_eq!(time_text(1_500_000_000), "1970-01-01T00:00:01.5Z");
    }
}
