//! `pod ps`/`ls`/`list`, `pod inspect`, `pod top`, `pod stats`, `pod logs`: Podman's columns,
//! filters, sorting, templates and JSON.

use super::container::ps::human_duration;
use super::container::stats::human_size;
use super::output::{print_each, print_rows, write_json_indented, Format};
use super::{CmdResult, GlobalOpts};
use clap::{ArgAction, Args};
use libvaina::container::{ContainerRecord, ContainerState};
use libvaina::pod::{PodRecord, PodState};
use libvaina::Engine;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

/// A pod with its containers (newest first) and derived state.
struct PodView {
    pod: PodRecord,
    ctrs: Vec<ContainerRecord>,
    state: PodState,
}

fn view(engine: &Engine, pod: PodRecord) -> anyhow::Result<PodView> {
    let mut ctrs = engine.pod_containers(&pod)?;
    let state = engine.pod_state(&ctrs);
    ctrs.sort_by_key(|c| std::cmp::Reverse(c.created));
    Ok(PodView { pod, ctrs, state })
}

fn rfc3339(nanos: i64) -> String {
    libvaina::image::import::rfc3339_nano(chrono::DateTime::from_timestamp_nanos(nanos))
}

/// The networks the pod's infra container is on, as `pod ps` shows them.
fn networks(p: &PodRecord) -> Vec<String> {
    if !p.config.infra {
        return Vec::new();
    }
    if p.config.networks.is_empty() {
        return vec![libvaina::network::DEFAULT_NETWORK.to_string()];
    }
    p.config.networks.clone()
}

fn cgroup_parent(p: &PodRecord) -> String {
    if p.config.cgroup_parent.is_empty() {
        "/vaina".into()
    } else {
        p.config.cgroup_parent.clone()
    }
}

#[derive(Debug, Args)]
pub struct PodPsArgs {
    /// Display the container UUIDs. If no-trunc is not set they will be truncated
    #[arg(long)]
    pub ctr_ids: bool,
    /// Display the container names
    #[arg(long)]
    pub ctr_names: bool,
    /// Display the container status
    #[arg(long)]
    pub ctr_status: bool,
    /// Filter output based on conditions given
    #[arg(short = 'f', long = "filter", value_name = "FILTER")]
    pub filter: Vec<String>,
    /// Pretty-print pods to JSON or using a Go template
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Act on the latest pod vaina is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Do not truncate pod and container IDs
    #[arg(long)]
    pub no_trunc: bool,
    /// Do not print headers
    #[arg(long)]
    pub noheading: bool,
    /// Print the numeric IDs of the pods only
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Sort output by created, id, name, or number
    #[arg(long, value_name = "CHOICE", default_value = "created")]
    pub sort: String,
}

