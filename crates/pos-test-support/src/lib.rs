//! Helpers for tests that need real parts: a throw-away PostgreSQL cluster and a faulty proxy.
//!
//! # [`PgCluster`]
//!
//! Starts a private PostgreSQL 15 server in a temporary directory, listening on
//! `127.0.0.1` on a free port, and hands out fresh databases with
//! [`PgCluster::create_database`]. The server is stopped and its directory removed
//! when the handle is dropped (also when a test panics). [`PgCluster::shared`] gives
//! one lazily started cluster per test process; a small watchdog process stops it
//! once the test process is gone.
//!
//! Environment variables:
//!
//! - `POS_TEST_DATABASE_URL`: use this existing server instead of starting one. The
//!   URL must name a **superuser** (databases are created and dropped on it), e.g.
//!   `postgres://postgres:secret@db.example:5432/postgres`.
//! - `POS_PG_BIN`: the directory holding `initdb`, `pg_ctl` and `psql`
//!   (default `/usr/lib/postgresql/15/bin`, from the Debian package `postgresql`).
//!
//! `PgCluster` is Unix-only. PostgreSQL refuses to run as root; when the tests run as root the server tools are
//! run as the `postgres` system user instead (through `runuser`, or `su`).
//!
//! # [`FaultyProxy`]
//!
//! An HTTP/1.1 proxy between a client and a server that injects network faults —
//! dropped requests, injected `503`s, responses lost after the server processed the
//! request, duplicated requests and delays — chosen by a seeded random generator, so
//! tests can prove that a client/server pair keeps its exactly-once promises. It owns
//! its Tokio runtime, so plain synchronous tests can use it too.

mod http;
#[cfg(unix)]
mod pg;
mod proxy;
mod rng;

#[cfg(unix)]
pub use pg::PgCluster;
pub use proxy::{Faults, FaultyProxy, ProxyStats};
