//! Container command flags beyond the basics: `--latest` and `--filter` on the commands that
//! act on containers, `wait --condition`, `start --sig-proxy`, `restart --cidfile`, the `ps`
//! COMMAND column and order, `run -d --log-driver passthrough`, and `commit` errors.

mod common;

use common::TestEnv;

#[test]
fn latest_and_filter_select_containers() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    let a = env.ok([
        "create", "--name", "a", "--label", "k=v", img, "sleep", "1000",
    ]);
    let b = env.ok(["create", "--name", "b", img, "sleep", "1000"]);
    let (a, b) = (a.trim(), b.trim());
    assert_eq!(env.ok(["start", "--filter", "label=k=v"]), format!("{a}\n"));
    assert_eq!(env.ok(["start", "-l"]), format!("{b}\n"));
    assert_eq!(
        env.ok(["top", "-l", "args"]).lines().last().unwrap().trim(),
        "sleep 1000"
    );
    assert_eq!(
        env.ok(["stats", "-l", "--no-stream", "--format", "{{.Name}}"]),
        "b\n"
    );
    let err = env.fails(125, ["stop", "-l", "a"]);
    assert!(
        err.contains("--latest and containers cannot be used together"),
        "{err}"
    );
    assert_eq!(env.ok(["stop", "-t", "0", "-l"]), format!("{b}\n"));
    assert_eq!(
        env.ok(["stop", "-t", "0", "--filter", "name=a"]),
        format!("{a}\n")
    );
    assert_eq!(env.ok(["wait", "-l"]), "137\n");
    let cid = env.dir.path().join("cid");
    std::fs::write(&cid, a).unwrap();
    env.ok(["restart", "-t", "0", "--cidfile", cid.to_str().unwrap()]);
    assert_eq!(
        env.ok(["ps", "--format", "{{.Names}}"]),
        "a\n",
        "restart --cidfile"
    );
    assert_eq!(
        env.ok(["rm", "-f", "-t", "0", "--filter", "label=k=v"]),
        format!("{a}\n")
    );
    assert_eq!(env.ok(["rm", "--latest"]), format!("{b}\n"));
    assert_eq!(env.ok(["ps", "-aq"]), "");
}

#[test]
fn wait_conditions_and_sig_proxy() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    env.ok(["create", "--name", "c", img, "sh", "-c", "exit 4"]);
    assert_eq!(env.ok(["wait", "--condition", "created", "c"]), "-1\n");
    assert_eq!(env.ok(["wait", "--condition", "configured", "c"]), "-1\n");
    let err = env.fails(125, ["wait", "--condition", "bogus", "c"]);
    assert!(
        err.contains("\"bogus\" is not a valid container state"),
        "{err}"
    );
    let err = env.fails(125, ["start", "--sig-proxy", "c"]);
    assert!(
        err.contains("you cannot use sig-proxy without --attach"),
        "{err}"
    );
    let out = env.run(["start", "-a", "--sig-proxy=false", "c"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(
        env.ok([
            "wait",
            "--condition",
            "stopped",
            "--condition",
            "running",
            "c"
        ]),
        "4\n"
    );
    env.ok(["rm", "c"]);
}

#[test]
fn ps_command_column_and_order() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    env.ok([
        "create",
        "--name",
        "first",
        img,
        "sh",
        "-c",
        "echo aaaaaaaaaaaaaaaaaaaa",
    ]);
    env.ok(["create", "--name", "second", img, "true"]);
    // Oldest first; COMMAND cut to 17 characters and "..." as Podman does.
    assert_eq!(
        env.ok(["ps", "-a", "--format", "{{.Names}} {{.Command}}"]),
        "first sh -c echo aaaaaa...\nsecond true\n"
    );
    assert_eq!(
        env.ok(["ps", "-a", "--no-trunc", "--format", "{{.Command}}"]),
        "sh -c echo aaaaaaaaaaaaaaaaaaaa\ntrue\n"
    );
    let table = env.ok(["ps", "-a"]);
    assert!(table.contains("  sh -c echo aaaaaa...  "), "{table}");
    assert_eq!(
        env.ok(["ps", "-a", "-l", "--format", "{{.Names}}"]),
        "second\n"
    );
    assert_eq!(
        env.ok(["ps", "-a", "-n", "1", "--format", "{{.Names}}"]),
        "second\n"
    );
    env.ok(["rm", "first", "second"]);
}

