//! `stats` (cgroup usage, Podman's columns) and `update` (resource limits).

use crate::cli::output::{print_rows, Format};
use crate::cli::{CmdResult, GlobalOpts};
use clap::Args;
use libvaina::container::options::{parse, Resources};
use libvaina::container::stats::StatsSample;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Show all containers. Only running containers are shown by default
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Pretty-print container statistics to JSON or using a Go template
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Set the interval between updates in seconds
    #[arg(short = 'i', long, default_value_t = 5)]
    pub interval: u64,
    /// Disable streaming stats and only pull the first result
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Do not reset the screen between intervals
    #[arg(long)]
    pub no_reset: bool,
    #[command(flatten)]
    pub latest: super::lifecycle::Latest,
    pub containers: Vec<String>,
}

/// Go's `units.HumanSizeWithPrecision(v, 3)`: decimal units, three significant digits.
pub fn human_size(v: f64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = v;
    let mut i = 0;
    while v >= 1000.0 && i < units.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    let mut s = format!("{v:.digits$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{s}{}", units[i])
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Row {
    #[serde(rename = "ID")]
    id: String,
    name: String,
    #[serde(rename = "CPUPerc")]
    cpu_perc: String,
    mem_usage: String,
    mem_perc: String,
    #[serde(rename = "NetIO")]
    net_io: String,
    #[serde(rename = "BlockIO")]
    block_io: String,
    #[serde(rename = "PIDs")]
    pids: String,
    #[serde(rename = "CPU")]
    cpu: String,
    #[serde(rename = "AVGCPU")]
    avg_cpu: String,
    up_time: String,
}

fn row(s: &StatsSample, prev: Option<(&StatsSample, f64)>, no_trunc: bool) -> Row {
    let avg = if s.uptime_secs > 0.0 {
        s.cpu_nanos as f64 / 1e9 / s.uptime_secs * 100.0
    } else {
        0.0
    };
    let cur = match prev {
        Some((p, dt)) if dt > 0.0 => {
            (s.cpu_nanos.saturating_sub(p.cpu_nanos)) as f64 / 1e9 / dt * 100.0
        }
        _ => avg,
    };
    let mem_perc = if s.mem_limit > 0 {
        s.mem_usage as f64 / s.mem_limit as f64 * 100.0
    } else {
        0.0
    };
    Row {
        id: if no_trunc {
            s.id.clone()
        } else {
            s.id[..12.min(s.id.len())].to_string()
        },
        name: s.name.clone(),
        cpu_perc: format!("{cur:.2}%"),
        mem_usage: format!(
            "{} / {}",
            human_size(s.mem_usage as f64),
            human_size(s.mem_limit as f64)
        ),
        mem_perc: format!("{mem_perc:.2}%"),
        net_io: format!(
            "{} / {}",
            human_size(s.net_input as f64),
            human_size(s.net_output as f64)
        ),
        block_io: format!(
            "{} / {}",
            human_size(s.block_read as f64),
            human_size(s.block_write as f64)
        ),
        pids: s.pids.to_string(),
        cpu: libvaina::container::top::go_duration((s.cpu_nanos / 1000) as f64 / 1e6),
        avg_cpu: format!("{avg:.2}%"),
        up_time: libvaina::container::top::go_duration(s.uptime_secs.floor()),
    }
}

pub fn stats(g: &GlobalOpts, a: StatsArgs) -> CmdResult {
    let engine = g.engine()?;
    let names = |engine: &libvaina::Engine| -> anyhow::Result<Vec<String>> {
        if a.latest.latest {
            return Ok(vec![super::lifecycle::latest_id(engine)?]);
        }
        if !a.containers.is_empty() {
            return Ok(a.containers.clone());
        }
        Ok(engine
            .list_containers()?
            .into_iter()
            .filter(|c| c.state == libvaina::container::ContainerState::Running)
            .map(|c| c.id)
            .collect())
    };
    let fmt = Format::parse(
        a.format.as_deref(),
        "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}\t{{.CPU}}\t{{.AVGCPU}}",
    );
    let headers = [
        ("ID", "ID"),
        ("CPUPerc", "CPU %"),
        ("MemUsage", "MEM USAGE / LIMIT"),
        ("MemPerc", "MEM %"),
        ("NetIO", "NET IO"),
        ("BlockIO", "BLOCK IO"),
        ("PIDs", "PIDS"),
        ("CPU", "CPU TIME"),
        ("AVGCPU", "AVG CPU %"),
        ("UpTime", "UP TIME"),
    ];
    let fields = [
        "ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs", "CPU",
        "AVGCPU", "UpTime",
    ];
    let mut prev: Vec<StatsSample> = Vec::new();
    let mut last = std::time::Instant::now();
    loop {
        let mut samples = Vec::new();
        for n in names(&engine)? {
            samples.push(engine.container_stats(&n)?);
        }
        let dt = last.elapsed().as_secs_f64();
        last = std::time::Instant::now();
        let rows: Vec<Row> = samples
            .iter()
            .map(|s| {
                let p = prev.iter().find(|p| p.id == s.id).map(|p| (p, dt));
                row(s, p, a.no_trunc)
            })
            .collect();
        if !a.no_stream && !a.no_reset && fmt != Format::Json {
            print!("\x1b[2J\x1b[H");
        }
        if fmt == Format::Json {
            print_json(&rows)?;
        } else {
            print_rows(&rows, &fmt, &fields, &headers, false)?;
        }
        if a.no_stream {
            return Ok(0);
        }
        prev = samples;
        std::thread::sleep(std::time::Duration::from_secs(a.interval.max(1)));
    }
}

/// `stats --format json`: Podman's own keys and order, indented by one space.
fn print_json(rows: &[Row]) -> anyhow::Result<()> {
    #[derive(serde::Serialize)]
    struct Json<'a> {
        id: &'a str,
        name: &'a str,
        cpu_time: &'a str,
        cpu_percent: &'a str,
        avg_cpu: &'a str,
        mem_usage: &'a str,
        mem_percent: &'a str,
        net_io: &'a str,
        block_io: &'a str,
        pids: &'a str,
    }
    let v: Vec<Json<'_>> = rows
        .iter()
        .map(|r| Json {
            id: &r.id,
            name: &r.name,
            cpu_time: &r.cpu,
            cpu_percent: &r.cpu_perc,
            avg_cpu: &r.avg_cpu,
            mem_usage: &r.mem_usage,
            mem_percent: &r.mem_perc,
            net_io: &r.net_io,
            block_io: &r.block_io,
            pids: &r.pids,
        })
        .collect();
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(&v, &mut ser)?;
    out.push(b'\n');
    std::io::Write::write_all(&mut std::io::stdout(), &out)?;
    Ok(())
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Memory limit (format: <number>[<unit>], where unit = b, k, m or g)
    #[arg(short = 'm', long, value_name = "MEMORY")]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long, value_name = "MEMORY")]
    pub memory_swap: Option<String>,
    /// Memory soft limit
    #[arg(long, value_name = "MEMORY")]
    pub memory_reservation: Option<String>,
    /// Number of CPUs. The default is 0.000 which means no limit
    #[arg(long, value_name = "CPUS")]
    pub cpus: Option<String>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long, value_name = "SHARES")]
    pub cpu_shares: Option<String>,
    /// Limit the CPU CFS (Completely Fair Scheduler) period
    #[arg(long, value_name = "PERIOD")]
    pub cpu_period: Option<String>,
    /// Limit the CPU CFS (Completely Fair Scheduler) quota
    #[arg(long, value_name = "QUOTA")]
    pub cpu_quota: Option<String>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long, value_name = "CPUS")]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes (MEMs) in which to allow execution (0-3, 0,1)
    #[arg(long, value_name = "NODES")]
    pub cpuset_mems: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long, value_name = "LIMIT", allow_negative_numbers = true)]
    pub pids_limit: Option<String>,
    /// Block IO weight (relative weight) accepts a weight value between 10 and 1000
    #[arg(long, value_name = "WEIGHT")]
    pub blkio_weight: Option<String>,
    pub container: String,
}

