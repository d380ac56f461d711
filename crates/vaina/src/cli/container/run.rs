//! `run`, `create`, `start` and `attach`.

use super::attach_io::{self, AttachEnd};
use crate::cli::container_flags::CreateFlags;
use crate::cli::{CmdResult, GlobalOpts};
use anyhow::Context;
use clap::{ArgAction, Args};
use libvaina::container::lifecycle::MonitorWatch;
use libvaina::container::options::{ContainerDefaults, PullPolicy};
use libvaina::Engine;

/// Flags of `run` and `create` (the shared create flags plus the lifecycle ones).
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    #[command(flatten)]
    pub flags: CreateFlags,
    /// Run container in background and print container ID
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long, value_name = "KEYS", default_value = "ctrl-p,ctrl-q")]
    pub detach_keys: String,
    /// Proxy received signals to the process
    #[arg(long, value_name = "BOOL", default_value = "true", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub sig_proxy: bool,
    /// Attach to STDIN, STDOUT or STDERR
    #[arg(short = 'a', long, value_name = "STREAM")]
    pub attach: Vec<String>,
    /// The first argument is not an image but the rootfs to the exploded container
    #[arg(long)]
    pub rootfs: bool,
    /// Suppress output information when pulling images
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Remove image unless used by other containers, implies --rm
    #[arg(long)]
    pub rmi: bool,
    /// Read in a line delimited file of labels
    #[arg(long, value_name = "FILE")]
    pub label_file: Vec<std::path::PathBuf>,
    /// Maximum length of time a container is allowed to run. The container will be killed automatically after the time expires.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub timeout: u64,
    /// Print help
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// The image to run (with --rootfs: the directory to use as the root)
    pub image: String,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// `--pull`: `always` and `newer` pull (a failed `newer` pull keeps a local image), `missing`