/// Template fields of `pod ps` (Podman's names).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PsRow {
    #[serde(rename = "ID")]
    id: String,
    name: String,
    status: String,
    created: String,
    #[serde(rename = "InfraID")]
    infra_id: String,
    number_of_containers: usize,
    labels: BTreeMap<String, String>,
    networks: String,
    cgroup: String,
    namespace: String,
    container_names: String,
    container_ids: String,
    container_statuses: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PsJsonCtr {
    id: String,
    names: String,
    status: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PsJson {
    cgroup: String,
    containers: Vec<PsJsonCtr>,
    created: String,
    id: String,
    infra_id: String,
    name: String,
    namespace: String,
    networks: Vec<String>,
    status: String,
    labels: BTreeMap<String, String>,
}

fn matches(v: &PodView, key: &str, val: &str) -> anyhow::Result<bool> {
    Ok(match key {
        "id" => v.pod.id.starts_with(val),
        "name" => v.pod.name.contains(val),
        "label" => match val.split_once('=') {
            Some((k, x)) => v.pod.config.labels.get(k).is_some_and(|y| y == x),
            None => v.pod.config.labels.contains_key(val),
        },
        "status" => v.state.as_str().eq_ignore_ascii_case(val),
        "ctr-names" => v.ctrs.iter().any(|c| c.name.contains(val)),
        "ctr-ids" => v.ctrs.iter().any(|c| c.id.starts_with(val)),
        "ctr-status" => v.ctrs.iter().any(|c| {
            c.state.as_str() == val || (val == "stopped" && c.state == ContainerState::Exited)
        }),
        "ctr-number" => val.parse::<usize>().ok() == Some(v.ctrs.len()),
        "network" => networks(&v.pod).iter().any(|n| n == val),
        _ => anyhow::bail!("{key} is an invalid filter"),
    })
}

pub fn ps(g: &GlobalOpts, a: PodPsArgs) -> CmdResult {
    let engine = g.engine()?;
    let mut filters: Vec<(String, String)> = Vec::new();
    for f in &a.filter {
        let (k, v) = f
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("invalid filter {f:?}: must be key=value"))?;
        filters.push((k.to_string(), v.to_string()));
    }
    let mut rows = Vec::new();
    for p in engine.list_pods()? {
        let v = view(&engine, p)?;
        let mut keys: Vec<&str> = filters.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut ok = true;
        for k in keys {
            let mut any = false;
            for (_, val) in filters.iter().filter(|(fk, _)| fk == k) {
                any |= matches(&v, k, val)?;
            }
            ok &= any;
        }
        if ok {
            rows.push(v);
        }
    }
    match a.sort.as_str() {
        "created" => rows.sort_by_key(|v| std::cmp::Reverse(v.pod.created)),
        "id" => rows.sort_by(|x, y| x.pod.id.cmp(&y.pod.id)),
        "name" => rows.sort_by(|x, y| x.pod.name.cmp(&y.pod.name)),
        "number" => rows.sort_by_key(|v| v.ctrs.len()),
        "status" => rows.sort_by(|x, y| x.state.as_str().cmp(y.state.as_str())),
        other => anyhow::bail!("invalid option for --sort, options are: created, id, name, number, or status: {other:?}"),
    }
    if a.latest {
        rows.truncate(1);
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
        for v in &rows {
            out.push_str(&trunc(&v.pod.id));
            out.push('\n');
        }
        print!("{out}");
        return Ok(0);
    }
    let now = libvaina::container::record::now_nanos();
    let ago = |t: i64| format!("{} ago", human_duration((now - t) / 1_000_000_000));
    let mut table =
        String::from("table {{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}");
    if a.ctr_ids {
        table.push_str("\t{{.ContainerIds}}");
    }
    if a.ctr_names {
        table.push_str("\t{{.ContainerNames}}");
    }
    if a.ctr_status {
        table.push_str("\t{{.ContainerStatuses}}");
    }
    if !(a.ctr_ids || a.ctr_names || a.ctr_status) {
        table.push_str("\t{{.NumberOfContainers}}");
    }
    let fmt = Format::parse(a.format.as_deref(), &table);
    if fmt == Format::Json {
        let v: Vec<PsJson> = rows
            .iter()
            .map(|v| PsJson {
                cgroup: cgroup_parent(&v.pod),
                containers: v
                    .ctrs
                    .iter()
                    .map(|c| PsJsonCtr {
                        id: c.id.clone(),
                        names: c.name.clone(),
                        status: c.state.as_str().into(),
                    })
                    .collect(),
                created: rfc3339(v.pod.created),
                id: v.pod.id.clone(),
                infra_id: v.pod.infra_id.clone(),
                name: v.pod.name.clone(),
                namespace: String::new(),
                networks: networks(&v.pod),
                status: v.state.as_str().into(),
                labels: v.pod.config.labels.clone(),
            })
            .collect();
        write_json_indented(&mut std::io::stdout().lock(), &v, 2)?;
        return Ok(0);
    }
    let out: Vec<PsRow> = rows
        .iter()
        .map(|v| {
            let join = |f: &dyn Fn(&ContainerRecord) -> String| {
                v.ctrs.iter().map(f).collect::<Vec<_>>().join(",")
            };
            PsRow {
                id: trunc(&v.pod.id),
                name: v.pod.name.clone(),
                status: v.state.as_str().into(),
                created: ago(v.pod.created),
                infra_id: if v.pod.infra_id.is_empty() {
                    String::new()
                } else {
                    trunc(&v.pod.infra_id)
                },
                number_of_containers: v.ctrs.len(),
                labels: v.pod.config.labels.clone(),
                networks: networks(&v.pod).join(","),
                cgroup: cgroup_parent(&v.pod),
                namespace: String::new(),
                container_names: join(&|c| c.name.clone()),
                container_ids: join(&|c| trunc(&c.id)),
                container_statuses: join(&|c| c.state.as_str().to_string()),
            }
        })
        .collect();
    print_rows(
        &out,
        &fmt,
        &[
            "ID",
            "Name",
            "Status",
            "Created",
            "InfraID",
            "NumberOfContainers",
            "Labels",
            "Networks",
            "Cgroup",
            "Namespace",
            "ContainerNames",
            "ContainerIds",
            "ContainerStatuses",
        ],
        &[
            ("ID", "POD ID"),
            ("InfraID", "INFRA ID"),
            ("NumberOfContainers", "# OF CONTAINERS"),
            ("ContainerIds", "IDS"),
            ("ContainerNames", "NAMES"),
            ("ContainerStatuses", "STATUS"),
        ],
        a.noheading,
    )?;
    Ok(0)
}

