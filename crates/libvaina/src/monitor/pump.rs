//! The monitor's event loop while a container runs: output from the container's pipes or
//! terminal goes to the log and to every attach client; attach clients' stdin frames go to the
//! container; the container's exit (a pidfd turns readable) ends the loop with its code.
//! Orphans reparented to the monitor (it is a child subreaper) are reaped on the way.

use super::log::LogWriter;
use super::stdio::ContainerIo;
use crate::container::attach::Frame;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

struct Client {
    stream: UnixStream,
    buf: Vec<u8>,
}

/// Output routing shared by every run of the container (restarts keep the clients).
pub struct Pump {
    listener: UnixListener,
    clients: Vec<Client>,
    log: LogWriter,
}

/// A pollable descriptor for `pid`'s exit.
fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1; no memory
    // is shared with the kernel.
    #[allow(unsafe_code)]
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the syscall returned a fresh descriptor that nothing else owns.
    #[allow(unsafe_code)]
    Some(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn exit_code(st: WaitStatus) -> Option<i32> {
    match st {
        WaitStatus::Exited(_, c) => Some(c),
        WaitStatus::Signaled(_, s, _) => Some(128 + s as i32),
        _ => None,
    }
}

/// Sets the terminal size of a pty master.
fn resize(master: BorrowedFd<'_>, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize struct that lives for the whole call.
    #[allow(unsafe_code)]
    unsafe {
        libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws);
    }
}

impl Pump {
    pub fn new(listener: UnixListener, log: LogWriter) -> std::io::Result<Self> {
        listener.set_nonblocking(true)?;
        Ok(Pump {
            listener,
            clients: Vec::new(),
            log,
        })
    }

    fn broadcast(&mut self, frame: &Frame) {
        let bytes = frame.encode();
        self.clients
            .retain_mut(|c| c.stream.write_all(&bytes).is_ok());
    }

    fn accept(&mut self) {
        while let Ok((s, _)) = self.listener.accept() {
            if s.set_nonblocking(false).is_ok() {
                let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
                self.clients.push(Client {
                    stream: s,
                    buf: Vec::new(),
                });
            }
        }
    }

