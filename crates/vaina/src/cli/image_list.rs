//! `images` / `image ls`: Podman's columns, flags, `--format` fields and JSON.

use super::human::{human_size, time_ago};
use super::output::{print_rows, write_json, Format};
use super::{CmdResult, GlobalOpts};
use clap::Args;
use libvaina::image::list::ImageSummary;
use libvaina::image::{name_repository, name_tag};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show all images (default hides intermediate images)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Filter output based on conditions provided (default [])
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Change the output format to JSON or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Display the image name history
    #[arg(long)]
    pub history: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Do not print column headings
    #[arg(short = 'n', long)]
    pub noheading: bool,
    /// Display only image IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Sort by created, id, repository, size, tag
    #[arg(long, default_value = "created")]
    pub sort: String,
    /// Show images matching this reference
    pub image: Option<String>,
}

/// One row of the table, with Podman's template field names.
#[derive(Debug, Serialize)]
struct Row {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Repository")]
    repository: String,
    #[serde(rename = "Tag")]
    tag: String,
    #[serde(rename = "Digest")]
    digest: String,
    #[serde(rename = "CreatedSince")]
    created_since: String,
    #[serde(rename = "CreatedAt")]
    created_at: String,
    #[serde(rename = "CreatedTime")]
    created_time: String,
    #[serde(rename = "Size")]
    size: String,
    #[serde(rename = "VirtualSize")]
    virtual_size: u64,
    #[serde(rename = "SharedSize")]
    shared_size: u64,
    #[serde(rename = "Containers")]
    containers: usize,
    #[serde(rename = "Names")]
    names: Vec<String>,
    #[serde(rename = "Labels")]
    labels: BTreeMap<String, String>,
    #[serde(rename = "Dangling")]
    dangling: bool,
    #[serde(rename = "ReadOnly")]
    read_only: bool,
    #[serde(rename = "IsReadOnly")]
    is_read_only: bool,
    #[serde(rename = "History")]
    history: String,
    #[serde(skip)]
    created_ns: i64,
    #[serde(skip)]
    size_bytes: u64,
}

/// Podman's JSON element of `images --format json`.
#[derive(Debug, Serialize)]
struct JsonImage {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "ParentId")]
    parent_id: String,
    #[serde(rename = "RepoTags")]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "RepoDigests")]
    repo_digests: Vec<String>,
    #[serde(rename = "Size")]
    size: u64,
    #[serde(rename = "SharedSize")]
    shared_size: u64,
    #[serde(rename = "VirtualSize")]
    virtual_size: u64,
    #[serde(rename = "Labels")]
    labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "Containers")]
    containers: usize,
    #[serde(rename = "Dangling", skip_serializing_if = "std::ops::Not::not")]
    dangling: bool,
    #[serde(rename = "Names", skip_serializing_if = "Vec::is_empty")]
    names: Vec<String>,
    #[serde(rename = "Digest")]
    digest: String,
    #[serde(rename = "History", skip_serializing_if = "Vec::is_empty")]
    history: Vec<String>,
    #[serde(rename = "Created")]
    created: i64,
    #[serde(rename = "CreatedAt")]
    created_at: String,
}

const FIELDS: &[&str] = &[
    "ID",
    "Repository",
    "Tag",
    "Digest",
    "CreatedSince",
    "CreatedAt",
    "CreatedTime",
    "Size",
    "VirtualSize",
    "SharedSize",
    "Containers",
    "Names",
    "Labels",
    "Dangling",
    "ReadOnly",
    "IsReadOnly",
    "History",
];

const HEADERS: &[(&str, &str)] = &[
    ("ID", "IMAGE ID"),
    ("CreatedSince", "CREATED"),
    ("CreatedTime", "CREATED"),
];

