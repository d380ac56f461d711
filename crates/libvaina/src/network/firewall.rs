//! nftables rules: ONE table owned by vaina (`table inet vaina`), changed only through
//! `nft -f -` batches (each one atomic in the kernel).
//!
//! Layout of the table:
//! - sets `nets4`/`nets6` (every subnet with containers), `masq4`/`masq6` (subnets of
//!   non-internal networks), `bridges`, `internal`, `isolated` (bridge names) and `pairs`
//!   (`bridge . bridge`, traffic that stays on one bridge);
//! - map `ports` (`protocol . host port : jump c-<container>`): the published ports;
//! - base chains `prerouting`/`output` (DNAT of local addresses through `ports`),
//!   `postrouting` (masquerade out of the subnets, and of DNATed connections coming from
//!   127.0.0.0/8 or from a container), `forward` (internal and isolated networks);
//! - one regular chain `c-<container>` per container with published ports, holding its DNAT
//!   rules.
//!
//! The base chains are flushed whenever they are written (first use, after a flush, `reload`),
//! so their rules never duplicate; everything a network or a container adds is a set/map
//! element or its own chain, so teardown deletes exactly what it added, without rule handles.

use super::cidr::Cidr;
use super::ports::PortMapping;
use super::NetworkError;
use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};

/// vaina's table (family inet: one table for IPv4 and IPv6).
pub const TABLE: &str = "vaina";

/// The table is shared by every store on the host, so its changes are serialised by one
/// host-wide lock (as iptables does with /run/xtables.lock): every batch, and the
/// check-then-delete of an unused table, which must not race another store's first batch.
const HOST_LOCK: &str = "/run/vaina-nftables.lock";

/// Holds the host-wide nftables lock until dropped; `None` when it cannot be taken (no
/// writable /run: then nothing else can be serialised either).
fn host_lock() -> Option<crate::store::lock::FileLock> {
    crate::store::lock::FileLock::exclusive(std::path::Path::new(HOST_LOCK)).ok()
}

/// What a network contributes to the table.
#[derive(Debug, Clone)]
pub struct NetworkRules {
    pub bridge: String,
    pub subnets: Vec<Cidr>,
    pub internal: bool,
    pub isolate: bool,
}

/// What a container contributes: its DNAT chain and `ports` elements.
#[derive(Debug, Clone)]
pub struct ContainerRules {
    pub container_id: String,
    pub ports: Vec<PortMapping>,
    /// The container's addresses on the network its ports are published to.
    pub addrs: Vec<IpAddr>,
}

/// Name of a container's DNAT chain.
pub fn chain_name(container_id: &str) -> String {
    let id: String = container_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(64)
        .collect();
    format!("c-{id}")
}

/// The table, its sets and base chains (idempotent: `add` of what exists is a no-op and the
/// base chains are flushed before their rules are written).
pub fn base_script() -> String {
    let t = format!("inet {TABLE}");
    let mut s = String::new();
    let mut l = |x: String| {
        s.push_str(&x);
        s.push('\n');
    };
    l(format!("add table {t}"));
    for (set, ty) in [
        ("nets4", "ipv4_addr; flags interval"),
        ("nets6", "ipv6_addr; flags interval"),
        ("masq4", "ipv4_addr; flags interval"),
        ("masq6", "ipv6_addr; flags interval"),
        ("bridges", "ifname"),
        ("internal", "ifname"),
        ("isolated", "ifname"),
        ("pairs", "ifname . ifname"),
    ] {
        l(format!("add set {t} {set} {{ type {ty}; }}"));
    }
    l(format!(
        "add map {t} ports {{ type inet_proto . inet_service : verdict; }}"
    ));
    for (chain, hook) in [
        ("prerouting", "type nat hook prerouting priority dstnat"),
        ("output", "type nat hook output priority -100"),
        ("postrouting", "type nat hook postrouting priority srcnat"),
        ("forward", "type filter hook forward priority filter"),
    ] {
        l(format!(
            "add chain {t} {chain} {{ {hook}; policy accept; }}"
        ));
        l(format!("flush chain {t} {chain}"));
    }
    for chain in ["prerouting", "output"] {
        l(format!(
            "add rule {t} {chain} fib daddr type local meta l4proto . th dport vmap @ports"
        ));
    }
    for r in [
        "ip saddr @masq4 ip daddr != @nets4 masquerade",
        "ip6 saddr @masq6 ip6 daddr != @nets6 masquerade",
        "ct status dnat oifname @bridges ip saddr 127.0.0.0/8 masquerade",
        "ct status dnat oifname @bridges ip saddr @nets4 masquerade",
        "ct status dnat oifname @bridges ip6 saddr @nets6 masquerade",
    ] {
        l(format!("add rule {t} postrouting {r}"));
    }
    for r in [
        "iifname @internal iifname . oifname != @pairs drop",
        "oifname @internal iifname . oifname != @pairs drop",
        "iifname @isolated oifname @bridges iifname . oifname != @pairs drop",
        "oifname @isolated iifname @bridges iifname . oifname != @pairs drop",
    ] {
        l(format!("add rule {t} forward {r}"));
    }
    s
}

