//! A container's networking: what `--network`, `-p`, `--ip`, `--dns`, `--add-host` and friends
//! ask for ([`NetworkOptions`], validated at `create` into the stored [`ContainerNetwork`]),
//! and the glue between the container lifecycle and [`crate::network`].
//!
//! A bridge-mode container gets a persistent network namespace at `<runroot>/netns/<id>`
//! (the spec joins it by path), set up by the monitor before each `runtime create`
//! ([`Engine::container_network_up`], which also writes the container's `/etc/hosts` and
//! `/etc/resolv.conf`, see [`etc`]) and torn down on exit, on `rm`, by `container cleanup`
//! and when a dead monitor is noticed ([`Engine::container_network_down`], idempotent).

pub mod etc;

use crate::network::{self, NetworkError, NetworkRequest, NetworkStatus, PortMapping};
use crate::{Engine, Result};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The network flags of `create`/`run` (besides the namespace mode, which lives in
/// [`super::options::NamespaceOptions::net`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkOptions {
    /// `--network NAME[,NAME...]`: user networks; empty means the default network.
    pub networks: Vec<String>,
    /// `--network-alias`.
    pub aliases: Vec<String>,
    /// `--ip`, `--ip6`.
    pub static_ips: Vec<IpAddr>,
    /// `--mac-address`.
    pub mac: Option<String>,
    /// `-p`.
    pub publish: Vec<PortMapping>,
    /// `-P`: publish the image's `EXPOSE` ports and `--expose` on random host ports.
    pub publish_all: bool,
    /// `--expose PORT[-PORT][/PROTO]` as (first port, count, protocol).
    pub expose: Vec<(u16, u16, String)>,
    /// `--dns`.
    pub dns_servers: Vec<IpAddr>,
    /// `--dns-search`.
    pub dns_search: Vec<String>,
    /// `--dns-option`.
    pub dns_options: Vec<String>,
    /// `--add-host NAME:IP` as (name, ip).
    pub add_hosts: Vec<(String, String)>,
    /// `--no-hosts`.
    pub no_hosts: bool,
}

/// The network part of a container's stored configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerNetwork {
    /// `bridge`, `none`, `host`, `container:<id>`, `ns:<path>` (Podman's `NetworkMode`).
    pub mode: String,
    /// Bridge mode: the networks in order (the first gets `eth0` and the published ports).
    pub networks: Vec<NetworkRequest>,
    /// Published ports as asked (`host_port` 0: a random one at each start).
    pub ports: Vec<PortMapping>,
    /// Exposed ports (`EXPOSE`, `--expose`) as `80/tcp`.
    pub exposed: Vec<String>,
    pub dns_servers: Vec<IpAddr>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    pub add_hosts: Vec<(String, String)>,
    pub no_hosts: bool,
}

impl ContainerNetwork {
    /// True when the container has its own namespace with bridge networks.
    pub fn is_bridge(&self) -> bool {
        self.mode == "bridge"
    }
}

/// Where a bridge-mode container's network namespace is pinned.
pub fn netns_path(runroot: &Path, id: &str) -> PathBuf {
    runroot.join("netns").join(id)
}

/// `--expose 80`, `--expose 8000-8010/udp`.
pub fn parse_expose(value: &str) -> Result<(u16, u16, String)> {
    let (ports, proto) = value.split_once('/').unwrap_or((value, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(NetworkError::Invalid(format!(
            "invalid protocol {proto:?} for port {value:?}"
        ))
        .into());
    }
    let num = |p: &str| -> Result<u16> {
        match p.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
            _ => Err(NetworkError::Invalid(format!(
                "unable to parse port {p:?}: invalid port number"
            ))
            .into()),
        }
    };
    let (a, b) = match ports.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => (num(ports)?, num(ports)?),
    };
    if b < a {
        return Err(NetworkError::Invalid(format!("invalid port range {ports:?}")).into());
    }
    Ok((a, b - a + 1, proto))
}

