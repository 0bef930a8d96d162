//! A simulated terminal for demos and tests: it waits a configured time (really sleeping, so the
//! register shows its waiting state) and answers with a configured outcome.
//!
//! Every request it sees is written to a journal (reference → outcome) shared by all clones of the
//! simulator, so a clone kept aside answers [`Terminal::recover`] after the register that held the
//! first one was dropped — the way a real terminal remembers its transactions across a register
//! crash.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use pos_core::money::Currency;
use pos_core::tender::CardAuthorization;
use serde::{Deserialize, Serialize};

use crate::{Outcome, PaymentRequest, Terminal, TerminalError};

/// The reason the simulator gives when it declines.
pub const DECLINE_REASON: &str = "declined by issuer (simulated)";

/// What the simulator answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimOutcome {
    /// Approve every request.
    #[default]
    Approve,
    /// Decline with [`DECLINE_REASON`].
    Decline,
    /// The customer cancels.
    Cancel,
    /// The terminal never answers: [`Outcome::TimedOut`] after the delay.
    Timeout,
}

/// How the simulator behaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimulatorConfig {
    /// The answer to every payment and refund.
    pub outcome: SimOutcome,
    /// How long the simulated customer takes, in milliseconds (the simulator really sleeps).
    pub delay_ms: u64,
    /// The card scheme reported on approval, e.g. "VISA".
    pub scheme: String,
    /// The last four card digits reported on approval.
    pub last4: String,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig { outcome: SimOutcome::Approve, delay_ms: 300, scheme: "VISA".into(), last4: "4242".into() }
    }
}

/// One journalled request.
#[derive(Debug, Clone)]
enum Entry {
    /// Under way (the simulated customer is still at the terminal).
    Pending,
    /// Finished, for this amount.
    Done { amount_minor: i64, currency: Currency, outcome: Outcome },
}

#[derive(Debug)]
struct State {
    config: SimulatorConfig,
    counter: u64,
    journal: HashMap<String, Entry>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

/// The simulated terminal. Clones (and [`Simulator::handle`]) share the configuration and the
/// journal.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Simulator").field("config", &state.config).field("journalled", &state.journal.len()).finish()
    }
}

impl Default for Simulator {
    fn default() -> Self {
        Simulator::new(SimulatorConfig::default())
    }
}

impl Simulator {
    /// A simulator with an empty journal.
    pub fn new(config: SimulatorConfig) -> Simulator {
        Simulator {
            shared: Arc::new(Shared {
                state: Mutex::new(State { config, counter: 0, journal: HashMap::new() }),
                changed: Condvar::new(),
            }),
        }
    }

    /// Another handle on the same simulated terminal (same journal and configuration); keep it to
    /// call [`Terminal::recover`] after the register holding the first one is gone.
    pub fn handle(&self) -> Simulator {
        self.clone()
    }

    /// The current configuration.
    pub fn config(&self) -> SimulatorConfig {
        self.lock().config.clone()
    }

    /// Changes the answer to later requests (for every handle).
    pub fn set_outcome(&self, outcome: SimOutcome) {
        self.lock().config.outcome = outcome;
    }

    /// Changes the delay of later requests (for every handle).
    pub fn set_delay_ms(&self, delay_ms: u64) {
        self.lock().config.delay_ms = delay_ms;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the journal usable.
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn run(&self, req: &PaymentRequest) -> Result<Outcome, TerminalError> {
        req.validate()?;
        let config = {
            let mut state = self.lock();
            state.journal.insert(req.reference.clone(), Entry::Pending);
            state.config.clone()
        };
        std::thread::sleep(Duration::from_millis(config.delay_ms));
        let mut state = self.lock();
        let result = match config.outcome {
            SimOutcome::Approve => {
                state.counter += 1;
                let n = state.counter;
                let auth_code = format!("{:06}", (n * 7_919 + 104_729) % 1_000_000);
                // Derived from the register's own reference, so it is unique across restarts too.
                let terminal_ref = crate::clean_reference("SIM-", &req.reference);
                CardAuthorization::new(&config.last4, &config.scheme, &auth_code, &terminal_ref)
                    .map(Outcome::Approved)
                    .map_err(|_| {
                        TerminalError::InvalidRequest(
                            "simulator configuration: last4 must be 4 digits and the scheme 1 to 20 letters".into(),
                        )
                    })
            }
            SimOutcome::Decline => Ok(Outcome::Declined { reason: DECLINE_REASON.into() }),
            SimOutcome::Cancel => Ok(Outcome::Cancelled),
            SimOutcome::Timeout => Ok(Outcome::TimedOut),
        };
        match &result {
            Ok(outcome) => {
                state.journal.insert(
                    req.reference.clone(),
                    Entry::Done { amount_minor: req.amount_minor, currency: req.currency, outcome: outcome.clone() },
                );
            }
            Err(_) => {
                state.journal.remove(&req.reference);
            }
        }
        drop(state);
        self.shared.changed.notify_all();
        result
    }
}

impl Terminal for Simulator {
    fn kind(&self) -> &'static str {
        "simulator"
    }

    fn pay(&mut self, req: &PaymentRequest) -> Result<Outcome, TerminalError> {
        self.run(req)
    }

    fn refund(&mut self, req: &PaymentRequest) -> Result<Outcome, TerminalError> {
        self.run(req)
    }

    /// Looks `req.reference` up in the journal. A request still under way is waited for (at most
    /// the configured delay and two more seconds, else [`Outcome::TimedOut`]). Approved only if
    /// the journal holds an approval for the same amount and currency; a declined request stays
    /// declined; cancelled, timed-out and unknown requests are [`Outcome::Cancelled`].
    fn recover(&mut self, req: &PaymentRequest) -> Result<Outcome, TerminalError> {
        req.validate()?;
        let mut state = self.lock();
        let deadline = Instant::now() + Duration::from_millis(state.config.delay_ms) + Duration::from_secs(2);
        loop {
            match state.journal.get(&req.reference) {
                None => return Ok(Outcome::Cancelled),
                Some(Entry::Done { amount_minor, currency, outcome }) => {
                    let same = *amount_minor == req.amount_minor && *currency == req.currency;
                    return Ok(match outcome {
                        Outcome::Approved(_) if same => outcome.clone(),
                        Outcome::Declined { .. } => outcome.clone(),
                        _ => Outcome::Cancelled,
                    });
                }
                Some(Entry::Pending) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Ok(Outcome::TimedOut);
                    }
                    state = self
                        .shared
                        .changed
                        .wait_timeout(state, deadline - now)
                        .map(|(guard, _)| guard)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
            }
        }
    }
}
