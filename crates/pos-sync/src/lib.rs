//! The register's sync client: HTTPS calls to the cloud service (`pos-cloud`), the device key that
//! proves who is calling, and how failures are classified and backed off.
//!
//! It knows the wire types of `pos-sync-protocol` and nothing about the register's store: the
//! façade (`pos_app::sync`) decides what to push and what to do with the answers.
//!
//! - [`CloudClient`]: one call per endpoint, on its own small Tokio runtime, so the synchronous
//!   register can call it from any plain thread. TLS is rustls with the ring provider and the
//!   webpki roots, plus an optional extra CA certificate for a self-hosted service. Plain `http://`
//!   is refused unless the host is loopback.
//! - [`DeviceKey`]: the Ed25519 key that signs token challenges.
//! - [`DeviceClient`]: a client acting as one enrolled device: it gets an access token by signing
//!   a fresh challenge, renews it when it expires or is refused (once per call), and pushes and pulls.
//! - [`SyncError`]: what went wrong, classified the way the caller must react.
//! - [`backoff_delay`]: exponential back-off with full jitter, in integers.

mod backoff;
mod client;
mod device;
mod error;

pub use backoff::{BACKOFF_BASE, BACKOFF_CAP, backoff_delay};
pub use client::{AccessToken, CONNECT_TIMEOUT, CloudClient, REQUEST_TIMEOUT};
pub use device::{DeviceClient, DeviceKey};
pub use error::{ErrorKind, SyncError};
pub use pos_sync_protocol::api;
