//! The flags shared by `create` and `run` (Podman's names), and their conversion into
//! libvaina's validated [`CreateOptions`] merged with containers.conf defaults.
//!
//! Values stay strings here and are parsed by `libvaina::container::options::parse`, so that
//! bad values get Podman's messages rather than clap's. The command that flattens
//! [`CreateFlags`] must set `disable_help_flag`: `-h` is `--hostname`, as in Podman.

use clap::{ArgAction, Args};
use libvaina::container::options::{
    parse, ContainerDefaults, CreateOptions, NamespaceMode, NamespaceOptions, RestartPolicy,
    SeccompPolicy,
};
use std::path::PathBuf;

#[derive(Debug, Args, Clone, Default)]
pub struct CreateFlags {
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables in container
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Use all current host environment variables in container
    #[arg(long)]
    pub env_host: bool,
    /// Unset environment default variables in container
    #[arg(long, value_name = "NAME")]
    pub unsetenv: Vec<String>,
    /// Unset all default environment variables in container
    #[arg(long)]
    pub unsetenv_all: bool,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long, allow_hyphen_values = true)]
    pub entrypoint: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Add additional groups to the primary container process
    #[arg(long = "group-add", value_name = "GROUP")]
    pub group_add: Vec<String>,
    /// Set container hostname
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Allocate a pseudo-TTY for container
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Make STDIN available to the contained process
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Remove container and any anonymous unnamed volume associated with the container after exit
    #[arg(long)]
    pub rm: bool,
    /// Set metadata on container
    #[arg(short = 'l', long = "label", value_name = "LABEL")]
    pub label: Vec<String>,
    /// Add annotations to container (key=value)
    #[arg(long = "annotation", value_name = "ANNOTATION")]
    pub annotation: Vec<String>,
    /// Give extended privileges to container
    #[arg(long)]
    pub privileged: bool,
    /// Add capabilities to the container
    #[arg(long = "cap-add", value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop capabilities from the container
    #[arg(long = "cap-drop", value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// Security Options
    #[arg(long = "security-opt", value_name = "OPT")]
    pub security_opt: Vec<String>,
    /// Make containers root filesystem read-only
    #[arg(long)]
    pub read_only: bool,
    /// When running --read-only containers mount read-write tmpfs on /dev, /dev/shm, /run, /tmp and /var/tmp
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set)]
    pub read_only_tmpfs: Option<bool>,
    /// Sysctl options
    #[arg(long, value_name = "SYSCTL")]
    pub sysctl: Vec<String>,
    /// Add a host device to the container
    #[arg(long, value_name = "DEVICE")]
    pub device: Vec<String>,
    /// PID namespace to use
    #[arg(long)]
    pub pid: Option<String>,
    /// IPC namespace to use
    #[arg(long)]
    pub ipc: Option<String>,
    /// UTS namespace to use
    #[arg(long)]
    pub uts: Option<String>,
    /// Connect a container to a network
    #[arg(long, alias = "net", value_name = "NETWORK")]
    pub network: Vec<String>,
    /// Run container in an existing pod (`new:NAME` creates the pod first)
    #[arg(long, value_name = "POD")]
    pub pod: Option<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias", value_name = "ALIAS")]
    pub network_alias: Vec<String>,
    /// Specify a static IPv4 address for the container
    #[arg(long)]
    pub ip: Option<String>,
    /// Specify a static IPv6 address for the container
    #[arg(long)]
    pub ip6: Option<String>,
    /// Container MAC address (e.g. 92:d0:c6:0a:29:33)
    #[arg(long = "mac-address")]
    pub mac_address: Option<String>,
    /// Publish a container's port, or a range of ports, to the host (default [])
    #[arg(short = 'p', long = "publish", value_name = "PUBLISH")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports on the host interface
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Expose a port or a range of ports
    #[arg(long, value_name = "PORT")]
    pub expose: Vec<String>,
    /// Set custom DNS servers
    #[arg(long, value_name = "IP")]
    pub dns: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long = "dns-search", value_name = "DOMAIN")]
    pub dns_search: Vec<String>,
    /// Set custom DNS options
    #[arg(long = "dns-option", alias = "dns-opt", value_name = "OPTION")]
    pub dns_option: Vec<String>,
    /// Add a custom host-to-IP mapping (host:ip) (default [])
    #[arg(long = "add-host", value_name = "HOST:IP")]
    pub add_host: Vec<String>,
    /// Do not create /etc/hosts within the container, instead use the version from the image
    #[arg(long = "no-hosts")]
    pub no_hosts: bool,
    /// Run an init binary inside the container that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,
    /// Path to the container-init binary
    #[arg(long, value_name = "PATH")]
    pub init_path: Option<PathBuf>,
    /// Signal to stop a container. Default is SIGTERM
    #[arg(long, value_name = "SIGNAL")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) that containers stopped by user command have to exit. If exceeded, the container will be forcibly stopped via SIGKILL
    #[arg(long, value_name = "SECONDS")]
    pub stop_timeout: Option<String>,
    /// Ulimit options
    #[arg(long, value_name = "ULIMIT")]
    pub ulimit: Vec<String>,
    /// Memory limit (format: <number>[<unit>], where unit = b (bytes), k (kibibytes), m (mebibytes), or g (gibibytes))
    #[arg(short = 'm', long)]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Memory soft limit (format: <number>[<unit>], where unit = b (bytes), k (kibibytes), m (mebibytes), or g (gibibytes))
    #[arg(long)]
    pub memory_reservation: Option<String>,
    /// Number of CPUs. The default is 0.000 which means no limit
    #[arg(long, allow_hyphen_values = true)]
    pub cpus: Option<String>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long)]
    pub cpu_shares: Option<String>,
    /// Limit the CPU CFS (Completely Fair Scheduler) period
    #[arg(long)]
    pub cpu_period: Option<String>,
    /// Limit the CPU CFS (Completely Fair Scheduler) quota
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_quota: Option<String>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes (MEMs) in which to allow execution (0-3, 0,1). Only effective on NUMA systems.
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<String>,
    /// Block IO weight (relative weight) accepts a weight value between 10 and 1000.
    #[arg(long)]
    pub blkio_weight: Option<String>,
    /// Size of /dev/shm (format: <number>[<unit>], where unit = b (bytes), k (kibibytes), m (mebibytes), or g (gibibytes))
    #[arg(long)]
    pub shm_size: Option<String>,
    /// Optional parent cgroup for the container
    #[arg(long)]
    pub cgroup_parent: Option<String>,
    /// Restart policy to apply when a container exits ("always"|"no"|"never"|"on-failure"|"unless-stopped")
    #[arg(long)]
    pub restart: Option<String>,
    /// Logging driver for the container
    #[arg(long)]
    pub log_driver: Option<String>,
    /// Logging driver options
    #[arg(long = "log-opt", value_name = "OPT")]
    pub log_opt: Vec<String>,
    /// Write the container ID to the file
    #[arg(long)]
    pub cidfile: Option<PathBuf>,
    /// Pull image policy ("always"|"missing"|"never"|"newer")
    #[arg(long, value_name = "POLICY")]
    pub pull: Option<String>,
    /// If a container with the same name exists, replace it
    #[arg(long)]
    pub replace: bool,
    /// Bind mount a volume into the container
    #[arg(short = 'v', long = "volume", value_name = "VOLUME")]
    pub volume: Vec<String>,
    /// Attach a filesystem mount to the container
    #[arg(long = "mount", value_name = "MOUNT")]
    pub mount: Vec<String>,
    /// Mount a temporary filesystem (tmpfs) into a container
    #[arg(long = "tmpfs", value_name = "TMPFS")]
    pub tmpfs: Vec<String>,
    /// Mount volumes from the specified container(s)
    #[arg(long = "volumes-from", value_name = "CONTAINER[:OPTIONS]")]
    pub volumes_from: Vec<String>,
}

