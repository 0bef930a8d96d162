//! End-to-end tests of `posctl` against the real OS credential store (a Secret Service). Run them
//! through `cargo xtask test`, which starts a private D-Bus session with GNOME Keyring.

mod support;

mod audit;
mod cli;
mod crash;
mod credential_store;
mod disk_full;
mod printing;
mod sync;