#[derive(Debug, Args)]
pub struct PodInspectArgs {
    /// Format the output to a Go template or json
    #[arg(short = 'f', long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Act on the latest pod vaina is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,
    pub pods: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PortBinding {
    host_ip: String,
    host_port: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InfraConfig {
    port_bindings: BTreeMap<String, Vec<PortBinding>>,
    host_network: bool,
    #[serde(rename = "StaticIP")]
    static_ip: String,
    #[serde(rename = "StaticMAC")]
    static_mac: String,
    no_manage_resolv_conf: bool,
    #[serde(rename = "DNSServer")]
    dns_server: Option<Vec<String>>,
    #[serde(rename = "DNSSearch")]
    dns_search: Option<Vec<String>>,
    #[serde(rename = "DNSOption")]
    dns_option: Option<Vec<String>>,
    no_manage_hosts: bool,
    host_add: Option<Vec<String>>,
    networks: Vec<String>,
    network_options: Option<BTreeMap<String, Vec<String>>>,
    #[serde(rename = "pid_ns")]
    pid_ns: String,
    #[serde(rename = "userns")]
    userns: String,
    #[serde(rename = "uts_ns")]
    uts_ns: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InspectCtr {
    id: String,
    name: String,
    state: String,
}

/// `pod inspect` (Podman's field names and order).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PodInspect {
    id: String,
    name: String,
    created: String,
    create_command: Vec<String>,
    exit_policy: String,
    state: String,
    hostname: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
    create_cgroup: bool,
    cgroup_parent: String,
    create_infra: bool,
    #[serde(rename = "InfraContainerID", skip_serializing_if = "String::is_empty")]
    infra_container_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    infra_config: Option<InfraConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    shared_namespaces: Vec<String>,
    num_containers: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    containers: Vec<InspectCtr>,
}

fn port_bindings(publish: &[String]) -> BTreeMap<String, Vec<PortBinding>> {
    let mut out: BTreeMap<String, Vec<PortBinding>> = BTreeMap::new();
    for p in publish {
        let (spec, proto) = p.rsplit_once('/').unwrap_or((p, "tcp"));
        let parts: Vec<&str> = spec.rsplitn(3, ':').collect();
        let (ctr, host_port, host_ip) = match parts.as_slice() {
            [c] => (*c, "", ""),
            [c, h] => (*c, *h, ""),
            [c, h, ip] => (*c, *h, *ip),
            _ => continue,
        };
        out.entry(format!("{ctr}/{proto}"))
            .or_default()
            .push(PortBinding {
                host_ip: host_ip.to_string(),
                host_port: host_port.to_string(),
            });
    }
    out
}

fn inspect_view(v: &PodView) -> PodInspect {
    let p = &v.pod;
    let c = &p.config;
    let some = |x: &Vec<String>| (!x.is_empty()).then(|| x.clone());
    PodInspect {
        id: p.id.clone(),
        name: p.name.clone(),
        created: rfc3339(p.created),
        create_command: c.create_command.clone(),
        exit_policy: c.exit_policy.as_str().into(),
        state: v.state.as_str().into(),
        hostname: c.hostname.clone(),
        labels: c.labels.clone(),
        create_cgroup: false,
        cgroup_parent: cgroup_parent(p),
        create_infra: c.infra,
        infra_container_id: p.infra_id.clone(),
        infra_config: c.infra.then(|| InfraConfig {
            port_bindings: port_bindings(&c.publish),
            host_network: c.networks.iter().any(|n| n == "host"),
            static_ip: String::new(),
            static_mac: String::new(),
            no_manage_resolv_conf: false,
            dns_server: some(&c.dns),
            dns_search: some(&c.dns_search),
            dns_option: some(&c.dns_option),
            no_manage_hosts: false,
            host_add: some(&c.add_host),
            networks: networks(p),
            network_options: None,
            // The infra container's own pid and uts namespaces are always new ones.
            pid_ns: "private".into(),
            userns: "host".into(),
            uts_ns: "private".into(),
        }),
        shared_namespaces: c.shared.clone(),
        num_containers: v.ctrs.len(),
        containers: v
            .ctrs
            .iter()
            .map(|x| InspectCtr {
                id: x.id.clone(),
                name: x.name.clone(),
                state: x.state.as_str().into(),
            })
            .collect(),
    }
}

pub fn inspect(g: &GlobalOpts, a: PodInspectArgs) -> CmdResult {
    let engine = g.engine()?;
    let mut names = a.pods.clone();
    if a.latest {
        if let Some(p) = engine.list_pods()?.into_iter().next() {
            names.push(p.id);
        }
    }
    if names.is_empty() {
        anyhow::bail!("you must provide at least one name or id");
    }
    let mut docs = Vec::new();
    for n in &names {
        let p = engine.lookup_pod(n)?;
        docs.push(inspect_view(&view(&engine, p)?));
    }
    match a.format.as_deref() {
        Some(f) if f != "json" => print_each(&docs, f)?,
        _ => {
            let mut out = std::io::stdout().lock();
            if docs.len() == 1 {
                write_json_indented(&mut out, &docs[0], 5)?;
            } else {
                write_json_indented(&mut out, &docs, 5)?;
            }
        }
    }
    Ok(0)
}

#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct PodTopArgs {
    /// Print help
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Act on the latest pod vaina is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,
    pub pod: String,
    /// Descriptors (pid, user, args, ...)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub descriptors: Vec<String>,
}

pub fn top(g: &GlobalOpts, a: PodTopArgs) -> CmdResult {
    use libvaina::container::top;
    let engine = g.engine()?;
    let pod = engine.lookup_pod(&a.pod)?;
    let v = view(&engine, pod)?;
    let words: Vec<String> = a
        .descriptors
        .iter()
        .flat_map(|d| d.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    let words = if words.is_empty() {
        top::DEFAULT.iter().map(|s| s.to_string()).collect()
    } else {
        words
    };
    if !top::all_descriptors(&words) {
        anyhow::bail!("pod top takes Podman's descriptors only (such as pid, user, args, comm)");
    }
    let running: Vec<&ContainerRecord> = v
        .ctrs
        .iter()
        .filter(|c| c.state == ContainerState::Running)
        .collect();
    if running.is_empty() {
        anyhow::bail!("pod top can only be used on pods with at least one running container");
    }
    let mut tw = tabwriter::TabWriter::new(Vec::new())
        .minwidth(10)
        .padding(2);
    for (i, c) in running.iter().enumerate() {
        let rows = engine.top_descriptors(&c.id, &words)?;
        for (j, r) in rows.into_iter().enumerate() {
            if j == 0 && i > 0 {
                continue;
            }
            writeln!(tw, "{}", r.join("\t"))?;
        }
    }
    std::io::stdout().write_all(&tw.into_inner()?)?;
    Ok(0)
}

#[derive(Debug, Args)]
pub struct PodStatsArgs {
    /// Provide stats for all pods
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Pretty-print pod statistics to JSON or using a Go template
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Disable streaming stats and only pull the first result
    #[arg(long)]
    pub no_stream: bool,
    /// Do not reset the screen when streaming
    #[arg(long)]
    pub no_reset: bool,
    /// Act on the latest pod vaina is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,
    pub pods: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatsRow {
    pod: String,
    #[serde(rename = "CID")]
    cid: String,
    name: String,
    #[serde(rename = "CPU")]
    cpu: String,
    mem_usage: String,
    mem_usage_bytes: String,
    mem: String,
    #[serde(rename = "NetIO")]
    net_io: String,
    #[serde(rename = "BlockIO")]
    block_io: String,
    #[serde(rename = "PIDS")]
    pids: String,
}

pub fn stats(g: &GlobalOpts, a: PodStatsArgs) -> CmdResult {
    let engine = g.engine()?;
    let fmt = Format::parse(
        a.format.as_deref(),
        "table {{.Pod}}\t{{.CID}}\t{{.Name}}\t{{.CPU}}\t{{.MemUsage}}\t{{.Mem}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDS}}",
    );
    loop {
        let pods: Vec<PodRecord> = if a.pods.is_empty() {
            let mut all = engine.list_pods()?;
            if a.latest {
                all.truncate(1);
            }
            all
        } else {
            a.pods
                .iter()
                .map(|n| engine.lookup_pod(n))
                .collect::<Result<_, _>>()?
        };
        let mut rows = Vec::new();
        for p in pods {
            let v = view(&engine, p)?;
            for c in v.ctrs.iter().filter(|c| c.state == ContainerState::Running) {
                let Ok(s) = engine.container_stats(&c.id) else {
                    continue;
                };
                let cpu = if s.uptime_secs > 0.0 {
                    s.cpu_nanos as f64 / 1e9 / s.uptime_secs * 100.0
                } else {
                    0.0
                };
                let mem = if s.mem_limit > 0 {
                    s.mem_usage as f64 / s.mem_limit as f64 * 100.0
                } else {
                    0.0
                };
                rows.push(StatsRow {
                    pod: v.pod.id[..12].to_string(),
                    cid: c.id[..12].to_string(),
                    name: c.name.clone(),
                    cpu: format!("{cpu:.2}%"),
                    mem_usage: format!(
                        "{} / {}",
                        human_size(s.mem_usage as f64),
                        human_size(s.mem_limit as f64)
                    ),
                    mem_usage_bytes: format!("{} / {}", s.mem_usage, s.mem_limit),
                    mem: format!("{mem:.2}%"),
                    net_io: "-- / --".into(),
                    block_io: format!(
                        "{} / {}",
                        human_size(s.block_read as f64),
                        human_size(s.block_write as f64)
                    ),
                    pids: s.pids.to_string(),
                });
            }
        }
        if !a.no_stream && !a.no_reset && fmt != Format::Json {
            print!("\x1b[2J\x1b[H");
        }
        print_rows(
            &rows,
            &fmt,
            &[
                "Pod", "CID", "Name", "CPU", "MemUsage", "Mem", "NetIO", "BlockIO", "PIDS",
            ],
            &[
                ("Pod", "POD"),
                ("CPU", "CPU %"),
                ("MemUsage", "MEM USAGE/ LIMIT"),
                ("Mem", "MEM %"),
                ("NetIO", "NET IO"),
                ("BlockIO", "BLOCK IO"),
            ],
            false,
        )?;
        if a.no_stream {
            return Ok(0);
        }
        std::thread::sleep(std::time::Duration::from_secs(5));
    }
}

#[derive(Debug, Args)]
pub struct PodLogsArgs {
    /// Filter logs by container name or ID
    #[arg(short = 'c', long, value_name = "CONTAINER")]
    pub container: Option<String>,
    /// Follow log output
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Act on the latest pod vaina is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Output container names instead of container IDs in the log
    #[arg(long)]
    pub names: bool,
    /// Show logs since TIMESTAMP
    #[arg(long, value_name = "TIMESTAMP")]
    pub since: Option<String>,
    /// Show logs until TIMESTAMP
    #[arg(long, value_name = "TIMESTAMP")]
    pub until: Option<String>,
    /// Output the specified number of LINES at the end of the logs (-1 for all)
    #[arg(long, value_name = "LINES", default_value_t = -1, allow_negative_numbers = true)]
    pub tail: i64,
    /// Output the timestamps in the log
    #[arg(short = 't', long)]
    pub timestamps: bool,
    pub pod: Option<String>,
}

pub fn logs(g: &GlobalOpts, a: PodLogsArgs) -> CmdResult {
    use super::container::logs::parse_time;
    use libvaina::container::logs::LogOptions;
    let engine = g.engine()?;
    let pod = match (&a.pod, a.latest) {
        (Some(p), _) => engine.lookup_pod(p)?,
        (None, true) => engine
            .list_pods()?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("no pods to get logs from"))?,
        (None, false) => anyhow::bail!("specify a pod name or ID to log"),
    };
    let mut ctrs: Vec<ContainerRecord> = engine
        .pod_containers(&pod)?
        .into_iter()
        .filter(|c| c.id != pod.infra_id)
        .collect();
    if let Some(c) = &a.container {
        let want = engine.lookup_container(c)?;
        if want.config.pod != pod.id {
            anyhow::bail!("container {c} is not in pod {}", pod.name);
        }
        ctrs.retain(|x| x.id == want.id);
    }
    let opts = LogOptions {
        since: a.since.as_deref().map(parse_time).transpose()?,
        until: a.until.as_deref().map(parse_time).transpose()?,
        tail: (a.tail >= 0).then_some(a.tail as usize),
        follow: false,
    };
    if a.follow {
        // Each container's log followed on its own thread; lines interleave as they come.
        let opts = LogOptions {
            follow: true,
            ..opts
        };
        std::thread::scope(|s| {
            for c in &ctrs {
                let opts = opts.clone();
                let prefix = prefix(c, a.names);
                let ts = a.timestamps;
                let g = g.clone();
                s.spawn(move || {
                    if let Ok(engine) = g.engine() {
                        let _ = engine.container_logs(c, &opts, &mut |e| emit(&prefix, ts, e));
                    }
                });
            }
        });
        return Ok(0);
    }
    for c in &ctrs {
        let prefix = prefix(c, a.names);
        engine.container_logs(c, &opts, &mut |e| emit(&prefix, a.timestamps, e))?;
    }
    Ok(0)
}

fn prefix(c: &ContainerRecord, names: bool) -> String {
    if names {
        format!("{} ", c.name)
    } else {
        format!("{} ", &c.id[..12])
    }
}

fn emit(prefix: &str, timestamps: bool, e: &libvaina::container::logs::LogEntry) -> bool {
    let mut line = Vec::with_capacity(e.text.len() + 48);
    line.extend_from_slice(prefix.as_bytes());
    if timestamps {
        line.extend_from_slice(e.time_text.as_bytes());
        line.push(b' ');
    }
    line.extend_from_slice(&e.text);
    if e.stderr {
        std::io::stderr().lock().write_all(&line).is_ok()
    } else {
        let mut o = std::io::stdout().lock();
        o.write_all(&line).is_ok() && o.flush().is_ok()
    }
}
