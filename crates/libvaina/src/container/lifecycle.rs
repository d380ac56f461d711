//! The lifecycle on [`Engine`]: look up (with reconciliation of containers whose monitor
//! died), start/init (through the monitor), stop, kill, pause, unpause, restart, wait, rename
//! and remove.
//!
//! Reconciliation: a container in a state that needs a monitor (initialized, running, paused,
//! stopping) whose monitor lock is free has lost its monitor (killed, or the machine
//! rebooted). Any process left is killed, the runtime state deleted, the rootfs unmounted and
//! the container recorded exited, so every command reports the truth.

use super::attach;
use super::record::{self, now_nanos, ContainerRecord, ContainerState};
use super::rootfs::{self, ContainerPaths};
use super::ContainerError;
use crate::store::lock::FileLock;
use crate::{Engine, Result};
use nix::fcntl::{Flock, FlockArg};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Whether the monitor holding `paths`' lock is alive (the lock file exists and is locked).
pub fn monitor_alive(paths: &ContainerPaths) -> bool {
    lock_held(&paths.monitor_lock())
}

/// Whether some process holds a lock on the file at `path` (false when there is no file).
pub fn lock_held(path: &std::path::Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    match Flock::lock(f, FlockArg::LockSharedNonblock) {
        Ok(_) => false,
        Err((_, e)) => e == nix::Error::EWOULDBLOCK,
    }
}

/// Waits until the monitor exits, at most `timeout` (forever with `None`). True when it did.
pub fn wait_monitor(paths: &ContainerPaths, timeout: Option<Duration>) -> bool {
    let Ok(f) = std::fs::File::open(paths.monitor_lock()) else {
        return true;
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = Flock::lock(f, FlockArg::LockShared);
        let _ = tx.send(r.is_ok());
    });
    match timeout {
        Some(t) => rx.recv_timeout(t).unwrap_or(false),
        None => rx.recv().unwrap_or(true),
    }
}

/// An open handle on a monitor's lock file, taken while the monitor runs, to wait for the
/// monitor process to be gone even after `--rm` deleted the file.
pub struct MonitorWatch(std::fs::File);

impl MonitorWatch {
    pub fn open(paths: &ContainerPaths) -> Option<Self> {
        std::fs::File::open(paths.monitor_lock())
            .ok()
            .map(MonitorWatch)
    }

    /// Blocks until the monitor has exited.
    pub fn wait(self) {
        let _ = Flock::lock(self.0, FlockArg::LockShared);
    }
}

/// What `start` hands back.
pub struct Started {
    pub record: ContainerRecord,
    /// Connected to the monitor before the container started, so no output is lost.
    pub attach: Option<UnixStream>,
    /// False when the container was already running.
    pub started: bool,
}

impl Engine {
    pub fn container_paths(&self, id: &str) -> ContainerPaths {
        ContainerPaths::new(&self.paths, id)
    }

    fn container_lock(&self, id: &str) -> Result<FileLock> {
        Ok(FileLock::exclusive(
            &self.paths.locks().join(format!("ctr-{id}.lock")),
        )?)
    }

    /// Finds a container by name or ID, its state reconciled.
    pub fn lookup_container(&self, name_or_id: &str) -> Result<ContainerRecord> {
        let mut rec = record::lookup(self.db()?.conn(), name_or_id)?;
        self.reconcile(&mut rec)?;
        Ok(rec)
    }

    /// Every container (newest first), states reconciled.
    pub fn list_containers(&self) -> Result<Vec<ContainerRecord>> {
        let mut v = record::list(self.db()?.conn())?;
        for r in &mut v {
            self.reconcile(r)?;
        }
        v.retain(|r| !r.id.is_empty());
        Ok(v)
    }

