//! `ps` / `container ls`: Podman's columns, filters, sorting, Go templates and JSON.

use crate::cli::output::{print_rows, write_json, Format};
use crate::cli::{CmdResult, GlobalOpts};
use clap::Args;
use libvaina::container::{ContainerRecord, ContainerState};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all the containers, default is only running containers
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Filter output based on conditions given
    #[arg(short = 'f', long = "filter", value_name = "FILTER")]
    pub filter: Vec<String>,
    /// Pretty-print containers to JSON or using a Go template
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Print the n last created containers (all states)
    #[arg(short = 'n', long, value_name = "N")]
    pub last: Option<usize>,
    /// Show the latest container created (all states)
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Do not print headers
    #[arg(long)]
    pub noheading: bool,
    /// Display the extended information
    #[arg(long)]
    pub no_trunc: bool,
    /// Print the numeric IDs of the containers only
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Display the total file sizes
    #[arg(short = 's', long)]
    pub size: bool,
    /// Sort output by: command, created, id, image, names, runningfor, size, status
    #[arg(long, value_name = "CHOICE", default_value = "created")]
    pub sort: String,
    /// Also list containers of pods and other namespaces (accepted for compatibility)
    #[arg(long)]
    pub external: bool,
    /// Print the ID and name of the pod the containers are associated with
    #[arg(long)]
    pub pod: bool,
}

/// Go's `units.HumanDuration`, which Podman uses for CREATED and STATUS.
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    let minutes = s / 60;
    let hours = ((s as f64) / 3600.0).round() as i64;
    if s < 1 {
        "Less than a second".into()
    } else if s == 1 {
        "1 second".into()
    } else if s < 60 {
        format!("{s} seconds")
    } else if minutes == 1 {
        "About a minute".into()
    } else if minutes < 60 {
        format!("{minutes} minutes")
    } else if hours == 1 {
        "About an hour".into()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", hours / 24 / 365)
    }
}

fn ago(now: i64, nanos: i64) -> String {
    format!("{} ago", human_duration((now - nanos) / 1_000_000_000))
}

/// Podman's STATUS text.
pub fn status_text(c: &ContainerRecord, now: i64) -> String {
    match c.state {
        ContainerState::Running => format!("Up {}", ago(now, c.started)),
        ContainerState::Paused => "Paused".into(),
        ContainerState::Stopping => "Stopping".into(),
        ContainerState::Initialized => "Initialized".into(),
        ContainerState::Created => "Created".into(),
        ContainerState::Exited => format!("Exited ({}) {}", c.exit_code, ago(now, c.finished)),
    }
}

/// A row for templates (Podman's template field names).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Row {
    #[serde(rename = "ID")]
    id: String,
    image: String,
    #[serde(rename = "ImageID")]
    image_id: String,
    command: String,
    created_human: String,
    created_at: String,
    created: String,
    running_for: String,
    status: String,
    state: String,
    ports: String,
    names: String,
    labels: BTreeMap<String, String>,
    mounts: String,
    networks: String,
    pod: String,
    pod_name: String,
    size: String,
    pid: i64,
    exit_code: i32,
    exited: bool,
    auto_remove: bool,
}

/// The JSON form (`--format json`), Podman's field names.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JsonRow {
    auto_remove: bool,
    command: Vec<String>,
    created_at: String,
    exited: bool,
    exited_at: i64,
    exit_code: i32,
    id: String,
    image: String,
    #[serde(rename = "ImageID")]
    image_id: String,
    is_infra: bool,
    labels: Option<BTreeMap<String, String>>,
    mounts: Vec<String>,
    names: Vec<String>,
    namespaces: BTreeMap<String, String>,
    networks: Vec<String>,
    pid: i64,
    pod: String,
    pod_name: String,
    ports: Option<Vec<libvaina::network::PortMapping>>,
    size: Option<u64>,
    started_at: i64,
    state: String,
    status: String,
    created: i64,
}

fn secs(n: i64) -> i64 {
    if n == 0 {
        -62135596800
    } else {
        n / 1_000_000_000
    }
}

