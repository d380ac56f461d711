//! The per-container monitor, conmon's role, run from the vaina binary itself (the hidden
//! `vaina monitor <id>` command): it creates the container through [`crate::runtime`], holds
//! its terminal or pipes, writes the log, serves attach clients, and records the exit in the
//! store.
//!
//! Life of a monitor: the launching command ([`spawn`]) starts it with a pipe; it forks away
//! (the launcher reaps the intermediate process), starts a new session, becomes a child
//! subreaper (the container process is reparented to it when the runtime exits) and takes
//! the container's monitor lock, held until it exits: a free lock means no monitor, which is
//! how other commands detect a killed monitor. It mounts the rootfs, runs `runtime create`,
//! reports the PID (or the runtime's error) on the pipe as one JSON line, pumps stdio until
//! the container exits ([`pump`]), then deletes the runtime state, unmounts, records exit
//! code and time, removes the container for `--rm`, and restarts it when the restart policy
//! says so.

pub mod exec;
pub mod log;
pub mod pump;
pub mod stdio;

use crate::container::config::LogDriver;
use crate::container::record::{self, now_nanos, ContainerState};
use crate::container::rootfs::{self, short_socket_path, ContainerPaths};
use crate::container::ContainerError;
use crate::runtime::{Runtime, RuntimeError};
use crate::store::lock::FileLock;
use crate::{Engine, Result};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// What the monitor reports to its launcher once the container is created.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ready {
    /// The container's PID (0 on error).
    #[serde(default)]
    pub pid: i64,
    /// `notfound`, `denied`, `runtime`, `network`, `portinuse` or `other` on error.
    #[serde(default)]
    pub error_kind: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub runtime: String,
}

impl Ready {
    fn from_error(e: &crate::Error) -> Ready {
        let (kind, runtime, msg) = match e {
            crate::Error::Runtime(RuntimeError::NotFound { runtime, message }) => {
                ("notfound", runtime.clone(), message.clone())
            }
            crate::Error::Runtime(RuntimeError::PermissionDenied { runtime, message }) => {
                ("denied", runtime.clone(), message.clone())
            }
            crate::Error::Runtime(RuntimeError::Failed { runtime, message }) => {
                ("runtime", runtime.clone(), message.clone())
            }
            crate::Error::Network(crate::network::NetworkError::PortInUse(m)) => {
                ("portinuse", String::new(), m.clone())
            }
            crate::Error::Network(n) => ("network", String::new(), n.to_string()),
            other => ("other", String::new(), other.to_string()),
        };
        Ready {
            pid: 0,
            error_kind: Some(kind.into()),
            error: Some(msg),
            runtime,
        }
    }

    /// The launcher's view: the PID, or the error the monitor met.
    pub fn into_result(self) -> Result<i64> {
        let Some(kind) = self.error_kind else {
            return Ok(self.pid);
        };
        let message = self.error.unwrap_or_default();
        let runtime = self.runtime;
        Err(match kind.as_str() {
            "notfound" => RuntimeError::NotFound { runtime, message }.into(),
            "denied" => RuntimeError::PermissionDenied { runtime, message }.into(),
            "runtime" => RuntimeError::Failed { runtime, message }.into(),
            "network" => crate::network::NetworkError::Invalid(message).into(),
            "portinuse" => crate::network::NetworkError::PortInUse(message).into(),
            _ => ContainerError::Monitor(message).into(),
        })
    }
}

/// A started monitor, seen from the launcher.
pub struct Launched {
    pub pid: i64,
}

/// Starts the monitor of container `id` and waits until it reports the container created.
/// With `passthrough`, the monitor (and so the container) inherits this process's stdio.
pub fn spawn(engine: &Engine, id: &str, passthrough: bool) -> Result<Launched> {
    let exe = std::env::current_exe()
        .map_err(|e| ContainerError::Monitor(format!("finding the vaina binary: {e}")))?;
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| ContainerError::Monitor(format!("creating pipe: {e}")))?;
    // The write end must survive exec in the monitor.
    nix::fcntl::fcntl(
        w.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .map_err(|e| ContainerError::Monitor(format!("preparing pipe: {e}")))?;
    let mut c = Command::new(exe);
    c.arg("--root")
        .arg(&engine.paths.root)
        .arg("--runroot")
        .arg(&engine.paths.runroot)
        .arg("monitor")
        .arg("--sync-fd")
        .arg(w.as_raw_fd().to_string())
        .arg(id);
    if !passthrough {
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
    }
    let mut child = c
        .spawn()
        .map_err(|e| ContainerError::Monitor(format!("starting the monitor: {e}")))?;
    drop(w);
    // The first process forks the real monitor and exits at once.
    let _ = child.wait();
    let mut f = std::fs::File::from(r);
    let mut text = String::new();
    let _ = f.read_to_string(&mut text);
    let ready: Ready = serde_json::from_str(text.trim()).map_err(|_| {
        ContainerError::Monitor("the monitor exited before reporting the container".into())
    })?;
    let paths = ContainerPaths::new(&engine.paths, id);
    match ready.into_result() {
        Ok(pid) => Ok(Launched { pid }),
        Err(e) => {
            // The monitor is on its way out: let it go before reporting (unless the lock
            // belongs to another, running monitor).
            let busy = e.to_string().contains("already has a running monitor");
            if !busy {
                if let Some(w) = crate::container::lifecycle::MonitorWatch::open(&paths) {
                    w.wait();
                }
            }
            Err(e)
        }
    }
}

