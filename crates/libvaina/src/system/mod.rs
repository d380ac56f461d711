//! System-wide reports: `version` and `info` data, as Podman shapes them.
//!
//! The library only gathers the data ([`VersionInfo`], [`info::Info`]); the CLI prints it as
//! text, YAML-like, JSON or through Go templates. Host probing (kernel, cgroups, memory,
//! distribution, OCI runtime) lives in [`host`]. Reads the store counts through
//! [`crate::store`] and the configuration through [`crate::config`].

pub mod host;
pub mod info;
pub mod maint;

pub use info::Info;

use serde::Serialize;

/// The version of the libpod-compatible REST API vaina will serve.
pub const API_VERSION: &str = "4.3.1";

/// Podman's `version` record, with the Rust compiler in place of Go's.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionInfo {
    #[serde(rename = "APIVersion")]
    pub api_version: String,
    pub version: String,
    pub rust_version: String,
    pub git_commit: String,
    pub built_time: String,
    pub built: i64,
    pub os_arch: String,
    pub os: String,
}

/// The version of this build.
pub fn version_info() -> VersionInfo {
    let built: i64 = env!("VAINA_BUILT").parse().unwrap_or(0);
    let built_time = chrono::DateTime::from_timestamp(built, 0)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%a %b %e %H:%M:%S %Y")
                .to_string()
        })
        .unwrap_or_default();
    VersionInfo {
        api_version: API_VERSION.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        rust_version: env!("VAINA_RUSTC_VERSION").into(),
        git_commit: String::new(),
        built_time,
        built,
        os_arch: format!("{}/{}", std::env::consts::OS, host::go_arch()),
        os: std::env::consts::OS.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_fields() {
        let v = version_info();
        assert_eq!(v.version, env!("CARGO_PKG_VERSION"));
        assert!(v.rust_version.starts_with("rust1."), "{}", v.rust_version);
        assert_eq!(v.os_arch, format!("linux/{}", host::go_arch()));
        let j = serde_json::to_value(&v).unwrap();
        assert!(
            j.get("APIVersion").is_some() && j.get("OsArch").is_some(),
            "{j}"
        );
    }
}
