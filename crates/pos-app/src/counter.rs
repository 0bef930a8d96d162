//! What the counter screens ask for besides single use cases: the product grid, what is still due
//! while the customer pays, completing a sale with the card payments already approved for it, one
//! paid order in full, and the register's status at a glance.

use pos_core::money::Money;
use pos_core::rounding::round_to_increment;
use pos_core::tender::{Tender, quick_cash_amounts};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::payments::CardPaymentView;
use crate::register::{OrderRef, Register};
use crate::security::Session;
use crate::views::{ExportOrderView, OutboxStatus, SaleReceipt, ShiftView, SkuView};

/// A tab of the product grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryView {
    pub id: i64,
    pub name: String,
    pub items: usize,
}

/// Where a payment stands: what the order costs, what approved cards already cover, and what the
/// cash offered so far would mean. Computed by the same settlement rule the sale uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentPreview {
    pub order_id: String,
    pub total: Money,
    /// Approved card payments for this order, not yet used by a sale.
    pub card_paid: Money,
    /// Still due after the cards, exact (for another card).
    pub remaining: Money,
    /// Still due after the cards, rounded for cash.
    pub remaining_cash: Money,
    pub cash_tendered: Money,
    /// Change to hand back if the sale completes with this cash.
    pub change: Money,
    /// Cash still missing; zero when the sale can complete.
    pub short: Money,
    pub can_complete: bool,
    /// Amounts to offer as one-tap cash buttons: the exact rest, then rounded up to notes.
    pub quick_cash: Vec<Money>,
    pub cards: Vec<CardPaymentView>,
}

/// One printer's queue, for the status bar (no hardware is asked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrinterQueueView {
    pub name: String,
    pub role: String,
    /// Jobs queued or waiting for a retry.
    pub unsent: i64,
    /// The last delivery error of a job still unsent, if any.
    pub last_error: Option<String>,
}

/// The register at a glance: always on screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusView {
    pub venue: String,
    pub currency: String,
    pub business_day: String,
    pub outbox: OutboxStatus,
    pub shift: Option<ShiftView>,
    pub printers: Vec<PrinterQueueView>,
    /// Card payments approved or pending that no sale has used yet.
    pub open_card_payments: usize,
}

impl Register {
    /// Categories that have items, in catalog order.
    pub fn categories(&self) -> Vec<CategoryView> {
        let catalog = self.catalog();
        let mut counts = std::collections::HashMap::new();
        for s in catalog.skus() {
            *counts.entry(s.category_id).or_insert(0usize) += 1;
        }
        catalog
            .categories()
            .iter()
            .filter_map(|c| counts.get(&c.id).map(|n| CategoryView { id: c.id.0, name: c.name.clone(), items: *n }))
            .collect()
    }

    /// The items of one category for the product grid, by name.
    pub fn products(&self, category_id: i64, limit: usize) -> Vec<SkuView> {
        let mut skus: Vec<_> = self.catalog().skus().iter().filter(|s| s.category_id.0 == category_id).collect();
        skus.sort_by_cached_key(|s| s.display_name());
        skus.into_iter().take(limit).map(|s| self.sku_view(s)).collect()
    }

    fn approved_cards(&self, order_id: &str) -> AppResult<Vec<CardPaymentView>> {
        Ok(self.open_card_payments()?.into_iter().filter(|p| p.order_id == order_id).collect())
    }