    /// Fixes the record of a container whose monitor died (see the module docs).
    pub fn reconcile(&self, rec: &mut ContainerRecord) -> Result<()> {
        if !rec.state.has_monitor() {
            return Ok(());
        }
        let paths = self.container_paths(&rec.id);
        if monitor_alive(&paths) {
            return Ok(());
        }
        let conn = self.db()?.conn();
        // The monitor may have finished between our read and the lock check.
        match record::get(conn, &rec.id)? {
            None => {
                rec.id.clear();
                return Ok(());
            }
            Some(fresh) if !fresh.state.has_monitor() => {
                *rec = fresh;
                return Ok(());
            }
            _ => {}
        }
        let rt = paths.runtime(&self.runtime_for(&rec.config)?);
        let alive = rt
            .state(&rec.id)
            .map(|s| s.status != "stopped")
            .unwrap_or(false);
        if alive {
            let _ = rt.kill(&rec.id, libc::SIGKILL, true);
        }
        let _ = rt.delete(&rec.id, true);
        if let Err(e) = self.container_network_down(&rec.id) {
            log::warn!("network teardown of {}: {e}", rec.id);
        }
        rootfs::unmount(&paths)?;
        let code = if alive { 137 } else { rec.exit_code };
        record::set_exited(conn, &rec.id, code, now_nanos())?;
        let _ = std::fs::remove_dir_all(&paths.run_dir);
        if rec.config.remove {
            self.remove_files_and_record(&rec.id)?;
            rec.id.clear();
            return Ok(());
        }
        if let Some(fresh) = record::get(conn, &rec.id)? {
            *rec = fresh;
        }
        Ok(())
    }

    /// Starts a container: launches its monitor (which creates it in the runtime), connects
    /// to its attach socket when `attach`, then starts it.
    pub fn start_container(&mut self, name_or_id: &str, attach: bool) -> Result<Started> {
        let mut rec = self.lookup_container(name_or_id)?;
        let _lock = self.container_lock(&rec.id)?;
        rec = self.lookup_container(&rec.id)?;
        let paths = self.container_paths(&rec.id);
        match rec.state {
            ContainerState::Running | ContainerState::Paused | ContainerState::Stopping => {
                let attach = if attach {
                    Some(
                        attach::connect(&paths)
                            .map_err(|e| crate::Error::io(paths.attach_socket(), e))?,
                    )
                } else {
                    None
                };
                return Ok(Started {
                    record: rec,
                    attach,
                    started: false,
                });
            }
            ContainerState::Initialized => {}
            ContainerState::Created | ContainerState::Exited => {
                if rec.config.stopped_by_user {
                    rec.config.stopped_by_user = false;
                    record::set_config(self.db()?.conn(), &rec.id, &rec.config)?;
                }
                self.refresh_joined_namespaces(&rec)?;
                self.check_published_ports(&rec.id, &rec.config.network)?;
                let passthrough = rec.config.log_driver == super::config::LogDriver::Passthrough;
                crate::monitor::spawn(self, &rec.id, passthrough)?;
            }
        }
        let attach = if attach {
            Some(attach::connect(&paths).map_err(|e| crate::Error::io(paths.attach_socket(), e))?)
        } else {
            None
        };
        let rt = paths.runtime(&self.runtime_for(&rec.config)?);
        let hooks = std::fs::read(paths.config_json())
            .map(|t| t.windows(7).any(|w| w == b"\"hooks\""))
            .unwrap_or(true);
        if let Err(e) = rt.start_created(&rec.id, hooks) {
            // A container that exits at once can be deleted by its monitor before
            // `runtime start` removes its exec fifo; failing to remove the fifo means it was
            // opened, so the start did succeed.
            let msg = e.to_string();
            let started = msg.contains("exec.fifo") && msg.contains("no such file or directory");
            if !started {
                return Err(e.into());
            }
        }
        record::set_running(self.db()?.conn(), &rec.id, now_nanos())?;
        let record = record::get(self.db()?.conn(), &rec.id)?.unwrap_or(rec);
        Ok(Started {
            record,
            attach,
            started: true,
        })
    }

    /// `init`: creates the container in the runtime (monitor running) without starting it.
    pub fn init_container(&mut self, name_or_id: &str) -> Result<ContainerRecord> {
        let rec = self.lookup_container(name_or_id)?;
        let _lock = self.container_lock(&rec.id)?;
        match rec.state {
            ContainerState::Created | ContainerState::Exited => {
                self.refresh_joined_namespaces(&rec)?;
                crate::monitor::spawn(self, &rec.id, false)?;
                self.lookup_container(&rec.id)
            }
            _ => Err(ContainerError::StateImproper(format!(
                "container {} has already been created in runtime",
                rec.id
            ))
            .into()),
        }
    }

