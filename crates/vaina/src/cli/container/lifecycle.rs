//! `stop`, `kill`, `restart`, `rm`, `wait`, `pause`/`unpause`, `rename`, `init`, `port`,
//! `container exists`, `container prune`, `container cleanup`.

use crate::cli::{CmdResult, GlobalOpts};
use clap::Args;
use libvaina::container::{ContainerError, ContainerState};
use libvaina::Engine;
use std::io::BufRead;
use std::path::PathBuf;

/// `--latest` and `--filter`, shared by the commands that act on several containers.
#[derive(Debug, Args, Default)]
pub struct Pick {
    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Filter output based on conditions given
    #[arg(long, value_name = "FILTER")]
    pub filter: Vec<String>,
}

/// Only `--latest` (commands without `--filter`).
#[derive(Debug, Args, Default)]
pub struct Latest {
    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,
}

impl From<&Latest> for Pick {
    fn from(l: &Latest) -> Pick {
        Pick {
            latest: l.latest,
            filter: Vec::new(),
        }
    }
}

/// The newest container's ID (`--latest`).
pub(super) fn latest_id(engine: &Engine) -> anyhow::Result<String> {
    engine
        .list_containers()?
        .into_iter()
        .max_by_key(|c| c.created)
        .map(|c| c.id)
        .ok_or_else(|| anyhow::anyhow!("no containers to act on: no such container"))
}

/// The container a single-container command acts on: its argument, or the newest for
/// `--latest` (then an argument is the first of the command's other arguments).
pub(super) fn one_target(
    engine: &Engine,
    latest: bool,
    arg: Option<&str>,
) -> anyhow::Result<String> {
    match (latest, arg) {
        (true, _) => latest_id(engine),
        (false, Some(a)) => Ok(a.to_string()),
        (false, None) => anyhow::bail!("you must provide at least one name or id"),
    }
}

/// The containers a command acts on: the arguments, or every container for `--all`
/// (optionally only those `keep` accepts), plus IDs read from `--cidfile`s, the newest
/// container for `--latest` and those `--filter` selects.
pub(super) fn targets(
    engine: &Engine,
    names: &[String],
    all: bool,
    cidfiles: &[PathBuf],
    pick: &Pick,
    keep: impl Fn(&libvaina::container::ContainerRecord) -> bool,
) -> anyhow::Result<Vec<String>> {
    let mut v: Vec<String> = names.to_vec();
    for f in cidfiles {
        let id = std::fs::read_to_string(f)
            .map_err(|e| anyhow::anyhow!("reading CIDFile: {}: {e}", f.display()))?;
        v.push(id.trim().to_string());
    }
    if (pick.latest || !pick.filter.is_empty()) && !names.is_empty() {
        anyhow::bail!("--latest and containers cannot be used together");
    }
    if pick.latest {
        let newest = engine
            .list_containers()?
            .into_iter()
            .max_by_key(|c| c.created)
            .ok_or_else(|| anyhow::anyhow!("no containers to act on: no such container"))?;
        v.push(newest.id);
    }
    if !pick.filter.is_empty() {
        let listed = engine.list_containers()?;
        let pods = engine
            .list_pods()?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let mut picked = super::ps::filter_containers(&listed, &pods, &pick.filter)?;
        picked.sort_by_key(|c| c.created);
        v.extend(picked.into_iter().filter(|c| keep(c)).map(|c| c.id.clone()));
        return Ok(v);
    }
    if all {
        v.extend(
            engine
                .list_containers()?
                .into_iter()
                .filter(|c| keep(c))
                .map(|c| c.id),
        );
    } else if v.is_empty() {
        anyhow::bail!("you must provide at least one name or id");
    }
    Ok(v)
}