fn matches_filter(
    c: &ContainerRecord,
    all: &[ContainerRecord],
    pods: &BTreeMap<String, String>,
    key: &str,
    val: &str,
) -> anyhow::Result<bool> {
    let find_created = |v: &str| {
        all.iter()
            .find(|o| o.id.starts_with(v) || o.name == v)
            .map(|o| o.created)
    };
    Ok(match key {
        "id" => c.id.starts_with(val),
        "name" => c.name.contains(val),
        "label" => match val.split_once('=') {
            Some((k, v)) => c.config.labels.get(k).is_some_and(|x| x == v),
            None => c.config.labels.contains_key(val),
        },
        "status" => {
            let s = c.state.as_str();
            s == val
                || (val == "stopped" && s == "exited")
                || (val == "configured" && s == "created")
        }
        "exited" => {
            c.state == ContainerState::Exited && val.parse::<i32>().ok() == Some(c.exit_code)
        }
        "ancestor" => {
            c.image_name == val
                || c.image_name.ends_with(&format!("/{val}"))
                || c.image_name
                    .strip_suffix(":latest")
                    .is_some_and(|n| n == val || n.ends_with(&format!("/{val}")))
                || c.image_id.starts_with(val)
        }
        "before" => find_created(val).is_some_and(|t| c.created < t),
        "since" => find_created(val).is_some_and(|t| c.created > t),
        // No healthchecks yet: every container is one "without a healthcheck", which `none`
        // selects (Podman 5's meaning); healthy/unhealthy/starting, and any other value, which
        // Podman also accepts without complaint, select nothing.
        "health" => val == "none",
        "pod" => {
            !c.config.pod.is_empty()
                && (c.config.pod.starts_with(val)
                    || pods.get(&c.config.pod).is_some_and(|n| n == val))
        }
        "restart-policy" => {
            c.config.restart.name() == val || (val == "no" && c.config.restart.name().is_empty())
        }
        _ => anyhow::bail!("{key} is an invalid filter"),
    })
}

/// The containers matching every `--filter key=value` (same key: any value), as `ps` selects
/// them; for `--filter` of `stop`, `rm`, `start`, ...
pub fn filter_containers<'a>(
    all: &'a [ContainerRecord],
    pods: &BTreeMap<String, String>,
    filter: &[String],
) -> anyhow::Result<Vec<&'a ContainerRecord>> {
    let mut filters: Vec<(&str, &str)> = Vec::new();
    for f in filter {
        let (k, v) = f
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("invalid filter {f:?}: must be key=value"))?;
        filters.push((k, v));
    }
    let mut out = Vec::new();
    for c in all {
        let mut ok = true;
        let mut keys: Vec<&str> = filters.iter().map(|(k, _)| *k).collect();
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            let mut any = false;
            for (_, v) in filters.iter().filter(|(fk, _)| *fk == k) {
                any |= matches_filter(c, all, pods, k, v)?;
            }
            ok &= any;
        }
        if ok {
            out.push(c);
        }
    }
    Ok(out)
}

