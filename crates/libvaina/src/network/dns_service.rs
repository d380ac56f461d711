//! The per-network resolver process: started by the first setup on a network with DNS, on the
//! network's gateway addresses (port 53), stopped by the teardown that leaves the network
//! without containers (or by `network rm`).
//!
//! The launcher binds the sockets (so the resolver answers from the first query on) and starts
//! `vaina network dns-serve` (hidden) with them; that process forks once, writes the PID of
//! the resolver to `<runroot>/networks/<name>.dns.pid` and exits, so the resolver belongs to
//! no caller. A resolver is running when that PID is alive and is a `dns-serve`; a socket
//! already bound on the gateway also counts as running.

use super::config::Network;
use super::{dns, NetworkError};
use crate::Engine;
use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Environment variable naming the vaina binary to start (default: the running executable).
pub const BINARY_ENV: &str = "VAINA_BINARY";
/// Environment variable with the resolvers to forward to (`IP:PORT,...`; empty: none), in
/// place of the host's /etc/resolv.conf.
pub const UPSTREAMS_ENV: &str = "VAINA_DNS_UPSTREAMS";

fn err(what: &str, e: impl std::fmt::Display) -> NetworkError {
    NetworkError::Command(format!("dns: {what}: {e}"))
}

impl Engine {
    fn dns_pid_path(&self, network: &str) -> PathBuf {
        self.paths
            .runroot
            .join("networks")
            .join(format!("{network}.dns.pid"))
    }

    fn dns_pid(&self, network: &str) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.dns_pid_path(network))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        resolver_alive(pid).then_some(pid)
    }

    /// True while the resolver of `network` runs.
    pub fn network_dns_running(&self, network: &str) -> bool {
        self.dns_pid(network).is_some()
    }

    /// Starts the resolver of `net` unless it runs. Call with the network lock held, after
    /// the bridge has its gateway addresses.
    pub(crate) fn dns_start(&self, net: &Network) -> Result<(), NetworkError> {
        if self.network_dns_running(&net.name) {
            return Ok(());
        }
        let Some(gw) = net.subnets.iter().find_map(|s| s.gateway) else {
            return Ok(());
        };
        let sock = match UdpSocket::bind(SocketAddr::new(gw, 53)) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => return Ok(()),
            Err(e) => return Err(err(&format!("{gw}:53"), e)),
        };
        let pid_path = self.dns_pid_path(&net.name);
        if let Some(dir) = pid_path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err("creating run directory", e))?;
        }
        let exe = match std::env::var_os(BINARY_ENV) {
            Some(p) => PathBuf::from(p),
            None => std::env::current_exe().map_err(|e| err("finding the vaina binary", e))?,
        };
        fcntl(sock.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty()))
            .map_err(|e| err("sharing the socket", e))?;
        let status = Command::new(exe)
            .arg("--root")
            .arg(&self.paths.root)
            .arg("--runroot")
            .arg(&self.paths.runroot)
            .args(["network", "dns-serve", "--socket-fd"])
            .arg(sock.as_raw_fd().to_string())
            .arg("--pid-file")
            .arg(&pid_path)
            .arg(&net.name)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .status()
            .map_err(|e| err("starting the resolver", e))?;
        if !status.success() {
            return Err(err("starting the resolver", status));
        }
        Ok(())
    }

    /// Stops the resolver of `network` (no-op when it does not run) and waits until it is gone.
    pub(crate) fn dns_stop(&self, network: &str) -> Result<(), NetworkError> {
        let path = self.dns_pid_path(network);
        if let Some(pid) = self.dns_pid(network) {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            )
            .map_err(|e| err("stopping the resolver", e))?;
            // SIGTERM ends it at once; wait (bounded) until its socket is free again.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while resolver_alive(pid) {
                if std::time::Instant::now() > deadline {
                    return Err(err("stopping the resolver", "still running after 5s"));
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
        let _ = std::fs::remove_file(&path);
        Ok(())
    }
}

/// True when `pid` is a live (not zombie) `dns-serve` process.
fn resolver_alive(pid: i32) -> bool {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let cmd = std::fs::read(proc.join("cmdline")).unwrap_or_default();
    let stat = std::fs::read_to_string(proc.join("stat")).unwrap_or_default();
    let state = stat.rsplit_once(") ").map(|(_, r)| r.chars().next());
    !cmd.is_empty()
        && String::from_utf8_lossy(&cmd).contains("dns-serve")
        && state != Some(Some('Z'))
}

/// The `dns-serve` process: forks the resolver, which serves on the inherited socket; the
/// first process writes the resolver's PID to `pid_file` and returns (the caller exits).
pub fn detach_and_serve(
    engine: &Engine,
    network: &str,
    socket_fd: std::os::fd::RawFd,
    pid_file: &std::path::Path,
) -> Result<(), NetworkError> {
    use std::os::fd::{FromRawFd, OwnedFd};
    // SAFETY: the launcher passed this descriptor (a bound UDP socket) for us alone to own.
    #[allow(unsafe_code)]
    let sock = UdpSocket::from(unsafe { OwnedFd::from_raw_fd(socket_fd) });
    // SAFETY: called first thing in the hidden command, while the process is single-threaded,
    // so the child may keep running Rust code after fork.
    #[allow(unsafe_code)]
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Parent { child }) => {
            let mut f = std::fs::File::create(pid_file)
                .map_err(|e| err(&pid_file.display().to_string(), e))?;
            writeln!(f, "{child}").map_err(|e| err(&pid_file.display().to_string(), e))?;
            Ok(())
        }
        Ok(nix::unistd::ForkResult::Child) => {
            let _ = nix::unistd::setsid();
            let r = serve_network(engine, network, sock, pid_file);
            std::process::exit(if r.is_ok() { 0 } else { 1 });
        }
        Err(e) => Err(err("fork", e)),
    }
}

/// The resolver's main loop over the inherited socket: names from the database at each
/// query, the rest forwarded to the host's resolvers. SIGTERM ends the process; so does the
/// loss of its PID file (a run root wiped or removed: nothing could stop it otherwise).
pub fn serve_network(
    engine: &Engine,
    network: &str,
    sock: UdpSocket,
    pid_file: &std::path::Path,
) -> Result<(), NetworkError> {
    let upstreams = match std::env::var(UPSTREAMS_ENV) {
        Ok(list) => list
            .split(',')
            .filter_map(|a| a.trim().parse::<SocketAddr>().ok())
            .collect(),
        Err(_) => {
            let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
            dns::upstreams_from_resolv_conf(&host)
        }
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    let zone = || engine.network_dns_zone(network).unwrap_or_default();
    let keep_going = || pid_file.exists();
    dns::serve(&sock, &upstreams, &zone, &stop, &keep_going)
}
