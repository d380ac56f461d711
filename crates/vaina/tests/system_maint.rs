//! `system df`, `system prune` and `system reset` end to end: numbers consistent with
//! `images` and `ps`, the confirmation prompts, and a reset that leaves no container, image,
//! mount or store directory behind.

mod common;

use common::TestEnv;

fn with_stdin(env: &TestEnv, args: &[&str], input: &str) -> std::process::Output {
    common::output_with_stdin(&mut env.cmd(args), input.as_bytes())
}

#[test]
fn df_matches_images_and_containers() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok(["create", "--name", "a", img, "true"]);
    env.ok(["run", "--name", "b", img, "sh", "-c", "echo 12345 > /data"]);
    let out = env.ok(["system", "df"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    );
    let f = env.ok([
        "system",
        "df",
        "--format",
        "{{.Type}}|{{.Total}}|{{.Active}}",
    ]);
    let n_images = env.ok(["images", "-q"]).lines().count();
    assert_eq!(
        f,
        format!("Images|{n_images}|1\nContainers|2|0\nLocal Volumes|0|0\n")
    );
    let v = env.ok(["system", "df", "-v"]);
    assert!(v.contains("Images space usage:"), "{v}");
    assert!(v.contains("localhost/bb"), "{v}");
    // Container b wrote 6 bytes to its writable layer.
    let b_line = v
        .lines()
        .find(|l| l.ends_with(" b"))
        .expect("container b listed");
    assert!(b_line.contains(" 6B "), "{b_line}");
    env.ok(["rm", "a", "b"]);
}

#[test]
fn prune_asks_and_removes_stopped_containers_and_unused_images() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok(["create", "--name", "stopped", img, "true"]);
    let out = with_stdin(&env, &["system", "prune"], "n\n");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("WARNING! This command removes:\n"),
        "{text}"
    );
    assert!(
        text.ends_with("Are you sure you want to continue? [y/N] "),
        "{text}"
    );
    assert_eq!(env.ok(["ps", "-aq"]).lines().count(), 1);
    let out = env.ok(["system", "prune", "-f"]);
    assert!(out.starts_with("Deleted Containers\n"), "{out}");
    assert!(out.contains("Total reclaimed space: "), "{out}");
    assert_eq!(env.ok(["ps", "-aq"]), "");
    // The image is not dangling: kept without -a, removed with it.
    assert_eq!(env.ok(["images", "-q"]).lines().count(), 1);
    let out = env.ok(["system", "prune", "-a", "-f", "--volumes"]);
    assert!(out.contains("Deleted Images\n"), "{out}");
    assert_eq!(env.ok(["images", "-q"]), "");
}

#[test]
fn reset_removes_everything_and_leaves_no_mounts() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok(["run", "-d", "--name", "live", img, "sleep", "1000"]);
    env.ok(["create", "--name", "idle", img, "true"]);
    env.ok(["mount", "idle"]);
    let out = with_stdin(&env, &["system", "reset"], "no\n");
    assert!(out.status.success());
    assert_eq!(env.ok(["ps", "-aq"]).lines().count(), 2);
    env.ok(["system", "reset", "-f"]);
    let root = env.root.to_string_lossy().to_string();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.lines().any(|l| l.contains(&root)),
        "mounts left under the store"
    );
    assert!(!env.root.exists() || std::fs::read_dir(&env.root).unwrap().next().is_none());
    assert!(!env.runroot.exists() || std::fs::read_dir(&env.runroot).unwrap().next().is_none());
    assert_eq!(env.ok(["ps", "-aq"]), "");
    assert_eq!(env.ok(["images", "-q"]), "");
}