pub fn ps(g: &GlobalOpts, a: PsArgs) -> CmdResult {
    let engine = g.engine()?;
    let all_recs = engine.list_containers()?;
    let pods: BTreeMap<String, String> = engine
        .list_pods()?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let pod_name = |c: &ContainerRecord| pods.get(&c.config.pod).cloned().unwrap_or_default();
    let mut filters: Vec<(String, String)> = Vec::new();
    for f in &a.filter {
        let (k, v) = f
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("invalid filter {f:?}: must be key=value"))?;
        filters.push((k.to_string(), v.to_string()));
    }
    let show_all = a.all
        || a.latest
        || a.last.is_some()
        || filters.iter().any(|(k, _)| k == "status" || k == "exited");
    let mut rows: Vec<&ContainerRecord> = Vec::new();
    for c in &all_recs {
        if !show_all && c.state != ContainerState::Running {
            continue;
        }
        // Same key: any value matches; different keys: all must match (Podman's rule).
        let mut ok = true;
        let mut keys: Vec<&str> = filters.iter().map(|(k, _)| k.as_str()).collect();
        keys.dedup();
        for k in keys {
            let mut any = false;
            for (_, v) in filters.iter().filter(|(fk, _)| fk == k) {
                any |= matches_filter(c, &all_recs, &pods, k, v)?;
            }
            ok &= any;
        }
        if ok {
            rows.push(c);
        }
    }
    // --latest and --last pick the newest containers; the listing itself is oldest first,
    // as Podman prints it.
    if a.latest || a.last.is_some() {
        rows.sort_by_key(|x| std::cmp::Reverse(x.created));
        rows.truncate(if a.latest { 1 } else { a.last.unwrap_or(0) });
    }
    match a.sort.as_str() {
        "created" | "runningfor" => rows.sort_by_key(|x| x.created),
        "id" => rows.sort_by(|x, y| x.id.cmp(&y.id)),
        "image" => rows.sort_by(|x, y| x.image_name.cmp(&y.image_name)),
        "names" => rows.sort_by(|x, y| x.name.cmp(&y.name)),
        "status" => rows.sort_by(|x, y| x.state.as_str().cmp(y.state.as_str())),
        "command" => rows.sort_by(|x, y| x.config.args.cmp(&y.config.args)),
        "size" => {}
        other => anyhow::bail!("invalid option for --sort, options are: command, created, id, image, names, runningfor, size, or status: {other:?}"),
    }
    let trunc = |id: &str| {
        if a.no_trunc {
            id.to_string()
        } else {
            id[..12.min(id.len())].to_string()
        }
    };
    if a.quiet && a.format.is_none() {
        let mut out = String::new();
        for c in &rows {
            out.push_str(&trunc(&c.id));
            out.push('\n');
        }
        print!("{out}");
        return Ok(0);
    }
    let now = libvaina::container::record::now_nanos();
    let mut table = String::from(
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
    );
    if a.size {
        table.push_str("\t{{.Size}}");
    }
    if a.pod {
        table.push_str("\t{{.Pod}}\t{{.PodName}}");
    }
    let fmt = Format::parse(a.format.as_deref(), &table);
    if fmt == Format::Json {
        let v: Vec<JsonRow> = rows
            .iter()
            .map(|c| JsonRow {
                auto_remove: c.config.remove,
                command: c.config.args.clone(),
                created_at: ago(now, c.created),
                exited: c.state == ContainerState::Exited,
                exited_at: secs(c.finished),
                exit_code: c.exit_code,
                id: c.id.clone(),
                image: c.image_name.clone(),
                image_id: c.image_id.clone(),
                is_infra: c.config.infra,
                labels: (!c.config.labels.is_empty()).then(|| c.config.labels.clone()),
                mounts: vec![],
                names: vec![c.name.clone()],
                namespaces: BTreeMap::new(),
                networks: c
                    .config
                    .network
                    .networks
                    .iter()
                    .map(|n| n.name.clone())
                    .collect(),
                pid: c.pid,
                pod: c.config.pod.clone(),
                pod_name: if a.pod { pod_name(c) } else { String::new() },
                ports: engine.container_ports(c).ok().filter(|p| !p.is_empty()),
                size: None,
                started_at: secs(c.started),
                state: c.state.as_str().into(),
                status: status_text(c, now),
                created: secs(c.created),
            })
            .collect();
        write_json(&mut std::io::stdout().lock(), &v)?;
        return Ok(0);
    }
    let v: Vec<Row> = rows
        .iter()
        .map(|c| {
            let created = chrono::DateTime::<chrono::Utc>::from_timestamp_nanos(c.created)
                .with_timezone(&chrono::Local);
            Row {
                id: trunc(&c.id),
                image: c.image_name.clone(),
                image_id: c.image_id.clone(),
                command: command_column(&c.config.args, a.no_trunc),
                created_human: ago(now, c.created),
                created_at: created.format("%Y-%m-%d %H:%M:%S%.9f %z %Z").to_string(),
                created: ago(now, c.created),
                running_for: human_duration((now - c.created) / 1_000_000_000),
                status: status_text(c, now),
                state: c.state.as_str().into(),
                ports: engine
                    .container_ports(c)
                    .map(|p| libvaina::container::net::ports_text(&p))
                    .unwrap_or_default(),
                names: c.name.clone(),
                labels: c.config.labels.clone(),
                mounts: String::new(),
                networks: c
                    .config
                    .network
                    .networks
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                pod: trunc(&c.config.pod),
                pod_name: if a.pod { pod_name(c) } else { String::new() },
                size: "0B (virtual 0B)".into(),
                pid: c.pid,
                exit_code: c.exit_code,
                exited: c.state == ContainerState::Exited,
                auto_remove: c.config.remove,
            }
        })
        .collect();
    print_rows(
        &v,
        &fmt,
        &[
            "ID",
            "Image",
            "ImageID",
            "Command",
            "CreatedHuman",
            "CreatedAt",
            "Created",
            "RunningFor",
            "Status",
            "State",
            "Ports",
            "Names",
            "Labels",
            "Mounts",
            "Networks",
            "Pod",
            "PodName",
            "Size",
            "Pid",
            "ExitCode",
            "Exited",
            "AutoRemove",
        ],
        &[
            ("ID", "CONTAINER ID"),
            ("CreatedHuman", "CREATED"),
            ("RunningFor", "CREATED"),
            ("Created", "CREATED"),
            ("Pod", "POD ID"),
            ("PodName", "PODNAME"),
        ],
        a.noheading,
    )?;
    Ok(0)
}

/// The COMMAND column: Podman cuts it to 17 characters and "..." unless `--no-trunc`.
fn command_column(args: &[String], no_trunc: bool) -> String {
    let command = args.join(" ");
    if no_trunc || command.chars().count() <= 17 {
        return command;
    }
    let cut: String = command.chars().take(17).collect();
    format!("{cut}...")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_go_units() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(59), "59 seconds");
        assert_eq!(human_duration(60), "About a minute");
        assert_eq!(human_duration(600), "10 minutes");
        assert_eq!(human_duration(3600), "About an hour");
        assert_eq!(human_duration(7200), "2 hours");
        assert_eq!(human_duration(3 * 86400), "3 days");
    }
}
