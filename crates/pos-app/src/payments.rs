//! Card payments through a terminal. The payment is recorded as pending (durably) before the
//! terminal is asked, and its outcome after; a register that restarts asks the terminal about
//! whatever is still pending. An approval is used by exactly one sale: `pay` captures it in the
//! sale's own transaction and refuses an approval that was already used. So a timeout or a crash
//! never leaves a sale paid twice, or paid without an approval.

use pos_audit::Event;
use pos_auth::permissions::Permission;
use pos_core::money::Money;
use pos_core::tender::{CardAuthorization, Tender};
use pos_store::printing::CardPaymentRow;
use pos_terminal::{Outcome, PaymentRequest, Terminal, TerminalConfig, TerminalError};
use serde::Serialize;

use crate::error::{AppError, AppResult, ErrorCode};
use crate::register::Register;
use crate::security::Session;

/// Setting: the payment terminal, as JSON (`{"kind": "simulator", …}`, `standalone`, `zvt`).
pub const TERMINAL_SETTING: &str = "payment_terminal";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardPaymentView {
    pub id: String,
    pub order_id: String,
    pub kind: String,
    pub amount: Money,
    /// pending, approved, declined, cancelled, timed_out or captured.
    pub status: String,
    pub card_last4: Option<String>,
    pub card_scheme: Option<String>,
    pub auth_code: Option<String>,
    pub terminal_ref: Option<String>,
    pub reason: Option<String>,
    pub started_at: String,
}

/// A payment recorded as pending, and the request to put to the terminal.
#[derive(Debug, Clone)]
pub struct CardPaymentStart {
    pub id: String,
    pub request: PaymentRequest,
}

impl Register {
    fn card_view(&self, r: &CardPaymentRow) -> CardPaymentView {
        CardPaymentView {
            id: r.id.clone(),
            order_id: r.order_uuid.clone(),
            kind: r.kind.clone(),
            amount: Money::new(r.amount, self.venue.currency),
            status: r.status.clone(),
            card_last4: r.card_last4.clone(),
            card_scheme: r.card_scheme.clone(),
            auth_code: r.auth_code.clone(),
            terminal_ref: r.terminal_ref.clone(),
            reason: r.reason.clone(),
            started_at: self.local(jiff::Timestamp::from_microsecond(r.started_at).unwrap_or_default()),
        }
    }

    /// The configured payment terminal, if any.
    pub fn terminal_config(&self) -> AppResult<Option<TerminalConfig>> {
        pos_store::security::setting(self.store.conn(), TERMINAL_SETTING)?
            .map(|json| {
                serde_json::from_str(&json)
                    .map_err(|e| AppError::new(ErrorCode::StoreDamaged, format!("stored terminal setting: {e}")))
            })
            .transpose()
    }

    /// The configured terminal as a screen may show it: a ZVT password is blanked.
    pub fn terminal_config_redacted(&self) -> AppResult<Option<TerminalConfig>> {
        Ok(self.terminal_config()?.map(|c| match c {
            TerminalConfig::Zvt(mut z) => {
                z.password.clear();
                TerminalConfig::Zvt(z)
            }
            other => other,
        }))
    }

    /// Sets the payment terminal (back office, audited). A ZVT password left empty keeps the one
    /// stored (the screen never shows it).
    pub fn set_terminal(&mut self, session: &Session, config: &TerminalConfig) -> AppResult<()> {
        let actor = self.authorize(session, Some(Permission::ManageSettings), "settings_changed")?;
        let mut config = config.clone();
        if let TerminalConfig::Zvt(z) = &mut config
            && z.password.is_empty()
            && let Some(TerminalConfig::Zvt(old)) = self.terminal_config()?
        {
            z.password = old.password;
        }
        let config = &config;
        let json = serde_json::to_string(config).map_err(|e| AppError::invalid(e.to_string()))?;
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        pos_store::security::put_setting(&tx, TERMINAL_SETTING, &json)?;
        let kind =
            serde_json::to_value(config).ok().and_then(|v| v["kind"].as_str().map(str::to_owned)).unwrap_or_default();
        let ev = Event::new("settings_changed", "ok")
            .actor(actor.id, &actor.name)
            .subject("setting", TERMINAL_SETTING)
            .detail("terminal", kind);
        self.auditor.commit(tx, now, &offset, ev, None)?;
        Ok(())
    }

