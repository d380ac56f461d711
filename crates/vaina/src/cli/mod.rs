//! Command-line definitions: global flags and the command tree, one file per command group.
//!
//! Each group (`system`, `image`, `registry`, `container`) defines its own clap `Subcommand`
//! enum, flattened into [`Command`], and the glue that calls libvaina and prints the result.

pub mod container;
pub mod container_flags;
pub mod container_fs;
pub mod human;
pub mod image;
pub mod image_archive;
pub mod image_import;
pub mod image_inspect;
pub mod image_list;
pub mod image_rm;
pub mod network;
pub mod output;
pub mod pod;
pub mod pod_show;
pub mod progress;
pub mod registry;
pub mod shortnames;
pub mod system;
pub mod system_maint;
pub mod volume;
pub mod yaml;

use clap::{Args, Parser, Subcommand};
use libvaina::{Engine, EngineOptions};
use std::ffi::OsString;
use std::path::PathBuf;

/// Result of a command: the process exit code (0 unless the command says otherwise).
pub type CmdResult = anyhow::Result<i32>;

/// An error that carries a specific exit code (for example a container's own status).
#[derive(Debug)]
pub struct ExitStatus(pub i32);

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for ExitStatus {}

#[derive(Debug, Parser)]
#[command(
    name = "vaina",
    version = concat!("version ", env!("CARGO_PKG_VERSION")),
    about = "Manage pods, containers and images (a daemonless, Podman-compatible engine)",
    disable_help_subcommand = true,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

/// Podman's global flags.
#[derive(Debug, Args, Clone)]
pub struct GlobalOpts {
    /// Path to the graph root directory where images, containers, etc. are stored
    #[arg(long, global = true, value_name = "PATH")]
    pub root: Option<PathBuf>,
    /// Path to the 'run directory' where all state information is stored
    #[arg(long, global = true, value_name = "PATH")]
    pub runroot: Option<PathBuf>,
    /// Select which storage driver is used to manage storage of images and containers
    #[arg(long, global = true, value_name = "DRIVER")]
    pub storage_driver: Option<String>,
    /// Log messages above specified level (trace, debug, info, warn, error, fatal, panic)
    #[arg(long, global = true, default_value = "warn", value_name = "LEVEL")]
    pub log_level: String,
    /// Path to the OCI-compatible binary used to run containers
    #[arg(long, global = true, value_name = "PATH")]
    pub runtime: Option<String>,
    /// Cgroup manager to use ("cgroupfs"|"systemd")
    #[arg(long, global = true, value_name = "MANAGER")]
    pub cgroup_manager: Option<String>,
    /// Path to the tmp directory for libpod state content
    #[arg(long, global = true, value_name = "PATH")]
    pub tmpdir: Option<PathBuf>,
    /// Events backend to use ("file"|"journald"|"none")
    #[arg(long, global = true, value_name = "BACKEND")]
    pub events_backend: Option<String>,
}

impl GlobalOpts {
    /// Builds the engine for this invocation.
    pub fn engine(&self) -> anyhow::Result<Engine> {
        Ok(Engine::new(EngineOptions {
            root: self.root.clone(),
            runroot: self.runroot.clone(),
            tmpdir: self.tmpdir.clone(),
            storage_driver: self.storage_driver.clone(),
            runtime: self.runtime.clone(),
            cgroup_manager: self.cgroup_manager.clone(),
            events_backend: self.events_backend.clone(),
        })?)
    }
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    #[command(flatten)]
    System(system::SystemCommand),
    #[command(flatten)]
    Image(image::ImageCommand),
    #[command(flatten)]
    Registry(registry::RegistryCommand),
    #[command(flatten)]
    Container(container::ContainerCommand),
    #[command(flatten)]
    Network(network::NetworkCommand),
    #[command(flatten)]
    ContainerFs(container_fs::FsCommand),
    #[command(flatten)]
    Volume(volume::VolumeCommand),
    #[command(flatten)]
    Pod(pod::PodCommand),
}

/// Dispatches a parsed command line.
pub fn run(cli: Cli) -> CmdResult {
    let g = &cli.global;
    match cli.command {
        Command::System(c) => system::run(g, c),
        Command::Image(c) => image::run(g, c),
        Command::Registry(c) => registry::run(g, c),
        Command::Container(c) => container::run(g, c),
        Command::Network(c) => network::run(g, c),
        Command::ContainerFs(c) => container_fs::run(g, c),
        Command::Volume(c) => volume::run(g, c),
        Command::Pod(c) => pod::run(g, c),
    }
}

/// Hook to rewrite argv before clap sees it (kept for Podman quirks such as `-v` on
/// `vaina -v` meaning `--version`).
pub fn normalize_args(args: impl Iterator<Item = OsString>) -> Vec<OsString> {
    let mut v: Vec<OsString> = args.collect();
    if v.len() == 2 && v[1] == "-v" {
        v[1] = "--version".into();
    }
    v
}

pub fn restore_sigpipe() {
    // SAFETY: resetting SIGPIPE to its default disposition at start-up, before any thread runs.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// A minimal stderr logger honouring `--log-level`.
pub fn init_logging(g: &GlobalOpts) {
    let level = match g.log_level.to_ascii_lowercase().as_str() {
        "trace" => log::LevelFilter::Trace,
        "debug" => log::LevelFilter::Debug,
        "info" => log::LevelFilter::Info,
        "warn" | "warning" => log::LevelFilter::Warn,
        _ => log::LevelFilter::Error,
    };
    static LOGGER: StderrLogger = StderrLogger;
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            let lvl = match r.level() {
                log::Level::Error => "error",
                log::Level::Warn => "warning",
                log::Level::Info => "info",
                log::Level::Debug => "debug",
                log::Level::Trace => "trace",
            };
            eprintln!(
                "time=\"{}\" level={} msg={:?}",
                chrono::Local::now().format("%Y-%m-%dT%H:%M:%S%:z"),
                lvl,
                r.args().to_string()
            );
        }
    }
    fn flush(&self) {}
}