/// The log drivers Podman knows.
const LOG_DRIVERS: [&str; 6] = [
    "k8s-file",
    "json-file",
    "journald",
    "none",
    "passthrough",
    "passthrough-tty",
];

impl CreateFlags {
    /// Validates the flags into engine options over containers.conf's `defaults`; `command`
    /// is what followed the image. Every error has Podman's wording (exit 125).
    pub fn to_options(
        &self,
        command: Vec<String>,
        defaults: &ContainerDefaults,
    ) -> anyhow::Result<CreateOptions> {
        self.to_options_with_host_env(command, defaults, &host_env())
    }

    /// [`Self::to_options`] with an explicit host environment (for `--env-host`, `-e NAME`).
    pub fn to_options_with_host_env(
        &self,
        command: Vec<String>,
        defaults: &ContainerDefaults,
        host_env: &[(String, String)],
    ) -> anyhow::Result<CreateOptions> {
        let mut o = CreateOptions::with_defaults(defaults);
        o.mounts = libvaina::container::options::mounts::user_mounts(
            &self.volume,
            &self.mount,
            &self.tmpfs,
        )?;
        o.volumes_from = self
            .volumes_from
            .iter()
            .map(|v| libvaina::container::options::mounts::volumes_from(v))
            .collect::<Result<_, _>>()?;
        o.name = self.name.clone();
        o.entrypoint = self.entrypoint.as_deref().map(parse::entrypoint);
        o.command = command;
        o.workdir = self.workdir.clone();
        o.user = self.user.clone().filter(|u| !u.is_empty());
        o.group_add = self.group_add.clone();
        o.hostname = self.hostname.clone();
        o.tty = self.tty;
        o.interactive = self.interactive;
        o.remove = self.rm;
        o.replace = self.replace;
        o.cidfile = self.cidfile.clone();

        if self.env_host || defaults.env_host {
            o.env.extend(host_env.iter().cloned());
        }
        for f in &self.env_file {
            o.env.extend(parse::env_file(f, host_env)?);
        }
        for e in &self.env {
            o.env.extend(parse::env_value(e, host_env)?);
        }
        o.unset_env = self.unsetenv.clone();
        o.unset_env_all = self.unsetenv_all;

        for l in &self.label {
            let (k, v) = parse::key_value(l);
            o.labels.insert(k, v);
        }
        for a in &self.annotation {
            match a.split_once('=') {
                Some((k, v)) if !k.is_empty() => {
                    o.annotations.insert(k.to_string(), v.to_string());
                }
                _ => anyhow::bail!("annotations must be formatted KEY=VALUE"),
            }
        }

        let sec = &mut o.security;
        sec.privileged = self.privileged;
        sec.cap_add = self
            .cap_add
            .iter()
            .map(|c| parse::capability(c))
            .collect::<Result<_, _>>()?;
        sec.cap_drop = self
            .cap_drop
            .iter()
            .map(|c| parse::capability(c))
            .collect::<Result<_, _>>()?;
        for s in &self.security_opt {
            match parse::security_opt(s)? {
                parse::SecurityOpt::Seccomp(p) => {
                    if let SeccompPolicy::Profile(path) = &p {
                        if let Err(e) = std::fs::metadata(path) {
                            anyhow::bail!(
                                "opening seccomp profile failed: open {}: {}",
                                path.display(),
                                parse::io_reason(&e)
                            );
                        }
                    }
                    sec.seccomp = p;
                }
                parse::SecurityOpt::NoNewPrivileges(b) => sec.no_new_privileges = b,
                parse::SecurityOpt::LabelDisable => sec.label_disable = true,
                parse::SecurityOpt::Ignored => {}
                parse::SecurityOpt::Mask(p) => sec.mask.extend(p),
                parse::SecurityOpt::Unmask(p) => sec.unmask.extend(p),
            }
        }
        o.read_only = self.read_only || defaults.read_only;
        o.read_only_tmpfs = self.read_only_tmpfs.unwrap_or(true);
        for s in &self.sysctl {
            let (k, v) = parse::sysctl(s)?;
            o.sysctls.insert(k, v);
        }
        o.devices = self
            .device
            .iter()
            .map(|d| parse::device(d))
            .collect::<Result<_, _>>()?;
        o.namespaces = NamespaceOptions {
            pid: parse::namespace(self.pid.as_deref().unwrap_or(""))?,
            ipc: parse::ipc_namespace(self.ipc.as_deref().unwrap_or(""))?,
            uts: parse::namespace(self.uts.as_deref().unwrap_or(""))?,
            net: parse::network(
                self.network_value()?
                    .as_deref()
                    .or(defaults.netns.as_deref())
                    .unwrap_or(""),
            )?,
        };
        self.network_options(&mut o)?;
        o.network.no_hosts |= defaults.no_hosts;
        o.pod = self.pod.clone();
        o.network_set = !self.network.is_empty();
        o.publish_set = !self.publish.is_empty() || self.publish_all;
        if o.hostname.is_some() && o.namespaces.uts == NamespaceMode::Host {
            anyhow::bail!("invalid config provided: cannot set hostname when running in the host UTS namespace: invalid configuration");
        }
        o.init = self.init || defaults.init;
        if let Some(p) = &self.init_path {
            o.init_path = Some(p.clone());
        }
        if let Some(s) = &self.stop_signal {
            o.stop_signal = Some(parse::signal(s)?);
        }
        if let Some(t) = &self.stop_timeout {
            let t = parse::uint_flag("--stop-timeout", t)?;
            o.stop_timeout = u32::try_from(t).unwrap_or(u32::MAX);
        }
        for u in &self.ulimit {
            let u = parse::ulimit(u)?;
            o.ulimits.retain(|x| x.name != u.name);
            o.ulimits.push(u);
        }

        self.resources(&mut o)?;

        if let Some(r) = &self.restart {
            o.restart = parse::restart(r)?;
        }
        if o.remove && o.restart != RestartPolicy::No {
            anyhow::bail!(
                "the --rm option conflicts with --restart, when the restartPolicy is not \"\" and \"no\""
            );
        }
        if let Some(d) = &self.log_driver {
            if !LOG_DRIVERS.contains(&d.as_str()) {
                anyhow::bail!(
                    "running container create option: invalid log driver: invalid argument"
                );
            }
            o.log_driver = d.clone();
        }
        for l in &self.log_opt {
            let (k, v) = parse::key_value(l);
            o.log_opts.insert(k, v);
        }
        if let Some(p) = &self.pull {
            o.pull = parse::pull(p)?;
        }
        Ok(o)
    }

