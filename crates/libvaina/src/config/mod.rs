//! Configuration: containers.conf, registries.conf (+ `.d` drop-ins), policy.json, auth.json,
//! with Podman's precedence and environment overrides, and the per-user default paths.
//!
//! [`crate::engine::Engine`] loads this once per command; [`crate::reference`] uses the
//! registries configuration for short-name resolution and [`crate::registry`] for mirrors,
//! insecure registries and credentials.

use std::path::PathBuf;

/// Errors reading or validating configuration files.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// Whether the engine runs for root or for an unprivileged user; decides default paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Rootful,
    Rootless,
}

impl Mode {
    /// The mode of the calling process (effective UID 0 is rootful).
    pub fn current() -> Self {
        if nix::unistd::geteuid().is_root() {
            Mode::Rootful
        } else {
            Mode::Rootless
        }
    }
}

/// Default graph root and run root for `mode`: rootful `/var/lib/vaina` and `/run/vaina`;
/// rootless `$XDG_DATA_HOME/vaina` and `$XDG_RUNTIME_DIR/vaina` (with the usual fallbacks).
pub fn default_store_paths(mode: Mode) -> (PathBuf, PathBuf) {
    match mode {
        Mode::Rootful => (PathBuf::from("/var/lib/vaina"), PathBuf::from("/run/vaina")),
        Mode::Rootless => {
            let uid = nix::unistd::geteuid().as_raw();
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/tmp"));
            let data = std::env::var_os("XDG_DATA_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".local/share"));
            let run = std::env::var_os("XDG_RUNTIME_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| std::env::temp_dir().join(format!("vaina-run-{uid}")));
            (data.join("vaina"), run.join("vaina"))
        }
    }
}
