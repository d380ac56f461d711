//! IP address management: leases, attachments and host-port reservations in the state database.
//!
//! Every allocation runs inside one immediate SQLite transaction while the caller holds the
//! network file lock (`<runroot>/locks/network.lock`), so concurrent `vaina` processes never
//! hand out one address or host port twice. An address is free when no row of
//! `network_leases` holds it; the lowest free address of the subnet's lease range is taken.
//!
//! Tables:
//! - `network_leases`: (network, ip) → container
//! - `network_attachments`: what setup did per (container, network), as JSON, so teardown and
//!   `network reload` need no other state
//! - `network_ports`: published host ports, for conflicts and random port choice

use super::cidr::from_u128;
use super::config::{Network, Subnet};
use super::NetworkError;
use rusqlite::{params, OptionalExtension, Transaction};
use std::collections::HashSet;
use std::net::IpAddr;

/// Tables owned by the network module (applied by [`crate::store::db::Db::open`]).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS network_leases (
    network TEXT NOT NULL,
    ip TEXT NOT NULL,
    container_id TEXT NOT NULL,
    PRIMARY KEY (network, ip)
);
CREATE INDEX IF NOT EXISTS network_leases_by_container ON network_leases(container_id);
CREATE TABLE IF NOT EXISTS network_attachments (
    container_id TEXT NOT NULL,
    network TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (container_id, network)
);
CREATE INDEX IF NOT EXISTS network_attachments_by_network ON network_attachments(network);
CREATE TABLE IF NOT EXISTS network_ports (
    protocol TEXT NOT NULL,
    host_port INTEGER NOT NULL,
    host_ip TEXT NOT NULL,
    container_id TEXT NOT NULL,
    PRIMARY KEY (protocol, host_port, host_ip)
);
CREATE INDEX IF NOT EXISTS network_ports_by_container ON network_ports(container_id);
";

/// Host ports handed out for `-p CONTAINERPORT` (no host port), as Linux's ephemeral range.
const RANDOM_PORTS: std::ops::RangeInclusive<u16> = 32768..=60999;

/// The addresses IPAM may hand out in `s`: the lease range, or the subnet without its
/// network address (and, on IPv4, its broadcast address).
fn lease_bounds(s: &Subnet) -> (u128, u128) {
    let c = &s.subnet;
    // Saturating: a hand-written /32 or /128 must not wrap around (it has no free address).
    let mut lo = c.first().saturating_add(1);
    let mut hi = if c.is_ipv6() {
        c.last()
    } else {
        c.last().saturating_sub(1)
    };
    if let Some(r) = &s.lease_range {
        if let Some(a) = r.start_ip.and_then(|a| c.offset_of(&a)) {
            lo = lo.max(c.first() + a);
        }
        if let Some(b) = r.end_ip.and_then(|b| c.offset_of(&b)) {
            hi = hi.min(c.first() + b);
        }
    }
    (lo, hi)
}

