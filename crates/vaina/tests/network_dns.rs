//! The per-network resolver process (`vaina network dns-serve`) driven through libvaina's
//! setup/teardown as the container code will: started by the first container on a network,
//! answering names through the gateway, stopped with the last container. Root only; the
//! namespaces are the test's own.

use libvaina::network::{CreateOptions, NetworkRequest, SetupRequest};
use libvaina::{Engine, EngineOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

macro_rules! require_root {
    () => {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: this test needs root (CI runs the suite as root)");
            return;
        }
        if Command::new("nft").arg("--version").output().is_err() {
            eprintln!("skipped: nft is not installed");
            return;
        }
    };
}

fn sh(cmd: &[&str]) -> (bool, String) {
    let out = Command::new(cmd[0])
        .args(&cmd[1..])
        .output()
        .expect("spawn");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A network namespace under /run/netns, deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let r = std::process::id() << 8 | N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("vaina-test-{tag}-{r:08x}");
        let (ok, out) = sh(&["ip", "netns", "add", &name]);
        assert!(ok, "ip netns add: {out}");
        Netns { name }
    }
    fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.name)
    }
    fn exec(&self, args: &[&str]) -> (bool, String) {
        let mut v = vec!["ip", "netns", "exec", &self.name];
        v.extend_from_slice(args);
        sh(&v)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = sh(&["ip", "netns", "del", &self.name]);
    }
}

struct Env {
    _dir: tempfile::TempDir,
    engine: Engine,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(EngineOptions {
        root: Some(dir.path().join("root")),
        runroot: Some(dir.path().join("run")),
        ..Default::default()
    })
    .unwrap();
    Env { _dir: dir, engine }
}

/// Host network state that mentions `needle` (links, nft ruleset, /run/netns).
fn traces(needle: &str) -> Vec<String> {
    let mut v = Vec::new();
    for (what, out) in [
        ("link", sh(&["ip", "-o", "link"]).1),
        ("nft", sh(&["nft", "list", "ruleset"]).1),
    ] {
        v.extend(
            out.lines()
                .filter(|l| l.contains(needle))
                .map(|l| format!("{what}: {l}")),
        );
    }
    if let Ok(rd) = std::fs::read_dir("/run/netns") {
        v.extend(
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(needle))
                .map(|n| format!("netns: {n}")),
        );
    }
    v
}

/// Deletes a test bridge left behind by a failed test (a passing test removes it itself).
struct BridgeGuard(String);

impl Drop for BridgeGuard {
    fn drop(&mut self) {
        if std::thread::panicking() && Path::new("/sys/class/net").join(&self.0).exists() {
            let _ = sh(&["ip", "link", "del", &self.0]);
        }
    }
}

fn request(id: &str, ns: &Netns, net: &str) -> SetupRequest {
    SetupRequest {
        container_id: id.into(),
        container_name: id.into(),
        netns: ns.path(),
        networks: vec![NetworkRequest {
            name: net.into(),
            ..Default::default()
        }],
        ports: vec![],
    }
}

#[test]
fn resolver_process_follows_the_network_containers() {
    require_root!();
    // The resolver is `vaina network dns-serve`: the binary under test. Only this test in
    // this binary starts resolvers, so only it reads the variable.
    std::env::set_var(
        libvaina::network::dns_service::BINARY_ENV,
        env!("CARGO_BIN_EXE_vaina"),
    );
    // No forwarding: nothing this test asks may leave the machine.
    std::env::set_var(libvaina::network::dns_service::UPSTREAMS_ENV, "");
    let mut env = env();
    let bridge = "vtbr-rsv";
    let _guard = BridgeGuard(bridge.into());
    env.engine
        .network_create(&CreateOptions {
            name: Some("dnsnet2".into()),
            subnets: vec!["10.231.17.0/24".into()],
            interface_name: Some(bridge.into()),
            ..Default::default()
        })
        .unwrap();
    let ns_a = Netns::new("rsa");
    let ns_b = Netns::new("rsb");
    let mut ra = request("5e7e000000000a01", &ns_a, "dnsnet2");
    ra.container_name = "alpha".into();
    let a = env.engine.network_setup(&ra).unwrap();
    assert!(env.engine.network_dns_running("dnsnet2"));
    let mut rb = request("5e7e000000000b01", &ns_b, "dnsnet2");
    rb.container_name = "beta".into();
    rb.networks[0].aliases = vec!["db".into()];
    let b = env.engine.network_setup(&rb).unwrap();
    let ip_a = a.networks[0].addresses[0].ip.to_string();
    let ip_b = b.networks[0].addresses[0].ip.to_string();
    // Each container finds the other by name and alias through the gateway. (Only names the
    // resolver knows, or names under dns.podman, are asked: others go to the host's resolvers.)
    let (ok, out) = ns_b.exec(&["busybox", "nslookup", "alpha.", "10.231.17.1"]);
    assert!(ok && out.contains(&ip_a), "{out}");
    let (ok, out) = ns_a.exec(&["busybox", "nslookup", "db.dns.podman.", "10.231.17.1"]);
    assert!(ok && out.contains(&ip_b), "{out}");
    env.engine.network_teardown("5e7e000000000a01").unwrap();
    assert!(
        env.engine.network_dns_running("dnsnet2"),
        "one container is left"
    );
    // The gateway stays reachable for the container left (the bridge keeps its MAC address
    // when a port leaves), and the removed container's name is gone at once.
    let t = std::time::Instant::now();
    let (ok, out) = ns_b.exec(&["busybox", "nslookup", "alpha.dns.podman.", "10.231.17.1"]);
    assert!(out.contains("NXDOMAIN"), "{out}");
    assert!(
        t.elapsed() < std::time::Duration::from_secs(3),
        "slow answer: {out}"
    );
    assert!(
        !(ok && out.contains(&ip_a)),
        "a removed container still resolves: {out}"
    );
    env.engine.network_teardown("5e7e000000000b01").unwrap();
    assert!(
        !env.engine.network_dns_running("dnsnet2"),
        "the last container left"
    );
    env.engine.network_remove("dnsnet2", false, None).unwrap();
    drop(ns_a);
    drop(ns_b);
    let base = env._dir.path().to_string_lossy().to_string();
    let procs: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&base))
        .collect();
    assert!(procs.is_empty(), "leaked processes: {procs:#?}");
    let left: Vec<String> = traces(bridge)
        .into_iter()
        .chain(traces("5e7e0000"))
        .collect();
    assert!(left.is_empty(), "leaked: {left:#?}");
}
