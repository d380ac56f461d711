//! The network operations of [`Engine`]: the `network` commands, and setup/teardown for the
//! container lifecycle.
//!
//! Everything that changes networks, leases or the firewall runs under the exclusive network
//! lock (`<runroot>/locks/network.lock`). Setup records leases and attachments in one database
//! transaction before touching the kernel, so a crash in between leaves rows that the next
//! teardown (or `network rm -f`) undoes.

use super::cidr::Cidr;
use super::config::{self, CreateOptions, Network, UsedResources, BRIDGE_PREFIX, DEFAULT_NETWORK};
use super::driver::{host_veth_name, Address, BridgeDriver, NetworkDriver, NetworkStatus};
use super::{
    firewall, ipam, netlink, ports, NetworkError, NetworkRequest, SetupRequest, SetupStatus,
};
use crate::store::lock::FileLock;
use crate::{Engine, Result};
use rusqlite::params;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// Called by `network rm -f` for each container on the network (the container code removes it).
pub type RemoveContainerHook = dyn Fn(&mut Engine, &str) -> Result<()>;

/// Podman's default network subnet, never used by vaina.
const PODMAN_DEFAULT_SUBNET: &str = "10.88.0.0/16";

impl Engine {
    fn network_lock(&self) -> Result<FileLock> {
        self.paths.ensure()?;
        Ok(FileLock::exclusive(
            &self.paths.locks().join("network.lock"),
        )?)
    }

    fn networks_dir(&self) -> PathBuf {
        config::networks_dir(&self.paths.root)
    }

    /// Podman's network directories (its networks' subnets are never reused by vaina).
    fn podman_network_dirs(&self) -> Vec<PathBuf> {
        let mut v = vec![PathBuf::from("/etc/containers/networks")];
        if let Ok(conf) = self.containers_conf() {
            if let Some(d) = &conf.network.network_config_dir {
                v.push(PathBuf::from(d));
            }
        }
        v
    }

    /// Subnets, interfaces and names already taken on this host and store.
    fn used_resources(&self, nets: &[Network]) -> UsedResources {
        let mut used = UsedResources {
            names: nets.iter().map(|n| n.name.clone()).collect(),
            interfaces: netlink::host_links(),
            subnets: nets
                .iter()
                .flat_map(|n| n.subnets.iter().map(|s| s.subnet))
                .collect(),
        };
        used.interfaces
            .extend(nets.iter().map(|n| n.network_interface.clone()));
        for dir in self.podman_network_dirs() {
            for n in config::load_dir(&dir) {
                used.subnets.extend(n.subnets.iter().map(|s| s.subnet));
                used.interfaces.push(n.network_interface);
            }
        }
        used.subnets.extend(PODMAN_DEFAULT_SUBNET.parse::<Cidr>());
        used.subnets.extend(host_routes());
        used
    }

    /// Every network, the default one first written to disk when missing.
    pub fn network_list(&self) -> Result<Vec<Network>> {
        self.ensure_default_network()?;
        Ok(config::load_dir(&self.networks_dir()))
    }