/// The elements a network adds (`add element` of an existing element is a no-op).
fn network_elements(n: &NetworkRules) -> Vec<(String, String)> {
    let b = format!("\"{}\"", n.bridge);
    let mut v = vec![
        ("bridges".to_string(), b.clone()),
        ("pairs".to_string(), format!("{b} . {b}")),
    ];
    if n.internal {
        v.push(("internal".into(), b.clone()));
    }
    if n.isolate {
        v.push(("isolated".into(), b.clone()));
    }
    for c in &n.subnets {
        let fam = if c.is_ipv6() { "6" } else { "4" };
        v.push((format!("nets{fam}"), c.to_string()));
        if !n.internal {
            v.push((format!("masq{fam}"), c.to_string()));
        }
    }
    v
}

/// Batch lines that add a network's elements.
pub fn network_add(n: &NetworkRules) -> String {
    network_elements(n)
        .into_iter()
        .map(|(set, e)| format!("add element inet {TABLE} {set} {{ {e} }}\n"))
        .collect()
}

/// Commands that remove a network's elements, one per element.
pub fn network_remove(n: &NetworkRules) -> Vec<String> {
    network_elements(n)
        .into_iter()
        .map(|(set, e)| format!("delete element inet {TABLE} {set} {{ {e} }}"))
        .collect()
}

/// Batch lines that add a container's DNAT chain and its `ports` elements.
pub fn container_add(c: &ContainerRules) -> String {
    if c.ports.is_empty() {
        return String::new();
    }
    let t = format!("inet {TABLE}");
    let chain = chain_name(&c.container_id);
    let mut s = format!("add chain {t} {chain}\nflush chain {t} {chain}\n");
    let v4 = c.addrs.iter().find(|a| a.is_ipv4());
    let v6 = c.addrs.iter().find(|a| a.is_ipv6());
    for m in &c.ports {
        let host: Option<IpAddr> = m.host_ip.parse().ok();
        for (hp, cp) in m.pairs() {
            for (fam, target) in [("ip", v4), ("ip6", v6)] {
                let Some(target) = target else { continue };
                let daddr = match host {
                    Some(h) if h.is_ipv4() != (fam == "ip") => continue,
                    Some(h) => format!(" {fam} daddr {h}"),
                    None => String::new(),
                };
                let nfproto = if fam == "ip" { "ipv4" } else { "ipv6" };
                let to = if fam == "ip" {
                    format!("{target}:{cp}")
                } else {
                    format!("[{target}]:{cp}")
                };
                s.push_str(&format!(
                    "add rule {t} {chain} meta nfproto {nfproto}{daddr} meta l4proto {} th dport {hp} dnat {fam} to {to}\n",
                    m.protocol
                ));
            }
            s.push_str(&format!(
                "add element {t} ports {{ {} . {hp} : jump {chain} }}\n",
                m.protocol
            ));
        }
    }
    s
}

