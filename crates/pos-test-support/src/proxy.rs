//! An HTTP/1.1 proxy that injects network faults, to test exactly-once delivery.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

use crate::http::{self, Request, RequestError};
use crate::rng::SplitMix64;

/// How long the proxy waits for the upstream server to answer one request.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the proxy waits for the client to close after the last response.
const LINGER: Duration = Duration::from_secs(1);

/// Which faults the proxy injects, each as a chance per request in per mille (`0..=1000`).
///
/// For each request the proxy rolls once and applies at most one fault, checked in the
/// order of the fields; if the chances add up to more than 1000, the later ones lose out.
/// Use struct update syntax for a single fault:
/// `Faults { duplicate: 1000, ..Faults::none() }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Faults {
    /// Close the client connection without forwarding: the server never sees the request.
    pub drop_request: u32,
    /// Answer `503 Service Unavailable` without forwarding.
    pub error_5xx: u32,
    /// Forward the request and wait for the full response, then close the client
    /// connection without sending it: the server did the work, the client never learns.
    pub reset_after_forward: u32,
    /// Forward the request twice (one after the other) and answer with the second response.
    pub duplicate: u32,
    /// Wait a random `0..=max_delay_ms` milliseconds before forwarding.
    pub delay: u32,
    /// The longest injected delay, in milliseconds.
    pub max_delay_ms: u64,
}

impl Faults {
    /// No faults: every request is forwarded once.
    pub fn none() -> Self {
        Self::default()
    }

    /// 10 % of each fault (so half the requests are hit), delays of up to 200 ms.
    pub fn chaos() -> Self {
        Self {
            drop_request: 100,
            error_5xx: 100,
            reset_after_forward: 100,
            duplicate: 100,
            delay: 100,
            max_delay_ms: 200,
        }
    }

    /// Picks what to do with the next request.
    fn pick(&self, rng: &mut SplitMix64) -> Action {
        let roll = rng.below(1000);
        let mut threshold = 0u64;
        for (chance, action) in [
            (self.drop_request, Action::Drop),
            (self.error_5xx, Action::Error5xx),
            (self.reset_after_forward, Action::ResetAfterForward),
            (self.duplicate, Action::Duplicate),
            (self.delay, Action::Delay(Duration::ZERO)),
        ] {
            threshold += u64::from(chance.min(1000));
            if roll < threshold {
                return match action {
                    Action::Delay(_) => {
                        Action::Delay(Duration::from_millis(rng.below(self.max_delay_ms.saturating_add(1))))
                    }
                    action => action,
                };
            }
        }
        Action::Forward
    }
}

/// What the proxy saw and did so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProxyStats {
    /// Complete requests read from clients.
    pub requests: u64,
    /// Requests forwarded once without a fault (not counting delayed ones).
    pub forwarded: u64,
    /// Requests dropped before reaching the server.
    pub dropped: u64,
    /// Requests answered with an injected `503`.
    pub error_5xx: u64,
    /// Requests the server processed but whose response was withheld.
    pub reset_after_forward: u64,
    /// Requests sent to the server twice.
    pub duplicated: u64,
    /// Requests forwarded after an injected delay.
    pub delayed: u64,
    /// Requests answered with `502` because the server could not be reached.
    pub upstream_errors: u64,
    /// Malformed or unsupported requests answered with a `4xx`/`501`; not in `requests`.
    pub rejected: u64,
}

/// An HTTP/1.1 proxy on `127.0.0.1` that forwards to `upstream` and injects [`Faults`].
///
/// Each request gets a fresh upstream connection and is sent with `Connection: close`;
/// the client connection is closed after each response, so every request arrives on a
/// new client connection. Faults are chosen by a generator seeded with `seed`: with a
/// single sequential client the same seed replays the same faults.
///
/// The proxy runs on its own Tokio runtime, so it works in synchronous and async tests
/// alike. Dropping it stops it.
pub struct FaultyProxy {
    addr: SocketAddr,
    state: Arc<State>,
    runtime: Option<Runtime>,
}

impl std::fmt::Debug for FaultyProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.state.upstream)
            .finish_non_exhaustive()
    }
}

