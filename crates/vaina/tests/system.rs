//! `version` and `info`: Podman's layouts, `--format` (json and Go templates), configuration
//! files reflected in `info`, and broken configuration files (one line, exit 125).

mod common;

use common::TestEnv;
use serde_json::Value;

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

#[test]
fn version_layout_and_formats() {
    let env = TestEnv::new();
    let out = env.ok(["version"]);
    let labels: Vec<&str> = out
        .lines()
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        labels,
        [
            "Client",
            "Version",
            "API Version",
            "Rust Version",
            "Built",
            "OS/Arch"
        ],
        "{out}"
    );
    // Values start in column 15, as Podman's do.
    for l in out.lines() {
        assert_eq!(l.as_bytes()[13], b' ', "{l:?}");
        assert_ne!(l.as_bytes()[14], b' ', "{l:?}");
    }
    assert!(
        out.contains(&format!("OS/Arch:      linux/{}", go_arch())),
        "{out}"
    );

    let json = env.ok_json(["version", "--format", "json"]);
    assert_eq!(json["Client"]["Version"], env!("CARGO_PKG_VERSION"));
    assert!(json["Client"]["APIVersion"].is_string());

    let t = env.ok(["version", "--format", "{{.Client.Version}}"]);
    assert_eq!(t, format!("{}\n", env!("CARGO_PKG_VERSION")));
    let t = env.ok([
        "system",
        "version",
        "-f",
        "{{.Client.Os}}/{{.Client.OsArch}}",
    ]);
    assert_eq!(t, format!("linux/linux/{}\n", go_arch()));
}