    /// Step one of a card payment: checks it and records it as pending, on disk, before any
    /// terminal is asked. At most one payment per order is pending at a time, and approvals not
    /// yet used count against what is still due.
    pub fn begin_card_payment(
        &mut self,
        session: &Session,
        order_id: &str,
        amount: Money,
    ) -> AppResult<CardPaymentStart> {
        let actor = self.authorize(session, Some(Permission::Sell), "card_payment")?;
        if amount.currency() != self.venue.currency {
            return Err(AppError::new(
                ErrorCode::CurrencyMismatch,
                format!("cards are charged in {}", self.venue.currency),
            ));
        }
        if amount.minor() <= 0 {
            return Err(AppError::invalid("a card payment must be more than zero"));
        }
        let due = self.order_view(order_id)?.total.minor();
        let open = pos_store::printing::open_card_payments(self.store.conn(), Some(order_id))?;
        if open.iter().any(|p| p.status == "pending") {
            return Err(AppError::conflict(
                "a card payment for this order is still waiting for the terminal; resolve it first",
            ));
        }
        let approved: i64 = open.iter().filter(|p| p.status == "approved").map(|p| p.amount).sum();
        if amount.minor() > due - approved {
            return Err(AppError::invalid(format!(
                "the card payment of {} is more than the {} still due",
                amount,
                Money::new(due - approved, self.venue.currency)
            )));
        }
        let terminal = self.terminal_config()?.map_or("none", |c| match c {
            TerminalConfig::Simulator(_) => "simulator",
            TerminalConfig::Standalone => "standalone",
            TerminalConfig::Zvt(_) => "zvt",
        });
        let id = uuid::Uuid::now_v7().to_string();
        let row = CardPaymentRow {
            id: id.clone(),
            order_uuid: order_id.to_owned(),
            kind: "payment".into(),
            amount: amount.minor(),
            currency: self.venue.currency.to_string(),
            terminal: terminal.into(),
            status: "pending".into(),
            card_last4: None,
            card_scheme: None,
            auth_code: None,
            terminal_ref: None,
            reason: None,
            started_at: self.clock.now().as_microsecond(),
            staff_id: actor.id,
            resolved_at: None,
        };
        let tx = self.store.write()?;
        pos_store::printing::insert_card_payment(&tx, &row)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        Ok(CardPaymentStart { request: PaymentRequest::new(id.clone(), amount.minor(), self.venue.currency), id })
    }

    /// Step three: records what the terminal answered. An unknown outcome (timeout, lost
    /// connection) leaves the payment pending until [`Register::resolve_card_payments`] learns it.
    pub fn record_card_outcome(
        &mut self,
        id: &str,
        outcome: &Result<Outcome, TerminalError>,
    ) -> AppResult<CardPaymentView> {
        let row = pos_store::printing::card_payment(self.store.conn(), id)?
            .ok_or_else(|| AppError::not_found(format!("no card payment {id}")))?;
        let (status, card, reason): (&str, Option<&CardAuthorization>, Option<String>) = match outcome {
            Ok(Outcome::Approved(auth)) => ("approved", Some(auth), None),
            Ok(Outcome::Declined { reason }) => ("declined", None, Some(reason.clone())),
            Ok(Outcome::Cancelled) => ("cancelled", None, Some("cancelled on the terminal".into())),
            // No answer in time: the card may still have been charged. Pending until the
            // terminal says what became of it.
            Ok(Outcome::TimedOut) => return Ok(self.card_view(&row)),
            // Nothing reached the terminal: nothing was charged.
            Err(e @ (TerminalError::Unreachable(_) | TerminalError::Refused(_) | TerminalError::InvalidRequest(_))) => {
                ("cancelled", None, Some(e.to_string()))
            }
            // The outcome is unknown: it stays pending.
            Err(_) => return Ok(self.card_view(&row)),
        };
        if row.status != "pending" {
            return Ok(self.card_view(&row));
        }
        if let Some(auth) = card
            && let Some(used) = pos_store::printing::card_payment_by_ref(self.store.conn(), auth.terminal_ref())?
        {
            return Err(AppError::conflict(format!(
                "the terminal reported approval {} again, already recorded for payment {}",
                auth.terminal_ref(),
                used.id
            )));
        }
        let now = self.clock.now();
        let offset = self.offset(now);
        let staff_name = self.staff_name(row.staff_id);
        let tx = self.store.write()?;
        pos_store::printing::resolve_card_payment(
            &tx,
            id,
            status,
            card.map(|c| (c.last4(), c.scheme(), c.auth_code(), c.terminal_ref())),
            reason.as_deref(),
            now.as_microsecond(),
        )?;
        let mut ev = Event::new("card_payment", status)
            .actor(row.staff_id, &staff_name)
            .subject("order", row.order_uuid.clone())
            .subject("card_payment", id)
            .amount(row.amount, &row.currency)
            .detail("terminal", row.terminal.clone());
        if let Some(c) = card {
            ev = ev.detail("terminal_ref", c.terminal_ref()).detail("scheme", c.scheme()).detail("last4", c.last4());
        }
        if let Some(r) = &reason {
            ev = ev.reason(r);
        }
        self.auditor.commit(tx, now, &offset, ev, None)?;
        let row = pos_store::printing::card_payment(self.store.conn(), id)?
            .ok_or_else(|| AppError::not_found(format!("no card payment {id}")))?;
        Ok(self.card_view(&row))
    }

    /// A whole card payment in one call: record it, ask the terminal, and if the answer is lost
    /// (timeout, broken connection) ask the terminal what became of it before recording.
    pub fn card_payment(
        &mut self,
        session: &Session,
        order_id: &str,
        amount: Money,
        terminal: &mut dyn Terminal,
    ) -> AppResult<CardPaymentView> {
        let start = self.begin_card_payment(session, order_id, amount)?;
        let outcome = ask_terminal(terminal, &start.request);
        self.finish_card_payment(&start.id, &outcome)
    }