#[test]
fn passthrough_detached_and_commit_errors() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    // With passthrough the container owns our stdout, so no ID is printed there.
    let out = env.run([
        "run",
        "-d",
        "--name",
        "p",
        "--log-driver",
        "passthrough",
        img,
        "true",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(env.ok(["wait", "p"]), "0\n");
    // A failing commit prints its error alone.
    let err = env.fails(125, ["commit", "p", "Bad:Name"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("Error: "), "{err}");
    let err = env.fails(125, ["commit", "nosuch", "img"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    env.ok(["rm", "p"]);
}

#[test]
fn logs_of_several_containers() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    let a = env.ok(["run", "--name", "a", img, "echo", "one"]);
    let b = env.ok(["run", "--name", "b", img, "echo", "two"]);
    assert_eq!((a.as_str(), b.as_str()), ("one\n", "two\n"));
    assert_eq!(env.ok(["logs", "--names", "a", "b"]), "a one\nb two\n");
    let ids = env.ok(["logs", "a", "b"]);
    let prefixes: Vec<usize> = ids.lines().map(|l| l.find(' ').unwrap()).collect();
    assert_eq!(prefixes, vec![12, 12], "{ids}");
    // -t prints Go's RFC 3339 with nanoseconds.
    let ts = env.ok(["logs", "-t", "a"]);
    assert!(
        ts.starts_with("20") && ts.contains('T') && ts.ends_with(" one\n"),
        "{ts}"
    );
    // -f follows every container at once: both end, so both outputs arrive.
    env.ok(["run", "-d", "--name", "c", img, "sh", "-c", "echo three"]);
    let out = env.ok(["logs", "-f", "--names", "a", "c"]);
    assert!(
        out.contains("a one\n") && out.contains("c three\n"),
        "{out}"
    );
    env.ok(["rm", "a", "b", "c"]);
}

#[test]
fn run_rmi_quiet_and_label_file() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    env.ok(["tag", img, "localhost/extra:tag"]);
    // --rmi implies --rm and removes the image by the name given (here: one of two tags).
    assert_eq!(
        env.ok(["run", "--rmi", "-q", "localhost/extra:tag", "echo", "hi"]),
        "hi\n"
    );
    assert_eq!(env.ok(["ps", "-aq"]), "");
    let names = env.ok(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(!names.contains("localhost/extra"), "{names}");
    // Detached, the monitor removes the image after the container.
    env.ok(["tag", img, "localhost/extra:d"]);
    let id = env.ok(["run", "-d", "--rmi", "localhost/extra:d", "sleep", "1000"]);
    env.ok(["stop", "-t", "0", id.trim()]);
    let names = env.ok(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(!names.contains("localhost/extra"), "{names}");
    assert_eq!(env.ok(["ps", "-aq"]), "");
    let labels = env.dir.path().join("labels");
    std::fs::write(&labels, "a=1\n# comment\nnovalue\n\nc=x=y\n").unwrap();
    let l = labels.to_str().unwrap();
    env.ok([
        "create",
        "--name",
        "lf",
        "--label-file",
        l,
        "--label",
        "a=2",
        img,
    ]);
    assert_eq!(
        env.ok(["inspect", "--format", "{{json .Config.Labels}}", "lf"]),
        "{\"a\":\"2\",\"c\":\"x=y\"}\n"
    );
    let before = env.store_snapshot();
    let err = env.fails(125, ["create", "--label-file", "/nonexistent", img]);
    assert!(
        err.contains("unable to process labels: open /nonexistent: no such file or directory"),
        "{err}"
    );
    assert_eq!(env.store_snapshot(), before);
    env.ok(["rm", "lf"]);
}

#[test]
fn top_descriptors() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    env.ok(["run", "-d", "--name", "t", img, "sleep", "1000"]);
    let out = env.ok(["top", "t", "pid", "capeff", "label", "rss", "stime"]);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["PID", "EFFECTIVE", "CAPS", "LABEL", "RSS", "STIME"]
    );
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(row[0], "1");
    let caps: Vec<&str> = row[1].split(',').collect();
    let mut sorted = caps.clone();
    sorted.sort();
    assert_eq!(
        caps, sorted,
        "capabilities sorted by name as psgo prints them"
    );
    assert_eq!(row[2], "?");
    assert!(row[3].parse::<u64>().unwrap() > 0, "{out}");
    env.ok(["rm", "-f", "-t", "0", "t"]);
}

#[test]
fn update_keeps_the_other_limits() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    let id = env.ok(["create", "--memory", "100m", "--cpu-shares", "512", img]);
    let id = id.trim();
    env.ok(["update", "--memory-reservation", "50m", id]);
    env.ok(["update", "--cpu-quota", "50000", id]);
    let spec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(env.root.join("containers").join(id).join("config.json")).unwrap(),
    )
    .unwrap();
    let r = &spec["linux"]["resources"];
    assert_eq!(r["memory"]["limit"], 100 << 20, "{r}");
    assert_eq!(r["memory"]["reservation"], 50 << 20, "{r}");
    assert_eq!(r["cpu"]["shares"], 512, "{r}");
    assert_eq!(r["cpu"]["quota"], 50000, "{r}");
    env.ok(["rm", id]);
}

