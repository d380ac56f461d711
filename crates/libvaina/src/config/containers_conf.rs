//! containers.conf: engine-wide defaults for containers (`[containers]`), the engine
//! (`[engine]`) and networks (`[network]`), read with Podman's precedence.
//!
//! Files, in order, each overriding the keys it sets (tables merge key by key, arrays and
//! values replace): `/usr/share/containers/containers.conf`, its `.d` directory,
//! `/etc/containers/containers.conf`, `/etc/containers/containers.conf.d/*.conf`, and for a
//! rootless user `$XDG_CONFIG_HOME/containers/containers.conf` and its `.d` directory.
//! `CONTAINERS_CONF` replaces all of them with one file; `CONTAINERS_CONF_OVERRIDE` is read
//! last, on top. Keys vaina does not use are ignored; a file that is not valid TOML, or sets a
//! known key to the wrong type, is a one-line error naming the file. Unset keys are `None`;
//! the accessors return Podman's defaults. Flags override everything here (the CLI merges).

use super::{
    drop_in_files, parse_toml, read_optional, toml_message, ConfigError, Env, FileKind, Mode,
    ProcessEnv,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Podman's default capability set (containers.conf `default_capabilities`).
pub const DEFAULT_CAPABILITIES: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Podman's default environment of a container.
pub const DEFAULT_ENV: &[&str] = &[
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TERM=xterm",
];

/// The merged containers.conf.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainersConf {
    pub containers: ContainersSection,
    pub engine: EngineSection,
    pub network: NetworkSection,
    /// The files read, in order.
    #[serde(skip)]
    pub files: Vec<PathBuf>,
}

/// `[containers]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainersSection {
    pub annotations: Option<Vec<String>>,
    pub apparmor_profile: Option<String>,
    pub cgroupns: Option<String>,
    pub cgroups: Option<String>,
    pub default_capabilities: Option<Vec<String>>,
    pub default_sysctls: Option<Vec<String>>,
    pub default_ulimits: Option<Vec<String>>,
    pub devices: Option<Vec<String>>,
    pub dns_options: Option<Vec<String>>,
    pub dns_searches: Option<Vec<String>>,
    pub dns_servers: Option<Vec<String>>,
    pub env: Option<Vec<String>>,
    pub env_host: Option<bool>,
    pub http_proxy: Option<bool>,
    pub init: Option<bool>,
    pub init_path: Option<String>,
    pub ipcns: Option<String>,
    pub label: Option<bool>,
    pub log_driver: Option<String>,
    pub log_size_max: Option<i64>,
    pub log_tag: Option<String>,
    pub netns: Option<String>,
    pub no_hosts: Option<bool>,
    pub pidns: Option<String>,
    pub pids_limit: Option<i64>,
    pub read_only: Option<bool>,
    pub seccomp_profile: Option<String>,
    pub shm_size: Option<String>,
    pub tz: Option<String>,
    pub umask: Option<String>,
    pub userns: Option<String>,
    pub utsns: Option<String>,
    pub volumes: Option<Vec<String>>,
}

/// `[engine]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineSection {
    pub cgroup_manager: Option<String>,
    pub compression_format: Option<String>,
    pub env: Option<Vec<String>>,
    pub events_logger: Option<String>,
    pub helper_binaries_dir: Option<Vec<String>>,
    pub image_default_transport: Option<String>,
    pub image_parallel_copies: Option<u32>,
    pub infra_command: Option<String>,
    pub infra_image: Option<String>,
    pub pull_policy: Option<String>,
    pub runtime: Option<String>,
    /// Runtime name → candidate paths of its binary.
    pub runtimes: Option<BTreeMap<String, Vec<String>>>,
    pub static_dir: Option<String>,
    pub stop_timeout: Option<u64>,
    pub tmp_dir: Option<String>,
    pub volume_path: Option<String>,
}

/// `[network]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkSection {
    pub default_network: Option<String>,
    pub default_subnet: Option<String>,
    pub default_subnet_pools: Option<Vec<toml::Table>>,
    pub dns_bind_port: Option<u16>,
    pub network_backend: Option<String>,
    pub network_config_dir: Option<String>,
}

impl ContainersConf {
    /// The files to read for `mode`, in order (see the module documentation). An error when
    /// `CONTAINERS_CONF` names a file that does not exist.
    pub fn paths(mode: Mode) -> Result<Vec<PathBuf>, ConfigError> {
        Self::paths_in(mode, &ProcessEnv, Path::new("/"))
    }

