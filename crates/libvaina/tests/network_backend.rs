//! The bridge backend against the real kernel (root only): setup in namespaces the test
//! creates, checks with `ip` and `nft`, teardown, and a leak check of links, nft rules,
//! /run/netns and leases before/after. Each test uses its own bridge name and subnet so the
//! tests run in parallel; only namespaces the test created are ever pinged.

use libvaina::network::{CreateOptions, NetworkRequest, SetupRequest};
use libvaina::{Engine, EngineOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use vaina_testsupport::{require_network_root, sh, traces, BridgeGuard, Netns};

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

/// Removes a vaina-made namespace left behind by a failed test.
struct NetnsFileGuard(PathBuf);

impl Drop for NetnsFileGuard {
    fn drop(&mut self) {
        let _ = libvaina::network::netns::remove(&self.0);
    }
}

fn create(e: &Engine, name: &str, bridge: &str, subnet: &str, internal: bool) -> BridgeGuard {
    e.network_create(&CreateOptions {
        name: Some(name.into()),
        subnets: vec![subnet.into()],
        interface_name: Some(bridge.into()),
        internal,
        // The resolver process is tested on its own (it needs the vaina binary).
        disable_dns: true,
        ..Default::default()
    })
    .unwrap();
    BridgeGuard(bridge.to_string())
}

fn request(id: &str, ns: &Netns, net: &str, ports: &[&str]) -> SetupRequest {
    SetupRequest {
        container_id: id.into(),
        container_name: id.into(),
        netns: ns.path(),
        networks: vec![NetworkRequest {
            name: net.into(),
            ..Default::default()
        }],
        ports: ports
            .iter()
            .flat_map(|p| libvaina::network::parse_publish(p).unwrap())
            .collect(),
    }
}

#[test]
fn setup_ping_teardown_leaves_nothing() {
    require_network_root!();
    let mut env = env();
    let bridge = "vtbr-ping";
    let id_a = "a1b2c3d4e5f6aaaa";
    let id_b = "a1b2c3d4e5f6bbbb";
    assert!(
        traces(bridge).is_empty(),
        "leftovers before: {:?}",
        traces(bridge)
    );
    let _guard = create(&env.engine, "pingnet", bridge, "10.231.7.0/24", false);
    let ns_a = Netns::new("a");
    let ns_b = Netns::new("b");
    let sa = env
        .engine
        .network_setup(&request(id_a, &ns_a, "pingnet", &["127.0.0.1:18931:80"]))
        .unwrap();
    let sb = env
        .engine
        .network_setup(&request(id_b, &ns_b, "pingnet", &[]))
        .unwrap();
    let ip_a = sa.networks[0].addresses[0].ip.to_string();
    let ip_b = sb.networks[0].addresses[0].ip.to_string();
    assert_eq!(ip_a, "10.231.7.2");
    assert_eq!(ip_b, "10.231.7.3");
    assert_eq!(
        sa.networks[0].addresses[0].gateway.unwrap().to_string(),
        "10.231.7.1"
    );
    let (_, addr) = ns_a.exec(&["ip", "addr", "show", "eth0"]);
    assert!(addr.contains("inet 10.231.7.2/24"), "{addr}");
    assert!(addr.contains(&sa.networks[0].mac), "{addr}");
    let (_, route) = ns_a.exec(&["ip", "route"]);
    assert!(route.contains("default via 10.231.7.1"), "{route}");
    assert!(Path::new("/sys/class/net").join(bridge).exists());
    let (_, rules) = sh(&["nft", "list", "table", "inet", "vaina"]);
    assert!(rules.contains(&format!("c-{id_a}")), "{rules}");
    assert!(rules.contains("dnat ip to 10.231.7.2:80"), "{rules}");
    // The two namespaces reach each other over the bridge (only addresses this test made).
    let (ok, out) = ns_a.exec(&["busybox", "ping", "-c1", "-W1", &ip_b]);
    assert!(ok, "ping a -> b: {out}");
    let (ok, out) = ns_b.exec(&["busybox", "ping", "-c1", "-W1", &ip_a]);
    assert!(ok, "ping b -> a: {out}");
    // The network is in use: rm without force fails and changes nothing.
    let err = env
        .engine
        .network_remove("pingnet", false, None)
        .unwrap_err();
    assert!(err.to_string().contains("network is being used"), "{err}");
    env.engine.network_teardown(id_a).unwrap();
    env.engine.network_teardown(id_b).unwrap();
    // Idempotent: a second teardown is a no-op.
    env.engine.network_teardown(id_b).unwrap();
    assert!(env.engine.network_attachments(id_a).unwrap().is_empty());
    let (_, addr) = ns_a.exec(&["ip", "-o", "link"]);
    assert!(!addr.contains("eth0"), "{addr}");
    env.engine.network_remove("pingnet", false, None).unwrap();
    drop(ns_a);
    drop(ns_b);
    let left: Vec<String> = traces(bridge)
        .into_iter()
        .chain(traces(id_a))
        .chain(traces(id_b))
        .chain(traces("10.231.7."))
        .chain(traces("vaina-test-a-"))
        .collect();
    let leftover_ns: Vec<String> = left
        .iter()
        .filter(|l| !l.starts_with("netns"))
        .cloned()
        .collect();
    assert!(leftover_ns.is_empty(), "leaked: {leftover_ns:#?}");
    let leases: i64 = env
        .engine
        .db()
        .unwrap()
        .conn()
        .query_row("SELECT COUNT(*) FROM network_leases", [], |r| r.get(0))
        .unwrap();
    assert_eq!(leases, 0);
}

#[test]
fn published_port_answers_on_localhost() {
    require_network_root!();
    let mut env = env();
    let bridge = "vtbr-port";
    let id = "c0ffee000000port";
    let _guard = create(&env.engine, "portnet", bridge, "10.231.8.0/24", false);
    let ns = Netns::new("port");
    let st = env
        .engine
        .network_setup(&request(
            id,
            &ns,
            "portnet",
            &["127.0.0.1:18932:8080", "18933:8080", "8080/udp"],
        ))
        .unwrap();
    assert_eq!(st.ports[0].host_port, 18932);
    assert_ne!(st.ports[2].host_port, 0, "a random host port was chosen");
    // A server inside the namespace; the host connects to 127.0.0.1 on both published ports
    // (one bound to 127.0.0.1, one to every address).
    let mut server = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns.name(),
            "busybox",
            "nc",
            "-ll",
            "-p",
            "8080",
            "-e",
            "echo",
            "hello-from-ns",
        ])
        .spawn()
        .unwrap();
    // Wait for the listener's socket (polling its state, bounded), then connect once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !ns.exec(&["busybox", "netstat", "-ltn"]).1.contains(":8080") {
        assert!(
            std::time::Instant::now() < deadline,
            "listener never came up"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let (_, answer) = sh(&["busybox", "nc", "-w", "2", "127.0.0.1", "18932"]);
    let (_, answer2) = sh(&["busybox", "nc", "-w", "2", "127.0.0.1", "18933"]);
    assert!(
        answer2.contains("hello-from-ns"),
        "no answer on the wildcard port"
    );
    // Lose this container's rules (as a firewall flush would), then `reload` brings them back.
    let chain = format!("c-{id}");
    let random = st.ports[2].host_port;
    let (ok, out) = sh(&[
        "nft",
        &format!(
            "delete element inet vaina ports {{ tcp . 18932, tcp . 18933, udp . {random} }}; delete chain inet vaina {chain}"
        ),
    ]);
    assert!(ok, "{out}");
    let (_, lost) = sh(&["busybox", "nc", "-w", "1", "127.0.0.1", "18933"]);
    assert!(!lost.contains("hello-from-ns"), "rules were not removed");
    assert!(env
        .engine
        .network_reload()
        .unwrap()
        .contains(&id.to_string()));
    let (_, back) = sh(&["busybox", "nc", "-w", "2", "127.0.0.1", "18933"]);
    assert!(
        back.contains("hello-from-ns"),
        "reload did not restore the port"
    );
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        answer.contains("hello-from-ns"),
        "no answer through the published port"
    );
    env.engine.network_teardown(id).unwrap();
    env.engine.network_remove("portnet", false, None).unwrap();
    drop(ns);
    let left: Vec<String> = traces(bridge).into_iter().chain(traces(id)).collect();
    assert!(left.is_empty(), "leaked: {left:#?}");
}

