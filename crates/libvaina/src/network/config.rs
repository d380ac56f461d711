//! Network definitions in Podman's network JSON format (the files netavark reads), stored one
//! per network as `<root>/networks/<name>.json`, written atomically.
//!
//! [`CreateOptions`] (what `network create` asks for) becomes a [`Network`] through
//! [`build_network`], which checks names, CIDRs, gateways, ranges, options and overlaps with
//! the subnets already in use (vaina's networks, Podman's network files, host routes) and picks
//! a free subnet and bridge name when none is given.

use super::cidr::Cidr;
use super::NetworkError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Name of vaina's default network (Podman's is `podman`; see README "Networks").
pub const DEFAULT_NETWORK: &str = "vaina";
/// Bridge of the default network; user networks get `vaina1`, `vaina2`, ...
pub const BRIDGE_PREFIX: &str = "vaina";
/// Names that mean a `--network` mode rather than a network (Podman refuses them too; `pasta`
/// as newer Podman does).
const NETWORK_MODES: &[&str] = &[
    "bridge",
    "none",
    "host",
    "private",
    "slirp4netns",
    "pasta",
    "ns",
    "container",
];
/// Options a bridge network accepts (`--opt`).
const BRIDGE_OPTIONS: &[&str] = &[
    "mtu",
    "isolate",
    "metric",
    "vlan",
    "vrf",
    "com.docker.network.bridge.name",
];

/// One subnet of a network, as in Podman's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub subnet: Cidr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_range: Option<LeaseRange>,
}

/// The part of a subnet IPAM hands out (`--ip-range`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ip: Option<IpAddr>,
}

/// A network definition, field for field Podman's `types.Network`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    pub name: String,
    pub id: String,
    pub driver: String,
    pub network_interface: String,
    pub created: DateTime<Utc>,
    #[serde(default)]
    pub subnets: Vec<Subnet>,
    #[serde(default)]
    pub ipv6_enabled: bool,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub dns_enabled: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    pub ipam_options: BTreeMap<String, String>,
}

impl Network {
    /// The MTU asked for with `--opt mtu=` (0: the kernel's default).
    pub fn mtu(&self) -> u32 {
        self.options
            .get("mtu")
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    }

    /// `--opt isolate=true`: no traffic to or from vaina's other networks.
    pub fn isolate(&self) -> bool {
        self.options
            .get("isolate")
            .is_some_and(|v| v == "true" || v == "strict")
    }
}

/// What `network create` asks for (raw flag values; checked by [`build_network`]).
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub name: Option<String>,
    pub driver: Option<String>,
    pub subnets: Vec<String>,
    pub gateways: Vec<String>,
    pub ip_ranges: Vec<String>,
    pub ipv6: bool,
    pub internal: bool,
    pub disable_dns: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    pub interface_name: Option<String>,
    /// Succeed without change when the network already exists (`--ignore`).
    pub ignore: bool,
}

/// Subnets and interface names already taken, which a new network must not reuse.
#[derive(Debug, Clone, Default)]
pub struct UsedResources {
    pub subnets: Vec<Cidr>,
    pub interfaces: Vec<String>,
    pub names: Vec<String>,
}

