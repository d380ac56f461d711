//! Pods (issue 6): `pod create` with vaina's own infra (pause) container, containers joining
//! the pod's namespaces with `--pod`, the pod's state, listing, inspect, stop/start with the
//! joined namespaces refreshed, `--exit-policy stop`, `--share pid`, `pod rm -f` leaving
//! nothing behind, and the bad inputs the issue names (Podman's messages and exit codes,
//! store unchanged). Root, real runc, a leak check after each test.

mod common;

use common::TestEnv;

fn id_of(env: &TestEnv, name: &str) -> String {
    env.ok(["inspect", "--format", "{{.Id}}", name])
        .trim()
        .to_string()
}

fn pid_of(env: &TestEnv, name: &str) -> String {
    env.ok(["inspect", "--format", "{{.State.Pid}}", name])
        .trim()
        .to_string()
}

fn ns(pid: &str, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// A client in the pod that fetches the server's page over localhost, retrying while the
/// server starts (bounded: fifteen seconds, for loaded machines).
const FETCH: &str =
    "for i in $(seq 150); do wget -q -O - http://localhost:8080/ && exit 0; sleep 0.1; done; exit 1";
const SERVE: &str =
    "mkdir -p /www && echo hello-pod > /www/index.html && exec httpd -f -p 8080 -h /www";

fn has_publish_flag(env: &TestEnv) -> bool {
    env.ok(["run", "--help"]).contains("--publish")
}

#[test]
fn pod_lifecycle_shares_namespaces_and_localhost() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    let pod = env
        .ok(["pod", "create", "--name", "web"])
        .trim()
        .to_string();
    assert_eq!(pod.len(), 64);
    assert!(pod.bytes().all(|b| b.is_ascii_hexdigit()));
    let infra_name = format!("{}-infra", &pod[..12]);

    // A new pod: Created, one container (infra), from the local pause image.
    let ls = env.ok(["pod", "ps"]);
    let mut lines = ls.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        [
            "POD",
            "ID",
            "NAME",
            "STATUS",
            "CREATED",
            "INFRA",
            "ID",
            "#",
            "OF",
            "CONTAINERS"
        ]
    );
    let row = lines.next().unwrap();
    assert!(row.starts_with(&pod[..12]), "{row}");
    assert!(
        row.contains(" web ") && row.contains("Created") && row.ends_with(" 1"),
        "{row}"
    );
    let images = env.ok(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(images.contains("localhost/vaina-pause:"), "{images}");
    assert_eq!(
        env.ok([
            "ps",
            "-a",
            "--format",
            "{{.Names}} {{.Pod}}",
            "--filter",
            "pod=web"
        ])
        .trim(),
        format!("{infra_name} {}", &pod[..12])
    );

    // Two containers: a server and a client that reaches it over localhost.
    env.ok([
        "run", "-d", "--pod", "web", "--name", "srv", img, "sh", "-c", SERVE,
    ]);
    assert_eq!(
        env.ok(["pod", "ps", "--format", "{{.Status}}"]).trim(),
        "Running"
    );
    let page = env.ok(["run", "--rm", "--pod", "web", img, "sh", "-c", FETCH]);
    assert_eq!(page.trim(), "hello-pod");
    // The pod's name is the hostname of its containers (shared uts).
    assert_eq!(env.ok(["exec", "srv", "hostname"]).trim(), "web");

    // Joined namespaces: net, ipc, uts shared with infra; pid private.
    let (ip, sp) = (pid_of(&env, &infra_name), pid_of(&env, "srv"));
    for kind in ["net", "ipc", "uts"] {
        assert_eq!(ns(&ip, kind), ns(&sp, kind), "{kind}");
    }
    assert_ne!(ns(&ip, "pid"), ns(&sp, "pid"));

    let with_pod = env.ok(["ps", "--pod"]);
    let header = with_pod.lines().next().unwrap();
    assert!(header.ends_with("POD ID        PODNAME"), "{header}");
    assert!(
        with_pod.contains(&format!("{}  web", &pod[..12])),
        "{with_pod}"
    );

    let ctrs = env.ok([
        "pod",
        "ps",
        "--ctr-names",
        "--ctr-status",
        "--format",
        "{{.ContainerNames}} {{.ContainerStatuses}}",
    ]);
    assert_eq!(ctrs.trim(), format!("srv,{infra_name} running,running"));

    // inspect: Podman's fields.
    let v: serde_json::Value = serde_json::from_str(&env.ok(["pod", "inspect", "web"])).unwrap();
    assert_eq!(v["Id"], pod.as_str());
    assert_eq!(v["State"], "Running");
    assert_eq!(v["NumContainers"], 2);
    assert_eq!(v["InfraContainerID"], id_of(&env, &infra_name).as_str());
    assert_eq!(
        v["SharedNamespaces"],
        serde_json::json!(["ipc", "net", "uts"])
    );
    assert_eq!(v["ExitPolicy"], "continue");
    let ctr: serde_json::Value = serde_json::from_str(&env.ok(["inspect", "srv"])).unwrap();
    assert_eq!(ctr[0]["Pod"], pod.as_str());
    assert_eq!(ctr[0]["IsInfra"], false);
    let inf: serde_json::Value = serde_json::from_str(&env.ok(["inspect", &infra_name])).unwrap();
    assert_eq!(inf[0]["IsInfra"], true);
    assert_eq!(
        inf[0]["ImageName"].as_str().unwrap().split(':').next(),
        Some("localhost/vaina-pause")
    );

    // Stop: Exited; start: infra first and the server reachable again (new PIDs).
    assert_eq!(env.ok(["pod", "stop", "-t", "0", "web"]).trim(), pod);
    assert_eq!(
        env.ok(["pod", "ps", "--format", "{{.Status}}"]).trim(),
        "Exited"
    );
    assert_eq!(env.ok(["pod", "start", "web"]).trim(), pod);
    assert_eq!(
        env.ok(["pod", "ps", "--format", "{{.Status}}"]).trim(),
        "Running"
    );
    let page = env.ok(["run", "--rm", "--pod", "web", img, "sh", "-c", FETCH]);
    assert_eq!(page.trim(), "hello-pod");

    // One container stopped: Degraded. Starting a member starts nothing else.
    env.ok(["stop", "-t", "0", "srv"]);
    assert_eq!(
        env.ok(["pod", "ps", "--format", "{{.Status}}"]).trim(),
        "Degraded"
    );
    // Pause and unpause act on every running container.
    env.ok(["pod", "start", "web"]);
    env.ok(["pod", "pause", "web"]);
    assert_eq!(
        env.ok(["pod", "ps", "--format", "{{.Status}}"]).trim(),
        "Paused"
    );
    env.ok(["pod", "unpause", "web"]);
    assert_eq!(
        env.ok(["pod", "ps", "--format", "{{.Status}}"]).trim(),
        "Running"
    );
    let top = env.ok(["pod", "top", "web"]);
    assert!(top.contains("/pause") && top.contains("httpd"), "{top}");
    let stats = env.ok(["pod", "stats", "--no-stream", "web"]);
    let mut lines = stats.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("POD           CID           NAME"),
        "{stats}"
    );
    assert_eq!(lines.count(), 2, "{stats}");

    // rm -f: nothing left, no process, mount or cgroup of any of its containers.
    let ids = [id_of(&env, "srv"), id_of(&env, &infra_name)];
    assert_eq!(env.ok(["pod", "rm", "-f", "-t", "0", "web"]).trim(), pod);
    assert_eq!(env.ok(["ps", "-aq"]).trim(), "");
    assert_eq!(env.ok(["pod", "ps", "-q"]).trim(), "");
    for id in &ids {
        assert!(common::cgroups_of(id).is_empty(), "cgroup of {id} left");
    }
    env.fails(1, ["pod", "exists", "web"]);
}

