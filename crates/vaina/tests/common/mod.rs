//! Test harness: every test gets its own temp `--root`/`--runroot` and config files, runs the
//! real `vaina` binary as users do, and checks on drop that nothing was left behind (mounts
//! under its directories, processes started from them).

#![allow(dead_code)]

pub mod fake_registry;
pub mod fixtures;
pub mod pty;
pub mod registry;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Path of the binary under test.
pub fn vaina_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_vaina"))
}

/// True when running as root; tests that need root print why they skip otherwise.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Skips the calling test (returns early) unless running as root.
#[macro_export]
macro_rules! require_root {
    () => {
        if !$crate::common::is_root() {
            eprintln!("skipped: this test needs root (CI runs the suite as root)");
            return;
        }
    };
}

/// One isolated vaina installation: store, run root and config files in a temp dir.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub runroot: PathBuf,
    pub config: PathBuf,
    /// Extra environment for every command.
    pub env: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("vaina-test-")
            .tempdir()
            .expect("temp dir");
        let root = dir.path().join("root");
        let runroot = dir.path().join("run");
        let config = dir.path().join("config");
        std::fs::create_dir_all(&config).unwrap();
        // Empty config files so the host's /etc/containers never leaks into a test.
        std::fs::write(
            config.join("registries.conf"),
            "unqualified-search-registries = []\n",
        )
        .unwrap();
        // No network by default: tests of networking ask for it (`--network`), so other tests
        // never touch the host's bridges and firewall.
        std::fs::write(
            config.join("containers.conf"),
            "[containers]\nnetns = \"none\"\n",
        )
        .unwrap();
        std::fs::write(
            config.join("policy.json"),
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .unwrap();
        TestEnv {
            root,
            runroot,
            config,
            env: Vec::new(),
            dir,
        }
    }

    /// Writes the registries.conf used by this environment.
    pub fn set_registries_conf(&self, text: &str) {
        std::fs::write(self.config.join("registries.conf"), text).unwrap();
    }

    /// Writes the containers.conf used by this environment.
    pub fn set_containers_conf(&self, text: &str) {
        std::fs::write(self.config.join("containers.conf"), text).unwrap();
    }

    /// A `vaina` command with this environment's root, run root and config.
    pub fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut c = Command::new(vaina_bin());
        c.arg("--root")
            .arg(&self.root)
            .arg("--runroot")
            .arg(&self.runroot)
            .env(
                "CONTAINERS_REGISTRIES_CONF",
                self.config.join("registries.conf"),
            )
            .env(
                "CONTAINERS_REGISTRIES_CONF_DIR",
                self.config.join("registries.conf.d"),
            )
            .env("CONTAINERS_CONF", self.config.join("containers.conf"))
            .env("CONTAINERS_POLICY_JSON", self.config.join("policy.json"))
            .env("REGISTRY_AUTH_FILE", self.config.join("auth.json"))
            .env("XDG_CONFIG_HOME", self.config.join("xdg-config"))
            .env("HOME", self.dir.path().join("home"))
            .env_remove("XDG_RUNTIME_DIR")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.args(args);
        c
    }

    /// Runs `vaina args...` and returns its output.
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd(args).output().expect("spawn vaina")
    }

    /// Runs and asserts exit 0; returns stdout.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args
            .into_iter()
            .map(|a| a.as_ref().to_os_string())
            .collect();
        let out = self.run(&args);
        assert!(
            out.status.success(),
            "vaina {:?} failed ({:?})\nstdout: {}\nstderr: {}",
            args,
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs and asserts exit 0; returns stdout without surrounding white space (an ID, a field).
    pub fn ok_trim<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.ok(args).trim().to_string()
    }

    /// Runs and asserts exit 0; returns stdout parsed as JSON.
    pub fn ok_json<I, S>(&self, args: I) -> serde_json::Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// Runs and asserts the exit code; returns stderr.
    pub fn fails<I, S>(&self, code: i32, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args
            .into_iter()
            .map(|a| a.as_ref().to_os_string())
            .collect();
        let out = self.run(&args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "vaina {:?}: wrong exit code\nstdout: {}\nstderr: {}",
            args,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// A list of everything in the store's directories (to assert "store unchanged").
    pub fn store_snapshot(&self) -> Vec<String> {
        let mut v = Vec::new();
        walk(&self.root, &self.root, &mut v);
        v.retain(|p| !p.ends_with("vaina.db-shm") && !p.ends_with("vaina.db-wal"));
        v.sort();
        v
    }

    /// Mounts whose source or target lies under this environment's directory.
    pub fn leaked_mounts(&self) -> Vec<String> {
        let base = self.dir.path().to_string_lossy().to_string();
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&base))
            .map(String::from)
            .collect()
    }

    /// Processes whose command line mentions this environment's directory.
    pub fn leaked_processes(&self) -> Vec<String> {
        let base = self.dir.path().to_string_lossy().to_string();
        let me = std::process::id().to_string();
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir("/proc") {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if !name.bytes().all(|b| b.is_ascii_digit()) || name == me {
                    continue;
                }
                if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
                    let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
                    if cmd.contains(&base) {
                        out.push(format!("{name}: {cmd}"));
                    }
                }
            }
        }
        out
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // A failed test may leave containers running: take them away before the store's
            // directory goes, so the host is not left with their processes and mounts.
            let _ = self.run(["system", "reset", "-f"]);
            return;
        }
        let mounts = self.leaked_mounts();
        let procs = self.leaked_processes();
        if !mounts.is_empty() || !procs.is_empty() {
            let _ = self.run(["system", "reset", "-f"]);
        }
        assert!(mounts.is_empty(), "test leaked mounts: {mounts:#?}");
        assert!(procs.is_empty(), "test leaked processes: {procs:#?}");
    }
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            walk(base, &p, out);
        }
    }
}

