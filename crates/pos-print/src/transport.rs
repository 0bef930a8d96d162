//! The ways a printer attaches, and delivering a job to it: raw TCP (port 9100), serial, the USB
//! line-printer device, a plain file, or a CUPS queue. Where the attachment can answer, the
//! printer's real-time status is asked before and after sending, and a job is only reported as
//! delivered when the printer names no fault.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::escpos::STATUS_REQUEST;
use crate::status::PrinterStatus;

/// Where a printer is and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Connection {
    /// A network printer's raw port, usually 9100.
    Tcp { host: String, port: u16 },
    /// `/dev/ttyS*`, `/dev/ttyUSB*`, 8 data bits, no parity, one stop bit.
    Serial { path: String, baud: u32 },
    /// The kernel's USB line-printer device, `/dev/usb/lpN`.
    Usb { path: String },
    /// Appends every job to a file: for checking output without hardware.
    File { path: String },
    /// A CUPS queue of an office printer; jobs sent there are PDF documents.
    Cups { queue: String },
}

pub const DEFAULT_BAUD: u32 = 38400;

impl Connection {
    /// Parses `tcp://host[:port]`, `serial:/dev/ttyUSB0[?baud=19200]`, `usb:/dev/usb/lp0`,
    /// `file:/path` or `cups:queue`.
    pub fn parse(uri: &str) -> Result<Connection, String> {
        let bad = || {
            format!(
                "printer address {uri:?} is not one of tcp://HOST[:PORT], serial:DEVICE[?baud=N], usb:DEVICE, file:PATH, cups:QUEUE"
            )
        };
        let (scheme, rest) = uri.split_once(':').ok_or_else(bad)?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        if rest.is_empty() || rest.chars().any(char::is_control) {
            return Err(bad());
        }
        match scheme {
            "tcp" => {
                let (host, port) = match rest.rsplit_once(':') {
                    Some((h, p)) if !h.is_empty() => (h, p.parse().map_err(|_| format!("bad port in {uri:?}"))?),
                    _ => (rest, 9100),
                };
                Ok(Connection::Tcp { host: host.to_owned(), port })
            }
            "serial" => {
                let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
                let baud = match query.strip_prefix("baud=") {
                    Some(b) => b.parse().map_err(|_| format!("bad baud rate in {uri:?}"))?,
                    None if query.is_empty() => DEFAULT_BAUD,
                    None => return Err(bad()),
                };
                if ![1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200].contains(&baud) {
                    return Err(format!("baud rate {baud} is not one a receipt printer uses"));
                }
                Ok(Connection::Serial { path: absolute(path, uri)?, baud })
            }
            "usb" => Ok(Connection::Usb { path: absolute(rest, uri)? }),
            "file" => Ok(Connection::File { path: absolute(rest, uri)? }),
            "cups" => {
                if rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    Ok(Connection::Cups { queue: rest.to_owned() })
                } else {
                    Err(format!("CUPS queue names are letters, digits, _ and -: {rest:?}"))
                }
            }
            _ => Err(bad()),
        }
    }

    pub fn to_uri(&self) -> String {
        match self {
            Connection::Tcp { host, port } => format!("tcp://{host}:{port}"),
            Connection::Serial { path, baud } => format!("serial:{path}?baud={baud}"),
            Connection::Usb { path } => format!("usb:{path}"),
            Connection::File { path } => format!("file:{path}"),
            Connection::Cups { queue } => format!("cups:{queue}"),
        }
    }

    /// Whether jobs for this printer are PDF documents rather than ESC/POS bytes.
    pub fn prints_pdf(&self) -> bool {
        matches!(self, Connection::Cups { .. })
    }
}

fn absolute(path: &str, uri: &str) -> Result<String, String> {
    if path.starts_with('/') { Ok(path.to_owned()) } else { Err(format!("{uri:?}: the path must be absolute")) }
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// Longest wait for the printer to take bytes.
    pub io: Duration,
    /// Longest wait for a status answer.
    pub status: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect: Duration::from_secs(2), io: Duration::from_secs(5), status: Duration::from_millis(800) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("printer not reachable: {0}")]
    Unreachable(String),
    #[error("printer reports {0}")]
    Fault(String, PrinterStatus),
    /// The connection failed after bytes were sent: part of the job may have printed.
    #[error("printer stopped mid-job: {0}")]
    Interrupted(String),
    #[error("printer reports {0} after the job was sent")]
    FaultAfterSend(String, PrinterStatus),
}