fn taken(tx: &Transaction<'_>, network: &str) -> Result<HashSet<String>, NetworkError> {
    let mut st = tx.prepare_cached("SELECT ip FROM network_leases WHERE network = ?1")?;
    let rows = st.query_map([network], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Leases one address per subnet of `net` for `container_id`: `wanted` addresses when given
/// (`--ip`, `--ip6`), else the lowest free ones. Returns (address, subnet) pairs.
pub fn allocate(
    tx: &Transaction<'_>,
    net: &Network,
    container_id: &str,
    wanted: &[IpAddr],
) -> Result<Vec<(IpAddr, Subnet)>, NetworkError> {
    let used = taken(tx, &net.name)?;
    let mut out = Vec::new();
    for ip in wanted {
        let Some(s) = net.subnets.iter().find(|s| s.subnet.contains(ip)) else {
            return Err(NetworkError::Invalid(format!(
                "requested static ip {ip} not in any subnet on network {}",
                net.name
            )));
        };
        if Some(*ip) == s.gateway || s.subnet.offset_of(ip) == Some(0) {
            return Err(NetworkError::Invalid(format!(
                "requested static ip {ip} is the network or gateway address of {}",
                s.subnet
            )));
        }
        if used.contains(&ip.to_string()) {
            let owner: Option<String> = tx
                .query_row(
                    "SELECT container_id FROM network_leases WHERE network = ?1 AND ip = ?2",
                    params![net.name, ip.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            return Err(NetworkError::Invalid(format!(
                "IPAM error: requested ip address {ip} is already allocated to container ID {}",
                owner.unwrap_or_default()
            )));
        }
        out.push((*ip, s.clone()));
    }
    for s in &net.subnets {
        if out.iter().any(|(_, o)| o.subnet == s.subnet) {
            continue;
        }
        let (lo, hi) = lease_bounds(s);
        let gw = s.gateway.map(|g| g.to_string());
        let mut found = None;
        let mut v = lo;
        while v <= hi {
            let ip = from_u128(s.subnet.network(), v);
            let text = ip.to_string();
            if Some(&text) != gw.as_ref() && !used.contains(&text) {
                found = Some(ip);
                break;
            }
            match v.checked_add(1) {
                Some(n) => v = n,
                None => break,
            }
        }
        let ip = found.ok_or_else(|| {
            NetworkError::Invalid(format!(
                "IPAM error: failed to find free IP in range: {}",
                s.subnet
            ))
        })?;
        out.push((ip, s.clone()));
    }
    for (ip, _) in &out {
        tx.execute(
            "INSERT INTO network_leases (network, ip, container_id) VALUES (?1, ?2, ?3)",
            params![net.name, ip.to_string(), container_id],
        )?;
    }
    Ok(out)
}

/// Releases every lease of `container_id` (on every network, or only on `network`).
pub fn release(
    tx: &Transaction<'_>,
    container_id: &str,
    network: Option<&str>,
) -> Result<usize, NetworkError> {
    let n = match network {
        Some(net) => tx.execute(
            "DELETE FROM network_leases WHERE container_id = ?1 AND network = ?2",
            params![container_id, net],
        )?,
        None => tx.execute(
            "DELETE FROM network_leases WHERE container_id = ?1",
            [container_id],
        )?,
    };
    Ok(n)
}

/// Reserves the host ports of `ports` for `container_id`, choosing random free ones where the
/// host port is 0 (the mappings are updated in place).
pub fn reserve_ports(
    tx: &Transaction<'_>,
    container_id: &str,
    ports: &mut [super::ports::PortMapping],
) -> Result<(), NetworkError> {
    // One host port per protocol, whatever the address (the `ports` map is keyed that way).
    let conflict = |proto: &str, _ip: &str, port: u16| -> Result<Option<String>, NetworkError> {
        Ok(tx
            .query_row(
                "SELECT container_id FROM network_ports WHERE protocol = ?1 AND host_port = ?2",
                params![proto, port],
                |r| r.get(0),
            )
            .optional()?)
    };
    for m in ports.iter_mut() {
        if m.host_port == 0 {
            m.host_port = random_free_port(tx, m)?;
        }
        for (h, _) in m.pairs() {
            if let Some(owner) = conflict(&m.protocol, &m.host_ip, h)? {
                let short = &owner[..owner.len().min(12)];
                return Err(NetworkError::Invalid(format!(
                    "port {h}/{} is already allocated by container {short}",
                    m.protocol
                )));
            }
            tx.execute(
                "INSERT INTO network_ports (protocol, host_port, host_ip, container_id) VALUES (?1, ?2, ?3, ?4)",
                params![m.protocol, h, m.host_ip, container_id],
            )?;
        }
    }
    Ok(())
}

/// A random host port (the first of `m.range` consecutive ones) that no container of this
/// store holds and nothing on the host listens on.
pub fn random_free_port(
    conn: &rusqlite::Connection,
    m: &super::ports::PortMapping,
) -> Result<u16, NetworkError> {
    let conflict = |proto: &str, port: u16| -> Result<bool, NetworkError> {
        Ok(conn
            .query_row(
                "SELECT container_id FROM network_ports WHERE protocol = ?1 AND host_port = ?2",
                params![proto, port],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .is_some())
    };
    let span = m.range.max(1);
    let start = rand::random_range(RANDOM_PORTS);
    let mut chosen = None;
    let total = (*RANDOM_PORTS.end() - *RANDOM_PORTS.start()) as u32;
    for i in 0..total {
        let p = *RANDOM_PORTS.start() as u32
            + (start as u32 - *RANDOM_PORTS.start() as u32 + i) % total;
        if p + span as u32 - 1 > *RANDOM_PORTS.end() as u32 {
            continue;
        }
        let mut free = true;
        for k in 0..span {
            if conflict(&m.protocol, p as u16 + k)?
                || !bindable(&m.protocol, &m.host_ip, p as u16 + k)
            {
                free = false;
                break;
            }
        }
        if free {
            chosen = Some(p as u16);
            break;
        }
    }
    chosen.ok_or_else(|| NetworkError::Invalid("no free host port left for a random port".into()))
}

/// True when nothing on the host listens on the port (a quick bind probe, TCP and UDP only).
fn bindable(proto: &str, host_ip: &str, port: u16) -> bool {
    let ip = if host_ip.is_empty() {
        "0.0.0.0"
    } else {
        host_ip
    };
    let addr = match format!("{ip}:{port}").parse::<std::net::SocketAddr>() {
        Ok(a) => a,
        Err(_) => match format!("[{ip}]:{port}").parse() {
            Ok(a) => a,
            Err(_) => return true,
        },
    };
    match proto {
        "tcp" => std::net::TcpListener::bind(addr).is_ok(),
        "udp" => std::net::UdpSocket::bind(addr).is_ok(),
        _ => true,
    }
}

/// Frees the host ports of `container_id`.
pub fn release_ports(tx: &Transaction<'_>, container_id: &str) -> Result<usize, NetworkError> {
    Ok(tx.execute(
        "DELETE FROM network_ports WHERE container_id = ?1",
        [container_id],
    )?)
}

/// Subnets of `cidrs` that hold at least one lease (for tests and `network rm`).
pub fn lease_count(conn: &rusqlite::Connection, network: &str) -> Result<usize, NetworkError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM network_leases WHERE network = ?1",
        [network],
        |r| r.get(0),
    )?;
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::config::{build_network, default_pool, CreateOptions, UsedResources};
    use crate::store::db::Db;

    fn net(subnet: &str, range: Option<&str>) -> Network {
        let o = CreateOptions {
            name: Some("t".into()),
            subnets: vec![subnet.into()],
            ip_ranges: range.map(|r| vec![r.to_string()]).unwrap_or_default(),
            ..Default::default()
        };
        build_network(&o, &UsedResources::default(), &default_pool()).unwrap()
    }

    #[test]
    fn allocates_lowest_free_and_static() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("v.db")).unwrap();
        let n = net("10.90.5.0/29", None);
        let ips: Vec<String> = (0..5)
            .map(|i| {
                db.transaction(|tx| allocate(tx, &n, &format!("c{i}"), &[]))
                    .unwrap()[0]
                    .0
                    .to_string()
            })
            .collect();
        assert_eq!(
            ips,
            [
                "10.90.5.2",
                "10.90.5.3",
                "10.90.5.4",
                "10.90.5.5",
                "10.90.5.6"
            ]
        );
        let full = db.transaction(|tx| allocate(tx, &n, "c9", &[]));
        assert!(full
            .unwrap_err()
            .to_string()
            .contains("failed to find free IP"));
        db.transaction(|tx| release(tx, "c2", None)).unwrap();
        let again = db.transaction(|tx| allocate(tx, &n, "c10", &[])).unwrap();
        assert_eq!(again[0].0.to_string(), "10.90.5.4");
        let dup = db.transaction(|tx| allocate(tx, &n, "c11", &["10.90.5.3".parse().unwrap()]));
        assert_eq!(
            dup.unwrap_err().to_string(),
            "IPAM error: requested ip address 10.90.5.3 is already allocated to container ID c1"
        );
        let out = db.transaction(|tx| allocate(tx, &n, "c11", &["10.1.0.3".parse().unwrap()]));
        assert!(out.unwrap_err().to_string().contains("not in any subnet"));
    }

    #[test]
    fn lease_range_is_honoured() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("v.db")).unwrap();
        let n = net("10.90.6.0/24", Some("10.90.6.128/25"));
        let a = db.transaction(|tx| allocate(tx, &n, "c", &[])).unwrap();
        assert_eq!(a[0].0.to_string(), "10.90.6.129");
    }

    #[test]
    fn ports_conflict_and_random() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("v.db")).unwrap();
        let mut p = crate::network::ports::parse_publish("127.0.0.1:18080:80").unwrap();
        db.transaction(|tx| reserve_ports(tx, "aaaa", &mut p))
            .unwrap();
        let mut q = crate::network::ports::parse_publish("18080:80").unwrap();
        let e = db
            .transaction(|tx| reserve_ports(tx, "bbbb", &mut q))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "port 18080/tcp is already allocated by container aaaa"
        );
        let mut r = crate::network::ports::parse_publish("80").unwrap();
        db.transaction(|tx| reserve_ports(tx, "cccc", &mut r))
            .unwrap();
        assert!(RANDOM_PORTS.contains(&r[0].host_port));
        db.transaction(|tx| release_ports(tx, "aaaa")).unwrap();
        db.transaction(|tx| reserve_ports(tx, "bbbb", &mut q))
            .unwrap();
    }
}
