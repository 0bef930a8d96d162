//! The faulty proxy against a tiny counting HTTP server, driven by a hand-written client.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pos_test_support::{Faults, FaultyProxy, ProxyStats};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An HTTP server that counts complete requests and answers `200` with `hello #N`.
struct Upstream {
    addr: SocketAddr,
    count: Arc<AtomicU64>,
    last_request: Arc<Mutex<Vec<u8>>>,
    _runtime: tokio::runtime::Runtime,
}

impl Upstream {
    fn start() -> Upstream {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let count = Arc::new(AtomicU64::new(0));
        let last_request = Arc::new(Mutex::new(Vec::new()));
        let (counter, last) = (Arc::clone(&count), Arc::clone(&last_request));
        runtime.spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                tokio::spawn(answer(stream, Arc::clone(&counter), Arc::clone(&last)));
            }
        });
        Upstream { addr, count, last_request, _runtime: runtime }
    }

    fn count(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    fn last_request(&self) -> String {
        String::from_utf8(self.last_request.lock().unwrap().clone()).unwrap()
    }
}

/// Reads one request (head, then `Content-Length` bytes), counts it, answers and closes.
async fn answer(mut stream: tokio::net::TcpStream, count: Arc<AtomicU64>, last: Arc<Mutex<Vec<u8>>>) {
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.unwrap();
        if n == 0 {
            return;
        }
        request.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&request);
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                break;
            }
        }
    }
    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
    *last.lock().unwrap() = request;
    let body = format!("hello #{n}");
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
}

/// Sends one POST the way a keep-alive client would and reads until the proxy closes.
fn post(addr: SocketAddr, body: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "POST /sync/push HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Connection: keep-alive\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    Ok(String::from_utf8(response).unwrap())
}

/// True when the client got no HTTP response at all (reset, or EOF before any byte).
fn failed(outcome: &std::io::Result<String>) -> bool {
    match outcome {
        Ok(response) => response.is_empty(),
        Err(_) => true,
    }
}

fn only(fault: impl FnOnce(&mut Faults)) -> Faults {
    let mut faults = Faults::none();
    fault(&mut faults);
    faults
}

