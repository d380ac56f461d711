//! Helpers for vaina's integration tests that more than one crate needs: running host tools,
//! network namespaces the test owns, and finding traces a test left in the host's network
//! state. Only for tests; nothing here is part of vaina.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a networking test cannot run here (not root, or no `nft`), or `None` when it can.
pub fn network_test_skip_reason() -> Option<&'static str> {
    if !nix::unistd::geteuid().is_root() {
        return Some("this test needs root (CI runs the suite as root)");
    }
    if Command::new("nft").arg("--version").output().is_err() {
        return Some("nft is not installed");
    }
    None
}

/// Returns from the test (saying why) when it cannot run here; see
/// [`network_test_skip_reason`].
#[macro_export]
macro_rules! require_network_root {
    () => {
        if let Some(why) = $crate::network_test_skip_reason() {
            eprintln!("skipped: {why}");
            return;
        }
    };
}

/// Runs a command; returns whether it succeeded and its stdout followed by its stderr.
pub fn sh(cmd: &[&str]) -> (bool, String) {
    let out = Command::new(cmd[0])
        .args(&cmd[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", cmd[0]));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A network namespace under /run/netns, deleted on drop.
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates `vaina-test-<tag>-<random>`.
    pub fn new(tag: &str) -> Self {
        let r: u32 = rand::random();
        let name = format!("vaina-test-{tag}-{r:08x}");
        let (ok, out) = sh(&["ip", "netns", "add", &name]);
        assert!(ok, "ip netns add: {out}");
        Netns { name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.name)
    }

    /// Runs a command inside the namespace (`ip netns exec`).
    pub fn exec(&self, args: &[&str]) -> (bool, String) {
        let mut v = vec!["ip", "netns", "exec", &self.name];
        v.extend_from_slice(args);
        sh(&v)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = sh(&["ip", "netns", "del", &self.name]);
    }
}

/// Host network state that mentions `needle`: links, the nft ruleset, /run/netns entries.
/// A test that cleaned up after itself gets an empty list.
pub fn traces(needle: &str) -> Vec<String> {
    let mut v = Vec::new();
    for (what, out) in [
        ("link", sh(&["ip", "-o", "link"]).1),
        ("nft", sh(&["nft", "list", "ruleset"]).1),
    ] {
        v.extend(
            out.lines()
                .filter(|l| l.contains(needle))
                .map(|l| format!("{what}: {l}")),
        );
    }
    if let Ok(rd) = std::fs::read_dir("/run/netns") {
        v.extend(
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(needle))
                .map(|n| format!("netns: {n}")),
        );
    }
    v
}

/// Deletes a test bridge left behind by a failed test (a passing test removes it itself).
pub struct BridgeGuard(pub String);

impl Drop for BridgeGuard {
    fn drop(&mut self) {
        if std::thread::panicking() && Path::new("/sys/class/net").join(&self.0).exists() {
            let _ = sh(&["ip", "link", "del", &self.0]);
        }
    }
}
