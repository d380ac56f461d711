//! `vaina network ...` as users run it: create/ls/inspect/rm/prune/exists/reload, output checked
//! against Podman's format (and against podman itself, with an isolated network config dir,
//! when it is installed), and the bad inputs that apply without containers.
//! The kernel side (bridge, veth, nft) is tested in libvaina's `tests/network_backend.rs`.

mod common;

use common::TestEnv;
use serde_json::Value;
use std::process::Command;

fn inspect(env: &TestEnv, name: &str) -> Value {
    let out = env.ok(["network", "inspect", name]);
    let v: Value = serde_json::from_str(&out).unwrap();
    v[0].clone()
}

#[test]
fn create_ls_inspect_exists_rm() {
    let env = TestEnv::new();
    // The default network is there from the start.
    let out = env.ok(["network", "ls"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "NETWORK ID    NAME        DRIVER");
    assert!(lines[1].ends_with("  vaina       bridge"), "{out}");
    let def = inspect(&env, "vaina");
    assert_eq!(def["network_interface"], "vaina0");
    assert_eq!(def["dns_enabled"], false);

    assert_eq!(
        env.ok([
            "network",
            "create",
            "--subnet",
            "10.231.50.0/24",
            "--gateway",
            "10.231.50.254",
            "--ip-range",
            "10.231.50.128/25",
            "--label",
            "team=a",
            "--opt",
            "mtu=1400",
            "--internal",
            "n1"
        ]),
        "n1\n"
    );
    assert_eq!(env.ok(["network", "create", "--disable-dns", "n2"]), "n2\n");
    let n1 = inspect(&env, "n1");
    let keys: Vec<&str> = n1.as_object().unwrap().keys().map(|k| k.as_str()).collect();
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
            "labels",
            "options",
            "ipam_options"
        ]
    );
    assert_eq!(n1["id"].as_str().unwrap().len(), 64);
    assert_eq!(n1["subnets"][0]["subnet"], "10.231.50.0/24");
    assert_eq!(n1["subnets"][0]["gateway"], "10.231.50.254");
    assert_eq!(n1["subnets"][0]["lease_range"]["start_ip"], "10.231.50.129");
    assert_eq!(n1["internal"], true);
    assert_eq!(n1["labels"]["team"], "a");
    assert_eq!(n1["options"]["mtu"], "1400");
    assert_eq!(n1["ipam_options"]["driver"], "host-local");
    let n2 = inspect(&env, "n2");
    assert_eq!(n2["dns_enabled"], false);
    assert_ne!(n2["network_interface"], n1["network_interface"]);
    // Podman indents inspect with five spaces.
    assert!(env
        .ok(["network", "inspect", "n2"])
        .starts_with("[\n     {\n          \"name\""));
    // By ID prefix too.
    let id = n1["id"].as_str().unwrap();
    assert_eq!(inspect(&env, &id[..12])["name"], "n1");
    assert_eq!(
        env.ok(["network", "inspect", "-f", "{{.Name}} {{.Internal}}", "n1"]),
        "n1 true\n"
    );

    assert_eq!(env.ok(["network", "ls", "-q"]), "n1\nn2\nvaina\n");
    assert_eq!(
        env.ok(["network", "ls", "-q", "--filter", "label=team=a"]),
        "n1\n"
    );
    assert_eq!(
        env.ok(["network", "ls", "-q", "--filter", "name=n"]),
        "n1\nn2\nvaina\n"
    );
    assert_eq!(
        env.ok([
            "network",
            "ls",
            "--filter",
            &format!("id={}", &id[..8]),
            "--format",
            "{{.ID}}"
        ]),
        format!("{}\n", &id[..12])
    );
    assert_eq!(
        env.ok([
            "network",
            "ls",
            "--no-trunc",
            "--filter",
            "name=n1",
            "--format",
            "{{.ID}} {{.Labels}}"
        ]),
        format!("{id} team=a\n")
    );
    let js: Value = serde_json::from_str(&env.ok(["network", "ls", "--format", "json"])).unwrap();
    assert_eq!(js.as_array().unwrap().len(), 3);

    assert_eq!(env.run(["network", "exists", "n1"]).status.code(), Some(0));
    assert_eq!(
        env.run(["network", "exists", "nope"]).status.code(),
        Some(1)
    );
    assert_eq!(env.ok(["network", "rm", "n1", "n2"]), "n1\nn2\n");
    assert_eq!(env.ok(["network", "ls", "-q"]), "vaina\n");
}

