//! `exec`: runs a process in a running container through `runtime exec --process`. The
//! process description starts from the container's own (capabilities, rlimits, environment,
//! terminal settings) with the exec's command, user, directory and variables on top.
//!
//! Every exec is a session with an ID, recorded as a small JSON file under
//! `<runroot>/containers/<id>/exec/` (inspect's `ExecIDs`); the sessions of a container are
//! forgotten when it stops, as Podman does. A session's monitor records its exit code:
//! - a foreground exec without a terminal is monitored by the calling process itself (the
//!   runtime runs in the foreground with the caller's stdin and stdout; its stderr goes through
//!   a pipe so the runtime's own error line is not printed besides ours);
//! - `-d` and `-t` sessions get a detached exec monitor ([`crate::monitor::exec`]), which runs
//!   `runtime exec --detach` (with a console socket for `-t`), reaps the process as a child
//!   subreaper and serves the session's attach socket, so detach keys leave it running.
//!
//! Every monitor (the CLI in the foreground, or the exec monitor) holds the session's lock
//! ([`monitor_lock`]) while it runs; a session recorded running with a free lock lost its
//! monitor and is recorded exited when sessions are listed.

use super::record::ContainerState;
use super::rootfs::ContainerPaths;
use super::ContainerError;
use crate::error::IoContext;
use crate::runtime::RuntimeError;
use crate::{Engine, Result};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::Stdio;

/// What `exec` runs.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub command: Vec<String>,
    /// `KEY=VALUE` additions.
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub tty: bool,
    pub interactive: bool,
    pub detach: bool,
    pub privileged: bool,
    /// `--preserve-fds N`: descriptors 3..3+N of the caller go to the process.
    pub preserve_fds: u32,
}

/// Resolves `user[:group]` against the container's /etc/passwd and /etc/group.
pub fn resolve_user(rootfs: &std::path::Path, spec: &str) -> Result<(u32, u32)> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap_or_default();
    let find = |text: &str, name: &str| -> Option<Vec<String>> {
        text.lines()
            .map(|l| l.split(':').map(str::to_string).collect::<Vec<_>>())
            .find(|f| f.first().map(String::as_str) == Some(name))
    };
    let (uid, mut gid) = match user.parse::<u32>() {
        Ok(u) => (u, 0),
        Err(_) => {
            let f = find(&passwd, user).ok_or_else(|| {
                ContainerError::Invalid(format!(
                    "unable to find user {user}: no matching entries in passwd file"
                ))
            })?;
            (
                f.get(2).and_then(|v| v.parse().ok()).unwrap_or(0),
                f.get(3).and_then(|v| v.parse().ok()).unwrap_or(0),
            )
        }
    };
    if let Some(g) = group {
        gid = match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                let groups = std::fs::read_to_string(rootfs.join("etc/group")).unwrap_or_default();
                let f = find(&groups, g).ok_or_else(|| {
                    ContainerError::Invalid(format!(
                        "unable to find group {g}: no matching entries in group file"
                    ))
                })?;
                f.get(2).and_then(|v| v.parse().ok()).unwrap_or(0)
            }
        };
    }
    Ok((uid, gid))
}

/// One exec session as recorded in `<runroot>/containers/<id>/exec/<session>.json`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ExecSession {
    pub id: String,
    pub container_id: String,
    pub command: Vec<String>,
    pub tty: bool,
    pub detach: bool,
    /// The process's PID (0 before it started).
    pub pid: i64,
    pub running: bool,
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub preserve_fds: u32,
    /// The process's start time (`/proc/PID/stat` field 22; 0 when unknown), to tell it from
    /// a later process with the same PID.
    #[serde(default)]
    pub start_time: u64,
}

/// The start time of process `pid` (clock ticks since boot), if it exists.
pub fn process_start_time(pid: i64) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command (field 2) may hold spaces and parentheses: count from its closing one.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

