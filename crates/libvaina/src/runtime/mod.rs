//! The OCI runtime command line (create, start, state, kill, delete, pause, resume, exec,
//! update) of runc, crun or youki, and the choice of a runtime that works on this host.
//!
//! Called by [`crate::monitor`] (create) and [`crate::container`] (everything else). Every call
//! passes `--root <runroot>/runtime`, so vaina's runtime state never mixes with Podman's, and
//! `--log <file> --log-format json`, so a failure is reported with the runtime's own message.
//! Failures whose text says the command was not found or not executable become
//! [`RuntimeError::NotFound`] and [`RuntimeError::PermissionDenied`] (exit codes 127 and 126).

mod select;

pub use select::{cgroup_layout, select, CgroupLayout, RuntimeChoice};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Errors from the OCI runtime.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The container's command does not exist (exit code 127).
    #[error("{runtime}: {message}: OCI runtime attempted to invoke a command that was not found")]
    NotFound { runtime: String, message: String },
    /// The container's command cannot be executed (exit code 126).
    #[error("{runtime}: {message}: OCI permission denied")]
    PermissionDenied { runtime: String, message: String },
    /// Any other failure of the runtime.
    #[error("{runtime}: {message}: OCI runtime error")]
    Failed { runtime: String, message: String },
    /// The runtime binary could not be run at all.
    #[error("running {}: {source}", path.display())]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// No usable runtime on this host.
    #[error("{0}")]
    NoRuntime(String),
}

/// What `<runtime> state` says about a container.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RuntimeState {
    pub id: String,
    #[serde(default)]
    pub pid: i64,
    pub status: String,
}

/// An OCI runtime binary with the state directory vaina gives it.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// Short name (`runc`, `crun`, ...), used in messages.
    pub name: String,
    /// Absolute path of the binary.
    pub path: PathBuf,
    /// The runtime's `--root` (its state directory).
    pub root: PathBuf,
    /// Where the runtime writes its JSON log (read back on failure).
    pub log: PathBuf,
}

impl Runtime {
    /// A runtime binary at `path` keeping its state under `root`.
    pub fn new(name: &str, path: PathBuf, root: PathBuf) -> Self {
        let log = root.join("runtime.log");
        Runtime {
            name: name.to_string(),
            path,
            root,
            log,
        }
    }

    /// The same runtime logging to `log` (one log per container keeps errors apart).
    pub fn with_log(mut self, log: PathBuf) -> Self {
        self.log = log;
        self
    }