#[test]
fn internal_network_has_no_default_route_and_failed_setup_rolls_back() {
    require_network_root!();
    let mut env = env();
    let bridge = "vtbr-int";
    let _guard = create(&env.engine, "intnet", bridge, "10.231.9.0/24", true);
    let ns = Netns::new("int");
    let id = "deadbeef0000int0";
    let st = env
        .engine
        .network_setup(&request(id, &ns, "intnet", &[]))
        .unwrap();
    assert!(st.networks[0].addresses[0].gateway.is_some());
    let (_, route) = ns.exec(&["ip", "route"]);
    assert!(!route.contains("default"), "{route}");
    let (_, rules) = sh(&["nft", "list", "set", "inet", "vaina", "internal"]);
    assert!(rules.contains(bridge), "{rules}");
    // A static IP that is taken fails cleanly, leaving no lease or link behind.
    let ns2 = Netns::new("int2");
    let mut req = request("deadbeef0000int1", &ns2, "intnet", &[]);
    req.networks[0].static_ips = vec![st.networks[0].addresses[0].ip];
    let err = env.engine.network_setup(&req).unwrap_err();
    assert!(err.to_string().contains("already allocated"), "{err}");
    // A setup that fails in the kernel (namespace path missing) is rolled back.
    let mut bad = request("deadbeef0000int2", &ns2, "intnet", &[]);
    bad.netns = PathBuf::from("/run/netns/vaina-test-does-not-exist");
    assert!(env.engine.network_setup(&bad).is_err());
    assert!(env
        .engine
        .network_attachments("deadbeef0000int2")
        .unwrap()
        .is_empty());
    // `network rm -f` detaches the containers still on the network (no container hook here).
    env.engine.network_remove("intnet", true, None).unwrap();
    assert!(env.engine.network_attachments(id).unwrap().is_empty());
    drop(ns);
    drop(ns2);
    let left: Vec<String> = traces(bridge)
        .into_iter()
        .chain(traces("deadbeef0000int"))
        .collect();
    assert!(left.is_empty(), "leaked: {left:#?}");
}

