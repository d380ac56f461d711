//! `vaina pod ...`: create, start, stop, restart, kill, pause, unpause, rm, exists, prune
//! (this file) and ps, inspect, top, stats, logs (`pod_show.rs`). Thin glue over
//! libvaina's pod operations.

use super::container_flags::CreateFlags;
use super::{CmdResult, GlobalOpts};
use clap::{ArgAction, Args, Parser, Subcommand};
use libvaina::container::options::ContainerDefaults;
use libvaina::pod::ops::{parse_share, PodCreateOptions};
use libvaina::pod::{ExitPolicy, PodConfig, PodError};
use libvaina::Engine;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum PodCommand {
    /// Manage pods
    Pod(PodGroup),
}

#[derive(Debug, Args)]
pub struct PodGroup {
    #[command(subcommand)]
    pub cmd: PodSubcommand,
}

#[derive(Debug, Subcommand)]
pub enum PodSubcommand {
    /// Create a new empty pod
    Create(Box<PodCreateArgs>),
    /// Start one or more pods
    Start(PodTargets),
    /// Stop one or more pods
    Stop(PodStopArgs),
    /// Restart one or more pods
    Restart(PodTargets),
    /// Send the specified signal or SIGKILL to containers in pod
    Kill(PodKillArgs),
    /// Pause one or more pods
    Pause(PodTargets),
    /// Unpause one or more pods
    Unpause(PodTargets),
    /// Remove one or more pods
    Rm(PodRmArgs),
    /// List pods
    #[command(alias = "ls", alias = "list")]
    Ps(super::pod_show::PodPsArgs),
    /// Display a pod configuration
    Inspect(super::pod_show::PodInspectArgs),
    /// Display the running processes of containers in a pod
    Top(super::pod_show::PodTopArgs),
    /// Display a live stream of resource usage statistics for the containers in one or more pods
    Stats(super::pod_show::PodStatsArgs),
    /// Fetch logs for pod with one or more containers
    Logs(super::pod_show::PodLogsArgs),
    /// Check if a pod exists in local storage
    Exists(PodExistsArgs),
    /// Remove all stopped pods and their containers
    Prune(PodPruneArgs),
}

pub fn run(g: &GlobalOpts, c: PodCommand) -> CmdResult {
    let PodCommand::Pod(grp) = c;
    use super::pod_show as show;
    match grp.cmd {
        PodSubcommand::Create(a) => create(g, *a),
        PodSubcommand::Start(a) => each(g, a, |e, n| e.start_pod(n).map(|p| p.id)),
        PodSubcommand::Stop(a) => stop(g, a),
        PodSubcommand::Restart(a) => each(g, a, |e, n| e.restart_pod(n, None).map(|p| p.id)),
        PodSubcommand::Kill(a) => kill(g, a),
        PodSubcommand::Pause(a) => each(g, a, |e, n| e.pause_pod(n).map(|p| p.id)),
        PodSubcommand::Unpause(a) => each(g, a, |e, n| e.unpause_pod(n).map(|p| p.id)),
        PodSubcommand::Rm(a) => rm(g, a),
        PodSubcommand::Ps(a) => show::ps(g, a),
        PodSubcommand::Inspect(a) => show::inspect(g, a),
        PodSubcommand::Top(a) => show::top(g, a),
        PodSubcommand::Stats(a) => show::stats(g, a),
        PodSubcommand::Logs(a) => show::logs(g, a),
        PodSubcommand::Exists(a) => {
            let engine = g.engine()?;
            Ok(if engine.lookup_pod(&a.pod).is_ok() {
                0
            } else {
                1
            })
        }
        PodSubcommand::Prune(a) => prune(g, a),
    }
}