    /// A command for `<runtime> --root R --log L --log-format json <args>`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.path);
        c.arg("--root")
            .arg(&self.root)
            .arg("--log")
            .arg(&self.log)
            .arg("--log-format")
            .arg("json")
            .args(args);
        c
    }

    /// `create --bundle B --pid-file P [--console-socket S] ID`, with the given stdio.
    pub fn create(
        &self,
        id: &str,
        bundle: &Path,
        pid_file: &Path,
        console_socket: Option<&Path>,
        stdio: [Stdio; 3],
    ) -> Result<(), RuntimeError> {
        let mut c = self.command(&["create", "--bundle"]);
        c.arg(bundle).arg("--pid-file").arg(pid_file);
        if let Some(s) = console_socket {
            c.arg("--console-socket").arg(s);
        }
        c.arg(id);
        let [i, o, e] = stdio;
        c.stdin(i).stdout(o).stderr(e);
        self.run(c)
    }

    /// Whether the runtime keeps state for `id` (runc and crun keep a directory per
    /// container under their root); lets callers skip a needless `delete`.
    pub fn has_state(&self, id: &str) -> bool {
        self.root.join(id).exists()
    }

    /// `start ID`.
    pub fn start(&self, id: &str) -> Result<(), RuntimeError> {
        self.run_quiet(&["start", id])
    }

    /// Starts a created container. For runc without hooks this is what `runc start` does,
    /// in-process: open the container's exec fifo (which releases its init into the user's
    /// process), check the init's "0", remove the fifo. One runtime process fewer per start;
    /// other runtimes, or a container with hooks, go through `start`.
    pub fn start_created(&self, id: &str, has_hooks: bool) -> Result<(), RuntimeError> {
        let fifo = self.root.join(id).join("exec.fifo");
        if self.name != "runc" || has_hooks || !fifo.exists() {
            return self.start(id);
        }
        let mut f = match std::fs::File::open(&fifo) {
            Ok(f) => f,
            Err(_) => return self.start(id),
        };
        let mut data = Vec::new();
        let _ = std::io::Read::read_to_end(&mut f, &mut data);
        match std::fs::remove_file(&fifo) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(RuntimeError::Failed {
                    runtime: self.name.clone(),
                    message: format!("remove {}: {e}", fifo.display()),
                })
            }
            _ => {}
        }
        if data.first() == Some(&b'0') {
            Ok(())
        } else {
            Err(RuntimeError::Failed {
                runtime: self.name.clone(),
                message: "cannot start a container that has stopped".into(),
            })
        }
    }

    /// `state ID`, parsed.
    pub fn state(&self, id: &str) -> Result<RuntimeState, RuntimeError> {
        let mut c = self.command(&["state", id]);
        c.stdin(Stdio::null());
        let out = c.output().map_err(|source| RuntimeError::Spawn {
            path: self.path.clone(),
            source,
        })?;
        if !out.status.success() {
            return Err(self.failure(&String::from_utf8_lossy(&out.stderr)));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| RuntimeError::Failed {
            runtime: self.name.clone(),
            message: format!("parsing state of {id}: {e}"),
        })
    }

    /// `kill [--all] ID SIGNAL`.
    pub fn kill(&self, id: &str, signal: i32, all: bool) -> Result<(), RuntimeError> {
        let sig = signal.to_string();
        if all {
            self.run_quiet(&["kill", "--all", id, &sig])
        } else {
            self.run_quiet(&["kill", id, &sig])
        }
    }

    /// `delete [--force] ID`.
    pub fn delete(&self, id: &str, force: bool) -> Result<(), RuntimeError> {
        if force {
            self.run_quiet(&["delete", "--force", id])
        } else {
            self.run_quiet(&["delete", id])
        }
    }

    /// Deletes a container whose init process has exited. For runc this is done in-process
    /// (its state is a directory with `state.json` naming the cgroups): the empty cgroups are
    /// removed and the state directory deleted, saving a runtime process on every exit. Any
    /// surprise (another runtime, a cgroup that still has processes) falls back to
    /// `delete --force`.
    pub fn delete_exited(&self, id: &str) -> Result<(), RuntimeError> {
        if self.name == "runc" && self.delete_runc_state(id) {
            return Ok(());
        }
        self.delete(id, true)
    }

    fn delete_runc_state(&self, id: &str) -> bool {
        let dir = self.root.join(id);
        let Ok(text) = std::fs::read(dir.join("state.json")) else {
            return false;
        };
        let Ok(state) = serde_json::from_slice::<serde_json::Value>(&text) else {
            return false;
        };
        let Some(paths) = state.get("cgroup_paths").and_then(|p| p.as_object()) else {
            return false;
        };
        for p in paths.values().filter_map(|v| v.as_str()) {
            match std::fs::remove_dir(p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(_) => return false,
            }
        }
        std::fs::remove_dir_all(&dir).is_ok()
    }

    /// `pause ID`.
    pub fn pause(&self, id: &str) -> Result<(), RuntimeError> {
        self.run_quiet(&["pause", id])
    }

    /// `resume ID`.
    pub fn resume(&self, id: &str) -> Result<(), RuntimeError> {
        self.run_quiet(&["resume", id])
    }

    /// `update --resources FILE ID`.
    pub fn update(&self, id: &str, resources: &Path) -> Result<(), RuntimeError> {
        let r = resources.to_string_lossy();
        self.run_quiet(&["update", "--resources", &r, id])
    }

    /// A command for `exec --process FILE [--detach] [--pid-file P] [--console-socket S]
    /// [--preserve-fds N] ID`; the caller chooses stdio and waits (a foreground exec returns
    /// the process's status).
    pub fn exec_command(
        &self,
        id: &str,
        process: &Path,
        detach: bool,
        pid_file: Option<&Path>,
        console_socket: Option<&Path>,
        preserve_fds: u32,
    ) -> Command {
        let mut c = self.command(&["exec", "--process"]);
        c.arg(process);
        if preserve_fds > 0 {
            c.arg("--preserve-fds").arg(preserve_fds.to_string());
        }
        if detach {
            c.arg("--detach");
        }
        if let Some(p) = pid_file {
            c.arg("--pid-file").arg(p);
        }
        if let Some(s) = console_socket {
            c.arg("--console-socket").arg(s);
        }
        c.arg(id);
        c
    }

    fn run_quiet(&self, args: &[&str]) -> Result<(), RuntimeError> {
        let mut c = self.command(args);
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        self.run(c)
    }

    fn run(&self, mut c: Command) -> Result<(), RuntimeError> {
        let _ = std::fs::remove_file(&self.log);
        let out = c
            .spawn()
            .and_then(|ch| ch.wait_with_output())
            .map_err(|source| RuntimeError::Spawn {
                path: self.path.clone(),
                source,
            })?;
        if out.status.success() {
            return Ok(());
        }
        Err(self.failure(&String::from_utf8_lossy(&out.stderr)))
    }

    /// The error of a failed call: the last error of the JSON log, else stderr.
    pub fn failure(&self, stderr: &str) -> RuntimeError {
        let from_log = self.last_logged_error();
        let message = from_log.unwrap_or_else(|| {
            let s = stderr.trim();
            if s.is_empty() {
                "the runtime failed without a message".to_string()
            } else {
                s.lines().last().unwrap_or(s).to_string()
            }
        });
        classify(&self.name, message)
    }

    /// The message of the last `"level":"error"` line of the runtime's JSON log.
    pub fn last_logged_error(&self) -> Option<String> {
        let text = std::fs::read_to_string(&self.log).ok()?;
        text.lines().rev().find_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            if v.get("level")?.as_str()? == "error" {
                v.get("msg")?.as_str().map(str::to_string)
            } else {
                None
            }
        })
    }
}

