//! Containers end to end against the real OCI runtime (runc): run/create/start/stop/kill/rm,
//! ps, inspect, logs, exec, wait, pause, restart, rename, top, port, attach and `-it` through
//! a real pty, the monitor killed with SIGKILL, exit codes, and the bad inputs of issue 3.
//! Every test has its own store; the harness checks that no process or mount is left, and
//! the tests check that no cgroup named after a container is left.

mod common;

use common::{cgroups_of, TestEnv};
use std::time::{Duration, Instant};

/// Polls `f` until it returns true or 10 s pass (for output that arrives asynchronously).
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

fn state(env: &TestEnv, c: &str) -> String {
    env.ok_trim(["inspect", "--format", "{{.State.Status}}", c])
}

#[test]
fn run_rm_propagates_exit_code_and_leaves_nothing() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    let out = env.run([
        "run",
        "--rm",
        img,
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    assert_eq!(env.ok(["ps", "-aq"]), "");
    let left: Vec<_> = std::fs::read_dir(env.root.join("containers"))
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "container dirs left: {left:?}");
    let runtime_state = env.runroot.join("runtime");
    let runc_left: Vec<_> = std::fs::read_dir(&runtime_state)
        .map(|r| {
            r.flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    assert!(runc_left.is_empty(), "runtime state left: {runc_left:?}");
    assert_eq!(env.ok(["run", "--rm", img, "true"]), "");
}

#[test]
fn detached_lifecycle_ps_logs_stop_rm() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    let id = env.ok_trim([
        "run",
        "-d",
        "--name",
        "web",
        img,
        "sh",
        "-c",
        "echo hello; echo oops >&2; exec sleep 1000",
    ]);
    assert_eq!(id.len(), 64);
    assert_eq!(state(&env, "web"), "running");
    let ps = env.ok(["ps"]);
    let mut lines = ps.lines();
    let header = lines.next().unwrap();
    for col in [
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ] {
        assert!(header.contains(col), "{header}");
    }
    let row = lines.next().unwrap();
    assert!(
        row.starts_with(&id[..12]) && row.contains("localhost/bb:latest") && row.ends_with("web"),
        "{row}"
    );
    assert!(row.contains("Up "), "{row}");
    assert_eq!(env.ok(["ps", "-q"]), format!("{}\n", &id[..12]));
    assert_eq!(env.ok(["ps", "-q", "--no-trunc"]), format!("{id}\n"));
    assert_eq!(
        env.ok(["ps", "--format", "{{.Names}} {{.State}}"]),
        "web running\n"
    );
    let json = env.ok_json(["ps", "--format", "json"]);
    assert_eq!(json[0]["Id"], id.as_str());
    assert_eq!(json[0]["Names"][0], "web");
    assert_eq!(json[0]["State"], "running");
    assert!(json[0]["Pid"].as_i64().unwrap() > 0);
    assert_eq!(
        env.ok(["ps", "-a", "--filter", "name=web", "-q"]).trim(),
        &id[..12]
    );
    assert_eq!(env.ok(["ps", "-a", "--filter", "status=exited", "-q"]), "");
    eventually("logs", || env.ok(["logs", "web"]) == "hello\n");
    let out = env.run(["logs", "web"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "oops\n");
    let with_ts = env.ok(["logs", "-t", "web"]);
    assert!(
        with_ts.ends_with(" hello\n") && with_ts.starts_with("20"),
        "{with_ts}"
    );
    assert_eq!(env.ok(["logs", "--tail", "0", "web"]), "");
    assert_eq!(env.ok(["logs", "--since", "2999-01-01", "web"]), "");
    // One container: no prefix even with --names (Podman prefixes only several).
    assert_eq!(env.ok(["logs", "--names", "web"]), "hello\n");
    // The log file is in conmon's k8s-file format.
    let log =
        std::fs::read_to_string(env.root.join("containers").join(&id).join("ctr.log")).unwrap();
    assert!(log.lines().any(|l| l.ends_with(" stdout F hello")), "{log}");
    // rm without -f refuses (exit 2), then stop (SIGKILL after 0 s) and rm.
    let err = env.fails(2, ["rm", "web"]);
    assert!(
        err.contains("cannot remove container") && err.contains("as it is running"),
        "{err}"
    );
    assert_eq!(env.ok(["stop", "-t", "0", "web"]), "web\n");
    assert_eq!(state(&env, "web"), "exited");
    assert_eq!(
        env.ok(["inspect", "--format", "{{.State.ExitCode}}", "web"]),
        "137\n"
    );
    let ps = env.ok(["ps", "-a"]);
    assert!(ps.contains("Exited (137)"), "{ps}");
    // Stopping a stopped container is fine (as in Podman); killing one is not.
    assert_eq!(env.ok(["stop", "web"]), "web\n");
    let err = env.fails(125, ["kill", "web"]);
    assert!(err.contains("can only kill running containers"), "{err}");
    let err = env.fails(255, ["exec", "web", "true"]);
    assert!(
        err.contains("can only create exec sessions on running containers"),
        "{err}"
    );
    assert_eq!(env.ok(["rm", "web"]), format!("{id}\n"));
    assert!(
        cgroups_of(&id).is_empty(),
        "cgroups left: {:?}",
        cgroups_of(&id)
    );
    let err = env.fails(125, ["start", "web"]);
    assert!(err.contains("no such container"), "{err}");
    env.fails(1, ["rm", "web"]);
    assert_eq!(env.ok(["rm", "--ignore", "web"]), "");
}

#[test]
fn exit_codes_126_127() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    let err = env.fails(127, ["run", "--rm", img, "nosuchcommand"]);
    assert!(err.contains("executable file not found"), "{err}");
    let err = env.fails(126, ["run", "--rm", img, "/etc/passwd"]);
    assert!(err.contains("permission denied"), "{err}");
    assert_eq!(env.ok(["ps", "-aq"]), "");
    env.ok(["run", "-d", "--name", "c", img, "sleep", "1000"]);
    env.fails(127, ["exec", "c", "nosuchcommand"]);
    env.fails(126, ["exec", "c", "/etc/passwd"]);
    env.fails(7, ["exec", "c", "sh", "-c", "exit 7"]);
    assert_eq!(
        env.ok(["exec", "-e", "FOO=bar", "c", "sh", "-c", "echo $FOO"]),
        "bar\n"
    );
    assert_eq!(env.ok(["exec", "-u", "app", "c", "id", "-u"]), "1000\n");
    assert_eq!(env.ok(["exec", "-w", "/tmp", "c", "pwd"]), "/tmp\n");
    let session = env.ok(["exec", "-d", "c", "sh", "-c", "echo bg > /tmp/bg"]);
    assert_eq!(session.trim().len(), 64, "{session}");
    eventually("detached exec", || {
        env.run(["exec", "c", "cat", "/tmp/bg"]).stdout == b"bg\n"
    });
    env.ok(["rm", "-f", "-t", "0", "c"]);
}

#[test]
fn bad_inputs_leave_the_store_unchanged() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok(["create", "--name", "taken", img]);
    let before = env.store_snapshot();
    let err = env.fails(125, ["run", "--rm", "--pull=never", "nosuchimage", "true"]);
    assert!(err.contains("nosuchimage: image not known"), "{err}");
    let err = env.fails(126, ["run", "--rm", "-u", "nosuchuser", img, "true"]);
    assert!(err.contains("unable to find user nosuchuser"), "{err}");
    let err = env.fails(125, ["run", "--restart=sometimes", img, "true"]);
    assert!(err.contains("sometimes"), "{err}");
    let err = env.fails(125, ["run", "--name", "taken", img, "true"]);
    assert!(
        err.contains("the container name \"taken\" is already in use"),
        "{err}"
    );
    let garbage = env.dir.path().join("env.bin");
    std::fs::write(&garbage, [0xff, 0xfe, 0x00, b'\n']).unwrap();
    let err = env.fails(
        125,
        [
            "run",
            "--rm",
            "--env-file",
            garbage.to_str().unwrap(),
            img,
            "true",
        ],
    );
    assert!(err.starts_with("Error: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(env.store_snapshot(), before);
    assert_eq!(env.ok(["ps", "-a", "--format", "{{.Names}}"]), "taken\n");
    env.ok(["rm", "taken"]);
}

#[test]
fn create_start_wait_init_restart_rename() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    let id = env.ok_trim(["create", "--name", "w", img, "sh", "-c", "echo run; exit 5"]);
    assert_eq!(state(&env, "w"), "created");
    assert!(env.ok(["ps", "-a"]).contains("Created"));
    // start -a attaches and exits with the container's code.
    let out = env.run(["start", "-a", "w"]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "run\n");
    assert_eq!(env.ok(["wait", "w"]), "5\n");
    env.ok(["rename", "w", "w2"]);
    assert_eq!(env.ok(["ps", "-a", "--format", "{{.Names}}"]), "w2\n");
    env.fails(125, ["rename", "w2", "bad name"]);
    // init creates it in the runtime without starting it.
    assert_eq!(env.ok(["init", "w2"]), "w2\n");
    assert_eq!(state(&env, "w2"), "initialized");
    env.ok(["start", "w2"]);
    assert_eq!(env.ok(["wait", "w2"]), "5\n");
    env.ok(["rm", &id]);
    // restart of a running container.
    env.ok(["run", "-d", "--name", "r", img, "sleep", "1000"]);
    let pid1 = env.ok(["inspect", "--format", "{{.State.Pid}}", "r"]);
    env.ok(["restart", "-t", "0", "r"]);
    assert_eq!(state(&env, "r"), "running");
    assert_ne!(env.ok(["inspect", "--format", "{{.State.Pid}}", "r"]), pid1);
    let err = env.fails(125, ["container", "cleanup", "r"]);
    assert!(err.contains("refusing to clean up"), "{err}");
    env.ok(["stop", "-t", "0", "r"]);
    assert_eq!(env.ok(["container", "cleanup", "r"]), "r\n");
    env.ok(["rm", "-f", "-t", "0", "r"]);
}

#[test]
fn restart_policy_on_failure() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok([
        "run",
        "-d",
        "--name",
        "f",
        "--restart",
        "on-failure:2",
        img,
        "sh",
        "-c",
        "echo try; exit 1",
    ]);
    assert_eq!(env.ok(["wait", "f"]), "1\n");
    assert_eq!(
        env.ok([
            "inspect",
            "--format",
            "{{.RestartCount}} {{.State.Status}}",
            "f"
        ]),
        "2 exited\n"
    );
    assert_eq!(env.ok(["logs", "f"]), "try\ntry\ntry\n");
    env.ok(["rm", "f"]);
}

