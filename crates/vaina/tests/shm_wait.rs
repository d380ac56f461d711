//! /dev/shm as Podman keeps it (a host-side tmpfs per `shareable` container, shared by
//! `--ipc container:NAME`, unmounted at cleanup; `private`, `none`, `host`), and `wait` on a
//! `--rm` container returning its exit code.

mod common;

use common::TestEnv;

#[test]
fn shm_is_shared_with_ipc_container_and_unmounted() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    env.ok([
        "run",
        "-d",
        "--name",
        "a",
        "--shm-size",
        "2m",
        img,
        "sleep",
        "1000",
    ]);
    env.ok([
        "run",
        "-d",
        "--name",
        "b",
        "--ipc",
        "container:a",
        img,
        "sleep",
        "1000",
    ]);
    env.ok(["exec", "a", "sh", "-c", "echo shared > /dev/shm/x"]);
    assert_eq!(env.ok(["exec", "b", "cat", "/dev/shm/x"]), "shared\n");
    let df = env.ok(["exec", "b", "busybox", "df", "-k", "/dev/shm"]);
    assert!(df.contains(" 2048 "), "{df}");
    assert_eq!(
        env.ok([
            "inspect",
            "--format",
            "{{.HostConfig.IpcMode}} {{.HostConfig.ShmSize}}",
            "a"
        ]),
        "shareable 2097152\n"
    );
    assert!(
        !env.leaked_mounts().is_empty(),
        "a's shm is mounted on the host"
    );
    env.ok(["rm", "-f", "-t", "0", "b", "a"]);
    assert!(env.leaked_mounts().is_empty());
    // private: a tmpfs of its own; none: no /dev/shm at all.
    let out = env.ok([
        "run", "--rm", "--ipc", "private", img, "busybox", "df", "-k", "/dev/shm",
    ]);
    assert!(out.contains(" 65536 "), "{out}");
    let err = env.fails(1, ["run", "--rm", "--ipc", "none", img, "ls", "/dev/shm"]);
    assert!(err.contains("No such file or directory"), "{err}");
    // A stopped shareable container keeps nothing mounted.
    env.ok(["run", "--name", "c", img, "true"]);
    assert!(env.leaked_mounts().is_empty());
    env.ok(["rm", "c"]);
}

#[test]
fn wait_returns_the_code_of_a_removed_container() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    // The container blocks on a fifo until the waiter is in place.
    env.ok([
        "run",
        "-d",
        "--rm",
        "--name",
        "w",
        img,
        "sh",
        "-c",
        "mkfifo /f; cat /f; exit 3",
    ]);
    let waiter = env
        .cmd(["wait", "w"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Let the container go once the waiter is connected to its monitor (it holds a socket).
    let fds = format!("/proc/{}/fd", waiter.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !std::fs::read_dir(&fds).unwrap().flatten().any(|e| {
        std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
    }) {
        assert!(std::time::Instant::now() < deadline, "wait never connected");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    env.ok(["exec", "w", "sh", "-c", "echo go > /f"]);
    let out = waiter.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "3\n");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(env.ok(["ps", "-aq"]), "");
}

/// Polls `container exists` until the container is gone (its monitor removed it).
fn until_removed(env: &TestEnv, id: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while env.run(["container", "exists", id]).status.code() == Some(0) {
        assert!(std::time::Instant::now() < deadline, "{id} never removed");
        std::thread::yield_now();
    }
}

#[test]
fn wait_on_a_removed_or_unknown_container_is_not_found() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    // Podman 4.3.1 keeps removed containers' exit codes only for waiters that found the
    // container: a `wait` begun after the removal fails as for any unknown name.
    let id = env.ok([
        "run", "-d", "--rm", "--name", "gone", img, "sh", "-c", "exit 3",
    ]);
    let id = id.trim();
    until_removed(&env, id);
    for name in [id, &id[..12], "gone", "nosuch"] {
        let err = env.fails(125, ["wait", name]);
        assert_eq!(
            err,
            format!("Error: no container with name or ID \"{name}\" found: no such container\n")
        );
    }
    assert_eq!(env.ok(["wait", "--ignore", "nosuch"]), "-1\n");
}

#[test]
fn wait_racing_a_removal_gets_the_exit_code() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    // The container may exit and be removed anywhere during `wait`: before its lookup (not
    // found), between the lookup and the connection to the monitor (the kept exit code), or
    // after (the monitor's report). Never a stale 0.
    for _ in 0..15 {
        let id = env.ok(["run", "-d", "--rm", img, "sh", "-c", "exit 3"]);
        let out = env.run(["wait", id.trim()]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => assert_eq!(stdout, "3\n"),
            Some(125) => assert!(stderr.contains("no such container"), "{stderr}"),
            c => panic!("wait exited {c:?}: {stderr}"),
        }
        until_removed(&env, id.trim());
    }
}
