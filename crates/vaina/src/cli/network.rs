//! `network create/ls/inspect/rm/prune/exists/reload/connect/disconnect` with Podman's flags,
//! columns and JSON.

use super::output::{print_rows, Format};
use super::{CmdResult, GlobalOpts};
use anyhow::bail;
use clap::{Args, Subcommand};
use libvaina::network::{CreateOptions, Network, NetworkError};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};

#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Manage networks
    Network {
        #[command(subcommand)]
        cmd: NetworkSubcommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum NetworkSubcommand {
    /// Create networks for containers and pods
    Create(CreateArgs),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Inspect network
    Inspect(InspectArgs),
    /// Remove networks
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Prune unused networks
    Prune(PruneArgs),
    /// Check if network exists
    Exists { network: String },
    /// Reload firewall rules for one or more containers
    Reload(ReloadArgs),
    /// Add container to a network
    Connect(ConnectArgs),
    /// Disconnect a container from a network
    Disconnect(DisconnectArgs),
    /// The resolver of a network (started by vaina itself)
    #[command(hide = true)]
    DnsServe(DnsServeArgs),
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Network scoped alias for container
    #[arg(long = "alias", value_name = "NAME")]
    pub alias: Vec<String>,
    /// Set a static IPv4 address for this container on this network
    #[arg(long)]
    pub ip: Option<String>,
    /// Set a static IPv6 address for this container on this network
    #[arg(long)]
    pub ip6: Option<String>,
    /// Set a static MAC address for this container on this network
    #[arg(long = "mac-address")]
    pub mac_address: Option<String>,
    pub network: String,
    pub container: String,
}

#[derive(Debug, Args)]
pub struct DisconnectArgs {
    /// Force the container to disconnect from a network
    #[arg(short, long)]
    pub force: bool,
    pub network: String,
    pub container: String,
}

#[derive(Debug, Args)]
pub struct DnsServeArgs {
    #[arg(long)]
    pub socket_fd: i32,
    #[arg(long)]
    pub pid_file: std::path::PathBuf,
    pub network: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Driver to manage the network
    #[arg(short = 'd', long, default_value = "bridge")]
    pub driver: String,
    /// IPv4 or IPv6 gateway for the subnet
    #[arg(long)]
    pub gateway: Vec<String>,
    /// Restrict external access from this network
    #[arg(long)]
    pub internal: bool,
    /// Allocate container IP from range
    #[arg(long)]
    pub ip_range: Vec<String>,
    /// IP Address Management Driver
    #[arg(long)]
    pub ipam_driver: Option<String>,
    /// Enable IPv6 networking
    #[arg(long)]
    pub ipv6: bool,
    /// Set metadata on a network
    #[arg(long)]
    pub label: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long)]
    pub opt: Vec<String>,
    /// Subnets in CIDR format
    #[arg(long)]
    pub subnet: Vec<String>,
    /// Disable DNS plugin
    #[arg(long)]
    pub disable_dns: bool,
    /// Name of the bridge interface
    #[arg(long)]
    pub interface_name: Option<String>,
    /// Do not fail if the network already exists
    #[arg(long)]
    pub ignore: bool,
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Provide filter values (e.g. 'name=podman')
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Pretty-print networks to JSON or using a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Do not print headers
    #[arg(long)]
    pub noheading: bool,
    /// Do not truncate the network ID
    #[arg(long)]
    pub no_trunc: bool,
    /// Display only the network names
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Pretty-print network to JSON or using a Go template
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub networks: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Remove any containers using network
    #[arg(short, long)]
    pub force: bool,
    /// Seconds to wait for running containers to stop before killing the container
    #[arg(short, long)]
    pub time: Option<u32>,
    #[arg(required = true)]
    pub networks: Vec<String>,
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
pub struct ReloadArgs {
    /// Reload network configuration of all containers
    #[arg(short, long)]
    pub all: bool,
    /// Act on the latest container podman is aware of
    #[arg(short, long)]
    pub latest: bool,
    pub containers: Vec<String>,
}