/// `--add-host NAME:IP` (the IP may be IPv6, so the split is at the first colon).
pub fn parse_add_host(value: &str) -> Result<(String, String)> {
    let bad = || NetworkError::Invalid(format!("invalid IP address in add-host: {value:?}"));
    let (name, ip) = value
        .split_once(':')
        .or_else(|| value.split_once('='))
        .ok_or_else(bad)?;
    if name.is_empty() {
        return Err(bad().into());
    }
    if ip != "host-gateway" && ip.parse::<IpAddr>().is_err() {
        return Err(
            NetworkError::Invalid(format!("invalid IP address in add-host: {ip:?}")).into(),
        );
    }
    Ok((name.to_string(), ip.to_string()))
}

/// `--mac-address`: six colon-separated hex bytes.
pub fn parse_mac(value: &str) -> Result<String> {
    let parts: Vec<&str> = value.split([':', '-']).collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && u8::from_str_radix(p, 16).is_ok());
    if !ok {
        return Err(NetworkError::Invalid(format!("address {value}: invalid MAC address")).into());
    }
    Ok(parts.join(":").to_ascii_lowercase())
}

impl Engine {
    /// Validates the network options of a new container into what it stores: networks
    /// exist, `--ip`/`--mac-address` fit the mode, `-P` ports gathered. `net_mode` is the
    /// namespace mode, `joined` the resolved ID for `container:`; `image_exposed` the image's
    /// `ExposedPorts` keys.
    pub fn container_network_config(
        &self,
        net_mode: &super::options::NamespaceMode,
        joined: Option<&str>,
        o: &NetworkOptions,
        image_exposed: &[String],
    ) -> Result<ContainerNetwork> {
        use super::options::NamespaceMode as M;
        let invalid = |m: &str| -> crate::Error {
            NetworkError::Invalid(format!("{m}: invalid argument")).into()
        };
        let mode = match net_mode {
            M::Private | M::Shareable => "bridge".to_string(),
            M::None => "none".to_string(),
            M::Host => "host".to_string(),
            M::Container(_) => format!("container:{}", joined.unwrap_or_default()),
            M::Path(p) => format!("ns:{}", p.display()),
        };
        let mut mode = mode;
        if mode == "bridge" && self.mode == crate::config::Mode::Rootless {
            // Rootless user-mode networking (slirp4netns, pasta) is not done: loopback only,
            // as before networking existed, unless networks or ports are asked for.
            if !o.networks.is_empty() || !o.publish.is_empty() {
                return Err(invalid(
                    "rootless containers cannot join bridge networks or publish ports yet",
                ));
            }
            mode = "none".to_string();
        }
        let bridge = mode == "bridge";
        if !bridge {
            if !o.static_ips.is_empty() {
                return Err(invalid(
                    "--ip can only be set when the network mode is bridge",
                ));
            }
            if o.mac.is_some() {
                return Err(invalid(
                    "--mac-address can only be set when the network mode is bridge",
                ));
            }
            if !o.aliases.is_empty() {
                return Err(invalid(
                    "--network-alias can only be set when the network mode is bridge",
                ));
            }
            if !o.publish.is_empty() && mode != "host" {
                return Err(invalid(&format!(
                    "published or exposed ports must be defined when the network mode is bridge, not {mode}"
                )));
            }
        }
        if matches!(net_mode, M::Container(_)) {
            if !o.dns_servers.is_empty() || !o.dns_search.is_empty() || !o.dns_options.is_empty() {
                return Err(invalid(
                    "conflicting options: dns and the network mode: container",
                ));
            }
            if !o.add_hosts.is_empty() {
                return Err(invalid(
                    "conflicting options: cannot add host entries and the network mode: container",
                ));
            }
        }
        let mut networks = Vec::new();
        if bridge {
            let names = if o.networks.is_empty() {
                vec![network::DEFAULT_NETWORK.to_string()]
            } else {
                o.networks.clone()
            };
            if names.len() > 1 && (!o.static_ips.is_empty() || o.mac.is_some()) {
                return Err(invalid(if o.static_ips.is_empty() {
                    "--mac-address can only be set for a single network"
                } else {
                    "--ip can only be set for a single network"
                }));
            }
            for n in &names {
                let net = self.network_inspect(n)?;
                for ip in &o.static_ips {
                    if !net.subnets.iter().any(|s| s.subnet.contains(ip)) {
                        return Err(NetworkError::Invalid(format!(
                            "requested static ip {ip} not in any subnet on network {}",
                            net.name
                        ))
                        .into());
                    }
                }
                if networks.iter().any(|r: &NetworkRequest| r.name == net.name) {
                    continue;
                }
                networks.push(NetworkRequest {
                    name: net.name.clone(),
                    static_ips: o.static_ips.clone(),
                    mac: o.mac.clone(),
                    aliases: o.aliases.clone(),
                    interface: None,
                });
            }
            network::ports::check_conflicts(&o.publish)?;
        }
        let mut exposed: Vec<String> = Vec::new();
        for e in image_exposed {
            let e = if e.contains('/') {
                e.clone()
            } else {
                format!("{e}/tcp")
            };
            if !exposed.contains(&e) {
                exposed.push(e);
            }
        }
        for (start, count, proto) in &o.expose {
            for p in *start..start.saturating_add(*count) {
                let e = format!("{p}/{proto}");
                if !exposed.contains(&e) {
                    exposed.push(e);
                }
            }
        }
        let mut ports = o.publish.clone();
        if o.publish_all && bridge {
            for e in &exposed {
                let Some((p, proto)) = e.split_once('/') else {
                    continue;
                };
                let Ok(p) = p.parse::<u16>() else { continue };
                let covered = ports
                    .iter()
                    .any(|m| m.protocol == proto && m.pairs().any(|(_, c)| c == p));
                if !covered {
                    ports.push(PortMapping {
                        host_ip: String::new(),
                        container_port: p,
                        host_port: 0,
                        range: 1,
                        protocol: proto.to_string(),
                    });
                }
            }
        }
        // Random host ports are chosen now, as Podman does: they stay the same across
        // restarts and show in `inspect`/`ps` before the first start.
        if bridge {
            let conn = self.db()?.conn();
            for m in ports.iter_mut().filter(|m| m.host_port == 0) {
                m.host_port = network::ipam::random_free_port(conn, m)?;
            }
        }
        Ok(ContainerNetwork {
            mode,
            networks,
            ports: if bridge { ports } else { Vec::new() },
            exposed,
            dns_servers: o.dns_servers.clone(),
            dns_search: o.dns_search.clone(),
            dns_options: o.dns_options.clone(),
            add_hosts: o.add_hosts.clone(),
            no_hosts: o.no_hosts,
        })
    }