/// Sorts a runtime failure into not found (127), not executable (126) or other (125), by the
/// runtime's wording, as Podman does.
pub fn classify(runtime: &str, message: String) -> RuntimeError {
    let m = message.to_ascii_lowercase();
    let runtime = runtime.to_string();
    let exec = m.contains("exec: \"") || m.contains("exec failed");
    if m.contains("executable file not found") || exec && m.contains("no such file or directory") {
        RuntimeError::NotFound { runtime, message }
    } else if exec && m.contains("permission denied") {
        RuntimeError::PermissionDenied { runtime, message }
    } else {
        RuntimeError::Failed { runtime, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_runc_messages() {
        let nf = classify(
            "runc",
            "runc create failed: unable to start container process: exec: \"nosuch\": executable file not found in $PATH".into(),
        );
        assert!(matches!(nf, RuntimeError::NotFound { .. }));
        assert!(nf.to_string().starts_with("runc: runc create failed"));
        let abs = classify(
            "runc",
            "runc create failed: unable to start container process: exec: \"/x\": stat /x: no such file or directory".into(),
        );
        assert!(matches!(abs, RuntimeError::NotFound { .. }));
        let pd = classify(
            "runc",
            "runc create failed: unable to start container process: exec: \"/etc/passwd\": permission denied".into(),
        );
        assert!(matches!(pd, RuntimeError::PermissionDenied { .. }));
        let fifo = classify(
            "runc",
            "remove /run/x/exec.fifo: no such file or directory".into(),
        );
        assert!(matches!(fifo, RuntimeError::Failed { .. }));
        let other = classify("runc", "container does not exist".into());
        assert!(matches!(other, RuntimeError::Failed { .. }));
    }

    #[test]
    fn reads_last_logged_error() {
        let dir = tempfile::tempdir().unwrap();
        let rt = Runtime::new("runc", "/bin/false".into(), dir.path().to_path_buf());
        std::fs::write(
            &rt.log,
            "{\"level\":\"warning\",\"msg\":\"w\"}\n{\"level\":\"error\",\"msg\":\"first\"}\n{\"level\":\"error\",\"msg\":\"second\"}\n",
        )
        .unwrap();
        assert_eq!(rt.last_logged_error().as_deref(), Some("second"));
    }
}