pub fn run(g: &GlobalOpts, cmd: NetworkCommand) -> CmdResult {
    let NetworkCommand::Network { cmd } = cmd;
    match cmd {
        NetworkSubcommand::Create(a) => create(g, a),
        NetworkSubcommand::Ls(a) => ls(g, a),
        NetworkSubcommand::Inspect(a) => inspect(g, a),
        NetworkSubcommand::Rm(a) => rm(g, a),
        NetworkSubcommand::Prune(a) => prune(g, a),
        NetworkSubcommand::Exists { network } => Ok(if g.engine()?.network_exists(&network)? {
            0
        } else {
            1
        }),
        NetworkSubcommand::Reload(a) => reload(g, a),
        NetworkSubcommand::Connect(a) => connect(g, a),
        NetworkSubcommand::Disconnect(a) => {
            g.engine()?
                .container_network_disconnect(&a.container, &a.network)?;
            Ok(0)
        }
        NetworkSubcommand::DnsServe(a) => {
            let engine = g.engine()?;
            libvaina::network::dns_service::detach_and_serve(
                &engine,
                &a.network,
                a.socket_fd,
                &a.pid_file,
            )?;
            Ok(0)
        }
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
    if let Some(d) = a.ipam_driver.as_deref() {
        if !matches!(d, "" | "host-local") {
            bail!("unsupported ipam driver {d:?}");
        }
    }
    let opts = CreateOptions {
        name: a.name,
        driver: Some(a.driver),
        subnets: a.subnet,
        gateways: a.gateway,
        ip_ranges: a.ip_range,
        ipv6: a.ipv6,
        internal: a.internal,
        disable_dns: a.disable_dns,
        labels: key_values(&a.label),
        options: key_values(&a.opt),
        interface_name: a.interface_name,
        ignore: a.ignore,
    };
    let net = g.engine()?.network_create(&opts)?;
    println!("{}", net.name);
    Ok(0)
}

/// A row of `network ls` with Podman's template field names.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Row {
    #[serde(rename = "ID")]
    id: String,
    name: String,
    driver: String,
    network_interface: String,
    created: String,
    labels: String,
    options: String,
    #[serde(rename = "IPv6Enabled")]
    ipv6_enabled: bool,
    internal: bool,
    #[serde(rename = "DNSEnabled")]
    dns_enabled: bool,
    subnets: Vec<Value>,
}

