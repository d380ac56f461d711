//! `run`/`create --rootfs DIR`: a container whose root is an exploded directory rather than an
//! image. Writes land in the directory itself, `ps`/`inspect` show no image as Podman does,
//! `rm` never deletes the directory and a bad path is refused with the store unchanged.

mod common;

use common::TestEnv;
use std::path::PathBuf;

/// A busybox directory inside the test's temp dir (so the leak check covers its mounts).
fn rootfs_dir(env: &TestEnv) -> PathBuf {
    let dir = env.dir.path().join("exploded");
    common::make_busybox_rootfs(&dir);
    dir
}

#[test]
fn run_echoes_exits_and_writes_into_the_directory() {
    require_root!();
    let env = TestEnv::new();
    let dir = rootfs_dir(&env);
    let d = dir.to_str().unwrap();
    let out = env.ok(["run", "--rm", "--rootfs", d, "echo", "hello"]);
    assert_eq!(out, "hello\n");
    env.fails(
        7,
        [
            "run",
            "--name",
            "w",
            "--rootfs",
            d,
            "sh",
            "-c",
            "echo data > /tmp/written; exit 7",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("tmp/written")).unwrap(),
        "data\n"
    );
    // The files vaina prepares are bind mounts: their content never reaches the directory.
    for f in ["etc/hosts", "etc/resolv.conf", "etc/hostname"] {
        let len = std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0);
        assert_eq!(len, 0, "{f} was written into the rootfs directory");
    }
    env.ok(["rm", "w"]);
}

#[test]
fn ps_and_inspect_show_no_image_and_rm_keeps_the_directory() {
    require_root!();
    let env = TestEnv::new();
    let dir = rootfs_dir(&env);
    let d = dir.to_str().unwrap();
    let id = env.ok_trim(["create", "--name", "r1", "--rootfs", d, "true"]);
    let ps = env.ok(["ps", "-a", "--format", "{{.ID}}|{{.Image}}|{{.Command}}"]);
    assert_eq!(ps.trim(), format!("{}||true", &id[..12]));
    let js = env.ok_json(["ps", "-a", "--format", "json"]);
    assert_eq!(js[0]["Image"], "");
    assert_eq!(js[0]["ImageID"], "");
    let insp = env.ok([
        "inspect",
        "r1",
        "--format",
        "{{.Image}}|{{.ImageName}}|{{.Rootfs}}",
    ]);
    assert_eq!(insp.trim(), format!("||{d}"));
    // Podman: no diff (the directory is not a layer) and no commit.
    assert_eq!(env.ok(["diff", "r1"]), "");
    let err = env.fails(125, ["commit", "r1", "img"]);
    assert_eq!(
        err.lines().last(),
        Some("Error: cannot commit a container that uses an exploded rootfs")
    );
    env.ok(["start", "-a", "r1"]);
    env.ok(["rm", "r1"]);
    assert!(dir.join("bin/busybox").exists(), "rm deleted the directory");
    assert!(dir.join("etc/passwd").exists(), "rm deleted the directory");
    assert!(env.ok(["ps", "-aq"]).trim().is_empty());
}

#[test]
fn rm_force_of_a_running_rootfs_container_keeps_the_directory() {
    require_root!();
    let env = TestEnv::new();
    let dir = rootfs_dir(&env);
    let d = dir.to_str().unwrap();
    env.ok(["run", "-d", "--name", "bg", "--rootfs", d, "sleep", "100"]);
    env.ok(["rm", "-f", "-t", "0", "bg"]);
    assert!(
        dir.join("bin/busybox").exists(),
        "rm -f deleted the directory"
    );
}

#[test]
fn missing_or_non_directory_path_is_refused_with_store_unchanged() {
    require_root!();
    let env = TestEnv::new();
    env.ok(["ps", "-a"]);
    let before = env.store_snapshot();
    let missing = env.dir.path().join("nope");
    let err = env.fails(125, ["run", "--rootfs", missing.to_str().unwrap(), "true"]);
    assert_eq!(
        err.trim(),
        format!(
            "Error: running container create option: stat {}: no such file or directory",
            missing.display()
        )
    );
    let file = env.dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let err = env.fails(125, ["create", "--rootfs", file.to_str().unwrap(), "true"]);
    assert!(err.contains("not a directory"), "{err}");
    assert_eq!(env.store_snapshot(), before);
}
