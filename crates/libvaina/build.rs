//! Records the compiler version and build time for `vaina version` and `vaina info`.

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.split_whitespace().nth(1).map(String::from))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=VAINA_RUSTC_VERSION=rust{version}");
    // Reproducible builds: the build time is SOURCE_DATE_EPOCH when given, else 0 (as
    // distribution builds of Podman report).
    let built = std::env::var("SOURCE_DATE_EPOCH").unwrap_or_else(|_| "0".into());
    println!("cargo:rustc-env=VAINA_BUILT={built}");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=build.rs");
}
