//! Link, address and route changes: bridge, veth pair, moving the peer into a network namespace
//! given by path, addresses, routes, link up, all over rtnetlink in-process ([`super::rtnl`]);
//! the peer's side is configured from a thread that joined the container's namespace.
//! Link existence and bridge ports are read from /sys/class/net.

use super::rtnl::{parse_mac, Rtnl};
use super::NetworkError;
use std::net::IpAddr;
use std::path::Path;

/// True when the host has a link called `name`.
pub fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// Every link name of the host namespace.
pub fn host_links() -> Vec<String> {
    std::fs::read_dir("/sys/class/net")
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Creates the bridge `name` (when missing) with the gateway addresses and MTU, and sets it up.
pub fn ensure_bridge(name: &str, addrs: &[(IpAddr, u8)], mtu: u32) -> Result<(), NetworkError> {
    let sys = Path::new("/sys/class/net").join(name);
    if sys.exists() && !sys.join("bridge").exists() {
        return Err(NetworkError::Invalid(format!(
            "interface {name} exists and is not a bridge"
        )));
    }
    let mut nl = Rtnl::open()?;
    let index = match nl.link_index(name)? {
        Some(i) => i,
        None => {
            // Another process may create it at the same moment: what counts is that it exists.
            let made = nl.add_bridge(name, mtu);
            match nl.link_index(name)? {
                Some(i) => i,
                None => {
                    made?;
                    return Err(NetworkError::Command(format!("bridge {name} vanished")));
                }
            }
        }
    };
    for (ip, p) in addrs {
        // Replace is idempotent: an existing bridge keeps its address without a lookup.
        nl.add_address(index, *ip, *p, true)?;
    }
    nl.set_link_up(index, None, None)
}

/// What to configure on the container's end of a veth pair.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    pub host_name: String,
    pub peer_name: String,
    pub bridge: String,
    pub mtu: u32,
    pub mac: Option<String>,
    pub addrs: Vec<(IpAddr, u8)>,
    /// Default-route gateways (none for internal networks).
    pub gateways: Vec<IpAddr>,
    /// Metric of the default routes (lower wins), so several networks can each have one.
    pub metric: u32,
}

/// Creates the veth pair with its peer directly inside `netns` (so its name never clashes with
/// a host link), attaches the host end to the bridge, and configures the peer.
pub fn add_veth(netns: &Path, cfg: &PeerConfig) -> Result<(), NetworkError> {
    let ns = std::fs::File::open(netns)
        .map_err(|e| NetworkError::Command(format!("opening {}: {e}", netns.display())))?;
    let mac = match &cfg.mac {
        Some(m) => Some(
            parse_mac(m)
                .ok_or_else(|| NetworkError::Invalid(format!("invalid MAC address {m:?}")))?,
        ),
        None => None,
    };
    let mut nl = Rtnl::open()?;
    nl.add_veth(&cfg.host_name, &cfg.peer_name, &ns, mac, cfg.mtu)?;
    let missing = |n: &str| NetworkError::Command(format!("link {n} not found"));
    let host = nl
        .link_index(&cfg.host_name)?
        .ok_or_else(|| missing(&cfg.host_name))?;
    let bridge = nl
        .link_index(&cfg.bridge)?
        .ok_or_else(|| missing(&cfg.bridge))?;
    nl.set_link_up(host, Some(bridge), None)?;
    let cfg = cfg.clone();
    super::netns::run_in(netns, move || {
        let mut nl = Rtnl::open()?;
        if let Some(lo) = nl.link_index("lo")? {
            nl.set_link_up(lo, None, None)?;
        }
        let dev = nl
            .link_index(&cfg.peer_name)?
            .ok_or_else(|| missing(&cfg.peer_name))?;
        for (ip, p) in &cfg.addrs {
            nl.add_address(dev, *ip, *p, false)?;
        }
        nl.set_link_up(dev, None, None)?;
        for gw in &cfg.gateways {
            nl.add_default_route(*gw, dev, cfg.metric)?;
        }
        Ok(())
    })
}

/// A random locally administered unicast MAC address.
pub fn random_mac() -> String {
    let mut b: [u8; 6] = rand::random();
    b[0] = (b[0] | 0x02) & 0xfe;
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Deletes a host link (its veth peer goes with it); a missing link is not an error.
pub fn delete_link(name: &str) -> Result<(), NetworkError> {
    if !link_exists(name) {
        return Ok(());
    }
    let mut nl = Rtnl::open()?;
    match nl.link_index(name)? {
        Some(i) => nl.delete_link(i),
        None => Ok(()),
    }
}

/// Removes an address from a host link; a missing link or address is not an error.
pub fn delete_address(name: &str, ip: IpAddr, prefix: u8) -> Result<(), NetworkError> {
    let mut nl = Rtnl::open()?;
    match nl.link_index(name)? {
        Some(i) => nl.del_address(i, ip, prefix),
        None => Ok(()),
    }
}

/// Forgets the host's neighbour entries for `ips` on bridge `name` (see
/// [`Rtnl::del_neighbour`]).
pub fn forget_neighbours(name: &str, ips: &[IpAddr]) -> Result<(), NetworkError> {
    if ips.is_empty() {
        return Ok(());
    }
    let mut nl = Rtnl::open()?;
    let Some(i) = nl.link_index(name)? else {
        return Ok(());
    };
    for ip in ips {
        nl.del_neighbour(i, *ip)?;
    }
    Ok(())
}

/// Number of IPv4 routes through link `name` (`/proc/net/route`).
pub fn ipv4_routes_on(name: &str) -> usize {
    std::fs::read_to_string("/proc/net/route")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter(|l| l.split_whitespace().next() == Some(name))
        .count()
}

/// Number of links attached to bridge `name`.
pub fn bridge_port_count(name: &str) -> usize {
    std::fs::read_dir(Path::new("/sys/class/net").join(name).join("brif"))
        .map(|rd| rd.count())
        .unwrap_or(0)
}