    /// Refuses to start a container whose fixed host ports another container holds
    /// (checked before the monitor starts, so the error is Podman's exit code 126).
    pub fn check_published_ports(&self, id: &str, net: &ContainerNetwork) -> Result<()> {
        if net.ports.iter().all(|p| p.host_port == 0) {
            return Ok(());
        }
        let conn = self.db()?.conn();
        for m in net.ports.iter().filter(|p| p.host_port != 0) {
            for (h, _) in m.pairs() {
                let owner: Option<String> = conn
                    .query_row(
                        "SELECT container_id FROM network_ports WHERE protocol = ?1 AND host_port = ?2 AND container_id != ?3",
                        rusqlite::params![m.protocol, h, id],
                        |r| r.get(0),
                    )
                    .ok();
                if let Some(owner) = owner {
                    return Err(NetworkError::PortInUse(format!(
                        "cannot listen on the {} port: port {h}/{} is already allocated by container {}",
                        m.protocol.to_ascii_uppercase(),
                        m.protocol,
                        &owner[..owner.len().min(12)]
                    ))
                    .into());
                }
            }
        }
        Ok(())
    }

    /// Before `runtime create`: makes the container's namespace, attaches it to its
    /// networks and writes its `/etc/hosts` and `/etc/resolv.conf`. Undoes everything on
    /// failure. Does nothing for other modes than bridge (the files are still written).
    pub fn container_network_up(&mut self, rec: &super::ContainerRecord) -> Result<()> {
        let net = &rec.config.network;
        let userdata = self.container_paths(&rec.id).dir.join("userdata");
        if !net.is_bridge() {
            return etc::write(&userdata, rec, &[]);
        }
        let ns = netns_path(&self.paths.runroot, &rec.id);
        // Leftovers of a crash: a stale namespace or attachments.
        if ns.exists() || !self.network_attachments(&rec.id)?.is_empty() {
            let _ = self.container_network_down(&rec.id);
        }
        network::netns::create(&ns)?;
        let req = network::SetupRequest {
            container_id: rec.id.clone(),
            container_name: rec.name.clone(),
            netns: ns.clone(),
            networks: net.networks.clone(),
            ports: net.ports.clone(),
        };
        let done = self
            .network_setup(&req)
            .and_then(|s| etc::write(&userdata, rec, &s.networks));
        if let Err(e) = done {
            if let Err(t) = self.container_network_down(&rec.id) {
                log::warn!("cleaning up the network of {}: {t}", rec.id);
            }
            return Err(e);
        }
        Ok(())
    }

