//! Published ports: the `-p [ip:][hostPort:]containerPort[/tcp|udp|sctp]` grammar with ranges,
//! as Podman accepts it, into [`PortMapping`]s (Podman's `types.PortMapping` JSON fields).
//!
//! A missing host port (`-p 80`) leaves `host_port` 0: the backend picks a free one at setup.

use super::NetworkError;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One published port range, Podman's `PortMapping`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMapping {
    /// Host address to bind (empty: every address).
    pub host_ip: String,
    pub container_port: u16,
    /// 0 asks for a random free host port.
    pub host_port: u16,
    /// Number of consecutive ports (1 for a single port).
    pub range: u16,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
}

impl PortMapping {
    /// The (host port, container port) pairs this mapping covers.
    pub fn pairs(&self) -> impl Iterator<Item = (u16, u16)> + '_ {
        (0..self.range.max(1)).map(move |i| (self.host_port + i, self.container_port + i))
    }
}

fn invalid(msg: String) -> NetworkError {
    NetworkError::Invalid(msg)
}

/// Parses one `-p` value; `a/b` protocol lists (`80/tcp,udp`) give one mapping per protocol.
pub fn parse_publish(spec: &str) -> Result<Vec<PortMapping>, NetworkError> {
    let (addr_ports, protos) = match spec.rsplit_once('/') {
        Some((a, p)) => (a, p),
        None => (spec, "tcp"),
    };
    let mut protocols = Vec::new();
    for p in protos.split(',') {
        let p = p.to_ascii_lowercase();
        if !matches!(p.as_str(), "tcp" | "udp" | "sctp") {
            return Err(invalid(format!(
                "unrecognized protocol {p:?} in port spec {spec:?}"
            )));
        }
        protocols.push(p);
    }
    // An IPv6 host address is written in brackets: [::1]:8080:80.
    let (host_ip, rest) = if let Some(r) = addr_ports.strip_prefix('[') {
        let (ip, rest) = r
            .split_once("]:")
            .ok_or_else(|| invalid(format!("invalid IP address in port spec {spec:?}")))?;
        (ip.to_string(), rest.to_string())
    } else {
        let parts: Vec<&str> = addr_ports.split(':').collect();
        match parts.len() {
            1 | 2 => (String::new(), addr_ports.to_string()),
            3 => (parts[0].to_string(), format!("{}:{}", parts[1], parts[2])),
            _ => return Err(invalid(format!("invalid port format {spec:?}"))),
        }
    };
    if !host_ip.is_empty() && host_ip.parse::<IpAddr>().is_err() {
        return Err(invalid(format!(
            "invalid IP address {host_ip:?} in port spec {spec:?}"
        )));
    }
    let (host, container) = match rest.split_once(':') {
        Some((h, c)) => (if h.is_empty() { None } else { Some(h) }, c),
        None => (None, rest.as_str()),
    };
    let (cstart, clen) = parse_range(container, spec)?;
    let (hstart, hlen) = match host {
        Some(h) => parse_range(h, spec).map_err(|e| invalid(format!("parsing host port: {e}")))?,
        None => (0, clen),
    };
    if host.is_some() && hlen != clen {
        return Err(invalid(format!(
            "host and container port ranges have different lengths: {hlen} vs {clen}"
        )));
    }
    Ok(protocols
        .into_iter()
        .map(|protocol| PortMapping {
            host_ip: host_ip.clone(),
            container_port: cstart,
            host_port: hstart,
            range: clen,
            protocol,
        })
        .collect())
}

