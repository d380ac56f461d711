//! What `vaina run` promises about a container, checked from inside it: Podman's default
//! privileges (CapEff, seccomp, masked and read-only paths), users, `--read-only`, limits,
//! cgroups, sysctls, environment, entrypoint semantics and `--init`; and the bad values of
//! create/run flags. One test compares with Podman itself when it is installed.

mod common;

use common::TestEnv;
use std::process::Command;

/// Podman's default capabilities as a /proc/self/status mask.
const DEFAULT_CAP_MASK: &str = "00000000800405fb";

/// A test environment with the busybox image imported as `bb` (None without root).
fn setup() -> Option<TestEnv> {
    if !common::is_root() {
        eprintln!("skipped: this test needs root (CI runs the suite as root)");
        return None;
    }
    let env = TestEnv::new();
    // `localhost/bb:latest`, which the short name `bb` designates.
    env.busybox_image();
    Some(env)
}

/// The arguments `run --rm --network none FLAGS... bb ARGS...`.
fn run_args<'a>(flags: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["run", "--rm", "--network", "none"];
    v.extend_from_slice(flags);
    v.push("bb");
    v.extend_from_slice(args);
    v
}

/// `vaina run --rm --network none FLAGS... bb ARGS...`, asserting success; returns stdout.
fn run(env: &TestEnv, flags: &[&str], args: &[&str]) -> String {
    env.ok(run_args(flags, args))
}

fn sh(env: &TestEnv, flags: &[&str], script: &str) -> String {
    run(env, flags, &["sh", "-c", script])
}

/// `vaina run` that must fail with `code`; returns stderr.
fn run_fails(env: &TestEnv, code: i32, flags: &[&str], args: &[&str]) -> String {
    env.fails(code, run_args(flags, args))
}

#[test]
fn default_privileges_match_podman() {
    let Some(env) = setup() else { return };
    let out = sh(
        &env,
        &[],
        "grep -E '^(CapEff|CapBnd|Seccomp):' /proc/self/status; \
         cat /proc/timer_list /proc/keys 2>&1 | wc -c; \
         echo x > /proc/sys/kernel/domainname 2>/dev/null && echo writable || echo ro",
    );
    assert!(
        out.contains(&format!("CapEff:\t{DEFAULT_CAP_MASK}")),
        "{out}"
    );
    assert!(
        out.contains(&format!("CapBnd:\t{DEFAULT_CAP_MASK}")),
        "{out}"
    );
    assert!(out.contains("Seccomp:\t2"), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[3].trim(), "0", "masked paths read empty: {out}");
    assert_eq!(lines[4], "ro", "/proc/sys is read-only: {out}");
}