    /// Tears down a container's networks and removes its namespace; idempotent. Keeps
    /// going after errors and returns them all.
    pub fn container_network_down(&self, id: &str) -> Result<()> {
        let mut errors = Vec::new();
        match self.network_teardown(id) {
            Ok(()) => {}
            Err(crate::Error::Network(NetworkError::Teardown(v))) => errors.extend(v),
            Err(crate::Error::Network(e)) => errors.push(e),
            Err(e) => errors.push(NetworkError::Command(e.to_string())),
        }
        if let Err(e) = network::netns::remove(&netns_path(&self.paths.runroot, id)) {
            errors.push(e);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(NetworkError::Teardown(errors).into())
        }
    }

    /// The published ports of a container: the live ones (random host ports resolved)
    /// while it is attached, else what it asks for.
    pub fn container_ports(&self, rec: &super::ContainerRecord) -> Result<Vec<PortMapping>> {
        // Only configured ports are ever published; `ps` asks for every container.
        if rec.config.network.ports.is_empty() || !rec.state.has_monitor() {
            return Ok(rec.config.network.ports.clone());
        }
        let atts = self.network_attachments(&rec.id)?;
        if let Some(first) = atts.first() {
            return Ok(first.ports.clone());
        }
        Ok(rec.config.network.ports.clone())
    }

    /// `network connect`: attaches a container to one more network. A running bridge-mode
    /// container gets the interface now; the network is recorded for its next start too.
    pub fn container_network_connect(
        &mut self,
        name_or_id: &str,
        network_name: &str,
        req: NetworkRequest,
    ) -> Result<()> {
        let mut rec = self.lookup_container(name_or_id)?;
        let net = self.network_inspect(network_name)?;
        if !rec.config.network.is_bridge() {
            return Err(NetworkError::Invalid(format!(
                "network mode {:?} does not support connecting networks: invalid argument",
                rec.config.network.mode
            ))
            .into());
        }
        if rec
            .config
            .network
            .networks
            .iter()
            .any(|r| r.name == net.name)
        {
            return Err(NetworkError::Invalid(format!(
                "container {} is already connected to network {:?}: network is already connected",
                rec.id, net.name
            ))
            .into());
        }
        let mut req = req;
        req.name = net.name.clone();
        if rec.state == super::ContainerState::Running || rec.state == super::ContainerState::Paused
        {
            let ns = netns_path(&self.paths.runroot, &rec.id);
            self.network_connect(&rec.id, &rec.name, &ns, &req)?;
            let atts = self.network_attachments(&rec.id)?;
            let userdata = self.container_paths(&rec.id).dir.join("userdata");
            etc::write(&userdata, &rec, &atts)?;
        }
        rec.config.network.networks.push(req);
        super::record::set_config(self.db()?.conn(), &rec.id, &rec.config)?;
        Ok(())
    }