    /// Step three of [`Register::card_payment`] when the terminal was asked elsewhere (the app
    /// asks it without holding the register): records the answer and says what it means.
    pub fn finish_card_payment(
        &mut self,
        id: &str,
        outcome: &Result<Outcome, TerminalError>,
    ) -> AppResult<CardPaymentView> {
        let view = self.record_card_outcome(id, outcome)?;
        match view.status.as_str() {
            "approved" => Ok(view),
            "pending" => Err(AppError::new(
                ErrorCode::TerminalUnavailable,
                "the terminal's answer was lost; the payment stays pending until the terminal confirms it",
            )),
            _ => Err(AppError::new(
                ErrorCode::PaymentNotApproved,
                format!("card payment {}: {}", view.status.replace('_', " "), view.reason.clone().unwrap_or_default()),
            )),
        }
    }

    /// After a restart (or a lost answer): asks the terminal about every payment still pending
    /// and records the answer. Returns the payments it resolved.
    pub fn resolve_card_payments(&mut self, terminal: &mut dyn Terminal) -> AppResult<Vec<CardPaymentView>> {
        let pending: Vec<CardPaymentRow> = pos_store::printing::open_card_payments(self.store.conn(), None)?
            .into_iter()
            .filter(|p| p.status == "pending")
            .collect();
        let mut out = Vec::new();
        for p in pending {
            let currency = pos_core::money::Currency::from_code(&p.currency).unwrap_or(self.venue.currency);
            let req = PaymentRequest::new(p.id.clone(), p.amount, currency);
            let answer = match terminal.recover(&req) {
                Ok(answer @ (Outcome::Approved(_) | Outcome::Declined { .. } | Outcome::Cancelled)) => answer,
                // Cannot tell now: still pending, asked again next time.
                Ok(Outcome::TimedOut) | Err(_) => continue,
            };
            out.push(self.record_card_outcome(&p.id, &Ok(answer))?);
        }
        Ok(out)
    }

    /// Card payments pending or approved but not yet used by a sale (e.g. the cart was lost in a
    /// crash): the cashier applies them to the re-rung order or a manager reverses them.
    pub fn open_card_payments(&self) -> AppResult<Vec<CardPaymentView>> {
        Ok(pos_store::printing::open_card_payments(self.store.conn(), None)?
            .iter()
            .map(|r| self.card_view(r))
            .collect())
    }

    /// The tender an approved card payment gives, to pass to [`Register::pay`].
    pub fn card_tender(&self, id: &str) -> AppResult<Tender> {
        let row = pos_store::printing::card_payment(self.store.conn(), id)?
            .ok_or_else(|| AppError::not_found(format!("no card payment {id}")))?;
        if row.status != "approved" {
            return Err(AppError::conflict(format!("card payment {id} is {}, not approved", row.status)));
        }
        let auth = CardAuthorization::new(
            row.card_last4.as_deref().unwrap_or(""),
            row.card_scheme.as_deref().unwrap_or(""),
            row.auth_code.as_deref().unwrap_or(""),
            row.terminal_ref.as_deref().unwrap_or(""),
        )?;
        Ok(Tender::Card { amount: Money::new(row.amount, self.venue.currency), auth })
    }
}

/// Step two of a card payment: puts the request to the terminal and, if the answer is lost
/// (timeout, broken connection), asks the terminal what became of it. If it cannot say now, the
/// answer stays unknown and the payment pending: it may have been charged.
pub fn ask_terminal(terminal: &mut dyn Terminal, request: &PaymentRequest) -> Result<Outcome, TerminalError> {
    let outcome = terminal.pay(request);
    if !matches!(outcome, Ok(Outcome::TimedOut) | Err(TerminalError::ConnectionLost(_) | TerminalError::Protocol(_))) {
        return outcome;
    }
    match terminal.recover(request) {
        Ok(answer @ (Outcome::Approved(_) | Outcome::Declined { .. } | Outcome::Cancelled)) => Ok(answer),
        Ok(Outcome::TimedOut) | Err(_) => Err(TerminalError::ConnectionLost("no answer to the recovery".into())),
    }
}

/// Inside the sale's transaction: every card tender that came from a terminal is captured; one
/// already used by another sale is refused.
pub(crate) fn capture_card_tenders(tx: &pos_store::Transaction, tenders: &[Tender]) -> AppResult<()> {
    {
        for t in tenders {
            if let Tender::Card { auth, amount } = t
                && let Some(row) = pos_store::printing::card_payment_by_ref(tx, auth.terminal_ref())?
            {
                if row.status != "approved" {
                    return Err(AppError::conflict(format!(
                        "card approval {} is {}: it cannot pay this order",
                        auth.terminal_ref(),
                        row.status
                    )));
                }
                if row.amount != amount.minor() {
                    return Err(AppError::invalid("a card tender must be for the amount the terminal approved"));
                }
                pos_store::printing::capture_card_payments(tx, &[row.id])?;
            }
        }
        Ok(())
    }
}
