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
    let (env, img) = TestEnv::with_busybox();
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
    let (env, img) = TestEnv::with_busybox();
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
    let j = env.ok_json(["diff", "--format", "json", "d1"]);
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
    let (env, img) = TestEnv::with_busybox();
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

/// A running container with a small tree and escape symlinks: `/esc` → `/`, `/etcl` → `/etc`,
/// `/tmp/up` → a `..` chain, and `/hostlink` → the absolute host path of `outside`.
fn escape_container(env: &TestEnv, name: &str, outside: &Path) {
    let img = env.busybox_image();
    env.ok(["run", "-d", "--name", name, img, "sleep", "1000"]);
    let script = format!(
        "ln -s / /esc; ln -s /etc /etcl; ln -s ../../../../../../.. /tmp/up; \
         ln -s {o} /hostlink; ln -s ../../../../../..{o} /tmp/uphost; \
         mkdir -p /d/sub; echo inside > /d/sub/f; echo top > /d/g",
        o = outside.display()
    );
    env.ok(["exec", name, "sh", "-c", &script]);
}

/// A host directory that must never be read or written by `cp`.
fn canary_dir(env: &TestEnv) -> PathBuf {
    let d = env.dir.path().join("outside");
    std::fs::create_dir_all(d.join("etc")).unwrap();
    std::fs::write(d.join("canary"), "canary-secret").unwrap();
    std::fs::write(d.join("etc/passwd"), "canary-secret").unwrap();
    d
}

fn dir_listing(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = walk(d)
        .into_iter()
        .map(|p| p.display().to_string())
        .collect();
    v.sort();
    v
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(d).unwrap().flatten() {
        v.push(e.path());
        if e.file_type().unwrap().is_dir() {
            v.extend(walk(&e.path()));
        }
    }
    v
}

