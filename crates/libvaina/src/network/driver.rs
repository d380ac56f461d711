//! The network backend trait and vaina's bridge backend.
//!
//! A backend gets networks whose addresses IPAM already chose and makes the kernel match:
//! [`NetworkDriver::setup`] per container (one nftables batch, bridge, veth pair, addresses,
//! routes) and [`NetworkDriver::teardown`], which keeps going after errors and returns all of
//! them. Another backend (netavark) could implement the same trait.

use super::config::Network;
use super::firewall::{self, ContainerRules, NetworkRules};
use super::netlink::{self, PeerConfig};
use super::ports::PortMapping;
use super::{sysctl, NetworkError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// What the container code asks for (`--network`, `--ip`, `--mac-address`, `--network-alias`,
/// `-p`): the public input of [`crate::Engine::network_setup`].
#[derive(Debug, Clone, Default)]
pub struct SetupRequest {
    pub container_id: String,
    pub container_name: String,
    /// The container's network namespace (a bind mount or `/proc/PID/ns/net`).
    pub netns: PathBuf,
    /// Networks in order; the first gets `eth0` and the published ports.
    pub networks: Vec<NetworkRequest>,
    pub ports: Vec<PortMapping>,
}

/// One network of a [`SetupRequest`] (also stored in a container's configuration).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkRequest {
    pub name: String,
    /// `--ip`/`--ip6` (at most one per subnet).
    pub static_ips: Vec<IpAddr>,
    pub mac: Option<String>,
    pub aliases: Vec<String>,
    /// Interface name inside the container (default `eth<N>`).
    pub interface: Option<String>,
}

/// An address of a container on a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub ip: IpAddr,
    pub prefix: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
}

/// What setup did on one network (stored per attachment; shown as NetworkSettings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkStatus {
    pub network: String,
    /// The container's name (for DNS answers).
    #[serde(default)]
    pub container_name: String,
    pub network_id: String,
    /// Interface inside the container (`eth0`).
    pub interface: String,
    /// Host end of the veth pair.
    pub host_interface: String,
    pub bridge: String,
    pub mac: String,
    pub addresses: Vec<Address>,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Published ports (only on the first network), host ports resolved.
    #[serde(default)]
    pub ports: Vec<PortMapping>,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub isolate: bool,
    #[serde(default)]
    pub mtu: u32,
    /// Metric of the default route through this network (`--opt metric=`, else 100 + the
    /// attachment's position, so the first network wins).
    #[serde(default)]
    pub metric: u32,
    /// The network answers names (its gateway is the container's name server).
    #[serde(default)]
    pub dns_enabled: bool,
}

impl NetworkStatus {
    pub(crate) fn network_rules(&self) -> NetworkRules {
        NetworkRules {
            bridge: self.bridge.clone(),
            subnets: self
                .addresses
                .iter()
                .filter_map(|a| super::cidr::Cidr::new(a.ip, a.prefix))
                .collect(),
            internal: self.internal,
            isolate: self.isolate,
        }
    }

    pub(crate) fn container_rules(&self, container_id: &str) -> ContainerRules {
        ContainerRules {
            container_id: container_id.to_string(),
            ports: self.ports.clone(),
            addrs: self.addresses.iter().map(|a| a.ip).collect(),
        }
    }

    /// The `NetworkSettings.Networks[name]` entry of a container not attached right now.
    pub fn empty_endpoint(network: &str) -> serde_json::Value {
        serde_json::json!({
            "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0,
            "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
            "MacAddress": "", "NetworkID": network, "DriverOpts": null, "IPAMConfig": null,
            "Links": null, "Aliases": [],
        })
    }

    /// The entry of Podman's `NetworkSettings.Networks[name]` for `inspect`.
    pub fn podman_endpoint(&self) -> serde_json::Value {
        let v4 = self.addresses.iter().find(|a| a.ip.is_ipv4());
        let v6 = self.addresses.iter().find(|a| a.ip.is_ipv6());
        let s = |o: Option<String>| o.unwrap_or_default();
        serde_json::json!({
            "EndpointID": "",
            "Gateway": s(v4.and_then(|a| a.gateway).map(|g| g.to_string())),
            "IPAddress": s(v4.map(|a| a.ip.to_string())),
            "IPPrefixLen": v4.map(|a| a.prefix).unwrap_or(0),
            "IPv6Gateway": s(v6.and_then(|a| a.gateway).map(|g| g.to_string())),
            "GlobalIPv6Address": s(v6.map(|a| a.ip.to_string())),
            "GlobalIPv6PrefixLen": v6.map(|a| a.prefix).unwrap_or(0),
            "MacAddress": self.mac,
            "NetworkID": self.network_id,
            "DriverOpts": null,
            "IPAMConfig": null,
            "Links": null,
            "Aliases": self.aliases,
        })
    }
}

/// What [`crate::Engine::network_setup`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupStatus {
    pub networks: Vec<NetworkStatus>,
    /// The published ports with random host ports resolved.
    pub ports: Vec<PortMapping>,
}

