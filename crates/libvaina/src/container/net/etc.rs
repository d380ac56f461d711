//! A container's `/etc/hosts` and `/etc/resolv.conf`, written as Podman writes them.
//!
//! `/etc/hosts`: the `--add-host` entries, then the host's `/etc/hosts` entries, then
//! `host.containers.internal` (the first network's gateway, else the host's address), then the
//! container's own addresses with its hostname and name (`127.0.0.1` without a bridge
//! network; none with the host's network, whose hostname is the host's).
//!
//! `/etc/resolv.conf`: `--dns` servers if given, else the gateways of the networks with DNS
//! followed by the host's name servers (loopback ones dropped outside the host network);
//! `--dns-search` replaces the search list (`dns.podman` on a network with DNS, else the
//! host's), `--dns-option` the options.
//!
//! The files are rewritten in place (same inode), so a running container sees changes made by
//! `network connect`/`disconnect` through its bind mounts.

use super::ContainerNetwork;
use crate::container::ContainerRecord;
use crate::error::IoContext;
use crate::network::NetworkStatus;
use crate::Result;
use std::net::IpAddr;
use std::path::Path;

/// Podman's search domain for container names.
pub const DNS_DOMAIN: &str = "dns.podman";

/// The host's files these are built from.
#[derive(Debug, Clone, Default)]
pub struct HostFiles {
    pub hosts: String,
    pub resolv: String,
    /// The host's own address (for `host.containers.internal` without a bridge network).
    pub host_ip: Option<IpAddr>,
}

impl HostFiles {
    pub fn read() -> Self {
        let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        // systemd-resolved's stub points at loopback; its full list is the useful one.
        let resolv = if resolv.contains("nameserver 127.0.0.53") {
            std::fs::read_to_string("/run/systemd/resolve/resolv.conf").unwrap_or(resolv)
        } else {
            resolv
        };
        HostFiles {
            hosts: std::fs::read_to_string("/etc/hosts").unwrap_or_default(),
            resolv,
            host_ip: host_address(),
        }
    }
}

/// The first IPv4 address of a host interface that is not loopback or a container bridge.
fn host_address() -> Option<IpAddr> {
    let addrs = nix::ifaddrs::getifaddrs().ok()?;
    for a in addrs {
        let name = a.interface_name.as_str();
        if name == "lo"
            || ["vaina", "podman", "veth", "cni", "docker", "virbr"]
                .iter()
                .any(|p| name.starts_with(p))
        {
            continue;
        }
        if let Some(sin) = a.address.as_ref().and_then(|s| s.as_sockaddr_in()) {
            return Some(IpAddr::V4(sin.ip()));
        }
    }
    None
}

/// The text of `/etc/hosts`.
pub fn hosts(
    net: &ContainerNetwork,
    hostname: &str,
    name: &str,
    atts: &[NetworkStatus],
    host: &HostFiles,
) -> String {
    let mut out = String::new();
    let mut names_seen: Vec<String> = Vec::new();
    for (n, ip) in &net.add_hosts {
        let ip = if ip == "host-gateway" {
            gateway_or_host(atts, host).unwrap_or_default()
        } else {
            ip.clone()
        };
        out.push_str(&format!("{ip}\t{n}\n"));
        names_seen.push(n.clone());
    }
    let mut base = String::new();
    for line in host.hosts.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut f = line.split_whitespace();
        let (Some(ip), rest) = (f.next(), f.collect::<Vec<_>>()) else {
            continue;
        };
        if rest.is_empty() {
            continue;
        }
        names_seen.extend(rest.iter().map(|s| s.to_string()));
        base.push_str(&format!("{ip}\t{}\n", rest.join(" ")));
    }
    if base.is_empty() {
        base.push_str("127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n");
    }
    out.push_str(&base);
    if !names_seen.iter().any(|n| n == "host.containers.internal") {
        if let Some(ip) = gateway_or_host(atts, host) {
            out.push_str(&format!("{ip}\thost.containers.internal\n"));
        }
    }
    match net.mode.as_str() {
        "host" => {}
        "bridge" if !atts.is_empty() => {
            for a in atts {
                for addr in &a.addresses {
                    out.push_str(&format!("{}\t{hostname} {name}\n", addr.ip));
                }
            }
        }
        _ => out.push_str(&format!("127.0.0.1\t{hostname} {name}\n")),
    }
    out
}

fn gateway_or_host(atts: &[NetworkStatus], host: &HostFiles) -> Option<String> {
    atts.iter()
        .flat_map(|a| a.addresses.iter())
        .find_map(|a| a.gateway.filter(|g| g.is_ipv4()))
        .or(host.host_ip)
        .map(|ip| ip.to_string())
}

