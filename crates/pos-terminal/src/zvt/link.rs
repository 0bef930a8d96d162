//! The TCP connection to a ZVT terminal: sending APDUs and reading them with a deadline, however
//! the bytes arrive (partial reads are completed).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::apdu::{self, Apdu, LengthField, Wiped};
use crate::TerminalError;

/// Why reading or writing failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkError {
    /// Nothing (or not all of an APDU) arrived before the deadline.
    Timeout,
    /// The terminal closed or reset the connection.
    Closed,
    /// Another I/O error.
    Io(io::ErrorKind),
}

impl LinkError {
    fn from_io(e: &io::Error) -> LinkError {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => LinkError::Timeout,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::NotConnected => LinkError::Closed,
            kind => LinkError::Io(kind),
        }
    }
}

pub(crate) struct Link {
    stream: TcpStream,
}

impl Link {
    /// Connects to `addr` (host:port), trying each address it resolves to within `timeout`.
    pub(crate) fn connect(addr: &str, timeout: Duration) -> Result<Link, TerminalError> {
        let addrs: Vec<_> = addr
            .to_socket_addrs()
            .map_err(|e| TerminalError::Unreachable(format!("cannot resolve terminal address {addr:?}: {e}")))?
            .collect();
        let mut last = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, timeout.max(Duration::from_millis(1))) {
                Ok(stream) => {
                    // Small APDUs are sent whole, at once.
                    let _ = stream.set_nodelay(true);
                    stream
                        .set_write_timeout(Some(Duration::from_secs(5)))
                        .map_err(|e| TerminalError::Unreachable(format!("terminal at {addr}: {e}")))?;
                    return Ok(Link { stream });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(TerminalError::Unreachable(match last {
            Some(e) if e.kind() == io::ErrorKind::TimedOut => {
                format!("no answer from {addr} within {} ms", timeout.as_millis())
            }
            Some(e) => format!("cannot connect to {addr}: {e}"),
            None => format!("terminal address {addr:?} resolves to nothing"),
        }))
    }

    /// Sends one APDU.
    pub(crate) fn send(&mut self, class: u8, instr: u8, data: &[u8]) -> Result<(), LinkError> {
        let bytes = apdu::encode(class, instr, data).ok_or(LinkError::Io(io::ErrorKind::InvalidInput))?;
        self.stream.write_all(&bytes).map_err(|e| LinkError::from_io(&e))?;
        self.stream.flush().map_err(|e| LinkError::from_io(&e))
    }

    /// Sends the positive acknowledgement 80 00 00.
    pub(crate) fn ack(&mut self) -> Result<(), LinkError> {
        self.send(0x80, 0x00, &[])
    }

    /// Reads one whole APDU, waiting at most until `deadline`.
    pub(crate) fn read_apdu(&mut self, deadline: Instant) -> Result<Apdu, LinkError> {
        let mut header = [0u8; 3];
        self.read_exact_by(&mut header, deadline)?;
        let len = match apdu::length_field(header[2]) {
            LengthField::Short(n) => n,
            LengthField::Extended => {
                let mut ext = [0u8; 2];
                self.read_exact_by(&mut ext, deadline)?;
                apdu::extended_length(ext)
            }
        };
        let mut data = Wiped::zeroed(len);
        self.read_exact_by(data.as_mut_slice(), deadline)?;
        Ok(Apdu { class: header[0], instr: header[1], data })
    }

    fn read_exact_by(&mut self, buf: &mut [u8], deadline: Instant) -> Result<(), LinkError> {
        let mut filled = 0;
        while filled < buf.len() {
            let now = Instant::now();
            if now >= deadline {
                return Err(LinkError::Timeout);
            }
            let wait = (deadline - now).max(Duration::from_millis(1));
            self.stream.set_read_timeout(Some(wait)).map_err(|e| LinkError::from_io(&e))?;
            match self.stream.read(&mut buf[filled..]) {
                Ok(0) => return Err(LinkError::Closed),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => match LinkError::from_io(&e) {
                    // Checked against the deadline at the top of the loop.
                    LinkError::Timeout => {}
                    other => return Err(other),
                },
            }
        }
        Ok(())
    }

    /// Closes the connection (both directions).
    pub(crate) fn close(self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}