#[test]
fn passes_requests_through_without_faults() {
    let upstream = Upstream::start();
    let proxy = FaultyProxy::start(upstream.addr, Faults::none(), 1).unwrap();
    assert!(proxy.url().ends_with(&proxy.addr().port().to_string()));

    for round in 1..=3 {
        let response = post(proxy.addr(), r#"{"events":[1,2,3]}"#).unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.ends_with(&format!("hello #{round}")), "{response}");
        assert!(response.contains("Connection: close\r\n"), "{response}");
    }
    assert_eq!(upstream.count(), 3);

    // The server gets the body intact and a `Connection: close` instead of keep-alive.
    let seen = upstream.last_request();
    assert!(seen.starts_with("POST /sync/push HTTP/1.1\r\n"), "{seen}");
    assert!(seen.ends_with(r#"{"events":[1,2,3]}"#), "{seen}");
    assert!(seen.contains("Connection: close\r\n"), "{seen}");
    assert!(!seen.contains("keep-alive"), "{seen}");

    assert_eq!(proxy.stats(), ProxyStats { requests: 3, forwarded: 3, ..ProxyStats::default() });
}

#[test]
fn duplicate_sends_every_request_twice() {
    let upstream = Upstream::start();
    let proxy = FaultyProxy::start(upstream.addr, only(|f| f.duplicate = 1000), 2).unwrap();
    for round in 1..=2 {
        let response = post(proxy.addr(), "{}").unwrap();
        // The client gets the answer to the second copy.
        assert!(response.ends_with(&format!("hello #{}", round * 2)), "{response}");
        assert_eq!(upstream.count(), round * 2);
    }
    assert_eq!(proxy.stats().duplicated, 2);
}

#[test]
fn reset_after_forward_hides_a_processed_request() {
    let upstream = Upstream::start();
    let proxy = FaultyProxy::start(upstream.addr, only(|f| f.reset_after_forward = 1000), 3).unwrap();
    let outcome = post(proxy.addr(), "{}");
    assert!(failed(&outcome), "{outcome:?}");
    assert_eq!(upstream.count(), 1, "the server did process the request");
    assert_eq!(proxy.stats().reset_after_forward, 1);
}

#[test]
fn error_5xx_answers_without_forwarding() {
    let upstream = Upstream::start();
    let proxy = FaultyProxy::start(upstream.addr, only(|f| f.error_5xx = 1000), 4).unwrap();
    let response = post(proxy.addr(), "{}").unwrap();
    assert!(response.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{response}");
    assert!(response.contains("Connection: close\r\n"), "{response}");
    assert!(response.ends_with(r#"{"code":"unavailable","message":"injected by the test proxy"}"#), "{response}");
    assert_eq!(upstream.count(), 0);
    assert_eq!(proxy.stats().error_5xx, 1);
}

#[test]
fn drop_request_never_reaches_the_server() {
    let upstream = Upstream::start();
    let proxy = FaultyProxy::start(upstream.addr, only(|f| f.drop_request = 1000), 5).unwrap();
    let outcome = post(proxy.addr(), "{}");
    assert!(failed(&outcome), "{outcome:?}");
    assert_eq!(upstream.count(), 0);
    assert_eq!(proxy.stats().dropped, 1);

    // Healing the network lets requests through again.
    proxy.set_faults(Faults::none());
    let response = post(proxy.addr(), "{}").unwrap();
    assert!(response.ends_with("hello #1"), "{response}");
}

#[test]
fn delay_forwards_once() {
    let upstream = Upstream::start();
    let faults = only(|f| {
        f.delay = 1000;
        f.max_delay_ms = 30;
    });
    let proxy = FaultyProxy::start(upstream.addr, faults, 6).unwrap();
    let response = post(proxy.addr(), "{}").unwrap();
    assert!(response.ends_with("hello #1"), "{response}");
    assert_eq!(proxy.stats().delayed, 1);
}

#[test]
fn chunked_bodies_are_rejected() {
    let upstream = Upstream::start();
    let proxy = FaultyProxy::start(upstream.addr, Faults::none(), 7).unwrap();
    let mut stream = TcpStream::connect(proxy.addr()).unwrap();
    stream.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 501 "), "{response}");
    assert_eq!(upstream.count(), 0);
    assert_eq!(proxy.stats().rejected, 1);
}

#[test]
fn unreachable_upstream_gives_502() {
    // A port that was just free and is closed again.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let proxy = FaultyProxy::start(addr, Faults::none(), 8).unwrap();
    let response = post(proxy.addr(), "{}").unwrap();
    assert!(response.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{response}");
    assert_eq!(proxy.stats().upstream_errors, 1);
}

/// Runs `requests` sequential requests through a chaotic proxy; returns the client's
/// outcomes (`200`, `503`, failed) and the proxy's stats.
fn chaos_run(seed: u64, requests: u64) -> ([u64; 3], ProxyStats, u64) {
    let upstream = Upstream::start();
    let faults = Faults { max_delay_ms: 5, ..Faults::chaos() };
    let proxy = FaultyProxy::start(upstream.addr, faults, seed).unwrap();
    let mut outcomes = [0u64; 3];
    for _ in 0..requests {
        let outcome = post(proxy.addr(), r#"{"n":1}"#);
        let slot = match &outcome {
            Ok(response) if response.starts_with("HTTP/1.1 200 ") => 0,
            Ok(response) if response.starts_with("HTTP/1.1 503 ") => 1,
            _ if failed(&outcome) => 2,
            other => panic!("unexpected outcome {other:?}"),
        };
        outcomes[slot] += 1;
    }
    (outcomes, proxy.stats(), upstream.count())
}

#[test]
fn chaos_is_consistent_and_replayable() {
    let (outcomes, stats, server_saw) = chaos_run(2024, 200);
    assert_eq!(stats.requests, 200);
    for (name, count) in [
        ("forwarded", stats.forwarded),
        ("dropped", stats.dropped),
        ("error_5xx", stats.error_5xx),
        ("reset_after_forward", stats.reset_after_forward),
        ("duplicated", stats.duplicated),
        ("delayed", stats.delayed),
    ] {
        assert!(count > 0, "no {name} in {stats:?}");
    }
    assert_eq!(stats.upstream_errors, 0);
    assert_eq!(
        stats.forwarded
            + stats.dropped
            + stats.error_5xx
            + stats.reset_after_forward
            + stats.duplicated
            + stats.delayed,
        200
    );
    // What the client saw matches what the proxy did …
    assert_eq!(outcomes[0], stats.forwarded + stats.delayed + stats.duplicated);
    assert_eq!(outcomes[1], stats.error_5xx);
    assert_eq!(outcomes[2], stats.dropped + stats.reset_after_forward);
    // … and what the server saw.
    assert_eq!(server_saw, stats.forwarded + stats.delayed + stats.reset_after_forward + 2 * stats.duplicated);

    // The same seed replays the same faults.
    let (again, replay, _) = chaos_run(2024, 200);
    assert_eq!((again, replay), (outcomes, stats));
}

#[test]
fn can_be_started_and_dropped_inside_async_code() {
    let upstream = Upstream::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let response = runtime.block_on(async {
        let proxy = FaultyProxy::start(upstream.addr, Faults::none(), 9).unwrap();
        let mut stream = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
        stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        drop(proxy);
        response
    });
    assert!(response.ends_with("hello #1"), "{response}");
}