fn go_time(ns: i64) -> String {
    chrono::DateTime::from_timestamp(ns.div_euclid(1_000_000_000), 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
        .unwrap_or_default()
}

fn rows_of(img: &ImageSummary, no_trunc: bool) -> Vec<Row> {
    let id = if no_trunc {
        format!("sha256:{}", img.id)
    } else {
        img.id[..12.min(img.id.len())].to_string()
    };
    let mk = |repository: String, tag: String| Row {
        id: id.clone(),
        repository,
        tag,
        digest: img.digest.clone(),
        created_since: time_ago(img.created_ns),
        created_at: go_time(img.created_ns),
        created_time: go_time(img.created_ns),
        size: human_size(img.size as f64),
        virtual_size: img.size,
        shared_size: 0,
        containers: img.containers,
        names: img.names.clone(),
        labels: img.labels.clone(),
        dangling: img.names.is_empty(),
        read_only: false,
        is_read_only: false,
        history: img.names_history.join(", "),
        created_ns: img.created_ns,
        size_bytes: img.size,
    };
    if img.names.is_empty() {
        return vec![mk("<none>".into(), "<none>".into())];
    }
    img.names
        .iter()
        .map(|n| {
            mk(
                name_repository(n).to_string(),
                name_tag(n).unwrap_or("<none>").to_string(),
            )
        })
        .collect()
}

pub fn run(g: &GlobalOpts, a: ListArgs) -> CmdResult {
    let engine = g.engine()?;
    let mut filters = a.filter.clone();
    if let Some(i) = &a.image {
        filters.push(format!("reference={i}"));
    }
    let images = engine.list_images()?;
    let images = engine.filter_images(images, &filters)?;
    let format = Format::parse(a.format.as_deref(), "");

    if format == Format::Json {
        let list: Vec<JsonImage> = images
            .iter()
            .map(|i| {
                let tags = i.repo_tags();
                JsonImage {
                    id: i.id.clone(),
                    parent_id: String::new(),
                    repo_tags: if tags.is_empty() { None } else { Some(tags) },
                    repo_digests: i.repo_digests(),
                    size: i.size,
                    shared_size: 0,
                    virtual_size: i.size,
                    labels: if i.labels.is_empty() {
                        None
                    } else {
                        Some(i.labels.clone())
                    },
                    containers: i.containers,
                    dangling: i.names.is_empty(),
                    names: i.names.clone(),
                    digest: i.digest.clone(),
                    history: i.names_history.clone(),
                    created: i.created_ns.div_euclid(1_000_000_000),
                    created_at: chrono::DateTime::from_timestamp(
                        i.created_ns.div_euclid(1_000_000_000),
                        0,
                    )
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_default(),
                }
            })
            .collect();
        let mut out = std::io::stdout().lock();
        write_json(&mut out, &list)?;
        return Ok(0);
    }

    if a.quiet && a.format.is_none() {
        let mut seen = std::collections::HashSet::new();
        let mut out = String::new();
        for i in &images {
            if seen.insert(i.id.clone()) {
                if a.no_trunc {
                    out.push_str(&format!("sha256:{}\n", i.id));
                } else {
                    out.push_str(&format!("{}\n", &i.id[..12.min(i.id.len())]));
                }
            }
        }
        print!("{out}");
        return Ok(0);
    }

    let mut rows: Vec<Row> = images.iter().flat_map(|i| rows_of(i, a.no_trunc)).collect();
    match a.sort.as_str() {
        "created" => rows.sort_by_key(|r| std::cmp::Reverse(r.created_ns)),
        "id" => rows.sort_by(|x, y| x.id.cmp(&y.id)),
        "repository" => rows.sort_by(|x, y| x.repository.cmp(&y.repository)),
        "size" => rows.sort_by_key(|r| r.size_bytes),
        "tag" => rows.sort_by(|x, y| x.tag.cmp(&y.tag)),
        other => anyhow::bail!(
            "\"{other}\" is not a valid option, valid options are: created, id, repository, size, tag"
        ),
    }
    let mut default = if a.digests {
        "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    } else {
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    }
    .to_string();
    if a.history {
        default.push_str("\t{{.History}}");
        for r in rows.iter_mut().filter(|r| r.history.is_empty()) {
            r.history = "<none>".into();
        }
    }
    let format = Format::parse(a.format.as_deref(), &default);
    print_rows(&rows, &format, FIELDS, HEADERS, a.noheading)?;
    Ok(0)
}