#[test]
fn parallel_setups_get_distinct_addresses() {
    require_network_root!();
    let env = env();
    let bridge = "vtbr-par";
    let _guard = create(&env.engine, "parnet", bridge, "10.231.11.0/24", false);
    let root = env.engine.paths.root.clone();
    let runroot = env.engine.paths.runroot.clone();
    // Each thread is its own engine (own database connection), as concurrent `vaina run`s are.
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let (root, runroot) = (root.clone(), runroot.clone());
            std::thread::spawn(move || {
                let mut e = Engine::new(EngineOptions {
                    root: Some(root),
                    runroot: Some(runroot),
                    ..Default::default()
                })
                .unwrap();
                let ns = Netns::new("par");
                let id = format!("9a7a11e1000000{i:02}");
                let st = e.network_setup(&request(&id, &ns, "parnet", &[])).unwrap();
                let ip = st.networks[0].addresses[0].ip;
                let (_, addr) = ns.exec(&["ip", "-o", "addr", "show", "eth0"]);
                assert!(addr.contains(&format!("inet {ip}/24")), "{addr}");
                (id, ip, ns)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut ips: Vec<_> = results.iter().map(|r| r.1).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 16, "duplicate addresses: {ips:?}");
    let mut env = env;
    for (id, _, _) in &results {
        env.engine.network_teardown(id).unwrap();
    }
    drop(results);
    env.engine.network_remove("parnet", false, None).unwrap();
    let left: Vec<String> = traces(bridge)
        .into_iter()
        .chain(traces("9a7a11e1"))
        .chain(traces("vaina-test-par-"))
        .collect();
    assert!(left.is_empty(), "leaked: {left:#?}");
}

#[test]
#[ignore = "prints setup/teardown timings; run with --ignored --nocapture"]
fn timing_probe() {
    require_network_root!();
    let mut env = env();
    let _guard = create(&env.engine, "timenet", "vtbr-time", "10.231.10.0/24", false);
    let ns = Netns::new("time");
    for i in 0..5 {
        let id = format!("71e000000000000{i}");
        let t = std::time::Instant::now();
        env.engine
            .network_setup(&request(&id, &ns, "timenet", &["127.0.0.1:18940:80"]))
            .unwrap();
        let s = t.elapsed();
        let t = std::time::Instant::now();
        env.engine.network_teardown(&id).unwrap();
        eprintln!("setup {:?} teardown {:?}", s, t.elapsed());
    }
    env.engine.network_remove("timenet", false, None).unwrap();
}

#[test]
fn vaina_netns_lifecycle() {
    require_network_root!();
    let mut env = env();
    let bridge = "vtbr-nsl";
    let _guard = create(&env.engine, "nslnet", bridge, "10.231.12.0/24", false);
    let path = env.engine.paths.runroot.join("netns").join("c0ffee0000nsl");
    libvaina::network::netns::create(&path).unwrap();
    let _ns_guard = NetnsFileGuard(path.clone());
    // Creating it again fails and leaves the first one intact.
    assert!(libvaina::network::netns::create(&path).is_err());
    let req = SetupRequest {
        container_id: "c0ffee0000nsl".into(),
        container_name: "nsl".into(),
        netns: path.clone(),
        networks: vec![NetworkRequest {
            name: "nslnet".into(),
            static_ips: vec!["10.231.12.77".parse().unwrap()],
            mac: Some("02:42:0a:e7:0c:4d".into()),
            ..Default::default()
        }],
        ports: vec![],
    };
    let st = env.engine.network_setup(&req).unwrap();
    assert_eq!(st.networks[0].addresses[0].ip.to_string(), "10.231.12.77");
    let ns_arg = format!("--net={}", path.display());
    let (ok, addr) = sh(&["nsenter", &ns_arg, "ip", "addr"]);
    assert!(ok, "{addr}");
    assert!(addr.contains("inet 10.231.12.77/24"), "{addr}");
    assert!(addr.contains("link/ether 02:42:0a:e7:0c:4d"), "{addr}");
    assert!(addr.contains("LOOPBACK,UP"), "lo is up: {addr}");
    let ep = st.networks[0].podman_endpoint();
    assert_eq!(ep["IPAddress"], "10.231.12.77");
    assert_eq!(ep["IPPrefixLen"], 24);
    assert_eq!(ep["Gateway"], "10.231.12.1");
    assert_eq!(ep["MacAddress"], "02:42:0a:e7:0c:4d");
    // connect adds eth1 on a second network; disconnect removes it again.
    let _guard2 = create(&env.engine, "nsl2", "vtbr-nsl2", "10.231.14.0/24", false);
    let req2 = NetworkRequest {
        name: "nsl2".into(),
        ..Default::default()
    };
    let c = env
        .engine
        .network_connect("c0ffee0000nsl", "nsl", &path, &req2)
        .unwrap();
    assert_eq!(c.interface, "eth1");
    let (_, addr) = sh(&["nsenter", &ns_arg, "ip", "addr", "show", "eth1"]);
    assert!(addr.contains("inet 10.231.14.2/24"), "{addr}");
    let again = env
        .engine
        .network_connect("c0ffee0000nsl", "nsl", &path, &req2);
    assert!(again.unwrap_err().to_string().contains("already connected"));
    env.engine
        .network_disconnect("c0ffee0000nsl", "nsl2")
        .unwrap();
    let (_, links) = sh(&["nsenter", &ns_arg, "ip", "-o", "link"]);
    assert!(!links.contains("eth1") && links.contains("eth0"), "{links}");
    assert!(env
        .engine
        .network_disconnect("c0ffee0000nsl", "nsl2")
        .is_err());
    assert!(env.engine.network_containers("nsl2").unwrap().is_empty());
    env.engine.network_remove("nsl2", false, None).unwrap();
    env.engine.network_teardown("c0ffee0000nsl").unwrap();
    libvaina::network::netns::remove(&path).unwrap();
    libvaina::network::netns::remove(&path).unwrap();
    assert!(!path.exists());
    let base = env._dir.path().to_string_lossy().to_string();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&base), "netns mount leaked");
    env.engine.network_remove("nslnet", false, None).unwrap();
    let left: Vec<String> = traces(bridge)
        .into_iter()
        .chain(traces("vtbr-nsl2"))
        .chain(traces("c0ffee0000nsl"))
        .collect();
    assert!(left.is_empty(), "leaked: {left:#?}");
}

