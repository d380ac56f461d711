//! Containers on networks, as root: `--network` modes, names between containers, published
//! ports on 127.0.0.1, `--internal`, `network connect/disconnect`, `port`, `inspect`, and the
//! bad inputs of issue #5. Each test uses its own network (own bridge name and subnet), and
//! checks before and after that the host holds nothing of it: links, nftables elements and
//! chains, pinned namespaces, leases. Only loopback and the test's own namespaces are targets.

mod common;

use common::TestEnv;
use serde_json::Value;
use std::process::Command;

macro_rules! require_net {
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

/// `GET /` from 127.0.0.1:`port`; the response, or empty on any error.
fn http_get(port: u16) -> String {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2))
    else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
    let _ = s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").arg("-c").arg(cmd).output().expect("sh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A test environment with one network of its own (bridge `vct<n>`, subnet 10.232.<n>.0/24);
/// on drop, checks that the host keeps nothing of it or of the containers it ran.
struct Net {
    env: TestEnv,
    name: String,
    bridge: String,
    subnet: String,
    containers: std::cell::RefCell<Vec<String>>,
}

impl Net {
    fn new(n: u8, extra: &[&str]) -> Self {
        let env = TestEnv::new();
        // The resolver forwards nothing off the machine.
        let mut env = env;
        env.env.push(("VAINA_DNS_UPSTREAMS".into(), String::new()));
        let name = format!("vct{n}");
        let bridge = format!("vct{n}br");
        let subnet = format!("10.232.{n}.0/24");
        assert!(
            !sh("ip -o link").contains(&format!(" {bridge}:")),
            "bridge {bridge} exists before the test"
        );
        let mut args = vec![
            "network",
            "create",
            "--subnet",
            &subnet,
            "--interface-name",
            &bridge,
        ];
        args.extend_from_slice(extra);
        args.push(&name);
        env.ok(&args);
        Net {
            env,
            name,
            bridge,
            subnet,
            containers: Default::default(),
        }
    }

    /// `run -d` on the test's network; returns the container ID.
    fn run_d(&self, args: &[&str]) -> String {
        let mut v = vec!["run", "-d"];
        v.extend_from_slice(args);
        let id = self.env.ok(&v).trim().to_string();
        self.containers.borrow_mut().push(id.clone());
        id
    }

    fn inspect(&self, c: &str) -> Value {
        let out = self.env.ok(["inspect", "--type", "container", c]);
        serde_json::from_str::<Value>(&out).unwrap()[0].clone()
    }