fn joined(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `network ls --filter`: keys AND'd, values of one key OR'd, as Podman.
fn filter_networks(
    nets: Vec<Network>,
    filters: &[String],
    in_use: &dyn Fn(&str) -> bool,
) -> anyhow::Result<Vec<Network>> {
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in filters {
        let Some((k, v)) = f.split_once('=') else {
            bail!("invalid filter {f:?}");
        };
        by_key.entry(k.to_string()).or_default().push(v.to_string());
    }
    // Podman matches names as regular expressions.
    let name_res = by_key
        .get("name")
        .map(|v| {
            v.iter()
                .map(|p| {
                    regex::Regex::new(p)
                        .map_err(|e| anyhow::anyhow!("invalid name filter {p:?}: {e}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()
        })
        .transpose()?
        .unwrap_or_default();
    let mut out = Vec::new();
    'net: for n in nets {
        for (k, vals) in &by_key {
            let ok = match k.as_str() {
                "name" => name_res.iter().any(|r| r.is_match(&n.name)),
                "id" => vals.iter().any(|v| n.id.starts_with(v.as_str())),
                "driver" => vals.iter().any(|v| &n.driver == v),
                "label" => vals
                    .iter()
                    .all(|v| libvaina::network::ops::label_matches(&n.labels, v)),
                "label!" => !vals
                    .iter()
                    .any(|v| libvaina::network::ops::label_matches(&n.labels, v)),
                "dangling" => vals.iter().any(|v| (v == "true") != in_use(&n.name)),
                "until" => vals.iter().any(|v| until_matches(&n, v)),
                _ => bail!("invalid filter {k:?}"),
            };
            if !ok {
                continue 'net;
            }
        }
        out.push(n);
    }
    Ok(out)
}

fn until_matches(n: &Network, v: &str) -> bool {
    if let Ok(secs) = v.parse::<i64>() {
        return n.created.timestamp() < secs;
    }
    chrono::DateTime::parse_from_rfc3339(v).is_ok_and(|t| n.created < t)
}

fn ls(g: &GlobalOpts, a: LsArgs) -> CmdResult {
    let engine = g.engine()?;
    let nets = engine.network_list()?;
    let in_use = |name: &str| engine.network_containers(name).is_ok_and(|c| !c.is_empty());
    let nets = filter_networks(nets, &a.filter, &in_use)?;
    if a.quiet {
        let mut out = std::io::stdout().lock();
        for n in &nets {
            writeln!(out, "{}", n.name)?;
        }
        return Ok(0);
    }
    let format = Format::parse(a.format.as_deref(), "table {{.ID}}\t{{.Name}}\t{{.Driver}}");
    if format == Format::Json {
        super::output::print_json_indented(&nets, 2)?;
        return Ok(0);
    }
    let rows: Vec<Row> = nets
        .iter()
        .map(|n| Row {
            id: if a.no_trunc {
                n.id.clone()
            } else {
                n.id.chars().take(12).collect()
            },
            name: n.name.clone(),
            driver: n.driver.clone(),
            network_interface: n.network_interface.clone(),
            created: n.created.to_rfc3339(),
            labels: joined(&n.labels),
            options: joined(&n.options),
            ipv6_enabled: n.ipv6_enabled,
            internal: n.internal,
            dns_enabled: n.dns_enabled,
            subnets: n.subnets.iter().map(go_subnet).collect(),
        })
        .collect();
    print_rows(
        &rows,
        &format,
        &[
            "ID",
            "Name",
            "Driver",
            "NetworkInterface",
            "Created",
            "Labels",
            "Options",
            "IPv6Enabled",
            "Internal",
            "DNSEnabled",
            "Subnets",
        ],
        &[("ID", "NETWORK ID")],
        a.noheading,
    )?;
    Ok(0)
}

fn go_subnet(s: &libvaina::network::config::Subnet) -> Value {
    json!({
        "Subnet": s.subnet.to_string(),
        "Gateway": s.gateway.map(|g| g.to_string()).unwrap_or_default(),
        "LeaseRange": s.lease_range.as_ref().map(|r| json!({
            "StartIP": r.start_ip.map(|x| x.to_string()).unwrap_or_default(),
            "EndIP": r.end_ip.map(|x| x.to_string()).unwrap_or_default(),
        })),
    })
}

/// A network with Go's field names, for `inspect --format` templates.
fn go_network(n: &Network) -> Value {
    json!({
        "Name": n.name,
        "ID": n.id,
        "Driver": n.driver,
        "NetworkInterface": n.network_interface,
        "Created": n.created.to_rfc3339(),
        "Subnets": n.subnets.iter().map(go_subnet).collect::<Vec<_>>(),
        "IPv6Enabled": n.ipv6_enabled,
        "Internal": n.internal,
        "DNSEnabled": n.dns_enabled,
        "Labels": n.labels,
        "Options": n.options,
        "IPAMOptions": n.ipam_options,
    })
}

fn inspect(g: &GlobalOpts, a: InspectArgs) -> CmdResult {
    let engine = g.engine()?;
    let mut found = Vec::new();
    let mut missing = None;
    for name in &a.networks {
        match engine.network_inspect(name) {
            Ok(n) => found.push(n),
            Err(libvaina::Error::Network(NetworkError::NotFound(_))) => {
                missing.get_or_insert_with(|| name.clone());
            }
            Err(e) => return Err(e.into()),
        }
    }
    match a.format.as_deref().filter(|f| f.trim() != "json") {
        Some(f) => {
            let values: Vec<Value> = found.iter().map(go_network).collect();
            super::output::print_each(&values, f)?;
        }
        None => {
            // Podman indents `network inspect` with five spaces.
            super::output::print_json_indented(&found, 5)?;
        }
    }
    if let Some(m) = missing {
        bail!("inspecting object: network {m}: unable to find network with name or ID {m}: network not found");
    }
    Ok(0)
}

fn rm(g: &GlobalOpts, a: RmArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let mut code = 0;
    for name in &a.networks {
        match engine.network_remove_with_containers(name, a.force, a.time.map(u64::from)) {
            Ok(n) => println!("{n}"),
            Err(e) => {
                let not_found = matches!(e, libvaina::Error::Network(NetworkError::NotFound(_)));
                eprintln!("Error: {e}");
                // Podman: 1 when a network does not exist, 125 for any other failure.
                code = if not_found && code != 125 { 1 } else { 125 };
            }
        }
    }
    Ok(code)
}

fn prune(g: &GlobalOpts, a: PruneArgs) -> CmdResult {
    if !a.force {
        print!("WARNING! This will remove all networks not used by at least one container.\nAre you sure you want to continue? [y/N] ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if !matches!(line.trim(), "y" | "Y" | "yes") {
            return Ok(0);
        }
    }
    let mut engine = g.engine()?;
    let filters = a.filter.clone();
    for f in &filters {
        match f.split_once('=') {
            Some(("label" | "label!" | "until", _)) => {}
            _ => bail!("invalid filter {f:?}"),
        }
    }
    let used = engine.networks_in_use()?;
    let keep = move |n: &Network| {
        used.contains(&n.name)
            || filter_networks(vec![n.clone()], &filters, &|_| false).map_or(true, |v| v.is_empty())
    };
    for name in engine.network_prune(&keep)? {
        println!("{name}");
    }
    Ok(0)
}

fn connect(g: &GlobalOpts, a: ConnectArgs) -> CmdResult {
    let mut static_ips = Vec::new();
    for (v6, v) in [(false, &a.ip), (true, &a.ip6)] {
        let Some(v) = v else { continue };
        let ip: std::net::IpAddr = v
            .parse()
            .map_err(|_| anyhow::anyhow!("{v:?} is not an ip address"))?;
        if ip.is_ipv6() != v6 {
            bail!(
                "{v:?} is not an {} address",
                if v6 { "IPv6" } else { "IPv4" }
            );
        }
        static_ips.push(ip);
    }
    let req = libvaina::network::NetworkRequest {
        name: a.network.clone(),
        static_ips,
        mac: a
            .mac_address
            .as_deref()
            .map(libvaina::container::net::parse_mac)
            .transpose()?,
        aliases: a.alias.clone(),
        interface: None,
    };
    g.engine()?
        .container_network_connect(&a.container, &a.network, req)?;
    Ok(0)
}

fn reload(g: &GlobalOpts, a: ReloadArgs) -> CmdResult {
    if !a.all && a.containers.is_empty() && !a.latest {
        bail!("at least one container name or ID must be specified, or --all");
    }
    let engine = g.engine()?;
    let ids = engine.network_reload()?;
    let mut out = std::io::stdout().lock();
    for id in ids {
        if a.all || a.containers.iter().any(|c| id.starts_with(c.as_str())) {
            writeln!(out, "{id}")?;
        }
    }
    Ok(0)
}
