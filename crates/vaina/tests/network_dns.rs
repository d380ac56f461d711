//! The per-network resolver process (`vaina network dns-serve`) driven through libvaina's
//! setup/teardown as the container code will: started by the first container on a network,
//! answering names through the gateway, stopped with the last container. Root only; the
//! namespaces are the test's own.

use libvaina::network::{CreateOptions, NetworkRequest, SetupRequest};
use libvaina::{Engine, EngineOptions};
use vaina_testsupport::{require_network_root, traces, BridgeGuard, Netns};

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
    require_network_root!();
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