/// The text of `/etc/resolv.conf`.
pub fn resolv(
    net: &ContainerNetwork,
    atts: &[NetworkStatus],
    dns_gateways: &[IpAddr],
    host: &HostFiles,
) -> String {
    let mut search: Vec<String> = Vec::new();
    let mut servers: Vec<String> = Vec::new();
    let mut options: Vec<String> = Vec::new();
    for line in host.resolv.lines() {
        let mut f = line.split_whitespace();
        match f.next() {
            Some("nameserver") => servers.extend(f.next().map(str::to_string)),
            Some("search") | Some("domain") => search = f.map(str::to_string).collect(),
            Some("options") => options.extend(f.map(str::to_string)),
            _ => {}
        }
    }
    if net.mode != "host" {
        servers.retain(|s| {
            s.parse::<IpAddr>()
                .map(|ip| !ip.is_loopback())
                .unwrap_or(false)
        });
    }
    let _ = atts;
    if !dns_gateways.is_empty() {
        let mut v: Vec<String> = dns_gateways.iter().map(|g| g.to_string()).collect();
        v.append(&mut servers);
        servers = v;
        if !search.iter().any(|s| s == DNS_DOMAIN) {
            search.insert(0, DNS_DOMAIN.to_string());
        }
    }
    if servers.is_empty() {
        servers = vec!["8.8.8.8".into(), "8.8.4.4".into()];
    }
    if !net.dns_servers.is_empty() {
        servers = net.dns_servers.iter().map(|s| s.to_string()).collect();
    }
    if !net.dns_search.is_empty() {
        search = net
            .dns_search
            .iter()
            .filter(|s| s.as_str() != ".")
            .cloned()
            .collect();
    }
    if !net.dns_options.is_empty() {
        options = net.dns_options.clone();
    }
    let mut out = String::new();
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    for s in servers {
        out.push_str(&format!("nameserver {s}\n"));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

/// Writes (in place) the container's `hosts` and `resolv.conf` under `userdata` for the
/// attachments `atts`. A container sharing another's network (`container:`) uses that
/// container's files and has none of its own.
pub fn write(userdata: &Path, rec: &ContainerRecord, atts: &[NetworkStatus]) -> Result<()> {
    write_files(
        userdata,
        &rec.config.network,
        &rec.config.hostname,
        &rec.name,
        atts,
    )
}

/// [`write`] from the parts of a record (at `create`, before the record exists).
pub fn write_files(
    userdata: &Path,
    net: &ContainerNetwork,
    hostname: &str,
    name: &str,
    atts: &[NetworkStatus],
) -> Result<()> {
    if net.mode.starts_with("container:") || net.mode.is_empty() {
        return Ok(());
    }
    let host = HostFiles::read();
    let gateways: Vec<IpAddr> = atts
        .iter()
        .filter(|a| a.dns_enabled)
        .flat_map(|a| a.addresses.iter().filter_map(|x| x.gateway))
        .collect();
    let files = [
        (
            "hosts",
            (!net.no_hosts).then(|| hosts(net, hostname, name, atts, &host)),
        ),
        ("resolv.conf", Some(resolv(net, atts, &gateways, &host))),
    ];
    for (file, text) in files {
        let Some(text) = text else { continue };
        let p = userdata.join(file);
        std::fs::write(&p, text).with_path(&p)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::driver::Address;

    fn att(ip: &str, gw: &str, dns: bool) -> NetworkStatus {
        NetworkStatus {
            network: "n".into(),
            container_name: "c".into(),
            network_id: "id".into(),
            interface: "eth0".into(),
            host_interface: "veth".into(),
            bridge: "br".into(),
            mac: "aa:bb:cc:dd:ee:ff".into(),
            addresses: vec![Address {
                ip: ip.parse().unwrap(),
                prefix: 24,
                gateway: Some(gw.parse().unwrap()),
            }],
            aliases: vec![],
            ports: vec![],
            internal: false,
            isolate: false,
            mtu: 1500,
            metric: 100,
            dns_enabled: dns,
        }
    }

    fn host() -> HostFiles {
        HostFiles {
            hosts: "127.0.0.1 localhost\n# comment\n::1 ip6-localhost ip6-loopback\n".into(),
            resolv: "search corp\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n"
                .into(),
            host_ip: Some("192.0.2.2".parse().unwrap()),
        }
    }

    #[test]
    fn hosts_like_podman() {
        let net = ContainerNetwork {
            mode: "bridge".into(),
            add_hosts: vec![("foo".into(), "1.2.3.4".into())],
            ..Default::default()
        };
        let h = hosts(
            &net,
            "hh",
            "web",
            &[att("10.1.2.5", "10.1.2.1", true)],
            &host(),
        );
        assert_eq!(
            h,
            "1.2.3.4\tfoo\n127.0.0.1\tlocalhost\n::1\tip6-localhost ip6-loopback\n10.1.2.1\thost.containers.internal\n10.1.2.5\thh web\n"
        );
        let none = ContainerNetwork {
            mode: "none".into(),
            ..Default::default()
        };
        let h = hosts(&none, "abc", "web", &[], &host());
        assert!(
            h.ends_with("192.0.2.2\thost.containers.internal\n127.0.0.1\tabc web\n"),
            "{h}"
        );
    }

    #[test]
    fn resolv_like_podman() {
        let net = ContainerNetwork {
            mode: "bridge".into(),
            ..Default::default()
        };
        let gw: Vec<IpAddr> = vec!["10.1.2.1".parse().unwrap()];
        assert_eq!(
            resolv(&net, &[], &gw, &host()),
            "search dns.podman corp\nnameserver 10.1.2.1\nnameserver 10.0.0.2\noptions edns0\n"
        );
        assert_eq!(
            resolv(&net, &[], &[], &host()),
            "search corp\nnameserver 10.0.0.2\noptions edns0\n"
        );
        let user = ContainerNetwork {
            mode: "bridge".into(),
            dns_servers: vec!["9.9.9.9".parse().unwrap()],
            dns_search: vec!["x.y".into()],
            dns_options: vec!["ndots:2".into()],
            ..Default::default()
        };
        assert_eq!(
            resolv(&user, &[], &gw, &host()),
            "search x.y\nnameserver 9.9.9.9\noptions ndots:2\n"
        );
    }
}
