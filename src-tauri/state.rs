//! What the window shares: the register (opened once, at start) and who is signed in at it.
//!
//! The session lives here, in the Rust process, never in the page: the page cannot present a
//! session it was not given, and every command acts as whoever signed in at this window.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use pos_app::{AppError, AppResult, ErrorCode, Register, Session};

/// The register and the session signed in at this window, behind one lock.
pub struct Counter {
    pub reg: Register,
    pub session: Option<Session>,
}

impl Counter {
    /// The signed-in session, or `not_signed_in`.
    pub fn session(&self) -> AppResult<Session> {
        self.session.clone().ok_or_else(|| AppError::new(ErrorCode::NotSignedIn, "sign in first"))
    }
}

/// Wakes the print worker when a command queued something, instead of waiting for its next poll.
#[derive(Default)]
pub struct Wake {
    flag: Mutex<bool>,
    cond: Condvar,
}

impl Wake {
    pub fn poke(&self) {
        *self.flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cond.notify_all();
    }

    /// Waits until poked or `timeout` passes.
    pub fn wait(&self, timeout: std::time::Duration) {
        let guard = self.flag.lock().unwrap_or_else(|e| e.into_inner());
        let (mut guard, _) =
            self.cond.wait_timeout_while(guard, timeout, |poked| !*poked).unwrap_or_else(|e| e.into_inner());
        *guard = false;
    }
}

/// Managed by Tauri; every command receives it.
pub struct AppState {
    counter: Result<Arc<Mutex<Counter>>, AppError>,
    pub data_dir: PathBuf,
    pub wake: Arc<Wake>,
    /// Set when the person at the register confirmed quitting with unsynced records.
    pub quit_confirmed: std::sync::atomic::AtomicBool,
}

impl AppState {
    pub fn new(opened: AppResult<Register>, data_dir: PathBuf) -> AppState {
        AppState {
            counter: opened.map(|reg| Arc::new(Mutex::new(Counter { reg, session: None }))),
            data_dir,
            wake: Arc::new(Wake::default()),
            quit_confirmed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The shared register, or why it could not be opened (shown on the start screen).
    pub fn shared(&self) -> AppResult<Arc<Mutex<Counter>>> {
        self.counter.clone()
    }

    pub fn lock(&self) -> AppResult<MutexGuard<'_, Counter>> {
        match &self.counter {
            Ok(c) => Ok(lock(c)),
            Err(e) => Err(e.clone()),
        }
    }

    /// Runs a façade call as the signed-in session.
    pub fn with<T>(&self, f: impl FnOnce(&mut Register, &Session) -> AppResult<T>) -> AppResult<T> {
        let mut c = self.lock()?;
        let session = c.session()?;
        f(&mut c.reg, &session)
    }

    /// Runs a façade call that needs no session (status, staff picker, sign-in).
    pub fn with_reg<T>(&self, f: impl FnOnce(&mut Register) -> AppResult<T>) -> AppResult<T> {
        let mut c = self.lock()?;
        f(&mut c.reg)
    }

    /// Like [`AppState::with`], then wakes the print worker: the call may have queued a job.
    pub fn printing<T>(&self, f: impl FnOnce(&mut Register, &Session) -> AppResult<T>) -> AppResult<T> {
        let out = self.with(f);
        self.wake.poke();
        out
    }
}

/// Locks the counter. A panic in another command does not leave the store half-written (every
/// write is one transaction), so the lock is taken over rather than failing every later call.
pub fn lock(c: &Mutex<Counter>) -> MutexGuard<'_, Counter> {
    c.lock().unwrap_or_else(|e| e.into_inner())
}