#[test]
fn pod_bad_input_changes_nothing() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    env.ok(["pod", "create", "--name", "p"]);
    env.ok([
        "run", "-d", "--pod", "p", "--name", "a", img, "sleep", "1000",
    ]);
    let before = env.store_snapshot();
    let ps_before = env.ok(["ps", "-a", "--format", "{{.ID}} {{.State}}"]);

    let err = env.fails(125, ["run", "-d", "--pod", "nope", img, "true"]);
    assert_eq!(
        err.trim(),
        "Error: no pod with name or ID nope found: no such pod"
    );
    let err = env.fails(
        125,
        ["create", "--pod", "p", "--network", "none", img, "true"],
    );
    assert_eq!(
        err.trim(),
        "Error: invalid config provided: networks must be defined when the pod is created: \
         network cannot be configured when it is shared with a pod"
    );
    let err = env.fails(125, ["pod", "create", "--name", "p"]);
    assert_eq!(
        err.trim(),
        "Error: adding pod to state: name \"p\" is in use: pod already exists"
    );
    let err = env.fails(125, ["create", "--name", "p", img]);
    assert_eq!(
        err.trim(),
        "Error: name \"p\" is in use: pod already exists"
    );
    let err = env.fails(125, ["pod", "create", "--name", "a"]);
    assert_eq!(
        err.trim(),
        "Error: adding pod to state: name \"a\" is in use: container already exists"
    );
    let a = id_of(&env, "a");
    let pod = env
        .ok(["pod", "inspect", "-f", "{{.Id}}", "p"])
        .trim()
        .to_string();
    let err = env.fails(125, ["pod", "rm", "p"]);
    assert_eq!(
        err.trim(),
        format!(
            "Error: removing container {a} from pod {pod}: cannot remove container {a} as it is \
             running - running or paused containers cannot be removed without force: container \
             state improper"
        )
    );
    if has_publish_flag(&env) {
        let err = env.fails(125, ["create", "--pod", "p", "-p", "8080:80", img, "true"]);
        assert_eq!(
            err.trim(),
            "Error: invalid config provided: published or exposed ports must be defined when \
             the pod is created: network cannot be configured when it is shared with a pod"
        );
    } else {
        eprintln!("-p on a pod member: skipped, `run` has no --publish flag yet (networking)");
    }
    let err = env.fails(125, ["pod", "create", "--share", "mnt"]);
    assert_eq!(
        err.trim(),
        "Error: mount sharing functionality not supported on pod level"
    );
    let err = env.fails(125, ["pod", "create", "--infra=false", "--share", "net"]);
    assert_eq!(
        err.trim(),
        "Error: cannot set share(net) namespaces without an infra container"
    );
    let err = env.fails(125, ["pod", "create", "--exit-policy", "halt"]);
    assert_eq!(
        err.trim(),
        "Error: running pod create option: invalid pod exit policy: \"halt\""
    );
    let infra = env.ok(["pod", "inspect", "-f", "{{.InfraContainerID}}", "p"]);
    let infra = infra.trim();
    let err = env.fails(125, ["rm", "-f", infra]);
    assert_eq!(
        err.trim(),
        format!(
            "Error: container {infra} is the infra container of pod {pod} and cannot be \
             removed without removing the pod"
        )
    );
    env.fails(1, ["pod", "rm", "nope"]);
    env.ok(["pod", "rm", "--ignore", "nope"]);

    assert_eq!(env.store_snapshot(), before);
    assert_eq!(
        env.ok(["ps", "-a", "--format", "{{.ID}} {{.State}}"]),
        ps_before
    );
    assert_eq!(env.ok(["pod", "ps", "-q"]).lines().count(), 1);
    env.ok(["pod", "rm", "-f", "-t", "0", "p"]);
}