    /// What is still due on an order being paid, if the customer hands over `cash` now.
    pub fn payment_preview(&self, order_id: &str, cash: Option<Money>) -> AppResult<PaymentPreview> {
        let order = self.order_view(order_id)?;
        let cards = self.approved_cards(order_id)?;
        let currency = self.currency();
        let money = |minor| Money::new(minor, currency);
        let card_paid: i64 = cards.iter().filter(|c| c.status == "approved").map(|c| c.amount.minor()).sum();
        let remaining = (order.total.minor() - card_paid).max(0);
        let remaining_cash = round_to_increment(remaining, self.cash_rounding());
        let tendered = cash.map_or(0, |c| c.minor());
        if let Some(c) = cash
            && c.currency() != currency
        {
            return Err(AppError::from(pos_core::money::MoneyError::CurrencyMismatch {
                left: currency,
                right: c.currency(),
            }));
        }
        let (change, short) = if remaining == 0 {
            (tendered, 0)
        } else if tendered >= remaining_cash {
            (tendered - remaining_cash, 0)
        } else {
            (0, remaining_cash - tendered)
        };
        Ok(PaymentPreview {
            order_id: order_id.to_owned(),
            total: order.total,
            card_paid: money(card_paid),
            remaining: money(remaining),
            remaining_cash: money(remaining_cash),
            cash_tendered: money(tendered),
            change: money(change),
            short: money(short),
            can_complete: !order.lines.is_empty()
                && !cards.iter().any(|c| c.status == "pending")
                && (remaining == 0 && tendered == 0 || remaining > 0 && short == 0 && tendered > 0),
            quick_cash: quick_cash_amounts(remaining_cash, currency.denominations(), 5)
                .into_iter()
                .map(money)
                .collect(),
            cards,
        })
    }

    /// Completes a sale with every approved card payment for the order and, for the rest, the
    /// cash handed over. The same settlement as [`Register::pay`]; nothing is paid twice.
    pub fn complete_sale(&mut self, session: &Session, order_id: &str, cash: Option<Money>) -> AppResult<SaleReceipt> {
        let mut tenders: Vec<Tender> = Vec::new();
        for c in self.approved_cards(order_id)? {
            if c.status == "pending" {
                return Err(AppError::conflict(
                    "a card payment for this order is still waiting for the terminal; resolve it first",
                ));
            }
            tenders.push(self.card_tender(&c.id)?);
        }
        if let Some(c) = cash.filter(|c| c.minor() != 0) {
            tenders.push(Tender::Cash { tendered: c });
        }
        self.pay(session, order_id, &tenders)
    }

    /// A paid or voided order with its lines (and what was already refunded of each), for the
    /// orders screen and refunds by line.
    pub fn order_detail(&mut self, session: &Session, order: &OrderRef) -> AppResult<ExportOrderView> {
        self.authorize(session, Some(pos_auth::Permission::Sell), "order_detail")?;
        let h = self.find_order(order)?;
        let orders = pos_store::reports::export_orders(self.store_conn(), &h.business_day, &h.business_day)?;
        let o = orders
            .into_iter()
            .find(|o| o.uuid == h.uuid)
            .ok_or_else(|| AppError::not_found(format!("no order {}", h.uuid)))?;
        Ok(self.export_view(o))
    }

    /// Printer queues without asking the hardware: cheap enough to poll.
    pub fn printer_queues(&self) -> AppResult<Vec<PrinterQueueView>> {
        let conn = self.store_conn();
        let roles: std::collections::HashMap<String, String> =
            pos_store::printing::printers(conn)?.into_iter().map(|p| (p.name, p.role)).collect();
        Ok(pos_store::printing::printer_queues(conn)?
            .into_iter()
            .map(|(name, unsent, last_error)| PrinterQueueView {
                role: roles.get(&name).cloned().unwrap_or_default(),
                name,
                unsent,
                last_error,
            })
            .collect())
    }

    /// The status bar: venue, day, outbox depth and age, shift, printers. Needs no session, and
    /// says nothing a passer-by may not see.
    pub fn status(&self) -> AppResult<StatusView> {
        Ok(StatusView {
            venue: self.venue_name().to_owned(),
            currency: self.currency().to_string(),
            business_day: self.today().to_string(),
            outbox: self.outbox_status()?,
            shift: self.current_shift()?,
            printers: self.printer_queues()?,
            open_card_payments: self.open_card_payments()?.len(),
        })
    }
}
