//! IP subnets in CIDR notation (`10.90.0.0/24`, `fd00::/64`): parsing with Go's strictness,
//! containment, overlap and address arithmetic for IPAM. IPv4 and IPv6 share one code path by
//! working on `u128` values.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A subnet: a network address (host bits cleared) and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// The error for text that is not a CIDR address (Podman's wording).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CIDR address: {0}")]
pub struct CidrError(pub String);

impl Cidr {
    /// A subnet from an address (host bits are cleared) and a prefix length.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Cidr> {
        if prefix > bits(addr) {
            return None;
        }
        let net = from_u128(addr, to_u128(addr) & mask(bits(addr), prefix));
        Some(Cidr { addr: net, prefix })
    }

    /// Parses `ADDR/PREFIX`, also returning the address as written (Go's `ParseCIDR`).
    pub fn parse_with_ip(s: &str) -> Result<(IpAddr, Cidr), CidrError> {
        let err = || CidrError(s.to_string());
        let (a, p) = s.split_once('/').ok_or_else(err)?;
        let ip = IpAddr::from_str(a).map_err(|_| err())?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let prefix: u8 = p.parse().map_err(|_| err())?;
        let c = Cidr::new(ip, prefix).ok_or_else(err)?;
        Ok((ip, c))
    }

    pub fn network(&self) -> IpAddr {
        self.addr
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn is_ipv6(&self) -> bool {
        self.addr.is_ipv6()
    }

    /// The number of addresses in the subnet (saturating for huge IPv6 subnets).
    pub fn size(&self) -> u128 {
        let host_bits = bits(self.addr) - self.prefix;
        if host_bits >= 128 {
            u128::MAX
        } else {
            1u128 << host_bits
        }
    }

    /// The first address of the subnet as an integer.
    pub fn first(&self) -> u128 {
        to_u128(self.addr)
    }

    /// The last address of the subnet as an integer (the broadcast address on IPv4).
    pub fn last(&self) -> u128 {
        self.first() | !mask(bits(self.addr), self.prefix) & full(bits(self.addr))
    }

    /// True when `ip` lies inside the subnet (same family).
    pub fn contains(&self, ip: &IpAddr) -> bool {
        ip.is_ipv6() == self.is_ipv6() && {
            let v = to_u128(*ip);
            v >= self.first() && v <= self.last()
        }
    }

    /// True when the two subnets share any address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.is_ipv6() == other.is_ipv6()
            && self.first() <= other.last()
            && other.first() <= self.last()
    }

    /// The address at `offset` from the network address.
    pub fn nth(&self, offset: u128) -> Option<IpAddr> {
        let v = self.first().checked_add(offset)?;
        (v <= self.last()).then(|| from_u128(self.addr, v))
    }

    /// The offset of `ip` from the network address (when inside).
    pub fn offset_of(&self, ip: &IpAddr) -> Option<u128> {
        self.contains(ip).then(|| to_u128(*ip) - self.first())
    }

    /// The subnet that follows this one with the same prefix length.
    pub fn next_sibling(&self) -> Option<Cidr> {
        let v = self.last().checked_add(1)?;
        if v > full(bits(self.addr)) {
            return None;
        }
        Cidr::new(from_u128(self.addr, v), self.prefix)
    }
}

impl FromStr for Cidr {
    type Err = CidrError;
    fn from_str(s: &str) -> Result<Self, CidrError> {
        Cidr::parse_with_ip(s).map(|(_, c)| c)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl serde::Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn bits(a: IpAddr) -> u8 {
    if a.is_ipv4() {
        32
    } else {
        128
    }
}

fn full(bits: u8) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

fn mask(bits: u8, prefix: u8) -> u128 {
    let host = bits - prefix;
    if host >= 128 {
        0
    } else {
        full(bits) & !((1u128 << host) - 1)
    }
}

/// An address as an integer.
pub fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u32::from(v) as u128,
        IpAddr::V6(v) => u128::from(v),
    }
}

/// An integer as an address of the same family as `like`.
pub fn from_u128(like: IpAddr, v: u128) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4((v as u32).into()),
        IpAddr::V6(_) => IpAddr::V6(v.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_normalise() {
        let c: Cidr = "10.99.0.5/24".parse().unwrap();
        assert_eq!(c.to_string(), "10.99.0.0/24");
        assert!("10.99.0.0/33".parse::<Cidr>().is_err());
        assert!("foo".parse::<Cidr>().is_err());
        assert!("10.0.0.0".parse::<Cidr>().is_err());
        assert!("10.0.0.0/+8".parse::<Cidr>().is_err());
        assert_eq!(
            "fd00:1::7/64".parse::<Cidr>().unwrap().to_string(),
            "fd00:1::/64"
        );
        assert_eq!(
            "10.99.0.0/33".parse::<Cidr>().unwrap_err().to_string(),
            "invalid CIDR address: 10.99.0.0/33"
        );
    }

    #[test]
    fn arithmetic() {
        let c: Cidr = "10.90.0.0/24".parse().unwrap();
        assert_eq!(c.size(), 256);
        assert_eq!(c.nth(1).unwrap().to_string(), "10.90.0.1");
        assert_eq!(c.nth(256), None);
        assert!(c.contains(&"10.90.0.255".parse().unwrap()));
        assert!(!c.contains(&"10.90.1.0".parse().unwrap()));
        assert_eq!(c.next_sibling().unwrap().to_string(), "10.90.1.0/24");
        let big: Cidr = "10.90.0.0/16".parse().unwrap();
        assert!(big.overlaps(&c) && c.overlaps(&big));
        assert!(!c.overlaps(&"10.91.0.0/24".parse().unwrap()));
        let last: Cidr = "255.255.255.0/24".parse().unwrap();
        assert_eq!(last.next_sibling(), None);
        let v6: Cidr = "fd00::/64".parse().unwrap();
        assert_eq!(v6.nth(1).unwrap().to_string(), "fd00::1");
        assert!(!v6.overlaps(&c));
    }
}