    /// [`ContainersConf::paths`] with the system files under `sysroot` (`/` in production).
    pub(crate) fn paths_in(
        mode: Mode,
        env: &dyn Env,
        sysroot: &Path,
    ) -> Result<Vec<PathBuf>, ConfigError> {
        let mut files = Vec::new();
        if let Some(p) = env.var("CONTAINERS_CONF") {
            if !p.exists() {
                return Err(ConfigError::Invalid(format!(
                    "CONTAINERS_CONF file: stat {}: no such file or directory",
                    p.display()
                )));
            }
            files.push(p);
        } else {
            let mut add_with_dir = |main: PathBuf| -> Result<(), ConfigError> {
                if main.is_file() {
                    files.push(main.clone());
                }
                let mut d = main.into_os_string();
                d.push(".d");
                files.extend(drop_in_files(Path::new(&d))?);
                Ok(())
            };
            add_with_dir(sysroot.join("usr/share/containers/containers.conf"))?;
            add_with_dir(sysroot.join("etc/containers/containers.conf"))?;
            if mode == Mode::Rootless {
                add_with_dir(env.config_home().join("containers/containers.conf"))?;
            }
        }
        if let Some(p) = env.var("CONTAINERS_CONF_OVERRIDE") {
            files.push(p);
        }
        Ok(files)
    }

    /// Loads and merges the files for `mode`.
    pub fn load(mode: Mode) -> Result<ContainersConf, ConfigError> {
        Self::load_files(&Self::paths(mode)?)
    }

    /// Loads and merges `files` in order (a missing file is skipped).
    pub fn load_files(files: &[PathBuf]) -> Result<ContainersConf, ConfigError> {
        let mut merged = toml::Table::new();
        let mut read = Vec::new();
        for f in files {
            let Some(text) = read_optional(f)? else {
                continue;
            };
            let table = parse_toml(FileKind::ContainersConf, f, &text)?;
            // Type-check each file alone so an error names the file that has it.
            ContainersConf::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
                ConfigError::parse(FileKind::ContainersConf, f, toml_message(None, &e))
            })?;
            merge_tables(&mut merged, table);
            read.push(f.clone());
        }
        let mut conf = ContainersConf::deserialize(toml::Value::Table(merged))
            .map_err(|e| ConfigError::Invalid(format!("containers.conf: {}", e.message())))?;
        conf.files = read;
        Ok(conf)
    }

    /// Parses one file's text (for tests and tools).
    pub fn parse(path: &Path, text: &str) -> Result<ContainersConf, ConfigError> {
        let table = parse_toml(FileKind::ContainersConf, path, text)?;
        ContainersConf::deserialize(toml::Value::Table(table))
            .map_err(|e| ConfigError::parse(FileKind::ContainersConf, path, toml_message(None, &e)))
    }

    /// `default_capabilities`, else Podman's set.
    pub fn default_capabilities(&self) -> Vec<String> {
        self.containers
            .default_capabilities
            .clone()
            .unwrap_or_else(|| DEFAULT_CAPABILITIES.iter().map(|s| s.to_string()).collect())
    }

    /// `env`, else Podman's PATH and TERM.
    pub fn env(&self) -> Vec<String> {
        self.containers
            .env
            .clone()
            .unwrap_or_else(|| DEFAULT_ENV.iter().map(|s| s.to_string()).collect())
    }

    /// `default_sysctls`, else `net.ipv4.ping_group_range=0 0`.
    pub fn default_sysctls(&self) -> Vec<String> {
        self.containers
            .default_sysctls
            .clone()
            .unwrap_or_else(|| vec!["net.ipv4.ping_group_range=0 0".into()])
    }

    /// `default_ulimits` (empty when unset).
    pub fn default_ulimits(&self) -> Vec<String> {
        self.containers.default_ulimits.clone().unwrap_or_default()
    }

    /// `pids_limit`, else 2048.
    pub fn pids_limit(&self) -> i64 {
        self.containers.pids_limit.unwrap_or(2048)
    }

    /// `log_driver`, else `k8s-file`.
    pub fn log_driver(&self) -> String {
        self.containers
            .log_driver
            .clone()
            .unwrap_or_else(|| "k8s-file".into())
    }

    /// `log_size_max`, else -1 (unlimited).
    pub fn log_size_max(&self) -> i64 {
        self.containers.log_size_max.unwrap_or(-1)
    }

    /// `shm_size`, else `65536k`.
    pub fn shm_size(&self) -> String {
        self.containers
            .shm_size
            .clone()
            .unwrap_or_else(|| "65536k".into())
    }

    /// `init`, else false.
    pub fn init(&self) -> bool {
        self.containers.init.unwrap_or(false)
    }

    /// `umask`, else `0022`.
    pub fn umask(&self) -> String {
        self.containers
            .umask
            .clone()
            .unwrap_or_else(|| "0022".into())
    }

    /// `label` (SELinux labelling), else true.
    pub fn label(&self) -> bool {
        self.containers.label.unwrap_or(true)
    }

    /// `[engine] stop_timeout`, else 10 seconds.
    pub fn stop_timeout(&self) -> u64 {
        self.engine.stop_timeout.unwrap_or(10)
    }

    /// `[engine] cgroup_manager`, else `systemd` when systemd is PID 1, `cgroupfs` otherwise.
    pub fn cgroup_manager(&self) -> String {
        self.engine.cgroup_manager.clone().unwrap_or_else(|| {
            if Path::new("/run/systemd/system").is_dir() {
                "systemd".into()
            } else {
                "cgroupfs".into()
            }
        })
    }

    /// `[engine] events_logger`, else `file`.
    pub fn events_logger(&self) -> String {
        self.engine
            .events_logger
            .clone()
            .unwrap_or_else(|| "file".into())
    }

    /// `[engine] infra_image`, else Podman's pause image name.
    pub fn infra_image(&self) -> String {
        self.engine
            .infra_image
            .clone()
            .unwrap_or_else(|| "localhost/podman-pause".into())
    }

    /// Candidate paths for runtime `name`: `[engine.runtimes]` entries, else Podman's defaults.
    pub fn runtime_paths(&self, name: &str) -> Vec<String> {
        if let Some(p) = self.engine.runtimes.as_ref().and_then(|m| m.get(name)) {
            return p.clone();
        }
        [
            "/usr/bin",
            "/usr/sbin",
            "/usr/local/bin",
            "/usr/local/sbin",
            "/sbin",
            "/bin",
        ]
        .iter()
        .map(|d| format!("{d}/{name}"))
        .collect()
    }
}

