//! Reading container logs written by the monitor ([`crate::monitor::log`]): k8s-file and
//! json-file lines parsed back into entries, partial (`P`) lines joined, `--since`, `--until`
//! and `--tail` applied, and `--follow` by reading on while the monitor lives.

use super::config::LogDriver;
use super::lifecycle::monitor_alive;
use super::record::ContainerRecord;
use super::ContainerError;
use crate::{Engine, Result};
use chrono::{DateTime, FixedOffset};
use std::io::{BufRead, BufReader, Seek};
use std::time::Duration;

/// One log line (partial lines already joined).
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub time: DateTime<FixedOffset>,
    /// The timestamp exactly as stored.
    pub time_text: String,
    pub stderr: bool,
    /// The text, with its newline when the line was complete.
    pub text: Vec<u8>,
}

/// What `logs` asks for.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub since: Option<DateTime<FixedOffset>>,
    pub until: Option<DateTime<FixedOffset>>,
    /// Only the last N lines.
    pub tail: Option<usize>,
    pub follow: bool,
}

/// Parses one stored line of `driver`'s format: (time text, stderr, partial, text).
fn parse_line(driver: LogDriver, line: &[u8]) -> Option<(String, bool, bool, Vec<u8>)> {
    match driver {
        LogDriver::JsonFile => {
            let v: serde_json::Value = serde_json::from_slice(line).ok()?;
            let text = v.get("log")?.as_str()?.as_bytes().to_vec();
            let partial = !text.ends_with(b"\n");
            let mut text = text;
            if !partial {
                text.pop();
            }
            Some((
                v.get("time")?.as_str()?.to_string(),
                v.get("stream")?.as_str()? == "stderr",
                partial,
                text,
            ))
        }
        _ => {
            let mut parts = line.splitn(4, |&b| b == b' ');
            let ts = std::str::from_utf8(parts.next()?).ok()?.to_string();
            let stream = parts.next()?;
            let tag = parts.next()?;
            let text = parts.next().unwrap_or_default().to_vec();
            Some((ts, stream == b"stderr", tag == b"P", text))
        }
    }
}

/// Parses a whole log text into entries.
pub fn parse(driver: LogDriver, data: &[u8]) -> Vec<LogEntry> {
    let mut out = Vec::new();
    let mut pending: Option<LogEntry> = None;
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let Some((ts, stderr, partial, text)) = parse_line(driver, line) else {
            continue;
        };
        let Ok(time) = DateTime::parse_from_rfc3339(&ts) else {
            continue;
        };
        let e = match pending.take() {
            Some(mut p) if p.stderr == stderr => {
                p.text.extend_from_slice(&text);
                p
            }
            other => {
                if let Some(p) = other {
                    out.push(p);
                }
                LogEntry {
                    time,
                    time_text: ts,
                    stderr,
                    text,
                }
            }
        };
        if partial {
            pending = Some(e);
        } else {
            let mut e = e;
            e.text.push(b'\n');
            out.push(e);
        }
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out
}

fn keep(e: &LogEntry, o: &LogOptions) -> bool {
    o.since.is_none_or(|s| e.time >= s) && o.until.is_none_or(|u| e.time <= u)
}

impl Engine {
    /// Streams a container's log entries to `sink` as [`LogOptions`] say; with `follow`,
    /// returns when the container's monitor is gone (or `sink` returns false).
    pub fn container_logs(
        &self,
        rec: &ContainerRecord,
        opts: &LogOptions,
        sink: &mut dyn FnMut(&LogEntry) -> bool,
    ) -> Result<()> {
        let driver = rec.config.log_driver;
        if matches!(driver, LogDriver::None | LogDriver::Passthrough) {
            return Err(ContainerError::Invalid(format!(
                "this container is using the {:?} log driver, cannot read logs: this container is not logging to a file",
                driver.name()
            ))
            .into());
        }
        let path = &rec.config.log_path;
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !opts.follow {
                    return Ok(());
                }
                // The monitor creates it when the container starts.
                return Ok(());
            }
            Err(e) => return Err(crate::Error::io(path, e)),
        };
        let mut reader = BufReader::new(file);
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut data)
            .map_err(|e| crate::Error::io(path, e))?;
        // Only complete lines count; a torn last line is read again when following.
        let cut = data.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut entries: Vec<LogEntry> = parse(driver, &data[..cut])
            .into_iter()
            .filter(|e| keep(e, opts))
            .collect();
        if let Some(n) = opts.tail {
            let skip = entries.len().saturating_sub(n);
            entries.drain(..skip);
        }
        for e in &entries {
            if !sink(e) {
                return Ok(());
            }
        }
        if !opts.follow {
            return Ok(());
        }
        let paths = self.container_paths(&rec.id);
        let mut pos = cut as u64;
        let mut carry = Vec::new();
        loop {
            let alive = monitor_alive(&paths);
            reader
                .seek(std::io::SeekFrom::Start(pos))
                .map_err(|e| crate::Error::io(path, e))?;
            let mut chunk = Vec::new();
            loop {
                let n = reader
                    .read_until(b'\n', &mut chunk)
                    .map_err(|e| crate::Error::io(path, e))?;
                if n == 0 || !chunk.ends_with(b"\n") {
                    break;
                }
            }
            let complete = chunk.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            pos += complete as u64;
            carry.extend_from_slice(&chunk[..complete]);
            if !carry.is_empty() {
                for e in parse(driver, &carry) {
                    if keep(&e, opts) && !sink(&e) {
                        return Ok(());
                    }
                }
                carry.clear();
            }
            if !alive {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_partials_and_parses_both_formats() {
        let k8s = b"2026-01-01T00:00:00.000000001+00:00 stdout P ab\n2026-01-01T00:00:00.000000002+00:00 stdout F cd\n2026-01-01T00:00:01.000000000+00:00 stderr F e f\n";
        let e = parse(LogDriver::K8sFile, k8s);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].text, b"abcd\n");
        assert!(!e[0].stderr);
        assert_eq!(e[1].text, b"e f\n");
        assert!(e[1].stderr);
        let json = b"{\"log\":\"x\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-01T00:00:00Z\"}\n";
        let e = parse(LogDriver::JsonFile, json);
        assert_eq!(e[0].text, b"x\n");
    }

    #[test]
    fn filters() {
        let k8s = b"2026-01-01T00:00:00Z stdout F a\n2026-01-01T00:00:05Z stdout F b\n";
        let e = parse(LogDriver::K8sFile, k8s);
        let o = LogOptions {
            since: DateTime::parse_from_rfc3339("2026-01-01T00:00:01Z").ok(),
            ..Default::default()
        };
        let kept: Vec<_> = e.iter().filter(|x| keep(x, &o)).collect();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].text, b"b\n");
    }
}
