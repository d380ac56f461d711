//! `image inspect` and `history`.

use super::human::{human_size, time_ago};
use super::output::{print_each, print_rows, Format};
use super::{CmdResult, GlobalOpts};
use clap::Args;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format the output to a Go template or json
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Images to inspect
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Change the output to JSON or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Display sizes and dates in human readable format
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub human: bool,
    /// Do not truncate the output
    #[arg(long)]
    pub no_trunc: bool,
    /// Display the numeric IDs only
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// The image
    pub image: String,
}

pub fn inspect(g: &GlobalOpts, a: InspectArgs) -> CmdResult {
    let engine = g.engine()?;
    let mut docs = Vec::new();
    let mut missing = None;
    for name in &a.images {
        match engine.lookup_image(name) {
            Ok(rec) => docs.push(engine.inspect_image(&rec)?),
            Err(libvaina::Error::Image(libvaina::image::ImageError::NotFound(n))) => {
                if let Some(prev) = missing.replace(n) {
                    eprintln!("Error: inspecting object: {prev}: image not known");
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    match a.format.as_deref() {
        Some(f) if f.trim() != "json" => print_each(&docs, f)?,
        _ => write_inspect_json(&docs)?,
    }
    if let Some(n) = missing {
        anyhow::bail!("inspecting object: {n}: image not known");
    }
    Ok(0)
}

/// Podman prints inspect documents indented by five spaces (unlike its other JSON).
fn write_inspect_json<T: Serialize>(v: &T) -> anyhow::Result<()> {
    super::output::print_json_indented(v, 5)
}

#[derive(Debug, Serialize)]
struct HistoryRow {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Created")]
    created: String,
    #[serde(rename = "CreatedAt")]
    created_at: String,
    #[serde(rename = "CreatedBy")]
    created_by: String,
    #[serde(rename = "Size")]
    size: String,
    #[serde(rename = "Comment")]
    comment: String,
    #[serde(rename = "Tags")]
    tags: String,
}

#[derive(Debug, Serialize)]
struct HistoryJson {
    id: String,
    created: Option<String>,
    #[serde(rename = "CreatedBy")]
    created_by: String,
    size: u64,
    comment: String,
    #[serde(rename = "Created")]
    created_short: String,
}

pub fn history(g: &GlobalOpts, a: HistoryArgs) -> CmdResult {
    let engine = g.engine()?;
    let rec = engine.lookup_image(&a.image)?;
    let items = engine.image_history(&rec)?;
    let id_of = |id: &Option<String>| match id {
        Some(i) if a.no_trunc => i.clone(),
        Some(i) => i[..12.min(i.len())].to_string(),
        None => "<missing>".to_string(),
    };
    if a.quiet && a.format.is_none() {
        let mut out = String::new();
        for i in &items {
            out.push_str(&id_of(&i.id));
            out.push('\n');
        }
        print!("{out}");
        return Ok(0);
    }
    if Format::parse(a.format.as_deref(), "") == Format::Json {
        let list: Vec<HistoryJson> = items
            .iter()
            .map(|i| HistoryJson {
                id: i.id.clone().unwrap_or_else(|| "<missing>".into()),
                created: i.created.clone(),
                created_by: i.created_by.clone(),
                size: i.size,
                comment: i.comment.clone(),
                created_short: go_rfc3339(i.created_ns),
            })
            .collect();
        let mut out = std::io::stdout().lock();
        // Podman prints history JSON on one line.
        serde_json::to_writer(&mut out, &list)?;
        std::io::Write::write_all(&mut out, b"\n")?;
        return Ok(0);
    }
    let rows: Vec<HistoryRow> = items
        .iter()
        .map(|i| {
            let created_by = if a.no_trunc || i.created_by.chars().count() <= 45 {
                i.created_by.clone()
            } else {
                let s: String = i.created_by.chars().take(42).collect();
                format!("{s}...")
            };
            HistoryRow {
                id: id_of(&i.id),
                created: if a.human {
                    time_ago(i.created_ns)
                } else {
                    go_rfc3339(i.created_ns)
                },
                created_at: go_rfc3339(i.created_ns),
                created_by,
                size: if a.human {
                    human_size(i.size as f64)
                } else {
                    i.size.to_string()
                },
                comment: i.comment.clone(),
                tags: String::new(),
            }
        })
        .collect();
    let format = Format::parse(
        a.format.as_deref(),
        "table {{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
    );
    print_rows(
        &rows,
        &format,
        &[
            "ID",
            "Created",
            "CreatedAt",
            "CreatedBy",
            "Size",
            "Comment",
            "Tags",
        ],
        &[],
        false,
    )?;
    Ok(0)
}

fn go_rfc3339(ns: i64) -> String {
    chrono::DateTime::from_timestamp(ns.div_euclid(1_000_000_000), 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}
