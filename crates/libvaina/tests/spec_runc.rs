//! Generated specs run by the real runc: each test writes a bundle (a busybox rootfs and the
//! `config.json` from `container::spec::generate`), runs `runc run` in the foreground and
//! checks from inside the container what the spec promised (capabilities, seccomp, masked
//! paths, users, limits, cgroups). Needs root and runc; skips with a message otherwise.

use libvaina::container::options::{
    ContainerDefaults, CreateOptions, NamespaceMode, SeccompPolicy, Ulimit,
};
use libvaina::container::spec::{generate, SpecInput};
use oci_spec::image::{ConfigBuilder, ImageConfigurationBuilder};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Podman's default capabilities as a /proc/self/status mask.
const DEFAULT_CAP_MASK: &str = "00000000800405fb";

fn runc() -> Option<PathBuf> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root (CI runs the suite as root)");
        return None;
    }
    let p = ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/bin/runc"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if p.is_none() {
        eprintln!("skipped: runc is not installed");
    }
    p
}

fn busybox_rootfs(dir: &Path) {
    for d in [
        "bin", "etc", "tmp", "root", "home/app", "proc", "sys", "dev", "run",
    ] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let bb = ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox-static is installed");
    std::fs::copy(bb, dir.join("bin/busybox")).unwrap();
    for a in [
        "sh", "cat", "id", "touch", "hostname", "wc", "grep", "env", "echo", "true", "tr",
    ] {
        std::os::unix::fs::symlink("busybox", dir.join("bin").join(a)).unwrap();
    }
    std::fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("etc/group"),
        "root:x:0:\napp:x:1000:\nusers:x:100:app\n",
    )
    .unwrap();
}

