//! One call per endpoint of the cloud's API, over HTTPS (rustls with the ring provider).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pos_sync_protocol::api::{
    self, ChallengeRequest, ChallengeResponse, EnrollRequest, EnrollResponse, PullResponse, PushRequest, PushResponse,
    TokenRequest, TokenResponse,
};
use reqwest::Url;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::error::{ErrorKind, SyncError};

/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a whole request may take, answer included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A device access token. It is a credential: never printed (its `Debug` shows nothing of it).
#[derive(Clone)]
pub struct AccessToken {
    value: Zeroizing<String>,
    /// When to stop using it: a little before the service says it expires.
    renew_at: Instant,
}

impl AccessToken {
    /// A token the service issued now, valid for `lifetime`.
    pub fn new(value: String, lifetime: Duration) -> AccessToken {
        // Renew a quarter of the lifetime (at most 30 s) early, so a request never races the expiry.
        let margin = (lifetime / 4).min(Duration::from_secs(30));
        AccessToken { value: Zeroizing::new(value), renew_at: Instant::now() + lifetime.saturating_sub(margin) }
    }

    /// Still worth using.
    pub fn is_fresh(&self) -> bool {
        Instant::now() < self.renew_at
    }

    fn value(&self) -> &str {
        &self.value
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken(…)")
    }
}

/// The cloud service's HTTP API. Blocking calls: each runs on the client's own single-threaded
/// Tokio runtime, so it must not be called from inside another Tokio runtime.
pub struct CloudClient {
    base: Url,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for CloudClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudClient").field("base", &self.base.as_str()).finish_non_exhaustive()
    }
}

