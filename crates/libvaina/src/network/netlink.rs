//! Link, address and route changes: bridge, veth pair, moving the peer into a network namespace
//! given by path, addresses, routes, link up.
//!
//! For now each function drives iproute2's `ip` (one `ip -batch -` process per step and
//! namespace, spawned from a thread that joined the container's namespace) instead of speaking
//! rtnetlink itself: the functions are the seam, so a native netlink implementation can replace
//! their bodies without touching the driver. Link existence is read from /sys/class/net.

use super::NetworkError;
use std::io::Write;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Stdio};

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

/// Runs `ip -batch -` with `lines` (in the namespace at `netns` when given).
pub fn ip_batch(netns: Option<&Path>, lines: &[String]) -> Result<(), NetworkError> {
    if lines.is_empty() {
        return Ok(());
    }
    let input = lines.join("\n") + "\n";
    match netns {
        // The child inherits the namespace of the thread that spawns it.
        Some(ns) => super::netns::run_in(ns, move || run_ip_batch(&input)),
        None => run_ip_batch(&input),
    }
}

fn run_ip_batch(input: &str) -> Result<(), NetworkError> {
    let mut child = Command::new("ip")
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| NetworkError::Command(format!("ip: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .map_err(|e| NetworkError::Command(format!("ip: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| NetworkError::Command(format!("ip: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("failed")
            .trim();
        // `ip -batch` names the failing line as "Command failed -:N".
        let cmd = err
            .lines()
            .find_map(|l| l.trim().strip_prefix("Command failed -:"))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .and_then(|n| input.lines().nth(n.saturating_sub(1)));
        return Err(NetworkError::Command(match cmd {
            Some(c) => format!("netlink: ip {c}: {first}"),
            None => format!("netlink: {first}"),
        }));
    }
    Ok(())
}

fn prefixed(ip: &IpAddr, prefix: u8) -> String {
    format!("{ip}/{prefix}")
}

/// Creates the bridge `name` (when missing) with the gateway addresses and MTU, and sets it up.
pub fn ensure_bridge(name: &str, addrs: &[(IpAddr, u8)], mtu: u32) -> Result<(), NetworkError> {
    let mut lines = Vec::new();
    let fresh = !link_exists(name);
    if fresh {
        let mtu = if mtu > 0 {
            format!(" mtu {mtu}")
        } else {
            String::new()
        };
        lines.push(format!("link add {name}{mtu} type bridge"));
        // A bridge without ports must not block the link: no forwarding delay, no STP.
        lines.push(format!(
            "link set {name} type bridge forward_delay 0 stp_state 0"
        ));
    }
    for (ip, p) in addrs {
        // `replace` is idempotent: an existing bridge keeps its address without a lookup.
        lines.push(format!("addr replace {} dev {name}", prefixed(ip, *p)));
    }
    lines.push(format!("link set {name} up"));
    ip_batch(None, &lines)
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
    let mtu = if cfg.mtu > 0 {
        format!(" mtu {}", cfg.mtu)
    } else {
        String::new()
    };
    ip_batch(
        None,
        &[
            format!(
                "link add {}{mtu} type veth peer name {}{mtu} netns {}",
                cfg.host_name,
                cfg.peer_name,
                netns.display()
            ),
            format!("link set {} master {} up", cfg.host_name, cfg.bridge),
        ],
    )?;
    let mut lines = vec!["link set lo up".to_string()];
    if let Some(mac) = &cfg.mac {
        lines.push(format!("link set {} address {mac}", cfg.peer_name));
    }
    for (ip, p) in &cfg.addrs {
        let nodad = if ip.is_ipv6() { " nodad" } else { "" };
        lines.push(format!(
            "addr add {} dev {}{nodad}",
            prefixed(ip, *p),
            cfg.peer_name
        ));
    }
    lines.push(format!("link set {} up", cfg.peer_name));
    for gw in &cfg.gateways {
        // The family follows from the gateway's address.
        lines.push(format!(
            "route add default via {gw} dev {} metric {}",
            cfg.peer_name, cfg.metric
        ));
    }
    ip_batch(Some(netns), &lines)
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
    match ip_batch(None, &[format!("link del {name}")]) {
        Err(_) if !link_exists(name) => Ok(()),
        r => r,
    }
}

/// Number of links attached to bridge `name`.
pub fn bridge_port_count(name: &str) -> usize {
    std::fs::read_dir(Path::new("/sys/class/net").join(name).join("brif"))
        .map(|rd| rd.count())
        .unwrap_or(0)
}
