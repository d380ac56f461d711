//! A `vaina` process on a new pseudo-terminal, for the interactive cases (`-it`, detach keys,
//! `attach`): its output is collected by a thread, input is written to the master side.

use super::TestEnv;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A child process on a new pty, with its output collected by a thread.
pub struct OnPty {
    master: std::fs::File,
    out: mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
    child: std::process::Child,
}

impl OnPty {
    /// Runs `vaina ARGS` in `env` with the pty's slave side as its stdin, stdout and stderr.
    pub fn spawn(env: &TestEnv, args: &[&str]) -> OnPty {
        let pty = nix::pty::openpty(None, None).unwrap();
        let slave: OwnedFd = pty.slave;
        let child = env
            .cmd(args)
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
            .spawn()
            .unwrap();
        let master = std::fs::File::from(pty.master);
        let mut reader = master.try_clone().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        OnPty {
            master,
            out: rx,
            seen: Vec::new(),
            child,
        }
    }

    /// Waits (up to 30 s) until the output so far contains `text`.
    pub fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !String::from_utf8_lossy(&self.seen).contains(text) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left) {
                Ok(d) => self.seen.extend_from_slice(&d),
                Err(_) => panic!(
                    "timed out waiting for {text:?}; got {:?}",
                    String::from_utf8_lossy(&self.seen)
                ),
            }
        }
    }

    /// Types `data` on the terminal.
    pub fn send(&mut self, data: &[u8]) {
        self.master.write_all(data).unwrap();
    }

    /// Waits (up to 20 s) for the process to exit; returns its exit code.
    pub fn wait(mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            assert!(Instant::now() < deadline, "child did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
