//! Image store and image commands: import, images, lookup, tags, inspect, history, rmi,
//! prune, save/load, and the bad inputs of issue 2 that concern the store.

mod common;

use common::TestEnv;
use std::path::PathBuf;

/// A busybox rootfs tarball in the test env's directory.
fn busybox_tar(env: &TestEnv) -> PathBuf {
    let p = env.dir.path().join("busybox.tar");
    if !p.exists() {
        common::make_busybox_tar(&p);
    }
    p
}

fn import(env: &TestEnv, name: &str) -> String {
    let tar = busybox_tar(env);
    let out = env.ok(["import".as_ref(), tar.as_os_str(), name.as_ref()]);
    let id = out
        .trim()
        .strip_prefix("sha256:")
        .expect("sha256: id")
        .to_string();
    assert_eq!(id.len(), 64, "{out}");
    id
}

#[test]
fn import_and_list() {
    require_root!();
    let env = TestEnv::new();
    let id = import(&env, "foo");
    let out = env.ok(["images"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("REPOSITORY     TAG         IMAGE ID      CREATED"),
        "{out}"
    );
    assert!(lines[1].starts_with("localhost/foo  latest      "), "{out}");
    assert!(lines[1].contains(&id[..12]), "{out}");
    assert!(lines[1].ends_with(" MB"), "{out}");
    assert_eq!(env.ok(["images", "-q"]).trim(), &id[..12]);
    assert_eq!(
        env.ok(["images", "-q", "--no-trunc"]).trim(),
        format!("sha256:{id}")
    );
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(["images", "--format", "json"])).unwrap();
    assert_eq!(json[0]["Id"], id.as_str());
    assert_eq!(json[0]["Names"][0], "localhost/foo:latest");
    assert_eq!(
        env.ok(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"])
            .trim(),
        "localhost/foo:latest"
    );
    // The layer is unpacked once and usable as a lowerdir.
    let layers: Vec<_> = std::fs::read_dir(env.root.join("layers"))
        .unwrap()
        .collect();
    assert_eq!(layers.len(), 1);
}

#[test]
fn import_same_tar_twice_gives_one_image() {
    require_root!();
    let env = TestEnv::new();
    let a = import(&env, "a");
    let b = import(&env, "b");
    assert_eq!(a, b, "same tarball, same mtime: one image, as with Podman");
    let out = env.ok(["images", "--format", "{{.Repository}}"]);
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn import_changes_and_stdin() {
    require_root!();
    let env = TestEnv::new();
    let tar = busybox_tar(&env);
    let out = env
        .cmd([
            "import",
            "--change",
            "CMD [\"/bin/sh\",\"-c\",\"echo hi\"]",
            "-c",
            "LABEL x=y",
            "-m",
            "msg",
            "-",
            "bar:v1",
        ])
        .stdin(std::fs::File::open(&tar).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = env.ok(["images", "--format", "{{.Repository}} {{.Tag}} {{.Labels}}"]);
    assert_eq!(out.trim(), "localhost/bar v1 map[x:y]");
    let err = env.fails(125, ["import", "--change", "FROB x", tar.to_str().unwrap()]);
    assert!(
        err.starts_with("Error: ") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn import_garbage_fails_cleanly() {
    require_root!();
    let env = TestEnv::new();
    import(&env, "ok");
    let before = env.store_snapshot();
    let g = env.dir.path().join("garbage.tar");
    std::fs::write(&g, vec![b'x'; 5000]).unwrap();
    let err = env.fails(125, ["import", g.to_str().unwrap(), "bad"]);
    assert!(
        err.starts_with("Error: ") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(env.store_snapshot(), before);
    let err = env.fails(125, ["import", "/nonexistent.tar"]);
    assert!(err.contains("/nonexistent.tar"), "{err}");
}