/// True for names Podman accepts: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn valid_name(name: &str) -> bool {
    let mut b = name.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphanumeric())
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Builds and validates a network from `opts`, choosing what was left open.
pub fn build_network(
    opts: &CreateOptions,
    used: &UsedResources,
    pool: &[Cidr],
) -> Result<Network, NetworkError> {
    let driver = opts.driver.clone().unwrap_or_else(|| "bridge".into());
    if driver != "bridge" {
        return Err(NetworkError::Invalid(format!(
            "unsupported driver {driver}: invalid argument"
        )));
    }
    let name = match &opts.name {
        Some(n) => n.clone(),
        None => (1..)
            .map(|i| format!("{BRIDGE_PREFIX}{i}"))
            .find(|n| !used.names.contains(n))
            .unwrap_or_default(),
    };
    if !valid_name(&name) {
        return Err(NetworkError::Invalid(format!(
            "network name {name} invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument"
        )));
    }
    if NETWORK_MODES.contains(&name.as_str()) {
        return Err(NetworkError::Invalid(format!(
            "cannot create network with name {name:?} because it conflicts with a valid network mode"
        )));
    }
    if used.names.contains(&name) {
        return Err(NetworkError::Exists(name));
    }
    for (k, v) in &opts.options {
        if !BRIDGE_OPTIONS.contains(&k.as_str()) {
            return Err(NetworkError::Invalid(format!(
                "unsupported bridge network option {k}"
            )));
        }
        if k == "mtu" || k == "metric" || k == "vlan" {
            v.parse::<u32>().map_err(|_| {
                NetworkError::Invalid(format!("strconv.Atoi: parsing {v:?}: invalid syntax"))
            })?;
        }
        if k == "isolate" && !matches!(v.as_str(), "true" | "false" | "strict") {
            return Err(NetworkError::Invalid(format!(
                "failed to parse isolate option: strconv.ParseBool: parsing {v:?}: invalid syntax"
            )));
        }
    }
    if opts.subnets.is_empty() && (!opts.gateways.is_empty() || !opts.ip_ranges.is_empty()) {
        return Err(NetworkError::Invalid(
            "cannot set gateway or range without subnet".into(),
        ));
    }
    let mut subnets = Vec::new();
    for (i, s) in opts.subnets.iter().enumerate() {
        let cidr: Cidr = s.parse()?;
        let gateway = match opts.gateways.get(i) {
            Some(g) => {
                let ip: IpAddr = g.parse().map_err(|_| {
                    NetworkError::Invalid(format!("gateway {g} is not an IP address"))
                })?;
                if !cidr.contains(&ip) {
                    return Err(NetworkError::Invalid(format!(
                        "gateway {ip} not in subnet {cidr}"
                    )));
                }
                Some(ip)
            }
            None => cidr.nth(1),
        };
        let lease_range = match opts.ip_ranges.get(i) {
            Some(r) => Some(parse_range(r, &cidr)?),
            None => None,
        };
        subnets.push(Subnet {
            subnet: cidr,
            gateway,
            lease_range,
        });
    }
    for (i, a) in subnets.iter().enumerate() {
        if a.subnet.size() < 4 {
            return Err(NetworkError::Invalid(format!(
                "subnet {} is too small",
                a.subnet
            )));
        }
        if subnets[..i].iter().any(|b| b.subnet.overlaps(&a.subnet))
            || used.subnets.iter().any(|u| u.overlaps(&a.subnet))
        {
            return Err(NetworkError::Invalid(format!(
                "subnet {} is already used on the host or by another config",
                a.subnet
            )));
        }
    }
    let has_v4 = subnets.iter().any(|s| !s.subnet.is_ipv6());
    let has_v6 = subnets.iter().any(|s| s.subnet.is_ipv6());
    if !has_v4 && (!has_v6 || !opts.ipv6) {
        let cidr = free_subnet(pool, used)?;
        subnets.push(Subnet {
            gateway: cidr.nth(1),
            subnet: cidr,
            lease_range: None,
        });
    }
    if opts.ipv6 && !has_v6 {
        let cidr = random_ula_subnet();
        subnets.push(Subnet {
            gateway: cidr.nth(1),
            subnet: cidr,
            lease_range: None,
        });
    }
    let ipv6_enabled = opts.ipv6 || has_v6;
    let network_interface = match opts
        .interface_name
        .clone()
        .or_else(|| opts.options.get("com.docker.network.bridge.name").cloned())
    {
        Some(i) => {
            if used.interfaces.contains(&i) {
                return Err(NetworkError::Invalid(format!(
                    "bridge name {i} already in use"
                )));
            }
            i
        }
        None => free_bridge_name(used),
    };
    if network_interface.is_empty() || network_interface.len() > 15 {
        return Err(NetworkError::Invalid(format!(
            "interface name {network_interface} is invalid (1 to 15 characters)"
        )));
    }
    let mut options = opts.options.clone();
    options.remove("com.docker.network.bridge.name");
    Ok(Network {
        name,
        id: random_id(),
        driver,
        network_interface,
        created: Utc::now(),
        subnets,
        ipv6_enabled,
        internal: opts.internal,
        dns_enabled: !opts.disable_dns,
        labels: opts.labels.clone(),
        options,
        ipam_options: BTreeMap::from([("driver".to_string(), "host-local".to_string())]),
    })
}

