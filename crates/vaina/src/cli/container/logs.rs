//! `logs`: one or more containers' logs, Podman's flags.

use crate::cli::{CmdResult, GlobalOpts};
use chrono::{DateTime, FixedOffset};
use clap::Args;
use libvaina::container::logs::LogOptions;
use std::io::Write;

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Output the container name in the log
    #[arg(short = 'n', long)]
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
    pub containers: Vec<String>,
}

/// Parses Podman's time filters: RFC 3339 (with or without zone), a date, Unix seconds, or a
/// duration before now (`10m`, `1h30m`, `5s`).
pub fn parse_time(s: &str) -> anyhow::Result<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t);
    }
    let local = |n: chrono::NaiveDateTime| {
        n.and_local_timezone(chrono::Local)
            .single()
            .map(|t| t.fixed_offset())
    };
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Some(t) = chrono::NaiveDateTime::parse_from_str(s, f)
            .ok()
            .and_then(local)
        {
            return Ok(t);
        }
    }
    if let Some(t) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(local)
    {
        return Ok(t);
    }
    if let Ok(secs) = s.parse::<f64>() {
        if let Some(t) = DateTime::from_timestamp(secs.trunc() as i64, (secs.fract() * 1e9) as u32)
        {
            return Ok(t.fixed_offset());
        }
    }
    let mut total = 0f64;
    let mut num = String::new();
    let mut ok = !s.is_empty();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let unit = if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            0.001
        } else {
            match c {
                'h' => 3600.0,
                'm' => 60.0,
                's' => 1.0,
                _ => {
                    ok = false;
                    break;
                }
            }
        };
        match num.parse::<f64>() {
            Ok(n) => total += n * unit,
            Err(_) => ok = false,
        }
        num.clear();
    }
    if ok && num.is_empty() {
        let t = chrono::Utc::now() - chrono::Duration::milliseconds((total * 1000.0) as i64);
        return Ok(t.fixed_offset());
    }
    anyhow::bail!("invalid time value {s:?}: expecting a timestamp or a duration such as 10m")
}

pub fn logs(g: &GlobalOpts, a: LogsArgs) -> CmdResult {
    let engine = g.engine()?;
    let mut names = a.containers.clone();
    if a.latest {
        if let Some(c) = engine.list_containers()?.into_iter().next() {
            names.push(c.id);
        }
    }
    if names.is_empty() {
        anyhow::bail!("must specify at least one container name or ID to log");
    }
    let opts = LogOptions {
        since: a.since.as_deref().map(parse_time).transpose()?,
        until: a.until.as_deref().map(parse_time).transpose()?,
        tail: (a.tail >= 0).then_some(a.tail as usize),
        follow: a.follow,
    };
    // Podman prefixes lines only when several containers are shown: the name with
    // `--names`, else the short ID.
    let multi = names.len() > 1;
    let recs = names
        .iter()
        .map(|n| engine.lookup_container(n))
        .collect::<Result<Vec<_>, _>>()?;
    let show = |engine: &libvaina::Engine,
                rec: &libvaina::container::ContainerRecord|
     -> libvaina::Result<()> {
        let prefix = match (multi, a.names) {
            (false, _) => String::new(),
            (true, true) => format!("{} ", rec.name),
            (true, false) => format!("{} ", &rec.id[..12]),
        };
        engine.container_logs(rec, &opts, &mut |e| {
            let mut line = Vec::with_capacity(e.text.len() + 48);
            line.extend_from_slice(prefix.as_bytes());
            if a.timestamps {
                line.extend_from_slice(go_rfc3339_nano(&e.time).as_bytes());
                line.push(b' ');
            }
            line.extend_from_slice(&e.text);
            if e.stderr {
                std::io::stderr().lock().write_all(&line).is_ok()
            } else {
                let mut o = std::io::stdout().lock();
                o.write_all(&line).is_ok() && o.flush().is_ok()
            }
        })
    };
    if a.follow && multi {
        // Followed together, as Podman does: one reader per container.
        std::thread::scope(|scope| -> anyhow::Result<()> {
            let mut handles = Vec::new();
            for rec in &recs {
                let engine = g.engine()?;
                let show = &show;
                handles.push(scope.spawn(move || show(&engine, rec)));
            }
            for h in handles {
                h.join()
                    .map_err(|_| anyhow::anyhow!("a log reader panicked"))??;
            }
            Ok(())
        })?;
        return Ok(0);
    }
    for rec in &recs {
        show(&engine, rec)?;
    }
    Ok(0)
}

/// A timestamp as Go's `time.RFC3339Nano` prints it (what `podman logs -t` shows): trailing
/// zeros of the fraction dropped, `Z` for a zero offset.
fn go_rfc3339_nano(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    let mut out = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = format!("{:09}", t.timestamp_subsec_nanos());
    let frac = nanos.trim_end_matches('0');
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    if t.offset().local_minus_utc() == 0 {
        out.push('Z');
    } else {
        out.push_str(&t.format("%:z").to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert!(parse_time("2026-01-01T00:00:00Z").is_ok());
        assert!(parse_time("2026-01-01").is_ok());
        assert!(parse_time("1700000000").is_ok());
        let t = parse_time("10m").unwrap();
        assert!(t < chrono::Utc::now());
        assert!(parse_time("1h30m").is_ok());
        assert!(parse_time("garbage").is_err());
    }

    #[test]
    fn go_timestamps() {
        let t =
            chrono::DateTime::parse_from_rfc3339("2026-11-30T01:16:21.384308850+00:00").unwrap();
        assert_eq!(go_rfc3339_nano(&t), "2026-11-30T01:16:21.38430885Z");
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-30T01:16:21+02:00").unwrap();
        assert_eq!(go_rfc3339_nano(&t), "2026-11-30T01:16:21+02:00");
    }
}