#[test]
fn cp_both_directions_running_and_stopped() {
    require_root!();
    let env = TestEnv::new();
    let outside = canary_dir(&env);
    escape_container(&env, "c1", &outside);
    let host = env.dir.path().join("host");
    std::fs::create_dir_all(host.join("tree/sub")).unwrap();
    std::fs::write(host.join("file"), "hello").unwrap();
    std::fs::write(host.join("tree/sub/x"), "x").unwrap();
    let file = host.join("file");
    let tree = host.join("tree");
    // Into an existing directory, to a new name, a directory into a directory.
    env.ok(["cp", file.to_str().unwrap(), "c1:/tmp"]);
    env.ok(["cp", file.to_str().unwrap(), "c1:/tmp/renamed"]);
    env.ok(["container", "cp", tree.to_str().unwrap(), "c1:/tmp"]);
    let out = env.ok([
        "exec",
        "c1",
        "cat",
        "/tmp/file",
        "/tmp/renamed",
        "/tmp/tree/sub/x",
    ]);
    assert_eq!(out, "hellohellox");
    // Out: a file, a directory, to a new name.
    let back = env.dir.path().join("back");
    std::fs::create_dir_all(&back).unwrap();
    env.ok(["cp", "c1:/d", back.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(back.join("d/sub/f")).unwrap(),
        "inside\n"
    );
    env.ok(["cp", "c1:/d/g", back.join("g2").to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(back.join("g2")).unwrap(), "top\n");
    // Stopped: the rootfs is mounted for the copy only.
    env.ok(["stop", "-t0", "c1"]);
    env.ok(["cp", file.to_str().unwrap(), "c1:/stopped"]);
    env.ok(["cp", "c1:/stopped", back.join("stopped").to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(back.join("stopped")).unwrap(),
        "hello"
    );
    assert_eq!(env.ok(["mount"]), "");
    assert!(env.ok(["diff", "c1"]).contains("A /stopped\n"));
}

#[test]
fn cp_tar_streams() {
    require_root!();
    let env = TestEnv::new();
    let outside = canary_dir(&env);
    escape_container(&env, "c1", &outside);
    let out = env.cmd(["cp", "c1:/d", "-"]).output().unwrap();
    assert!(out.status.success());
    let names = tar_names(&out.stdout);
    assert_eq!(names, ["d", "d/g", "d/sub", "d/sub/f"]);
    // Feed it back elsewhere through stdin.
    env.ok(["exec", "c1", "mkdir", "/in"]);
    let mut child = env
        .cmd(["cp", "-", "c1:/in"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&out.stdout).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(env.ok(["exec", "c1", "cat", "/in/d/sub/f"]), "inside\n");
    let e = env.fails(125, ["cp", "-", "c1:/d/g"]);
    assert_eq!(
        e,
        "Error: destination must be a directory when copying from stdin\n"
    );
    env.ok(["rm", "-f", "-t0", "c1"]);
}

#[test]
fn cp_symlinks_never_leave_the_container() {
    require_root!();
    let env = TestEnv::new();
    let outside = canary_dir(&env);
    escape_container(&env, "c1", &outside);
    let before = dir_listing(&outside);
    let back = env.dir.path().join("back");
    std::fs::create_dir_all(&back).unwrap();
    // Reads through the links see the container's files, never the host's.
    for (i, src) in [
        "c1:/esc/etc/passwd",
        "c1:/etcl/passwd",
        "c1:/tmp/up/etc/passwd",
    ]
    .iter()
    .enumerate()
    {
        let dst = back.join(format!("r{i}"));
        env.ok(["cp", src, dst.to_str().unwrap()]);
        let got = std::fs::read_to_string(&dst).unwrap();
        assert!(got.starts_with("root:x:0:0:"), "{src}: {got}");
    }
    for src in [
        "c1:/hostlink/canary",
        "c1:/tmp/uphost/canary",
        "c1:/hostlink/",
    ] {
        let e = env.fails(125, ["cp", src, back.join("x").to_str().unwrap()]);
        assert!(
            e.contains("could not be found on container c1"),
            "{src}: {e}"
        );
    }
    let out = env.cmd(["cp", "c1:/esc/", "-"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("canary-secret"));
    // Writes through the links land inside the container.
    let f = env.dir.path().join("payload");
    std::fs::write(&f, "payload").unwrap();
    env.ok(["cp", f.to_str().unwrap(), "c1:/esc/etc/"]);
    env.ok(["cp", f.to_str().unwrap(), "c1:/tmp/up/etc/p2"]);
    env.ok(["cp", f.to_str().unwrap(), "c1:/etcl/p3"]);
    for p in ["/etc/payload", "/etc/p2", "/etc/p3"] {
        assert_eq!(env.ok(["exec", "c1", "cat", p]), "payload");
    }
    assert!(!Path::new("/etc/payload").exists());
    assert!(!Path::new("/etc/p2").exists());
    assert!(!Path::new("/etc/p3").exists());
    let e = env.fails(125, ["cp", f.to_str().unwrap(), "c1:/hostlink/etc/passwd"]);
    assert!(e.contains("could not be found on container c1"), "{e}");
    // A tar from stdin whose entries try to climb out.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "lnk", &outside).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(4);
    h.set_mode(0o644);
    b.append_data(&mut h, "lnk/evil", &b"evil"[..]).unwrap();
    let bytes = b.into_inner().unwrap();
    env.ok(["exec", "c1", "mkdir", "/tin"]);
    let mut child = env
        .cmd(["cp", "-", "c1:/tin"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let st = child.wait_with_output().unwrap();
    assert_eq!(st.status.code(), Some(125));
    assert_eq!(dir_listing(&outside), before);
    assert_eq!(
        std::fs::read_to_string(outside.join("etc/passwd")).unwrap(),
        "canary-secret"
    );
    env.ok(["rm", "-f", "-t0", "c1"]);
}

#[test]
fn cp_with_a_symlink_swapped_during_the_copy_stays_inside() {
    require_root!();
    let env = TestEnv::new();
    let outside = canary_dir(&env);
    escape_container(&env, "c1", &outside);
    let before = dir_listing(&outside);
    let merged = PathBuf::from(env.ok(["mount", "c1"]).trim());
    // Make /d big enough that the copy and the swaps overlap.
    env.ok([
        "exec",
        "c1",
        "sh",
        "-c",
        "for i in $(seq 1 200); do echo $i > /d/sub/f$i; done",
    ]);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let payload = env.dir.path().join("payload");
    std::fs::create_dir_all(payload.join("sub")).unwrap();
    for i in 0..50 {
        std::fs::write(payload.join(format!("sub/p{i}")), "payload").unwrap();
    }
    std::thread::scope(|s| {
        let swapper = s.spawn(|| {
            let sub = merged.join("d/sub");
            let real = merged.join("d/sub.real");
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 2_000_000 {
                if std::fs::rename(&sub, &real).is_ok() {
                    let _ = std::os::unix::fs::symlink(&outside, &sub);
                    let _ = std::fs::remove_file(&sub);
                    let _ = std::fs::rename(&real, &sub);
                }
                n += 1;
            }
            n
        });
        for _ in 0..15 {
            let out = env.cmd(["cp", "c1:/d", "-"]).output().unwrap();
            assert!(
                !String::from_utf8_lossy(&out.stdout).contains("canary-secret"),
                "read outside the container"
            );
            let _ = env.run(["cp", payload.to_str().unwrap(), "c1:/d/sub/"]);
            let _ = env.run(["cp", payload.join("sub").to_str().unwrap(), "c1:/d/"]);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let n = swapper.join().unwrap();
        assert!(n > 0);
    });
    assert_eq!(
        dir_listing(&outside),
        before,
        "written outside the container"
    );
    env.ok(["unmount", "c1"]);
    env.ok(["rm", "-f", "-t0", "c1"]);
}

#[test]
fn cp_bad_inputs() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok(["create", "--name", "c1", img, "true"]);
    let f = env.dir.path().join("f");
    std::fs::write(&f, "x").unwrap();
    let before = env.store_snapshot();
    let e = env.fails(125, ["cp", f.to_str().unwrap(), "c1:/nonexist/dir/file"]);
    assert_eq!(
        e,
        "Error: \"/nonexist/dir/file\" could not be found on container c1: no such file or directory\n"
    );
    let e = env.fails(125, ["cp", "c1:/nonexist", f.to_str().unwrap()]);
    assert_eq!(
        e,
        "Error: \"/nonexist\" could not be found on container c1: no such file or directory\n"
    );
    let missing = env.dir.path().join("missing");
    let e = env.fails(125, ["cp", missing.to_str().unwrap(), "c1:/tmp"]);
    assert!(
        e.ends_with("could not be found on the host: no such file or directory\n"),
        "{e}"
    );
    let e = env.fails(125, ["cp", f.to_str().unwrap(), "nope:/tmp"]);
    assert_eq!(e, "Error: container \"nope\" does not exist\n");
    assert_eq!(env.store_snapshot(), before);
    assert_eq!(env.ok(["mount"]), "");
}

#[test]
fn commit_makes_an_image_that_runs_with_the_change() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok(["run", "-d", "--name", "k1", img, "sleep", "1000"]);
    env.ok([
        "exec",
        "k1",
        "sh",
        "-c",
        "echo changed > /etc/motd; rm /bin/cat; mkdir -p /o/x; touch /o/x/old",
    ]);
    env.ok([
        "exec",
        "k1",
        "sh",
        "-c",
        "rm -r /o; mkdir -p /o; touch /o/new",
    ]);
    let id = env.ok([
        "commit",
        "-q",
        "-a",
        "tester",
        "-m",
        "a message",
        "-c",
        "CMD [\"/bin/sh\", \"-c\", \"cat /etc/motd\"]",
        "-c",
        "ENV COMMITTED=yes",
        "k1",
        "localhost/committed",
    ]);
    let id = id.trim();
    assert_eq!(id.len(), 64, "{id}");
    assert_eq!(env.ok(["run", "--rm", "localhost/committed"]), "changed\n");
    let out = env.ok([
        "run",
        "--rm",
        "localhost/committed",
        "sh",
        "-c",
        "echo $COMMITTED; test -e /bin/cat || echo nocat; ls /o",
    ]);
    assert_eq!(out, "yes\nnocat\nnew\n");
    let hist = env.ok(["history", "--format", "{{.Comment}}", "localhost/committed"]);
    assert!(hist.contains("a message"), "{hist}");
    // Squashed and docker format images run the same way.
    env.ok([
        "commit", "-q", "--squash", "--format", "docker", "-p", "k1", "sq",
    ]);
    assert_eq!(
        env.ok(["run", "--rm", "sq", "head", "/etc/motd"]),
        "changed\n"
    );
    let layers = env.ok([
        "image",
        "inspect",
        "--format",
        "{{len .RootFS.Layers}}",
        "sq",
    ]);
    assert_eq!(layers.trim(), "1");
    env.ok(["rm", "-f", "-t0", "k1"]);
}

#[test]
fn commit_of_unknown_container_fails() {
    require_root!();
    let env = TestEnv::new();
    env.busybox_image();
    let before = env.store_snapshot();
    let images = env.ok(["images", "-q"]);
    let e = env.fails(125, ["commit", "nope", "x"]);
    assert!(
        e.ends_with("Error: no container with name or ID \"nope\" found: no such container\n"),
        "{e}"
    );
    assert_eq!(env.ok(["images", "-q"]), images);
    assert_eq!(env.store_snapshot(), before);
}