fn parse_range(r: &str, subnet: &Cidr) -> Result<LeaseRange, NetworkError> {
    let (start, end) = if let Ok(c) = r.parse::<Cidr>() {
        // Podman skips the network address and ends before the broadcast address.
        let first = c.nth(if c.size() > 2 { 1 } else { 0 });
        let last = c.nth(c.size().saturating_sub(if c.size() > 2 { 2 } else { 1 }));
        (first, last)
    } else if let Some((a, b)) = r.split_once('-') {
        let p = |x: &str| x.trim().parse::<IpAddr>().ok();
        match (p(a), p(b)) {
            (Some(a), Some(b)) => (Some(a), Some(b)),
            _ => return Err(NetworkError::Invalid(format!("invalid ip range {r}"))),
        }
    } else {
        return Err(NetworkError::Invalid(format!("invalid CIDR address: {r}")));
    };
    for (what, ip) in [("start", start), ("end", end)] {
        if let Some(ip) = ip {
            if !subnet.contains(&ip) {
                return Err(NetworkError::Invalid(format!(
                    "lease range {what} ip {ip} not in subnet {subnet}"
                )));
            }
        }
    }
    Ok(LeaseRange {
        start_ip: start,
        end_ip: end,
    })
}

/// The first /24 of `pool` (in order) that overlaps nothing in `used`.
pub fn free_subnet(pool: &[Cidr], used: &UsedResources) -> Result<Cidr, NetworkError> {
    for p in pool {
        let mut c = Cidr::new(p.network(), p.prefix().max(24))
            .ok_or_else(|| NetworkError::Invalid(format!("invalid subnet pool {p}")))?;
        while p.contains(&c.network()) {
            if !used.subnets.iter().any(|u| u.overlaps(&c)) {
                return Ok(c);
            }
            match c.next_sibling() {
                Some(n) => c = n,
                None => break,
            }
        }
    }
    Err(NetworkError::Invalid(
        "could not find free subnet from subnet pools".into(),
    ))
}

/// vaina's subnet pool: 10.90.0.0/16 up to 10.255.0.0/16, split into /24s. Podman's default
/// network is 10.88.0.0/16 and its new networks start at 10.89.0.0/24, so vaina starts after
/// both and still skips whatever Podman (or anyone) uses on the host.
pub fn default_pool() -> Vec<Cidr> {
    (90u8..=255)
        .filter_map(|b| Cidr::new(IpAddr::from([10, b, 0, 0]), 16))
        .collect()
}

fn free_bridge_name(used: &UsedResources) -> String {
    (1..)
        .map(|i| format!("{BRIDGE_PREFIX}{i}"))
        .find(|n| !used.interfaces.contains(n))
        .unwrap_or_default()
}

/// A random 64-hex network ID.
pub fn random_id() -> String {
    let b: [u8; 32] = rand::random();
    hex::encode(b)
}

/// A random unique-local /64 (`fdXX:XXXX:XXXX:XXXX::/64`), as Podman picks for `--ipv6`.
fn random_ula_subnet() -> Cidr {
    let mut b: [u8; 16] = rand::random();
    b[0] = 0xfd;
    for x in &mut b[8..] {
        *x = 0;
    }
    Cidr::new(IpAddr::from(b), 64).expect("prefix 64 is valid")
}

/// Where network definitions live under the graph root.
pub fn networks_dir(root: &Path) -> PathBuf {
    root.join("networks")
}