impl TransportError {
    /// Whether any of the job may have reached the paper (or the drawer).
    pub fn maybe_delivered(&self) -> bool {
        matches!(self, TransportError::Interrupted(_) | TransportError::FaultAfterSend(..))
    }
}

/// What the printer said about a delivered job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The status after sending, where the attachment answers.
    pub status: Option<PrinterStatus>,
}

enum Link {
    Tcp(TcpStream),
    Serial(Box<dyn serialport::SerialPort>),
    Device(File),
}

impl Link {
    fn open(conn: &Connection, t: &Timeouts) -> Result<Link, TransportError> {
        match conn {
            Connection::Tcp { host, port } => {
                let unreachable = |e: std::io::Error| TransportError::Unreachable(format!("{host}:{port}: {e}"));
                let addrs = (host.as_str(), *port).to_socket_addrs().map_err(unreachable)?;
                let mut last = None;
                for addr in addrs {
                    match TcpStream::connect_timeout(&addr, t.connect) {
                        Ok(s) => {
                            s.set_write_timeout(Some(t.io)).map_err(unreachable)?;
                            s.set_nodelay(true).map_err(unreachable)?;
                            return Ok(Link::Tcp(s));
                        }
                        Err(e) => last = Some(e),
                    }
                }
                Err(unreachable(last.unwrap_or_else(|| std::io::Error::other("no address"))))
            }
            Connection::Serial { path, baud } => serialport::new(path, *baud)
                .timeout(t.io)
                .open()
                .map(Link::Serial)
                .map_err(|e| TransportError::Unreachable(format!("{path}: {e}"))),
            Connection::Usb { path } => {
                // Non-blocking open so a FIFO without a reader or a dead device fails at once
                // instead of hanging; writes then block again, bounded by the device's own timeout.
                let file = OpenOptions::new()
                    .write(true)
                    .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
                    .open(path)
                    .map_err(|e| TransportError::Unreachable(format!("{path}: {}", explain_io(&e))))?;
                rustix::fs::fcntl_setfl(&file, rustix::fs::OFlags::empty())
                    .map_err(|e| TransportError::Unreachable(format!("{path}: {e}")))?;
                Ok(Link::Device(file))
            }
            Connection::File { path } => OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map(Link::Device)
                .map_err(|e| TransportError::Unreachable(format!("{path}: {}", explain_io(&e)))),
            Connection::Cups { .. } => unreachable!("CUPS jobs go through lp"),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Link::Tcp(s) => s.write_all(bytes).and_then(|()| s.flush()),
            Link::Serial(p) => p.write_all(bytes).and_then(|()| p.flush()),
            Link::Device(f) => f.write_all(bytes).and_then(|()| f.flush()),
        }
    }

    /// Asks `DLE EOT 1..4` and reads the four answers. `Ok(None)`: the attachment cannot answer.
    fn status(&mut self, conn: &Connection, t: &Timeouts) -> Result<Option<PrinterStatus>, TransportError> {
        let answers = match self {
            Link::Tcp(s) => {
                s.write_all(&STATUS_REQUEST).map_err(|e| TransportError::Unreachable(e.to_string()))?;
                s.set_read_timeout(Some(t.status)).map_err(|e| TransportError::Unreachable(e.to_string()))?;
                read_answers(s)?
            }
            Link::Serial(p) => {
                p.write_all(&STATUS_REQUEST).map_err(|e| TransportError::Unreachable(e.to_string()))?;
                p.set_timeout(t.status).map_err(|e| TransportError::Unreachable(e.to_string()))?;
                let a = read_answers(p)?;
                p.set_timeout(t.io).map_err(|e| TransportError::Unreachable(e.to_string()))?;
                // A powered serial printer always answers, even offline: silence means it is off
                // or unplugged, and bytes written to the port would be lost without an error.
                if a.is_none() {
                    return Err(TransportError::Unreachable(format!(
                        "{}: no answer on the serial line",
                        conn.to_uri()
                    )));
                }
                a
            }
            Link::Device(_) => return Ok(None),
        };
        match answers {
            None => Ok(None),
            Some(a) => PrinterStatus::parse(a).map(Some).map_err(TransportError::Unreachable),
        }
    }
}

/// The four status answers; `None` when they do not come within the read timeout; an error when
/// the printer closed the connection.
fn read_answers(r: &mut dyn Read) -> Result<Option<[u8; 4]>, TransportError> {
    let mut buf = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut buf[got..]) {
            Ok(0) => return Err(TransportError::Unreachable("the printer closed the connection".into())),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return Ok(None);
            }
            Err(e) => return Err(TransportError::Unreachable(e.to_string())),
            Ok(n) => got += n,
        }
    }
    Ok(Some(buf))
}

