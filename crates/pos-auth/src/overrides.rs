//! Manager overrides: which actions the venue holds back for approval, and the single-use grant
//! a manager's fresh PIN produces.

use serde::{Deserialize, Serialize};

use crate::permissions::{Permission, Permissions};

/// An action the override policy can hold back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideKind {
    Refund,
    OrderVoid,
    LineVoid,
    /// Amount in basis points of what is discounted.
    Discount,
    PriceOverride,
    NoSale,
    PaidOut,
    /// Closing a shift whose counted cash is off by more than the threshold (amount: |variance|).
    ForceCloseShift,
    ReopenDay,
}

impl OverrideKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OverrideKind::Refund => "refund",
            OverrideKind::OrderVoid => "order_void",
            OverrideKind::LineVoid => "line_void",
            OverrideKind::Discount => "discount",
            OverrideKind::PriceOverride => "price_override",
            OverrideKind::NoSale => "no_sale",
            OverrideKind::PaidOut => "paid_out",
            OverrideKind::ForceCloseShift => "force_close_shift",
            OverrideKind::ReopenDay => "reopen_day",
        }
    }

    /// The permission that lets someone do this without asking, and that an approver must hold.
    pub fn permission(self) -> Permission {
        match self {
            OverrideKind::Refund => Permission::Refund,
            OverrideKind::OrderVoid => Permission::OrderVoid,
            OverrideKind::LineVoid => Permission::LineVoid,
            OverrideKind::Discount => Permission::Discount,
            OverrideKind::PriceOverride => Permission::PriceOverride,
            OverrideKind::NoSale => Permission::NoSale,
            OverrideKind::PaidOut => Permission::CashInOut,
            OverrideKind::ForceCloseShift => Permission::CloseShift,
            OverrideKind::ReopenDay => Permission::CloseDay,
        }
    }

    /// Whether the amount is in basis points rather than minor units of money.
    pub fn amount_is_basis_points(self) -> bool {
        self == OverrideKind::Discount
    }

    /// The reason codes offered to the approving manager.
    pub fn reasons(self) -> &'static [&'static str] {
        match self {
            OverrideKind::Refund => &["customer_return", "damaged", "wrong_item", "price_dispute", "other"],
            OverrideKind::OrderVoid | OverrideKind::LineVoid => {
                &["customer_changed_mind", "entry_mistake", "item_unavailable", "other"]
            }
            OverrideKind::Discount => &["loyalty", "damaged_goods", "staff", "promotion", "complaint", "other"],
            OverrideKind::PriceOverride => &["price_match", "mispriced", "damaged_goods", "other"],
            OverrideKind::NoSale => &["change_for_customer", "drawer_check", "other"],
            OverrideKind::PaidOut => &["supplier", "petty_cash", "tips", "other"],
            OverrideKind::ForceCloseShift => &["recount_confirmed", "known_error", "other"],
            OverrideKind::ReopenDay => &["late_entry", "correction", "other"],
        }
    }
}

/// A concrete action awaiting or carrying approval: its kind, amount and the thing it acts on
/// (an order id, a line, a shift, a day). A grant is only good for an identical action.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OverrideAction {
    pub kind: OverrideKind,
    /// Minor units of money, or basis points for a discount.
    pub amount: i64,
    pub subject: String,
}

/// Which actions need a manager, and from which thresholds. `None` means "never by amount".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverridePolicy {
    pub refund_above: Option<i64>,
    pub order_void: bool,
    pub line_void_above: Option<i64>,
    pub discount_above_bp: Option<u32>,
    pub price_override: bool,
    pub no_sale: bool,
    pub paid_out_above: Option<i64>,
    pub force_close_variance_above: Option<i64>,
    pub reopen_day: bool,
    /// How long a grant stays usable.
    pub grant_ttl_secs: u32,
}

impl OverridePolicy {
    /// Defaults for a venue whose currency has 100 minor units per major unit.
    pub const DEFAULT: OverridePolicy = OverridePolicy {
        refund_above: Some(2_000),
        order_void: true,
        line_void_above: Some(1_000),
        discount_above_bp: Some(1_000),
        price_override: true,
        no_sale: true,
        paid_out_above: Some(2_000),
        force_close_variance_above: Some(500),
        reopen_day: true,
        grant_ttl_secs: 60,
    };

    pub fn validate(&self) -> Result<(), String> {
        let amounts = [self.refund_above, self.line_void_above, self.paid_out_above, self.force_close_variance_above];
        if amounts.iter().flatten().any(|a| *a < 0) {
            return Err("thresholds cannot be negative".into());
        }
        if self.discount_above_bp.is_some_and(|bp| bp > 10_000) {
            return Err("a discount threshold is at most 100%".into());
        }
        if !(10..=600).contains(&self.grant_ttl_secs) {
            return Err("an approval lasts 10 to 600 seconds".into());
        }
        Ok(())
    }

