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
