//! A tiny synchronous rtnetlink client (netlink-packet-route messages over a netlink-sys
//! socket): just the requests the bridge backend makes. No tokio, no `ip` processes.
//!
//! A socket talks to the network namespace it was opened in, so the backend opens one on a
//! thread that joined the container's namespace (see [`super::netns::run_in`]) for the inside.

use super::NetworkError;
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL,
    NLM_F_REPLACE, NLM_F_REQUEST,
};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeader, AddressMessage, AddressScope,
};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkHeader, LinkInfo, LinkMessage,
};
use netlink_packet_route::neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use std::net::IpAddr;
use std::os::fd::AsRawFd;

/// An open rtnetlink socket in the current thread's network namespace.
pub struct Rtnl {
    sock: Socket,
    seq: u32,
}

fn nl_err(what: &str, e: impl std::fmt::Display) -> NetworkError {
    NetworkError::Command(format!("netlink: {what}: {e}"))
}

impl Rtnl {
    pub fn open() -> Result<Self, NetworkError> {
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(|e| nl_err("socket", e))?;
        sock.bind_auto().map_err(|e| nl_err("bind", e))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(|e| nl_err("connect", e))?;
        Ok(Rtnl { sock, seq: 0 })
    }

    /// Sends one request and reads until its ACK (or the end of a dump); returns the
    /// messages received. `Err` carries the kernel's errno.
    fn request(
        &mut self,
        what: &str,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>, (i32, NetworkError)> {
        self.seq += 1;
        let mut hdr = NetlinkHeader::default();
        hdr.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        hdr.sequence_number = self.seq;
        let mut m = NetlinkMessage::new(hdr, NetlinkPayload::from(msg));
        m.finalize();
        let mut buf = vec![0u8; m.buffer_len()];
        m.serialize(&mut buf);
        self.sock.send(&buf, 0).map_err(|e| (0, nl_err(what, e)))?;
        let mut out = Vec::new();
        let mut rbuf = vec![0u8; 65536];
        loop {
            rbuf.clear();
            let n = loop {
                match self.sock.recv(&mut rbuf, 0) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    r => break r.map_err(|e| (0, nl_err(what, e)))?,
                }
            };
            let mut off = 0;
            while off < n {
                let reply = <NetlinkMessage<RouteNetlinkMessage>>::deserialize(&rbuf[off..n])
                    .map_err(|e| (0, nl_err(what, e)))?;
                let len = reply.header.length as usize;
                if len == 0 {
                    return Err((0, nl_err(what, "empty reply")));
                }
                off += (len + 3) & !3;
                if reply.header.sequence_number != self.seq {
                    continue;
                }
                match reply.payload {
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(out),
                            Some(code) => {
                                let errno = -code.get();
                                Err((
                                    errno,
                                    nl_err(what, std::io::Error::from_raw_os_error(errno)),
                                ))
                            }
                        };
                    }
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    _ => {}
                }
            }
        }
    }

    fn ok(&mut self, what: &str, msg: RouteNetlinkMessage, flags: u16) -> Result<(), NetworkError> {
        self.request(what, msg, flags)
            .map(|_| ())
            .map_err(|(_, e)| e)
    }

    /// The index of link `name`, `None` when there is none.
    pub fn link_index(&mut self, name: &str) -> Result<Option<u32>, NetworkError> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        match self.request(
            &format!("get link {name}"),
            RouteNetlinkMessage::GetLink(m),
            0,
        ) {
            Ok(msgs) => Ok(msgs.into_iter().find_map(|r| match r {
                RouteNetlinkMessage::NewLink(l) => Some(l.header.index),
                _ => None,
            })),
            Err((libc::ENODEV, _)) => Ok(None),
            Err((_, e)) => Err(e),
        }
    }

    /// Creates a bridge (no STP, so ports forward at once) with a fixed MAC address: without
    /// one, a bridge takes the lowest MAC of its ports and changes it when that port leaves,
    /// and the other containers' ARP entries for the gateway go stale (seconds without a
    /// gateway, seen in the DNS test).
    pub fn add_bridge(&mut self, name: &str, mtu: u32) -> Result<(), NetworkError> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        if let Some(mac) = parse_mac(&super::netlink::random_mac()) {
            m.attributes.push(LinkAttribute::Address(mac.to_vec()));
        }
        if mtu > 0 {
            m.attributes.push(LinkAttribute::Mtu(mtu));
        }
        m.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Bridge,
            )]));
        self.ok(
            &format!("add bridge {name}"),
            RouteNetlinkMessage::NewLink(m),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Creates a veth pair `host` / `peer`, the peer directly in the namespace `peer_ns` (with
    /// its MAC address when given).
    pub fn add_veth(
        &mut self,
        host: &str,
        peer: &str,
        peer_ns: &std::fs::File,
        peer_mac: Option<[u8; 6]>,
        mtu: u32,
    ) -> Result<(), NetworkError> {
        let mut p = LinkMessage::default();
        p.attributes.push(LinkAttribute::IfName(peer.to_string()));
        if let Some(mac) = peer_mac {
            p.attributes.push(LinkAttribute::Address(mac.to_vec()));
        }
        p.attributes
            .push(LinkAttribute::NetNsFd(peer_ns.as_raw_fd()));
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(host.to_string()));
        if mtu > 0 {
            p.attributes.push(LinkAttribute::Mtu(mtu));
            m.attributes.push(LinkAttribute::Mtu(mtu));
        }
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(p))),
        ]));
        self.ok(
            &format!("add veth {host}"),
            RouteNetlinkMessage::NewLink(m),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Sets a link up, optionally with a controller (bridge) and a MAC address.
    pub fn set_link_up(
        &mut self,
        index: u32,
        controller: Option<u32>,
        mac: Option<[u8; 6]>,
    ) -> Result<(), NetworkError> {
        let mut m = LinkMessage::default();
        m.header = LinkHeader {
            index,
            flags: LinkFlags::Up,
            change_mask: LinkFlags::Up,
            ..Default::default()
        };
        if let Some(c) = controller {
            m.attributes.push(LinkAttribute::Controller(c));
        }
        if let Some(mac) = mac {
            m.attributes.push(LinkAttribute::Address(mac.to_vec()));
        }
        self.ok(
            &format!("set link {index} up"),
            RouteNetlinkMessage::SetLink(m),
            0,
        )
    }

    /// Adds (or, with `replace`, keeps) an address on link `index`.
    pub fn add_address(
        &mut self,
        index: u32,
        ip: IpAddr,
        prefix: u8,
        replace: bool,
    ) -> Result<(), NetworkError> {
        let mut m = AddressMessage::default();
        m.header = AddressHeader {
            family: family(&ip),
            prefix_len: prefix,
            scope: AddressScope::Universe,
            index,
            ..Default::default()
        };
        m.attributes.push(AddressAttribute::Local(ip));
        m.attributes.push(AddressAttribute::Address(ip));
        if ip.is_ipv6() {
            m.attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        let flags = if replace {
            NLM_F_CREATE | NLM_F_REPLACE
        } else {
            NLM_F_CREATE | NLM_F_EXCL
        };
        self.ok(
            &format!("add address {ip}/{prefix}"),
            RouteNetlinkMessage::NewAddress(m),
            flags,
        )
    }

    /// Adds a default route via `gateway` out of link `index`.
    pub fn add_default_route(
        &mut self,
        gateway: IpAddr,
        index: u32,
        metric: u32,
    ) -> Result<(), NetworkError> {
        let mut m = RouteMessage::default();
        m.header = RouteHeader {
            address_family: family(&gateway),
            table: RouteHeader::RT_TABLE_MAIN,
            protocol: RouteProtocol::Boot,
            scope: RouteScope::Universe,
            kind: RouteType::Unicast,
            ..Default::default()
        };
        m.attributes.push(RouteAttribute::Gateway(match gateway {
            IpAddr::V4(a) => RouteAddress::Inet(a),
            IpAddr::V6(a) => RouteAddress::Inet6(a),
        }));
        m.attributes.push(RouteAttribute::Oif(index));
        m.attributes.push(RouteAttribute::Priority(metric));
        self.ok(
            &format!("add default route via {gateway}"),
            RouteNetlinkMessage::NewRoute(m),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Removes address `ip/prefix` from link `index`; a missing one is not an error.
    pub fn del_address(&mut self, index: u32, ip: IpAddr, prefix: u8) -> Result<(), NetworkError> {
        let mut m = AddressMessage::default();
        m.header = AddressHeader {
            family: family(&ip),
            prefix_len: prefix,
            index,
            ..Default::default()
        };
        m.attributes.push(AddressAttribute::Local(ip));
        m.attributes.push(AddressAttribute::Address(ip));
        match self.request(
            &format!("delete address {ip}/{prefix}"),
            RouteNetlinkMessage::DelAddress(m),
            0,
        ) {
            Ok(_) | Err((libc::EADDRNOTAVAIL, _)) | Err((libc::ENODEV, _)) => Ok(()),
            Err((_, e)) => Err(e),
        }
    }

    /// Forgets the neighbour (ARP/NDP) entry of `ip` on link `index`; none is not an error.
    /// A new container that gets a released address has a new MAC address: a stale entry
    /// would send the host's packets to the old one until the kernel notices (~20 s).
    pub fn del_neighbour(&mut self, index: u32, ip: IpAddr) -> Result<(), NetworkError> {
        let mut m = NeighbourMessage::default();
        m.header.family = family(&ip);
        m.header.ifindex = index;
        m.attributes.push(NeighbourAttribute::Destination(match ip {
            IpAddr::V4(a) => NeighbourAddress::Inet(a),
            IpAddr::V6(a) => NeighbourAddress::Inet6(a),
        }));
        match self.request(
            &format!("delete neighbour {ip}"),
            RouteNetlinkMessage::DelNeighbour(m),
            0,
        ) {
            Ok(_) | Err((libc::ENOENT, _)) | Err((libc::ENODEV, _)) => Ok(()),
            Err((_, e)) => Err(e),
        }
    }

    /// Deletes link `index` (a veth's peer goes with it).
    pub fn delete_link(&mut self, index: u32) -> Result<(), NetworkError> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        match self.request(
            &format!("delete link {index}"),
            RouteNetlinkMessage::DelLink(m),
            0,
        ) {
            Ok(_) | Err((libc::ENODEV, _)) => Ok(()),
            Err((_, e)) => Err(e),
        }
    }
}

fn family(ip: &IpAddr) -> AddressFamily {
    if ip.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    }
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut out {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}
