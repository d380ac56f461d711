//! Volumes: named and anonymous volumes with the `local` driver, as Podman keeps them.
//!
//! A volume is a record in the state database ([`SCHEMA`], [`record`]) and a directory
//! `<root>/volumes/<name>/_data` that containers bind-mount. Volumes created with
//! `-o type=,device=,o=` are mount-backed: their device is mounted on `_data` when a container
//! using them starts and unmounted after the last user stops ([`attach`]). The user-facing
//! operations (`volume create/ls/inspect/rm/prune/exists`) are in [`ops`], `export`/`import`
//! in [`archive`]; the link with containers (which volumes a container uses, copy-up of the
//! image's content, anonymous volumes) is in [`attach`].

pub mod archive;
pub mod attach;
pub mod ops;
pub mod record;

pub use attach::{
    attach_for_container, mount_for_container, release_for_container, unmount_for_container,
};
pub use ops::{CreateOptions, Volume};

use std::path::PathBuf;

/// Tables owned by the volume module. `volume_users` links a volume to the containers that
/// use it; rows of containers that no longer exist are ignored (and swept on release).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS volumes (
    name TEXT PRIMARY KEY,
    driver TEXT NOT NULL,
    created INTEGER NOT NULL,
    labels TEXT NOT NULL,
    options TEXT NOT NULL,
    anonymous INTEGER NOT NULL DEFAULT 0,
    needs_copy_up INTEGER NOT NULL DEFAULT 1,
    mount_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS volume_users (
    volume TEXT NOT NULL,
    container TEXT NOT NULL,
    PRIMARY KEY (volume, container)
);
CREATE TABLE IF NOT EXISTS container_mounts (
    container TEXT PRIMARY KEY,
    mounts TEXT NOT NULL
);
";

/// Errors of volume operations, with Podman's wording.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("running volume create option: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument")]
    InvalidName(String),
    #[error("volume with name {0} already exists: volume already exists")]
    Exists(String),
    #[error("no volume with name {0:?} found: no such volume")]
    NotFound(String),
    /// `volume rm` of a volume that containers use, without `--force` (Podman exits 2).
    #[error("volume {name} is being used by the following container(s): {}: volume is being used", containers.join(", "))]
    InUse {
        name: String,
        containers: Vec<String>,
    },
    #[error("invalid mount option {0} for driver 'local': invalid argument")]
    InvalidOption(String),
    #[error(
        "volume options size and inodes not supported. Filesystem does not support Project Quota"
    )]
    QuotaUnsupported,
    #[error("volume {name} uses volume plugin {driver} but it could not be retrieved: no volume plugin with name {driver} available: required plugin missing")]
    NoPlugin { name: String, driver: String },
    /// A mount or unmount of a mount-backed volume failed.
    #[error("{what} volume {name} at {}: {source}", path.display())]
    Mount {
        what: &'static str,
        name: String,
        path: PathBuf,
        #[source]
        source: nix::Error,
    },
    /// A bad `-v`/`--mount`/`--tmpfs`/`--volumes-from` value or unusable source.
    #[error("{0}")]
    Invalid(String),
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
}

impl VolumeError {
    /// Podman's exit code: 2 for a volume in use, 1 for `rm` of a missing volume is decided
    /// by the CLI; everything else 125.
    pub fn exit_code(&self) -> i32 {
        match self {
            VolumeError::InUse { .. } => 2,
            _ => 125,
        }
    }
}

/// Whether `name` is a valid volume name (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`).
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A fresh 64-hex name for a volume created without one (and for anonymous volumes).
pub fn generate_name() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "my_vol.1-x", "0abc"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "-a", ".a", "a b", "a/b", "a:b", "_x"] {
            assert!(!valid_name(bad), "{bad}");
        }
        let g = generate_name();
        assert_eq!(g.len(), 64);
        assert!(valid_name(&g));
    }
}
