//! Is a password known to attackers? Asked of a breached-password corpus through the k-anonymity
//! range protocol, with a bundled list of common passwords when that corpus cannot be asked.
//!
//! The range protocol: the SHA-1 of the password in upper-case hex is split into its first five
//! characters (the prefix) and the rest (the suffix). Only the prefix is sent, as
//! `GET {base}/range/{prefix}` with `Add-Padding: true`; the answer lists every suffix in the
//! corpus under that prefix as `SUFFIX:COUNT` lines (padding lines have count 0). The password, its
//! full hash and the verdict never leave the service.
//!
//! The client here is deliberately small: one HTTP/1.1 GET through hyper, over TLS (rustls with the
//! operating system's trusted roots) for `https://`, and plain TCP for `http://` only to a loopback
//! address (a local mirror or a test's fake server). Anything else, a connection or TLS failure, a
//! timeout, an answer that is not 200 or not a range list, counts as "unreachable": the check then
//! uses the bundled list alone and says so on standard error.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use sha1::{Digest, Sha1};

/// The bundled list: common passwords, one per line, compared case-insensitively.
pub const BUNDLED_LIST: &str = include_str!("common-passwords.txt");

/// How long one range request may take, connection and TLS included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest range answer read (real ones are some tens of KiB, padding included).
const MAX_BODY_BYTES: usize = 1 << 20;

/// Where the verdict came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The range API answered (the bundled list was consulted too).
    RangeApi,
    /// No range API was configured, or it could not be reached: the bundled list alone.
    BundledList,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Found in the corpus (with a non-zero count) or in the bundled list.
    pub breached: bool,
    pub source: Source,
}

/// Why the range API could not answer.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("not a usable endpoint: {0}")]
    Endpoint(String),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("no answer within {}s", REQUEST_TIMEOUT.as_secs())]
    Timeout,
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("malformed answer: {0}")]
    Malformed(String),
}

/// Checks `password` against the range API at `api` (when given) and the bundled list. Never
/// fails: an unreachable API means the bundled list alone decides.
pub async fn check(password: &str, api: Option<&str>) -> Verdict {
    let common = in_bundled_list(password);
    let Some(base) = api.map(str::trim).filter(|b| !b.is_empty()) else {
        return Verdict { breached: common, source: Source::BundledList };
    };
    match times_breached(base, password).await {
        Ok(count) => Verdict { breached: common || count > 0, source: Source::RangeApi },
        Err(e) => {
            // Names the endpoint and the failure, never the password or its hash.
            eprintln!("breached-password check: {base} unavailable ({e}); using the bundled list");
            Verdict { breached: common, source: Source::BundledList }
        }
    }
}

/// Whether `password` is on the bundled list (case-insensitive, surrounding spaces ignored).
pub fn in_bundled_list(password: &str) -> bool {
    static LIST: OnceLock<HashSet<String>> = OnceLock::new();
    let list = LIST
        .get_or_init(|| BUNDLED_LIST.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_lowercase).collect());
    list.contains(&password.trim().to_lowercase())
}

/// The SHA-1 of `password` as 40 upper-case hex characters.
pub fn sha1_hex(password: &str) -> String {
    hex::encode_upper(Sha1::digest(password.as_bytes()))
}

/// How many times the corpus behind `base` has seen `password` (0: not at all). Sends only the
/// first five hex characters of its SHA-1.
pub async fn times_breached(base: &str, password: &str) -> Result<u64, FetchError> {
    let hash = sha1_hex(password);
    let (prefix, suffix) = hash.split_at(5);
    let body = fetch_range(base, prefix).await?;
    parse_range(&body, suffix)
}

/// The count listed for `suffix` (35 hex characters) in a range answer; 0 when it is not listed.
/// Padding lines carry a count of 0, so they never count as a hit.
pub fn parse_range(body: &str, suffix: &str) -> Result<u64, FetchError> {
    let mut found = 0;
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (s, count) =
            line.split_once(':').ok_or_else(|| FetchError::Malformed("a line is not SUFFIX:COUNT".into()))?;
        let count: u64 = count.trim().parse().map_err(|_| FetchError::Malformed("a count is not a number".into()))?;
        if s.len() != 35 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FetchError::Malformed("a suffix is not 35 hex characters".into()));
        }
        if s.eq_ignore_ascii_case(suffix) {
            found = count;
        }
    }
    Ok(found)
}

/// An endpoint split into what the request needs.
#[derive(Debug, PartialEq, Eq)]
struct Endpoint {
    tls: bool,
    /// Host name or IP address (an IPv6 address without brackets).
    host: String,
    port: u16,
    /// The base path without a trailing slash ("" for the root).
    path: String,
}

impl Endpoint {
    fn parse(base: &str) -> Result<Endpoint, FetchError> {
        let bad = |why: &str| FetchError::Endpoint(format!("{base}: {why}"));
        let (tls, rest) = if let Some(rest) = base.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = base.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(bad("only http:// and https:// URLs are supported"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.contains('@') || path.contains(['?', '#']) {
            return Err(bad("user info, queries and fragments are not supported"));
        }
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed IPv6 address"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad("bad port"))?,
                None if after.is_empty() => default_port,
                None => return Err(bad("bad authority")),
            };
            (host.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, p)) => (host.to_owned(), p.parse().map_err(|_| bad("bad port"))?),
                None => (authority.to_owned(), default_port),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if !tls && !is_loopback(&host) {
            return Err(bad("plain HTTP is allowed only to a loopback address; use https://"));
        }
        Ok(Endpoint { tls, host, port, path: path.trim_end_matches('/').to_owned() })
    }