    /// `--network`, given once, or several times with network names only (as Podman).
    fn network_value(&self) -> anyhow::Result<Option<String>> {
        match self.network.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            many => {
                for v in many {
                    if matches!(
                        v.as_str(),
                        "" | "none" | "host" | "private" | "bridge" | "default"
                    ) || v.contains(':')
                    {
                        anyhow::bail!("can only set extra network names, selected mode {v} conflicts with bridge: invalid argument");
                    }
                }
                Ok(Some(many.join(",")))
            }
        }
    }

    /// The network flags (`--network` names, `-p`, `--ip`, `--dns`, `--add-host`, ...).
    fn network_options(&self, o: &mut CreateOptions) -> anyhow::Result<()> {
        use libvaina::container::net;
        let n = &mut o.network;
        if let Some(v) = &self.network_value()? {
            let mode_word = matches!(
                v.as_str(),
                "" | "none" | "host" | "private" | "bridge" | "default"
            ) || v.starts_with("container:")
                || v.starts_with("ns:")
                || v.starts_with("slirp4netns")
                || v.starts_with("pasta");
            if !mode_word {
                n.networks = v
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
            }
        }
        n.aliases = self.network_alias.clone();
        for (flag, v) in [("--ip", &self.ip), ("--ip6", &self.ip6)] {
            let Some(v) = v else { continue };
            let ip: std::net::IpAddr = v
                .parse()
                .map_err(|_| anyhow::anyhow!("{v:?} is not an ip address"))?;
            if (flag == "--ip") != ip.is_ipv4() {
                anyhow::bail!(
                    "{v:?} is not an {} address",
                    if flag == "--ip" { "IPv4" } else { "IPv6" }
                );
            }
            n.static_ips.push(ip);
        }
        n.mac = self
            .mac_address
            .as_deref()
            .map(net::parse_mac)
            .transpose()?;
        for p in &self.publish {
            n.publish.extend(libvaina::network::parse_publish(p)?);
        }
        n.publish_all = self.publish_all;
        n.expose = self
            .expose
            .iter()
            .map(|e| net::parse_expose(e))
            .collect::<Result<_, _>>()?;
        for d in &self.dns {
            if d == "none" {
                continue;
            }
            n.dns_servers.push(
                d.parse()
                    .map_err(|_| anyhow::anyhow!("{d} is not an ip address"))?,
            );
        }
        n.dns_search = self.dns_search.clone();
        n.dns_options = self.dns_option.clone();
        n.add_hosts = self
            .add_host
            .iter()
            .map(|h| net::parse_add_host(h))
            .collect::<Result<_, _>>()?;
        n.no_hosts = self.no_hosts;
        if n.no_hosts && !n.add_hosts.is_empty() {
            anyhow::bail!("--no-hosts and --add-host cannot be set together");
        }
        Ok(())
    }

    /// The cgroup resource flags.
    fn resources(&self, o: &mut CreateOptions) -> anyhow::Result<()> {
        let r = &mut o.resources;
        if let Some(m) = &self.memory {
            r.memory = Some(parse::memory("memory", m)?);
        }
        if let Some(m) = &self.memory_swap {
            r.memory_swap = Some(parse::memory_swap(m)?);
        }
        if let Some(m) = &self.memory_reservation {
            r.memory_reservation = Some(parse::memory("memory-reservation", m)?);
        }
        if let Some(c) = &self.cpu_shares {
            r.cpu_shares = Some(parse::uint_flag("-c, --cpu-shares", c)?);
        }
        if let Some(p) = &self.cpu_period {
            r.cpu_period = Some(parse::uint_flag("--cpu-period", p)?);
        }
        if let Some(q) = &self.cpu_quota {
            r.cpu_quota = Some(parse::int_flag("--cpu-quota", q)?);
        }
        if let Some(c) = &self.cpus {
            if self.cpu_period.is_some() {
                anyhow::bail!("--cpu-period and --cpus cannot be set together");
            }
            if self.cpu_quota.is_some() {
                anyhow::bail!("--cpu-quota and --cpus cannot be set together");
            }
            if let Some(quota) = parse::cpus_quota(c)? {
                r.cpu_quota = Some(quota);
                r.cpu_period = Some(100_000);
            }
        }
        r.cpuset_cpus = self.cpuset_cpus.clone();
        r.cpuset_mems = self.cpuset_mems.clone();
        if let Some(p) = &self.pids_limit {
            let n = parse::int_flag("--pids-limit", p)?;
            r.pids_limit = (n > 0).then_some(n);
        }
        if let Some(w) = &self.blkio_weight {
            r.blkio_weight = parse::blkio_weight(w)?;
        }
        if let Some(s) = &self.shm_size {
            r.shm_size = parse::shm_size(s)?;
        }
        if let Some(p) = &self.cgroup_parent {
            o.cgroup_parent = Some(p.clone());
        }
        libvaina::container::spec::resources::validate(&o.resources)?;
        Ok(())
    }
}

