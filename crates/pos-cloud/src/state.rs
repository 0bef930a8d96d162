//! What every request handler shares: the pool, the token key and the service's settings.

use std::sync::Arc;

use deadpool_postgres::Pool;

use crate::token::TokenKey;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub tokens: Arc<TokenKey>,
    pub config: Arc<Config>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Service settings (from the command line / environment of `pos-cloud serve`).
#[derive(Debug, Clone)]
pub struct Config {
    /// Lifetime of device access tokens, in seconds (at most 15 minutes).
    pub access_token_seconds: u64,
    /// Lifetime of a token challenge, in seconds.
    pub challenge_seconds: u64,
    /// Base URL of a k-anonymity breached-password range API (`{base}/range/{first five hex}`);
    /// when unset or unreachable, the bundled list of common passwords is used.
    pub breached_password_api: Option<String>,
    /// Owner sessions end after this many seconds without a request.
    pub session_idle_seconds: u64,
    /// Load balancers or proxies in front of the service. A request from one of these names the
    /// client in `X-Forwarded-For`, which then counts for the per-address sign-in limit; from
    /// anyone else that header is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            access_token_seconds: pos_sync_protocol::api::ACCESS_TOKEN_SECONDS,
            challenge_seconds: 120,
            breached_password_api: None,
            session_idle_seconds: 30 * 60,
            trusted_proxies: Vec::new(),
        }
    }
}