/// Reads every `*.json` network file of `dir` (unreadable files are skipped with a warning).
pub fn load_dir(dir: &Path) -> Vec<Network> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        match std::fs::read(&p)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<Network>(&b).map_err(|e| e.to_string()))
        {
            Ok(n) => out.push(n),
            Err(e) => log::warn!("skipping network file {}: {e}", p.display()),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Writes `net` to `<dir>/<name>.json` atomically, indented as Podman writes its files.
pub fn save(dir: &Path, net: &Network) -> Result<(), NetworkError> {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"     ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    net.serialize(&mut ser)
        .map_err(|e| NetworkError::Invalid(format!("encoding network {}: {e}", net.name)))?;
    crate::store::write_atomic(&dir.join(format!("{}.json", net.name)), &buf)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(name: &str) -> CreateOptions {
        CreateOptions {
            name: Some(name.into()),
            ..Default::default()
        }
    }

    #[test]
    fn picks_free_subnet_and_bridge() {
        let used = UsedResources {
            subnets: vec!["10.90.0.0/24".parse().unwrap()],
            interfaces: vec!["vaina1".into()],
            names: vec!["vaina".into()],
        };
        let n = build_network(&opts("a"), &used, &default_pool()).unwrap();
        assert_eq!(n.subnets[0].subnet.to_string(), "10.90.1.0/24");
        assert_eq!(n.subnets[0].gateway.unwrap().to_string(), "10.90.1.1");
        assert_eq!(n.network_interface, "vaina2");
        assert_eq!(n.id.len(), 64);
        assert!(n.dns_enabled);
    }

    #[test]
    fn bad_inputs() {
        let used = UsedResources {
            subnets: vec!["10.99.0.0/24".parse().unwrap()],
            names: vec!["taken".into()],
            ..Default::default()
        };
        let err = |o: CreateOptions| {
            build_network(&o, &used, &default_pool())
                .unwrap_err()
                .to_string()
        };
        let mut o = opts("x");
        o.subnets = vec!["10.99.0.0/25".into()];
        assert_eq!(
            err(o.clone()),
            "subnet 10.99.0.0/25 is already used on the host or by another config"
        );
        o.subnets = vec!["10.98.0.0/33".into()];
        assert_eq!(err(o.clone()), "invalid CIDR address: 10.98.0.0/33");
        o.subnets = vec!["10.98.0.0/24".into()];
        o.gateways = vec!["10.97.0.1".into()];
        assert_eq!(
            err(o.clone()),
            "gateway 10.97.0.1 not in subnet 10.98.0.0/24"
        );
        let mut o = opts("x");
        o.gateways = vec!["10.97.0.1".into()];
        assert_eq!(err(o), "cannot set gateway or range without subnet");
        assert_eq!(
            err(opts("taken")),
            "network name taken already used: network already exists"
        );
        assert!(err(opts("bad/name")).starts_with("network name bad/name invalid"));
        assert_eq!(
            err(opts("host")),
            "cannot create network with name \"host\" because it conflicts with a valid network mode"
        );
        let mut o = opts("x");
        o.options.insert("foo".into(), "bar".into());
        assert_eq!(err(o), "unsupported bridge network option foo");
        let mut o = opts("x");
        o.driver = Some("macvlan2".into());
        assert_eq!(err(o), "unsupported driver macvlan2: invalid argument");
    }

    #[test]
    fn ranges_and_ipv6() {
        let mut o = opts("x");
        o.subnets = vec!["10.98.0.0/24".into()];
        o.ip_ranges = vec!["10.98.0.128/25".into()];
        o.ipv6 = true;
        let n = build_network(&o, &UsedResources::default(), &default_pool()).unwrap();
        let r = n.subnets[0].lease_range.as_ref().unwrap();
        assert_eq!(r.start_ip.unwrap().to_string(), "10.98.0.129");
        assert_eq!(r.end_ip.unwrap().to_string(), "10.98.0.254");
        assert!(n.ipv6_enabled);
        assert!(n.subnets[1].subnet.is_ipv6());
        assert_eq!(n.subnets[1].subnet.prefix(), 64);
    }

    #[test]
    fn json_round_trip_matches_podman_fields() {
        let n = build_network(&opts("j"), &UsedResources::default(), &default_pool()).unwrap();
        let v = serde_json::to_value(&n).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "name",
                "id",
                "driver",
                "network_interface",
                "created",
                "subnets",
                "ipv6_enabled",
                "internal",
                "dns_enabled",
                "ipam_options"
            ]
        );
        let back: Network = serde_json::from_value(v).unwrap();
        assert_eq!(back, n);
    }
}