pub fn update(g: &GlobalOpts, a: UpdateArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let mut r = Resources::default();
    if let Some(m) = &a.memory {
        r.memory = Some(parse::memory("memory", m)?);
    }
    if let Some(m) = &a.memory_swap {
        r.memory_swap = Some(parse::memory_swap(m)?);
    }
    if let Some(m) = &a.memory_reservation {
        r.memory_reservation = Some(parse::memory("memory-reservation", m)?);
    }
    if let Some(c) = &a.cpu_shares {
        r.cpu_shares = Some(parse::uint_flag("-c, --cpu-shares", c)?);
    }
    if let Some(p) = &a.cpu_period {
        r.cpu_period = Some(parse::uint_flag("--cpu-period", p)?);
    }
    if let Some(q) = &a.cpu_quota {
        r.cpu_quota = Some(parse::int_flag("--cpu-quota", q)?);
    }
    if let Some(c) = &a.cpus {
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        r.cpu_quota = Some(parse::cpus(c, n)?);
        r.cpu_period = Some(100_000);
    }
    r.cpuset_cpus = a.cpuset_cpus.clone();
    r.cpuset_mems = a.cpuset_mems.clone();
    if let Some(p) = &a.pids_limit {
        let n = parse::int_flag("--pids-limit", p)?;
        r.pids_limit = Some(if n > 0 { n } else { -1 });
    }
    if let Some(w) = &a.blkio_weight {
        r.blkio_weight = parse::blkio_weight(w)?;
    }
    println!("{}", engine.update_container(&a.container, &r)?);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_go_units() {
        assert_eq!(human_size(0.0), "0B");
        assert_eq!(human_size(1225000.0), "1.23MB");
        assert_eq!(human_size(24_500_000_000.0), "24.5GB");
        assert_eq!(human_size(999.0), "999B");
        assert_eq!(human_size(2000.0), "2kB");
    }
}