#[test]
fn pause_unpause_top_port() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    let id = env.ok_trim(["run", "-d", "--name", "p", img, "sleep", "1000"]);
    env.ok(["pause", "p"]);
    assert_eq!(state(&env, "p"), "paused");
    assert!(env.ok(["ps", "-a"]).contains("Paused"));
    env.fails(125, ["pause", "p"]);
    env.ok(["unpause", "p"]);
    assert_eq!(state(&env, "p"), "running");
    let top = env.ok(["top", "p"]);
    let mut lines = top.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"]
    );
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!((row[0], row[1], row[2]), ("root", "1", "0"));
    assert_eq!(row[7..].join(" "), "sleep 1000");
    assert_eq!(
        env.ok(["top", "p", "pid", "comm"])
            .lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["1", "sleep"]
    );
    // Other words are ps(1) options, run inside the container as Podman does (so ps shows
    // itself, and never the host's processes).
    let ps = env.ok(["top", "p", "-o", "comm="]);
    assert_eq!(ps.split_whitespace().collect::<Vec<_>>(), ["sleep", "ps"]);
    let all = env.ok(["top", "p", "-e", "-o", "pid="]);
    assert_eq!(all.split_whitespace().count(), 2, "{all}");
    // The container's cgroup exists while it runs (so the leak checks below mean something).
    assert!(!cgroups_of(&id).is_empty(), "no cgroup found for {id}");
    let stats = env.ok([
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}} {{.PIDs}}",
        "p",
    ]);
    assert_eq!(stats, "p 1\n");
    let table = env.ok(["stats", "--no-stream"]);
    assert!(
        table.starts_with("ID ") && table.contains("MEM USAGE / LIMIT"),
        "{table}"
    );
    env.ok(["update", "--memory", "64m", "--pids-limit", "50", "p"]);
    let mem = env.ok(["stats", "--no-stream", "--format", "{{.MemUsage}}", "p"]);
    assert!(mem.trim().ends_with("/ 67.1MB"), "{mem}");
    env.fails(125, ["update", "--memory", "abc", "p"]);
    assert_eq!(env.ok(["port", "p"]), "");
    env.fails(125, ["port", "p", "80"]);
    env.ok(["kill", "-s", "TERM", "p"]);
    env.ok(["kill", "p"]);
    assert_eq!(env.ok(["wait", "p"]), "137\n");
    env.ok(["rm", "p"]);
    assert!(cgroups_of(&id).is_empty());
}

