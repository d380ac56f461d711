//! `volume create/ls/inspect/rm/prune/exists/export/import` with Podman's flags, columns,
//! JSON and exit codes.

use super::output::{print_rows, Format};
use super::{CmdResult, GlobalOpts};
use anyhow::bail;
use clap::{Args, Subcommand};
use libvaina::volume::{CreateOptions, Volume, VolumeError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Manage volumes
    Volume {
        #[command(subcommand)]
        cmd: VolumeSubcommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum VolumeSubcommand {
    /// Create a new volume
    Create(CreateArgs),
    /// List volumes
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more volumes
    Inspect(InspectArgs),
    /// Remove one or more volumes
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Remove all unused volumes
    Prune(PruneArgs),
    /// Check if volume exists
    Exists { volume: String },
    /// Export volumes
    Export(ExportArgs),
    /// Import a tarball contents into a volume
    Import { volume: String, source: String },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Specify volume driver name
    #[arg(short, long)]
    pub driver: Option<String>,
    /// Do not fail if volume already exists
    #[arg(long)]
    pub ignore: bool,
    /// Set metadata for a volume (e.g. --label mykey=value)
    #[arg(short, long)]
    pub label: Vec<String>,
    /// Set driver specific options
    #[arg(short, long)]
    pub opt: Vec<String>,
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Filter volume output
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Format volume output using Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Do not print headers
    #[arg(short, long)]
    pub noheading: bool,
    /// Print volume output in quiet mode
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Inspect all volumes
    #[arg(short, long)]
    pub all: bool,
    /// Format volume output using Go template
    #[arg(short, long)]
    pub format: Option<String>,
    pub volumes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Remove all volumes
    #[arg(short, long)]
    pub all: bool,
    /// Remove a volume by force, even if it is being used by a container
    #[arg(short, long)]
    pub force: bool,
    /// Seconds to wait for running containers to stop before killing the container
    #[arg(short, long)]
    pub time: Option<u64>,
    pub volumes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Provide filter values (e.g. 'label=<key>=<value>')
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to a specified file (default: stdout, which must be redirected)
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    pub volume: String,
}

pub fn run(g: &GlobalOpts, cmd: VolumeCommand) -> CmdResult {
    let VolumeCommand::Volume { cmd } = cmd;
    match cmd {
        VolumeSubcommand::Create(a) => create(g, a),
        VolumeSubcommand::Ls(a) => ls(g, a),
        VolumeSubcommand::Inspect(a) => inspect(g, a),
        VolumeSubcommand::Rm(a) => rm(g, a),
        VolumeSubcommand::Prune(a) => prune(g, a),
        VolumeSubcommand::Exists { volume } => Ok(if g.engine()?.volume_exists(&volume)? {
            0
        } else {
            1
        }),
        VolumeSubcommand::Export(a) => export(g, a),
        VolumeSubcommand::Import { volume, source } => import(g, &volume, &source),
    }
}

fn key_values(items: &[String]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (s.clone(), String::new()),
        })
        .collect()
}

fn create(g: &GlobalOpts, a: CreateArgs) -> CmdResult {
    let opts = CreateOptions {
        name: a.name,
        driver: a.driver,
        labels: key_values(&a.label),
        options: key_values(&a.opt),
        ignore: a.ignore,
        anonymous: false,
    };
    let v = g.engine()?.volume_create(&opts)?;
    println!("{}", v.name);
    Ok(0)
}

/// `--filter` of `ls` and `prune`: keys AND'd, values of one key OR'd, as Podman.
fn filter_volumes(
    vols: Vec<Volume>,
    filters: &[String],
    in_use: &dyn Fn(&str) -> bool,
) -> anyhow::Result<Vec<Volume>> {
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in filters {
        let (k, v) = f.split_once('=').unwrap_or((f.as_str(), ""));
        if !matches!(
            k,
            "name"
                | "label"
                | "label!"
                | "driver"
                | "dangling"
                | "scope"
                | "opt"
                | "until"
                | "anonymous"
        ) {
            bail!("{k:?} is an invalid volume filter");
        }
        by_key.entry(k.to_string()).or_default().push(v.to_string());
    }
    let label = |labels: &BTreeMap<String, String>, f: &str| match f.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(f),
    };
    let mut out = Vec::new();
    'vol: for v in vols {
        for (k, vals) in &by_key {
            let ok = match k.as_str() {
                "name" => vals.iter().any(|f| v.name.contains(f.as_str())),
                "driver" => vals.iter().any(|f| &v.driver == f),
                "scope" => vals.iter().any(|f| &v.scope == f),
                "label" => vals.iter().all(|f| label(&v.labels, f)),
                "label!" => !vals.iter().any(|f| label(&v.labels, f)),
                "opt" => vals.iter().any(|f| label(&v.options, f)),
                "anonymous" => vals.iter().any(|f| (f == "true") == v.anonymous),
                "dangling" => vals.iter().any(|f| (f == "true") != in_use(&v.name)),
                _ => vals.iter().any(|f| until_matches(&v, f)),
            };
            if !ok {
                continue 'vol;
            }
        }
        out.push(v);
    }
    Ok(out)
}

fn until_matches(v: &Volume, f: &str) -> bool {
    let Ok(created) = chrono::DateTime::parse_from_rfc3339(&v.created_at) else {
        return false;
    };
    if let Ok(secs) = f.parse::<i64>() {
        return created.timestamp() < secs;
    }
    chrono::DateTime::parse_from_rfc3339(f).is_ok_and(|t| created < t)
}

/// A `volume ls` row: the inspect fields with maps printed the Go way.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Row {
    name: String,
    driver: String,
    mountpoint: String,
    created_at: String,
    labels: BTreeMap<String, String>,
    scope: String,
    options: BTreeMap<String, String>,
    mount_count: u32,
}