#[test]
fn same_defaults_as_podman_itself() {
    let Some(env) = setup() else { return };
    require_programs!("podman");
    let script = "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|Seccomp|NoNewPrivs):' /proc/self/status; id; cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null; cat /proc/sys/net/ipv4/ping_group_range";
    let variants: [&[&str]; 4] = [
        &[],
        &["-u", "app", "--cap-add", "net_admin"],
        &["--cap-drop", "all", "--security-opt", "no-new-privileges"],
        &["--privileged"],
    ];
    // Podman with its own store, the host's containers-common defaults and no default
    // ulimits (its nofile default exceeds this host's hard limit).
    let p = env.dir.path();
    let conf = p.join("podman-containers.conf");
    let base = std::fs::read_to_string("/usr/share/containers/containers.conf").unwrap_or_default();
    std::fs::write(
        &conf,
        base.replacen("[containers]", "[containers]\ndefault_ulimits = []", 1),
    )
    .unwrap();
    let podman = |args: &[&str]| {
        Command::new("podman")
            .arg("--root")
            .arg(p.join("p-root"))
            .arg("--runroot")
            .arg(p.join("p-run"))
            .args(["--runtime", "runc", "--cgroup-manager", "cgroupfs"])
            .args(args)
            .env("CONTAINERS_CONF", &conf)
            .output()
            .unwrap()
    };
    // The tar `busybox_image` imported.
    let tar = p.join("bb.tar");
    let imp = podman(&["import", tar.to_str().unwrap(), "localhost/bb:latest"]);
    assert!(
        imp.status.success(),
        "{}",
        String::from_utf8_lossy(&imp.stderr)
    );
    let mut results = Vec::new();
    for flags in variants {
        let ours = sh(&env, flags, script);
        let mut args = vec!["run", "--rm", "--network", "none"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["localhost/bb:latest", "sh", "-c", script]);
        let out = podman(&args);
        results.push((flags, ours, out));
    }
    podman(&["rmi", "-af"]);
    // Podman's overlay mounts live under the env's directory; unmount them for the leak check.
    let _ = Command::new("umount")
        .arg("-R")
        .arg(p.join("p-root/overlay"))
        .output();
    for (flags, ours, out) in results {
        if !out.status.success() {
            eprintln!(
                "skipped comparison {flags:?}: podman run failed here: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            continue;
        }
        let theirs = String::from_utf8_lossy(&out.stdout);
        assert_eq!(ours, theirs, "vaina vs podman with {flags:?}");
    }
}

#[test]
fn users() {
    let Some(env) = setup() else { return };
    assert_eq!(
        run(&env, &["-u", "app"], &["id"]).trim(),
        "uid=1000(app) gid=1000(app) groups=100(users),1000(app)"
    );
    assert_eq!(
        run(&env, &["-u", "1000:users"], &["id"]).trim(),
        "uid=1000(app) gid=100(users) groups=100(users)"
    );
    assert_eq!(
        run(&env, &["-u", "app"], &["sh", "-c", "echo $HOME"]).trim(),
        "/home/app"
    );
    let before = env.store_snapshot();
    let err = run_fails(&env, 126, &["-u", "nosuchuser"], &["id"]);
    assert_eq!(
        err.trim(),
        "Error: unable to find user nosuchuser: no matching entries in passwd file"
    );
    assert_eq!(before, env.store_snapshot(), "store unchanged");
}

#[test]
fn read_only_root() {
    let Some(env) = setup() else { return };
    let out = sh(
        &env,
        &["--read-only"],
        "touch /x 2>&1; touch /tmp/x /var/tmp/x /run/x && echo tmp-ok",
    );
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(out.contains("tmp-ok"), "{out}");
}

#[test]
fn ulimits() {
    let Some(env) = setup() else { return };
    let out = sh(
        &env,
        &["--ulimit", "nofile=100:200"],
        "ulimit -n; ulimit -Hn",
    );
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), ["100", "200"]);
    // The defaults (nofile 1048576) are clamped: the container starts and gets no more than
    // the host allows.
    let got: u64 = sh(&env, &[], "ulimit -Hn").trim().parse().unwrap();
    assert!(got <= 1_048_576, "{got}");
    let (_, host_hard) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
    if host_hard < 1_048_576 {
        let too_many = format!("nofile={0}:{0}", host_hard + 1);
        let caps = std::fs::read_to_string("/proc/self/status").unwrap();
        let sys_resource = caps
            .lines()
            .find(|l| l.starts_with("CapEff"))
            .and_then(|l| u64::from_str_radix(l.split_whitespace().nth(1)?, 16).ok())
            .is_some_and(|m| m & (1 << 24) != 0);
        if !sys_resource {
            let err = run_fails(&env, 125, &["--ulimit", &too_many], &["true"]);
            assert!(err.contains("exceeds the host's hard limit"), "{err}");
        }
    }
}