    /// Whether the policy itself holds this action back, whoever asks.
    pub fn holds_back(&self, action: &OverrideAction) -> bool {
        let above = |t: Option<i64>| t.is_some_and(|t| action.amount.abs() > t);
        match action.kind {
            OverrideKind::Refund => above(self.refund_above),
            OverrideKind::OrderVoid => self.order_void,
            OverrideKind::LineVoid => above(self.line_void_above),
            OverrideKind::Discount => self.discount_above_bp.is_some_and(|t| action.amount > i64::from(t)),
            OverrideKind::PriceOverride => self.price_override,
            OverrideKind::NoSale => self.no_sale,
            OverrideKind::PaidOut => above(self.paid_out_above),
            OverrideKind::ForceCloseShift => above(self.force_close_variance_above),
            OverrideKind::ReopenDay => self.reopen_day,
        }
    }
}

/// What the façade must do with an action asked for by someone with these permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Proceed,
    NeedsApproval,
}

/// Decides whether `action` may proceed for an actor, or needs a manager's approval.
///
/// It needs approval when the actor lacks the action's permission, when a discount is above the
/// actor's own limit, or when the policy holds it back. Someone who may approve overrides and
/// holds the action's permission acts on their own authority (the audit entry names them as
/// the actor; there is no separate approver).
pub fn decide(
    policy: &OverridePolicy,
    actor: Permissions,
    actor_max_discount_bp: u32,
    action: &OverrideAction,
) -> Decision {
    let perm = action.kind.permission();
    if !actor.contains(perm) {
        return Decision::NeedsApproval;
    }
    if actor.contains(Permission::ApproveOverrides) {
        return Decision::Proceed;
    }
    let over_own_limit = action.kind == OverrideKind::Discount && action.amount > i64::from(actor_max_discount_bp);
    if over_own_limit || policy.holds_back(action) { Decision::NeedsApproval } else { Decision::Proceed }
}

/// Whether someone with these permissions may approve this kind of action.
pub fn may_approve(approver: Permissions, kind: OverrideKind) -> bool {
    approver.contains(Permission::ApproveOverrides) && approver.contains(kind.permission())
}

/// A manager's approval: single-use, for one action by one requester, until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub action: OverrideAction,
    pub requested_by: i64,
    pub approved_by: i64,
    pub reason: String,
    pub expires_at_us: i64,
}

impl Grant {
    pub fn permits(&self, action: &OverrideAction, requester: i64, now_us: i64) -> bool {
        self.action == *action && self.requested_by == requester && now_us < self.expires_at_us
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::Role;

    fn act(kind: OverrideKind, amount: i64) -> OverrideAction {
        OverrideAction { kind, amount, subject: "order-1".into() }
    }

    #[test]
    fn cashier_needs_a_manager_above_thresholds_and_without_the_flag() {
        let p = OverridePolicy::DEFAULT;
        let cashier = Role::Cashier.preset();
        let limit = Role::Cashier.max_discount_bp();
        assert_eq!(decide(&p, cashier, limit, &act(OverrideKind::LineVoid, 1_000)), Decision::Proceed);
        assert_eq!(decide(&p, cashier, limit, &act(OverrideKind::LineVoid, 1_001)), Decision::NeedsApproval);
        assert_eq!(decide(&p, cashier, limit, &act(OverrideKind::Refund, 1)), Decision::NeedsApproval);
        assert_eq!(decide(&p, cashier, limit, &act(OverrideKind::Discount, 1_000)), Decision::Proceed);
        assert_eq!(decide(&p, cashier, 500, &act(OverrideKind::Discount, 600)), Decision::NeedsApproval);
        let manager = Role::Manager.preset();
        assert_eq!(decide(&p, manager, 10_000, &act(OverrideKind::Refund, 99_999)), Decision::Proceed);
        assert!(may_approve(manager, OverrideKind::Refund));
        assert!(!may_approve(Role::Supervisor.preset(), OverrideKind::Refund));
    }

    #[test]
    fn a_grant_fits_one_action_one_requester_until_it_expires() {
        let g = Grant {
            action: act(OverrideKind::Refund, 2_500),
            requested_by: 3,
            approved_by: 2,
            reason: "damaged".into(),
            expires_at_us: 60,
        };
        assert!(g.permits(&act(OverrideKind::Refund, 2_500), 3, 59));
        assert!(!g.permits(&act(OverrideKind::Refund, 2_500), 3, 60));
        assert!(!g.permits(&act(OverrideKind::Refund, 2_501), 3, 0));
        assert!(!g.permits(&act(OverrideKind::OrderVoid, 2_500), 3, 0));
        assert!(!g.permits(&act(OverrideKind::Refund, 2_500), 4, 0));
        let mut other = act(OverrideKind::Refund, 2_500);
        other.subject = "order-2".into();
        assert!(!g.permits(&other, 3, 0));
    }
}