/// pulls when the image is not in the store, `never` does not.
fn pull_if_needed(
    engine: &mut Engine,
    image: &str,
    policy: PullPolicy,
    quiet: bool,
) -> anyhow::Result<()> {
    let local = || engine.lookup_image(image).is_ok();
    let wanted = match policy {
        PullPolicy::Never => false,
        PullPolicy::Missing => !local(),
        PullPolicy::Always | PullPolicy::Newer => true,
    };
    if !wanted {
        return Ok(());
    }
    let progress = crate::cli::progress::CopyProgress::new(quiet);
    match engine.pull(
        image,
        &libvaina::registry::PullOptions::default(),
        &progress,
    ) {
        Ok(_) => Ok(()),
        Err(e) if policy == PullPolicy::Newer && engine.lookup_image(image).is_ok() => {
            log::warn!("{e}; using the local image");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Reads `--label-file`: `KEY=VALUE` lines; blank lines, `#` comments and lines without a
/// value are skipped, as Podman does.
fn read_label_file(path: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            _ => e.to_string(),
        };
        anyhow::anyhow!("unable to process labels: open {}: {why}", path.display())
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// Creates the container (honouring `--replace` and `--cidfile`); returns its ID.
fn create_from(
    engine: &mut Engine,
    a: &RunArgs,
) -> anyhow::Result<libvaina::container::ContainerRecord> {
    let defaults = ContainerDefaults::from_conf(engine.containers_conf()?)?;
    let mut opts = a.flags.to_options(a.command.clone(), &defaults)?;
    // `--label-file` first, `--label` wins.
    for f in &a.label_file {
        for (k, v) in read_label_file(f)? {
            opts.labels.entry(k).or_insert(v);
        }
    }
    if a.rmi {
        opts.remove = true;
    }
    if a.rootfs {
        // `DIR:O`: an overlay over the directory (when DIR itself does not end in `:O`).
        let dir = match a.image.strip_suffix(":O") {
            Some(d) if !std::path::Path::new(&a.image).exists() => {
                opts.rootfs_overlay = true;
                d
            }
            _ => a.image.as_str(),
        };
        opts.rootfs = Some(std::path::absolute(dir).unwrap_or_else(|_| dir.into()));
    }
    if let Some(f) = &opts.cidfile {
        if f.exists() {
            anyhow::bail!(
                "container id file exists. Ensure another container is not using it or delete {}",
                f.display()
            );
        }
    }
    if opts.replace {
        if let Some(n) = &opts.name {
            if let Ok(old) = engine.lookup_container(n) {
                if old.name == *n {
                    engine.remove_container(&old.id, true, Some(0))?;
                }
            }
        }
    }
    if !a.rootfs {
        pull_if_needed(engine, &a.image, opts.pull, a.quiet)?;
    }
    if let Some(name) = opts.pod.as_deref().and_then(|p| p.strip_prefix("new:")) {
        if opts.publish_set {
            anyhow::bail!("published ports must be given to `pod create`, not to a container joining a new pod");
        }
        let id = crate::cli::pod::create_for_container(engine, name)?;
        opts.pod = Some(id);
    }
    let mut rec = engine.create_container(&a.image, &opts)?;
    // A detached `--rmi` is done by the monitor; in the foreground `run` does it (and reports
    // what kept the image).
    let remove_image = (a.rmi && a.detach && !a.rootfs).then(|| a.image.clone());
    if a.timeout > 0 || remove_image.is_some() {
        engine.set_container_run_options(&rec.id, a.timeout, remove_image.clone())?;
        rec.config.timeout = (a.timeout > 0).then_some(a.timeout);
        rec.config.remove_image = remove_image;
    }
    if let Some(f) = &opts.cidfile {
        std::fs::write(f, &rec.id).with_context(|| format!("writing {}", f.display()))?;
    }
    Ok(rec)
}

pub fn create(g: &GlobalOpts, a: RunArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let rec = create_from(&mut engine, &a)?;
    println!("{}", rec.id);
    Ok(0)
}

pub fn run(g: &GlobalOpts, a: RunArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let rec = create_from(&mut engine, &a)?;
    let remove = a.flags.rm;
    let started = match engine.start_container(&rec.id, !a.detach) {
        Ok(s) => s,
        Err(e) => {
            if remove {
                let _ = engine.remove_container(&rec.id, true, Some(0));
            }
            return Err(e.into());
        }
    };
    if a.detach {
        // With passthrough our stdout is the container's, so Podman prints no ID there.
        if rec.config.log_driver != libvaina::container::config::LogDriver::Passthrough {
            println!("{}", rec.id);
        }
        return Ok(0);
    }
    let watch = MonitorWatch::open(&engine.container_paths(&rec.id));
    if a.sig_proxy && !a.flags.tty {
        proxy_to(&engine, &rec)?;
    }
    let stream = started.attach.context("attaching to the container")?;
    let stdin = a.flags.interactive
        && (a.attach.is_empty() || a.attach.iter().any(|s| s.eq_ignore_ascii_case("stdin")));
    let end = attach_io::attach(stream, a.flags.tty, stdin, &a.detach_keys)?;
    let code = finish_attach(&mut engine, &rec.id, end, watch)?;
    if a.rmi && !a.rootfs {
        // The container is gone (--rmi implies --rm); the image (by the name given, so one
        // of several tags is only untagged) goes unless others use it.
        let opts = libvaina::image::remove::RemoveOptions::default();
        match engine.remove_images(std::slice::from_ref(&a.image), &opts) {
            Ok(r) => r.errors.iter().for_each(|e| log::error!("{e}")),
            Err(e) => log::error!("{e}"),
        }
    }
    Ok(code)
}

/// Forwards our signals to the container (`--sig-proxy`, on by default without a terminal).
fn proxy_to(engine: &Engine, rec: &libvaina::container::ContainerRecord) -> anyhow::Result<()> {
    let rt = engine
        .container_paths(&rec.id)
        .runtime(&engine.runtime_for(&rec.config)?);
    let id = rec.id.clone();
    attach_io::proxy_signals(move |sig| {
        let _ = rt.kill(&id, sig, false);
    })
}

/// After an attach session: the container's exit code, or 0 after a detach.
fn finish_attach(
    engine: &mut Engine,
    id: &str,
    end: AttachEnd,
    watch: Option<MonitorWatch>,
) -> CmdResult {
    match end {
        AttachEnd::Detached => Ok(0),
        AttachEnd::Exited(code) => {
            // The monitor is done once it sent the code; wait for the process to go too, so
            // nothing outlives `run`.
            if let Some(w) = watch {
                w.wait();
            }
            Ok(code)
        }
        AttachEnd::Lost => {
            let code = engine.wait_container(id).unwrap_or(-1);
            Ok(code)
        }
    }
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Attach container's STDOUT and STDERR
    #[arg(short = 'a', long)]
    pub attach: bool,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Start all containers regardless of their state or configuration
    #[arg(long)]
    pub all: bool,
    /// Override the key sequence for detaching a container
    #[arg(long, value_name = "KEYS", default_value = "ctrl-p,ctrl-q")]
    pub detach_keys: String,
    /// Proxy received signals to the process (default true if attaching, false otherwise)
    #[arg(long, value_name = "BOOL", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub sig_proxy: Option<bool>,
    #[command(flatten)]
    pub pick: super::lifecycle::Pick,
    pub containers: Vec<String>,
}

pub fn start(g: &GlobalOpts, a: StartArgs) -> CmdResult {
    let mut engine = g.engine()?;
    if a.sig_proxy == Some(true) && !a.attach {
        anyhow::bail!("you cannot use sig-proxy without --attach: invalid argument");
    }
    let names: Vec<String> = if a.all {
        engine
            .list_containers()?
            .into_iter()
            .filter(|c| !c.state.is_active())
            .map(|c| c.id)
            .collect()
    } else if a.pick.latest || !a.pick.filter.is_empty() {
        super::lifecycle::targets(&engine, &a.containers, false, &[], &a.pick, |c| {
            !c.state.is_active()
        })?
    } else {
        a.containers.clone()
    };
    if names.is_empty() {
        anyhow::bail!("no containers specified");
    }
    if a.attach {
        if names.len() > 1 {
            anyhow::bail!("you cannot start and attach multiple containers at once");
        }
        let s = engine.start_container(&names[0], true)?;
        let id = s.record.id.clone();
        let watch = MonitorWatch::open(&engine.container_paths(&id));
        if a.sig_proxy.unwrap_or(true) && !s.record.config.tty {
            proxy_to(&engine, &s.record)?;
        }
        let stream = s.attach.context("attaching to the container")?;
        let end = attach_io::attach(stream, s.record.config.tty, a.interactive, &a.detach_keys)?;
        return finish_attach(&mut engine, &id, end, watch);
    }
    let mut last_err = None;
    for n in &names {
        match engine.start_container(n, false) {
            Ok(_) => println!("{n}"),
            Err(e) => {
                if let Some(prev) = last_err.replace(e) {
                    eprintln!("Error: {prev}");
                }
            }
        }
    }
    match last_err {
        Some(e) => Err(e.into()),
        None => Ok(0),
    }
}

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Do not attach STDIN. The default is false
    #[arg(long)]
    pub no_stdin: bool,
    /// Override the key sequence for detaching a container
    #[arg(long, value_name = "KEYS", default_value = "ctrl-p,ctrl-q")]
    pub detach_keys: String,
    /// Proxy received signals to the process
    #[arg(long, default_value = "true", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub sig_proxy: bool,
    #[command(flatten)]
    pub latest: super::lifecycle::Latest,
    pub container: Option<String>,
}

pub fn attach(g: &GlobalOpts, a: AttachArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let target = super::lifecycle::one_target(&engine, a.latest.latest, a.container.as_deref())?;
    let rec = engine.lookup_container(&target)?;
    if rec.state != libvaina::container::ContainerState::Running {
        anyhow::bail!("you can only attach to running containers");
    }
    let paths = engine.container_paths(&rec.id);
    let watch = MonitorWatch::open(&paths);
    if a.sig_proxy && !rec.config.tty {
        proxy_to(&engine, &rec)?;
    }
    let stream = libvaina::container::attach::connect(&paths)
        .with_context(|| format!("attaching to container {}", rec.id))?;
    let stdin = !a.no_stdin && rec.config.interactive;
    let end = attach_io::attach(stream, rec.config.tty, stdin, &a.detach_keys)?;
    finish_attach(&mut engine, &rec.id, end, watch)
}