#[test]
fn ipv6_network_addresses_and_ping() {
    require_network_root!();
    let mut env = env();
    let bridge = "vtbr-v6";
    let _guard = BridgeGuard(bridge.into());
    env.engine
        .network_create(&CreateOptions {
            name: Some("v6net".into()),
            subnets: vec!["10.231.13.0/24".into(), "fd00:abcd:13::/64".into()],
            interface_name: Some(bridge.into()),
            ipv6: true,
            ..Default::default()
        })
        .unwrap();
    let ns_a = Netns::new("v6a");
    let ns_b = Netns::new("v6b");
    let a = env
        .engine
        .network_setup(&request("0ff6000000000a", &ns_a, "v6net", &[]))
        .unwrap();
    env.engine
        .network_setup(&request("0ff6000000000b", &ns_b, "v6net", &[]))
        .unwrap();
    let v6: Vec<String> = a.networks[0]
        .addresses
        .iter()
        .filter(|x| x.ip.is_ipv6())
        .map(|x| x.ip.to_string())
        .collect();
    assert_eq!(v6, ["fd00:abcd:13::2"]);
    let (_, addr) = ns_a.exec(&["ip", "-6", "addr", "show", "eth0"]);
    assert!(addr.contains("fd00:abcd:13::2/64"), "{addr}");
    let (_, route) = ns_a.exec(&["ip", "-6", "route"]);
    assert!(route.contains("default via fd00:abcd:13::1"), "{route}");
    let (ok, out) = ns_b.exec(&["busybox", "ping", "-6", "-c1", "-W2", "fd00:abcd:13::2"]);
    assert!(ok, "ping6 b -> a: {out}");
    env.engine.network_teardown("0ff6000000000a").unwrap();
    env.engine.network_teardown("0ff6000000000b").unwrap();
    env.engine.network_remove("v6net", false, None).unwrap();
    drop(ns_a);
    drop(ns_b);
    let left: Vec<String> = traces(bridge)
        .into_iter()
        .chain(traces("0ff600000000"))
        .chain(traces("fd00:abcd:13"))
        .collect();
    assert!(left.is_empty(), "leaked: {left:#?}");
}