#[test]
fn bad_inputs_change_nothing() {
    let env = TestEnv::new();
    env.ok(["network", "create", "--subnet", "10.231.51.0/24", "taken"]);
    let before = env.store_snapshot();
    for (args, msg) in [
        (vec!["--subnet", "10.231.51.0/25", "x"], "Error: subnet 10.231.51.0/25 is already used on the host or by another config"),
        (vec!["--subnet", "10.231.52.0/33", "x"], "Error: invalid CIDR address: 10.231.52.0/33"),
        (vec!["--subnet", "garbage", "x"], "Error: invalid CIDR address: garbage"),
        (vec!["--subnet", "10.231.52.0/24", "--gateway", "10.231.53.1", "x"], "Error: gateway 10.231.53.1 not in subnet 10.231.52.0/24"),
        (vec!["--gateway", "10.231.53.1", "x"], "Error: cannot set gateway or range without subnet"),
        (vec!["taken"], "Error: network name taken already used: network already exists"),
        (vec!["-d", "macvlan2", "x"], "Error: unsupported driver macvlan2: invalid argument"),
        (vec!["--opt", "foo=bar", "x"], "Error: unsupported bridge network option foo"),
        (vec!["bridge"], "Error: cannot create network with name \"bridge\" because it conflicts with a valid network mode"),
        (vec!["bad/name"], "Error: network name bad/name invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument"),
    ] {
        let mut a = vec!["network", "create"];
        a.extend(args);
        let err = env.fails(125, &a);
        assert_eq!(err.trim_end(), msg, "{a:?}");
    }
    let err = env.fails(125, ["network", "inspect", "nope"]);
    assert_eq!(err.trim_end(), "Error: inspecting object: network nope: unable to find network with name or ID nope: network not found");
    let err = env.fails(1, ["network", "rm", "nope"]);
    assert_eq!(
        err.trim_end(),
        "Error: unable to find network with name or ID nope: network not found"
    );
    let err = env.fails(125, ["network", "rm", "vaina"]);
    assert_eq!(
        err.trim_end(),
        "Error: default network vaina cannot be removed"
    );
    assert_eq!(env.store_snapshot(), before);
    // --ignore succeeds on an existing network without changing it.
    assert_eq!(
        env.ok(["network", "create", "--ignore", "taken"]),
        "taken\n"
    );
}

#[test]
fn prune_respects_filters_and_keeps_default() {
    let env = TestEnv::new();
    env.ok(["network", "create", "--label", "keep=yes", "p1"]);
    env.ok(["network", "create", "p2"]);
    assert_eq!(
        env.ok(["network", "prune", "-f", "--filter", "label=keep=yes"]),
        "p1\n"
    );
    assert_eq!(env.ok(["network", "prune", "-f"]), "p2\n");
    assert_eq!(env.ok(["network", "ls", "-q"]), "vaina\n");
    assert_eq!(env.ok(["network", "reload", "--all"]), "");
}

/// podman itself, with its network files in a temp dir (never /etc/containers/networks).
fn podman(dir: &std::path::Path, args: &[&str]) -> Option<std::process::Output> {
    let conf = dir.join("containers.conf");
    std::fs::write(
        &conf,
        format!(
            "[network]\nnetwork_config_dir=\"{}\"\n",
            dir.join("nets").display()
        ),
    )
    .ok()?;
    Command::new("podman")
        .arg("--root")
        .arg(dir.join("root"))
        .arg("--runroot")
        .arg(dir.join("run"))
        .args(args)
        .env("CONTAINERS_CONF", &conf)
        .output()
        .ok()
}

#[test]
fn same_output_shape_and_errors_as_podman() {
    require_root!();
    let pdir = tempfile::tempdir().unwrap();
    let Some(v) = podman(pdir.path(), &["--version"]) else {
        eprintln!("skipped: podman is not installed");
        return;
    };
    if !v.status.success() {
        eprintln!("skipped: podman does not run here");
        return;
    }
    let env = TestEnv::new();
    let create = [
        "network",
        "create",
        "--subnet",
        "10.231.60.0/24",
        "--label",
        "a=b",
        "--opt",
        "mtu=1400",
        "--internal",
        "cmp",
    ];
    let p = podman(pdir.path(), &create).unwrap();
    assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stderr));
    env.ok(create);
    let p = podman(pdir.path(), &["network", "inspect", "cmp"]).unwrap();
    let pj: Value = serde_json::from_slice(&p.stdout).unwrap();
    let vj: Value = serde_json::from_str(&env.ok(["network", "inspect", "cmp"])).unwrap();
    let strip = |v: &Value| {
        let mut v = v[0].clone();
        for k in ["id", "created", "network_interface"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v
    };
    assert_eq!(strip(&vj), strip(&pj));
    let p = podman(pdir.path(), &["network", "ls"]).unwrap();
    let ph = String::from_utf8_lossy(&p.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert_eq!(env.ok(["network", "ls"]).lines().next().unwrap(), ph);
    for bad in [
        vec!["network", "create", "--subnet", "10.231.60.0/25", "x"],
        vec!["network", "create", "--subnet", "10.1.0.0/33", "x"],
        vec![
            "network",
            "create",
            "--subnet",
            "10.231.61.0/24",
            "--gateway",
            "10.231.62.1",
            "x",
        ],
        vec!["network", "create", "cmp"],
        vec!["network", "create", "--opt", "foo=bar", "x"],
        vec!["network", "inspect", "nope"],
        vec!["network", "rm", "nope"],
    ] {
        let p = podman(pdir.path(), &bad).unwrap();
        let v = env.run(&bad);
        assert_eq!(v.status.code(), p.status.code(), "{bad:?}");
        assert_eq!(
            String::from_utf8_lossy(&v.stderr).trim_end(),
            String::from_utf8_lossy(&p.stderr).trim_end(),
            "{bad:?}"
        );
    }
    let p = podman(pdir.path(), &["network", "rm", "cmp"]).unwrap();
    assert!(p.status.success());
}
