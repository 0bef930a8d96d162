//! The print worker: a thread that sends queued jobs to the printers. It takes jobs from the
//! register, lets go of it while the printer is talked to (a slow or dead printer holds up no
//! sale), and records each outcome. The queue lives on disk, so nothing is lost if the app stops.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pos_app::pos_print::transport::Timeouts;

use crate::state::{Counter, Wake, lock};

/// How often the worker looks at the queue when nobody pokes it (retries are due by time).
const POLL: Duration = Duration::from_secs(2);

pub fn spawn_print_worker(counter: Arc<Mutex<Counter>>, wake: Arc<Wake>) {
    let spawned = std::thread::Builder::new().name("print-worker".into()).spawn(move || {
        loop {
            run_once(&counter);
            wake.wait(POLL);
        }
    });
    if let Err(e) = spawned {
        eprintln!("print worker could not start: {e}; jobs stay queued");
    }
}

fn run_once(counter: &Mutex<Counter>) {
    let tasks = match lock(counter).reg.take_print_tasks(20) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("print queue: {}", e.message);
            return;
        }
    };
    let timeouts = Timeouts::default();
    for task in tasks {
        let result = task.deliver(&timeouts);
        if let Err(e) = lock(counter).reg.finish_print_task(&task, &result) {
            eprintln!("print job {}: {}", task.job_id, e.message);
        }
    }
}

/// After a start (a crash, a power cut): asks the terminal about every card payment still
/// pending, so an answer lost on the way is recorded before anyone tries that order again.
pub fn resolve_card_payments(counter: Arc<Mutex<Counter>>) {
    let spawned = std::thread::Builder::new().name("card-recovery".into()).spawn(move || {
        let mut c = lock(&counter);
        let config = match c.reg.terminal_config() {
            Ok(Some(config)) => config,
            _ => return,
        };
        if c.reg.open_card_payments().is_ok_and(|p| p.iter().all(|p| p.status != "pending")) {
            return;
        }
        let mut terminal = pos_app::pos_terminal::connect(&config);
        match c.reg.resolve_card_payments(terminal.as_mut()) {
            Ok(done) if !done.is_empty() => eprintln!("card payments resolved after start: {}", done.len()),
            Ok(_) => {}
            Err(e) => eprintln!("card payments still pending: {}", e.message),
        }
    });
    if let Err(e) = spawned {
        eprintln!("card recovery could not start: {e}");
    }
}

/// The register as the sync worker reaches it: through the window's lock, briefly, once per local
/// step, so a sale never waits for the network.
struct SharedCounter(Arc<Mutex<Counter>>);

impl pos_app::sync::RegisterLock for SharedCounter {
    fn with_register<T>(&self, f: impl FnOnce(&mut pos_app::Register) -> T) -> T {
        f(&mut lock(&self.0).reg)
    }
}

/// Syncs with the cloud in the background once the register is enrolled (`posctl sync enroll`);
/// without a cloud it only looks, every few seconds, whether one was set up.
pub fn spawn_sync_worker(counter: Arc<Mutex<Counter>>) -> Option<pos_app::sync::SyncWorker> {
    let secrets = match pos_app::OsCredentialStore::connect() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sync worker not started: {e}");
            return None;
        }
    };
    let agent = pos_app::sync::CloudSync::new(Arc::new(secrets));
    match pos_app::sync::SyncWorker::spawn(Arc::new(SharedCounter(counter)), agent, Default::default()) {
        Ok(w) => Some(w),
        Err(e) => {
            eprintln!("sync worker not started: {e}");
            None
        }
    }
}