    /// Stops a container: the stop signal, then SIGKILL after `timeout` seconds (the
    /// container's stop timeout when `None`). Stopping a stopped container is not an error.
    pub fn stop_container(
        &mut self,
        name_or_id: &str,
        timeout: Option<u64>,
    ) -> Result<ContainerRecord> {
        let mut rec = self.lookup_container(name_or_id)?;
        if !rec.state.has_monitor() {
            return Ok(rec);
        }
        let paths = self.container_paths(&rec.id);
        let rt = paths.runtime(&self.runtime_for(&rec.config)?);
        rec.config.stopped_by_user = true;
        let conn = self.db()?.conn();
        record::set_config(conn, &rec.id, &rec.config)?;
        conn.execute(
            "UPDATE containers SET state = 'stopping' WHERE id = ?1 AND state IN ('running', 'paused', 'initialized')",
            [&rec.id],
        )
        .map_err(ContainerError::from)?;
        let timeout = Duration::from_secs(timeout.unwrap_or(rec.config.stop_timeout));
        if rec.state == ContainerState::Paused {
            let _ = rt.kill(&rec.id, libc::SIGKILL, true);
            let _ = rt.resume(&rec.id);
        } else if !timeout.is_zero() {
            let _ = rt.kill(&rec.id, rec.config.stop_signal, false);
        }
        if timeout.is_zero() || !wait_monitor(&paths, Some(timeout)) {
            if !timeout.is_zero() {
                log::warn!(
                    "StopSignal {} failed to stop container {} in {} seconds, resorting to SIGKILL",
                    signal_name(rec.config.stop_signal),
                    rec.name,
                    timeout.as_secs()
                );
            }
            let _ = rt.kill(&rec.id, libc::SIGKILL, true);
            wait_monitor(&paths, None);
        }
        self.lookup_container(&rec.id).or(Ok(rec))
    }

    /// Sends `signal` to a running container.
    pub fn kill_container(&mut self, name_or_id: &str, signal: i32) -> Result<ContainerRecord> {
        let rec = self.lookup_container(name_or_id)?;
        if !matches!(
            rec.state,
            ContainerState::Running | ContainerState::Paused | ContainerState::Stopping
        ) {
            return Err(ContainerError::StateImproper(format!(
                "can only kill running containers. {} is in state {}",
                rec.id,
                rec.state.as_str()
            ))
            .into());
        }
        let paths = self.container_paths(&rec.id);
        let rt = paths.runtime(&self.runtime_for(&rec.config)?);
        rt.kill(&rec.id, signal, false)?;
        Ok(rec)
    }

    /// Pauses (freezes) a running container.
    pub fn pause_container(&mut self, name_or_id: &str) -> Result<ContainerRecord> {
        let rec = self.lookup_container(name_or_id)?;
        if rec.state != ContainerState::Running {
            return Err(ContainerError::StateImproper(format!(
                "\"{}\" is not running, can't pause",
                rec.state.as_str()
            ))
            .into());
        }
        let paths = self.container_paths(&rec.id);
        paths
            .runtime(&self.runtime_for(&rec.config)?)
            .pause(&rec.id)?;
        self.db()?
            .conn()
            .execute(
                "UPDATE containers SET state = 'paused' WHERE id = ?1 AND state = 'running'",
                [&rec.id],
            )
            .map_err(ContainerError::from)?;
        Ok(rec)
    }

    /// Resumes a paused container.
    pub fn unpause_container(&mut self, name_or_id: &str) -> Result<ContainerRecord> {
        let rec = self.lookup_container(name_or_id)?;
        if rec.state != ContainerState::Paused {
            return Err(ContainerError::StateImproper(format!(
                "\"{}\" is not paused, can't unpause",
                rec.id
            ))
            .into());
        }
        let paths = self.container_paths(&rec.id);
        paths
            .runtime(&self.runtime_for(&rec.config)?)
            .resume(&rec.id)?;
        self.db()?
            .conn()
            .execute(
                "UPDATE containers SET state = 'running' WHERE id = ?1 AND state = 'paused'",
                [&rec.id],
            )
            .map_err(ContainerError::from)?;
        Ok(rec)
    }