impl FaultyProxy {
    /// Starts a proxy for `upstream` on a free port of `127.0.0.1`.
    pub fn start(upstream: SocketAddr, faults: Faults, seed: u64) -> Result<FaultyProxy> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("faulty-proxy")
            .enable_all()
            .build()
            .context("building the proxy runtime")?;
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding the proxy listener")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let listener = {
            let _entered = runtime.enter();
            TcpListener::from_std(listener)?
        };
        let state = Arc::new(State {
            upstream,
            dice: Mutex::new(Dice { faults, rng: SplitMix64::new(seed) }),
            counters: Counters::default(),
        });
        runtime.spawn(accept_loop(listener, Arc::clone(&state)));
        Ok(FaultyProxy { addr, state, runtime: Some(runtime) })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for clients that want a base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the faults for the requests that follow (e.g. [`Faults::none`] to heal).
    pub fn set_faults(&self, faults: Faults) {
        self.state.dice().faults = faults;
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> ProxyStats {
        self.state.counters.snapshot()
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        // Does not block, so the proxy may also be dropped inside async code.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Forward,
    Drop,
    Error5xx,
    ResetAfterForward,
    Duplicate,
    Delay(Duration),
}

/// State shared by all connections of one proxy.
struct State {
    upstream: SocketAddr,
    dice: Mutex<Dice>,
    counters: Counters,
}

/// The fault mix and the generator that rolls against it.
struct Dice {
    faults: Faults,
    rng: SplitMix64,
}

impl State {
    fn dice(&self) -> std::sync::MutexGuard<'_, Dice> {
        self.dice.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn pick(&self) -> Action {
        let mut dice = self.dice();
        let Dice { faults, rng } = &mut *dice;
        faults.pick(rng)
    }
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    forwarded: AtomicU64,
    dropped: AtomicU64,
    error_5xx: AtomicU64,
    reset_after_forward: AtomicU64,
    duplicated: AtomicU64,
    delayed: AtomicU64,
    upstream_errors: AtomicU64,
    rejected: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> ProxyStats {
        let get = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
        ProxyStats {
            requests: get(&self.requests),
            forwarded: get(&self.forwarded),
            dropped: get(&self.dropped),
            error_5xx: get(&self.error_5xx),
            reset_after_forward: get(&self.reset_after_forward),
            duplicated: get(&self.duplicated),
            delayed: get(&self.delayed),
            upstream_errors: get(&self.upstream_errors),
            rejected: get(&self.rejected),
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::SeqCst);
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    loop {
        match listener.accept().await {
            Ok((client, _)) => {
                tokio::spawn(serve(client, Arc::clone(&state)));
            }
            // Out of file descriptors or similar: back off instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Serves one client connection: one request, then close.
async fn serve(mut client: TcpStream, state: Arc<State>) {
    let request = match http::read_request(&mut client).await {
        Ok(Some(request)) => request,
        Ok(None) | Err(RequestError::Io) => return,
        Err(RequestError::Reject { status, reason, message }) => {
            bump(&state.counters.rejected);
            let response = http::json_response(status, reason, "rejected_by_proxy", message);
            reply_and_close(client, &response).await;
            return;
        }
    };
    bump(&state.counters.requests);
    let counters = &state.counters;
    let upstream = state.upstream;

    let response = match state.pick() {
        Action::Drop => {
            bump(&counters.dropped);
            abort(client);
            return;
        }
        Action::Error5xx => {
            bump(&counters.error_5xx);
            let response = http::json_response(503, "Service Unavailable", "unavailable", "injected by the test proxy");
            reply_and_close(client, &response).await;
            return;
        }
        Action::ResetAfterForward => match forward(upstream, &request).await {
            Ok(_) => {
                bump(&counters.reset_after_forward);
                abort(client);
                return;
            }
            Err(error) => Err(error),
        },
        Action::Duplicate => {
            bump(&counters.duplicated);
            match forward(upstream, &request).await {
                Ok(_) => forward(upstream, &request).await,
                Err(error) => Err(error),
            }
        }
        Action::Delay(pause) => {
            bump(&counters.delayed);
            tokio::time::sleep(pause).await;
            forward(upstream, &request).await
        }
        Action::Forward => {
            bump(&counters.forwarded);
            forward(upstream, &request).await
        }
    };
    let response = match response {
        Ok(response) => http::close_delimited_response(&response),
        Err(error) => {
            bump(&counters.upstream_errors);
            http::json_response(
                502,
                "Bad Gateway",
                "bad_gateway",
                &format!("test proxy: upstream failed: {}", error.kind()),
            )
        }
    };
    reply_and_close(client, &response).await;
}

/// Sends `request` on a fresh upstream connection and reads the response until EOF.
async fn forward(upstream: SocketAddr, request: &Request) -> std::io::Result<Vec<u8>> {
    let exchange = async {
        let mut stream = TcpStream::connect(upstream).await?;
        stream.write_all(&request.to_upstream_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        if response.is_empty() {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "upstream closed without answering"));
        }
        Ok(response)
    };
    tokio::time::timeout(UPSTREAM_TIMEOUT, exchange).await.unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

/// Writes a response, then closes gracefully: half-close, and wait briefly for the
/// client to close, so unread client bytes do not turn the close into a reset that
/// could destroy the response in flight.
async fn reply_and_close(mut client: TcpStream, response: &[u8]) {
    if client.write_all(response).await.is_err() || client.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut sink = [0u8; 4096];
        while matches!(client.read(&mut sink).await, Ok(n) if n > 0) {}
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

/// Closes the client connection abruptly (a TCP reset), without answering.
fn abort(client: TcpStream) {
    // If this fails the close is an ordinary EOF, which the client sees as a failure too.
    let _ = client.set_zero_linger();
    drop(client);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(faults: Faults, picks: u32) -> [u32; 6] {
        let mut rng = SplitMix64::new(1);
        let mut counts = [0u32; 6];
        for _ in 0..picks {
            let slot = match faults.pick(&mut rng) {
                Action::Drop => 0,
                Action::Error5xx => 1,
                Action::ResetAfterForward => 2,
                Action::Duplicate => 3,
                Action::Delay(pause) => {
                    assert!(pause <= Duration::from_millis(faults.max_delay_ms));
                    4
                }
                Action::Forward => 5,
            };
            counts[slot] += 1;
        }
        counts
    }

    #[test]
    fn none_always_forwards() {
        assert_eq!(tally(Faults::none(), 1000), [0, 0, 0, 0, 0, 1000]);
    }

    #[test]
    fn chaos_spreads_faults_evenly() {
        let counts = tally(Faults::chaos(), 10_000);
        for fault in &counts[..5] {
            assert!((850..1150).contains(fault), "{counts:?}");
        }
        assert!((4700..5300).contains(&counts[5]), "{counts:?}");
    }

    #[test]
    fn certain_fault_always_applies_and_overflow_is_capped() {
        let always_duplicate = Faults { duplicate: 1000, ..Faults::none() };
        assert_eq!(tally(always_duplicate, 500), [0, 0, 0, 500, 0, 0]);
        let too_much = Faults { drop_request: 5000, error_5xx: 1000, ..Faults::none() };
        assert_eq!(tally(too_much, 500), [500, 0, 0, 0, 0, 0]);
    }
}