/// The process of a session whose monitor died, if it still runs. An exec monitor recorded
/// its PID and start time; a foreground session recorded the runtime's PID, and the runtime
/// wrote the process's to `<session>.pid`: that PID counts while it is in the container's
/// PID namespace.
fn leftover_process(paths: &ContainerPaths, s: &ExecSession) -> Option<i32> {
    if s.start_time != 0 {
        return (s.pid > 0 && process_start_time(s.pid) == Some(s.start_time))
            .then_some(s.pid as i32);
    }
    let read_pid = |p: PathBuf| -> Option<i32> {
        std::fs::read_to_string(p)
            .ok()?
            .trim()
            .parse()
            .ok()
            .filter(|&n| n > 0)
    };
    let pid = read_pid(sessions_dir(paths).join(format!("{}.pid", s.id)))?;
    let init = read_pid(paths.pid_file())?;
    let ns = |p: i32| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    (pid != init && ns(pid).is_some() && ns(pid) == ns(init)).then_some(pid)
}

/// Fixes a session recorded running whose monitor died (killed): its process, if it still
/// runs, is killed (137), else its code is unknown (-1), as the container monitor's death is
/// handled ([`Engine::reconcile`]).
fn reconcile_session(paths: &ContainerPaths, s: &mut ExecSession) {
    if !s.running || super::lifecycle::lock_held(&monitor_lock(paths, &s.id)) {
        return;
    }
    // The monitor may have recorded the exit between our read and the lock check.
    match read_session(paths, &s.id) {
        Some(fresh) if !fresh.running => {
            *s = fresh;
            return;
        }
        None => return,
        Some(_) => {}
    }
    let leftover = leftover_process(paths, s);
    let alive = leftover.is_some();
    if let Some(pid) = leftover {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    s.running = false;
    s.exit_code = Some(if alive { 137 } else { -1 });
    let _ = write_session(paths, s);
    let _ = std::fs::remove_file(session_socket(paths, &s.id));
}

/// Where a container's exec sessions are recorded.
pub fn sessions_dir(paths: &ContainerPaths) -> PathBuf {
    paths.run_dir.join("exec")
}

fn session_file(paths: &ContainerPaths, id: &str) -> PathBuf {
    sessions_dir(paths).join(format!("{id}.json"))
}

/// The process description file of a session, read by the runtime.
pub fn process_file(paths: &ContainerPaths, id: &str) -> PathBuf {
    sessions_dir(paths).join(format!("{id}.process.json"))
}

/// The attach socket of a monitored session.
pub fn session_socket(paths: &ContainerPaths, id: &str) -> PathBuf {
    sessions_dir(paths).join(format!("{}.sock", &id[..id.len().min(16)]))
}

/// Records (replaces) a session; written to a temp file and renamed.
pub fn write_session(paths: &ContainerPaths, s: &ExecSession) -> Result<()> {
    let dir = sessions_dir(paths);
    std::fs::create_dir_all(&dir).with_path(&dir)?;
    let f = session_file(paths, &s.id);
    let tmp = dir.join(format!(".{}.tmp", s.id));
    let text = serde_json::to_vec(s)
        .map_err(|e| ContainerError::Invalid(format!("encoding exec session: {e}")))?;
    std::fs::write(&tmp, text).with_path(&tmp)?;
    std::fs::rename(&tmp, &f).with_path(&f)?;
    Ok(())
}

/// Updates a recorded session unless the container's sessions were cleared meanwhile.
pub fn update_session(paths: &ContainerPaths, id: &str, f: impl FnOnce(&mut ExecSession)) {
    if let Some(mut s) = read_session(paths, id) {
        f(&mut s);
        let _ = write_session(paths, &s);
    }
}

pub fn read_session(paths: &ContainerPaths, id: &str) -> Option<ExecSession> {
    let text = std::fs::read(session_file(paths, id)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The container's exec sessions, oldest first.
pub fn list_sessions(paths: &ContainerPaths) -> Vec<ExecSession> {
    let Ok(rd) = std::fs::read_dir(sessions_dir(paths)) else {
        return Vec::new();
    };
    let mut v: Vec<(std::time::SystemTime, ExecSession)> = rd
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.ends_with(".json") && !n.ends_with(".process.json") && !n.starts_with('.')
        })
        .filter_map(|e| {
            // Birth time where the filesystem has it (tmpfs does), else the last change.
            let m = e.metadata().ok()?;
            let t = m.created().or_else(|_| m.modified()).ok()?;
            let mut s = serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
            reconcile_session(paths, &mut s);
            Some((t, s))
        })
        .collect();
    v.sort_by_key(|(t, _)| *t);
    v.into_iter().map(|(_, s)| s).collect()
}

/// Held by an exec session's monitor for its whole life.
pub fn monitor_lock(paths: &ContainerPaths, id: &str) -> PathBuf {
    sessions_dir(paths).join(format!("{id}.lock"))
}

/// Forgets every exec session of a container (it stopped), after waiting (up to `wait`) for
/// their monitors to exit: their processes died with the container, so they are on their
/// way out, and whoever waits for the container must not find them still running.
pub fn clear_sessions(paths: &ContainerPaths, wait: std::time::Duration) {
    let dir = sessions_dir(paths);
    let deadline = std::time::Instant::now() + wait;
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            if e.path().extension().is_some_and(|x| x == "lock") {
                while matches!(
                    crate::store::lock::FileLock::try_exclusive(&e.path()),
                    Ok(None)
                ) && std::time::Instant::now() < deadline
                {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A session ready to run: its record written and its process description in place.
pub struct PreparedExec {
    pub session: ExecSession,
    pub paths: ContainerPaths,
    pub runtime: crate::runtime::Runtime,
    pub interactive: bool,
}

impl PreparedExec {
    /// The runtime's log of this session.
    fn log(&self) -> PathBuf {
        sessions_dir(&self.paths).join(format!("{}.log", self.session.id))
    }

    /// The runtime for this session, logging to the session's own file.
    pub fn runtime(&self) -> crate::runtime::Runtime {
        self.runtime.clone().with_log(self.log())
    }

    /// Removes the session's temporary files (not its record).
    pub fn remove_files(&self) {
        let _ = std::fs::remove_file(process_file(&self.paths, &self.session.id));
        let _ = std::fs::remove_file(self.log());
    }
}

/// All capabilities this process may hand out (its bounding set), for `exec --privileged`.
fn all_capabilities() -> oci_spec::runtime::Capabilities {
    use std::str::FromStr;
    super::spec::host::bounding_capabilities()
        .iter()
        .filter_map(|c| oci_spec::runtime::Capability::from_str(c).ok())
        .collect()
}

/// Copies the runtime's stderr to ours, leaving out the runtime's own error line (the caller
/// reports that error once, in Podman's words). The runtime logs its error before printing it,
/// so a chunk that is exactly the logged error is recognised as it arrives.
fn forward_stderr(mut from: std::process::ChildStderr, rt: crate::runtime::Runtime) {
    use std::io::{Read, Write};
    let mut buf = vec![0u8; 16 * 1024];
    let mut err = std::io::stderr();
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        let logged = std::fs::metadata(&rt.log)
            .is_ok_and(|m| m.len() > 0)
            .then(|| rt.last_logged_error())
            .flatten();
        let out: Vec<u8> = match logged {
            Some(msg) => {
                let text = String::from_utf8_lossy(chunk);
                text.lines()
                    .filter(|l| l.trim() != msg.trim())
                    .flat_map(|l| format!("{l}\n").into_bytes())
                    .collect()
            }
            None => chunk.to_vec(),
        };
        let _ = err.write_all(&out);
    }
}

impl Engine {
    /// Checks the container, writes the session's process description and records the
    /// session (not yet running).
    pub fn exec_prepare(&mut self, name_or_id: &str, opts: &ExecOptions) -> Result<PreparedExec> {
        let rec = self.lookup_container(name_or_id)?;
        let paths = self.container_paths(&rec.id);
        if rec.state != ContainerState::Running {
            return Err(ContainerError::ExecNotRunning.into());
        }
        if opts.command.is_empty() {
            return Err(ContainerError::ExecSetup(
                "must provide a non-empty command to start an exec session: invalid argument"
                    .into(),
            )
            .into());
        }
        let spec = oci_spec::runtime::Spec::load(paths.config_json()).map_err(|e| {
            ContainerError::Invalid(format!("reading {}: {e}", paths.config_json().display()))
        })?;
        let mut process = spec.process().clone().unwrap_or_default();
        process.set_args(Some(opts.command.clone()));
        process.set_terminal(Some(opts.tty));
        let mut env = process.env().clone().unwrap_or_default();
        // Podman's exec sessions get the container's environment without the HOSTNAME it
        // added at create.
        env.retain(|x| !x.starts_with("HOSTNAME="));
        for e in &opts.env {
            let key = e.split_once('=').map_or(e.as_str(), |(k, _)| k);
            env.retain(|x| x.split_once('=').map_or(x.as_str(), |(k, _)| k) != key);
            env.push(e.clone());
        }
        process.set_env(Some(env));
        if let Some(w) = &opts.workdir {
            process.set_cwd(w.into());
        }
        if let Some(u) = &opts.user {
            let (uid, gid) = resolve_user(&paths.merged(), u).map_err(|e| match e {
                crate::Error::Container(ContainerError::Invalid(m)) => {
                    ContainerError::ExecSetup(m).into()
                }
                other => other,
            })?;
            let mut user = process.user().clone();
            user.set_uid(uid);
            user.set_gid(gid);
            process.set_user(user);
        }
        if opts.privileged {
            if let Some(mut caps) = process.capabilities().clone() {
                let all = all_capabilities();
                caps.set_bounding(Some(all.clone()));
                caps.set_effective(Some(all.clone()));
                caps.set_permitted(Some(all));
                process.set_capabilities(Some(caps));
            }
        }
        let session = ExecSession {
            id: super::create::new_id(),
            container_id: rec.id.clone(),
            command: opts.command.clone(),
            tty: opts.tty,
            detach: opts.detach,
            preserve_fds: opts.preserve_fds,
            ..Default::default()
        };
        let dir = sessions_dir(&paths);
        std::fs::create_dir_all(&dir).with_path(&dir)?;
        let pfile = process_file(&paths, &session.id);
        let text = serde_json::to_vec(&process)
            .map_err(|e| ContainerError::Invalid(format!("encoding exec process: {e}")))?;
        std::fs::write(&pfile, text).with_path(&pfile)?;
        write_session(&paths, &session)?;
        let runtime = paths.runtime(&self.runtime_for(&rec.config)?);
        Ok(PreparedExec {
            session,
            paths,
            runtime,
            interactive: opts.interactive,
        })
    }

    /// Runs a process in a running container in the foreground, this process being the
    /// session's monitor; returns its exit code and the session's ID.
    pub fn exec_container(
        &mut self,
        name_or_id: &str,
        opts: &ExecOptions,
    ) -> Result<(i32, String)> {
        let prep = self.exec_prepare(name_or_id, opts)?;
        let sid = prep.session.id.clone();
        let rt = prep.runtime();
        let pfile = process_file(&prep.paths, &sid);
        // The process's PID, for whoever finds this session without its monitor (killed).
        let pid_file = sessions_dir(&prep.paths).join(format!("{sid}.pid"));
        let mut c = rt.exec_command(
            &prep.session.container_id,
            &pfile,
            false,
            Some(&pid_file),
            None,
            opts.preserve_fds,
        );
        if !opts.interactive && !opts.tty {
            c.stdin(Stdio::null());
        }
        c.stderr(Stdio::piped());
        let _ = std::fs::remove_file(&rt.log);
        let spawned = c.spawn().map_err(|source| RuntimeError::Spawn {
            path: rt.path.clone(),
            source,
        });
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                prep.remove_files();
                update_session(&prep.paths, &sid, |s| s.exit_code = Some(125));
                return Err(e.into());
            }
        };
        // This process is the session's monitor: held for its life, like a detached one's.
        let _lock = crate::store::lock::FileLock::try_exclusive(&monitor_lock(&prep.paths, &sid));
        update_session(&prep.paths, &sid, |s| {
            s.running = true;
            s.pid = i64::from(child.id());
        });
        let fwd = child.stderr.take().map(|e| {
            let rt = rt.clone();
            std::thread::spawn(move || forward_stderr(e, rt))
        });
        let status = child.wait();
        if let Some(t) = fwd {
            let _ = t.join();
        }
        let logged = rt.last_logged_error();
        prep.remove_files();
        let _ = std::fs::remove_file(&pid_file);
        let status = status.map_err(|source| RuntimeError::Spawn {
            path: rt.path.clone(),
            source,
        });
        let result = match (status, logged) {
            (Err(e), _) => Err(e),
            (Ok(_), Some(msg)) => Err(crate::runtime::classify(&rt.name, msg)),
            (Ok(st), None) => Ok(st.code().unwrap_or_else(|| {
                128 + std::os::unix::process::ExitStatusExt::signal(&st).unwrap_or(0)
            })),
        };
        let code = match &result {
            Ok(c) => *c,
            Err(RuntimeError::NotFound { .. }) => 127,
            Err(RuntimeError::PermissionDenied { .. }) => 126,
            Err(_) => 125,
        };
        update_session(&prep.paths, &sid, |s| {
            s.running = false;
            s.exit_code = Some(code);
        });
        result.map(|c| (c, sid)).map_err(Into::into)
    }

    /// Forgets an exited exec session (`container cleanup --exec`).
    pub fn remove_exec_session(&mut self, name_or_id: &str, session: &str) -> Result<()> {
        let rec = self.lookup_container(name_or_id)?;
        let paths = self.container_paths(&rec.id);
        let found = list_sessions(&paths)
            .into_iter()
            .find(|s| s.id == session || (session.len() >= 3 && s.id.starts_with(session)));
        let Some(s) = found else {
            return Err(ContainerError::Invalid(format!(
                "container {} has no exec session with ID {session}: no such exec session",
                rec.id
            ))
            .into());
        };
        if s.running {
            return Err(ContainerError::Invalid(format!(
                "cannot remove exec session {} as it is running: exec session state improper",
                s.id
            ))
            .into());
        }
        let f = session_file(&paths, &s.id);
        std::fs::remove_file(&f).with_path(&f)?;
        Ok(())
    }

    /// Starts a session under its own detached monitor (`-d`, or a terminal that detach
    /// keys may leave running). With `attach`, returns a connection to the session's attach
    /// socket made before the process starts, so no output is lost.
    pub fn exec_monitored(
        &mut self,
        name_or_id: &str,
        opts: &ExecOptions,
        attach: bool,
    ) -> Result<(String, Option<UnixStream>)> {
        let prep = self.exec_prepare(name_or_id, opts)?;
        let sid = prep.session.id.clone();
        let res = crate::monitor::exec::spawn(self, &prep, attach);
        if res.is_err() {
            prep.remove_files();
        }
        res.map(|stream| (sid, stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_resolve_from_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(d.path().join("etc/group"), "root:x:0:\nusers:x:100:app\n").unwrap();
        assert_eq!(resolve_user(d.path(), "app").unwrap(), (1000, 1001));
        assert_eq!(resolve_user(d.path(), "app:users").unwrap(), (1000, 100));
        assert_eq!(resolve_user(d.path(), "5:6").unwrap(), (5, 6));
        assert!(resolve_user(d.path(), "nosuch").is_err());
    }
}