/// Whether `url` names this machine: `localhost`, 127.0.0.0/8 or ::1.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Checks and normalises the service's base URL (always ending in `/`).
pub(crate) fn parse_base_url(text: &str) -> Result<Url, SyncError> {
    let mut url =
        Url::parse(text.trim()).map_err(|e| SyncError::config(format!("the cloud URL {text:?} is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(SyncError::config(format!(
                "the cloud URL {text:?} is plain http: use https:// (plain http is accepted only for this machine: localhost, 127.0.0.1, ::1)"
            )));
        }
        other => {
            return Err(SyncError::config(format!("the cloud URL {text:?} must start with https:// (not {other}://)")));
        }
    }
    if url.host().is_none() {
        return Err(SyncError::config(format!("the cloud URL {text:?} names no host")));
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err(SyncError::config(format!(
            "the cloud URL {text:?} must be just the service's address, without user, query or fragment"
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// rustls with the ring provider, trusting the webpki roots and, when given, the CA certificates
/// in `ca_file` (PEM).
fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, SyncError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let unreadable = |e: &dyn std::fmt::Display| {
            SyncError::config(format!("the CA certificate file {} does not read: {e}", path.display()))
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| unreadable(&e))?
            .collect::<Result<_, _>>()
            .map_err(|e| unreadable(&e))?;
        if certs.is_empty() {
            return Err(unreadable(&"it holds no PEM certificate"));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| unreadable(&e))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SyncError::config(format!("TLS set-up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The deepest cause of a transport error, which says what actually happened
/// ("Connection refused", "invalid peer certificate: UnknownIssuer").
fn root_cause(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

impl CloudClient {
    /// A client for the service at `base_url` (`https://…`, or `http://` on loopback only), with
    /// an extra trusted CA certificate file for a self-hosted service. Nothing is sent yet.
    pub fn new(base_url: &str, ca_file: Option<&Path>) -> Result<CloudClient, SyncError> {
        let base = parse_base_url(base_url)?;
        let tls = tls_config(ca_file)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SyncError::config(format!("cannot start the sync client's runtime: {e}")))?;
        let http = {
            let _guard = runtime.enter();
            reqwest::Client::builder()
                .user_agent(concat!("pos-register/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(REQUEST_TIMEOUT)
                // A token is never sent anywhere but the configured service, and never downgraded.
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .tls_backend_preconfigured(tls)
                .build()
                .map_err(|e| SyncError::config(format!("cannot set up the sync client: {}", root_cause(&e))))?
        };
        Ok(CloudClient { base, http, runtime })
    }

    /// The service's base URL, normalised (ends with `/`).
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("fixed relative paths join")
    }

    fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T, SyncError> {
        let host = self.base.host_str().unwrap_or("?").to_owned();
        self.runtime.block_on(async {
            let unreachable = |e: reqwest::Error| {
                let what = if e.is_timeout() { "did not answer in time" } else { "is not reachable" };
                SyncError::new(ErrorKind::Retryable, format!("the cloud service at {host} {what}: {}", root_cause(&e)))
            };
            let response = request.send().await.map_err(unreachable)?;
            let status = response.status().as_u16();
            let body = response.bytes().await.map_err(unreachable)?;
            if (200..300).contains(&status) {
                return serde_json::from_slice(&body).map_err(|e| {
                    SyncError::new(
                        ErrorKind::Retryable,
                        format!("the cloud service at {host} answered with something that is not its API: {e}"),
                    )
                });
            }
            Err(match serde_json::from_slice::<api::ApiError>(&body) {
                Ok(err) => SyncError::from_status(status, Some(err.code), err.message),
                Err(_) => {
                    SyncError::from_status(status, None, format!("the cloud service at {host} refused the request"))
                }
            })
        })
    }

    fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&AccessToken>,
        body: &B,
    ) -> Result<T, SyncError> {
        let body = serde_json::to_vec(body).expect("wire types always serialise");
        let mut request = self
            .http
            .post(self.url(path))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        if let Some(t) = token {
            request = request.bearer_auth(t.value());
        }
        self.send(request)
    }

    /// `GET /v1/health`: whether the service answers at all.
    pub fn health(&self) -> Result<(), SyncError> {
        let host = self.base.host_str().unwrap_or("?").to_owned();
        let request = self.http.get(self.url("v1/health"));
        self.runtime.block_on(async {
            let response = request.send().await.map_err(|e| {
                SyncError::new(
                    ErrorKind::Retryable,
                    format!("the cloud service at {host} is not reachable: {}", root_cause(&e)),
                )
            })?;
            let status = response.status().as_u16();
            if status == 200 {
                Ok(())
            } else {
                Err(SyncError::from_status(status, None, format!("the cloud service at {host} is not healthy")))
            }
        })
    }

    /// `POST /v1/devices/enroll`: the one-time code is the credential.
    pub fn enroll(&self, request: &EnrollRequest) -> Result<EnrollResponse, SyncError> {
        self.post("v1/devices/enroll", None, request)
    }

    /// `POST /v1/devices/challenge`.
    pub fn challenge(&self, device_id: &str) -> Result<ChallengeResponse, SyncError> {
        self.post("v1/devices/challenge", None, &ChallengeRequest { device_id: device_id.to_owned() })
    }

    /// `POST /v1/devices/token` with a signed challenge.
    pub fn token(&self, request: &TokenRequest) -> Result<AccessToken, SyncError> {
        let TokenResponse { access_token, expires_in_s } = self.post("v1/devices/token", None, request)?;
        Ok(AccessToken::new(access_token, Duration::from_secs(expires_in_s)))
    }

    /// `POST /v1/sync/push`.
    pub fn push(&self, token: &AccessToken, request: &PushRequest) -> Result<PushResponse, SyncError> {
        let response: PushResponse = self.post("v1/sync/push", Some(token), request)?;
        if response.results.len() != request.records.len() {
            return Err(SyncError::new(
                ErrorKind::Retryable,
                format!(
                    "the cloud answered a push of {} records with {} results; nothing is taken as acknowledged",
                    request.records.len(),
                    response.results.len()
                ),
            ));
        }
        Ok(response)
    }

    /// `GET /v1/sync/pull?cursor=N`.
    pub fn pull(&self, token: &AccessToken, cursor: i64) -> Result<PullResponse, SyncError> {
        let mut url = self.url("v1/sync/pull");
        url.query_pairs_mut().append_pair("cursor", &cursor.to_string());
        let request = self.http.get(url).header(reqwest::header::ACCEPT, "application/json").bearer_auth(token.value());
        self.send(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback() {
        for ok in [
            "https://cloud.example",
            "https://cloud.example:8443/pos",
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:9000/",
            "http://LOCALHOST",
            "http://[::1]:8080",
        ] {
            assert!(parse_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://cloud.example",
            "http://10.0.0.5:8080",
            "http://192.168.1.10",
            "http://[::2]",
            "http://localhost.evil.example",
            "ftp://cloud.example",
            "cloud.example",
            "https://user:pw@cloud.example",
            "https://cloud.example/?x=1",
        ] {
            let e = parse_base_url(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Config, "{bad}");
        }
        let e = parse_base_url("http://cloud.example").unwrap_err();
        assert!(e.message.contains("https://"), "{}", e.message);
    }

    #[test]
    fn the_base_url_keeps_its_path() {
        let c = CloudClient::new("https://cloud.example/pos", None).unwrap();
        assert_eq!(c.base_url(), "https://cloud.example/pos/");
        assert_eq!(c.url("v1/sync/push").as_str(), "https://cloud.example/pos/v1/sync/push");
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_a_configuration_error() {
        let dir = std::env::temp_dir().join(format!("pos-sync-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let e = CloudClient::new("https://cloud.example", Some(&missing)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config);
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = CloudClient::new("https://cloud.example", Some(&empty)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config);
        assert!(e.message.contains("no PEM certificate"), "{}", e.message);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_token_is_never_printed() {
        let t = AccessToken::new("v1.secret.tag".into(), Duration::from_secs(60));
        assert_eq!(format!("{t:?}"), "AccessToken(…)");
        assert!(t.is_fresh());
        assert!(!AccessToken::new("x".into(), Duration::ZERO).is_fresh());
    }
}