#[test]
fn exit_policy_stop_share_pid_and_no_infra() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    env.ok([
        "pod",
        "create",
        "--name",
        "job",
        "--exit-policy",
        "stop",
        "--share",
        "+pid",
    ]);
    // The pause process is PID 1 of the pod and reaps the orphan the shell leaves.
    let out = env.ok([
        "run",
        "--pod",
        "job",
        "--name",
        "j1",
        img,
        "sh",
        "-c",
        "(sleep 0.1 &); cat /proc/1/cmdline; echo",
    ]);
    assert_eq!(out.trim().trim_end_matches('\0'), "/pause");
    // pod logs: every container but infra, prefixed with its name.
    let logs = env.ok(["pod", "logs", "--names", "job"]);
    assert_eq!(logs.replace('\0', ""), "j1 /pause\n");
    // The last container exited, so the pod stopped (its monitor stops infra before exiting).
    let c = env.ok([
        "ps",
        "-a",
        "--filter",
        "pod=job",
        "--format",
        "{{.Names}} {{.State}}",
    ]);
    assert!(c.lines().all(|l| l.ends_with("exited")), "{c}");
    assert_eq!(
        env.ok(["pod", "ps", "--format", "{{.Status}}"]).trim(),
        "Exited"
    );
    assert_eq!(env.ok(["pod", "prune", "-f"]).lines().count(), 1);

    // --infra=false: no infra container, containers keep their own namespaces.
    let pod = env
        .ok(["pod", "create", "--name", "bare", "--infra=false"])
        .trim()
        .to_string();
    assert_eq!(
        env.ok([
            "pod",
            "ps",
            "--format",
            "{{.InfraID}}|{{.NumberOfContainers}}"
        ])
        .trim(),
        "|0"
    );
    let err = env.fails(125, ["pod", "start", "bare"]);
    assert_eq!(
        err.trim(),
        format!(
            "Error: no containers in pod {pod} have no dependencies, cannot start pod: no such \
             container"
        )
    );
    env.ok(["run", "--rm", "--pod", "bare", img, "true"]);
    // --infra-image/--infra-command/--infra-name replace vaina's pause container.
    env.ok([
        "pod",
        "create",
        "--name",
        "custom",
        "--infra-image",
        img,
        "--infra-command",
        "[\"sleep\",\"1000\"]",
        "--infra-name",
        "myinfra",
    ]);
    env.ok(["pod", "start", "custom"]);
    assert_eq!(
        env.ok([
            "ps",
            "--format",
            "{{.Names}} {{.Command}}",
            "--filter",
            "pod=custom"
        ])
        .trim(),
        "myinfra sleep 1000"
    );
    // `new:NAME` creates the pod with the container.
    env.ok([
        "run",
        "-d",
        "--pod",
        "new:fresh",
        "--name",
        "f",
        img,
        "sleep",
        "1000",
    ]);
    assert!(
        env.ok([
            "ps",
            "--pod",
            "--format",
            "{{.Names}} {{.PodName}}",
            "--filter",
            "pod=fresh"
        ])
        .lines()
        .any(|l| l == "f fresh"),
        "ps --pod"
    );
    // `rm -a` takes the pods of the infra containers it meets with it, as in Podman.
    // A pod without infra stays (its containers are gone), as in Podman.
    env.ok(["rm", "-a", "-f", "-t", "0"]);
    assert_eq!(env.ok(["pod", "ps", "-q", "--no-trunc"]).trim(), pod);
    env.fails(1, ["pod", "exists", "fresh"]);
    env.fails(1, ["pod", "exists", "custom"]);
    env.ok(["pod", "rm", "bare"]);
    env.fails(1, ["pod", "exists", &pod]);
    assert_eq!(env.ok(["ps", "-aq"]).trim(), "");
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
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("sh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn published_port_answers_from_the_host() {
    require_root!();
    let env = TestEnv::new();
    if !has_publish_flag(&env) {
        eprintln!("skipped: `run`/`create` have no -p yet (container networking is not wired)");
        return;
    }
    if sh("command -v nft").trim().is_empty() {
        eprintln!("skipped: nft is not installed");
        return;
    }
    let img = env.busybox_image();
    // A network of the test's own (bridge and subnet no other test uses).
    let (net, bridge) = ("vpod1", "vpod1br");
    assert!(!sh("ip -o link").contains(&format!(" {bridge}:")));
    env.ok([
        "network",
        "create",
        "--subnet",
        "10.233.1.0/24",
        "--interface-name",
        bridge,
        net,
    ]);
    let port = 40000 + (std::process::id() % 20000) as u16;
    let pod = env
        .ok([
            "pod",
            "create",
            "--name",
            "pub",
            "--network",
            net,
            "-p",
            &format!("127.0.0.1:{port}:8080"),
        ])
        .trim()
        .to_string();
    env.ok([
        "run", "-d", "--pod", "pub", "--name", "srv", img, "sh", "-c", SERVE,
    ]);
    let mut body = String::new();
    for _ in 0..150 {
        body = http_get(port);
        if body.contains("hello-pod") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        body.contains("hello-pod"),
        "no answer on 127.0.0.1:{port}: {body}"
    );
    // Containers of the pod reach each other over localhost on the bridge too, and share
    // the infra container's /etc/hosts.
    let page = env.ok(["run", "--rm", "--pod", "pub", img, "sh", "-c", FETCH]);
    assert_eq!(page.trim(), "hello-pod");
    let v: serde_json::Value = serde_json::from_str(&env.ok(["pod", "inspect", "pub"])).unwrap();
    assert_eq!(
        v["InfraConfig"]["PortBindings"]["8080/tcp"][0]["HostPort"],
        port.to_string().as_str()
    );
    assert_eq!(v["InfraConfig"]["Networks"], serde_json::json!([net]));
    let infra = v["InfraContainerID"].as_str().unwrap().to_string();

    // pod rm -f: no container, namespace file, rule or lease of the pod left.
    assert_eq!(env.ok(["pod", "rm", "-f", "-t", "0", "pub"]).trim(), pod);
    assert_eq!(env.ok(["ps", "-aq"]).trim(), "");
    let netns: Vec<_> = std::fs::read_dir(env.runroot.join("netns"))
        .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(netns.is_empty(), "netns left: {netns:?}");
    let rules = sh("nft list table inet vaina 2>/dev/null");
    assert!(!rules.contains(&infra[..12]), "rules left: {rules}");
    assert!(!rules.contains(&format!("{port}")), "port left: {rules}");
    assert!(http_get(port).is_empty());
    env.ok(["network", "rm", net]);
    assert!(!sh("ip -o link").contains(&format!(" {bridge}:")));
}

#[test]
fn concurrent_pod_creates_of_one_name_leave_one_pod() {
    require_root!();
    let env = TestEnv::new();
    env.busybox_image();
    // Several processes at once, each also the first to need the pause image.
    let children: Vec<_> = (0..4)
        .map(|_| {
            env.cmd(["pod", "create", "--name", "same"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ok = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        if out.status.success() {
            ok += 1;
        } else {
            assert_eq!(out.status.code(), Some(125));
            assert_eq!(
                String::from_utf8_lossy(&out.stderr).trim(),
                "Error: adding pod to state: name \"same\" is in use: pod already exists"
            );
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(env.ok(["pod", "ps", "-q"]).lines().count(), 1);
    assert_eq!(env.ok(["ps", "-aq"]).lines().count(), 1);
    env.ok(["pod", "rm", "same"]);
    assert_eq!(env.ok(["ps", "-aq"]).trim(), "");
}