#[test]
fn killed_monitor_is_reported_exited() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    let id = env.ok_trim(["run", "-d", "--name", "m", img, "sleep", "1000"]);
    let monitor = env
        .leaked_processes()
        .into_iter()
        .find(|p| p.contains(" monitor ") && p.contains(&id))
        .expect("monitor process");
    let pid: i32 = monitor.split(':').next().unwrap().parse().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL).unwrap();
    eventually("monitor gone", || {
        !std::path::Path::new(&format!("/proc/{pid}/cmdline")).exists()
            || std::fs::read(format!("/proc/{pid}/cmdline"))
                .unwrap_or_default()
                .is_empty()
    });
    assert_eq!(state(&env, "m"), "exited");
    let ps = env.ok(["ps", "-a"]);
    assert!(ps.contains("Exited ("), "{ps}");
    env.ok(["rm", "m"]);
    assert!(cgroups_of(&id).is_empty());
}

#[test]
fn inspect_shape_and_types() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    let id = env.ok_trim(["create", "--name", "i", "--label", "a=b", img, "echo", "x"]);
    let v = env.ok_json(["inspect", "i"]);
    let c = &v[0];
    assert_eq!(c["Id"], id.as_str());
    assert_eq!(c["Name"], "i");
    assert_eq!(c["Path"], "echo");
    assert_eq!(c["Args"], serde_json::json!(["echo", "x"]));
    assert_eq!(c["State"]["Status"], "created");
    assert_eq!(c["ImageName"], "localhost/bb:latest");
    assert_eq!(c["Config"]["Labels"]["a"], "b");
    assert_eq!(c["HostConfig"]["LogConfig"]["Type"], "k8s-file");
    assert_eq!(
        env.ok(["container", "inspect", "--format", "{{.Name}}", "i"]),
        "i\n"
    );
    assert_eq!(
        env.ok([
            "inspect",
            "--type",
            "container",
            "--format",
            "{{.Name}}",
            "i"
        ]),
        "i\n"
    );
    env.fails(125, ["inspect", "--type", "image", "i"]);
    let img_v = env.ok_json(["inspect", img]);
    assert!(img_v[0]["Id"].is_string());
    env.fails(125, ["inspect", "nosuch"]);
    env.ok(["container", "exists", "i"]);
    env.fails(1, ["container", "exists", "nosuch"]);
    assert_eq!(env.ok(["container", "ls", "-a", "-q"]).trim(), &id[..12]);
    assert_eq!(env.ok(["container", "prune", "-f"]), format!("{id}\n"));
    assert_eq!(env.ok(["ps", "-aq"]), "");
}

