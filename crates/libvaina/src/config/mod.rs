//! Configuration: containers.conf, registries.conf (+ `.d` drop-ins), policy.json, auth.json,
//! with Podman's precedence and environment overrides, and the per-user default paths.
//!
//! Each file has its own module ([`containers_conf`], [`registries`], [`policy`], [`auth`]);
//! this one holds the shared error type, the rootful/rootless [`Mode`], the default store
//! paths and small file helpers. [`crate::engine::Engine`] loads each file lazily, once per
//! command ([`engine_config`]); [`crate::reference`] uses the registries configuration for
//! short-name resolution and [`crate::registry`] for mirrors, insecure registries and
//! credentials.

pub mod auth;
pub mod containers_conf;
pub mod engine_config;
pub mod policy;
pub mod registries;

pub use auth::AuthFile;
pub use containers_conf::ContainersConf;
pub use engine_config::ConfigCache;
pub use policy::Policy;
pub use registries::{PullSource, RegistriesConf, ShortNameMode};

use std::path::{Path, PathBuf};

/// Errors reading or validating configuration files.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The message already includes the cause (Go's wording), so it is not chained again.
    #[error("{}", io_message(path, error))]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A file that is not valid TOML/JSON, or has a wrong key or value.
    #[error("{}: {message}", kind.describe(path))]
    Parse {
        kind: FileKind,
        path: PathBuf,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
    /// The reference's registry is `blocked = true` in registries.conf.
    #[error(
        "initializing source docker://{reference}: registry {registry} is blocked in {origin}"
    )]
    Blocked {
        reference: String,
        registry: String,
        origin: String,
    },
    /// policy.json refuses the image.
    #[error("Source image rejected: Running image {image} is rejected by policy.")]
    Rejected { image: String },
    /// A policy.json requirement vaina does not implement (signature verification).
    #[error("{0}")]
    Unsupported(String),
    /// A short name with neither an alias nor any unqualified-search registry.
    #[error("short-name {name:?} did not resolve to an alias and no unqualified-search registries are defined in {origin:?}")]
    NoSearchRegistries { name: String, origin: String },
    /// Enforcing short-name mode, several candidates and nobody to ask.
    #[error("short-name resolution enforced but cannot prompt without a TTY")]
    CannotPrompt,
}

impl ConfigError {
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        ConfigError::Io {
            path: path.as_ref().to_path_buf(),
            error: source,
        }
    }

    pub fn parse(kind: FileKind, path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        ConfigError::Parse {
            kind,
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }
}

/// Which kind of file a parse error is about; decides Podman's wording of the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    ContainersConf,
    RegistriesConf,
    AliasCache,
    AuthFile,
}

impl FileKind {
    fn describe(self, path: &Path) -> String {
        let quoted = format!("{:?}", path.display().to_string());
        match self {
            FileKind::ContainersConf => format!("decode configuration {}", path.display()),
            FileKind::RegistriesConf => format!("loading registries configuration {quoted}"),
            FileKind::AliasCache => format!("loading short-name aliases file {quoted}"),
            FileKind::AuthFile => format!("unmarshaling JSON at {quoted}"),
        }
    }
}

/// `open PATH: no such file or directory`, the way Go (and so Podman) words I/O errors.
fn io_message(path: &Path, e: &std::io::Error) -> String {
    let text = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string();
            let s = match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            };
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().chain(c).collect(),
                None => s,
            }
        }
    };
    format!("open {}: {text}", path.display())
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
            let data = env_path("XDG_DATA_HOME").unwrap_or_else(|| home_dir().join(".local/share"));
            let run = env_path("XDG_RUNTIME_DIR")
                .unwrap_or_else(|| std::env::temp_dir().join(format!("vaina-run-{uid}")));
            (data.join("vaina"), run.join("vaina"))
        }
    }
}

/// Where configuration lookups read environment variables: the process ([`ProcessEnv`]), or
/// a map in unit tests, so precedence rules are tested without touching the real environment.
pub(crate) trait Env {
    /// A non-empty variable as a path.
    fn var(&self, name: &str) -> Option<PathBuf>;

    /// `$HOME`, or `/`.
    fn home(&self) -> PathBuf {
        self.var("HOME").unwrap_or_else(|| PathBuf::from("/"))
    }

    /// `$XDG_CONFIG_HOME`, else `$HOME/.config`.
    fn config_home(&self) -> PathBuf {
        self.var("XDG_CONFIG_HOME")
            .unwrap_or_else(|| self.home().join(".config"))
    }
}

/// The process environment.
pub(crate) struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<PathBuf> {
        env_path(name)
    }
}

#[cfg(test)]
impl Env for std::collections::HashMap<&str, PathBuf> {
    fn var(&self, name: &str) -> Option<PathBuf> {
        self.get(name).cloned()
    }
}

/// A non-empty environment variable as a path.
pub(crate) fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `$HOME`, or `/` when unset.
pub(crate) fn home_dir() -> PathBuf {
    ProcessEnv.home()
}

/// Reads a whole configuration file; `Ok(None)` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ConfigError::io(path, e)),
    }
}

/// The `*.conf` files of a drop-in directory, sorted by name; none when it does not exist.
pub(crate) fn drop_in_files(dir: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => return Ok(Vec::new()),
        Err(e) => return Err(ConfigError::io(dir, e)),
    };
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "conf") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Parses TOML text into a table, with a one-line error naming the file and the line.
pub(crate) fn parse_toml(
    kind: FileKind,
    path: &Path,
    text: &str,
) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>()
        .map_err(|e| ConfigError::parse(kind, path, toml_message(Some(text), &e)))
}

/// `toml: line N: message` for a TOML error (the crate's own rendering spans several lines).
pub(crate) fn toml_message(text: Option<&str>, e: &toml::de::Error) -> String {
    let msg = e.message().trim().replace('\n', " ");
    match (text, e.span()) {
        (Some(text), Some(span)) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("toml: line {line}: {msg}")
        }
        _ => format!("toml: {msg}"),
    }
}

/// Writes `data` to `path` atomically (temp file in the same directory, fsync, rename) with
/// the permission bits `mode`, creating the parent directory when missing.
pub(crate) fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<(), ConfigError> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| ConfigError::io(dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(|e| ConfigError::io(dir, e))?;
    tmp.write_all(data)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| ConfigError::io(path, e))?;
    tmp.persist(path)
        .map_err(|e| ConfigError::io(path, e.error))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_like_go() {
        let e = ConfigError::io(
            "/x/policy.json",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(
            e.to_string(),
            "open /x/policy.json: no such file or directory"
        );
    }

    #[test]
    fn toml_errors_are_one_line() {
        let text = "a = 1\nb = [\n";
        let e = parse_toml(FileKind::ContainersConf, Path::new("/c.conf"), text)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("decode configuration /c.conf: toml: line 3: "),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn atomic_write_sets_mode() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/f.json");
        write_atomic(&p, b"{}", 0o600).unwrap();
        let m = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(m, 0o600);
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
    }

    #[test]
    fn drop_ins_sorted() {
        let d = tempfile::tempdir().unwrap();
        for n in ["b.conf", "a.conf", "c.txt"] {
            std::fs::write(d.path().join(n), "").unwrap();
        }
        let f = drop_in_files(d.path()).unwrap();
        let names: Vec<_> = f
            .iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["a.conf", "b.conf"]);
        assert!(drop_in_files(&d.path().join("none")).unwrap().is_empty());
    }
}