/// A network backend.
pub trait NetworkDriver {
    /// Checks that the backend can serve `net`.
    fn validate(&self, net: &Network) -> Result<(), NetworkError>;
    /// Makes the kernel match `attachments` for the container in `netns`.
    fn setup(
        &self,
        container_id: &str,
        netns: &Path,
        attachments: &[NetworkStatus],
    ) -> Result<(), NetworkError>;
    /// Undoes `attachments` of one container. Returns every error met.
    fn teardown(&self, container_id: &str, attachments: &[NetworkStatus]) -> Vec<NetworkError>;
    /// Removes what `setup` made for the network itself (bridge, firewall elements), once the
    /// network has no containers left and is being removed.
    fn remove_network(&self, net: &Network) -> Vec<NetworkError>;
}

/// Host name of the veth end for `container_id` on `network` (15 characters, stable, so a
/// teardown after a crash finds it).
pub fn host_veth_name(container_id: &str, network: &str) -> String {
    let h = Sha256::digest(format!("{container_id}/{network}").as_bytes());
    format!("veth{}", &hex::encode(h)[..11])
}

/// The Linux bridge backend (netlink via `ip`, nftables, sysctls).
#[derive(Debug, Default, Clone, Copy)]
pub struct BridgeDriver;

impl NetworkDriver for BridgeDriver {
    fn validate(&self, net: &Network) -> Result<(), NetworkError> {
        if net.driver != "bridge" {
            return Err(NetworkError::Invalid(format!(
                "unsupported driver {}: invalid argument",
                net.driver
            )));
        }
        Ok(())
    }

    fn setup(
        &self,
        container_id: &str,
        netns: &Path,
        attachments: &[NetworkStatus],
    ) -> Result<(), NetworkError> {
        if attachments.iter().any(|a| !a.internal) {
            sysctl::enable_ipv4_forwarding()?;
            if attachments
                .iter()
                .any(|a| !a.internal && a.addresses.iter().any(|x| x.ip.is_ipv6()))
            {
                sysctl::enable_ipv6_forwarding()?;
            }
        }
        for a in attachments {
            let gw: Vec<(IpAddr, u8)> = a
                .addresses
                .iter()
                .filter_map(|x| x.gateway.map(|g| (g, x.prefix)))
                .collect();
            netlink::ensure_bridge(&a.bridge, &gw, a.mtu)?;
            // The address may have belonged to another container (another MAC) moments ago.
            let ips: Vec<IpAddr> = a.addresses.iter().map(|x| x.ip).collect();
            netlink::forget_neighbours(&a.bridge, &ips)?;
            if !a.ports.is_empty() {
                sysctl::enable_route_localnet(&a.bridge)?;
            }
        }
        let mut script = String::new();
        for a in attachments {
            script.push_str(&firewall::network_add(&a.network_rules()));
            script.push_str(&firewall::container_add(&a.container_rules(container_id)));
        }
        // Fast path: the table is there, so only this container's part is written (rewriting
        // the base chains costs the kernel an RCU grace period, ~10 ms). When the table or a
        // set is missing (first use, after a flush), the batch fails as a whole and is
        // repeated with the base table in front.
        if firewall::apply(&script).is_err() {
            firewall::apply(&(firewall::base_script() + &script))?;
        }
        for a in attachments {
            netlink::add_veth(
                netns,
                &PeerConfig {
                    host_name: a.host_interface.clone(),
                    peer_name: a.interface.clone(),
                    bridge: a.bridge.clone(),
                    mtu: a.mtu,
                    mac: Some(a.mac.clone()),
                    addrs: a.addresses.iter().map(|x| (x.ip, x.prefix)).collect(),
                    gateways: if a.internal {
                        Vec::new()
                    } else {
                        a.addresses.iter().filter_map(|x| x.gateway).collect()
                    },
                    metric: a.metric,
                },
            )?;
        }
        Ok(())
    }

    fn teardown(&self, container_id: &str, attachments: &[NetworkStatus]) -> Vec<NetworkError> {
        let mut cmds = Vec::new();
        for a in attachments {
            cmds.extend(firewall::container_remove(&a.container_rules(container_id)));
        }
        // Both wait on the kernel (RCU grace periods), so the rules and the links go in parallel.
        std::thread::scope(|s| {
            let links = s.spawn(|| {
                attachments
                    .iter()
                    .filter_map(|a| netlink::delete_link(&a.host_interface).err())
                    .collect::<Vec<_>>()
            });
            let mut errors = firewall::remove_all(&cmds);
            match links.join() {
                Ok(e) => errors.extend(e),
                Err(_) => errors.push(NetworkError::Command(
                    "deleting links: thread panicked".into(),
                )),
            }
            errors
        })
    }

    fn remove_network(&self, net: &Network) -> Vec<NetworkError> {
        let rules = NetworkRules {
            bridge: net.network_interface.clone(),
            subnets: net.subnets.iter().map(|s| s.subnet).collect(),
            internal: net.internal,
            isolate: net.isolate(),
        };
        let mut errors = if firewall::table_exists() {
            firewall::remove_all(&firewall::network_remove(&rules))
        } else {
            Vec::new()
        };
        // Only a bridge without ports: another store may use a bridge of the same name.
        if netlink::link_exists(&net.network_interface)
            && netlink::bridge_port_count(&net.network_interface) == 0
        {
            if let Err(e) = netlink::delete_link(&net.network_interface) {
                errors.push(e);
            }
        }
        // The last network on the host takes vaina's table with it.
        if let Err(e) = firewall::remove_table_if_unused() {
            errors.push(e);
        }
        errors
    }
}