    /// `network disconnect`: removes a network from a container (now, when it runs, and for
    /// its next starts).
    pub fn container_network_disconnect(
        &mut self,
        name_or_id: &str,
        network_name: &str,
    ) -> Result<()> {
        let mut rec = self.lookup_container(name_or_id)?;
        let net = self.network_inspect(network_name)?;
        let attached = self
            .network_attachments(&rec.id)?
            .iter()
            .any(|a| a.network == net.name);
        let configured = rec
            .config
            .network
            .networks
            .iter()
            .any(|r| r.name == net.name);
        if !attached && !configured {
            return Err(NetworkError::Invalid(format!(
                "container {} is not connected to network {}: network is not connected",
                rec.id, net.name
            ))
            .into());
        }
        if attached {
            self.network_disconnect(&rec.id, &net.name)?;
            let atts = self.network_attachments(&rec.id)?;
            let userdata = self.container_paths(&rec.id).dir.join("userdata");
            etc::write(&userdata, &rec, &atts)?;
        }
        rec.config.network.networks.retain(|r| r.name != net.name);
        super::record::set_config(self.db()?.conn(), &rec.id, &rec.config)?;
        Ok(())
    }

    /// The containers configured on or attached to `network` (full IDs).
    pub fn containers_on_network(&self, network: &str) -> Result<Vec<String>> {
        let mut ids = self.network_containers(network)?;
        for r in super::record::list(self.db()?.conn())? {
            if r.config.network.networks.iter().any(|n| n.name == network) && !ids.contains(&r.id) {
                ids.push(r.id);
            }
        }
        Ok(ids)
    }

    /// Names of the networks some container is configured on (kept by `network prune`).
    pub fn networks_in_use(&self) -> Result<Vec<String>> {
        let mut v: Vec<String> = Vec::new();
        for r in super::record::list(self.db()?.conn())? {
            for n in &r.config.network.networks {
                if !v.contains(&n.name) {
                    v.push(n.name.clone());
                }
            }
        }
        Ok(v)
    }

    /// `network rm`: refuses a network that containers use unless `force`, which removes
    /// them first (stopped with `timeout`). Returns the network's name.
    pub fn network_remove_with_containers(
        &mut self,
        name_or_id: &str,
        force: bool,
        timeout: Option<u64>,
    ) -> Result<String> {
        let net = self.network_inspect(name_or_id)?;
        if net.name == network::DEFAULT_NETWORK {
            return Err(NetworkError::DefaultNetwork(net.name).into());
        }
        let users = self.containers_on_network(&net.name)?;
        if !users.is_empty() && !force {
            return Err(NetworkError::InUse(net.name).into());
        }
        for id in users {
            match self.remove_container(&id, true, timeout) {
                Ok(_) => {}
                Err(crate::Error::Container(super::ContainerError::NotFound(_))) => {}
                Err(e) => return Err(e),
            }
        }
        let hook = move |e: &mut Engine, id: &str| -> Result<()> {
            e.remove_container(id, true, timeout).map(|_| ())
        };
        self.network_remove(&net.name, force, Some(&hook))
    }

    /// `inspect`'s `NetworkSettings` for a container, as Podman prints it.
    pub fn container_network_settings(
        &self,
        rec: &super::ContainerRecord,
    ) -> Result<serde_json::Value> {
        let net = &rec.config.network;
        let atts: Vec<NetworkStatus> = self.network_attachments(&rec.id)?;
        let ports = if atts.is_empty() {
            net.ports.clone()
        } else {
            atts[0].ports.clone()
        };
        let mut v = empty_network_settings();
        v["Ports"] = ports_json(&ports);
        if !atts.is_empty() {
            v["SandboxKey"] = netns_path(&self.paths.runroot, &rec.id)
                .to_string_lossy()
                .into_owned()
                .into();
        }
        if net.is_bridge() {
            let short: String = rec.id.chars().take(12).collect();
            let mut map = serde_json::Map::new();
            for r in &net.networks {
                let mut e = match atts.iter().find(|a| a.network == r.name) {
                    Some(a) => a.podman_endpoint(),
                    None => NetworkStatus::empty_endpoint(&r.name),
                };
                e["NetworkID"] = r.name.clone().into();
                let mut aliases = vec![short.clone()];
                aliases.extend(r.aliases.iter().cloned());
                e["Aliases"] = aliases.into();
                map.insert(r.name.clone(), e);
            }
            if let Some(first) = atts.first() {
                let ep = first.podman_endpoint();
                for k in [
                    "Gateway",
                    "IPAddress",
                    "IPPrefixLen",
                    "IPv6Gateway",
                    "GlobalIPv6Address",
                    "GlobalIPv6PrefixLen",
                    "MacAddress",
                ] {
                    v[k] = ep[k].clone();
                }
            }
            v["Networks"] = serde_json::Value::Object(map);
        }
        Ok(v)
    }
}