/// Runs `f` for each target, printing what it returns; errors are printed as they come and
/// the last one is returned (Podman's behaviour for multi-container commands).
fn for_each(
    names: Vec<String>,
    mut f: impl FnMut(&str) -> anyhow::Result<Option<String>>,
) -> CmdResult {
    let mut last: Option<anyhow::Error> = None;
    for n in &names {
        match f(n) {
            Ok(Some(line)) => println!("{line}"),
            Ok(None) => {}
            Err(e) => {
                if let Some(prev) = last.replace(e) {
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

fn is_not_found(e: &libvaina::Error) -> bool {
    matches!(e, libvaina::Error::Container(ContainerError::NotFound(_)))
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Stop all running containers
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Ignore errors when a specified container is missing
    #[arg(short = 'i', long)]
    pub ignore: bool,
    /// Read the container ID from the file
    #[arg(long, value_name = "FILE")]
    pub cidfile: Vec<PathBuf>,
    /// Seconds to wait for stop before killing the container
    #[arg(short = 't', long = "time", value_name = "SECONDS")]
    pub time: Option<u64>,
    #[command(flatten)]
    pub pick: Pick,
    pub containers: Vec<String>,
}

pub fn stop(g: &GlobalOpts, a: StopArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let names = targets(&engine, &a.containers, a.all, &a.cidfile, &a.pick, |c| {
        c.state.is_active()
    })?;
    for_each(names, |n| match engine.stop_container(n, a.time) {
        Ok(_) => Ok(Some(n.to_string())),
        Err(e) if a.ignore && is_not_found(&e) => Ok(None),
        Err(e) => Err(e.into()),
    })
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal all running containers
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Signal to send to the container
    #[arg(short = 's', long, default_value = "KILL")]
    pub signal: String,
    /// Read the container ID from the file
    #[arg(long, value_name = "FILE")]
    pub cidfile: Vec<PathBuf>,
    #[command(flatten)]
    pub latest: Latest,
    pub containers: Vec<String>,
}

pub fn kill(g: &GlobalOpts, a: KillArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let sig = libvaina::container::lifecycle::parse_signal(&a.signal)?;
    let names = targets(
        &engine,
        &a.containers,
        a.all,
        &a.cidfile,
        &Pick::from(&a.latest),
        |c| c.state == ContainerState::Running,
    )?;
    for_each(names, |n| {
        engine.kill_container(n, sig)?;
        Ok(Some(n.to_string()))
    })
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Restart all non-running containers
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Restart only running containers
    #[arg(long)]
    pub running: bool,
    /// Seconds to wait for stop before killing the container
    #[arg(short = 't', long = "time", value_name = "SECONDS")]
    pub time: Option<u64>,
    #[command(flatten)]
    pub pick: Pick,
    /// Read the container ID from the file
    #[arg(long, value_name = "FILE")]
    pub cidfile: Vec<PathBuf>,
    pub containers: Vec<String>,
}

pub fn restart(g: &GlobalOpts, a: RestartArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let running = a.running;
    let names = targets(
        &engine,
        &a.containers,
        a.all || running,
        &a.cidfile,
        &a.pick,
        |c| !running || c.state == ContainerState::Running,
    )?;
    for_each(names, |n| {
        engine.restart_container(n, a.time)?;
        Ok(Some(n.to_string()))
    })
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Remove all containers
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Force removal of a running or unusable container
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Ignore errors when a specified container is missing
    #[arg(short = 'i', long)]
    pub ignore: bool,
    /// Remove container and all containers that depend on the selected container
    #[arg(long)]
    pub depend: bool,
    /// Read the container ID from the file
    #[arg(long, value_name = "FILE")]
    pub cidfile: Vec<PathBuf>,
    /// Seconds to wait for stop before killing the container
    #[arg(short = 't', long = "time", value_name = "SECONDS")]
    pub time: Option<u64>,
    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long)]
    pub volumes: bool,
    #[command(flatten)]
    pub pick: Pick,
    pub containers: Vec<String>,
}

/// `rm`: exit 1 when a container does not exist, 2 when one is running (Podman's codes).
/// With `--depend`, each container's dependents are removed before it.
pub fn rm(g: &GlobalOpts, a: RmArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let names = targets(&engine, &a.containers, a.all, &a.cidfile, &a.pick, |_| true)?;
    let mut code = 0;
    let mut removed: Vec<String> = Vec::new();
    for n in &names {
        let order = match a.depend {
            true => engine.container_removal_order(n),
            false => Ok(vec![n.clone()]),
        };
        let order = match order {
            Ok(o) => o,
            Err(e) => {
                code = rm_error(&a, &e).unwrap_or(code);
                continue;
            }
        };
        for target in order {
            if removed.contains(&target) {
                continue;
            }
            let anonymous = match a.volumes {
                true => engine
                    .container_anonymous_volumes(&target)
                    .unwrap_or_default(),
                false => Vec::new(),
            };
            let removal = if a.all
                && engine
                    .lookup_container(&target)
                    .is_ok_and(|c| c.config.infra)
            {
                engine.remove_pod_of_infra(&target, a.force, a.time)
            } else {
                engine.remove_container(&target, a.force, a.time)
            };
            match removal {
                Ok(id) => {
                    engine.remove_volumes_if_unused(&anonymous)?;
                    println!("{id}");
                    removed.push(id);
                }
                Err(e) => {
                    code = rm_error(&a, &e).unwrap_or(code);
                    break;
                }
            }
        }
    }
    Ok(code)
}

/// Reports a failed removal; returns the exit code, or None when the error is ignored.
fn rm_error(a: &RmArgs, e: &libvaina::Error) -> Option<i32> {
    if (a.ignore || a.force) && is_not_found(e) {
        return None;
    }
    eprintln!("Error: {e}");
    Some(match e {
        libvaina::Error::Container(ContainerError::NotFound(_)) => 1,
        libvaina::Error::Container(ContainerError::RemoveRunning(_)) => 2,
        _ => 125,
    })
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Condition to wait on
    #[arg(long, value_name = "STATE", default_value = "stopped")]
    pub condition: Vec<String>,
    /// Time Interval to wait before polling for completion
    #[arg(short = 'i', long, value_name = "DURATION", default_value = "250ms")]
    pub interval: String,
    /// Ignore if a container does not exist
    #[arg(long)]
    pub ignore: bool,
    #[command(flatten)]
    pub latest: Latest,
    pub containers: Vec<String>,
}

fn parse_interval(s: &str) -> anyhow::Result<std::time::Duration> {
    let (num, mult) = if let Some(v) = s.strip_suffix("ms") {
        (v, 1e-3)
    } else if let Some(v) = s.strip_suffix('s') {
        (v, 1.0)
    } else if let Some(v) = s.strip_suffix('m') {
        (v, 60.0)
    } else {
        (s, 1e-3)
    };
    let n: f64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("time: invalid duration {s:?}"))?;
    Ok(std::time::Duration::from_secs_f64((n * mult).max(0.0)))
}

pub fn wait(g: &GlobalOpts, a: WaitArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let containers = if a.latest.latest {
        targets(
            &engine,
            &a.containers,
            false,
            &[],
            &Pick::from(&a.latest),
            |_| true,
        )?
    } else {
        a.containers.clone()
    };
    if containers.is_empty() {
        anyhow::bail!("you must provide at least one container name or id");
    }
    let interval = parse_interval(&a.interval)?;
    const STATES: &[&str] = &[
        "configured",
        "created",
        "exited",
        "healthy",
        "initialized",
        "paused",
        "removing",
        "running",
        "stopped",
        "stopping",
        "unhealthy",
    ];
    for c in &a.condition {
        if !STATES.contains(&c.as_str()) {
            anyhow::bail!("{c:?} is not a valid container state");
        }
    }
    // Exits are followed through the monitor; other states are polled at --interval.
    let exit_only = a.condition.iter().all(|c| c == "stopped" || c == "exited");
    for_each(containers, |n| {
        let r = if exit_only {
            engine.wait_container(n)
        } else {
            wait_states(&engine, n, &a.condition, interval)
        };
        match r {
            Ok(code) => Ok(Some(code.to_string())),
            Err(e) if a.ignore && is_not_found(&e) => Ok(Some("-1".into())),
            Err(e) => Err(e.into()),
        }
    })
}

/// Polls until the container is in one of `states` (Podman's names: `stopped` also means
/// exited, `configured` created); returns the exit code for an exit, else -1.
fn wait_states(
    engine: &Engine,
    name: &str,
    states: &[String],
    interval: std::time::Duration,
) -> libvaina::Result<i32> {
    loop {
        let rec = engine.lookup_container(name)?;
        let st = rec.state.as_str();
        let hit = states.iter().any(|w| {
            w == st
                || (w == "stopped" && st == "exited")
                || (w == "exited" && st == "stopped")
                || (w == "configured" && st == "created")
            // No health checks: no container ever becomes healthy or unhealthy.
        });
        if hit {
            return Ok(if st == "exited" { rec.exit_code } else { -1 });
        }
        std::thread::sleep(interval);
    }
}

#[derive(Debug, Args)]
pub struct PauseArgs {
    /// Pause/unpause all containers
    #[arg(short = 'a', long)]
    pub all: bool,
    #[command(flatten)]
    pub pick: Pick,
    /// Read the container ID from the file
    #[arg(long, value_name = "FILE")]
    pub cidfile: Vec<PathBuf>,
    pub containers: Vec<String>,
}

pub fn pause(g: &GlobalOpts, a: PauseArgs, pause: bool) -> CmdResult {
    let mut engine = g.engine()?;
    let want = if pause {
        ContainerState::Running
    } else {
        ContainerState::Paused
    };
    let names = targets(&engine, &a.containers, a.all, &a.cidfile, &a.pick, |c| {
        c.state == want
    })?;
    for_each(names, |n| {
        if pause {
            engine.pause_container(n)?;
        } else {
            engine.unpause_container(n)?;
        }
        Ok(Some(n.to_string()))
    })
}

#[derive(Debug, Args)]
pub struct RenameArgs {
    pub container: String,
    pub name: String,
}

pub fn rename(g: &GlobalOpts, a: RenameArgs) -> CmdResult {
    let mut engine = g.engine()?;
    engine.rename_container(&a.container, &a.name)?;
    Ok(0)
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Initialize all containers
    #[arg(short = 'a', long)]
    pub all: bool,
    #[command(flatten)]
    pub latest: Latest,
    pub containers: Vec<String>,
}

pub fn init(g: &GlobalOpts, a: InitArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let names = targets(
        &engine,
        &a.containers,
        a.all,
        &[],
        &Pick::from(&a.latest),
        |c| matches!(c.state, ContainerState::Created | ContainerState::Exited),
    )?;
    for_each(names, |n| {
        engine.init_container(n)?;
        Ok(Some(n.to_string()))
    })
}

#[derive(Debug, Args)]
pub struct PortArgs {
    /// Display port information for all containers
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,
    pub container: Option<String>,
    pub port: Option<String>,
}

/// `port`: the published ports of running containers, as Podman prints them.
pub fn port(g: &GlobalOpts, a: PortArgs) -> CmdResult {
    use libvaina::container::net::port_lines;
    let engine = g.engine()?;
    if a.all {
        if a.container.is_some() {
            anyhow::bail!(
                "the given arguments are not valid: --all and a container cannot be used together"
            );
        }
        let mut out = String::new();
        for c in engine.list_containers()?.iter().rev() {
            if c.state != ContainerState::Running {
                continue;
            }
            for (cp, host) in port_lines(&engine.container_ports(c)?) {
                out.push_str(&format!("{}\t{cp} -> {host}\n", &c.id[..12]));
            }
        }
        print!("{out}");
        return Ok(0);
    }
    let (name, port) = if a.latest {
        let Some(c) = engine.list_containers()?.into_iter().next() else {
            anyhow::bail!("no containers to output port information");
        };
        (c.id, a.container.clone())
    } else {
        let Some(c) = &a.container else {
            anyhow::bail!("you must supply a running container name or id");
        };
        (c.clone(), a.port.clone())
    };
    let rec = engine.lookup_container(&name)?;
    if rec.state != ContainerState::Running {
        return Ok(0);
    }
    let lines = port_lines(&engine.container_ports(&rec)?);
    if let Some(p) = &port {
        let p = if p.contains('/') {
            p.clone()
        } else {
            format!("{p}/tcp")
        };
        let found: Vec<&String> = lines
            .iter()
            .filter(|(c, _)| *c == p)
            .map(|(_, h)| h)
            .collect();
        if found.is_empty() {
            anyhow::bail!("failed to find published port {p:?}");
        }
        for h in found {
            println!("{h}");
        }
        return Ok(0);
    }
    let mut out = String::new();
    for (cp, host) in lines {
        out.push_str(&format!("{cp} -> {host}\n"));
    }
    print!("{out}");
    Ok(0)
}

#[derive(Debug, Args)]
pub struct ExistsArgs {
    /// Consider external containers (vaina has none: the same answer)
    #[arg(long)]
    pub external: bool,
    pub container: String,
}

pub fn exists(g: &GlobalOpts, a: ExistsArgs) -> CmdResult {
    let engine = g.engine()?;
    match engine.lookup_container(&a.container) {
        Ok(_) => Ok(0),
        Err(e) if is_not_found(&e) => Ok(1),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Provide filter values (e.g. 'label=<key>=<value>')
    #[arg(long)]
    pub filter: Vec<String>,
}

pub fn prune(g: &GlobalOpts, a: PruneArgs) -> CmdResult {
    let mut engine = g.engine()?;
    if !a.force {
        eprint!("WARNING! This will remove all non running containers.\nAre you sure you want to continue? [y/N] ");
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if !line.trim().eq_ignore_ascii_case("y") {
            return Ok(0);
        }
    }
    let mut labels = Vec::new();
    for f in &a.filter {
        match f.split_once('=') {
            Some(("label", v)) => labels.push(v.to_string()),
            _ => anyhow::bail!("{f} is an invalid filter"),
        }
    }
    let victims: Vec<String> = engine
        .list_containers()?
        .into_iter()
        .filter(|c| matches!(c.state, ContainerState::Exited | ContainerState::Created))
        .filter(|c| !c.config.infra)
        .filter(|c| {
            labels.iter().all(|l| match l.split_once('=') {
                Some((k, v)) => c.config.labels.get(k).is_some_and(|x| x == v),
                None => c.config.labels.contains_key(l),
            })
        })
        .map(|c| c.id)
        .collect();
    for_each(victims, |id| {
        Ok(Some(engine.remove_container(id, false, None)?))
    })
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// Cleans up all containers
    #[arg(short = 'a', long)]
    pub all: bool,
    /// After cleanup, remove the container entirely
    #[arg(long)]
    pub rm: bool,
    /// Clean up the given exec session instead of the container
    #[arg(long, value_name = "SESSION")]
    pub exec: Option<String>,
    /// After cleanup, remove the image entirely
    #[arg(long)]
    pub rmi: bool,
    #[command(flatten)]
    pub latest: Latest,
    pub containers: Vec<String>,
}

pub fn cleanup(g: &GlobalOpts, a: CleanupArgs) -> CmdResult {
    let mut engine = g.engine()?;
    if let Some(session) = &a.exec {
        let Some(c) = a.containers.first() else {
            anyhow::bail!("you must provide at least one name or id");
        };
        if let Err(e) = engine.remove_exec_session(c, session) {
            log::error!("Running container cleanup: {e}");
            return Err(e.into());
        }
        return Ok(0);
    }
    let names = targets(
        &engine,
        &a.containers,
        a.all,
        &[],
        &Pick::from(&a.latest),
        |c| !c.state.has_monitor(),
    )?;
    for_each(names, |n| {
        let rec = engine.lookup_container(n)?;
        if rec.state.has_monitor() {
            anyhow::bail!(
                "failed to clean up container {id}: container {id} is running or paused, refusing to clean up: container state improper",
                id = rec.id
            );
        }
        if a.rm || a.rmi {
            engine.remove_container(&rec.id, false, None)?;
            if a.rmi && !rec.image_id.is_empty() {
                let opts = libvaina::image::remove::RemoveOptions::default();
                let report = engine.remove_images(std::slice::from_ref(&rec.image_id), &opts)?;
                if let Some(e) = report.errors.into_iter().next() {
                    return Err(e.into());
                }
            }
        } else {
            engine.cleanup_container(&rec.id)?;
        }
        Ok(Some(n.to_string()))
    })
}
