//! The container's standard streams as the monitor holds them, and the runtime `create` call
//! that hands them over: pipes (stdin only with `-i`), a terminal whose master side the
//! runtime sends back over a console socket (`-t`, SCM_RIGHTS), or the monitor's own stdio
//! (the passthrough log driver).

use crate::container::rootfs::{short_socket_path, ContainerPaths};
use crate::runtime::{Runtime, RuntimeError};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// The monitor's side of the container's streams.
pub enum ContainerIo {
    Pipes {
        /// Write end of the container's stdin (with `-i`).
        stdin: Option<OwnedFd>,
        stdout: OwnedFd,
        stderr: OwnedFd,
    },
    /// Master side of the container's terminal.
    Pty { master: OwnedFd },
    /// The container writes straight to the monitor's stdio.
    Passthrough,
}

fn pipe() -> Result<(OwnedFd, OwnedFd), RuntimeError> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| RuntimeError::Failed {
        runtime: "monitor".into(),
        message: format!("creating pipe: {e}"),
    })
}

fn failed(rt: &Runtime, message: String) -> RuntimeError {
    RuntimeError::Failed {
        runtime: rt.name.clone(),
        message,
    }
}

/// Runs `runtime create` for the container with the streams its flags ask for.
pub fn create(
    rt: &Runtime,
    id: &str,
    paths: &ContainerPaths,
    tty: bool,
    interactive: bool,
    passthrough: bool,
) -> Result<ContainerIo, RuntimeError> {
    let bundle = &paths.dir;
    let pid_file = paths.pid_file();
    let _ = std::fs::remove_file(&pid_file);
    if passthrough {
        rt.create(
            id,
            bundle,
            &pid_file,
            None,
            [Stdio::inherit(), Stdio::inherit(), Stdio::inherit()],
        )?;
        return Ok(ContainerIo::Passthrough);
    }
    if tty {
        return create_with_console(rt, id, paths);
    }
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (stdin_keep, stdin_child) = if interactive {
        let (r, w) = pipe()?;
        (Some(w), Stdio::from(r))
    } else {
        (None, Stdio::null())
    };
    rt.create(
        id,
        bundle,
        &pid_file,
        None,
        [stdin_child, Stdio::from(out_w), Stdio::from(err_w)],
    )?;
    Ok(ContainerIo::Pipes {
        stdin: stdin_keep,
        stdout: out_r,
        stderr: err_r,
    })
}

fn create_with_console(
    rt: &Runtime,
    id: &str,
    paths: &ContainerPaths,
) -> Result<ContainerIo, RuntimeError> {
    let sock = paths.run_dir.join("console.sock");
    let master = with_console(rt, &sock, |console| {
        let mut c = rt.command(&["create", "--bundle"]);
        c.arg(&paths.dir)
            .arg("--pid-file")
            .arg(paths.pid_file())
            .arg("--console-socket")
            .arg(console)
            .arg(id);
        c
    })?;
    Ok(ContainerIo::Pty { master })
}

/// Runs `runtime exec --detach` of an exec session (`process` is its description) with the
/// streams it asks for; the process's PID is written to `pid_file`.
pub fn exec(
    rt: &Runtime,
    id: &str,
    process: &Path,
    pid_file: &Path,
    (tty, interactive): (bool, bool),
    preserve_fds: u32,
) -> Result<ContainerIo, RuntimeError> {
    let _ = std::fs::remove_file(pid_file);
    if tty {
        let sock = pid_file.with_extension("console");
        let master = with_console(rt, &sock, |console| {
            rt.exec_command(
                id,
                process,
                true,
                Some(pid_file),
                Some(console),
                preserve_fds,
            )
        })?;
        return Ok(ContainerIo::Pty { master });
    }
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (stdin_keep, stdin_child) = if interactive {
        let (r, w) = pipe()?;
        (Some(w), Stdio::from(r))
    } else {
        (None, Stdio::null())
    };
    let mut c = rt.exec_command(id, process, true, Some(pid_file), None, preserve_fds);
    c.stdin(stdin_child)
        .stdout(Stdio::from(out_w))
        .stderr(Stdio::from(err_w));
    let _ = std::fs::remove_file(&rt.log);
    let status = c.status().map_err(|source| RuntimeError::Spawn {
        path: rt.path.clone(),
        source,
    })?;
    if !status.success() || rt.last_logged_error().is_some() {
        // The runtime's own message went into the process's stderr pipe: the log has it.
        return Err(rt.failure(""));
    }
    Ok(ContainerIo::Pipes {
        stdin: stdin_keep,
        stdout: out_r,
        stderr: err_r,
    })
}

/// Runs the runtime command `build` makes (given the console socket path to pass) and
/// receives the terminal's master side it sends over that socket.
fn with_console(
    rt: &Runtime,
    sock: &Path,
    build: impl FnOnce(&Path) -> std::process::Command,
) -> Result<OwnedFd, RuntimeError> {
    let _ = std::fs::remove_file(sock);
    let io_err = |what: &str, e: std::io::Error| failed(rt, format!("{what}: {e}"));
    let (dir, short) = short_socket_path(sock).map_err(|e| io_err("console socket", e))?;
    let listener = UnixListener::bind(&short).map_err(|e| io_err("binding console socket", e))?;
    // The runtime runs in another process: give it a path through our /proc entry.
    let name = sock.file_name().unwrap_or_default().to_string_lossy();
    let for_runtime = std::path::PathBuf::from(format!(
        "/proc/{}/fd/{}/{name}",
        std::process::id(),
        dir.as_raw_fd()
    ));
    let mut c = build(&for_runtime);
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let _ = std::fs::remove_file(&rt.log);
    let mut child = c.spawn().map_err(|source| RuntimeError::Spawn {
        path: rt.path.clone(),
        source,
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| io_err("console socket", e))?;
    let mut master = None;
    loop {
        if master.is_none() {
            match listener.accept() {
                Ok((conn, _)) => {
                    master = Some(receive_fd(&conn).map_err(|e| io_err("receiving terminal", e))?);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(io_err("console socket", e)),
            }
        }
        match child.try_wait() {
            Ok(Some(status)) => {
                if !status.success() {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut e, &mut err);
                    }
                    let _ = std::fs::remove_file(sock);
                    return Err(rt.failure(&err));
                }
                if master.is_none() {
                    // The runtime may have connected just before exiting.
                    if let Ok((conn, _)) = listener.accept() {
                        master =
                            Some(receive_fd(&conn).map_err(|e| io_err("receiving terminal", e))?);
                    }
                }
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(io_err("waiting for the runtime", e)),
        }
    }
    let _ = std::fs::remove_file(sock);
    master.ok_or_else(|| failed(rt, "the runtime sent no terminal".into()))
}

/// Receives one file descriptor sent with SCM_RIGHTS.
fn receive_fd(conn: &std::os::unix::net::UnixStream) -> std::io::Result<OwnedFd> {
    conn.set_nonblocking(false)?;
    let mut buf = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(std::io::Error::from)?;
    for c in msg.cmsgs().map_err(std::io::Error::from)? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(&fd) = fds.first() {
                // SAFETY: the kernel just installed this descriptor in our table for us; we
                // are its only owner.
                #[allow(unsafe_code)]
                let owned = unsafe { OwnedFd::from_raw_fd(fd) };
                return Ok(owned);
            }
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "no descriptor in the console message",
    ))
}
