//! The generic `inspect` (containers first, then images) and `container inspect`.

use crate::cli::output::{print_each, write_json};
use crate::cli::{CmdResult, GlobalOpts};
use clap::Args;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format the output using the given Go template
    #[arg(short = 'f', long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Display the total file size (accepted for compatibility)
    #[arg(short = 's', long)]
    pub size: bool,
    /// Specify inspect-object type ("image", "container" or "all")
    #[arg(short = 't', long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,
    pub names: Vec<String>,
}

pub fn inspect(g: &GlobalOpts, a: InspectArgs) -> CmdResult {
    let engine = g.engine()?;
    let kind = a.kind.as_deref().unwrap_or("all");
    if !matches!(kind, "all" | "container" | "image") {
        anyhow::bail!("invalid type {kind:?}: must be one of image, container, all");
    }
    let mut names = a.names.clone();
    if a.latest {
        if let Some(c) = engine.list_containers()?.into_iter().next() {
            names.push(c.id);
        }
    }
    if names.is_empty() {
        anyhow::bail!("no names or ids specified");
    }
    let mut values = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    for n in &names {
        if kind != "image" {
            if let Ok(rec) = engine.lookup_container(n) {
                values.push(engine.inspect_container(&rec));
                continue;
            }
        }
        if kind != "container" {
            if let Some(v) = image_value(&engine, n) {
                values.push(v);
                continue;
            }
        }
        missing.push(n.clone());
    }
    match &a.format {
        Some(f) if f != "json" => print_each(&values, f)?,
        _ => write_json(&mut std::io::stdout().lock(), &values)?,
    }
    if let Some(last) = missing.last() {
        for m in &missing[..missing.len() - 1] {
            eprintln!("Error: no such object: {m:?}");
        }
        anyhow::bail!("no such object: {last:?}");
    }
    Ok(0)
}

/// The image's `podman image inspect` document, for the generic `inspect`.
fn image_value(engine: &libvaina::Engine, name: &str) -> Option<serde_json::Value> {
    let img = engine.lookup_image(name).ok()?;
    let doc = engine.inspect_image(&img).ok()?;
    serde_json::to_value(doc).ok()
}