/// `NetworkSettings` of a container without networks.
pub fn empty_network_settings() -> serde_json::Value {
    serde_json::json!({
        "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0,
        "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "MacAddress": "", "Bridge": "", "SandboxID": "", "HairpinMode": false,
        "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0, "Ports": {},
        "SandboxKey": ""
    })
}

/// `ps`'s PORTS column: `127.0.0.1:8080->80/tcp, 0.0.0.0:9000-9001->90-91/udp`.
pub fn ports_text(ports: &[PortMapping]) -> String {
    ports
        .iter()
        .map(|m| {
            let ip = if m.host_ip.is_empty() {
                "0.0.0.0"
            } else {
                m.host_ip.as_str()
            };
            if m.range > 1 {
                format!(
                    "{ip}:{}-{}->{}-{}/{}",
                    m.host_port,
                    m.host_port + m.range - 1,
                    m.container_port,
                    m.container_port + m.range - 1,
                    m.protocol
                )
            } else {
                format!("{ip}:{}->{}/{}", m.host_port, m.container_port, m.protocol)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `port`'s lines: (`80/tcp`, `127.0.0.1:8080`) per container port.
pub fn port_lines(ports: &[PortMapping]) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for m in ports {
        let ip = if m.host_ip.is_empty() {
            "0.0.0.0"
        } else {
            m.host_ip.as_str()
        };
        for (h, c) in m.pairs() {
            v.push((format!("{c}/{}", m.protocol), format!("{ip}:{h}")));
        }
    }
    v
}

/// Podman's `Ports` map: `"80/tcp": [{"HostIp": "", "HostPort": "8080"}]`, one key per
/// container port of each range.
pub fn ports_json(ports: &[PortMapping]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for m in ports {
        for (h, c) in m.pairs() {
            let key = format!("{c}/{}", m.protocol);
            let entry = map.entry(key).or_insert_with(|| serde_json::json!([]));
            if let Some(a) = entry.as_array_mut() {
                a.push(serde_json::json!({"HostIp": m.host_ip, "HostPort": h.to_string()}));
            }
        }
    }
    serde_json::Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers() {
        assert_eq!(parse_expose("80").unwrap(), (80, 1, "tcp".into()));
        assert_eq!(
            parse_expose("8000-8002/udp").unwrap(),
            (8000, 3, "udp".into())
        );
        assert!(parse_expose("0").is_err());
        assert!(parse_expose("80/xyz").is_err());
        assert_eq!(
            parse_add_host("foo:1.2.3.4").unwrap(),
            ("foo".into(), "1.2.3.4".into())
        );
        assert_eq!(parse_add_host("v6:fd00::1").unwrap().1, "fd00::1");
        assert!(parse_add_host("foo:bar").is_err());
        assert_eq!(parse_mac("AA:bb:cc:dd:ee:ff").unwrap(), "aa:bb:cc:dd:ee:ff");
        assert!(parse_mac("bogus").is_err());
    }

    #[test]
    fn ports_map() {
        let p = network::parse_publish("127.0.0.1:8080-8081:80-81/udp").unwrap();
        let v = ports_json(&p);
        assert_eq!(v["81/udp"][0]["HostPort"], "8081");
        assert_eq!(v["80/udp"][0]["HostIp"], "127.0.0.1");
    }
}