#[test]
fn bridge_name_taken_by_another_link_is_refused() {
    require_network_root!();
    let mut env = env();
    create(&env.engine, "nbnet", "vtnb0", "10.231.15.0/24", false);
    // A non-bridge link that took the bridge's name after the network was created.
    let (ok, out) = sh(&[
        "ip", "link", "add", "vtnb0", "type", "veth", "peer", "name", "vtnb1",
    ]);
    assert!(ok, "{out}");
    let ns = Netns::new("nb");
    let err = env
        .engine
        .network_setup(&request("0b0000000000nb", &ns, "nbnet", &[]))
        .unwrap_err();
    assert!(err.to_string().contains("is not a bridge"), "{err}");
    let (_, addr) = sh(&["ip", "-o", "addr", "show", "vtnb0"]);
    assert!(
        !addr.contains("10.231.15."),
        "address added to a foreign link: {addr}"
    );
    assert!(env
        .engine
        .network_attachments("0b0000000000nb")
        .unwrap()
        .is_empty());
    let _ = sh(&["ip", "link", "del", "vtnb0"]);
    env.engine.network_remove("nbnet", false, None).unwrap();
    drop(ns);
    let left: Vec<String> = traces("vtnb")
        .into_iter()
        .chain(traces("0b0000000000nb"))
        .collect();
    assert!(left.is_empty(), "leaked: {left:#?}");
}