#[test]
fn cgroup_limits_and_sysctls() {
    let Some(env) = setup() else { return };
    let out = sh(
        &env,
        &[
            "--memory",
            "64m",
            "--pids-limit",
            "77",
            "--sysctl",
            "net.core.somaxconn=1024",
        ],
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null; \
         cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null; \
         cat /proc/sys/net/core/somaxconn; true",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"67108864"), "{out}");
    assert!(lines.contains(&"77"), "{out}");
    assert!(lines.contains(&"1024"), "{out}");
    let out = sh(
        &env,
        &[],
        "cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null; true",
    );
    assert_eq!(out.trim(), "2048");
}

#[test]
fn workdir_env_and_entrypoint() {
    let Some(env) = setup() else { return };
    assert_eq!(run(&env, &["-w", "/tmp"], &["pwd"]).trim(), "/tmp");
    let file = env.dir.path().join("env");
    std::fs::write(&file, "A=file\nB=file\n# comment\n").unwrap();
    let out = run(
        &env,
        &["--env-file", file.to_str().unwrap(), "-e", "B=flag"],
        &["env"],
    );
    assert!(out.contains("A=file") && out.contains("B=flag"), "{out}");
    assert!(
        out.contains("container=podman") && out.contains("TERM=xterm"),
        "{out}"
    );
    let out = run(&env, &["--unsetenv-all", "-e", "K=v"], &["/bin/env"]);
    let mut vars: Vec<&str> = out.lines().map(|l| l.split('=').next().unwrap()).collect();
    vars.sort();
    assert_eq!(vars, ["HOME", "HOSTNAME", "K"], "{out}");
    assert_eq!(
        run(&env, &["--entrypoint", r#"["/bin/echo","a"]"#], &["b"]).trim(),
        "a b"
    );
    assert_eq!(run(&env, &["--entrypoint", "/bin/echo"], &[]).trim(), "");
    assert_eq!(
        run(&env, &["--entrypoint", ""], &["echo", "hi"]).trim(),
        "hi"
    );
    assert_eq!(run(&env, &["-h", "web"], &["hostname"]).trim(), "web");
}

#[test]
fn init_is_pid_one() {
    let Some(env) = setup() else { return };
    if libvaina::container::spec::HostFacts::probe()
        .init_binary
        .is_none()
    {
        eprintln!("skipped: catatonit is not installed");
        return;
    }
    let out = sh(&env, &["--init"], "cat /proc/1/cmdline | tr '\\0' ' '");
    assert!(out.starts_with("/run/vaina-init -- sh -c"), "{out}");
}

#[test]
fn bad_flag_values() {
    let Some(env) = setup() else { return };
    run(&env, &[], &["true"]);
    let before = env.store_snapshot();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--memory=abc"],
            "Error: invalid value for memory: invalid size: 'abc'",
        ),
        (
            &["--cpus=-1"],
            "Error: invalid argument \"-1\" for \"--cpus\" flag",
        ),
        (
            &["--ulimit", "foo=1"],
            "Error: ulimit option \"foo=1\" requires name=SOFT:HARD",
        ),
        (
            &["--cap-add", "FOO"],
            "Error: \"CAP_FOO\": unknown capability",
        ),
        (&["--restart", "sometimes"], "is not a valid restart policy"),
        (
            &["--security-opt", "foo=bar"],
            "Error: invalid --security-opt 2: \"foo=bar\"",
        ),
        (
            &["--sysctl", "vm.swappiness=1"],
            "Error: sysctl 'vm.swappiness' is not allowed",
        ),
        (
            &["--device", "/dev/nonexist"],
            "Error: stat /dev/nonexist: no such file or directory",
        ),
    ];
    for (flags, want) in cases {
        let err = run_fails(&env, 125, flags, &["true"]);
        assert!(err.contains(want), "{flags:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    let garbage = env.dir.path().join("garbage.env");
    std::fs::write(&garbage, "A=1\nthis is not an env file\n").unwrap();
    let err = run_fails(
        &env,
        125,
        &["--env-file", garbage.to_str().unwrap()],
        &["true"],
    );
    assert!(
        err.contains("garbage.env") && err.contains("line 2"),
        "{err}"
    );
    assert_eq!(before, env.store_snapshot(), "store unchanged");
}

/// `--pid/--ipc/--uts container:NAME` join a running container's namespaces; a container
/// that is not running cannot be joined, and the refusal leaves the store as it was.
#[test]
fn joins_namespaces_of_a_running_container() {
    let Some(env) = setup() else { return };
    env.ok(["run", "-d", "--name", "target", "bb", "sleep", "1000"]);
    let ps = run(&env, &["--pid", "container:target"], &["ps", "-o", "args"]);
    assert!(ps.contains("sleep 1000"), "{ps}");
    let inside = run(
        &env,
        &["--ipc", "container:target", "--uts", "container:target"],
        &[
            "sh",
            "-c",
            "readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; hostname",
        ],
    );
    let target = env.ok([
        "exec",
        "target",
        "sh",
        "-c",
        "readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; hostname",
    ]);
    assert_eq!(inside, target);
    env.ok(["stop", "-t", "0", "target"]);
    let before = env.store_snapshot();
    let err = env.fails(
        125,
        ["run", "--rm", "--pid", "container:target", "bb", "true"],
    );
    assert!(err.contains("not running"), "{err}");
    let err = env.fails(
        125,
        ["run", "--rm", "--ipc", "container:nosuch", "bb", "true"],
    );
    assert!(err.contains("no such container"), "{err}");
    assert_eq!(before, env.store_snapshot());
    env.ok(["rm", "target"]);
}