/// Runs `script` with `sh -c` under `opts`; returns (exit code, stdout, stderr).
fn run(runc: &Path, opts: &CreateOptions, script: &str) -> (i32, String, String) {
    let bundle = tempfile::tempdir().unwrap();
    let rootfs = bundle.path().join("rootfs");
    busybox_rootfs(&rootfs);
    let image = ImageConfigurationBuilder::default()
        .config(
            ConfigBuilder::default()
                .cmd(vec!["/bin/sh".to_string()])
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let mut opts = opts.clone();
    opts.command = vec!["sh".into(), "-c".into(), script.into()];
    let id = format!("vainaspectest{:016x}{:08x}", rand_u64(), std::process::id());
    let input = SpecInput::new(&id, &opts, &image, rootfs.clone());
    let spec = generate(&input).unwrap();
    spec.save(bundle.path().join("config.json")).unwrap();
    let state = bundle.path().join("state");
    let out = Command::new(runc)
        .arg("--root")
        .arg(&state)
        .args(["run", "--bundle"])
        .arg(bundle.path())
        .arg(&id)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

fn defaults() -> CreateOptions {
    let mut o = CreateOptions::with_defaults(&ContainerDefaults::default());
    o.namespaces.net = NamespaceMode::None;
    o
}

fn ok(runc: &Path, opts: &CreateOptions, script: &str) -> String {
    let (code, out, err) = run(runc, opts, script);
    assert_eq!(
        code, 0,
        "script {script:?} failed\nstdout: {out}\nstderr: {err}"
    );
    out
}

#[test]
fn default_privileges_match_podman() {
    let Some(runc) = runc() else { return };
    let out = ok(
        &runc,
        &defaults(),
        "grep -E '^(CapEff|CapBnd|Seccomp):' /proc/self/status; \
         cat /proc/timer_list /proc/keys 2>&1 | wc -c; \
         echo x > /proc/sys/kernel/domainname 2>/dev/null && echo writable || echo ro; \
         id; hostname; env",
    );
    assert!(
        out.contains(&format!("CapEff:\t{DEFAULT_CAP_MASK}")),
        "{out}"
    );
    assert!(
        out.contains(&format!("CapBnd:\t{DEFAULT_CAP_MASK}")),
        "{out}"
    );
    assert!(out.contains("Seccomp:\t2"), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[3], "0",
        "/proc/timer_list and /proc/keys are masked: {out}"
    );
    assert_eq!(lines[4], "ro", "/proc/sys is read-only: {out}");
    assert_eq!(lines[5], "uid=0(root) gid=0(root)");
    assert!(lines[6].starts_with("vainaspectes"), "{out}");
    assert!(
        out.contains("container=podman") && out.contains("HOME=/root"),
        "{out}"
    );
}

#[test]
fn users_and_groups() {
    let Some(runc) = runc() else { return };
    let mut o = defaults();
    o.user = Some("app".into());
    assert_eq!(
        ok(&runc, &o, "id").trim(),
        "uid=1000(app) gid=1000(app) groups=100(users),1000(app)"
    );
    o.user = Some("1000:users".into());
    assert_eq!(
        ok(&runc, &o, "id").trim(),
        "uid=1000(app) gid=100(users) groups=100(users)"
    );
    // Podman: a non-root user keeps the bounding set but only --cap-add capabilities.
    let caps = "grep -E '^Cap(Eff|Bnd|Amb):' /proc/self/status";
    assert_eq!(
        ok(&runc, &o, caps),
        format!(
            "CapEff:\t0000000000000000\nCapBnd:\t{DEFAULT_CAP_MASK}\nCapAmb:\t0000000000000000\n"
        )
    );
    o.security.cap_add = vec!["NET_ADMIN".into()];
    assert_eq!(
        ok(&runc, &o, caps),
        "CapEff:\t0000000000001000\nCapBnd:\t00000000800415fb\nCapAmb:\t0000000000001000\n"
    );
}

#[test]
fn read_only_root() {
    let Some(runc) = runc() else { return };
    let mut o = defaults();
    o.read_only = true;
    let out = ok(
        &runc,
        &o,
        "touch /x 2>&1; touch /tmp/x /var/tmp/x /run/x && echo tmp-ok",
    );
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(out.contains("tmp-ok"), "{out}");
}

#[test]
fn limits_and_cgroups() {
    let Some(runc) = runc() else { return };
    let mut o = defaults();
    o.ulimits = vec![Ulimit::new("nofile", 100, 200)];
    o.resources.memory = Some(64 << 20);
    o.resources.pids_limit = Some(77);
    o.sysctls.insert("net.core.somaxconn".into(), "1024".into());
    let out = ok(
        &runc,
        &o,
        "ulimit -n; ulimit -Hn; cat /proc/sys/net/core/somaxconn; \
         cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null; \
         cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null; true",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..3], ["100", "200", "1024"], "{out}");
    assert!(lines.contains(&"67108864"), "{out}");
    assert!(lines.contains(&"77"), "{out}");
    // Defaults (nofile 1048576) are clamped to what the host allows: the container starts.
    let out = ok(&runc, &defaults(), "ulimit -Hn");
    let host_hard = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .unwrap()
        .1;
    let got: u64 = out.trim().parse().unwrap();
    assert!(
        got <= 1_048_576 && got >= host_hard.min(1_048_576),
        "{got} vs {host_hard}"
    );
}

#[test]
fn privileged_and_unconfined() {
    let Some(runc) = runc() else { return };
    let mut o = defaults();
    o.security.seccomp = SeccompPolicy::Unconfined;
    o.security.cap_add = vec!["NET_ADMIN".into()];
    o.security.cap_drop = vec!["CHOWN".into()];
    let out = ok(&runc, &o, "grep -E '^(CapEff|Seccomp):' /proc/self/status");
    assert!(out.contains("Seccomp:\t0"), "{out}");
    // NET_ADMIN (bit 12) added, CHOWN (bit 0) dropped.
    assert!(out.contains("CapEff:\t00000000800415fa"), "{out}");
    let mut o = defaults();
    o.security.privileged = true;
    let out = ok(
        &runc,
        &o,
        "grep -E '^(CapEff|Seccomp):' /proc/self/status; cat /proc/timer_list | wc -c",
    );
    let mine = std::fs::read_to_string("/proc/self/status").unwrap();
    let bnd = mine.lines().find(|l| l.starts_with("CapBnd")).unwrap();
    assert!(
        out.contains(&bnd.replace("CapBnd", "CapEff")),
        "{out} vs {bnd}"
    );
    assert!(out.contains("Seccomp:\t0"), "{out}");
    assert_ne!(out.lines().last(), Some("0"), "nothing is masked: {out}");
}

#[test]
fn init_is_pid_one() {
    let Some(runc) = runc() else { return };
    let mut o = defaults();
    o.init = true;
    if libvaina::container::spec::HostFacts::probe()
        .init_binary
        .is_none()
    {
        eprintln!("skipped: catatonit is not installed");
        return;
    }
    let out = ok(&runc, &o, "cat /proc/1/cmdline | tr '\\0' ' '; echo");
    assert!(out.starts_with("/run/vaina-init -- sh -c"), "{out}");
}
