//! Container filesystems end to end: `mount`/`unmount` (with the user mount count, on stopped
//! and running containers), `diff` (text and JSON, containers and images), `export`,
//! `commit` and `cp` (both directions, tar streams, and the symlink escape attempts of the
//! CVE-2019-10152 class, including a symlink swapped during the copy).

mod common;

use common::TestEnv;
use std::path::{Path, PathBuf};

fn is_mounted(p: &str) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(p))
}

/// A stopped container that touched, changed and removed some files.
fn changed_container(env: &TestEnv, name: &str) {
    let img = env.busybox_image();
    env.ok([
        "run",
        "--name",
        name,
        img,
        "sh",
        "-c",
        "touch /tmp/new; rm /etc/group; mkdir -p /a/b; echo x >> /etc/passwd; rm /bin/ls",
    ]);
}

#[test]
fn mount_prints_rootfs_and_unmount_removes_it() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    env.ok(["create", "--name", "m1", img, "true"]);
    let p = env.ok(["mount", "m1"]).trim().to_string();
    assert!(is_mounted(&p), "{p} not mounted");
    assert!(Path::new(&p).join("bin/busybox").exists());
    assert!(Path::new(&p).join("etc/passwd").exists());
    let listed = env.ok(["mount"]);
    assert!(listed.contains(&p), "{listed}");
    // Two mounts need two unmounts.
    assert_eq!(env.ok(["container", "mount", "m1"]).trim(), p);
    assert_eq!(env.ok(["unmount", "m1"]).trim(), "m1");
    assert!(is_mounted(&p));
    assert_eq!(env.ok(["umount", "m1"]).trim(), "m1");
    assert!(!is_mounted(&p));
    assert_eq!(env.ok(["mount"]), "");
    env.ok(["rm", "m1"]);
}

#[test]
fn unmount_of_running_container_keeps_its_rootfs() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    env.ok(["run", "-d", "--name", "r1", img, "sleep", "1000"]);
    let p = env.ok(["mount", "r1"]).trim().to_string();
    env.ok(["unmount", "r1"]);
    env.ok(["unmount", "--force", "r1"]);
    assert!(is_mounted(&p));
    assert_eq!(
        env.ok(["exec", "r1", "cat", "/etc/passwd"]).lines().count(),
        3
    );
    env.ok(["rm", "-f", "-t0", "r1"]);
    assert!(!is_mounted(&p));
}

#[test]
fn mount_and_unmount_of_unknown_container_fail() {
    require_root!();
    let env = TestEnv::new();
    env.busybox_image();
    let before = env.store_snapshot();
    let e = env.fails(125, ["mount", "nope"]);
    assert_eq!(
        e,
        "Error: no container with name or ID \"nope\" found: no such container\n"
    );
    env.fails(125, ["unmount", "nope"]);
    assert_eq!(env.store_snapshot(), before);
}

#[test]
fn diff_lists_added_changed_deleted() {
    require_root!();
    let env = TestEnv::new();
    changed_container(&env, "d1");
    let out = env.ok(["diff", "d1"]);
    assert_eq!(
        out,
        "A /a\nA /a/b\nC /bin\nD /bin/ls\nC /etc\nD /etc/group\nC /etc/passwd\nC /tmp\nA /tmp/new\n"
    );
    let j: serde_json::Value =
        serde_json::from_str(&env.ok(["diff", "--format", "json", "d1"])).expect("json");
    assert_eq!(
        j,
        serde_json::json!({
            "changed": ["/bin", "/etc", "/etc/passwd", "/tmp"],
            "added": ["/a", "/a/b", "/tmp/new"],
            "deleted": ["/bin/ls", "/etc/group"],
        })
    );
    // The container is not left mounted by diff.
    assert_eq!(env.ok(["mount"]), "");
}

#[test]
fn diff_of_image_lists_its_top_layer() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    let out = env.ok(["diff", img]);
    assert!(out.contains("A /bin/busybox\n"), "{out}");
    assert!(out.contains("A /etc/passwd\n"), "{out}");
    let e = env.fails(125, ["diff", "nope"]);
    assert_eq!(e, "Error: nope not found: layer not known\n");
}

fn tar_names(bytes: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(bytes);
    a.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

#[test]
fn export_writes_a_tar_of_the_rootfs() {
    require_root!();
    let env = TestEnv::new();
    changed_container(&env, "e1");
    let out = env.cmd(["export", "e1"]).output().unwrap();
    assert!(out.status.success());
    let names = tar_names(&out.stdout);
    for want in ["bin/busybox", "tmp/new", "a/b", "etc/passwd"] {
        assert!(
            names.iter().any(|n| n.trim_end_matches('/') == want),
            "{want} missing in {names:?}"
        );
    }
    assert!(!names.iter().any(|n| n == "bin/ls" || n == "etc/group"));
    let file: PathBuf = env.dir.path().join("e1.tar");
    env.ok(["container", "export", "-o", file.to_str().unwrap(), "e1"]);
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(tar_names(&bytes), names);
    assert_eq!(env.ok(["mount"]), "");
    let e = env.fails(125, ["export", "-o", file.to_str().unwrap(), "nope"]);
    assert!(e.contains("no such container"), "{e}");
}
