//! DNS by container name on user networks: a small resolver that answers A/AAAA queries for
//! the names of a network's containers (name, aliases, short ID; bare or under
//! [`DOMAIN`]) and forwards every other query, unchanged, to the host's resolvers.
//!
//! [`answer`] is a pure function from a query packet to a reply (or "forward"), so the wire
//! format is unit-tested; [`serve`] is the UDP loop. Starting one resolver per network on its
//! gateway address (when the first container with DNS starts) is the container wiring's part.

use super::NetworkError;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The search domain of container names: Podman's, so scripts that use `NAME.dns.podman` work
/// unchanged (the domain only exists inside containers' resolv.conf, so it cannot clash).
pub const DOMAIN: &str = "dns.podman";
const TTL: u32 = 60;
const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;
const RCODE_NXDOMAIN: u16 = 3;

/// Names and addresses of one network's containers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zone {
    records: Vec<(String, IpAddr)>,
}

impl Zone {
    /// Adds `ip` under `name` (case-insensitive).
    pub fn add(&mut self, name: &str, ip: IpAddr) {
        self.records
            .push((name.trim_end_matches('.').to_ascii_lowercase(), ip));
    }

    fn lookup(&self, name: &str) -> Option<Vec<IpAddr>> {
        let v: Vec<IpAddr> = self
            .records
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, ip)| *ip)
            .collect();
        (!v.is_empty()).then_some(v)
    }
}

/// What to do with a query.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// Send this reply.
    Reply(Vec<u8>),
    /// Not ours: send the query upstream.
    Forward,
    /// Not a query we can parse: drop it.
    Drop,
}

struct Question {
    name: String,
    qtype: u16,
    qclass: u16,
    /// End of the question section in the packet.
    end: usize,
}

fn parse_question(p: &[u8]) -> Option<Question> {
    if p.len() < 12 || p[2] & 0x80 != 0 {
        return None;
    }
    let qdcount = u16::from_be_bytes([p[4], p[5]]);
    if qdcount != 1 {
        return None;
    }
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = *p.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None; // compression is not valid in a question
        }
        let label = p.get(i..i + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*p.get(i)?, *p.get(i + 1)?]);
    let qclass = u16::from_be_bytes([*p.get(i + 2)?, *p.get(i + 3)?]);
    Some(Question {
        name: labels.join("."),
        qtype,
        qclass,
        end: i + 4,
    })
}

/// Answers `query` from `zone`, or says to forward it.
pub fn answer(query: &[u8], zone: &Zone) -> Answer {
    let Some(q) = parse_question(query) else {
        return Answer::Drop;
    };
    let suffix = format!(".{DOMAIN}");
    let in_domain = q.name == DOMAIN || q.name.ends_with(&suffix);
    let short = q.name.strip_suffix(&suffix).unwrap_or(&q.name);
    let found = zone.lookup(short);
    if found.is_none() && !in_domain {
        return Answer::Forward;
    }
    let ips: Vec<IpAddr> = found
        .unwrap_or_default()
        .into_iter()
        .filter(|ip| match q.qtype {
            TYPE_A => ip.is_ipv4(),
            TYPE_AAAA => ip.is_ipv6(),
            _ => false,
        })
        .filter(|_| q.qclass == CLASS_IN)
        .collect();
    let known = zone.lookup(short).is_some();
    let mut r = Vec::with_capacity(q.end + ips.len() * 28);
    r.extend_from_slice(&query[0..2]);
    // QR, opcode and RD from the query, AA, RA; NXDOMAIN for unknown names of our domain.
    let rd = query[2] & 0x01;
    let opcode = query[2] & 0x78;
    r.push(0x80 | opcode | 0x04 | rd);
    let rcode = if known { 0 } else { RCODE_NXDOMAIN } as u8;
    r.push(0x80 | rcode);
    r.extend_from_slice(&1u16.to_be_bytes());
    r.extend_from_slice(&(ips.len() as u16).to_be_bytes());
    r.extend_from_slice(&[0, 0, 0, 0]);
    r.extend_from_slice(&query[12..q.end]);
    for ip in ips {
        r.extend_from_slice(&[0xc0, 0x0c]); // the name of the question
        let (ty, data): (u16, Vec<u8>) = match ip {
            IpAddr::V4(a) => (TYPE_A, a.octets().to_vec()),
            IpAddr::V6(a) => (TYPE_AAAA, a.octets().to_vec()),
        };
        r.extend_from_slice(&ty.to_be_bytes());
        r.extend_from_slice(&CLASS_IN.to_be_bytes());
        r.extend_from_slice(&TTL.to_be_bytes());
        r.extend_from_slice(&(data.len() as u16).to_be_bytes());
        r.extend_from_slice(&data);
    }
    Answer::Reply(r)
}