fn detach() -> Result<()> {
    // SAFETY: the monitor is single-threaded at this point (called first thing in `run`), so
    // the child may keep running Rust code after fork.
    #[allow(unsafe_code)]
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Parent { .. }) => std::process::exit(0),
        Ok(nix::unistd::ForkResult::Child) => {}
        Err(e) => return Err(ContainerError::Monitor(format!("fork: {e}")).into()),
    }
    let _ = nix::unistd::setsid();
    let _ = nix::sys::prctl::set_child_subreaper(true);
    // SAFETY: setting SIGPIPE to ignored installs no handler code; a vanished attach client
    // must give EPIPE, not kill the monitor.
    #[allow(unsafe_code)]
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigIgn,
        );
    }
    Ok(())
}

/// The monitor's main (the hidden `monitor` command). `sync_fd` is the launcher's pipe.
/// Returns the process exit code.
pub fn run(engine: &mut Engine, id: &str, sync_fd: Option<RawFd>) -> i32 {
    // SAFETY: the launcher passed this descriptor number for us alone to own.
    #[allow(unsafe_code)]
    let mut sync = sync_fd.map(|fd| std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) }));
    // Processes the monitor starts (the network's DNS resolver) must not hold the launcher's
    // pipe open: the launcher reads it to its end.
    if let Some(f) = &sync {
        let _ = nix::fcntl::fcntl(
            f.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
        );
    }
    if let Err(e) = detach() {
        report(&mut sync, &Ready::from_error(&e));
        return 1;
    }
    let paths = ContainerPaths::new(&engine.paths, id);
    let lock = match take_lock(&paths) {
        Ok(l) => l,
        Err(e) => {
            report(&mut sync, &Ready::from_error(&e));
            return 1;
        }
    };
    let code = match supervise(engine, id, &paths, &mut sync) {
        Ok(()) => 0,
        Err(e) => {
            report(&mut sync, &Ready::from_error(&e));
            1
        }
    };
    // Exit while still holding the monitor lock: the kernel releases it only as the process
    // goes, so whoever waits on the lock never sees a monitor half-alive.
    let _ = &lock;
    std::process::exit(code)
}

fn take_lock(paths: &ContainerPaths) -> Result<FileLock> {
    std::fs::create_dir_all(&paths.run_dir).map_err(|e| crate::Error::io(&paths.run_dir, e))?;
    Ok(
        FileLock::try_exclusive(&paths.monitor_lock())?.ok_or_else(|| {
            ContainerError::Monitor("the container already has a running monitor".into())
        })?,
    )
}

fn report(sync: &mut Option<std::fs::File>, r: &Ready) {
    if let Some(mut f) = sync.take() {
        let _ = writeln!(f, "{}", serde_json::to_string(r).unwrap_or_default());
    }
}

fn supervise(
    engine: &mut Engine,
    id: &str,
    paths: &ContainerPaths,
    sync: &mut Option<std::fs::File>,
) -> Result<()> {
    let rec = record::get(engine.db()?.conn(), id)?
        .ok_or_else(|| ContainerError::NotFound(id.to_string()))?;
    let cfg = rec.config.clone();
    let rt = paths.runtime(&engine.runtime_for(&cfg)?);
    let sock = paths.attach_socket();
    let _ = std::fs::remove_file(&sock);
    let (_dir, short) =
        short_socket_path(&sock).map_err(|e| crate::Error::io(&paths.run_dir, e))?;
    let listener =
        std::os::unix::net::UnixListener::bind(&short).map_err(|e| crate::Error::io(&sock, e))?;
    let log_path = if cfg.log_path.as_os_str().is_empty() {
        paths.default_log()
    } else {
        cfg.log_path.clone()
    };
    let log = log::LogWriter::open(cfg.log_driver, &log_path)
        .map_err(|e| crate::Error::io(&log_path, e))?;
    let mut pump = pump::Pump::new(listener, log).map_err(|e| crate::Error::io(&sock, e))?;
    let passthrough = cfg.log_driver == LogDriver::Passthrough;
    let mut first = true;
    loop {
        let io = match create_once(engine, &rt, id, paths, &cfg, passthrough) {
            Ok(v) => v,
            Err(e) => {
                let _ = rt.delete(id, true);
                if let Err(n) = engine.container_network_down(id) {
                    ::log::warn!("network teardown of {id}: {n}");
                }
                let _ = rootfs::unmount(paths);
                let _ = crate::volume::unmount_for_container(engine, id);
                if first {
                    let _ = std::fs::remove_file(&sock);
                    return Err(e);
                }
                // A restart that fails: record it as an exit with the engine's code.
                finish(engine, &rt, id, paths, 125)?;
                pump.finish(125);
                break;
            }
        };
        let (io, pid) = io;
        if first {
            report(
                sync,
                &Ready {
                    pid,
                    error_kind: None,
                    error: None,
                    runtime: rt.name.clone(),
                },
            );
            first = false;
        } else {
            if let Err(e) = rt.start(id) {
                ::log::warn!("restarting {id}: {e}");
            }
            record::set_running(engine.db()?.conn(), id, now_nanos())?;
        }
        let deadline = cfg
            .timeout
            .map(|s| std::time::Instant::now() + std::time::Duration::from_secs(s));
        let code = pump.run(io, pid as i32, deadline);
        let removed = finish(engine, &rt, id, paths, code)?;
        // Decide on a restart before telling clients, so `wait` sees the final state.
        let again = !removed && {
            let r = record::get(engine.db()?.conn(), id)?;
            r.is_some_and(|r| {
                !r.config.stopped_by_user
                    && crate::container::config::should_restart(
                        &r.config.restart,
                        code,
                        r.restart_count,
                    )
            })
        };
        pump.finish(code);
        if !again {
            break;
        }
        record::bump_restart(engine.db()?.conn(), id)?;
    }
    let _ = std::fs::remove_file(&sock);
    if !cfg.pod.is_empty() && !cfg.infra {
        // `--exit-policy stop`: the last member's exit stops the pod.
        if let Err(e) = engine.pod_member_exited(&cfg.pod) {
            ::log::warn!("pod {}: {e}", cfg.pod);
        }
    }
    Ok(())
}