    /// The Host header: the port only when it is not the scheme's default.
    fn host_header(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        if self.port == if self.tls { 443 } else { 80 } { host } else { format!("{host}:{}", self.port) }
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The TLS client settings: the operating system's trusted roots; `None` when there are none.
fn tls_config() -> Option<Arc<rustls::ClientConfig>> {
    static CONFIG: OnceLock<Option<Arc<rustls::ClientConfig>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                eprintln!("breached-password check: no trusted root certificates found; https is unavailable");
                return None;
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .ok()?
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Some(Arc::new(config))
        })
        .clone()
}

/// `GET {base}/range/{prefix}` with padding requested; the body of a 200 answer.
pub async fn fetch_range(base: &str, prefix: &str) -> Result<String, FetchError> {
    if prefix.len() != 5 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FetchError::Endpoint("a range prefix is five hex characters".into()));
    }
    let endpoint = Endpoint::parse(base)?;
    match tokio::time::timeout(REQUEST_TIMEOUT, get(&endpoint, &format!("{}/range/{prefix}", endpoint.path))).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Timeout),
    }
}

async fn get(endpoint: &Endpoint, path: &str) -> Result<String, FetchError> {
    let tcp = tokio::net::TcpStream::connect((endpoint.host.as_str(), endpoint.port))
        .await
        .map_err(|e| FetchError::Connect(e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    if endpoint.tls {
        let config = tls_config().ok_or_else(|| FetchError::Connect("no trusted root certificates".into()))?;
        let name = rustls_pki_types::ServerName::try_from(endpoint.host.clone())
            .map_err(|_| FetchError::Endpoint(format!("{} is not a valid server name", endpoint.host)))?;
        let stream = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| FetchError::Connect(format!("TLS: {e}")))?;
        exchange(TokioIo::new(stream), endpoint, path).await
    } else {
        exchange(TokioIo::new(tcp), endpoint, path).await
    }
}

async fn exchange<T>(io: T, endpoint: &Endpoint, path: &str) -> Result<String, FetchError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake::<_, Body>(io).await.map_err(|e| FetchError::Connect(e.to_string()))?;
    let driver = tokio::spawn(connection);
    let result = async {
        let request = Request::get(path)
            .header(header::HOST, endpoint.host_header())
            .header("Add-Padding", "true")
            .header(header::ACCEPT, "text/plain")
            .header(header::USER_AGENT, concat!("pos-cloud/", env!("CARGO_PKG_VERSION")))
            .header(header::CONNECTION, "close")
            .body(Body::empty())
            .map_err(|e| FetchError::Endpoint(e.to_string()))?;
        let response = sender.send_request(request).await.map_err(|e| FetchError::Connect(e.to_string()))?;
        if response.status() != StatusCode::OK {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let bytes = axum::body::to_bytes(Body::new(response.into_body()), MAX_BODY_BYTES)
            .await
            .map_err(|e| FetchError::Malformed(e.to_string()))?;
        String::from_utf8(bytes.to_vec()).map_err(|_| FetchError::Malformed("the answer is not UTF-8".into()))
    }
    .await;
    driver.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_is_upper_hex() {
        // SHA-1("password"), as the range protocol's documentation gives it.
        assert_eq!(sha1_hex("password"), "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8");
    }

    #[test]
    fn range_lines_are_parsed_and_padding_never_counts() {
        let body = "1E4C9B93F3F0682250B6CF8331B7EE68FD8:3861493\r\n0018A45C4D1DEF81644B54AB7F969B88D65:0\r\n";
        assert_eq!(parse_range(body, "1E4C9B93F3F0682250B6CF8331B7EE68FD8").unwrap(), 3_861_493);
        assert_eq!(parse_range(body, "0018A45C4D1DEF81644B54AB7F969B88D65").unwrap(), 0);
        assert_eq!(parse_range(body, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF").unwrap(), 0);
        assert!(parse_range("<html>blocked</html>", "1E4C9B93F3F0682250B6CF8331B7EE68FD8").is_err());
    }

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("https://api.example.org/v3/").unwrap();
        assert_eq!(e, Endpoint { tls: true, host: "api.example.org".into(), port: 443, path: "/v3".into() });
        assert_eq!(e.host_header(), "api.example.org");
        let e = Endpoint::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!((e.port, e.path.as_str(), e.host_header().as_str()), (8080, "", "127.0.0.1:8080"));
        let e = Endpoint::parse("http://[::1]:9/x").unwrap();
        assert_eq!((e.host.as_str(), e.host_header().as_str()), ("::1", "[::1]:9"));
        assert!(Endpoint::parse("http://api.example.org").is_err(), "plain HTTP off loopback");
        assert!(Endpoint::parse("ftp://127.0.0.1").is_err());
        assert!(Endpoint::parse("https://user@host").is_err());
    }

    #[test]
    fn bundled_list_is_case_insensitive_and_big_enough() {
        assert!(in_bundled_list("password"));
        assert!(in_bundled_list("PASSWORD1234"));
        assert!(in_bundled_list("Qwertyuiop12"));
        assert!(!in_bundled_list("correct horse battery staple 71"));
        let n = BUNDLED_LIST.lines().filter(|l| !l.trim().is_empty()).count();
        assert!(n >= 900, "{n} entries");
    }
}