/// The host's resolvers from a resolv.conf text (port 53).
pub fn upstreams_from_resolv_conf(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|a| a.trim().split('%').next()?.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

/// Sends `query` to each upstream in turn and returns the first reply.
fn forward(query: &[u8], upstreams: &[SocketAddr]) -> Option<Vec<u8>> {
    for up in upstreams {
        let bind: SocketAddr = if up.is_ipv4() {
            "0.0.0.0:0".parse().ok()?
        } else {
            "[::]:0".parse().ok()?
        };
        let Ok(s) = UdpSocket::bind(bind) else {
            continue;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if s.send_to(query, up).is_err() {
            continue;
        }
        let mut buf = vec![0u8; 4096];
        if let Ok((n, _)) = s.recv_from(&mut buf) {
            buf.truncate(n);
            return Some(buf);
        }
    }
    None
}

/// Serves queries on `sock` until `stop` is set or `keep_going()` says no (checked at least
/// every 200 ms): local names from `zone()` (called per query, so new containers are seen at
/// once), the rest forwarded (each on its own thread).
pub fn serve(
    sock: &UdpSocket,
    upstreams: &[SocketAddr],
    zone: &dyn Fn() -> Zone,
    stop: &AtomicBool,
    keep_going: &dyn Fn() -> bool,
) -> Result<(), NetworkError> {
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| NetworkError::Command(format!("dns: {e}")))?;
    let mut buf = vec![0u8; 4096];
    while !stop.load(Ordering::Relaxed) && keep_going() {
        let (n, peer) = match sock.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        // A socket with a receive timeout is not restarted after a signal.
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(e) => return Err(NetworkError::Command(format!("dns: {e}"))),
        };
        match answer(&buf[..n], &zone()) {
            Answer::Reply(r) => {
                let _ = sock.send_to(&r, peer);
            }
            Answer::Forward => {
                let query = buf[..n].to_vec();
                let ups = upstreams.to_vec();
                let Ok(reply_sock) = sock.try_clone() else {
                    continue;
                };
                std::thread::spawn(move || {
                    if let Some(r) = forward(&query, &ups) {
                        let _ = reply_sock.send_to(&r, peer);
                    }
                });
            }
            Answer::Drop => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name.split('.') {
            q.push(l.len() as u8);
            q.extend_from_slice(l.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&CLASS_IN.to_be_bytes());
        q
    }

    fn zone() -> Zone {
        let mut z = Zone::default();
        z.add("web", "10.90.1.2".parse().unwrap());
        z.add("web", "fd00::2".parse().unwrap());
        z.add("Alias", "10.90.1.2".parse().unwrap());
        z
    }

    #[test]
    fn answers_names_and_aliases() {
        let Answer::Reply(r) = answer(&query("web", TYPE_A), &zone()) else {
            panic!("expected a reply")
        };
        assert_eq!(&r[0..2], &[0x12, 0x34]);
        assert_eq!(r[3] & 0x0f, 0, "NOERROR");
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), 1, "one answer");
        assert_eq!(&r[r.len() - 4..], &[10, 90, 1, 2]);
        let Answer::Reply(r) = answer(&query("WEB.dns.podman", TYPE_AAAA), &zone()) else {
            panic!("expected a reply")
        };
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), 1);
        assert_eq!(r[r.len() - 1], 2);
        let Answer::Reply(r) = answer(&query("alias", TYPE_A), &zone()) else {
            panic!("expected a reply")
        };
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), 1);
    }

    #[test]
    fn unknown_names() {
        assert_eq!(
            answer(&query("example.org", TYPE_A), &zone()),
            Answer::Forward
        );
        let Answer::Reply(r) = answer(&query("nope.dns.podman", TYPE_A), &zone()) else {
            panic!("expected NXDOMAIN")
        };
        assert_eq!(r[3] & 0x0f, RCODE_NXDOMAIN as u8);
        assert_eq!(answer(&[1, 2, 3], &zone()), Answer::Drop);
        let mut reply = query("web", TYPE_A);
        reply[2] |= 0x80;
        assert_eq!(
            answer(&reply, &zone()),
            Answer::Drop,
            "responses are not queries"
        );
    }

    #[test]
    fn upstreams() {
        let u = upstreams_from_resolv_conf(
            "search x\nnameserver 10.0.0.1\nnameserver fe80::1%eth0\n# c\n",
        );
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].to_string(), "10.0.0.1:53");
    }
}