    fn netns_dir_entries(&self) -> Vec<String> {
        std::fs::read_dir(self.env.runroot.join("netns"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What the host still holds of container `id`.
    fn leftovers_of(&self, id: &str) -> Vec<String> {
        let mut v = Vec::new();
        let links = sh("ip -o link");
        let table = sh("nft list table inet vaina 2>/dev/null");
        for net in [self.name.as_str(), "vaina"] {
            let veth = libvaina::network::driver::host_veth_name(id, net);
            if links.contains(&format!(" {veth}@")) || links.contains(&format!(" {veth}:")) {
                v.push(format!("link {veth}"));
            }
        }
        let chain = libvaina::network::firewall::chain_name(id);
        if table.contains(&chain) {
            v.push(format!("nft chain {chain}"));
        }
        v
    }

    fn leases(&self) -> usize {
        let engine = libvaina::Engine::new(libvaina::EngineOptions {
            root: Some(self.env.root.clone()),
            runroot: Some(self.env.runroot.clone()),
            ..Default::default()
        })
        .unwrap();
        engine
            .db()
            .unwrap()
            .conn()
            .query_row("SELECT COUNT(*) FROM network_leases", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap() as usize
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = self.env.run(["rm", "-f", "-a", "-t", "0"]);
            let _ = self.env.run(["network", "rm", "-f", &self.name]);
            return;
        }
        self.env.ok(["rm", "-f", "-a", "-t", "0"]);
        assert_eq!(self.leases(), 0, "leases left after the containers went");
        for id in self.containers.borrow().iter() {
            let left = self.leftovers_of(id);
            assert!(left.is_empty(), "container {id} left {left:?}");
        }
        assert!(
            self.netns_dir_entries().is_empty(),
            "pinned namespaces left"
        );
        self.env.ok(["network", "rm", &self.name]);
        let links = sh("ip -o link");
        assert!(
            !links.contains(&format!(" {}:", self.bridge)),
            "bridge left"
        );
        let table = sh("nft list table inet vaina 2>/dev/null");
        assert!(
            !table.contains(&self.subnet),
            "nft elements of {} left",
            self.subnet
        );
    }
}

#[test]
fn containers_reach_each_other_by_name_and_alias() {
    require_net!();
    let t = Net::new(1, &[]);
    let img = t.env.busybox_image();
    let web = t.run_d(&[
        "--name",
        "web",
        "--network",
        &t.name,
        "--network-alias",
        "site",
        img,
        "sh",
        "-c",
        "mkdir -p /w && echo hello-by-name > /w/index.html && exec httpd -f -p 80 -h /w",
    ]);
    let ip = t.inspect(&web)["NetworkSettings"]["Networks"][&t.name]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(ip.starts_with("10.232.1."), "{ip}");
    // The resolver answers the name and the alias with the container's address.
    for name in ["web", "site", "web.dns.podman"] {
        let out = t
            .env
            .ok(["run", "--rm", "--network", &t.name, img, "nslookup", name]);
        assert!(out.contains(&ip), "{name}: {out}");
    }
    // wget by name (busybox's static wget resolves through the resolver in resolv.conf).
    let out = t.env.ok([
        "run",
        "--rm",
        "--network",
        &t.name,
        img,
        "sh",
        "-c",
        "cat /etc/resolv.conf; for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O- http://web/ && exit 0; sleep 0.2; done; exit 1",
    ]);
    assert!(out.contains("hello-by-name"), "{out}");
    assert!(out.contains("search dns.podman"), "{out}");
    assert!(out.contains("nameserver 10.232.1.1"), "{out}");
    // The server's traffic shows in `stats` (NET IO: received / sent on its interfaces).
    let io = t
        .env
        .ok(["stats", "--no-stream", "--format", "{{.NetIO}}", "web"]);
    let (rx, tx) = io.trim().split_once(" / ").expect("NET IO");
    assert!(rx != "0B" && tx != "0B", "{io}");
}

#[test]
fn published_port_answers_on_loopback_and_port_lists_it() {
    require_net!();
    let t = Net::new(2, &[]);
    let img = t.env.busybox_image();
    let port = 20000 + (std::process::id() % 20000) as u16;
    let publish = format!("127.0.0.1:{port}:80");
    let id = t.run_d(&[
        "--name",
        "pub",
        "--network",
        &t.name,
        "-p",
        &publish,
        "--expose",
        "90",
        "-P",
        img,
        "sh",
        "-c",
        "mkdir -p /w && echo published > /w/index.html && exec httpd -f -p 80 -h /w",
    ]);
    let mut body = String::new();
    for _ in 0..50 {
        body = http_get(port);
        if body.contains("published") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(body.contains("published"), "no answer on 127.0.0.1:{port}");
    let out = t.env.ok(["port", "pub"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("80/tcp -> 127.0.0.1:{port}"));
    assert!(lines[1].starts_with("90/tcp -> 0.0.0.0:"), "{out}");
    let random = lines[1].to_string();
    assert_eq!(
        t.env.ok(["port", "pub", "80"]).trim(),
        format!("127.0.0.1:{port}")
    );
    assert!(t
        .env
        .ok(["port", "-a"])
        .contains(&format!("{}\t80/tcp", &id[..12])));
    let err = t.env.fails(125, ["port", "pub", "91"]);
    assert!(
        err.contains("failed to find published port \"91/tcp\""),
        "{err}"
    );
    let ps = t.env.ok(["ps", "--format", "{{.Ports}}"]);
    assert!(
        ps.starts_with(&format!("127.0.0.1:{port}->80/tcp, 0.0.0.0:")),
        "{ps}"
    );
    let i = t.inspect("pub");
    assert_eq!(
        i["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"],
        port.to_string()
    );
    assert_eq!(i["HostConfig"]["NetworkMode"], "bridge");
    assert!(i["NetworkSettings"]["SandboxKey"]
        .as_str()
        .unwrap()
        .ends_with(&format!("netns/{id}")));
    // A second container cannot take the same host port: Podman's exit code 126.
    let err = t.env.fails(
        126,
        [
            "run",
            "--rm",
            "--network",
            &t.name,
            "-p",
            &publish,
            img,
            "true",
        ],
    );
    assert!(
        err.contains(&format!("port {port}/tcp is already allocated")),
        "{err}"
    );
    // Stopping releases it (teardown on stop), and a restart sets it up again.
    t.env.ok(["stop", "-t", "0", "pub"]);
    assert!(t.leftovers_of(&id).is_empty());
    assert_eq!(t.leases(), 0);
    t.env.ok(["start", "pub"]);
    assert_eq!(
        t.env.ok(["port", "pub", "80"]).trim(),
        format!("127.0.0.1:{port}")
    );
    // The random host port was chosen at create: the same after the restart.
    assert!(t.env.ok(["port", "pub"]).contains(&random));
}

#[test]
fn network_modes_none_host_container() {
    require_net!();
    let t = Net::new(3, &[]);
    let img = t.env.busybox_image();
    let out = t
        .env
        .ok(["run", "--rm", "--network", "none", img, "ip", "-o", "link"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("lo:"), "{out}");
    // `host` is the host's own namespace (compared by identity: the host's link count moves
    // while other tests run).
    let host_ns = std::fs::read_link("/proc/self/ns/net").unwrap();
    let out = t.env.ok([
        "run",
        "--rm",
        "--network",
        "host",
        img,
        "readlink",
        "/proc/self/ns/net",
    ]);
    assert_eq!(out.trim(), host_ns.to_str().unwrap());
    let a = t.run_d(&["--name", "a", "--network", &t.name, img, "sleep", "60"]);
    let a_ip = t.inspect(&a)["NetworkSettings"]["Networks"][&t.name]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    let out = t.env.ok([
        "run",
        "--rm",
        "--network",
        "container:a",
        img,
        "ip",
        "-o",
        "addr",
    ]);
    assert!(out.contains(&a_ip), "{out}");
    // /etc/hosts names the container with its address and knows host.containers.internal.
    let hosts = t.env.ok(["exec", "a", "cat", "/etc/hosts"]);
    assert!(
        hosts.contains(&format!("{a_ip}\t{} a\n", &a[..12])),
        "{hosts}"
    );
    assert!(
        hosts.contains("10.232.3.1\thost.containers.internal"),
        "{hosts}"
    );
    // --network none: loopback only in /etc/hosts.
    let out = t.env.ok([
        "run",
        "--rm",
        "--network",
        "none",
        "--name",
        "n1",
        "--hostname",
        "hh",
        img,
        "cat",
        "/etc/hosts",
    ]);
    assert!(out.contains("127.0.0.1\thh n1"), "{out}");
    // --dns, --dns-search, --dns-option, --add-host, --no-hosts.
    let out = t.env.ok([
        "run",
        "--rm",
        "--network",
        &t.name,
        "--dns",
        "192.0.2.53",
        "--dns-search",
        "example.test",
        "--dns-option",
        "ndots:2",
        "--add-host",
        "foo:192.0.2.9",
        img,
        "sh",
        "-c",
        "cat /etc/resolv.conf /etc/hosts",
    ]);
    assert!(
        out.starts_with(
            "search example.test\nnameserver 192.0.2.53\noptions ndots:2\n192.0.2.9\tfoo\n"
        ),
        "{out}"
    );
    let out = t.env.ok([
        "run",
        "--rm",
        "--network",
        "none",
        "--no-hosts",
        img,
        "sh",
        "-c",
        "test -e /etc/hosts || echo none",
    ]);
    assert_eq!(out.trim(), "none");
}

#[test]
fn internal_network_has_no_route_out() {
    require_net!();
    let t = Net::new(4, &["--internal"]);
    let img = t.env.busybox_image();
    let out = t
        .env
        .ok(["run", "--rm", "--network", &t.name, img, "ip", "route"]);
    assert!(!out.contains("default"), "{out}");
    assert!(out.contains("10.232.4.0/24"), "{out}");
    // Without a default route, any outside address is unreachable (no packet is sent).
    let out = t.env.run([
        "run",
        "--rm",
        "--network",
        &t.name,
        img,
        "ip",
        "route",
        "get",
        "192.0.2.1",
    ]);
    assert!(!out.status.success());
    // `network prune` keeps a network that a stopped container is configured on.
    t.env.ok(["create", "--network", &t.name, img, "true"]);
    t.env.ok(["network", "prune", "-f"]);
    t.env.ok(["network", "exists", &t.name]);
}

#[test]
fn connect_and_disconnect_a_running_container() {
    require_net!();
    let t = Net::new(5, &[]);
    let img = t.env.busybox_image();
    // A second network in the same store.
    t.env.ok([
        "network",
        "create",
        "--subnet",
        "10.232.7.0/24",
        "--interface-name",
        "vct7br",
        "vct7",
    ]);
    // Two networks at once (`--network` twice): eth0 and eth1.
    let out = t.env.ok([
        "run",
        "--rm",
        "--network",
        &t.name,
        "--network",
        "vct7",
        img,
        "ip",
        "-o",
        "-4",
        "addr",
    ]);
    assert!(out.contains("eth0") && out.contains("10.232.5."), "{out}");
    assert!(out.contains("eth1") && out.contains("10.232.7."), "{out}");
    let id = t.run_d(&["--name", "c", "--network", &t.name, img, "sleep", "60"]);
    t.env
        .ok(["network", "connect", "--alias", "second", "vct7", "c"]);
    let out = t.env.ok(["exec", "c", "ip", "-o", "addr"]);
    assert!(out.contains("eth1") && out.contains("10.232.7."), "{out}");
    let i = t.inspect("c");
    assert!(i["NetworkSettings"]["Networks"]["vct7"]["Aliases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "second"));
    let err = t.env.fails(125, ["network", "rm", "vct7"]);
    assert!(err.contains("network is being used"), "{err}");
    t.env.ok(["network", "disconnect", "vct7", "c"]);
    let out = t.env.ok(["exec", "c", "ip", "-o", "link"]);
    assert!(!out.contains("eth1"), "{out}");
    // Connected again while running, then removed with its network by `network rm -f`.
    t.env.ok(["network", "connect", "vct7", "c"]);
    t.env.ok(["network", "rm", "-f", "-t", "0", "vct7"]);
    assert!(t.env.run(["container", "exists", "c"]).status.code() == Some(1));
    assert!(t.leftovers_of(&id).is_empty());
    assert!(!sh("ip -o link").contains(" vct7br:"));
}

#[test]
fn bad_inputs_change_nothing() {
    require_net!();
    let t = Net::new(8, &[]);
    let img = t.env.busybox_image();
    t.run_d(&[
        "--name",
        "holder",
        "--network",
        &t.name,
        "--ip",
        "10.232.8.50",
        "-p",
        "127.0.0.1:29999:80",
        img,
        "sleep",
        "60",
    ]);
    let before = t.env.store_snapshot();
    let cases: Vec<(i32, Vec<&str>, &str)> = vec![
        (
            125,
            vec!["--network", &t.name, "--ip", "10.9.9.9"],
            "requested static ip 10.9.9.9 not in any subnet on network vct8",
        ),
        (
            125,
            vec!["-p", "0:80"],
            "port numbers must be between 1 and 65535 (inclusive), got 0",
        ),
        (
            125,
            vec!["-p", "70000:80"],
            "port numbers must be between 1 and 65535 (inclusive), got 70000",
        ),
        (
            125,
            vec!["--network", "nosuch"],
            "unable to find network with name or ID nosuch: network not found",
        ),
        (
            125,
            vec!["--network", "container:nosuch"],
            "no container with name or ID \"nosuch\" found",
        ),
        (
            125,
            vec!["--network", "none", "--ip", "10.232.8.9"],
            "--ip can only be set when the network mode is bridge",
        ),
        (125, vec!["--ip", "bogus"], "\"bogus\" is not an ip address"),
        (
            125,
            vec!["--mac-address", "bogus"],
            "address bogus: invalid MAC address",
        ),
    ];
    for (code, flags, msg) in &cases {
        let mut args = vec!["create"];
        args.extend(flags.iter().copied());
        args.extend([img, "true"]);
        let err = t.env.fails(*code, &args);
        assert!(err.contains(msg), "{flags:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert_eq!(t.env.store_snapshot(), before, "the store changed");
    // Taken at start: the IP (125) and the host port (126); the created container stays.
    let err = t.env.fails(
        125,
        [
            "run",
            "--rm",
            "--network",
            &t.name,
            "--ip",
            "10.232.8.50",
            img,
            "true",
        ],
    );
    assert!(
        err.contains("requested ip address 10.232.8.50 is already allocated"),
        "{err}"
    );
    let err = t.env.fails(
        126,
        [
            "run",
            "--rm",
            "--network",
            &t.name,
            "-p",
            "29999:80",
            img,
            "true",
        ],
    );
    assert!(err.contains("port 29999/tcp is already allocated"), "{err}");
    let err = t.env.fails(125, ["network", "rm", &t.name]);
    assert!(err.contains("network is being used"), "{err}");
}

/// PIDs of processes whose command line has every one of `words`.
fn pids_with(words: &[&str]) -> Vec<i32> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if words.iter().all(|w| cmd.contains(w)) {
            v.push(pid);
        }
    }
    v
}

#[test]
fn teardown_after_kill_dead_monitor_and_cleanup() {
    require_net!();
    let t = Net::new(9, &[]);
    let img = t.env.busybox_image();
    let id = t.run_d(&[
        "--network",
        &t.name,
        "-p",
        "127.0.0.1:29998:80",
        img,
        "sleep",
        "60",
    ]);
    let pid = t.inspect(&id)["State"]["Pid"].as_i64().unwrap() as i32;
    // kill -9 of the container: its monitor tears the network down.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL).unwrap();
    assert_eq!(t.env.ok(["wait", &id]).trim(), "137");
    assert!(t.leftovers_of(&id).is_empty(), "{:?}", t.leftovers_of(&id));
    assert_eq!(t.leases(), 0);
    assert!(t.netns_dir_entries().is_empty());
    // A restart sets it up again.
    t.env.ok(["start", &id]);
    assert_eq!(t.leases(), 1);
    assert_eq!(t.env.ok(["port", &id, "80"]).trim(), "127.0.0.1:29998");
    // The monitor and the container die: the next command notices and tears down.
    let pid = t.inspect(&id)["State"]["Pid"].as_i64().unwrap() as i32;
    for m in pids_with(&["monitor", &id]) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(m), nix::sys::signal::SIGKILL).unwrap();
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL).unwrap();
    let mut state = String::new();
    for _ in 0..100 {
        state = t.env.ok(["inspect", "--format", "{{.State.Status}}", &id]);
        if state.trim() == "exited" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(state.trim(), "exited");
    assert!(t.leftovers_of(&id).is_empty(), "{:?}", t.leftovers_of(&id));
    assert_eq!(t.leases(), 0);
    assert!(t.netns_dir_entries().is_empty());
    t.env.ok(["container", "cleanup", &id]);
    // `rm -f` of a running container tears down too (checked by the drop of `t`).
    t.env.ok(["start", &id]);
}

/// Runs `system reset -f` when dropped, also after a failed assertion.
struct Reset(TestEnv);

impl Drop for Reset {
    fn drop(&mut self) {
        let _ = self.0.run(["system", "reset", "-f"]);
    }
}

/// The default network (`vaina`, bridge `vaina0`, shared by every store on the host; each
/// store's default network has its own subnet). `system reset` takes this store's part away.
#[test]
fn default_network_and_its_reset() {
    require_net!();
    let env = Reset(TestEnv::new());
    let env = &env.0;
    env.set_containers_conf(""); // no `netns = "none"`: the default network
    let img = env.busybox_image();
    let out = env.ok([
        "run",
        "--rm",
        "--name",
        "d1",
        img,
        "sh",
        "-c",
        "cat /etc/resolv.conf /etc/hosts; ip -o -4 addr show eth0",
    ]);
    assert!(!out.contains("dns.podman"), "{out}");
    let subnet_ip = out
        .lines()
        .find(|l| l.contains("eth0") && l.contains("inet "))
        .and_then(|l| l.split_whitespace().nth(3))
        .unwrap()
        .to_string();
    let ip = subnet_ip.split('/').next().unwrap();
    assert!(
        out.contains(&format!("{ip}\t")) && out.contains(" d1\n"),
        "{out}"
    );
    let net: Value = serde_json::from_str(&env.ok(["network", "inspect", "vaina"])).unwrap();
    let subnet = net[0]["subnets"][0]["subnet"].as_str().unwrap().to_string();
    let gateway = net[0]["subnets"][0]["gateway"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(net[0]["network_interface"], "vaina0");
    assert!(sh("ip -o -4 addr show vaina0").contains(&format!("{gateway}/")));
    let port = 30000 + (std::process::id() % 20000) as u16;
    let id = env
        .ok([
            "run",
            "-d",
            "-p",
            &format!("127.0.0.1:{port}:80"),
            img,
            "sh",
            "-c",
            "mkdir -p /w && echo on-default > /w/index.html && exec httpd -f -p 80 -h /w",
        ])
        .trim()
        .to_string();
    let mut body = String::new();
    for _ in 0..50 {
        body = http_get(port);
        if body.contains("on-default") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(body.contains("on-default"), "no answer on 127.0.0.1:{port}");
    let i: Value = serde_json::from_str(&env.ok(["inspect", &id])).unwrap();
    assert_eq!(
        i[0]["NetworkSettings"]["Networks"]["vaina"]["Gateway"],
        gateway
    );
    env.ok(["system", "reset", "-f"]);
    let veth = libvaina::network::driver::host_veth_name(&id, "vaina");
    assert!(!sh("ip -o link").contains(&veth));
    assert!(!sh("ip -o -4 addr show vaina0").contains(&format!("{gateway}/")));
    assert!(!sh("nft list table inet vaina").contains(&subnet));
}