    /// Stops (if needed) and starts a container again.
    pub fn restart_container(
        &mut self,
        name_or_id: &str,
        timeout: Option<u64>,
    ) -> Result<ContainerRecord> {
        let rec = self.stop_container(name_or_id, timeout)?;
        Ok(self.start_container(&rec.id, false)?.record)
    }

    /// Waits until the container exits; returns its exit code. While the container runs the
    /// waiter also listens on its attach socket, where the monitor reports the exit code
    /// after its cleanup: that is the code of a `--rm` container, whose record is gone then.
    /// A `--rm` container removed before the waiter connected left its code in
    /// [`super::exit_codes`]. As in Podman 4.3.1, a container already removed when `wait`
    /// looks it up is not found.
    pub fn wait_container(&mut self, name_or_id: &str) -> Result<i32> {
        let rec = self.lookup_container(name_or_id)?;
        let paths = self.container_paths(&rec.id);
        let mut reported = None;
        // Opened while the monitor runs: `--rm` removes the lock file with the container.
        let watch = MonitorWatch::open(&paths);
        if rec.state.has_monitor() {
            if let Ok(stream) = super::attach::connect(&paths) {
                let mut r = std::io::BufReader::new(stream);
                while let Ok(Some(f)) = super::attach::Frame::read_from(&mut r) {
                    if let super::attach::Frame::Exit(c) = f {
                        reported = Some(c);
                        break;
                    }
                }
            }
        }
        // Between an exit and a restart the state says exited but the monitor lives on.
        if rec.state.has_monitor() || monitor_alive(&paths) {
            match watch {
                Some(w) => w.wait(),
                None => {
                    wait_monitor(&paths, None);
                }
            }
        }
        match record::get(self.db()?.conn(), &rec.id)? {
            Some(mut r) => {
                self.reconcile(&mut r)?;
                Ok(r.exit_code)
            }
            // Removed (`--rm`): the code the monitor reported, else the one kept at removal.
            None => match reported {
                Some(c) => Ok(c),
                None => {
                    Ok(
                        super::exit_codes::get(self.db()?.conn(), &rec.id, record::now_nanos())?
                            .unwrap_or(rec.exit_code),
                    )
                }
            },
        }
    }

    /// Sets `run --timeout` (seconds; 0: none) and `run -d --rmi` (the image to remove after
    /// the container) of a container that has not started yet.
    pub fn set_container_run_options(
        &mut self,
        id: &str,
        timeout: u64,
        remove_image: Option<String>,
    ) -> Result<()> {
        let mut rec = self.lookup_container(id)?;
        rec.config.timeout = (timeout > 0).then_some(timeout);
        rec.config.remove_image = remove_image;
        record::set_config(self.db()?.conn(), &rec.id, &rec.config)?;
        Ok(())
    }

    /// Gives a container a new name.
    pub fn rename_container(&mut self, name_or_id: &str, new_name: &str) -> Result<()> {
        super::names::validate(new_name)?;
        let rec = self.lookup_container(name_or_id)?;
        if rec.name != new_name && record::name_taken(self.db()?.conn(), new_name)? {
            return Err(ContainerError::Invalid(format!(
                "renaming container {id}: name {new_name} already in use, cannot rename container {id}: container already exists",
                id = rec.id
            ))
            .into());
        }
        record::rename(self.db()?.conn(), &rec.id, new_name)?;
        Ok(())
    }

    /// Removes a container: refused while others depend on it, and while it runs unless
    /// `force` (then stopped with `timeout`). Returns its full ID.
    pub fn remove_container(
        &mut self,
        name_or_id: &str,
        force: bool,
        timeout: Option<u64>,
    ) -> Result<String> {
        let rec = self.lookup_container(name_or_id)?;
        if rec.config.infra {
            if let Some(pod) = crate::pod::record::get(self.db()?.conn(), &rec.config.pod)? {
                return Err(crate::pod::PodError::InfraRemove {
                    ctr: rec.id,
                    pod: pod.id,
                }
                .into());
            }
        }
        self.remove_container_unchecked(&rec.id, force, timeout)
    }