#[test]
fn log_drivers_json_file_and_none() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok([
        "run",
        "--name",
        "j",
        "--log-driver",
        "json-file",
        img,
        "echo",
        "hi",
    ]);
    assert_eq!(env.ok(["logs", "j"]), "hi\n");
    env.ok([
        "run",
        "--name",
        "n",
        "--log-driver",
        "none",
        img,
        "echo",
        "hi",
    ]);
    env.fails(125, ["logs", "n"]);
    env.ok(["rm", "j", "n"]);
}

mod pty {
    use super::*;
    use common::pty::OnPty;

    #[test]
    fn run_it_through_a_pty_and_detach() {
        require_root!();
        let (env, img) = TestEnv::with_busybox();
        let mut p = OnPty::spawn(&env, &["run", "-it", "--name", "tty", img, "sh"]);
        p.send(b"tty; echo sum-$((40+2))\n");
        p.expect("sum-42");
        p.expect("/dev/pts/");
        // ctrl-p ctrl-q detaches; the container keeps running.
        p.send(&[0x10, 0x11]);
        assert_eq!(p.wait(), Some(0));
        assert_eq!(state(&env, "tty"), "running");
        // attach again, run a command, exit the shell: attach returns its code.
        let mut a = OnPty::spawn(&env, &["attach", "tty"]);
        a.send(b"echo again-$((1+1))\n");
        a.expect("again-2");
        a.send(b"exit 4\n");
        assert_eq!(a.wait(), Some(4));
        assert_eq!(state(&env, "tty"), "exited");
        env.ok(["rm", "tty"]);
    }