/// `N` or `N-M` into (start, length); every port must be within 1..=65535.
fn parse_range(s: &str, spec: &str) -> Result<(u16, u16), NetworkError> {
    let port = |p: &str| -> Result<u16, NetworkError> {
        let n: u64 = p
            .trim()
            .parse()
            .map_err(|_| invalid(format!("invalid port number {p:?} in port spec {spec:?}")))?;
        if n == 0 || n > 65535 {
            return Err(invalid(format!(
                "port numbers must be between 1 and 65535 (inclusive), got {n}"
            )));
        }
        Ok(n as u16)
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (port(a)?, port(b)?);
            if b < a {
                return Err(invalid(format!(
                    "invalid port range {s:?}: end is before start"
                )));
            }
            Ok((a, b - a + 1))
        }
        None => Ok((port(s)?, 1)),
    }
}

/// Rejects mappings that publish the same host port twice (same protocol and address).
pub fn check_conflicts(ports: &[PortMapping]) -> Result<(), NetworkError> {
    let mut seen: Vec<(&str, &str, u16)> = Vec::new();
    for m in ports {
        if m.host_port == 0 {
            continue;
        }
        for (h, _) in m.pairs() {
            let key = (m.protocol.as_str(), m.host_ip.as_str(), h);
            if seen.iter().any(|s| {
                s.0 == key.0 && s.2 == key.2 && (s.1 == key.1 || s.1.is_empty() || key.1.is_empty())
            }) {
                return Err(invalid(format!(
                    "host port {h}/{} is published more than once",
                    m.protocol
                )));
            }
            seen.push(key);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> PortMapping {
        let v = parse_publish(s).unwrap();
        assert_eq!(v.len(), 1);
        v.into_iter().next().unwrap()
    }

    #[test]
    fn forms() {
        let m = one("80");
        assert_eq!(
            (
                m.host_ip.as_str(),
                m.host_port,
                m.container_port,
                m.range,
                m.protocol.as_str()
            ),
            ("", 0, 80, 1, "tcp")
        );
        let m = one("8080:80/udp");
        assert_eq!(
            (m.host_port, m.container_port, m.protocol.as_str()),
            (8080, 80, "udp")
        );
        let m = one("127.0.0.1:8080:80");
        assert_eq!((m.host_ip.as_str(), m.host_port), ("127.0.0.1", 8080));
        let m = one("127.0.0.1::80");
        assert_eq!(
            (m.host_ip.as_str(), m.host_port, m.container_port),
            ("127.0.0.1", 0, 80)
        );
        let m = one("[::1]:8080:80/sctp");
        assert_eq!((m.host_ip.as_str(), m.protocol.as_str()), ("::1", "sctp"));
        let m = one("8000-8002:9000-9002");
        assert_eq!((m.host_port, m.container_port, m.range), (8000, 9000, 3));
        assert_eq!(
            m.pairs().collect::<Vec<_>>(),
            vec![(8000, 9000), (8001, 9001), (8002, 9002)]
        );
        let m = one("9000-9001");
        assert_eq!((m.host_port, m.range), (0, 2));
        assert_eq!(parse_publish("53:53/tcp,udp").unwrap().len(), 2);
    }

    #[test]
    fn bad() {
        for s in [
            "0:80",
            "8080:0",
            "65536:80",
            "80:70000",
            "abc",
            "1:2:3:4",
            "8080:80/icmp",
            "x.y:1:2",
            "9002-9000:1-3",
            "8000-8001:80",
        ] {
            assert!(parse_publish(s).is_err(), "{s} should fail");
        }
        assert_eq!(
            parse_publish("0:80").unwrap_err().to_string(),
            "parsing host port: port numbers must be between 1 and 65535 (inclusive), got 0"
        );
        assert_eq!(
            parse_publish("65536:80").unwrap_err().to_string(),
            "parsing host port: port numbers must be between 1 and 65535 (inclusive), got 65536"
        );
    }

    #[test]
    fn conflicts() {
        let mut v = parse_publish("8080:80").unwrap();
        v.extend(parse_publish("127.0.0.1:8080:81").unwrap());
        assert!(check_conflicts(&v).is_err());
        let mut v = parse_publish("8080:80").unwrap();
        v.extend(parse_publish("8080:80/udp").unwrap());
        assert!(check_conflicts(&v).is_ok());
    }
}
