//! The terminal side of an attach session: container output to our stdout/stderr, our stdin
//! to the container (the terminal in raw mode for `-t`), the detach key sequence
//! (`ctrl-p,ctrl-q` by default) ending the session without stopping the container.

use libvaina::container::attach::Frame;
use nix::sys::termios::{self, SetArg, Termios};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How an attach session ended.
#[derive(Debug)]
pub enum AttachEnd {
    /// The container exited with this code (its cleanup is done).
    Exited(i32),
    /// The user typed the detach keys.
    Detached,
    /// The monitor went away without reporting an exit.
    Lost,
}

/// Parses Podman's detach key list (`ctrl-p,ctrl-q`, `a`, `ctrl-@`, ...) into bytes.
pub fn parse_detach_keys(s: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    if s.is_empty() {
        return Ok(out);
    }
    for k in s.split(',') {
        let b = match k.strip_prefix("ctrl-") {
            Some(c) if c.len() == 1 => {
                let c = c.as_bytes()[0].to_ascii_lowercase();
                match c {
                    b'a'..=b'z' => c - b'a' + 1,
                    b'@' => 0,
                    b'[' => 27,
                    b'\\' => 28,
                    b']' => 29,
                    b'^' => 30,
                    b'_' => 31,
                    _ => anyhow::bail!("invalid detach keys: {s}"),
                }
            }
            None if k.len() == 1 => k.as_bytes()[0],
            _ => anyhow::bail!("invalid detach keys: {s}"),
        };
        out.push(b);
    }
    Ok(out)
}

/// Restores the terminal when dropped.
struct RawMode(Termios);

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &self.0);
    }
}

fn terminal_size() -> Option<(u16, u16)> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize struct into memory we own for the call.
    #[allow(unsafe_code)]
    let r = unsafe { libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_row > 0).then_some((ws.ws_row, ws.ws_col))
}

/// `--sig-proxy`: from now on, this process's SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and
/// SIGUSR2 are passed to `forward` (which signals the container) instead of killing us.
pub fn proxy_signals(forward: impl Fn(i32) + Send + 'static) -> anyhow::Result<()> {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal};
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
    ] {
        set.add(s);
    }
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
    std::thread::spawn(move || loop {
        match set.wait() {
            Ok(sig) => forward(sig as i32),
            Err(_) => return,
        }
    });
    Ok(())
}

/// Runs an attach session on `stream` until the container exits or the user detaches.
pub fn attach(
    stream: UnixStream,
    tty: bool,
    stdin: bool,
    detach_keys: &str,
) -> anyhow::Result<AttachEnd> {
    let keys = parse_detach_keys(detach_keys)?;
    let is_term = nix::unistd::isatty(0).unwrap_or(false);
    let _raw = if tty && stdin && is_term {
        let saved = termios::tcgetattr(std::io::stdin().as_fd())?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &raw)?;
        Some(RawMode(saved))
    } else {
        None
    };
    let detached = Arc::new(AtomicBool::new(false));
    if stdin {
        let mut w = stream.try_clone()?;
        if tty {
            if let Some((r, c)) = terminal_size() {
                let _ = Frame::Resize(r, c).write_to(&mut w);
            }
        }
        let flag = detached.clone();
        std::thread::spawn(move || forward_stdin(w, &keys, &flag));
    }
    let mut r = std::io::BufReader::new(stream);
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    loop {
        match Frame::read_from(&mut r) {
            Ok(Some(Frame::Stdout(d))) => {
                let mut o = stdout.lock();
                let _ = o.write_all(&d);
                let _ = o.flush();
            }
            Ok(Some(Frame::Stderr(d))) => {
                let _ = stderr.lock().write_all(&d);
            }
            Ok(Some(Frame::Exit(c))) => return Ok(AttachEnd::Exited(c)),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => {
                return Ok(if detached.load(Ordering::SeqCst) {
                    AttachEnd::Detached
                } else {
                    AttachEnd::Lost
                })
            }
        }
    }
}

/// Copies stdin to the monitor as frames, watching for the detach keys.
fn forward_stdin(mut w: UnixStream, keys: &[u8], detached: &AtomicBool) {
    let mut buf = [0u8; 8192];
    let mut matched = 0usize;
    let mut input = std::io::stdin().lock();
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = Frame::StdinEof.write_to(&mut w);
                return;
            }
            Ok(n) => n,
        };
        let mut out = Vec::with_capacity(n);
        for &b in &buf[..n] {
            if !keys.is_empty() && b == keys[matched] {
                matched += 1;
                if matched == keys.len() {
                    if !out.is_empty() {
                        let _ = Frame::Stdin(out).write_to(&mut w);
                    }
                    detached.store(true, Ordering::SeqCst);
                    let _ = w.shutdown(std::net::Shutdown::Both);
                    return;
                }
                continue;
            }
            out.extend_from_slice(&keys[..matched]);
            matched = 0;
            if !keys.is_empty() && b == keys[0] {
                matched = 1;
            } else {
                out.push(b);
            }
        }
        if !out.is_empty() && Frame::Stdin(out).write_to(&mut w).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(parse_detach_keys("a,ctrl-@").unwrap(), vec![b'a', 0]);
        assert!(parse_detach_keys("ctrl-").is_err());
        assert!(parse_detach_keys("").unwrap().is_empty());
    }
}
