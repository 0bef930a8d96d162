//! The register's sync client.