#[test]
fn run_timeout_kills_the_container() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    // Podman records -1 for a container its timeout killed; the foreground run exits 255.
    env.fails(255, ["run", "--rm", "--timeout", "1", img, "sleep", "1000"]);
    env.ok([
        "run",
        "-d",
        "--name",
        "t",
        "--timeout",
        "1",
        img,
        "sleep",
        "1000",
    ]);
    assert_eq!(
        env.ok([
            "inspect",
            "--format",
            "{{.Config.Timeout}} {{.Config.Passwd}}",
            "t"
        ]),
        "1 true\n"
    );
    assert_eq!(env.ok(["wait", "t"]), "-1\n");
    assert_eq!(
        env.ok(["ps", "-a", "--format", "{{.Status}}"])
            .split(' ')
            .next(),
        Some("Exited")
    );
    env.ok(["rm", "t"]);
}

#[test]
fn stats_of_a_stopped_container_and_state_errors() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    env.ok(["create", "--name", "s1", img, "true"]);
    env.ok(["create", "--name", "s2", img, "true"]);
    // A container that is not running shows zeros, as Podman does.
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(["stats", "--no-stream", "--format", "json", "s1"])).unwrap();
    assert_eq!(json[0]["name"], "s1");
    assert_eq!(json[0]["mem_usage"], "0B / 0B");
    assert_eq!(json[0]["pids"], "0");
    let err = env.fails(125, ["pause", "s1"]);
    assert!(
        err.contains("\"created\" is not running, can't pause"),
        "{err}"
    );
    let err = env.fails(125, ["rename", "s1", "s2"]);
    assert!(
        err.contains("name s2 already in use, cannot rename container"),
        "{err}"
    );
    env.ok(["rm", "s1", "s2"]);
}

#[test]
fn inspect_host_config_resources() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    env.ok([
        "create",
        "--name",
        "h",
        "--memory",
        "100m",
        "--cpus",
        "1.5",
        "--pids-limit",
        "50",
        "--read-only",
        "--ulimit",
        "nofile=100:200",
        img,
        "true",
    ]);
    let v: serde_json::Value = serde_json::from_str(&env.ok(["inspect", "h"])).unwrap();
    let hc = &v[0]["HostConfig"];
    assert_eq!(hc["Memory"], 100 << 20, "{hc}");
    assert_eq!(hc["MemorySwap"], 200 << 20, "{hc}");
    assert_eq!(hc["NanoCpus"], 1_500_000_000u64, "{hc}");
    assert_eq!(hc["PidsLimit"], 50, "{hc}");
    assert_eq!(hc["ReadonlyRootfs"], true, "{hc}");
    assert_eq!(hc["PidMode"], "private", "{hc}");
    assert_eq!(
        hc["Ulimits"][0],
        serde_json::json!({"Name": "RLIMIT_NOFILE", "Soft": 100, "Hard": 200})
    );
    assert_eq!(hc["CapAdd"], serde_json::json!([]));
    env.ok(["rm", "h"]);
}