/// Mounts the rootfs and runs `runtime create`; records the container initialized.
fn create_once(
    engine: &mut Engine,
    rt: &Runtime,
    id: &str,
    paths: &ContainerPaths,
    cfg: &crate::container::ContainerConfig,
    passthrough: bool,
) -> Result<(stdio::ContainerIo, i64)> {
    rootfs::mount(paths, &cfg.layers, cfg.bind_rootfs())?;
    if let Some(size) = cfg.shm_size {
        rootfs::mount_shm(paths, size)?;
    }
    crate::volume::mount_for_container(engine, id)?;
    // The network namespace and its interfaces exist before the runtime joins them.
    let rec = record::get(engine.db()?.conn(), id)?
        .ok_or_else(|| ContainerError::NotFound(id.to_string()))?;
    engine.container_network_up(&rec)?;
    // A leftover runtime state (a killed monitor) would make `create` fail.
    if rt.has_state(id) {
        let _ = rt.delete(id, true);
    }
    let io = stdio::create(rt, id, paths, cfg.tty, cfg.interactive, passthrough)?;
    let pid_file = paths.pid_file();
    let pid: i64 = std::fs::read_to_string(&pid_file)
        .map_err(|e| crate::Error::io(&pid_file, e))?
        .trim()
        .parse()
        .map_err(|_| ContainerError::Monitor(format!("bad pid file {}", pid_file.display())))?;
    record::set_state(engine.db()?.conn(), id, ContainerState::Initialized, pid)?;
    Ok((io, pid))
}

/// Cleans up after an exit: runtime state, rootfs, the record (or the whole container for
/// `--rm`). Returns whether the container was removed.
fn finish(
    engine: &mut Engine,
    rt: &Runtime,
    id: &str,
    paths: &ContainerPaths,
    code: i32,
) -> Result<bool> {
    let _ = rt.delete_exited(id);
    crate::container::exec::clear_sessions(paths, std::time::Duration::from_secs(2));
    // The network teardown waits on the kernel (RCU grace periods when links go): it runs
    // beside the unmounts and file removals, on its own engine (connections are per thread).
    let net = {
        let opts = engine.options.clone();
        let cid = id.to_string();
        std::thread::spawn(move || Engine::new(opts).and_then(|e| e.container_network_down(&cid)))
    };
    let rest = (|| {
        let unmounted = rootfs::unmount(paths);
        let volumes_unmounted = crate::volume::unmount_for_container(engine, id);
        let conn = engine.db()?.conn();
        let rec = record::get(conn, id)?;
        record::set_exited(conn, id, code, now_nanos())?;
        unmounted?;
        volumes_unmounted?;
        if let Some(r) = rec.filter(|r| r.config.remove) {
            engine.remove_files_and_record(id)?;
            if let Some(image) = &r.config.remove_image {
                // Kept when other containers use it, as Podman does (nobody to tell here).
                let opts = crate::image::remove::RemoveOptions::default();
                let _ = engine.remove_images(std::slice::from_ref(image), &opts);
            }
            return Ok(true);
        }
        Ok(false)
    })();
    match net.join() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => ::log::warn!("network teardown of {id}: {e}"),
        Err(_) => ::log::warn!("network teardown of {id}: thread panicked"),
    }
    rest
}

/// Where a container's monitor lock lives (for tests and tools).
pub fn lock_path(engine: &Engine, id: &str) -> PathBuf {
    ContainerPaths::new(&engine.paths, id).monitor_lock()
}