#[test]
fn info_json_shape() {
    let env = TestEnv::new();
    env.set_registries_conf(
        "unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n\n[[registry]]\nlocation = \"127.0.0.1:5000\"\ninsecure = true\n",
    );
    let v = env.ok_json(["info", "--format", "json"]);
    let host = &v["host"];
    assert_eq!(host["arch"], go_arch());
    assert_eq!(host["os"], "linux");
    assert!(matches!(host["cgroupVersion"].as_str(), Some("v1" | "v2")));
    assert!(host["kernel"].as_str().is_some_and(|k| !k.is_empty()));
    assert!(host["hostname"].is_string());
    assert!(host["ociRuntime"]["name"].is_string());
    assert!(host["cpus"].as_u64().unwrap() >= 1);
    let store = &v["store"];
    assert_eq!(store["graphRoot"], env.root.display().to_string());
    assert_eq!(store["runRoot"], env.runroot.display().to_string());
    assert_eq!(store["graphDriverName"], "overlay");
    assert_eq!(store["imageStore"]["number"], 0);
    assert_eq!(store["containerStore"]["number"], 0);
    assert_eq!(store["containerStore"]["running"], 0);
    assert_eq!(
        v["registries"]["search"],
        serde_json::json!(["quay.io", "docker.io"])
    );
    assert_eq!(v["registries"]["127.0.0.1:5000"]["Insecure"], true);
    assert_eq!(v["version"]["Version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn info_default_output_and_templates() {
    let env = TestEnv::new();
    let out = env.ok(["info"]);
    for key in [
        "host:\n",
        "  arch: ",
        "store:\n",
        "  graphRoot: ",
        "version:\n",
    ] {
        assert!(out.contains(key), "missing {key:?} in\n{out}");
    }
    assert!(out.contains(&format!("  graphRoot: {}\n", env.root.display())));
    let t = env.ok([
        "info",
        "--format",
        "{{.Host.Arch}} {{.Store.GraphRoot}} {{.Store.ImageStore.Number}} {{.Host.OCIRuntime.Name}}",
    ]);
    let f: Vec<&str> = t.split_whitespace().collect();
    assert_eq!(f[0], go_arch());
    assert_eq!(f[1], env.root.display().to_string());
    assert_eq!(f[2], "0");
    let t = env.ok(["system", "info", "-f", "{{json .Host.Distribution}}"]);
    let d: Value = serde_json::from_str(&t).unwrap();
    // Template data uses Go's field names throughout (also inside `json`).
    assert!(d.get("Distribution").is_some(), "{t}");
}

#[test]
fn containers_conf_defaults_and_flag_overrides() {
    let env = TestEnv::new();
    env.set_containers_conf(
        "[containers]\nlog_driver = \"json-file\"\n\n[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"none\"\n",
    );
    let t = env.ok([
        "info",
        "--format",
        "{{.Host.LogDriver}} {{.Host.CgroupManager}} {{.Host.EventLogger}}",
    ]);
    assert_eq!(t, "json-file cgroupfs none\n");
    let t = env.ok([
        "--cgroup-manager",
        "systemd",
        "--events-backend",
        "file",
        "info",
        "--format",
        "{{.Host.CgroupManager}} {{.Host.EventLogger}}",
    ]);
    assert_eq!(t, "systemd file\n");
}

#[test]
fn runtime_from_containers_conf() {
    let env = TestEnv::new();
    let Some(runc) = ["/usr/sbin/runc", "/usr/bin/runc"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        eprintln!("skipped: runc is not installed");
        return;
    };
    env.set_containers_conf(&format!(
        "[engine]\nruntime = \"myrunc\"\n[engine.runtimes]\nmyrunc = [\"/nonexistent/runc\", \"{runc}\"]\n"
    ));
    let t = env.ok(["info", "--format", "{{.Host.OCIRuntime.Path}}"]);
    assert_eq!(t.trim(), runc);
    let t = env.ok([
        "--runtime",
        runc,
        "info",
        "--format",
        "{{.Host.OCIRuntime.Name}}",
    ]);
    assert_eq!(t.trim(), "runc");
}

fn assert_one_line_error(err: &str, needle: &str) {
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("Error: "), "{err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
}

#[test]
fn bad_config_files_are_one_line_errors() {
    let env = TestEnv::new();
    env.set_containers_conf("[containers\nfoo = 1\n");
    let err = env.fails(125, ["info"]);
    assert_one_line_error(&err, "containers.conf");
    env.set_containers_conf("[containers]\npids_limit = \"lots\"\n");
    let err = env.fails(125, ["info"]);
    assert_one_line_error(&err, "containers.conf");
    env.set_containers_conf("");

    env.set_registries_conf("unqualified-search-registries = [\"a.io\"\n");
    let err = env.fails(125, ["info"]);
    assert_one_line_error(&err, "registries.conf");
    env.set_registries_conf("short-name-mode = \"sometimes\"\n");
    let err = env.fails(125, ["info"]);
    assert_one_line_error(&err, "short-name mode");
    env.set_registries_conf("");

    // A broken drop-in names the drop-in.
    let dropins = env.config.join("registries.conf.d");
    std::fs::create_dir_all(&dropins).unwrap();
    std::fs::write(
        dropins.join("50-bad.conf"),
        "[[registry]]\nprefix = \"x.io\"\n",
    )
    .unwrap();
    let err = env.fails(125, ["info"]);
    assert_one_line_error(&err, "50-bad.conf");
    std::fs::remove_file(dropins.join("50-bad.conf")).unwrap();

    assert!(
        !env.root.exists(),
        "info with a broken configuration must not create the store"
    );
    let err = env.fails(125, ["info", "--format", "{{.Host.Arch"]);
    assert_one_line_error(&err, "template");
}

#[test]
fn missing_containers_conf_named_by_env() {
    let mut env = TestEnv::new();
    let missing = env.dir.path().join("nope.conf");
    env.env
        .push(("CONTAINERS_CONF".into(), missing.display().to_string()));
    let err = env.fails(125, ["info"]);
    assert_one_line_error(&err, "nope.conf");
}

#[test]
fn containers_conf_override_applies_last() {
    let mut env = TestEnv::new();
    env.set_containers_conf("[containers]\nlog_driver = \"json-file\"\n");
    let over = env.dir.path().join("override.conf");
    std::fs::write(&over, "[containers]\nlog_driver = \"none\"\n").unwrap();
    env.env.push((
        "CONTAINERS_CONF_OVERRIDE".into(),
        over.display().to_string(),
    ));
    let t = env.ok(["info", "--format", "{{.Host.LogDriver}}"]);
    assert_eq!(t, "none\n");
}

#[test]
fn global_version_flag() {
    let env = TestEnv::new();
    let out = env.ok(["--version"]);
    assert_eq!(
        out,
        format!("vaina version {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn registries_conf_precedence() {
    let env = TestEnv::new();
    let search = |env: &TestEnv, remove_main: bool| {
        let mut c = env.cmd(["info", "--format", "{{.Registries.search}}"]);
        if remove_main {
            c.env_remove("CONTAINERS_REGISTRIES_CONF");
        }
        String::from_utf8(common::checked_output(&mut c).stdout).unwrap()
    };
    env.set_registries_conf("unqualified-search-registries = [\"main.io\"]\n");
    assert_eq!(search(&env, false), "[main.io]\n");

    // Drop-ins are read in name order; the last one setting the list wins.
    let dir = env.config.join("registries.conf.d");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("20-b.conf"),
        "unqualified-search-registries = [\"b.io\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("10-a.conf"),
        "unqualified-search-registries = [\"a.io\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("30-mode.conf"),
        "short-name-mode = \"enforcing\"\n",
    )
    .unwrap();
    assert_eq!(search(&env, false), "[b.io]\n");

    // Without CONTAINERS_REGISTRIES_CONF, the per-user file replaces /etc/containers's.
    let user = env.config.join("xdg-config/containers");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::write(
        user.join("registries.conf"),
        "unqualified-search-registries = [\"user.io\"]\n",
    )
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(search(&env, true), "[user.io]\n");
}

/// Writes `text` to `name` in the environment's config directory and returns its path.
fn config_file(env: &TestEnv, name: &str, text: &str) -> std::path::PathBuf {
    let p = env.config.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn config_files_seen_through_pull() {
    let env = TestEnv::new();
    env.set_registries_conf(
        r#"unqualified-search-registries = ["a.invalid", "b.invalid"]
short-name-mode = "enforcing"

[aliases]
"al" = "127.0.0.1:1/aliased"

[[registry]]
prefix = "*.blocked.invalid"
blocked = true
"#,
    );
    config_file(
        &env,
        "policy.json",
        r#"{"default": [{"type": "insecureAcceptAnything"}],
            "transports": {"docker": {"127.0.0.1:2": [{"type": "reject"}]}}}"#,
    );
    // Enforcing mode, two candidates, no terminal: Podman's error, nothing tried.
    let err = env.fails(125, ["pull", "busybox"]);
    assert_eq!(
        err,
        "Error: short-name resolution enforced but cannot prompt without a TTY\n"
    );
    // A blocked registry (wildcard prefix) names the reference and the registry.
    let err = env.fails(125, ["pull", "x.blocked.invalid/app"]);
    assert!(
        err.contains(
            "docker://x.blocked.invalid/app:latest: registry *.blocked.invalid is blocked"
        ),
        "{err}"
    );
    // policy.json: reject per scope.
    let err = env.fails(125, ["pull", "127.0.0.1:2/app"]);
    assert!(
        err.contains(
            "Error: Source image rejected: Running image docker://127.0.0.1:2/app:latest is rejected by policy."
        ),
        "{err}"
    );
    // An alias wins over the search registries (and so over enforcing mode).
    let out = env.run(["pull", "al"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("Resolved \"al\" as an alias ("), "{stderr}");
    assert!(stderr.contains("127.0.0.1:1/aliased:latest"), "{stderr}");
    assert!(
        !env.root.join("short-name-aliases.conf").exists(),
        "nothing chosen, nothing recorded"
    );
}

#[test]
fn missing_or_broken_policy_and_auth_files() {
    let mut env = TestEnv::new();
    let missing = env.config.join("nope.json");
    env.env.push((
        "CONTAINERS_POLICY_JSON".into(),
        missing.display().to_string(),
    ));
    let err = env.fails(125, ["pull", "127.0.0.1:1/x"]);
    assert!(
        err.ends_with(&format!(
            "Error: open {}: no such file or directory\n",
            missing.display()
        )),
        "{err}"
    );
    env.env.clear();

    config_file(
        &env,
        "policy.json",
        r#"{"default": [{"type": "sometimes"}]}"#,
    );
    let err = env.fails(125, ["pull", "127.0.0.1:1/x"]);
    assert!(err.contains("invalid policy in"), "{err}");
    assert!(err.contains("Unknown policy requirement type"), "{err}");
    config_file(
        &env,
        "policy.json",
        r#"{"default": [{"type": "insecureAcceptAnything"}]}"#,
    );

    let auth = config_file(&env, "bad-auth.json", "{not json");
    let err = env.fails(
        125,
        [
            "pull",
            "--authfile",
            auth.to_str().unwrap(),
            "127.0.0.1:1/x",
        ],
    );
    assert!(
        err.contains(&format!(
            "unmarshaling JSON at {:?}",
            auth.display().to_string()
        )),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.starts_with("Error:")).count(),
        1,
        "{err}"
    );
}

/// `info` names the runtime new containers get and says why (crun is skipped on hybrid
/// cgroups, as on the CI machines).
#[test]
fn info_explains_the_runtime_choice() {
    let env = TestEnv::new();
    let name = env.ok(["info", "--format", "{{.Host.OCIRuntime.Name}}"]);
    let reason = env.ok(["info", "--format", "{{.Host.OCIRuntime.Reason}}"]);
    assert!(
        !name.trim().is_empty() && !reason.trim().is_empty(),
        "{name} {reason}"
    );
    assert!(reason.contains(name.trim()), "{reason}");
    let hybrid = std::path::Path::new("/sys/fs/cgroup/unified").is_dir()
        && std::path::Path::new("/sys/fs/cgroup/memory").is_dir();
    if hybrid && std::path::Path::new("/usr/bin/crun").exists() {
        assert_eq!(name.trim(), "runc");
        assert!(
            reason.contains("crun does not support the hybrid cgroup layout"),
            "{reason}"
        );
    }
}
