//! Log writers of the monitor: k8s-file (conmon's format, `<RFC3339Nano> <stream> <F|P> <text>`,
//! `P` for a partial line), json-file (Docker's `{"log":..,"stream":..,"time":..}` lines) and
//! none. The reader side is [`crate::container::logs`].

use crate::container::config::LogDriver;
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Timestamp as conmon writes it: local time, nanoseconds, numeric offset.
pub fn timestamp() -> String {
    chrono::Local::now()
        .format("%Y-%m-%dT%H:%M:%S%.9f%:z")
        .to_string()
}

/// Where container output is recorded.
pub struct LogWriter {
    driver: LogDriver,
    file: Option<File>,
}

impl LogWriter {
    /// Opens (appending) the log at `path` for `driver`.
    pub fn open(driver: LogDriver, path: &Path) -> std::io::Result<Self> {
        let file = match driver {
            LogDriver::K8sFile | LogDriver::JsonFile => {
                if let Some(d) = path.parent() {
                    std::fs::create_dir_all(d)?;
                }
                Some(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)?,
                )
            }
            LogDriver::None | LogDriver::Passthrough => None,
        };
        Ok(LogWriter { driver, file })
    }

    /// Records one chunk of output of `stream` (`stdout` or `stderr`).
    pub fn write(&mut self, stream: &str, data: &[u8]) {
        let Some(f) = self.file.as_mut() else {
            return;
        };
        let text = format_chunk(self.driver, &timestamp(), stream, data);
        // A full disk must not kill the container's monitor: output is still served to
        // attach clients.
        let _ = f.write_all(&text);
    }
}

/// Formats a chunk into log lines.
pub fn format_chunk(driver: LogDriver, ts: &str, stream: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut rest = data;
    while !rest.is_empty() {
        let (line, full) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let l = &rest[..i];
                rest = &rest[i + 1..];
                (l, true)
            }
            None => {
                let l = rest;
                rest = &[];
                (l, false)
            }
        };
        match driver {
            LogDriver::JsonFile => {
                let mut s = String::from_utf8_lossy(line).into_owned();
                if full {
                    s.push('\n');
                }
                let v = serde_json::json!({"log": s, "stream": stream, "time": ts});
                out.extend_from_slice(v.to_string().as_bytes());
                out.push(b'\n');
            }
            _ => {
                out.extend_from_slice(ts.as_bytes());
                out.push(b' ');
                out.extend_from_slice(stream.as_bytes());
                out.extend_from_slice(if full { b" F " } else { b" P " });
                out.extend_from_slice(line);
                out.push(b'\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k8s_lines_and_partials() {
        let out = format_chunk(LogDriver::K8sFile, "T", "stdout", b"a\nbc\nde");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "T stdout F a\nT stdout F bc\nT stdout P de\n"
        );
    }

    #[test]
    fn json_lines() {
        let out = format_chunk(LogDriver::JsonFile, "T", "stderr", b"x\n");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"log\":\"x\\n\",\"stream\":\"stderr\",\"time\":\"T\"}\n"
        );
    }
}
