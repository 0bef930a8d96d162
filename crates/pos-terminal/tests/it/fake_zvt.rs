//! A fake ZVT terminal: the terminal's side of the protocol, scripted per test, on a TCP listener
//! at 127.0.0.1. It encodes and decodes APDUs on its own (not with the crate's code), so the tests
//! check the bytes on the wire independently.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// One APDU: class, instruction, data.
pub type Frame = (u8, u8, Vec<u8>);

/// Encodes an APDU: one length byte below 255, else FF and two bytes little endian.
pub fn frame(class: u8, instr: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![class, instr];
    if data.len() < 0xFF {
        out.push(data.len() as u8);
    } else {
        out.push(0xFF);
        out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// Packed BCD of `value` in `n` bytes.
pub fn bcd(value: u64, n: usize) -> Vec<u8> {
    let digits = format!("{value:0width$}", width = n * 2);
    digits.as_bytes().chunks(2).map(|p| ((p[0] - b'0') << 4) | (p[1] - b'0')).collect()
}

/// A Status Information body for an approval of `amount` with masked PAN 6712 34EE EEEE 4242,
/// trace 000123, receipt 0042, auth attribute "123456", card name "VISA".
pub fn approved_status(amount: u64) -> Vec<u8> {
    let mut d = vec![0x27, 0x00];
    d.push(0x04);
    d.extend(bcd(amount, 6));
    d.extend([0x0B, 0x00, 0x01, 0x23]);
    d.extend([0x0C, 0x14, 0x35, 0x09]);
    d.extend([0x0D, 0x05, 0x17]);
    d.extend([0x22, 0xF0, 0xF8, 0x67, 0x12, 0x34, 0xEE, 0xEE, 0xEE, 0x42, 0x42]);
    d.extend([0x3B, b'1', b'2', b'3', b'4', b'5', b'6', 0x00, 0x00]);
    d.extend([0x87, 0x00, 0x42]);
    d.extend([0x8A, 0x0A]);
    d.extend([0x8B, 0xF0, 0xF5, b'V', b'I', b'S', b'A', 0x00]);
    d
}

/// One accepted connection, recording what the register sent.
pub struct Conn {
    stream: TcpStream,
    pub received: Vec<Frame>,
}

impl Conn {
    /// Reads one APDU (10 s at most); `None` when the register closed the connection.
    pub fn read(&mut self) -> Option<Frame> {
        self.stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut header = [0u8; 3];
        self.stream.read_exact(&mut header).ok()?;
        let len = if header[2] == 0xFF {
            let mut ext = [0u8; 2];
            self.stream.read_exact(&mut ext).ok()?;
            u16::from_le_bytes(ext) as usize
        } else {
            header[2] as usize
        };
        let mut data = vec![0u8; len];
        self.stream.read_exact(&mut data).ok()?;
        let f = (header[0], header[1], data);
        self.received.push(f.clone());
        Some(f)
    }

    /// Reads one APDU and checks its control field; returns its data.
    pub fn expect(&mut self, class: u8, instr: u8) -> Vec<u8> {
        let (c, i, d) = self.read().unwrap_or_else(|| panic!("expected {class:02X} {instr:02X}, connection closed"));
        assert_eq!((c, i), (class, instr), "unexpected APDU from the register");
        d
    }

    /// Expects the register's positive acknowledgement 80 00 00.
    pub fn expect_ack(&mut self) {
        assert!(self.expect(0x80, 0x00).is_empty());
    }

    pub fn send(&mut self, class: u8, instr: u8, data: &[u8]) {
        self.stream.write_all(&frame(class, instr, data)).unwrap();
    }

    /// Sends an APDU a few bytes at a time, so the register has to put partial reads together.
    pub fn send_chunked(&mut self, class: u8, instr: u8, data: &[u8]) {
        for chunk in frame(class, instr, data).chunks(3) {
            self.stream.write_all(chunk).unwrap();
            self.stream.flush().unwrap();
            thread::sleep(Duration::from_millis(2));
        }
    }

    pub fn ack(&mut self) {
        self.send(0x80, 0x00, &[]);
    }

    /// Serves a Registration (06 00): acknowledges it, sends Completion, reads the ECR's
    /// acknowledgement. Returns the registration data.
    pub fn register(&mut self) -> Vec<u8> {
        let data = self.expect(0x06, 0x00);
        self.ack();
        self.send(0x06, 0x0F, &[]);
        self.expect_ack();
        data
    }

    /// Sends a terminal message and expects the register's acknowledgement.
    pub fn say(&mut self, class: u8, instr: u8, data: &[u8]) {
        self.send(class, instr, data);
        self.expect_ack();
    }

    /// Waits until the register closes the connection, recording whatever it still sends; gives up
    /// (and closes) after 10 s or 50 APDUs, so a register stuck in a loop fails the test instead of
    /// hanging it.
    pub fn drain(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        for _ in 0..50 {
            if Instant::now() >= deadline || self.read().is_none() {
                return;
            }
        }
    }
}

/// Accepts the register's next connection; panics after 10 s without one, so a test whose
/// register gave up early fails instead of hanging in `join`.
pub fn accept(listener: &TcpListener) -> Conn {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("no connection from the register: {e}"),
        }
    };
    stream.set_nonblocking(false).unwrap();
    stream.set_nodelay(true).unwrap();
    Conn { stream, received: Vec::new() }
}

/// Starts a fake terminal running `script` in a thread; returns its address and the thread.
pub fn spawn<T: Send + 'static>(script: impl FnOnce(&TcpListener) -> T + Send + 'static) -> (String, JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || script(&listener));
    (addr, handle)
}