#[test]
fn dns_answers_container_names_and_forwards_the_rest() {
    require_network_root!();
    use libvaina::network::dns;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let mut env = env();
    let _guard = create(&env.engine, "dnsnet", "vtbr-dns", "10.231.16.0/24", false);
    let ns_web = Netns::new("dnsweb");
    let mut req = request("d00d00000000web1", &ns_web, "dnsnet", &[]);
    req.container_name = "web".into();
    req.networks[0].aliases = vec!["www".into()];
    let st = env.engine.network_setup(&req).unwrap();
    let ip = st.networks[0].addresses[0].ip;
    let zone = env.engine.network_dns_zone("dnsnet").unwrap();
    // The resolver and a stand-in upstream both run inside a namespace the test made, on
    // its loopback (127.0.0.1:53 and 127.0.0.2:53), and nslookup asks from the same namespace.
    let ns = Netns::new("dns");
    let stop = Arc::new(AtomicBool::new(false));
    let mut servers = Vec::new();
    for (addr, z, ups) in [
        ("127.0.0.1:53", zone, vec!["127.0.0.2:53".parse().unwrap()]),
        (
            "127.0.0.2:53",
            {
                let mut u = dns::Zone::default();
                u.add("upstream.example", "192.0.2.7".parse().unwrap());
                u
            },
            vec![],
        ),
    ] {
        let stop = stop.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let path = ns.path();
        servers.push(std::thread::spawn(move || {
            libvaina::network::netns::run_in(&path, move || {
                let sock = std::net::UdpSocket::bind(addr).unwrap();
                tx.send(()).unwrap();
                dns::serve(&sock, &ups, &move || z.clone(), &stop, &|| true)
            })
            .unwrap();
        }));
        rx.recv().unwrap();
    }
    let _ = ns.exec(&["ip", "link", "set", "lo", "up"]);
    for name in ["web", "www", "web.dns.podman", "d00d00000000"] {
        let (ok, out) = ns.exec(&["busybox", "nslookup", name, "127.0.0.1"]);
        assert!(ok && out.contains(&ip.to_string()), "{name}: {out}");
    }
    let (ok, out) = ns.exec(&["busybox", "nslookup", "upstream.example", "127.0.0.1"]);
    assert!(ok && out.contains("192.0.2.7"), "forwarded: {out}");
    let (ok, out) = ns.exec(&["busybox", "nslookup", "nope.dns.podman", "127.0.0.1"]);
    assert!(
        !ok || !out.contains("Address: 10."),
        "unknown name answered: {out}"
    );
    stop.store(true, Ordering::Relaxed);
    for s in servers {
        s.join().unwrap();
    }
    env.engine.network_teardown("d00d00000000web1").unwrap();
    env.engine.network_remove("dnsnet", false, None).unwrap();
    drop(ns_web);
    drop(ns);
    let left: Vec<String> = traces("vtbr-dns")
        .into_iter()
        .chain(traces("d00d0000"))
        .collect();
    assert!(left.is_empty(), "leaked: {left:#?}");
}