    fn ensure_default_network(&self) -> Result<()> {
        let dir = self.networks_dir();
        if dir.join(format!("{DEFAULT_NETWORK}.json")).exists() {
            return Ok(());
        }
        let _lock = self.network_lock()?;
        let nets = config::load_dir(&dir);
        if nets.iter().any(|n| n.name == DEFAULT_NETWORK) {
            return Ok(());
        }
        let mut used = self.used_resources(&nets);
        // The default bridge is `vaina0` whether or not a link of that name is up already.
        used.interfaces
            .retain(|i| i != &format!("{BRIDGE_PREFIX}0"));
        let opts = CreateOptions {
            name: Some(DEFAULT_NETWORK.into()),
            interface_name: Some(format!("{BRIDGE_PREFIX}0")),
            disable_dns: true,
            ..Default::default()
        };
        let mut net = config::build_network(&opts, &used, &config::default_pool())?;
        net.id = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(DEFAULT_NETWORK));
        config::save(&dir, &net)?;
        Ok(())
    }

    /// The network called `name_or_id` (a name, a full ID or a unique ID prefix).
    pub fn network_inspect(&self, name_or_id: &str) -> Result<Network> {
        let nets = self.network_list()?;
        find(&nets, name_or_id).cloned()
    }

    /// True when the network exists.
    pub fn network_exists(&self, name_or_id: &str) -> Result<bool> {
        match self.network_inspect(name_or_id) {
            Ok(_) => Ok(true),
            Err(crate::Error::Network(NetworkError::NotFound(_))) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `network create`: validates, picks a free subnet and bridge, writes the definition.
    pub fn network_create(&self, opts: &CreateOptions) -> Result<Network> {
        self.ensure_default_network()?;
        let _lock = self.network_lock()?;
        let dir = self.networks_dir();
        let nets = config::load_dir(&dir);
        if opts.ignore {
            if let Some(n) = opts
                .name
                .as_deref()
                .and_then(|n| nets.iter().find(|x| x.name == n))
            {
                return Ok(n.clone());
            }
        }
        let used = self.used_resources(&nets);
        let net = config::build_network(opts, &used, &config::default_pool())?;
        BridgeDriver.validate(&net)?;
        config::save(&dir, &net)?;
        Ok(net)
    }

    /// Containers attached to `network` (from the attachments table).
    pub fn network_containers(&self, network: &str) -> Result<Vec<String>> {
        let db = self.db()?;
        let mut st = db
            .conn()
            .prepare("SELECT container_id FROM network_attachments WHERE network = ?1 ORDER BY container_id")
            .map_err(NetworkError::from)?;
        let rows = st
            .query_map([network], |r| r.get::<_, String>(0))
            .map_err(NetworkError::from)?;
        Ok(rows
            .collect::<std::result::Result<_, _>>()
            .map_err(NetworkError::from)?)
    }

    /// `network rm`: refuses a network in use unless `force`, when `remove_container` is
    /// called for each attached container (the container code removes it; without a hook the
    /// container's attachment is torn down). Returns the network's name.
    pub fn network_remove(
        &mut self,
        name_or_id: &str,
        force: bool,
        remove_container: Option<&RemoveContainerHook>,
    ) -> Result<String> {
        let net = self.network_inspect(name_or_id)?;
        if net.name == DEFAULT_NETWORK {
            return Err(NetworkError::DefaultNetwork(net.name).into());
        }
        let users = self.network_containers(&net.name)?;
        if !users.is_empty() {
            if !force {
                return Err(NetworkError::InUse(net.name).into());
            }
            for c in users {
                match remove_container {
                    Some(hook) => hook(self, &c)?,
                    None => self.network_teardown(&c)?,
                }
            }
        }
        let _lock = self.network_lock()?;
        if !self.network_containers(&net.name)?.is_empty() {
            return Err(NetworkError::InUse(net.name).into());
        }
        let path = self.networks_dir().join(format!("{}.json", net.name));
        std::fs::remove_file(&path).map_err(|e| crate::Error::io(&path, e))?;
        let mut errors = BridgeDriver.remove_network(&net);
        errors.extend(self.dns_stop(&net.name).err());
        if !errors.is_empty() {
            return Err(NetworkError::Teardown(errors).into());
        }
        Ok(net.name)
    }

    /// `network prune`: removes every unused network but the default one that `keep` does not
    /// protect (filters). Returns the removed names.
    pub fn network_prune(&mut self, keep: &dyn Fn(&Network) -> bool) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for n in self.network_list()? {
            if n.name == DEFAULT_NETWORK
                || keep(&n)
                || !self.network_containers(&n.name)?.is_empty()
            {
                continue;
            }
            removed.push(self.network_remove(&n.name, false, None)?);
        }
        Ok(removed)
    }

    /// Attaches the container in `req.netns` to its networks: leases addresses, reserves host
    /// ports, records the attachments, then configures the kernel. On failure everything done
    /// is undone and the first error returned.
    pub fn network_setup(&mut self, req: &SetupRequest) -> Result<SetupStatus> {
        let (networks, ports) = self.attach(
            &req.container_id,
            &req.container_name,
            &req.netns,
            &req.networks,
            &req.ports,
            true,
        )?;
        Ok(SetupStatus { networks, ports })
    }

    /// `network connect`: attaches a running container (whose namespace is `netns`) to one
    /// more network; its interface is the first free `ethN`.
    pub fn network_connect(
        &mut self,
        container_id: &str,
        container_name: &str,
        netns: &std::path::Path,
        req: &NetworkRequest,
    ) -> Result<NetworkStatus> {
        let (mut v, _) = self.attach(
            container_id,
            container_name,
            netns,
            std::slice::from_ref(req),
            &[],
            false,
        )?;
        v.pop()
            .ok_or_else(|| NetworkError::Invalid("no network attached".into()).into())
    }

    /// `network disconnect`: removes the container's interface, rules and leases on one
    /// network (its published ports go too when they were on that network).
    pub fn network_disconnect(&mut self, container_id: &str, network: &str) -> Result<()> {
        let name = self.network_inspect(network)?.name;
        let _lock = self.network_lock()?;
        let Some(att) = self
            .network_attachments(container_id)?
            .into_iter()
            .find(|a| a.network == name)
        else {
            return Err(NetworkError::Invalid(format!(
                "container {container_id} is not connected to network {name}"
            ))
            .into());
        };
        let cid = container_id.to_string();
        let has_ports = !att.ports.is_empty();
        let mut errors = Vec::new();
        let released = self.db_mut()?.transaction(|tx| {
            tx.execute(
                "DELETE FROM network_attachments WHERE container_id = ?1 AND network = ?2",
                params![cid, name],
            )?;
            ipam::release(tx, &cid, Some(&name))?;
            if has_ports {
                ipam::release_ports(tx, &cid)?;
            }
            Ok::<_, NetworkError>(())
        });
        if let Err(e) = released {
            errors.push(e);
        }
        errors.extend(BridgeDriver.teardown(container_id, std::slice::from_ref(&att)));
        errors.extend(self.dns_stop_unused(std::slice::from_ref(&att)));
        if errors.is_empty() {
            Ok(())
        } else {
            Err(NetworkError::Teardown(errors).into())
        }
    }

    /// Leases, records and configures `reqs` for a container; `fresh` for its first setup,
    /// else the networks are added to its existing ones.
    fn attach(
        &mut self,
        cid: &str,
        name: &str,
        netns: &std::path::Path,
        reqs: &[NetworkRequest],
        ports: &[super::PortMapping],
        fresh: bool,
    ) -> Result<(Vec<NetworkStatus>, Vec<super::PortMapping>)> {
        let nets = self.network_list()?;
        let mut chosen = Vec::new();
        for r in reqs {
            let n = find(&nets, &r.name)?.clone();
            BridgeDriver.validate(&n)?;
            chosen.push(n);
        }
        ports::check_conflicts(ports)?;
        if reqs.is_empty() && !ports.is_empty() {
            return Err(NetworkError::Invalid(
                "published or exposed ports need a bridge network".into(),
            )
            .into());
        }
        let lock = self.network_lock()?;
        let existing = self.network_attachments(cid)?;
        let mut published = ports.to_vec();
        let cid = cid.to_string();
        let statuses = self.db_mut()?.transaction(|tx| {
            if fresh && !existing.is_empty() {
                return Err(NetworkError::Invalid(format!(
                    "container {cid} is already attached to a network"
                )));
            }
            if !published.is_empty() {
                ipam::reserve_ports(tx, &cid, &mut published)?;
            }
            let mut names: Vec<String> = existing.iter().map(|a| a.interface.clone()).collect();
            let mut out = Vec::new();
            for (position, (r, n)) in (existing.len()..).zip(reqs.iter().zip(&chosen)) {
                if existing.iter().chain(&out).any(|a: &NetworkStatus| a.network == n.name) {
                    return Err(NetworkError::Invalid(format!(
                        "container {cid} is already connected to network {:?}: network is already connected",
                        n.name
                    )));
                }
                let interface = match &r.interface {
                    Some(i) => i.clone(),
                    None => (0..)
                        .map(|k| format!("eth{k}"))
                        .find(|x| !names.contains(x))
                        .unwrap_or_default(),
                };
                names.push(interface.clone());
                let leased = ipam::allocate(tx, n, &cid, &r.static_ips)?;
                let status = NetworkStatus {
                    network: n.name.clone(),
                    container_name: name.to_string(),
                    network_id: n.id.clone(),
                    interface,
                    host_interface: host_veth_name(&cid, &n.name),
                    bridge: n.network_interface.clone(),
                    mac: r.mac.clone().unwrap_or_else(netlink::random_mac),
                    addresses: leased
                        .into_iter()
                        .map(|(ip, s)| Address {
                            ip,
                            prefix: s.subnet.prefix(),
                            gateway: s.gateway,
                        })
                        .collect(),
                    aliases: r.aliases.clone(),
                    ports: if out.is_empty() && fresh { published.clone() } else { Vec::new() },
                    internal: n.internal,
                    isolate: n.isolate(),
                    mtu: n.mtu(),
                    metric: n
                        .options
                        .get("metric")
                        .and_then(|m| m.parse().ok())
                        .unwrap_or(100 + position as u32),
                    dns_enabled: n.dns_enabled,
                };
                let json = serde_json::to_string(&status)
                    .map_err(|e| NetworkError::Invalid(format!("encoding status: {e}")))?;
                tx.execute(
                    "INSERT INTO network_attachments (container_id, network, position, status) VALUES (?1, ?2, ?3, ?4)",
                    params![cid, n.name, position as i64, json],
                )?;
                out.push(status);
            }
            Ok::<_, NetworkError>(out)
        })?;
        if let Err(e) = BridgeDriver.setup(&cid, netns, &statuses) {
            drop(lock);
            let undo = if fresh {
                self.network_teardown(&cid)
            } else {
                statuses
                    .iter()
                    .try_for_each(|s| self.network_disconnect(&cid, &s.network))
            };
            if let Err(t) = undo {
                log::warn!("cleaning up after failed network setup: {t}");
            }
            return Err(e.into());
        }
        for n in chosen.iter().filter(|n| n.dns_enabled) {
            // Without its resolver a container still runs; names just do not resolve.
            if let Err(e) = self.dns_start(n) {
                log::warn!("network {}: {e}", n.name);
            }
        }
        drop(lock);
        Ok((statuses, published))
    }

    /// The DNS names of `network`'s containers: name, aliases and short ID of each, with its
    /// addresses on that network.
    pub fn network_dns_zone(&self, network: &str) -> Result<super::dns::Zone> {
        let mut zone = super::dns::Zone::default();
        for (cid, a) in load_attachments::<(String, NetworkStatus)>(self.db()?.conn(), None)? {
            if a.network != network {
                continue;
            }
            let short: String = cid.chars().take(12).collect();
            let names = std::iter::once(&a.container_name)
                .chain(&a.aliases)
                .chain(std::iter::once(&short))
                .filter(|n| !n.is_empty());
            for n in names {
                for addr in &a.addresses {
                    zone.add(n, addr.ip);
                }
            }
        }
        Ok(zone)
    }

    /// Stops the resolvers of the networks of `atts` that have no containers left.
    fn dns_stop_unused(&self, atts: &[NetworkStatus]) -> Vec<NetworkError> {
        let mut errors = Vec::new();
        for a in atts {
            match self.network_containers(&a.network) {
                Ok(c) if c.is_empty() => errors.extend(self.dns_stop(&a.network).err()),
                Ok(_) => {}
                Err(crate::Error::Network(e)) => errors.push(e),
                Err(e) => errors.push(NetworkError::Command(e.to_string())),
            }
        }
        errors
    }

    /// The recorded attachments of a container, in order.
    pub fn network_attachments(&self, container_id: &str) -> Result<Vec<NetworkStatus>> {
        load_attachments(self.db()?.conn(), Some(container_id))
    }

    /// Detaches a container from all its networks: firewall elements and chain, veth, leases,
    /// ports. Bridges stay until their network is removed (deleting a bridge costs the kernel
    /// ~50 ms, and the next container would create it again). Keeps going
    /// after errors and returns them all. A container without attachments is a no-op.
    pub fn network_teardown(&self, container_id: &str) -> Result<()> {
        let _lock = self.network_lock()?;
        let atts = self.network_attachments(container_id)?;
        if atts.is_empty() {
            return Ok(());
        }
        let mut errors = Vec::new();
        let cid = container_id.to_string();
        // Under the network lock, so a plain transaction on the shared connection is enough
        // (and lets a dead monitor's cleanup run from `&self` lookups).
        let released = (|| {
            let tx = self
                .db()?
                .conn()
                .unchecked_transaction()
                .map_err(NetworkError::from)?;
            tx.execute(
                "DELETE FROM network_attachments WHERE container_id = ?1",
                [&cid],
            )
            .map_err(NetworkError::from)?;
            ipam::release(&tx, &cid, None)?;
            ipam::release_ports(&tx, &cid)?;
            tx.commit().map_err(NetworkError::from)?;
            Ok::<_, crate::Error>(())
        })()
        .map_err(|e| match e {
            crate::Error::Network(n) => n,
            other => NetworkError::Command(other.to_string()),
        });
        if let Err(e) = released {
            errors.push(e);
        }
        errors.extend(BridgeDriver.teardown(container_id, &atts));
        errors.extend(self.dns_stop_unused(&atts));
        if errors.is_empty() {
            Ok(())
        } else {
            Err(NetworkError::Teardown(errors).into())
        }
    }

    /// `system reset`: forgets the default network of this store. Its subnet's address on
    /// the bridge and its firewall elements go; the bridge itself (shared by every store on
    /// the host) only when nothing else uses it. Refused while containers are attached.
    pub fn network_reset_default(&self) -> Result<()> {
        let path = self.networks_dir().join(format!("{DEFAULT_NETWORK}.json"));
        if !path.exists() {
            return Ok(());
        }
        let net = self.network_inspect(DEFAULT_NETWORK)?;
        if !self.network_containers(&net.name)?.is_empty() {
            return Err(NetworkError::InUse(net.name).into());
        }
        let _lock = self.network_lock()?;
        std::fs::remove_file(&path).map_err(|e| crate::Error::io(&path, e))?;
        let bridge = net.network_interface.clone();
        let mut errors = Vec::new();
        for s in &net.subnets {
            if let Some(gw) = s.gateway {
                errors.extend(netlink::delete_address(&bridge, gw, s.subnet.prefix()).err());
            }
        }
        let unused = netlink::link_exists(&bridge)
            && netlink::bridge_port_count(&bridge) == 0
            && netlink::ipv4_routes_on(&bridge) == 0;
        let rules = super::firewall::NetworkRules {
            bridge: bridge.clone(),
            subnets: net.subnets.iter().map(|s| s.subnet).collect(),
            internal: net.internal,
            isolate: net.isolate(),
        };
        if firewall::table_exists() {
            let cmds: Vec<String> = firewall::network_remove(&rules)
                .into_iter()
                .filter(|c| unused || !c.contains(&format!("\"{bridge}\"")))
                .collect();
            errors.extend(firewall::remove_all(&cmds));
        }
        if unused {
            errors.extend(netlink::delete_link(&bridge).err());
        }
        errors.extend(self.dns_stop(&net.name).err());
        if errors.is_empty() {
            Ok(())
        } else {
            Err(NetworkError::Teardown(errors).into())
        }
    }

    /// `network reload`: writes the whole table again from the recorded attachments (after a
    /// firewall flush). Returns the containers whose rules were re-applied.
    pub fn network_reload(&self) -> Result<Vec<String>> {
        let _lock = self.network_lock()?;
        let atts = load_attachments(self.db()?.conn(), None)?;
        let mut script = firewall::base_script();
        let mut ids = Vec::new();
        for (cid, a) in &atts {
            script.push_str(&firewall::network_add(&a.network_rules()));
            script.push_str(&firewall::container_add(&a.container_rules(cid)));
            if !ids.contains(cid) {
                ids.push(cid.clone());
            }
        }
        firewall::apply(&script)?;
        Ok(ids)
    }
}