    /// [`Self::remove_container`] without the infra check (for the pod module).
    pub(crate) fn remove_container_unchecked(
        &mut self,
        name_or_id: &str,
        force: bool,
        timeout: Option<u64>,
    ) -> Result<String> {
        let rec = self.lookup_container(name_or_id)?;
        let dependents = self.container_dependents(&rec.id)?;
        if !dependents.is_empty() {
            return Err(ContainerError::HasDependents {
                id: rec.id,
                dependents: dependents.join(", "),
            }
            .into());
        }
        if rec.state.is_active() && !force {
            return Err(ContainerError::RemoveRunning(rec.id).into());
        }
        if rec.state.has_monitor() {
            self.stop_container(&rec.id, timeout)?;
        }
        let _lock = self.container_lock(&rec.id)?;
        self.remove_files_and_record(&rec.id)?;
        Ok(rec.id)
    }

    /// `container cleanup`: unmounts a stopped container and deletes its runtime state.
    pub fn cleanup_container(&mut self, id: &str) -> Result<()> {
        let rec = self.lookup_container(id)?;
        if rec.state.has_monitor() {
            return Ok(());
        }
        let paths = self.container_paths(&rec.id);
        if let Ok(rt) = self.runtime_for(&rec.config) {
            let _ = paths.runtime(&rt).delete(&rec.id, true);
        }
        let net = self.container_network_down(&rec.id);
        rootfs::unmount(&paths)?;
        net
    }

    /// Deletes everything of a stopped container: runtime state, mount, directories, record.
    pub fn remove_files_and_record(&self, id: &str) -> Result<()> {
        let paths = self.container_paths(id);
        if let Some(rec) = record::get(self.db()?.conn(), id)? {
            if let Ok(rt) = self.runtime_for(&rec.config) {
                let rt = paths.runtime(&rt);
                if rt.has_state(id) {
                    let _ = rt.delete(id, true);
                }
            }
        }
        rootfs::unmount(&paths)?;
        // Never recurse into a mount: with `--rootfs` it would be the user's directory.
        match std::fs::remove_dir(paths.merged()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(crate::Error::io(paths.merged(), e))
            }
            _ => {}
        }
        for d in [&paths.dir, &paths.run_dir] {
            match std::fs::remove_dir_all(d) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(crate::Error::io(d, e))
                }
                _ => {}
            }
        }
        // Last, so that a monitor's parallel teardown overlaps the file removal above.
        if let Err(e) = self.container_network_down(id) {
            log::warn!("network teardown of {id}: {e}");
        }
        let _ = std::fs::remove_file(self.paths.locks().join(format!("ctr-{id}.lock")));
        // `--rm` containers take their anonymous volumes with them (Podman's `run --rm`).
        let auto_remove = record::get(self.db()?.conn(), id)?.is_some_and(|r| r.config.remove);
        let released = crate::volume::release_for_container(self, id, auto_remove);
        record::delete(self.db()?.conn(), id)?;
        released?;
        Ok(())
    }
}

/// `SIGTERM` for 15, as Podman prints signals.
pub fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| sig.to_string())
}

/// Parses a signal given as a name (`KILL`, `SIGKILL`, `kill`) or a number.
pub fn parse_signal(s: &str) -> Result<i32> {
    if let Ok(n) = s.parse::<i32>() {
        if (1..=64).contains(&n) {
            return Ok(n);
        }
    } else {
        let up = s.to_ascii_uppercase();
        let full = if up.starts_with("SIG") {
            up
        } else {
            format!("SIG{up}")
        };
        if let Ok(sig) = full.parse::<nix::sys::signal::Signal>() {
            return Ok(sig as i32);
        }
        if let Some(n) = full
            .strip_prefix("SIGRTMIN+")
            .and_then(|n| n.parse::<i32>().ok())
        {
            return Ok(libc::SIGRTMIN() + n);
        }
    }
    Err(ContainerError::Invalid(format!("invalid signal: {s}")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        assert_eq!(parse_signal("KILL").unwrap(), 9);
        assert_eq!(parse_signal("sigterm").unwrap(), 15);
        assert_eq!(parse_signal("1").unwrap(), 1);
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("0").is_err());
        assert_eq!(signal_name(15), "SIGTERM");
    }
}
