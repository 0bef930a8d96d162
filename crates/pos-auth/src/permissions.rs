//! Permission flags as a bit set, and the role presets they start from.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One thing a staff member may do. The discriminant is the bit number in [`Permissions`]; bits
/// are stored, so they never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Permission {
    /// Ring up orders and take payment.
    Sell = 0,
    /// Discount lines or orders, up to the staff member's own percentage limit.
    Discount = 1,
    PriceOverride = 2,
    /// Remove a line from an order being rung up, or lower its quantity.
    LineVoid = 3,
    /// Void a whole order, open or paid.
    OrderVoid = 4,
    Refund = 5,
    /// Open the cash drawer without a sale.
    NoSale = 6,
    /// Paid-in and paid-out of the drawer.
    CashInOut = 7,
    OpenShift = 8,
    CloseShift = 9,
    ViewReports = 10,
    ViewCosts = 11,
    ManageCatalog = 12,
    ManageStaff = 13,
    ManageSettings = 14,
    ExportData = 15,
    ViewAuditLog = 16,
    /// Approve another person's action that the override policy holds back.
    ApproveOverrides = 17,
    /// Lift a PIN lock of a staff member or of the device.
    UnlockStaff = 18,
    /// Close a business day, and re-open a closed one.
    CloseDay = 19,
}

impl Permission {
    pub const ALL: [Permission; 20] = [
        Permission::Sell,
        Permission::Discount,
        Permission::PriceOverride,
        Permission::LineVoid,
        Permission::OrderVoid,
        Permission::Refund,
        Permission::NoSale,
        Permission::CashInOut,
        Permission::OpenShift,
        Permission::CloseShift,
        Permission::ViewReports,
        Permission::ViewCosts,
        Permission::ManageCatalog,
        Permission::ManageStaff,
        Permission::ManageSettings,
        Permission::ExportData,
        Permission::ViewAuditLog,
        Permission::ApproveOverrides,
        Permission::UnlockStaff,
        Permission::CloseDay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Sell => "sell",
            Permission::Discount => "discount",
            Permission::PriceOverride => "price_override",
            Permission::LineVoid => "line_void",
            Permission::OrderVoid => "order_void",
            Permission::Refund => "refund",
            Permission::NoSale => "no_sale",
            Permission::CashInOut => "cash_in_out",
            Permission::OpenShift => "open_shift",
            Permission::CloseShift => "close_shift",
            Permission::ViewReports => "view_reports",
            Permission::ViewCosts => "view_costs",
            Permission::ManageCatalog => "manage_catalog",
            Permission::ManageStaff => "manage_staff",
            Permission::ManageSettings => "manage_settings",
            Permission::ExportData => "export_data",
            Permission::ViewAuditLog => "view_audit_log",
            Permission::ApproveOverrides => "approve_overrides",
            Permission::UnlockStaff => "unlock_staff",
            Permission::CloseDay => "close_day",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Back-office permissions: acting on them needs a PIN and a current TOTP code. (Closing a
    /// day is routine; re-opening one is back office and checked where it happens.)
    pub fn is_back_office(self) -> bool {
        matches!(
            self,
            Permission::ManageStaff | Permission::ManageSettings | Permission::ExportData | Permission::ViewAuditLog
        )
    }

    fn bit(self) -> u64 {
        1 << (self as u8)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of permissions, stored as the integer of its bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions(u64);

impl Permissions {
    pub const NONE: Permissions = Permissions(0);

    pub fn all() -> Permissions {
        Permissions::of(&Permission::ALL)
    }

    pub fn of(list: &[Permission]) -> Permissions {
        Permissions(list.iter().fold(0, |acc, p| acc | p.bit()))
    }

    /// From stored bits; bits that name no permission are dropped.
    pub fn from_bits(bits: u64) -> Permissions {
        Permissions(bits & Permissions::all().0)
    }

    pub fn bits(self) -> u64 {
        self.0
    }

    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    #[must_use]
    pub fn with(self, p: Permission) -> Permissions {
        Permissions(self.0 | p.bit())
    }

    #[must_use]
    pub fn without(self, p: Permission) -> Permissions {
        Permissions(self.0 & !p.bit())
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |p| self.contains(*p))
    }

    /// Names, in bit order (for views, audit details and exports).
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }
}

/// A role is a preset of permissions and limits; per-person flags are changed from there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Manager,
    Supervisor,
    Cashier,
    Trainee,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Owner, Role::Manager, Role::Supervisor, Role::Cashier, Role::Trainee];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
            Role::Supervisor => "supervisor",
            Role::Cashier => "cashier",
            Role::Trainee => "trainee",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The permissions a new staff member of this role starts with.
    pub fn preset(self) -> Permissions {
        use Permission::*;
        match self {
            Role::Owner => Permissions::all(),
            Role::Manager => Permissions::all().without(ManageSettings),
            Role::Supervisor => Permissions::of(&[
                Sell,
                Discount,
                PriceOverride,
                LineVoid,
                OrderVoid,
                Refund,
                NoSale,
                CashInOut,
                OpenShift,
                CloseShift,
                ViewReports,
            ]),
            Role::Cashier => Permissions::of(&[Sell, Discount, LineVoid, CashInOut, OpenShift, CloseShift]),
            Role::Trainee => Permissions::of(&[Sell, LineVoid]),
        }
    }

    /// The largest discount, in basis points, this role grants without approval.
    pub fn max_discount_bp(self) -> u32 {
        match self {
            Role::Owner | Role::Manager => 10_000,
            Role::Supervisor => 2_000,
            Role::Cashier => 1_000,
            Role::Trainee => 0,
        }
    }

    /// Whether this role must have TOTP: owners always (the venue may add roles).
    pub fn totp_required_by_default(self) -> bool {
        self == Role::Owner
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_and_unknown_bits_are_dropped() {
        let p = Permissions::of(&[Permission::Sell, Permission::Refund]);
        assert_eq!(p.bits(), 0b10_0001);
        assert_eq!(Permissions::from_bits(p.bits() | 1 << 63), p);
        assert!(p.contains(Permission::Refund) && !p.contains(Permission::OrderVoid));
        assert_eq!(p.without(Permission::Refund).names(), vec!["sell"]);
        for perm in Permission::ALL {
            assert_eq!(Permission::parse(perm.as_str()), Some(perm));
        }
    }

    #[test]
    fn presets_narrow_from_owner_to_trainee() {
        let order = [Role::Owner, Role::Manager, Role::Supervisor, Role::Cashier, Role::Trainee];
        for w in order.windows(2) {
            let (wide, narrow) = (w[0].preset(), w[1].preset());
            assert!(narrow.iter().all(|p| wide.contains(p)), "{} ⊄ {}", w[1], w[0]);
            assert!(narrow != wide);
        }
        assert!(!Role::Cashier.preset().contains(Permission::Refund));
        assert!(!Role::Cashier.preset().contains(Permission::ViewCosts));
    }
}