#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct PodCreateArgs {
    /// Assign a name to the pod
    #[arg(short = 'n', long)]
    pub name: Option<String>,
    /// Create an infra container associated with the pod to share namespaces with
    #[arg(long, value_name = "BOOL", default_value = "true", action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub infra: bool,
    /// A comma delimited list of kernel namespaces the pod will share
    #[arg(long, value_name = "NAMESPACES")]
    pub share: Option<String>,
    /// Publish a container's port, or a range of ports, to the host
    #[arg(short = 'p', long)]
    pub publish: Vec<String>,
    /// Connect a container to a network
    #[arg(long, alias = "net", value_name = "NETWORK")]
    pub network: Vec<String>,
    /// Set container hostname
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long)]
    pub add_host: Vec<String>,
    /// Set custom DNS servers
    #[arg(long)]
    pub dns: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long)]
    pub dns_search: Vec<String>,
    /// Set custom DNS options
    #[arg(long)]
    pub dns_option: Vec<String>,
    /// Set metadata on the pod
    #[arg(short = 'l', long)]
    pub label: Vec<String>,
    /// Read in a line delimited file of labels
    #[arg(long, value_name = "FILE")]
    pub label_file: Vec<PathBuf>,
    /// Optional parent cgroup for the containers of the pod
    #[arg(long)]
    pub cgroup_parent: Option<String>,
    /// If a pod with the same name exists, replace it
    #[arg(long)]
    pub replace: bool,
    /// Behaviour when the last container exits
    #[arg(long, default_value = "continue")]
    pub exit_policy: String,
    /// Write the pod ID to the file
    #[arg(long, value_name = "FILE")]
    pub pod_id_file: Option<PathBuf>,
    /// Image to use to override builtin infra container
    #[arg(long, value_name = "IMAGE")]
    pub infra_image: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long, value_name = "COMMAND")]
    pub infra_command: Option<String>,
    /// Assign a name to the container
    #[arg(long, value_name = "NAME")]
    pub infra_name: Option<String>,
    /// Print help
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// The pod's name (as `--name`)
    pub pod_name: Option<String>,
}

/// The infra container's create flags parsed by the same definitions as `create`'s.
#[derive(Debug, Parser)]
#[command(no_binary_name = true, disable_help_flag = true)]
struct InfraFlags {
    #[command(flatten)]
    flags: CreateFlags,
}