/// Runs `c`, asserts it exited 0 (showing its stderr otherwise) and returns its output.
pub fn checked_output(c: &mut Command) -> Output {
    let out = c.output().expect("spawn command");
    assert!(
        out.status.success(),
        "{c:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `c` with `input` written to its stdin; returns its output (stdout and stderr captured).
pub fn output_with_stdin(c: &mut Command, input: &[u8]) -> Output {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn command");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `skopeo args...` (an independent reader of images), asserts success and returns stdout.
pub fn skopeo<I, S>(args: I) -> Vec<u8>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    checked_output(Command::new("skopeo").args(args)).stdout
}

/// `skopeo args...` with its stdout parsed as JSON.
pub fn skopeo_json<I, S>(args: I) -> serde_json::Value
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    serde_json::from_slice(&skopeo(args)).expect("skopeo printed JSON")
}

/// Path of Debian's static busybox.
pub fn busybox_path() -> PathBuf {
    for p in ["/bin/busybox", "/usr/bin/busybox"] {
        let p = PathBuf::from(p);
        if p.exists() {
            return p;
        }
    }
    panic!("busybox-static is not installed (apt-get install busybox-static)");
}

/// Writes a minimal busybox root filesystem into `dir`: /bin/busybox plus applet links,
/// /etc/passwd and /etc/group with root, nobody and a test user `app` (1000:1000).
pub fn make_busybox_rootfs(dir: &Path) {
    for d in [
        "bin", "etc", "tmp", "root", "home/app", "proc", "sys", "dev",
    ] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::copy(busybox_path(), dir.join("bin/busybox")).unwrap();
    for applet in [
        "sh",
        "ls",
        "cat",
        "echo",
        "true",
        "false",
        "sleep",
        "id",
        "env",
        "pwd",
        "touch",
        "mkdir",
        "rm",
        "ps",
        "hostname",
        "wget",
        "httpd",
        "nslookup",
        "ip",
        "grep",
        "head",
        "wc",
        "stat",
        "top",
        "kill",
        "test",
        "find",
        "mount",
        "readlink",
        "whoami",
        "chmod",
        "cp",
        "mv",
        "ln",
        "printf",
        "seq",
        "yes",
        "nc",
        "tar",
        "date",
        "uname",
        "dd",
        "sha256sum",
        "vi",
    ] {
        let link = dir.join("bin").join(applet);
        if !link.exists() {
            std::os::unix::fs::symlink("busybox", link).unwrap();
        }
    }
    std::fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("etc/group"),
        "root:x:0:\napp:x:1000:\nusers:x:100:app\nnogroup:x:65534:\n",
    )
    .unwrap();
    std::fs::set_permissions(
        dir.join("tmp"),
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    )
    .unwrap();
}

/// Builds an uncompressed tar of a busybox root filesystem at `tar_path`.
pub fn make_busybox_tar(tar_path: &Path) {
    let staging = tempfile::tempdir().unwrap();
    make_busybox_rootfs(staging.path());
    let f = std::fs::File::create(tar_path).unwrap();
    let mut b = tar::Builder::new(f);
    b.follow_symlinks(false);
    b.append_dir_all(".", staging.path()).unwrap();
    b.finish().unwrap();
}

impl TestEnv {
    /// A new environment with the busybox image imported; returns it and the image's name.
    pub fn with_busybox() -> (TestEnv, &'static str) {
        let env = TestEnv::new();
        let img = env.busybox_image();
        (env, img)
    }

    /// The busybox root filesystem tarball `bb.tar` in this environment's directory (made once).
    pub fn busybox_tar(&self) -> PathBuf {
        let tar = self.dir.path().join("bb.tar");
        if !tar.exists() {
            make_busybox_tar(&tar);
        }
        tar
    }

    /// Imports a busybox image as `localhost/bb:latest` (CMD /bin/sh) and returns that name.
    pub fn busybox_image(&self) -> &'static str {
        let tar = self.busybox_tar();
        self.ok([
            "import".as_ref(),
            "--change".as_ref(),
            "CMD [\"/bin/sh\"]".as_ref(),
            tar.as_os_str(),
            "localhost/bb:latest".as_ref(),
        ]);
        "localhost/bb:latest"
    }
}

/// cgroup directories named after container `id` (`<id>`, `vaina-<id>`, `vaina-<id>.scope`)
/// anywhere in the first levels of every mounted hierarchy (the memory controller nests
/// containers under the caller's own cgroup on some hosts).
pub fn cgroups_of(id: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, id: &str, depth: usize, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            if !e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            if name == id || name == format!("vaina-{id}") || name == format!("vaina-{id}.scope") {
                out.push(e.path());
            } else if depth > 0 {
                walk(&e.path(), id, depth - 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new("/sys/fs/cgroup"), id, 4, &mut out);
    out
}