fn ls(g: &GlobalOpts, a: LsArgs) -> CmdResult {
    let engine = g.engine()?;
    let vols = engine.volume_list()?;
    let in_use = |n: &str| engine.volume_users(n).is_ok_and(|u| !u.is_empty());
    let vols = filter_volumes(vols, &a.filter, &in_use)?;
    if a.quiet {
        let mut out = std::io::stdout().lock();
        for v in &vols {
            writeln!(out, "{}", v.name)?;
        }
        return Ok(0);
    }
    let format = Format::parse(a.format.as_deref(), "table {{.Driver}}\t{{.Name}}");
    if format == Format::Json {
        super::output::print_json_indented(&vols, 2)?;
        return Ok(0);
    }
    let rows: Vec<Row> = vols
        .into_iter()
        .map(|v| Row {
            mountpoint: v.mountpoint.display().to_string(),
            name: v.name,
            driver: v.driver,
            created_at: v.created_at,
            labels: v.labels,
            scope: v.scope,
            options: v.options,
            mount_count: v.mount_count,
        })
        .collect();
    print_rows(
        &rows,
        &format,
        &[
            "Name",
            "Driver",
            "Mountpoint",
            "CreatedAt",
            "Labels",
            "Scope",
            "Options",
            "MountCount",
        ],
        &[("Name", "VOLUME NAME")],
        a.noheading,
    )?;
    Ok(0)
}

fn inspect(g: &GlobalOpts, a: InspectArgs) -> CmdResult {
    let engine = g.engine()?;
    if a.all != a.volumes.is_empty() {
        bail!("provide one or more volume names or use --all");
    }
    let mut found = Vec::new();
    let mut missing = None;
    if a.all {
        found = engine.volume_list()?;
    }
    for name in &a.volumes {
        match engine.volume_inspect(name) {
            Ok(v) => found.push(v),
            Err(libvaina::Error::Volume(VolumeError::NotFound(_))) => {
                missing.get_or_insert_with(|| name.clone());
            }
            Err(e) => return Err(e.into()),
        }
    }
    match a.format.as_deref().filter(|f| f.trim() != "json") {
        Some(f) => super::output::print_each(&found, f)?,
        None => {
            // Podman indents `volume inspect` with five spaces.
            super::output::print_json_indented(&found, 5)?;
        }
    }
    if let Some(m) = missing {
        bail!("inspecting object: no such volume {m}");
    }
    Ok(0)
}

fn rm(g: &GlobalOpts, a: RmArgs) -> CmdResult {
    let mut engine = g.engine()?;
    if a.all != a.volumes.is_empty() {
        bail!("choose either one or more volumes or all");
    }
    let names: Vec<String> = if a.all {
        engine.volume_list()?.into_iter().map(|v| v.name).collect()
    } else {
        a.volumes.clone()
    };
    let mut code = 0;
    for name in &names {
        match engine.volume_remove(name, a.force, a.time) {
            Ok(n) => println!("{n}"),
            Err(e) => {
                // Podman: 1 for a missing volume, 2 for one in use, 125 otherwise.
                let c = match &e {
                    libvaina::Error::Volume(VolumeError::NotFound(_)) => 1,
                    libvaina::Error::Volume(v) => v.exit_code(),
                    _ => 125,
                };
                eprintln!("Error: {e}");
                code = if code == 0 || c == 125 { c } else { code };
            }
        }
    }
    Ok(code)
}

fn prune(g: &GlobalOpts, a: PruneArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let filters = a.filter.clone();
    for f in &filters {
        match f.split_once('=') {
            Some(("label" | "label!" | "until", _)) => {}
            _ => bail!(
                "{:?} is an invalid volume filter",
                f.split('=').next().unwrap_or(f)
            ),
        }
    }
    let keep = |v: &Volume| {
        filter_volumes(vec![v.clone()], &filters, &|_| false).map_or(true, |l| l.is_empty())
    };
    if !a.force {
        let unused: Vec<String> = engine
            .volume_list()?
            .into_iter()
            .filter(|v| !keep(v) && engine.volume_users(&v.name).is_ok_and(|u| u.is_empty()))
            .map(|v| v.name)
            .collect();
        println!("WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:");
        if unused.is_empty() {
            println!("No dangling volumes found");
            return Ok(0);
        }
        println!("{}", unused.join("\n"));
        print!("Are you sure you want to continue? [y/N] ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if !matches!(line.trim(), "y" | "Y" | "yes") {
            return Ok(0);
        }
    }
    for name in engine.volume_prune(&keep)? {
        println!("{name}");
    }
    Ok(0)
}

fn export(g: &GlobalOpts, a: ExportArgs) -> CmdResult {
    let engine = g.engine()?;
    if !engine.volume_exists(&a.volume)? {
        bail!("no such volume {}", a.volume);
    }
    match &a.output {
        Some(p) => {
            let mut f =
                std::fs::File::create(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            engine.volume_export(&a.volume, &mut f)?;
            f.sync_all()?;
        }
        None => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                bail!(
                    "cannot write to terminal, use command-line redirection or the --output flag"
                );
            }
            engine.volume_export(&a.volume, &mut stdout.lock())?;
        }
    }
    Ok(0)
}

fn import(g: &GlobalOpts, volume: &str, source: &str) -> CmdResult {
    let mut engine = g.engine()?;
    if !engine.volume_exists(volume)? {
        bail!("no such volume {volume}");
    }
    if source == "-" {
        engine.volume_import(volume, &mut std::io::stdin().lock())?;
    } else {
        let mut f = std::fs::File::open(source).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
        engine.volume_import(volume, &mut f)?;
    }
    Ok(0)
}