fn labels(a: &PodCreateArgs) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    for f in &a.label_file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| anyhow::anyhow!("reading label file {}: {e}", f.display()))?;
        for l in text.lines().map(str::trim) {
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            out.insert(k.to_string(), v.to_string());
        }
    }
    for l in &a.label {
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// The pod's network options as create flags of its infra container.
fn infra_argv(a: &PodCreateArgs) -> Vec<String> {
    let mut v = Vec::new();
    let mut add = |flag: &str, vals: &[String]| {
        for x in vals {
            v.push(format!("{flag}={x}"));
        }
    };
    add("--network", &a.network);
    add("--publish", &a.publish);
    add("--dns", &a.dns);
    add("--dns-search", &a.dns_search);
    add("--dns-option", &a.dns_option);
    add("--add-host", &a.add_host);
    if let Some(h) = &a.hostname {
        v.push(format!("--hostname={h}"));
    }
    v
}

pub fn create(g: &GlobalOpts, a: PodCreateArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let name = match (&a.name, &a.pod_name) {
        (Some(_), Some(_)) => anyhow::bail!("cannot specify both a pod name and --name"),
        (n, p) => n.clone().or_else(|| p.clone()),
    };
    if let (false, Some(s)) = (a.infra, &a.share) {
        anyhow::bail!("cannot set share({s}) namespaces without an infra container");
    }
    let shared = parse_share(a.share.as_deref().unwrap_or("ipc,net,uts"))?;
    if !a.infra {
        if !a.publish.is_empty() {
            anyhow::bail!("you must have an infra container to publish port bindings to the host");
        }
        if !a.network.is_empty()
            || !a.dns.is_empty()
            || !a.dns_search.is_empty()
            || !a.dns_option.is_empty()
            || !a.add_host.is_empty()
        {
            anyhow::bail!("cannot set network options for a pod without an infra container");
        }
    }
    let config = PodConfig {
        labels: labels(&a)?,
        hostname: a.hostname.clone().unwrap_or_default(),
        shared: if a.infra { shared } else { Vec::new() },
        infra: a.infra,
        exit_policy: ExitPolicy::parse(&a.exit_policy)?,
        cgroup_parent: a.cgroup_parent.clone().unwrap_or_default(),
        networks: a.network.clone(),
        publish: a.publish.clone(),
        dns: a.dns.clone(),
        dns_search: a.dns_search.clone(),
        dns_option: a.dns_option.clone(),
        add_host: a.add_host.clone(),
        create_command: std::env::args().collect(),
    };
    let infra = if a.infra {
        let argv = infra_argv(&a);
        let parsed = InfraFlags::try_parse_from(&argv).map_err(|e| {
            let first = e.to_string();
            let first = first
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ");
            anyhow::anyhow!("pod infra container options: {first}")
        })?;
        let defaults = ContainerDefaults::from_conf(engine.containers_conf()?)?;
        let mut o = parsed.flags.to_options(Vec::new(), &defaults)?;
        if let Some(c) = &a.infra_command {
            o.entrypoint = Some(libvaina::container::options::parse::entrypoint(c));
        }
        Some(o)
    } else {
        None
    };
    if a.replace {
        if let Some(n) = &name {
            if let Ok(old) = engine.lookup_pod(n) {
                if old.name == *n {
                    engine.remove_pod(&old.id, true, None)?;
                }
            }
        }
    }
    if !a.infra && (a.infra_image.is_some() || a.infra_command.is_some() || a.infra_name.is_some())
    {
        anyhow::bail!("cannot set infra options (--infra-image, --infra-command, --infra-name) on a pod without an infra container");
    }
    let opts = PodCreateOptions {
        name,
        config,
        infra_image: a.infra_image.clone(),
        infra_name: a.infra_name.clone(),
    };
    let pod = engine.create_pod(&opts, infra)?;
    if let Some(f) = &a.pod_id_file {
        if let Err(e) = std::fs::write(f, &pod.id) {
            let _ = engine.remove_pod(&pod.id, true, Some(0));
            anyhow::bail!("writing pod ID file {}: {e}", f.display());
        }
    }
    println!("{}", pod.id);
    Ok(0)
}

#[derive(Debug, Args)]
pub struct PodTargets {
    /// Act on all pods
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Read the pod ID from the file
    #[arg(long, value_name = "FILE")]
    pub pod_id_file: Vec<PathBuf>,
    pub pods: Vec<String>,
}

/// The pods named, read from `--pod-id-file`s, or all of them.
fn targets(
    engine: &Engine,
    names: &[String],
    all: bool,
    files: &[PathBuf],
) -> anyhow::Result<Vec<String>> {
    let mut v = names.to_vec();
    for f in files {
        let id = std::fs::read_to_string(f)
            .map_err(|e| anyhow::anyhow!("reading pod ID file: {}: {e}", f.display()))?;
        v.push(id.trim().to_string());
    }
    if all {
        v.extend(engine.list_pods()?.into_iter().map(|p| p.id));
    } else if v.is_empty() {
        anyhow::bail!("you must provide at least one name or id");
    }
    Ok(v)
}

fn is_not_found(e: &libvaina::Error) -> bool {
    matches!(e, libvaina::Error::Pod(PodError::NotFound(_)))
}

/// Runs `f` on each pod, printing the ID it returns; earlier errors are printed, the last
/// one is returned.
fn for_each(
    names: Vec<String>,
    ignore_missing: bool,
    mut f: impl FnMut(&str) -> libvaina::Result<String>,
) -> CmdResult {
    let mut last: Option<anyhow::Error> = None;
    for n in &names {
        match f(n) {
            Ok(id) => println!("{id}"),
            Err(e) if ignore_missing && is_not_found(&e) => {}
            Err(e) => {
                if let Some(prev) = last.replace(e.into()) {
                    eprintln!("Error: {prev}");
                }
            }
        }
    }
    match last {
        Some(e) => Err(e),
        None => Ok(0),
    }
}

fn each(
    g: &GlobalOpts,
    a: PodTargets,
    f: impl Fn(&mut Engine, &str) -> libvaina::Result<String>,
) -> CmdResult {
    let mut engine = g.engine()?;
    let names = targets(&engine, &a.pods, a.all, &a.pod_id_file)?;
    for_each(names, false, |n| f(&mut engine, n))
}

#[derive(Debug, Args)]
pub struct PodStopArgs {
    /// Stop all running pods
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Ignore errors when a specified pod is missing
    #[arg(short = 'i', long)]
    pub ignore: bool,
    /// Seconds to wait for pod stop before killing the container
    #[arg(short = 't', long = "time", value_name = "SECONDS")]
    pub time: Option<u64>,
    /// Read the pod ID from the file
    #[arg(long, value_name = "FILE")]
    pub pod_id_file: Vec<PathBuf>,
    pub pods: Vec<String>,
}

fn stop(g: &GlobalOpts, a: PodStopArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let names = targets(&engine, &a.pods, a.all, &a.pod_id_file)?;
    for_each(names, a.ignore, |n| {
        engine.stop_pod(n, a.time).map(|p| p.id)
    })
}

#[derive(Debug, Args)]
pub struct PodKillArgs {
    /// Kill all pods
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Signal to send to the containers in the pod
    #[arg(short = 's', long, default_value = "KILL")]
    pub signal: String,
    pub pods: Vec<String>,
}

fn kill(g: &GlobalOpts, a: PodKillArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let sig = libvaina::container::lifecycle::parse_signal(&a.signal)?;
    let names = targets(&engine, &a.pods, a.all, &[])?;
    for_each(names, false, |n| engine.kill_pod(n, sig).map(|p| p.id))
}

#[derive(Debug, Args)]
pub struct PodRmArgs {
    /// Remove all pods
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Stop running containers and delete all stopped containers before removal of pod
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Ignore errors when a specified pod is missing
    #[arg(short = 'i', long)]
    pub ignore: bool,
    /// Seconds to wait for pod stop before killing the container
    #[arg(short = 't', long = "time", value_name = "SECONDS")]
    pub time: Option<u64>,
    /// Read the pod ID from the file
    #[arg(long, value_name = "FILE")]
    pub pod_id_file: Vec<PathBuf>,
    pub pods: Vec<String>,
}

fn rm(g: &GlobalOpts, a: PodRmArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let names = targets(&engine, &a.pods, a.all, &a.pod_id_file)?;
    let code = for_each(names, a.ignore, |n| engine.remove_pod(n, a.force, a.time));
    // A missing pod exits 1, as in Podman.
    match code {
        Err(e)
            if e.downcast_ref::<libvaina::Error>()
                .is_some_and(is_not_found) =>
        {
            eprintln!("Error: {e}");
            Ok(1)
        }
        other => other,
    }
}

#[derive(Debug, Args)]
pub struct PodExistsArgs {
    pub pod: String,
}

#[derive(Debug, Args)]
pub struct PodPruneArgs {
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

fn prune(g: &GlobalOpts, a: PodPruneArgs) -> CmdResult {
    let mut engine = g.engine()?;
    if !a.force {
        use std::io::{BufRead, Write};
        print!("WARNING! This will remove all stopped/exited pods..\nAre you sure you want to continue? [y/N] ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if !line.trim().eq_ignore_ascii_case("y") {
            return Ok(0);
        }
    }
    for id in engine.prune_pods()? {
        println!("{id}");
    }
    Ok(0)
}

/// `run/create --pod new:NAME`: a pod with the default settings, created before the
/// container; returns its ID.
pub fn create_for_container(engine: &mut Engine, name: &str) -> anyhow::Result<String> {
    let config = PodConfig {
        shared: parse_share("ipc,net,uts")?,
        infra: true,
        create_command: std::env::args().collect(),
        ..Default::default()
    };
    // The infra's options as `pod create` without flags gives them (containers.conf's
    // `netns` and the other defaults included).
    let defaults = ContainerDefaults::from_conf(engine.containers_conf()?)?;
    let no_flags: [&str; 0] = [];
    let infra = InfraFlags::try_parse_from(no_flags)?
        .flags
        .to_options(Vec::new(), &defaults)?;
    let opts = PodCreateOptions {
        name: Some(name.to_string()),
        config,
        ..Default::default()
    };
    Ok(engine.create_pod(&opts, Some(infra))?.id)
}
