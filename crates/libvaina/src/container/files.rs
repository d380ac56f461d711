//! The files vaina prepares for each container and bind-mounts into it: `/etc/hosts`,
//! `/etc/hostname`, `/etc/resolv.conf` (the host's, without loopback name servers, which
//! cannot work from another network namespace, as Podman does) and `/run/.containerenv`.

use crate::error::IoContext;
use crate::Result;
use std::path::{Path, PathBuf};

/// Filters the host's resolv.conf: drops `nameserver` lines pointing at loopback; falls back
/// to public resolvers when none is left (as Podman does).
pub fn filter_resolv_conf(host: &str) -> String {
    let mut out = String::new();
    let mut servers = 0;
    for line in host.lines() {
        let t = line.trim();
        if let Some(ns) = t.strip_prefix("nameserver") {
            let ns = ns.trim();
            if ns.starts_with("127.") || ns == "::1" || ns.starts_with("0.") {
                continue;
            }
            servers += 1;
        }
        out.push_str(line);
        out.push('\n');
    }
    if servers == 0 {
        out.push_str("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }
    out
}

/// The `/etc/hosts` of a container: loopback names plus the container's own hostname.
pub fn hosts_file(hostname: &str, name: &str) -> String {
    let mut s = String::from("127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n");
    s.push_str(&format!("127.0.1.1\t{hostname} {name}\n"));
    s
}

/// `/run/.containerenv` as Podman writes it for a rootful container.
pub fn containerenv(id: &str, name: &str, image_name: &str, image_id: &str) -> String {
    format!(
        "engine=\"vaina-{}\"\nname=\"{name}\"\nid=\"{id}\"\nimage=\"{image_name}\"\nimageid=\"{image_id}\"\nrootless=0\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Writes the files into `dir` and returns (destination in container, host path) pairs for
/// the spec's bind mounts.
pub fn prepare(
    dir: &Path,
    id: &str,
    name: &str,
    hostname: &str,
    image_name: &str,
    image_id: &str,
) -> Result<Vec<(String, PathBuf)>> {
    std::fs::create_dir_all(dir).with_path(dir)?;
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let files = [
        ("/etc/hosts", "hosts", hosts_file(hostname, name)),
        ("/etc/hostname", "hostname", format!("{hostname}\n")),
        (
            "/etc/resolv.conf",
            "resolv.conf",
            filter_resolv_conf(&host_resolv),
        ),
        (
            "/run/.containerenv",
            "containerenv",
            containerenv(id, name, image_name, image_id),
        ),
    ];
    let mut out = Vec::new();
    for (dest, file, text) in files {
        let p = dir.join(file);
        std::fs::write(&p, text).with_path(&p)?;
        out.push((dest.to_string(), p));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_drops_loopback() {
        let r = filter_resolv_conf("search x\nnameserver 127.0.0.53\nnameserver 10.0.0.1\n");
        assert_eq!(r, "search x\nnameserver 10.0.0.1\n");
        let r = filter_resolv_conf("nameserver 127.0.0.1\n");
        assert!(r.contains("8.8.8.8"));
    }

    #[test]
    fn hosts_has_hostname() {
        assert!(hosts_file("abc", "web").contains("127.0.1.1\tabc web"));
    }
}
