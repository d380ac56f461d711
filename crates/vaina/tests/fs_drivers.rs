//! Graph drivers and the less common filesystem paths: the vfs driver (chosen by
//! `STORAGE_DRIVER`/`--storage-driver`, or automatically where overlay cannot mount), the
//! driver recorded per store, `--rootfs DIR:O`, `--mount type=image`, `cp` through volumes
//! and bind mounts, `cp` between containers and `diff A B`.

mod common;

use common::TestEnv;
use std::path::{Path, PathBuf};

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

fn tar_names(bytes: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(bytes);
    a.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

/// Every path below `d` with its size and modification time.
fn tree(d: &Path) -> Vec<(PathBuf, u64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut todo = vec![d.to_path_buf()];
    while let Some(p) = todo.pop() {
        for e in std::fs::read_dir(&p).unwrap().flatten() {
            let m = e.path().symlink_metadata().unwrap();
            out.push((e.path(), m.size(), m.mtime()));
            if m.is_dir() {
                todo.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn vfs_driver_runs_diffs_commits_exports_and_copies() {
    require_root!();
    let mut env = TestEnv::new();
    env.env.push(("STORAGE_DRIVER".into(), "vfs".into()));
    let img = env.busybox_image();
    assert_eq!(
        env.ok(["info", "--format", "{{.Store.GraphDriverName}}"]),
        "vfs\n"
    );
    env.ok([
        "run",
        "--name",
        "v1",
        img,
        "sh",
        "-c",
        "echo x >> /etc/passwd; rm /etc/group; mkdir -p /a/b; touch /a/b/c",
    ]);
    let d = env.ok(["diff", "v1"]);
    for want in [
        "C /etc/passwd",
        "D /etc/group",
        "A /a",
        "A /a/b",
        "A /a/b/c",
    ] {
        assert!(lines(&d).contains(&want), "{want} missing in\n{d}");
    }
    assert_eq!(
        env.ok(["inspect", "--format", "{{.GraphDriver.Name}}", "v1"]),
        "vfs\n"
    );
    assert_eq!(
        env.ok(["image", "inspect", "--format", "{{.GraphDriver.Name}}", img]),
        "vfs\n"
    );
    // No overlay anywhere: the rootfs is the container's own copy.
    let mounted = env.ok(["mount", "v1"]).trim().to_string();
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let line = mi
        .lines()
        .find(|l| l.split(' ').nth(4) == Some(mounted.as_str()))
        .expect("mounted");
    assert!(!line.contains(" - overlay "), "{line}");
    assert!(Path::new(&mounted).join("a/b/c").exists());
    env.ok(["unmount", "v1"]);
    // cp both ways.
    let f = env.dir.path().join("hello");
    std::fs::write(&f, "hi\n").unwrap();
    env.ok(["cp", f.to_str().unwrap(), "v1:/a/"]);
    let out = env.dir.path().join("out");
    env.ok(["cp", "v1:/a/hello", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "hi\n");
    // export has the change, commit makes an image that runs with it.
    let tar = env.run(["export", "v1"]);
    assert!(tar.status.success());
    let names = tar_names(&tar.stdout);
    assert!(
        names
            .iter()
            .any(|n| n.trim_end_matches('/').ends_with("a/b/c")),
        "{names:?}"
    );
    env.ok(["commit", "-q", "v1", "localhost/vfscommit"]);
    let o = env.ok([
        "run",
        "--rm",
        "localhost/vfscommit",
        "sh",
        "-c",
        "ls /a/b /a/hello; test -e /etc/group || echo nogroup; tail -n1 /etc/passwd",
    ]);
    assert_eq!(o, "/a/hello\n\n/a/b:\nc\nnogroup\nx\n");
    env.ok(["rm", "v1"]);
    assert_eq!(env.ok(["mount"]), "");
}

#[test]
fn a_store_keeps_its_driver() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    env.ok(["create", "--name", "c1", img, "true"]);
    assert_eq!(
        env.ok(["info", "--format", "{{.Store.GraphDriverName}}"]),
        "overlay\n"
    );
    let before = env.store_snapshot();
    let e = env.fails(125, ["--storage-driver", "vfs", "ps", "-a"]);
    assert_eq!(
        e,
        "Error: database storage graph driver \"overlay\" does not match our storage graph driver \"vfs\": database configuration mismatch\n"
    );
    let e = env.fails(125, ["--storage-driver", "btrfs", "ps"]);
    assert!(
        e.starts_with("Error: failed to GetDriver graph btrfs ")
            && e.ends_with(": driver not supported\n"),
        "{e}"
    );
    assert_eq!(env.store_snapshot(), before);
    env.ok(["--storage-driver", "overlay", "rm", "c1"]);
}

#[test]
fn vfs_is_chosen_where_overlay_cannot_mount() {
    require_root!();
    // A graph root on an overlay mount: overlayfs cannot be an upper dir of another overlay.
    let env = TestEnv::new();
    let base = env.dir.path().join("ovl");
    for d in ["l", "u", "w"] {
        std::fs::create_dir_all(base.join(d)).unwrap();
    }
    std::fs::create_dir_all(&env.root).unwrap();
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        base.join("l").display(),
        base.join("u").display(),
        base.join("w").display()
    );
    nix::mount::mount(
        Some("overlay"),
        &env.root,
        Some("overlay"),
        nix::mount::MsFlags::empty(),
        Some(data.as_str()),
    )
    .expect("mount an overlay as the graph root");
    let run = || -> String {
        let img = env.busybox_image();
        let out = env.ok(["run", "--rm", img, "sh", "-c", "echo works > /f; cat /f"]);
        let driver = env.ok(["info", "--format", "{{.Store.GraphDriverName}}"]);
        format!("{out}{driver}")
    };
    let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    let _ = env.run(["rm", "-a", "-f"]);
    nix::mount::umount2(&env.root, nix::mount::MntFlags::MNT_DETACH).unwrap();
    assert_eq!(got.expect("run on an overlay graph root"), "works\nvfs\n");
}

#[test]
fn rootfs_overlay_leaves_the_directory_unchanged() {
    require_root!();
    let env = TestEnv::new();
    let dir = env.dir.path().join("exploded");
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::fs::copy(common::busybox_path(), dir.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", dir.join("bin/sh")).unwrap();
    std::fs::create_dir_all(dir.join("etc")).unwrap();
    std::fs::write(dir.join("etc/keep"), "original\n").unwrap();
    let before = tree(&dir);
    let spec = format!("{}:O", dir.display());
    let out = env.ok([
        "run",
        "--name",
        "o1",
        "--rootfs",
        &spec,
        "/bin/sh",
        "-c",
        "echo changed > /etc/keep; echo new > /new; cat /etc/keep",
    ]);
    assert_eq!(out, "changed\n");
    assert_eq!(tree(&dir), before, "the directory was written");
    assert_eq!(
        std::fs::read_to_string(dir.join("etc/keep")).unwrap(),
        "original\n"
    );
    assert_eq!(
        env.ok(["inspect", "--format", "{{.Rootfs}}", "o1"]).trim(),
        dir.to_str().unwrap()
    );
    let d = env.ok(["diff", "o1"]);
    assert!(lines(&d).contains(&"A /new"), "{d}");
    // A second start sees its own earlier writes.
    assert_eq!(env.ok(["start", "-a", "o1"]), "changed\n");
    env.ok(["rm", "o1"]);
    assert_eq!(tree(&dir), before);
    assert!(dir.join("etc/keep").exists());
}

#[test]
fn image_mounts_are_read_only_unless_rw() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    let out = env.run([
        "run",
        "--rm",
        "--mount",
        "type=image,source=localhost/bb,destination=/img",
        img,
        "sh",
        "-c",
        "ls /img/bin/busybox && touch /img/x",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/img/bin/busybox\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"));
    let o = env.ok([
        "run",
        "--name",
        "i1",
        "--mount",
        "type=image,src=localhost/bb,dst=/img,rw=true",
        img,
        "sh",
        "-c",
        "touch /img/x && echo ok",
    ]);
    assert_eq!(o, "ok\n");
    let m = env.ok([
        "inspect",
        "--format",
        "{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}}{{end}}",
        "i1",
    ]);
    assert_eq!(m, "image /img true\n");
    env.ok(["rm", "i1"]);
    // The image itself is untouched.
    let o = env.ok(["run", "--rm", img, "sh", "-c", "test -e /x || echo clean"]);
    assert_eq!(o, "clean\n");
}

/// A host directory for bind mounts and an empty one to check nothing leaks outside.
fn host_dirs(env: &TestEnv) -> (PathBuf, PathBuf) {
    let hb = env.dir.path().join("hostbind");
    let canary = env.dir.path().join("canary");
    std::fs::create_dir_all(&hb).unwrap();
    std::fs::create_dir_all(&canary).unwrap();
    (hb, canary)
}

#[test]
fn cp_reaches_volumes_and_binds_of_stopped_and_running_containers() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    let (hb, canary) = host_dirs(&env);
    let f = env.dir.path().join("hello");
    std::fs::write(&f, "hi\n").unwrap();
    let bind = format!("{}:/hb", hb.display());
    env.ok([
        "create",
        "--name",
        "s1",
        "-v",
        "vol1:/data",
        "-v",
        &bind,
        "-v",
        "vol2:/ro:ro",
        img,
        "sleep",
        "1000",
    ]);
    let vol = |n: &str| -> PathBuf {
        PathBuf::from(
            env.ok(["volume", "inspect", "--format", "{{.Mountpoint}}", n])
                .trim(),
        )
    };
    // Stopped: into the volume, the bind source and (as Podman) a read-only volume.
    env.ok(["cp", f.to_str().unwrap(), "s1:/data/"]);
    env.ok(["cp", f.to_str().unwrap(), "s1:/hb/in-bind"]);
    env.ok(["cp", f.to_str().unwrap(), "s1:/ro/"]);
    assert_eq!(
        std::fs::read_to_string(vol("vol1").join("hello")).unwrap(),
        "hi\n"
    );
    assert_eq!(std::fs::read_to_string(hb.join("in-bind")).unwrap(), "hi\n");
    assert!(vol("vol2").join("hello").exists());
    // ... and out of them.
    let out = env.dir.path().join("out1");
    env.ok(["cp", "s1:/hb/in-bind", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "hi\n");
    // A symlink in a volume cannot lead outside the container.
    std::os::unix::fs::symlink(&canary, vol("vol1").join("esc")).unwrap();
    std::os::unix::fs::symlink("/", vol("vol1").join("toroot")).unwrap();
    env.run(["cp", f.to_str().unwrap(), "s1:/data/esc/"]);
    env.ok(["cp", f.to_str().unwrap(), "s1:/data/toroot/tmp/via-link"]);
    assert_eq!(std::fs::read_dir(&canary).unwrap().count(), 0);
    assert!(!Path::new("/tmp/via-link").exists());
    let m = env.ok(["mount", "s1"]).trim().to_string();
    assert!(Path::new(&m).join("tmp/via-link").exists());
    env.ok(["unmount", "s1"]);
    // Running: through the container's own mounts, tmpfs included.
    env.ok(["rm", "s1"]);
    env.ok([
        "run",
        "-d",
        "--name",
        "r1",
        "-v",
        "vol1:/data",
        "-v",
        "vol2:/ro:ro",
        "--tmpfs",
        "/tt",
        img,
        "sleep",
        "1000",
    ]);
    env.ok(["cp", f.to_str().unwrap(), "r1:/data/running"]);
    assert!(vol("vol1").join("running").exists());
    env.ok(["cp", f.to_str().unwrap(), "r1:/tt/"]);
    assert_eq!(env.ok(["exec", "r1", "cat", "/tt/hello"]), "hi\n");
    let e = env.fails(125, ["cp", f.to_str().unwrap(), "r1:/ro/x"]);
    assert!(e.contains("Read-only file system"), "{e}");
    // The symlinks in the volume stay inside the running container too.
    env.run(["cp", f.to_str().unwrap(), "r1:/data/esc/"]);
    env.ok([
        "cp",
        f.to_str().unwrap(),
        "r1:/data/toroot/tmp/via-link-running",
    ]);
    assert_eq!(std::fs::read_dir(&canary).unwrap().count(), 0);
    assert!(!Path::new("/tmp/via-link-running").exists());
    assert_eq!(
        env.ok(["exec", "r1", "cat", "/tmp/via-link-running"]),
        "hi\n"
    );
    env.ok(["rm", "-f", "-t0", "r1"]);
    assert_eq!(env.ok(["mount"]), "");
}

#[test]
fn cp_between_containers_and_diff_of_two() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    env.ok(["create", "--name", "a", img, "true"]);
    env.ok(["create", "--name", "b", img, "true"]);
    env.ok([
        "run",
        "--rm",
        "-v",
        "shared:/s",
        img,
        "sh",
        "-c",
        "echo v > /s/file",
    ]);
    let f = env.dir.path().join("hello");
    std::fs::write(&f, "hi\n").unwrap();
    env.ok(["cp", f.to_str().unwrap(), "a:/tmp/"]);
    env.ok(["cp", "a:/tmp/hello", "b:/renamed"]);
    env.ok(["cp", "a:/etc/", "b:/etc-copy"]);
    let d = env.ok(["diff", "b", "a"]);
    assert!(lines(&d).contains(&"A /renamed"), "{d}");
    assert!(lines(&d).contains(&"A /etc-copy/passwd"), "{d}");
    assert!(lines(&d).contains(&"D /tmp/hello"), "{d}");
    assert_eq!(env.ok(["diff", "a", img]), "C /tmp\nA /tmp/hello\n");
    let e = env.fails(125, ["cp", "a:/nope", "b:/"]);
    assert_eq!(
        e,
        "Error: \"/nope\" could not be found on container a: no such file or directory\n"
    );
    let e = env.fails(125, ["diff", "a", "nope"]);
    assert_eq!(e, "Error: nope not found: layer not known\n");
    let e = env.fails(125, ["diff"]);
    assert_eq!(
        e,
        "Error: \"podman diff\" requires a name, id, or the \"--latest\" flag\n"
    );
    // -l: the newest container (b), here against a.
    assert_eq!(env.ok(["diff", "-l", "a"]), d);
    env.ok(["rm", "a", "b"]);
    env.ok(["volume", "rm", "shared"]);
    assert_eq!(env.ok(["mount"]), "");
}

#[test]
fn overlay_volumes_start_from_their_source_each_time() {
    require_root!();
    let env = TestEnv::new();
    let img = env.busybox_image();
    let src = env.dir.path().join("ovsrc");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("f"), "orig\n").unwrap();
    let spec = format!("{}:/o:O", src.display());
    let script = "cat /o/f; echo new > /o/f; echo x > /o/g; ls /o";
    let o = env.ok(["run", "--name", "ov", "-v", &spec, img, "sh", "-c", script]);
    assert_eq!(o, "orig\nf\ng\n");
    // Changes are dropped at the next start; the source is never written.
    assert_eq!(env.ok(["start", "-a", "ov"]), "orig\nf\ng\n");
    assert_eq!(std::fs::read_to_string(src.join("f")).unwrap(), "orig\n");
    assert!(!src.join("g").exists());
    // A named volume as the lower dir stays unchanged too.
    env.ok(["run", "--rm", "-v", "nv:/o:O", img, "touch", "/o/z"]);
    assert_eq!(env.ok(["run", "--rm", "-v", "nv:/o", img, "ls", "/o"]), "");
    env.ok(["rm", "ov"]);
    env.ok(["volume", "rm", "nv"]);
}