    #[test]
    fn run_i_forwards_stdin_without_tty() {
        require_root!();
        let (env, img) = TestEnv::with_busybox();
        let out = common::output_with_stdin(
            &mut env.cmd(["run", "-i", "--rm", img, "sh", "-c", "read x; echo got-$x"]),
            b"abc\n",
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "got-abc\n");
        assert_eq!(out.status.code(), Some(0));
    }
}

#[test]
fn foreground_run_proxies_signals() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    let mut c = env
        .cmd([
            "run",
            "--rm",
            img,
            "sh",
            "-c",
            "trap 'echo got-term; exit 9' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = c.stdout.take().unwrap();
    let mut buf = [0u8; 6];
    std::io::Read::read_exact(&mut out, &mut buf).unwrap();
    assert_eq!(&buf, b"ready\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(c.id() as i32),
        nix::sys::signal::SIGTERM,
    )
    .unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(rest, "got-term\n");
    assert_eq!(c.wait().unwrap().code(), Some(9));
    assert_eq!(env.ok(["ps", "-aq"]), "");
}

#[test]
fn logs_follow_and_detached_rm() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok([
        "run",
        "-d",
        "--name",
        "lf",
        img,
        "sh",
        "-c",
        "echo one; read x; echo two",
    ]);
    // -i was not given: `read` hits EOF at once, so the container ends by itself.
    let out = env.ok(["logs", "-f", "lf"]);
    assert_eq!(out, "one\ntwo\n");
    assert_eq!(state(&env, "lf"), "exited");
    env.ok(["rm", "lf"]);
    // `run -d --rm`: the monitor removes the container when it exits.
    let id = env.ok_trim(["run", "-d", "--rm", img, "true"]);
    env.ok(["wait", "--ignore", &id]);
    eventually("removal", || env.ok(["ps", "-aq"]).is_empty());
    let err = env.fails(
        125,
        ["run", "--rm", "--pull=missing", "nosuchimage", "true"],
    );
    assert!(
        err.starts_with("Error: ") && err.lines().count() == 1,
        "{err}"
    );
}
