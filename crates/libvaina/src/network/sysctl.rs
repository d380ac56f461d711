//! The kernel switches the bridge backend needs: IPv4/IPv6 forwarding for networks with a way
//! out, and `route_localnet` on a bridge so ports published on 127.0.0.1 reach containers.
//! Values are only ever raised, never reset on teardown (other software may rely on them).

use super::NetworkError;
use std::path::Path;

fn set(path: &str, value: &str) -> Result<(), NetworkError> {
    let p = Path::new(path);
    if std::fs::read_to_string(p).is_ok_and(|v| v.trim() == value) {
        return Ok(());
    }
    std::fs::write(p, value).map_err(|e| NetworkError::Command(format!("sysctl {path}: {e}")))
}

/// `net.ipv4.ip_forward = 1`.
pub fn enable_ipv4_forwarding() -> Result<(), NetworkError> {
    set("/proc/sys/net/ipv4/ip_forward", "1")
}

/// `net.ipv6.conf.all.forwarding = 1`.
pub fn enable_ipv6_forwarding() -> Result<(), NetworkError> {
    set("/proc/sys/net/ipv6/conf/all/forwarding", "1")
}

/// `net.ipv4.conf.<bridge>.route_localnet = 1`: DNAT of 127.0.0.1 to a container address.
pub fn enable_route_localnet(bridge: &str) -> Result<(), NetworkError> {
    set(
        &format!("/proc/sys/net/ipv4/conf/{bridge}/route_localnet"),
        "1",
    )
}