/// The environment of this process (UTF-8 variables only).
fn host_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use libvaina::container::options::{PullPolicy, Ulimit};

    #[derive(Debug, Parser)]
    #[command(disable_help_flag = true)]
    struct Run {
        #[command(flatten)]
        flags: CreateFlags,
        image: String,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    }

    fn opts(args: &[&str]) -> anyhow::Result<CreateOptions> {
        let mut argv = vec!["run"];
        argv.extend_from_slice(args);
        let r = Run::try_parse_from(argv).map_err(|e| anyhow::anyhow!(e.to_string()))?;
        let host = vec![
            ("HOME".to_string(), "/root".to_string()),
            ("FOO".to_string(), "bar".to_string()),
        ];
        r.flags
            .to_options_with_host_env(r.command, &ContainerDefaults::default(), &host)
    }

    fn err(args: &[&str]) -> String {
        format!("{:#}", opts(args).unwrap_err())
    }

    #[test]
    fn defaults_and_basic_flags() {
        let o = opts(&["img"]).unwrap();
        assert_eq!(o.resources.pids_limit, Some(2048));
        assert_eq!(o.resources.shm_size, 64 << 20);
        assert_eq!(o.stop_timeout, 10);
        assert!(o.read_only_tmpfs);
        assert_eq!(o.security.default_capabilities.len(), 11);
        let o = opts(&[
            "-it",
            "--rm",
            "-h",
            "web",
            "-w",
            "/srv",
            "-u",
            "app:users",
            "--name",
            "x",
            "img",
            "sh",
            "-c",
            "echo hi",
        ])
        .unwrap();
        assert!(o.tty && o.interactive && o.remove);
        assert_eq!(o.hostname.as_deref(), Some("web"));
        assert_eq!(o.workdir.as_deref(), Some("/srv"));
        assert_eq!(o.user.as_deref(), Some("app:users"));
        assert_eq!(o.command, ["sh", "-c", "echo hi"]);
        let o = opts(&["--entrypoint", r#"["/bin/echo","a"]"#, "img"]).unwrap();
        assert_eq!(o.entrypoint.unwrap(), ["/bin/echo", "a"]);
        let o = opts(&["--entrypoint=", "img", "echo"]).unwrap();
        assert_eq!(o.entrypoint.unwrap(), Vec::<String>::new());
    }

    #[test]
    fn env_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("env");
        std::fs::write(&f, "A=file\nB=file\n").unwrap();
        let fs = f.to_str().unwrap();
        let o = opts(&[
            "--env-host",
            "--env-file",
            fs,
            "-e",
            "B=flag",
            "-e",
            "FOO",
            "img",
        ])
        .unwrap();
        assert_eq!(o.env["A"], "file");
        assert_eq!(o.env["B"], "flag");
        assert_eq!(o.env["HOME"], "/root");
        assert_eq!(o.env["FOO"], "bar");
        std::fs::write(&f, "ok=1\n=bad\n").unwrap();
        let e = err(&["--env-file", fs, "img"]);
        assert!(e.contains("line 2") && e.contains(fs), "{e}");
        let o = opts(&["--unsetenv", "PATH", "--unsetenv-all", "img"]).unwrap();
        assert!(o.unset_env_all);
        assert_eq!(o.unset_env, ["PATH"]);
    }

    #[test]
    fn security_flags() {
        let o = opts(&[
            "--cap-add",
            "net_admin",
            "--cap-drop",
            "ALL",
            "--privileged",
            "--security-opt",
            "no-new-privileges",
            "--security-opt",
            "label=disable",
            "--security-opt",
            "seccomp=unconfined",
            "--security-opt",
            "unmask=/proc/kcore",
            "--read-only",
            "--read-only-tmpfs=false",
            "img",
        ])
        .unwrap();
        let s = &o.security;
        assert!(s.privileged && s.no_new_privileges && s.label_disable);
        assert_eq!(s.cap_add, ["NET_ADMIN"]);
        assert_eq!(s.cap_drop, ["ALL"]);
        assert_eq!(s.seccomp, SeccompPolicy::Unconfined);
        assert_eq!(s.unmask, ["/proc/kcore"]);
        assert!(o.read_only && !o.read_only_tmpfs);
        assert_eq!(
            err(&["--cap-add", "FOO", "img"]),
            "\"CAP_FOO\": unknown capability"
        );
        assert_eq!(
            err(&["--security-opt", "foo=bar", "img"]),
            "invalid --security-opt 2: \"foo=bar\""
        );
        assert_eq!(
            err(&["--security-opt", "seccomp=/nonexist", "img"]),
            "opening seccomp profile failed: open /nonexist: no such file or directory"
        );
    }

    #[test]
    fn namespaces_devices_sysctls() {
        let o = opts(&[
            "--pid",
            "host",
            "--ipc",
            "container:db",
            "--uts",
            "private",
            "--network",
            "none",
            "--device",
            "/dev/null:/dev/n:r",
            "--sysctl",
            "net.core.somaxconn=1024",
            "img",
        ])
        .unwrap();
        assert_eq!(o.namespaces.pid, NamespaceMode::Host);
        assert_eq!(o.namespaces.ipc, NamespaceMode::Container("db".into()));
        assert_eq!(o.namespaces.net, NamespaceMode::None);
        assert_eq!(o.devices[0].permissions, "r");
        assert_eq!(o.sysctls["net.core.somaxconn"], "1024");
        assert_eq!(
            err(&["--pid", "foo", "img"]),
            "unrecognized namespace mode foo passed"
        );
        assert!(err(&["--uts", "host", "-h", "x", "img"]).contains("cannot set hostname"));
        assert_eq!(
            err(&["--sysctl", "foo", "img"]),
            "foo is invalid, sysctl values must be in the form of KEY=VALUE"
        );
    }

    #[test]
    fn resource_flags() {
        let o = opts(&[
            "-m",
            "64m",
            "--memory-swap",
            "-1",
            "--cpus",
            "0.5",
            "-c",
            "512",
            "--pids-limit",
            "-1",
            "--shm-size",
            "1g",
            "--ulimit",
            "nofile=100:200",
            "img",
        ])
        .unwrap();
        assert_eq!(o.resources.memory, Some(64 << 20));
        assert_eq!(o.resources.memory_swap, Some(-1));
        assert_eq!(o.resources.cpu_quota, Some(50_000));
        assert_eq!(o.resources.cpu_period, Some(100_000));
        assert_eq!(o.resources.cpu_shares, Some(512));
        assert_eq!(o.resources.pids_limit, None);
        assert_eq!(o.resources.shm_size, 1 << 30);
        assert_eq!(o.ulimits, [Ulimit::new("nofile", 100, 200)]);
        assert_eq!(
            err(&["--memory=abc", "img"]),
            "invalid value for memory: invalid size: 'abc'"
        );
        assert!(err(&["--cpus=-1", "img"]).contains("must be a positive number"));
        assert_eq!(
            err(&["-m", "10m", "--memory-swap", "5m", "img"]),
            "minimum memoryswap limit should be larger than memory limit, see usage"
        );
        assert_eq!(
            err(&["--cpus", "1", "--cpu-quota", "5000", "img"]),
            "--cpu-quota and --cpus cannot be set together"
        );
        assert!(err(&["--pids-limit", "abc", "img"]).contains("strconv.ParseInt"));
        assert!(err(&["--ulimit", "foo=1", "img"]).contains("invalid ulimit type: foo"));
    }

    #[test]
    fn lifecycle_flags() {
        let o = opts(&[
            "--restart",
            "on-failure:3",
            "--stop-signal",
            "KILL",
            "--stop-timeout",
            "5",
            "--log-driver",
            "json-file",
            "--log-opt",
            "max-size=1m",
            "--pull",
            "never",
            "--label",
            "a=b",
            "--annotation",
            "c=d",
            "--init",
            "--replace",
            "img",
        ])
        .unwrap();
        assert_eq!(o.restart, RestartPolicy::OnFailure { max_retries: 3 });
        assert_eq!(o.stop_signal, Some(9));
        assert_eq!(o.stop_timeout, 5);
        assert_eq!(o.log_driver, "json-file");
        assert_eq!(o.log_opts["max-size"], "1m");
        assert_eq!(o.pull, PullPolicy::Never);
        assert_eq!(o.labels["a"], "b");
        assert_eq!(o.annotations["c"], "d");
        assert!(o.init && o.replace);
        assert!(err(&["--restart", "sometimes", "img"]).contains("is not a valid restart policy"));
        assert_eq!(
            err(&["--rm", "--restart", "always", "img"]),
            "the --rm option conflicts with --restart, when the restartPolicy is not \"\" and \"no\""
        );
        assert_eq!(
            err(&["--annotation", "foo", "img"]),
            "annotations must be formatted KEY=VALUE"
        );
        assert_eq!(err(&["--stop-signal", "FOO", "img"]), "invalid signal: FOO");
        assert!(err(&["--log-driver", "foo", "img"]).contains("invalid log driver"));
        let o = opts(&[
            "-v",
            "/a:/b:ro",
            "--tmpfs",
            "/t",
            "--volumes-from",
            "c:rw",
            "img",
        ])
        .unwrap();
        assert_eq!(o.mounts.len(), 2);
        assert_eq!(o.volumes_from, [("c".to_string(), Some(false))]);
        assert_eq!(
            err(&["--mount", "type=bind,dst=/x,foo", "img"]),
            "foo: invalid mount option"
        );
    }
}
