//! The HTTP surface: the router, the device-token extractor, and serving with or without TLS.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{get, post};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;
use crate::token::DeviceClaims;
use crate::{devices, manage, owner, pull, push, reports};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route("/v1/devices/enroll", post(devices::enroll))
        .route("/v1/devices/challenge", post(devices::challenge))
        .route("/v1/devices/token", post(devices::token))
        .route("/v1/sync/push", post(push::push))
        .route("/v1/sync/pull", get(pull::pull))
        .merge(owner::routes())
        .merge(reports::routes())
        .merge(manage::routes())
        .layer(DefaultBodyLimit::max(pos_sync_protocol::api::MAX_PUSH_BYTES))
        .with_state(state)
}

/// The authenticated register behind a request: tenant, venue and device come from the verified
/// token and nowhere else.
#[derive(Debug, Clone, Copy)]
pub struct Device {
    pub tenant: Uuid,
    pub venue: Uuid,
    pub device: Uuid,
}

pub fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

/// The service's clock: the system clock (tokens and sessions expire by it). The register's core
/// takes its time from an injected clock instead; the service has no such need.
#[allow(clippy::disallowed_methods)]
pub fn now_unix() -> i64 {
    jiff::Timestamp::now().as_second()
}

impl FromRequestParts<AppState> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Device, ApiError> {
        let token = bearer(parts).ok_or_else(|| ApiError::unauthorized("a device access token is required"))?;
        let DeviceClaims { tid, vid, did, .. } = state.tokens.verify(token, now_unix())?;
        Ok(Device { tenant: tid, venue: vid, device: did })
    }
}

/// Serves until the process is stopped. With a certificate and key (PEM files), over TLS
/// (rustls); without, plain HTTP, which registers accept only on loopback.
pub async fn serve(state: AppState, addr: SocketAddr, tls: Option<(String, String)>) -> anyhow::Result<()> {
    let app = router(state);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("pos-cloud listening on {}{}", listener.local_addr()?, if tls.is_some() { " (TLS)" } else { "" });
    match tls {
        None => axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?,
        Some((cert, key)) => serve_tls(listener, app, &cert, &key).await?,
    }
    Ok(())
}

async fn serve_tls(listener: tokio::net::TcpListener, app: Router, cert: &str, key: &str) -> anyhow::Result<()> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| anyhow::anyhow!("certificate {cert}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("certificate {cert}: {e}"))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| anyhow::anyhow!("private key {key}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    loop {
        let (tcp, peer) = listener.accept().await?;
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else { return };
            let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                tower::ServiceExt::oneshot(app.clone(), req)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}
