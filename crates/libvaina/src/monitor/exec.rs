//! The monitor of one exec session (`exec -d`, `exec -t`): the hidden
//! `vaina monitor --exec SESSION <container>` command. Like the container monitor it forks
//! away, starts a new session and becomes a child subreaper; it runs `runtime exec --detach`
//! (the process is reparented to it when the runtime exits), reports the PID or the runtime's
//! error on the launcher's pipe, pumps the process's streams to attach clients (the launcher
//! binds the session's socket and connects before the process starts, then hands the
//! listening socket over), and records the exit code in the session's record.

use super::{detach, log::LogWriter, pump::Pump, report, Ready};
use crate::container::config::LogDriver;
use crate::container::exec::{self, PreparedExec};
use crate::container::rootfs::{short_socket_path, ContainerPaths};
use crate::container::ContainerError;
use crate::{Engine, Result};
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Command, Stdio};

fn keep_on_exec(fd: RawFd) -> Result<()> {
    nix::fcntl::fcntl(
        fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .map_err(|e| ContainerError::Monitor(format!("preparing descriptor: {e}")))?;
    Ok(())
}

/// Starts the monitor of a prepared session and waits until its process runs. With `attach`,
/// returns a connection to the session's attach socket, made before the process starts.
pub fn spawn(engine: &Engine, prep: &PreparedExec, attach: bool) -> Result<Option<UnixStream>> {
    let exe = std::env::current_exe()
        .map_err(|e| ContainerError::Monitor(format!("finding the vaina binary: {e}")))?;
    let sock = exec::session_socket(&prep.paths, &prep.session.id);
    let _ = std::fs::remove_file(&sock);
    let (_dir, short) = short_socket_path(&sock).map_err(|e| crate::Error::io(&sock, e))?;
    let listener = UnixListener::bind(&short).map_err(|e| crate::Error::io(&sock, e))?;
    let stream = if attach {
        Some(UnixStream::connect(&short).map_err(|e| crate::Error::io(&sock, e))?)
    } else {
        None
    };
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| ContainerError::Monitor(format!("creating pipe: {e}")))?;
    keep_on_exec(w.as_raw_fd())?;
    keep_on_exec(listener.as_raw_fd())?;
    let mut c = Command::new(exe);
    c.arg("--root")
        .arg(&engine.paths.root)
        .arg("--runroot")
        .arg(&engine.paths.runroot)
        .arg("monitor")
        .arg("--sync-fd")
        .arg(w.as_raw_fd().to_string())
        .arg("--listen-fd")
        .arg(listener.as_raw_fd().to_string())
        .arg("--exec")
        .arg(&prep.session.id)
        .arg(&prep.session.container_id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if prep.interactive {
        c.arg("--interactive");
    }
    let mut child = c
        .spawn()
        .map_err(|e| ContainerError::Monitor(format!("starting the exec monitor: {e}")))?;
    drop(w);
    drop(listener);
    let _ = child.wait();
    let mut f = std::fs::File::from(r);
    let mut text = String::new();
    let _ = f.read_to_string(&mut text);
    let ready: Ready = serde_json::from_str(text.trim()).map_err(|_| {
        ContainerError::Monitor("the exec monitor exited before reporting the process".into())
    })?;
    ready.into_result()?;
    Ok(stream)
}

/// The exec monitor's main. Returns the process exit code.
pub fn run(
    engine: &mut Engine,
    id: &str,
    session: &str,
    interactive: bool,
    sync_fd: Option<RawFd>,
    listen_fd: Option<RawFd>,
) -> i32 {
    // SAFETY: the launcher passed these descriptor numbers for us alone to own.
    #[allow(unsafe_code)]
    let mut sync = sync_fd.map(|fd| std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) }));
    // SAFETY: as above.
    #[allow(unsafe_code)]
    let listener = listen_fd.map(|fd| UnixListener::from(unsafe { OwnedFd::from_raw_fd(fd) }));
    if let Err(e) = detach() {
        report(&mut sync, &Ready::from_error(&e));
        return 1;
    }
    let paths = ContainerPaths::new(&engine.paths, id);
    let lock = crate::store::lock::FileLock::try_exclusive(&exec::monitor_lock(&paths, session));
    let code = match supervise(
        engine,
        id,
        session,
        interactive,
        &paths,
        listener,
        &mut sync,
    ) {
        Ok(()) => 0,
        Err(e) => {
            let code = match &e {
                crate::Error::Runtime(crate::runtime::RuntimeError::NotFound { .. }) => 127,
                crate::Error::Runtime(crate::runtime::RuntimeError::PermissionDenied {
                    ..
                }) => 126,
                _ => 125,
            };
            exec::update_session(&paths, session, |s| s.exit_code = Some(code));
            report(&mut sync, &Ready::from_error(&e));
            1
        }
    };
    let _ = std::fs::remove_file(exec::process_file(&paths, session));
    let _ = std::fs::remove_file(exec::session_socket(&paths, session));
    // Exit holding the lock, so the container's monitor never sees this one half-alive.
    let _ = &lock;
    std::process::exit(code)
}

fn supervise(
    engine: &mut Engine,
    id: &str,
    session: &str,
    interactive: bool,
    paths: &ContainerPaths,
    listener: Option<UnixListener>,
    sync: &mut Option<std::fs::File>,
) -> Result<()> {
    let rec = crate::container::record::get(engine.db()?.conn(), id)?
        .ok_or_else(|| ContainerError::NotFound(id.to_string()))?;
    let s = exec::read_session(paths, session)
        .ok_or_else(|| ContainerError::Monitor(format!("no exec session {session}")))?;
    let listener = match listener {
        Some(l) => l,
        None => {
            let sock = exec::session_socket(paths, session);
            let (_dir, short) = short_socket_path(&sock).map_err(|e| crate::Error::io(&sock, e))?;
            UnixListener::bind(&short).map_err(|e| crate::Error::io(&sock, e))?
        }
    };
    let dir = exec::sessions_dir(paths);
    let rt = paths
        .runtime(&engine.runtime_for(&rec.config)?)
        .with_log(dir.join(format!("{session}.log")));
    let pid_file = dir.join(format!("{session}.pid"));
    let process = exec::process_file(paths, session);
    let io = super::stdio::exec(
        &rt,
        id,
        &process,
        &pid_file,
        (s.tty, interactive),
        s.preserve_fds,
    );
    let _ = std::fs::remove_file(&process);
    let _ = std::fs::remove_file(&rt.log);
    let io = io?;
    let pid: i64 = std::fs::read_to_string(&pid_file)
        .map_err(|e| crate::Error::io(&pid_file, e))?
        .trim()
        .parse()
        .map_err(|_| ContainerError::Monitor(format!("bad pid file {}", pid_file.display())))?;
    let _ = std::fs::remove_file(&pid_file);
    let start_time = exec::process_start_time(pid).unwrap_or(0);
    exec::update_session(paths, session, |s| {
        s.pid = pid;
        s.start_time = start_time;
        s.running = true;
    });
    report(
        sync,
        &Ready {
            pid,
            error_kind: None,
            error: None,
            runtime: rt.name.clone(),
        },
    );
    let log = LogWriter::open(LogDriver::None, &dir)
        .map_err(|e| ContainerError::Monitor(format!("log: {e}")))?;
    let mut pump = Pump::new(listener, log).map_err(|e| crate::Error::io(&dir, e))?;
    let code = pump.run(io, pid as i32, None);
    exec::update_session(paths, session, |s| {
        s.running = false;
        s.exit_code = Some(code);
    });
    pump.finish(code);
    Ok(())
}
