//! `exec` sessions: errors printed once with Podman's exit codes (126, 127, 255), sessions in
//! inspect's `ExecIDs` until the container stops, `-d` under an exec monitor, `-it` through a
//! real pty with the detach keys leaving the session running, `--privileged`, `--env-file`.

mod common;

use common::pty::OnPty;
use common::TestEnv;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn exec_ids(env: &TestEnv, c: &str) -> Vec<String> {
    env.ok(["inspect", "--format", "{{range .ExecIDs}}{{.}} {{end}}", c])
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn running(env: &TestEnv, c: &str) {
    let img = env.busybox_image();
    env.ok(["run", "-d", "--name", c, img, "sleep", "1000"]);
}

#[test]
fn errors_are_printed_once_with_podmans_codes() {
    require_root!();
    let env = TestEnv::new();
    running(&env, "c");
    let err = env.fails(127, ["exec", "c", "nosuchcommand"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("Error: runc: exec failed: ")
            && err.contains("\"nosuchcommand\": executable file not found in $PATH"),
        "{err}"
    );
    let err = env.fails(126, ["exec", "c", "/etc/passwd"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("permission denied"), "{err}");
    let err = env.fails(127, ["exec", "-w", "/nonexistent", "c", "true"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    // The process's own stderr still reaches ours.
    let out = env.run(["exec", "c", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");
    let err = env.fails(255, ["exec", "-u", "nosuchuser", "c", "true"]);
    assert!(
        err.contains("unable to find user nosuchuser: no matching entries in passwd file"),
        "{err}"
    );
    // Detached, Podman exits 125 with the same message.
    let err = env.fails(125, ["exec", "-d", "c", "nosuchcommand"]);
    assert!(err.contains("executable file not found in $PATH"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let err = env.fails(125, ["exec", "nosuchctr", "true"]);
    assert!(
        err.contains("no container with name or ID \"nosuchctr\" found"),
        "{err}"
    );
    env.ok(["stop", "-t", "0", "c"]);
    let err = env.fails(255, ["exec", "c", "true"]);
    assert!(
        err.contains("can only create exec sessions on running containers"),
        "{err}"
    );
    env.ok(["rm", "c"]);
}

#[test]
fn sessions_are_recorded_until_the_container_stops() {
    require_root!();
    let env = TestEnv::new();
    running(&env, "c");
    assert!(exec_ids(&env, "c").is_empty());
    env.ok(["exec", "c", "true"]);
    let bg = env.ok(["exec", "-d", "c", "sleep", "1000"]);
    let bg = bg.trim().to_string();
    assert_eq!(bg.len(), 64, "{bg}");
    let ids = exec_ids(&env, "c");
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(ids[1], bg);
    // The detached process runs until the container stops; its monitor goes with it.
    assert!(env
        .ok(["top", "c", "args"])
        .lines()
        .any(|l| l.trim() == "sleep 1000"));
    // container cleanup --exec forgets an exited session, refuses a running one.
    env.ok(["container", "cleanup", "--exec", &ids[0], "c"]);
    assert_eq!(exec_ids(&env, "c"), std::slice::from_ref(&bg));
    let err = env.fails(125, ["container", "cleanup", "--exec", &bg, "c"]);
    assert!(err.contains("as it is running"), "{err}");
    let err = env.fails(125, ["container", "cleanup", "--exec", "nosuch", "c"]);
    assert!(
        err.contains("has no exec session with ID nosuch: no such exec session"),
        "{err}"
    );
    env.ok(["stop", "-t", "0", "c"]);
    env.ok(["start", "c"]);
    assert!(exec_ids(&env, "c").is_empty());
    env.ok(["rm", "-f", "-t", "0", "c"]);
}

#[test]
fn exec_options() {
    require_root!();
    let env = TestEnv::new();
    running(&env, "c");
    let caps = |priv_: bool| {
        let mut args = vec!["exec"];
        if priv_ {
            args.push("--privileged");
        }
        args.extend(["c", "grep", "CapEff", "/proc/self/status"]);
        env.ok(args)
    };
    let (plain, privileged) = (caps(false), caps(true));
    assert_ne!(plain, privileged);
    assert!(privileged.contains("1ff"), "{privileged}");
    let file = env.dir.path().join("env");
    std::fs::write(&file, "# comment\nFROM_FILE=1\nBOTH=file\n").unwrap();
    let out = env.ok([
        "exec",
        "--env-file",
        file.to_str().unwrap(),
        "-e",
        "BOTH=flag",
        "c",
        "sh",
        "-c",
        "echo $FROM_FILE $BOTH",
    ]);
    assert_eq!(out, "1 flag\n");
    // The container's environment, without HOSTNAME (Podman's exec leaves it out).
    let env_out = env.ok(["exec", "c", "env"]);
    assert!(env_out.contains("container=podman\n"), "{env_out}");
    assert!(!env_out.contains("HOSTNAME="), "{env_out}");
    assert_eq!(
        env.ok([
            "exec",
            "-e",
            "HOSTNAME=h",
            "c",
            "sh",
            "-c",
            "echo $HOSTNAME"
        ]),
        "h\n"
    );
    std::fs::write(&file, "=novalue\n").unwrap();
    let err = env.fails(
        125,
        ["exec", "--env-file", file.to_str().unwrap(), "c", "true"],
    );
    assert!(
        err.contains("parsing env file") && err.contains("invalid environment variable"),
        "{err}"
    );
    assert_eq!(
        env.ok([
            "exec",
            "-u",
            "65534",
            "-w",
            "/tmp",
            "c",
            "sh",
            "-c",
            "id -u; pwd"
        ]),
        "65534\n/tmp\n"
    );
    env.ok(["rm", "-f", "-t", "0", "c"]);
}

#[test]
fn exec_it_through_a_pty_and_detach() {
    require_root!();
    let env = TestEnv::new();
    running(&env, "c");
    // The exit code of a terminal session comes back.
    let mut p = OnPty::spawn(&env, &["exec", "-it", "c", "sh"]);
    p.send(b"tty; echo sum-$((40+2))\n");
    p.expect("sum-42");
    p.expect("/dev/pts/");
    p.send(b"exit 5\n");
    assert_eq!(p.wait(), Some(5));
    // Custom detach keys leave the session running.
    let mut p = OnPty::spawn(&env, &["exec", "-it", "--detach-keys", "ctrl-x", "c", "sh"]);
    p.send(b"echo $$ > /tmp/sh.pid; echo saved-$((1+1))\n");
    p.expect("saved-2");
    p.send(&[0x18]);
    assert_eq!(p.wait(), Some(0));
    env.ok(["exec", "c", "sh", "-c", "kill -0 $(cat /tmp/sh.pid)"]);
    env.fails(125, ["exec", "--detach-keys", "ctrl-", "c", "true"]);
    env.ok(["rm", "-f", "-t", "0", "c"]);
}

#[test]
fn preserve_fds_hands_descriptors_over() {
    require_root!();
    let env = TestEnv::new();
    running(&env, "c");
    let file = env.dir.path().join("fd3");
    std::fs::write(&file, "from fd 3\n").unwrap();
    // Run vaina through sh so that descriptor 3 is open on the file.
    let with_fd3 = |args: &[&str]| {
        let inner = env.cmd(args);
        let mut c = std::process::Command::new("sh");
        c.arg("-c")
            .arg(format!("exec \"$@\" 3<'{}'", file.display()))
            .arg("sh")
            .arg(inner.get_program())
            .args(inner.get_args());
        for (k, v) in inner.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c.output().unwrap()
    };
    let out = with_fd3(&["exec", "--preserve-fds", "1", "c", "cat", "/proc/self/fd/3"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "from fd 3\n");
    let err = env.fails(125, ["exec", "--preserve-fds", "5", "c", "true"]);
    assert!(err.contains("is not available"), "{err}");
    env.ok(["rm", "-f", "-t", "0", "c"]);
}

/// The PID of the exec monitor of session `sid`.
fn exec_monitor_pid(sid: &str) -> i32 {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .find_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            (cmd.contains(" monitor ") && cmd.contains(&format!("--exec {sid}"))).then_some(pid)
        })
        .expect("the session's monitor runs")
}

/// Whether process `pid` has exited with all its threads (gone, or a zombie not yet reaped
/// whose other threads, sharing its descriptors, are gone too).
fn exited(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    stat[stat.rfind(')').unwrap() + 2..].starts_with('Z')
        && std::fs::read_dir(format!("/proc/{pid}/task")).map_or(true, |d| d.count() <= 1)
}

#[test]
fn a_session_whose_monitor_was_killed_is_exited() {
    require_root!();
    let env = TestEnv::new();
    running(&env, "c");
    let sid = env.ok(["exec", "-d", "c", "sleep", "999"]);
    let sid = sid.trim();
    let err = env.fails(125, ["container", "cleanup", "--exec", sid, "c"]);
    assert!(err.contains("as it is running"), "{err}");
    let pid = exec_monitor_pid(sid);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !exited(pid) {
        assert!(Instant::now() < deadline, "monitor {pid} survived SIGKILL");
        std::thread::yield_now();
    }
    // Still listed, now exited: its orphaned process was killed, and cleanup forgets it.
    let ids = exec_ids(&env, "c");
    let top = env.ok(["top", "c", "args"]);
    let cleanup = env.run(["container", "cleanup", "--exec", sid, "c"]);
    let after = exec_ids(&env, "c");
    env.ok(["rm", "-f", "-t", "0", "c"]);
    assert_eq!(ids, [sid.to_string()]);
    assert!(!top.lines().any(|l| l.trim() == "sleep 999"), "{top}");
    assert!(cleanup.status.success(), "{cleanup:?}");
    assert!(after.is_empty(), "{after:?}");
}

#[test]
fn a_foreground_session_whose_caller_was_killed_is_exited() {
    require_root!();
    let env = TestEnv::new();
    running(&env, "c");
    let cid = env.ok(["inspect", "--format", "{{.Id}}", "c"]);
    let mut caller = env
        .cmd(["exec", "c", "sleep", "998"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The caller is the session's monitor; the runtime writes the process's PID once it runs.
    let exec_dir = env.runroot.join("containers").join(cid.trim()).join("exec");
    let deadline = Instant::now() + Duration::from_secs(30);
    let sid = loop {
        let pid_file = std::fs::read_dir(&exec_dir).ok().and_then(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|n| n.len() == 68 && n.ends_with(".pid"))
        });
        if let Some(n) = pid_file {
            break n.trim_end_matches(".pid").to_string();
        }
        assert!(Instant::now() < deadline, "the exec never started");
        std::thread::yield_now();
    };
    caller.kill().unwrap();
    caller.wait().unwrap();
    let ids = exec_ids(&env, "c");
    let top = env.ok(["top", "c", "args"]);
    let cleanup = env.run(["container", "cleanup", "--exec", &sid, "c"]);
    env.ok(["rm", "-f", "-t", "0", "c"]);
    assert_eq!(ids, std::slice::from_ref(&sid));
    assert!(!top.lines().any(|l| l.trim() == "sleep 998"), "{top}");
    assert!(cleanup.status.success(), "{cleanup:?}");
}