fn load_attachments<T: AttachmentKey>(
    conn: &rusqlite::Connection,
    container: Option<&str>,
) -> Result<Vec<T>> {
    let mut st = conn
        .prepare(
            "SELECT container_id, status FROM network_attachments
             WHERE ?1 IS NULL OR container_id = ?1 ORDER BY container_id, position",
        )
        .map_err(NetworkError::from)?;
    let rows = st
        .query_map([container], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(NetworkError::from)?;
    let mut out = Vec::new();
    for row in rows {
        let (cid, json) = row.map_err(NetworkError::from)?;
        let s: NetworkStatus = serde_json::from_str(&json)
            .map_err(|e| NetworkError::Invalid(format!("attachment of {cid}: {e}")))?;
        out.push(T::make(cid, s));
    }
    Ok(out)
}

/// Rows of [`load_attachments`]: the status alone or with its container ID.
trait AttachmentKey {
    fn make(cid: String, s: NetworkStatus) -> Self;
}

impl AttachmentKey for NetworkStatus {
    fn make(_: String, s: NetworkStatus) -> Self {
        s
    }
}

impl AttachmentKey for (String, NetworkStatus) {
    fn make(cid: String, s: NetworkStatus) -> Self {
        (cid, s)
    }
}

/// Looks a network up by name, full ID or unique ID prefix.
fn find<'a>(nets: &'a [Network], name_or_id: &str) -> Result<&'a Network> {
    if let Some(n) = nets.iter().find(|n| n.name == name_or_id) {
        return Ok(n);
    }
    let by_id: Vec<&Network> = nets
        .iter()
        .filter(|n| !name_or_id.is_empty() && n.id.starts_with(name_or_id))
        .collect();
    match by_id.as_slice() {
        [one] => Ok(one),
        [] => Err(NetworkError::NotFound(name_or_id.to_string()).into()),
        _ => Err(NetworkError::Invalid(format!(
            "more than one result for network ID {name_or_id}"
        ))
        .into()),
    }
}

/// IPv4 subnets routed on the host (`/proc/net/route`), default routes left out.
fn host_routes() -> Vec<Cidr> {
    let text = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dest = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            if mask == 0 {
                return None;
            }
            // The file shows the address bytes in memory order, read as a host-order number.
            Cidr::new(IpAddr::from(dest.to_le_bytes()), mask.count_ones() as u8)
        })
        .collect()
}

/// Labels filter helper for the CLI: `key` or `key=value` against a network's labels.
pub fn label_matches(labels: &BTreeMap<String, String>, filter: &str) -> bool {
    match filter.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(filter),
    }
}