fn explain_io(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(6) => "no device or nothing reading it (printer off or unplugged)".into(),
        _ if e.kind() == std::io::ErrorKind::PermissionDenied => {
            format!("{e} (add the register's user to group lp for USB or dialout for serial)")
        }
        _ => e.to_string(),
    }
}

/// The printer's status, where its attachment can answer (`Ok(None)` where it cannot: files, CUPS
/// and plain USB stand-ins).
pub fn query_status(conn: &Connection, t: &Timeouts) -> Result<Option<PrinterStatus>, TransportError> {
    match conn {
        Connection::Cups { queue } => cups_status(queue).map(|()| None),
        Connection::Usb { path } if !is_char_device(path) => Link::open(conn, t).map(|_| None),
        _ => Link::open(conn, t)?.status(conn, t),
    }
}

fn is_char_device(path: &str) -> bool {
    std::fs::metadata(Path::new(path)).map(|m| m.file_type().is_char_device()).unwrap_or(false)
}

/// Sends one job. The status is checked first (a printer reporting a fault gets nothing) and
/// again after (a fault then means the job may not have printed whole, and it is not reported
/// as delivered).
pub fn deliver(conn: &Connection, payload: &[u8], t: &Timeouts) -> Result<Delivery, TransportError> {
    if let Connection::Cups { queue } = conn {
        cups_status(queue)?;
        cups_print(queue, payload)?;
        return Ok(Delivery { status: None });
    }
    let mut link = Link::open(conn, t)?;
    let answers = !matches!(link, Link::Device(_));
    let before = if answers { link.status(conn, t)? } else { None };
    if let Some(s) = before
        && let Some(fault) = s.fault()
    {
        return Err(TransportError::Fault(fault, s));
    }
    link.write_all(payload).map_err(|e| TransportError::Interrupted(e.to_string()))?;
    if !answers {
        return Ok(Delivery { status: None });
    }
    let after = link.status(conn, t).map_err(|e| TransportError::Interrupted(e.to_string()))?;
    match after {
        Some(s) => match s.fault() {
            Some(fault) => Err(TransportError::FaultAfterSend(fault, s)),
            None => Ok(Delivery { status: after }),
        },
        // It answered before the job and not after: it may have stopped part-way.
        None if before.is_some() => Err(TransportError::Interrupted("the printer stopped answering".into())),
        None => Ok(Delivery { status: None }),
    }
}

fn cups_status(queue: &str) -> Result<(), TransportError> {
    let out = Command::new("lpstat")
        .args(["-p", queue])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| TransportError::Unreachable(format!("CUPS is not available (lpstat: {e})")))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(TransportError::Unreachable(format!(
            "CUPS queue {queue}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    if text.contains("disabled") {
        let s = PrinterStatus { online: false, ..PrinterStatus::default() };
        return Err(TransportError::Fault(format!("CUPS queue {queue} is disabled"), s));
    }
    Ok(())
}

fn cups_print(queue: &str, payload: &[u8]) -> Result<(), TransportError> {
    let mut child = Command::new("lp")
        .args(["-d", queue, "-t", "pos-register", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| TransportError::Unreachable(format!("CUPS is not available (lp: {e})")))?;
    let written = child.stdin.take().map(|mut s| s.write_all(payload));
    let out = child.wait_with_output().map_err(|e| TransportError::Interrupted(e.to_string()))?;
    match written {
        Some(Ok(())) if out.status.success() => Ok(()),
        _ => Err(TransportError::Unreachable(format!(
            "CUPS queue {queue} refused the job: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_and_print_back() {
        for uri in [
            "tcp://10.0.0.7:9100",
            "serial:/dev/ttyUSB0?baud=19200",
            "usb:/dev/usb/lp0",
            "file:/tmp/r.bin",
            "cups:office",
        ] {
            assert_eq!(Connection::parse(uri).unwrap().to_uri(), uri);
        }
        assert_eq!(Connection::parse("tcp://printer").unwrap(), Connection::Tcp { host: "printer".into(), port: 9100 });
        assert_eq!(Connection::parse("serial:///dev/ttyS0").unwrap().to_uri(), "serial:/dev/ttyS0?baud=38400");
        for bad in ["lpt1", "tcp://", "serial:/dev/ttyS0?baud=12345", "usb:lp0", "cups:a b", "ftp://x", "tcp://h:99999"]
        {
            assert!(Connection::parse(bad).is_err(), "{bad}");
        }
    }
}
