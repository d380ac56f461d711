//! `system df`, `system prune` and `system reset`: thin glue over libvaina's
//! `system::maint`, printing as Podman does (sizes like `1.998MB`, confirmation prompts).

use super::human::{format_g, human_duration};
use super::output::{print_rows, Format};
use super::{CmdResult, GlobalOpts};
use clap::{Args, Subcommand};
use libvaina::system::maint::{DfReport, PruneReport};
use std::io::{BufRead, Write};

#[derive(Debug, Subcommand)]
pub enum MaintCommand {
    /// Show podman disk usage
    Df(DfArgs),
    /// Remove unused data
    Prune(PruneArgs),
    /// Reset podman storage
    Reset(ResetArgs),
}

#[derive(Debug, Args)]
pub struct DfArgs {
    /// Pretty-print images using a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Show detailed information on disk usage
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all unused data
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation.  The default is false
    #[arg(short, long)]
    pub force: bool,
    /// Prune volumes
    #[arg(long)]
    pub volumes: bool,
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

pub fn run(g: &GlobalOpts, cmd: MaintCommand) -> CmdResult {
    match cmd {
        MaintCommand::Df(a) => df(g, a),
        MaintCommand::Prune(a) => prune(g, a),
        MaintCommand::Reset(a) => reset(g, a),
    }
}

/// go-units `HumanSizeWithPrecision(size, 4)` without the space (`1.998MB`), as `system df`.
fn df_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut size = bytes as f64;
    let mut i = 0;
    while size >= 1000.0 && i < UNITS.len() - 1 {
        size /= 1000.0;
        i += 1;
    }
    format!("{}{}", format_g(size, 4), UNITS[i])
}

fn reclaimable(r: u64, total: u64) -> String {
    let pct = (r * 100).checked_div(total).unwrap_or(0);
    format!("{} ({pct}%)", df_size(r))
}

fn age(ns: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    human_duration((now - ns).max(0) as f64 / 1e9)
}

fn df(g: &GlobalOpts, a: DfArgs) -> CmdResult {
    let engine = g.engine()?;
    let report = engine.system_df()?;
    if a.verbose {
        return df_verbose(&report);
    }
    let rows: Vec<serde_json::Value> = report
        .summary()
        .iter()
        .map(|s| {
            serde_json::json!({
                "Type": s.kind,
                "Total": s.total,
                "Active": s.active,
                "Size": df_size(s.size),
                "Reclaimable": reclaimable(s.reclaimable, s.size),
                "RawSize": s.size,
                "RawReclaimable": s.reclaimable,
            })
        })
        .collect();
    let default = "table {{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
    let format = Format::parse(a.format.as_deref(), default);
    print_rows(
        &rows,
        &format,
        &["Type", "Total", "Active", "Size", "Reclaimable"],
        &[],
        false,
    )?;
    Ok(0)
}

fn df_verbose(r: &DfReport) -> CmdResult {
    let mut out = std::io::stdout().lock();
    let mut tw = tabwriter::TabWriter::new(Vec::new())
        .minwidth(10)
        .padding(2);
    writeln!(out, "Images space usage:\n")?;
    writeln!(
        tw,
        "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS"
    )?;
    for i in &r.images {
        writeln!(
            tw,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            i.repository,
            i.tag,
            &i.id[..12.min(i.id.len())],
            age(i.created_ns),
            df_size(i.size),
            df_size(i.shared_size),
            df_size(i.unique_size),
            i.containers
        )?;
    }
    out.write_all(&tw.into_inner()?)?;
    writeln!(out, "\nContainers space usage:\n")?;
    let mut tw = tabwriter::TabWriter::new(Vec::new())
        .minwidth(10)
        .padding(2);
    writeln!(
        tw,
        "CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES"
    )?;
    for c in &r.containers {
        writeln!(
            tw,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            &c.id[..12.min(c.id.len())],
            &c.image[..12.min(c.image.len())],
            c.command,
            c.local_volumes,
            df_size(c.size),
            age(c.created_ns),
            c.status,
            c.names
        )?;
    }
    out.write_all(&tw.into_inner()?)?;
    writeln!(out, "\nLocal Volumes space usage:\n")?;
    let mut tw = tabwriter::TabWriter::new(Vec::new())
        .minwidth(10)
        .padding(2);
    writeln!(tw, "VOLUME NAME\tLINKS\tSIZE")?;
    for v in &r.volumes {
        writeln!(tw, "{}\t{}\t{}", v.name, v.links, df_size(v.size))?;
    }
    out.write_all(&tw.into_inner()?)?;
    Ok(0)
}

/// Prints `prompt` and reads a yes/no answer from stdin (no means no on EOF).
fn confirm(prompt: &str) -> anyhow::Result<bool> {
    print!("{prompt}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

fn prune(g: &GlobalOpts, a: PruneArgs) -> CmdResult {
    if !a.force {
        let mut what = String::from(
            "WARNING! This command removes:\n\t- all stopped containers\n\t- all networks not used by at least one container\n",
        );
        if a.volumes {
            what.push_str("\t- all volumes not used by at least one container\n");
        }
        if a.all {
            what.push_str("\t- all images without at least one container associated with them\n");
        } else {
            what.push_str("\t- all dangling images\n");
        }
        what.push_str("\t- all build cache\n\nAre you sure you want to continue? [y/N] ");
        if !confirm(&what)? {
            return Ok(0);
        }
    }
    let mut engine = g.engine()?;
    let r: PruneReport = engine.system_prune(a.all, a.volumes)?;
    let mut out = std::io::stdout().lock();
    for (title, list) in [
        ("Deleted Containers", &r.containers),
        ("Deleted Networks", &r.networks),
        ("Deleted Volumes", &r.volumes),
        ("Deleted Images", &r.images),
    ] {
        if !list.is_empty() {
            writeln!(out, "{title}")?;
            for x in list {
                writeln!(out, "{x}")?;
            }
        }
    }
    writeln!(out, "Total reclaimed space: {}", df_size(r.reclaimed))?;
    Ok(0)
}

fn reset(g: &GlobalOpts, a: ResetArgs) -> CmdResult {
    let mut engine = g.engine()?;
    if !a.force {
        let prompt = format!(
            "WARNING! This will remove:\n        - all containers\n        - all pods\n        - all images\n        - all networks\n        - all build cache\n        - all machines\n        - all volumes\n        - the graphRoot directory: {:?}\n        - the runRoot directory: {:?}\nAre you sure you want to continue? [y/N] ",
            engine.paths.root.display().to_string(),
            engine.paths.runroot.display().to_string()
        );
        if !confirm(&prompt)? {
            return Ok(0);
        }
    }
    engine.system_reset()?;
    Ok(0)
}