/// Commands that remove a container's `ports` elements and then its chain.
pub fn container_remove(c: &ContainerRules) -> Vec<String> {
    if c.ports.is_empty() {
        return Vec::new();
    }
    let mut v: Vec<String> = c
        .ports
        .iter()
        .flat_map(|m| {
            m.pairs()
                .map(|(hp, _)| {
                    format!(
                        "delete element inet {TABLE} ports {{ {} . {hp} }}",
                        m.protocol
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    v.push(format!(
        "delete chain inet {TABLE} {}",
        chain_name(&c.container_id)
    ));
    v
}

/// Runs one `nft -f -` batch (atomic: all of it or nothing).
pub fn apply(script: &str) -> Result<(), NetworkError> {
    if script.trim().is_empty() {
        return Ok(());
    }
    let _lock = host_lock();
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| NetworkError::Command(format!("nft: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| NetworkError::Command(format!("nft: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| NetworkError::Command(format!("nft: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("failed")
            .trim()
            .to_string();
        return Err(NetworkError::Command(format!("nftables: {first}")));
    }
    Ok(())
}

/// True when vaina's table exists (nothing to remove otherwise).
pub fn table_exists() -> bool {
    Command::new("nft")
        .args(["list", "table", "inet", TABLE])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Deletes vaina's table when nothing on the host uses it any more: no element in any set or
/// map and no container chain (every network of every store gone). The next setup writes the
/// base table again. Returns whether it was deleted.
pub fn remove_table_if_unused() -> Result<bool, NetworkError> {
    let _lock = host_lock();
    let out = Command::new("nft")
        .args(["list", "table", "inet", TABLE])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| NetworkError::Command(format!("nft: {e}")))?;
    if !out.status.success() || !table_is_unused(&String::from_utf8_lossy(&out.stdout)) {
        return Ok(false);
    }
    let status = Command::new("nft")
        .args(["delete", "table", "inet", TABLE])
        .stderr(Stdio::null())
        .status()
        .map_err(|e| NetworkError::Command(format!("nft: {e}")))?;
    Ok(status.success())
}

/// True for a listing of vaina's table with no set or map elements and no container chain.
fn table_is_unused(listing: &str) -> bool {
    !listing.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("elements =") || l.starts_with("chain c-")
    })
}

/// Runs removal commands as one batch; when the batch fails (an element already gone), runs
/// them one by one and returns the errors of those that still fail, except "does not exist".
pub fn remove_all(cmds: &[String]) -> Vec<NetworkError> {
    if cmds.is_empty() || apply(&(cmds.join("\n") + "\n")).is_ok() {
        return Vec::new();
    }
    cmds.iter()
        .filter_map(|c| apply(c).err())
        .filter(|e| {
            let s = e.to_string();
            !(s.contains("does not exist") || s.contains("No such file or directory"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unused_table_is_only_one_without_elements_or_container_chains() {
        let base = "table inet vaina {\n\tset nets4 {\n\t\ttype ipv4_addr\n\t}\n\tchain prerouting {\n\t}\n}\n";
        assert!(table_is_unused(base));
        let with_net = base.replace(
            "type ipv4_addr",
            "type ipv4_addr\n\t\telements = { 10.0.0.0/24 }",
        );
        assert!(!table_is_unused(&with_net));
        let with_ctr = base.replace(
            "chain prerouting",
            "chain c-0123abc {\n\t}\n\tchain prerouting",
        );
        assert!(!table_is_unused(&with_ctr));
    }

    #[test]
    fn container_script() {
        let c = ContainerRules {
            container_id: "abc123".into(),
            ports: crate::network::ports::parse_publish("127.0.0.1:8080-8081:80-81").unwrap(),
            addrs: vec!["10.90.0.2".parse().unwrap(), "fd00::2".parse().unwrap()],
        };
        let s = container_add(&c);
        assert!(s.contains("add chain inet vaina c-abc123\n"));
        assert!(s.contains("meta nfproto ipv4 ip daddr 127.0.0.1 meta l4proto tcp th dport 8081 dnat ip to 10.90.0.2:81"));
        assert!(!s.contains("ip6 daddr 127.0.0.1"));
        assert!(s.contains("add element inet vaina ports { tcp . 8080 : jump c-abc123 }"));
        let r = container_remove(&c);
        assert_eq!(r.len(), 3);
        assert_eq!(r[2], "delete chain inet vaina c-abc123");
    }

    #[test]
    fn network_elements_of_internal() {
        let n = NetworkRules {
            bridge: "vaina3".into(),
            subnets: vec!["10.90.3.0/24".parse().unwrap()],
            internal: true,
            isolate: false,
        };
        let s = network_add(&n);
        assert!(s.contains("internal { \"vaina3\" }"));
        assert!(s.contains("nets4 { 10.90.3.0/24 }"));
        assert!(!s.contains("masq4"));
        assert_eq!(network_remove(&n).len(), 4);
    }
}