/// Merges `from` into `into`: tables recursively, everything else replaced.
fn merge_tables(into: &mut toml::Table, from: toml::Table) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge_tables(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_in_order() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.conf");
        let b = d.path().join("b.conf");
        std::fs::write(
            &a,
            r#"
[containers]
default_ulimits = ["nofile=1024:2048"]
pids_limit = 100
tz = "UTC"
unknown_key = "ignored"

[engine]
runtime = "crun"
[engine.runtimes]
crun = ["/opt/crun"]

[secrets]
driver = "file"
"#,
        )
        .unwrap();
        std::fs::write(
            &b,
            "[containers]\ndefault_ulimits = []\n[engine.runtimes]\nrunc = [\"/opt/runc\"]\n",
        )
        .unwrap();
        let c =
            ContainersConf::load_files(&[a.clone(), d.path().join("missing"), b.clone()]).unwrap();
        assert_eq!(c.files, [a, b]);
        assert!(c.default_ulimits().is_empty());
        assert_eq!(c.pids_limit(), 100);
        assert_eq!(c.containers.tz.as_deref(), Some("UTC"));
        assert_eq!(c.engine.runtime.as_deref(), Some("crun"));
        assert_eq!(c.runtime_paths("crun"), ["/opt/crun"]);
        assert_eq!(c.runtime_paths("runc"), ["/opt/runc"]);
        assert_eq!(c.runtime_paths("youki")[0], "/usr/bin/youki");
    }

    #[test]
    fn file_precedence() {
        use std::collections::HashMap;
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("sysroot");
        let home = d.path().join("config");
        let touch = |p: PathBuf| {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
            p
        };
        let usr = touch(root.join("usr/share/containers/containers.conf"));
        let etc = touch(root.join("etc/containers/containers.conf"));
        let d2 = touch(root.join("etc/containers/containers.conf.d/20.conf"));
        let d1 = touch(root.join("etc/containers/containers.conf.d/10.conf"));
        let user = touch(home.join("containers/containers.conf"));
        let mut env: HashMap<&str, PathBuf> = HashMap::new();
        env.insert("XDG_CONFIG_HOME", home.clone());
        let rootful = ContainersConf::paths_in(Mode::Rootful, &env, &root).unwrap();
        assert_eq!(rootful, [usr.clone(), etc.clone(), d1.clone(), d2.clone()]);
        let rootless = ContainersConf::paths_in(Mode::Rootless, &env, &root).unwrap();
        assert_eq!(rootless, [usr, etc, d1, d2, user.clone()]);
        env.insert("CONTAINERS_CONF_OVERRIDE", "/o.conf".into());
        env.insert("CONTAINERS_CONF", user.clone());
        let only = ContainersConf::paths_in(Mode::Rootless, &env, &root).unwrap();
        assert_eq!(only, [user, PathBuf::from("/o.conf")]);
        env.insert("CONTAINERS_CONF", d.path().join("missing.conf"));
        assert!(ContainersConf::paths_in(Mode::Rootful, &env, &root).is_err());
    }

    #[test]
    fn defaults() {
        let c = ContainersConf::default();
        assert_eq!(c.default_capabilities().len(), 11);
        assert_eq!(c.pids_limit(), 2048);
        assert_eq!(c.shm_size(), "65536k");
        assert_eq!(c.log_driver(), "k8s-file");
        assert_eq!(c.stop_timeout(), 10);
        assert_eq!(c.umask(), "0022");
        assert!(c.env()[0].starts_with("PATH="));
    }

    #[test]
    fn errors_name_the_file() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("bad.conf");
        for text in ["[containers\n", "[containers]\npids_limit = \"many\"\n"] {
            std::fs::write(&f, text).unwrap();
            let e = ContainersConf::load_files(std::slice::from_ref(&f))
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!("decode configuration {}: toml: ", f.display())),
                "{e}"
            );
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn parses_the_shipped_file() {
        let p = Path::new("/usr/share/containers/containers.conf");
        if let Ok(text) = std::fs::read_to_string(p) {
            ContainersConf::parse(p, &text).unwrap();
        }
    }
}
