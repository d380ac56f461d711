//! The attach protocol between the monitor and its clients (`run` in the foreground,
//! `attach`, `start -a`), over the unix stream socket `<runroot>/containers/<id>/attach`.
//!
//! Both directions carry frames: one kind byte, a big-endian u32 length, the payload. The
//! monitor sends [`Frame::Stdout`], [`Frame::Stderr`] and finally [`Frame::Exit`] with the
//! container's exit code (after its cleanup is done, so a client that sees it may exit at
//! once). Clients send [`Frame::Stdin`], [`Frame::StdinEof`] and [`Frame::Resize`].

use super::rootfs::{short_socket_path, ContainerPaths};
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const EXIT: u8 = 3;
const STDIN_EOF: u8 = 4;
const RESIZE: u8 = 5;

/// Largest payload accepted (a frame above this is a protocol error).
pub const MAX_FRAME: usize = 1 << 20;

/// One message of the attach protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Stdin(Vec<u8>),
    StdinEof,
    /// Terminal size: rows, columns.
    Resize(u16, u16),
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    Exit(i32),
}

impl Frame {
    /// The frame's bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let (kind, payload): (u8, Vec<u8>) = match self {
            Frame::Stdin(d) => (STDIN, d.clone()),
            Frame::StdinEof => (STDIN_EOF, vec![]),
            Frame::Resize(r, c) => {
                let mut v = r.to_be_bytes().to_vec();
                v.extend_from_slice(&c.to_be_bytes());
                (RESIZE, v)
            }
            Frame::Stdout(d) => (STDOUT, d.clone()),
            Frame::Stderr(d) => (STDERR, d.clone()),
            Frame::Exit(c) => (EXIT, c.to_be_bytes().to_vec()),
        };
        let mut out = Vec::with_capacity(5 + payload.len());
        out.push(kind);
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Parses one frame from the front of `buf`: `Ok(Some((frame, used)))`, `Ok(None)` when
    /// more bytes are needed.
    pub fn decode(buf: &[u8]) -> io::Result<Option<(Frame, usize)>> {
        if buf.len() < 5 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
        if len > MAX_FRAME {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "attach frame too large",
            ));
        }
        if buf.len() < 5 + len {
            return Ok(None);
        }
        let p = &buf[5..5 + len];
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed attach frame");
        let f = match buf[0] {
            STDIN => Frame::Stdin(p.to_vec()),
            STDIN_EOF => Frame::StdinEof,
            RESIZE if len == 4 => Frame::Resize(
                u16::from_be_bytes([p[0], p[1]]),
                u16::from_be_bytes([p[2], p[3]]),
            ),
            STDOUT => Frame::Stdout(p.to_vec()),
            STDERR => Frame::Stderr(p.to_vec()),
            EXIT if len == 4 => Frame::Exit(i32::from_be_bytes([p[0], p[1], p[2], p[3]])),
            _ => return Err(bad()),
        };
        Ok(Some((f, 5 + len)))
    }

    /// Writes the frame.
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(&self.encode())
    }

    /// Reads one frame; `Ok(None)` at a clean end of stream.
    pub fn read_from(r: &mut impl Read) -> io::Result<Option<Frame>> {
        let mut head = [0u8; 5];
        match r.read_exact(&mut head[..1]) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
            Ok(()) => {}
        }
        r.read_exact(&mut head[1..])?;
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if len > MAX_FRAME {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "attach frame too large",
            ));
        }
        let mut buf = head.to_vec();
        buf.resize(5 + len, 0);
        r.read_exact(&mut buf[5..])?;
        Ok(Frame::decode(&buf)?.map(|(f, _)| f))
    }
}

/// Connects to a container's attach socket.
pub fn connect(paths: &ContainerPaths) -> io::Result<UnixStream> {
    let (_dir, p) = short_socket_path(&paths.attach_socket())?;
    UnixStream::connect(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let frames = [
            Frame::Stdin(b"ls\n".to_vec()),
            Frame::StdinEof,
            Frame::Resize(24, 80),
            Frame::Stdout(b"out".to_vec()),
            Frame::Stderr(vec![]),
            Frame::Exit(-1),
        ];
        let mut wire = Vec::new();
        for f in &frames {
            f.write_to(&mut wire).unwrap();
        }
        let mut r = &wire[..];
        for f in &frames {
            assert_eq!(Frame::read_from(&mut r).unwrap().as_ref(), Some(f));
        }
        assert_eq!(Frame::read_from(&mut r).unwrap(), None);
        assert_eq!(Frame::decode(&wire[..3]).unwrap(), None);
        assert!(Frame::decode(&[9, 0, 0, 0, 0]).is_err());
    }
}
