//! Virtual printers for tests: a TCP printer on 127.0.0.1 that answers real-time status like a
//! real one and can be told to run out of paper, drop the connection mid-job, answer slowly or
//! refuse connections; and a serial printer on a pseudo-terminal pair made by `socat`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::decode::{Decoded, decode};
use crate::escpos::{DLE, EOT};
use crate::status::PrinterStatus;

/// How the virtual printer misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Normal,
    /// Closes the connection after taking this many bytes of a job.
    DropAfter(usize),
    /// Sleeps this long before each read and each status answer.
    Slow(Duration),
    /// Never answers status requests (a printer without real-time status).
    Mute,
}

#[derive(Debug)]
struct State {
    status: PrinterStatus,
    behaviour: Behaviour,
    /// Bytes of each connection, status requests removed.
    jobs: Vec<Vec<u8>>,
}

/// A port on 127.0.0.1 with nothing listening: a network printer that is switched off.
pub fn dead_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A network receipt printer on 127.0.0.1.
pub struct TcpPrinter {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TcpPrinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpPrinter").field("addr", &self.addr).finish()
    }
}

impl TcpPrinter {
    pub fn start() -> TcpPrinter {
        TcpPrinter::start_on(0)
    }

    /// A printer on a given port: one that was off (nothing listening) comes back.
    pub fn start_on(port: u16) -> TcpPrinter {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind a local port");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let state =
            Arc::new(Mutex::new(State { status: PrinterStatus::ready(), behaviour: Behaviour::Normal, jobs: vec![] }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !sp.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, &st),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TcpPrinter { addr, state, stop, thread: Some(thread) }
    }

    /// `tcp://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        format!("tcp://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn set_status(&self, status: PrinterStatus) {
        self.state.lock().expect("printer state").status = status;
    }

    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.state.lock().expect("printer state").behaviour = behaviour;
    }

    /// Every connection's bytes so far, status requests removed; empty connections left out.
    pub fn jobs(&self) -> Vec<Vec<u8>> {
        self.state.lock().expect("printer state").jobs.iter().filter(|j| !j.is_empty()).cloned().collect()
    }

    pub fn decoded(&self) -> Vec<Decoded> {
        self.jobs().iter().map(|j| decode(j)).collect()
    }

    /// Waits until at least `n` jobs have arrived.
    pub fn wait_for_jobs(&self, n: usize, within: Duration) -> Vec<Decoded> {
        let until = Instant::now() + within;
        while self.jobs().len() < n && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.decoded()
    }
}

impl Drop for TcpPrinter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut stream: TcpStream, state: &Arc<Mutex<State>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let index = {
        let mut s = state.lock().expect("printer state");
        s.jobs.push(Vec::new());
        s.jobs.len() - 1
    };
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let (behaviour, status) = {
            let s = state.lock().expect("printer state");
            (s.behaviour, s.status)
        };
        if let Behaviour::Slow(d) = behaviour {
            std::thread::sleep(d);
        }
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        let (job, answers) = split_status_requests(&mut pending, status);
        let total = {
            let mut s = state.lock().expect("printer state");
            s.jobs[index].extend_from_slice(&job);
            s.jobs[index].len()
        };
        if let Behaviour::DropAfter(limit) = behaviour
            && total >= limit
        {
            let mut s = state.lock().expect("printer state");
            s.jobs[index].truncate(limit);
            return;
        }
        if !answers.is_empty() && behaviour != Behaviour::Mute && stream.write_all(&answers).is_err() {
            return;
        }
    }
}

/// Pulls the status requests (`DLE EOT n`) out of what arrived and makes their answers, the way a
/// printer answers them at once, out of band; the rest is the job. A request cut off at the end
/// stays in `pending` for the next read.
fn split_status_requests(pending: &mut Vec<u8>, status: PrinterStatus) -> (Vec<u8>, Vec<u8>) {
    let mut job = Vec::new();
    let mut answers = Vec::new();
    let mut i = 0;
    while i < pending.len() {
        if pending[i] == DLE {
            if i + 2 >= pending.len() {
                break;
            }
            if pending[i + 1] == EOT && (1..=4).contains(&pending[i + 2]) {
                answers.push(status.to_answers()[usize::from(pending[i + 2] - 1)]);
                i += 3;
                continue;
            }
        }
        job.push(pending[i]);
        i += 1;
    }
    pending.drain(..i);
    (job, answers)
}

/// A serial printer: `socat` links two pseudo-terminals; the register opens one end, a thread
/// plays the printer on the other, answering status and capturing the job.
pub struct SerialPrinter {
    child: Child,
    pub register_end: String,
    printer_end: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SerialPrinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialPrinter").field("register_end", &self.register_end).finish()
    }
}

impl SerialPrinter {
    /// Starts `socat` with two links in `dir`; `None` when socat is not installed.
    pub fn start(dir: &std::path::Path) -> Option<SerialPrinter> {
        let register_end = dir.join("ttyPOS0").display().to_string();
        let printer_end = dir.join("ttyPRN0").display().to_string();
        let child = Command::new("socat")
            .args([format!("pty,raw,echo=0,link={register_end}"), format!("pty,raw,echo=0,link={printer_end}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let until = Instant::now() + Duration::from_secs(5);
        while !(std::path::Path::new(&register_end).exists() && std::path::Path::new(&printer_end).exists()) {
            if Instant::now() > until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let state = Arc::new(Mutex::new(State {
            status: PrinterStatus::ready(),
            behaviour: Behaviour::Normal,
            jobs: vec![vec![]],
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let mut p = SerialPrinter { child, register_end, printer_end, state, stop, thread: None };
        p.power_on();
        Some(p)
    }

    /// Starts answering on the printer end (a printer that is switched on).
    pub fn power_on(&mut self) {
        if self.thread.is_some() {
            return;
        }
        self.stop.store(false, Ordering::SeqCst);
        let (path, st, sp) = (self.printer_end.clone(), self.state.clone(), self.stop.clone());
        self.thread = Some(std::thread::spawn(move || {
            let Ok(mut port) = std::fs::OpenOptions::new().read(true).write(true).open(&path) else { return };
            let mut buf = [0u8; 1024];
            let mut pending = Vec::new();
            // Reads block; the pty gives EOF-like errors once socat is gone.
            while !sp.load(Ordering::SeqCst) {
                let n = match port.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if sp.load(Ordering::SeqCst) {
                    return;
                }
                pending.extend_from_slice(&buf[..n]);
                let status = st.lock().expect("printer state").status;
                let (job, answers) = split_status_requests(&mut pending, status);
                st.lock().expect("printer state").jobs[0].extend_from_slice(&job);
                if !answers.is_empty() && port.write_all(&answers).is_err() {
                    return;
                }
            }
        }));
    }

    /// Stops answering: a printer switched off at the end of the cable. The answering thread
    /// stops after the next bytes arrive.
    pub fn power_off(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread = None;
    }

    pub fn set_status(&self, status: PrinterStatus) {
        self.state.lock().expect("printer state").status = status;
    }

    /// `serial:/path/ttyPOS0?baud=38400`.
    pub fn uri(&self) -> String {
        format!("serial:{}?baud=38400", self.register_end)
    }

    pub fn captured(&self) -> Vec<u8> {
        self.state.lock().expect("printer state").jobs[0].clone()
    }

    pub fn wait_for_bytes(&self, at_least: usize, within: Duration) -> Decoded {
        let until = Instant::now() + within;
        while self.captured().len() < at_least && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        decode(&self.captured())
    }
}

impl Drop for SerialPrinter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