    /// Pumps until the container process `pid` exits; returns its exit code. At `deadline`
    /// (`run --timeout`) the process is killed and the code is -1, as conmon records it.
    pub fn run(&mut self, io: ContainerIo, pid: i32, mut deadline: Option<Instant>) -> i32 {
        let pidfd = pidfd_open(pid);
        let (mut stdin, mut outs): (Option<OwnedFd>, Vec<(OwnedFd, &'static str)>) = match io {
            ContainerIo::Pipes {
                stdin,
                stdout,
                stderr,
            } => (stdin, vec![(stdout, "stdout"), (stderr, "stderr")]),
            ContainerIo::Pty { master } => {
                let dup = master.try_clone().ok();
                (dup, vec![(master, "stdout")])
            }
            ContainerIo::Passthrough => (None, vec![]),
        };
        let is_pty = outs.len() == 1;
        let mut code = None;
        let mut buf = vec![0u8; 64 * 1024];
        let mut drain_deadline: Option<Instant> = None;
        let mut timed_out = false;
        loop {
            if code.is_none() {
                code = self.reap(pid);
            }
            if code.is_none() && deadline.is_some_and(|d| Instant::now() >= d) {
                let _ = nix::sys::signal::kill(Pid::from_raw(pid), nix::sys::signal::SIGKILL);
                deadline = None;
                timed_out = true;
            }
            if code.is_some() {
                let d = *drain_deadline
                    .get_or_insert_with(|| Instant::now() + Duration::from_millis(200));
                if outs.is_empty() || Instant::now() >= d {
                    break;
                }
            }
            let n_outs = outs.len();
            let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(n_outs + self.clients.len() + 2);
            for (fd, _) in &outs {
                fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
            }
            fds.push(PollFd::new(self.listener.as_fd(), PollFlags::POLLIN));
            for c in &self.clients {
                fds.push(PollFd::new(c.stream.as_fd(), PollFlags::POLLIN));
            }
            let has_pidfd = code.is_none() && pidfd.is_some();
            if let (true, Some(p)) = (has_pidfd, pidfd.as_ref()) {
                fds.push(PollFd::new(p.as_fd(), PollFlags::POLLIN));
            }
            let timeout = match (code, deadline) {
                (Some(_), _) => 50u16,
                (None, Some(d)) => d
                    .saturating_duration_since(Instant::now())
                    .as_millis()
                    .clamp(1, 1000) as u16,
                (None, None) => 1000u16,
            };
            match poll(&mut fds, PollTimeout::from(timeout)) {
                Ok(_) => {}
                Err(nix::Error::EINTR) => continue,
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
            let ready: Vec<bool> = fds
                .iter()
                .map(|f| {
                    f.revents().is_some_and(|r| {
                        r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
                    })
                })
                .collect();
            drop(fds);
            // Clients first: one that connected before the container started must not miss
            // its first output (the listener is non-blocking, so this is cheap).
            let before = self.clients.len();
            self.accept();
            // Container output.
            let mut closed = Vec::new();
            for (i, (fd, stream)) in outs.iter().enumerate() {
                if !ready[i] {
                    continue;
                }
                match nix::unistd::read(fd.as_raw_fd(), &mut buf) {
                    Ok(0) | Err(nix::Error::EIO) => closed.push(i),
                    Ok(n) => {
                        let data = &buf[..n];
                        self.log.write(stream, data);
                        let f = if *stream == "stderr" {
                            Frame::Stderr(data.to_vec())
                        } else {
                            Frame::Stdout(data.to_vec())
                        };
                        self.broadcast(&f);
                    }
                    Err(nix::Error::EINTR) | Err(nix::Error::EAGAIN) => {}
                    Err(_) => closed.push(i),
                }
            }
            for i in closed.into_iter().rev() {
                outs.remove(i);
            }
            // Client input.
            let n_clients = ready.len() - n_outs - 1 - usize::from(has_pidfd);
            let mut gone = Vec::new();
            for ci in 0..n_clients.min(before) {
                if !ready[n_outs + 1 + ci] {
                    continue;
                }
                let c = &mut self.clients[ci];
                match c.stream.read(&mut buf) {
                    Ok(0) | Err(_) => gone.push(ci),
                    Ok(n) => {
                        c.buf.extend_from_slice(&buf[..n]);
                        loop {
                            match Frame::decode(&c.buf) {
                                Ok(Some((f, used))) => {
                                    c.buf.drain(..used);
                                    match f {
                                        Frame::Stdin(d) => {
                                            if let Some(s) = &stdin {
                                                let _ = write_all_fd(s.as_fd(), &d);
                                            }
                                        }
                                        Frame::StdinEof if !is_pty => stdin = None,
                                        Frame::Resize(r, col) => {
                                            if let (true, Some(s)) = (is_pty, &stdin) {
                                                resize(s.as_fd(), r, col);
                                            }
                                        }
                                        _ => {}
                                    }
                                }
                                Ok(None) => break,
                                Err(_) => {
                                    gone.push(ci);
                                    break;
                                }
                            }
                        }
                    }
                }
            }
            for ci in gone.into_iter().rev() {
                self.clients.remove(ci);
            }
        }
        if timed_out {
            return -1;
        }
        code.unwrap_or(-1)
    }

    /// Reaps children; returns the container's exit code once it is gone.
    fn reap(&mut self, pid: i32) -> Option<i32> {
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => return None,
                Ok(st) => {
                    if st.pid() == Some(Pid::from_raw(pid)) {
                        if let Some(c) = exit_code(st) {
                            return Some(c);
                        }
                    }
                }
                Err(nix::Error::EINTR) => continue,
                Err(_) => {
                    // Not our child (no subreaper): fall back to liveness.
                    return match nix::sys::signal::kill(Pid::from_raw(pid), None) {
                        Err(nix::Error::ESRCH) => Some(-1),
                        _ => None,
                    };
                }
            }
        }
    }

    /// Tells every client the exit code and disconnects them.
    pub fn finish(&mut self, code: i32) {
        self.broadcast(&Frame::Exit(code));
        self.clients.clear();
    }
}

fn write_all_fd(fd: BorrowedFd<'_>, mut data: &[u8]) -> nix::Result<()> {
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(nix::Error::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
