//! Staff security as an attacker at the till would probe it: every privileged operation called
//! directly by a cashier, PIN guessing, override misuse, TOTP replay, auto-lock.

use jiff::SignedDuration;
use pos_app::demo::sign_in_as;
use pos_app::pos_auth::{Permission, Permissions, Role};
use pos_app::pos_core::money::Money;
use pos_app::pos_core::order::Discount;
use pos_app::pos_core::refund::RefundRequest;
use pos_app::pos_core::shift::CashMovementKind;
use pos_app::{
    AppError, AppResult, Clock, ErrorCode, ItemRef, OrderRef, PaymentsScope, Register, Session, StaffAccess,
};

use crate::support::*;

const OWNER: i64 = 1;
const MANAGER: i64 = 2;
const JONAS: i64 = 3;
const LEA: i64 = 4;

fn code<T: std::fmt::Debug>(r: AppResult<T>) -> ErrorCode {
    match r {
        Ok(v) => panic!("expected a refusal, got {v:?}"),
        Err(e) => e.code,
    }
}

fn approval<T: std::fmt::Debug>(r: AppResult<T>) -> Box<pos_app::views::ApprovalRequestView> {
    match r {
        Err(AppError { code: ErrorCode::ApprovalRequired, approval: Some(a), .. }) => a,
        other => panic!("expected approval_required, got {other:?}"),
    }
}

fn advance(fx: &Fixture, secs: i64) {
    fx.clock.advance(SignedDuration::from_secs(secs));
}

/// RFC 6238 written out independently of the register: HMAC-SHA1, dynamic truncation, 6 digits.
fn independent_totp(secret: &[u8], step: u64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret).unwrap();
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    format!("{:06}", bin % 1_000_000)
}

fn step_now(fx: &Fixture) -> u64 {
    fx.clock.now().as_second() as u64 / 30
}

/// Enrols `who`'s authenticator (their own first enrolment) and returns the secret.
fn enrol(fx: &mut Fixture, s: &Session) -> Vec<u8> {
    let view = fx.reg.begin_totp_enrolment(s, s.staff_id()).expect("begin enrolment");
    assert!(view.otpauth_uri.starts_with("otpauth://totp/") && view.otpauth_uri.contains("period=30"));
    assert!(view.qr_svg.contains("<svg"));
    let secret = data_encoding::BASE32_NOPAD.decode(view.secret_base32.as_bytes()).unwrap();
    assert_eq!(secret.len(), 20, "160-bit secret");
    let c = independent_totp(&secret, step_now(fx));
    fx.reg.confirm_totp_enrolment(s, s.staff_id(), &c).expect("confirm enrolment");
    secret
}

/// PIN and a fresh code (the next 30-second step: a step is never accepted twice).
fn elevate(fx: &mut Fixture, s: &Session, pin: &str, secret: &[u8]) {
    advance(fx, 30);
    let c = independent_totp(secret, step_now(fx));
    fx.reg.elevate(s, pin, &c).expect("elevate");
}

fn audit_actions(fx: &mut Fixture, office: &Session) -> Vec<serde_json::Value> {
    let export = fx.reg.export_audit(office).expect("export audit");
    export.entries.iter().map(|e| serde_json::from_str(&e.body).unwrap()).collect()
}

#[test]
fn a_cashier_calling_every_privileged_operation_is_refused_nothing_changes_and_each_refusal_is_audited() {
    let mut fx = demo();
    let manager = sign_in_as(&mut fx.reg, "Mia Keller").unwrap();
    let cashier = sign_in_as(&mut fx.reg, "Jonas Weber").unwrap();
    fx.reg.open_shift(&cashier, eur(15_000)).unwrap();
    let paid = sell_cash(&mut fx.reg, &manager, &[("HOT-00-0", 3)]);
    let order = ring_up(&mut fx.reg, &cashier, &[("BAK-00", 2)]);

    let owner = sign_in_as(&mut fx.reg, "Oskar Brandt").unwrap();
    let secret = enrol(&mut fx, &owner);
    elevate(&mut fx, &owner, "4711", &secret);
    let staff_before = fx.reg.staff_admin(&owner).unwrap();
    let orders_before = fx.reg.orders(&manager, date("2026-01-01"), date("2027-01-01")).unwrap();
    let outbox_before = fx.reg.outbox_status().unwrap();
    let cart_before = fx.reg.order_view(&order).unwrap();
    let policy_before = fx.reg.security_policy();
    let audit_before = fx.reg.verify_audit().unwrap().entries;

    let reg = &mut fx.reg;
    let day = reg.today();
    let c = &cashier;
    let mut denied = 0;
    let mut check = |name: &str, got: ErrorCode, want: ErrorCode| {
        assert_eq!(got, want, "{name}");
        if matches!(want, ErrorCode::PermissionDenied | ErrorCode::ElevationRequired) {
            denied += 1;
        }
    };
    use ErrorCode::{ApprovalRequired as A, PermissionDenied as P};
    let refund = RefundRequest::Lines(vec![(1, qty(1))]);
    check("refund", code(reg.refund(c, &OrderRef::Receipt(paid.receipt_no), &refund, "x")), A);
    check("void paid", code(reg.void_paid_order(c, &OrderRef::Receipt(paid.receipt_no), "x")), A);
    check("void open", code(reg.void_open_order(c, &order, "x")), A);
    check("price override", code(reg.override_price(c, &order, 1, eur(1))), A);
    check("big discount", code(reg.set_line_discount(c, &order, 1, Some(Discount::Percent(5000)))), A);
    check("big order discount", code(reg.set_order_discount(c, &order, Some(Discount::Amount(300)))), A);
    check("no sale", code(reg.no_sale(c, "change")), A);
    check("paid out", code(reg.cash_movement(c, CashMovementKind::PaidOut, eur(5_000), "supplier")), A);
    check("x report", code(reg.x_report(c)), P);
    check("z report", code(reg.z_report(c, None)), P);
    check("daily", code(reg.daily_summary(c, day)), P);
    check("item mix", code(reg.item_mix(c, day, day)), P);
    check("payments", code(reg.payments_report(c, &PaymentsScope::Day(day))), P);
    check("tax export", code(reg.tax_export(c, day, day)), P);
    check("sales export", code(reg.export_sales(c, day, day)), P);
    check("audit export", code(reg.export_audit(c)), P);
    check("catalog import", code(reg.import_catalog(c, &pos_app::demo::demo_catalog()[..1])), P);
    check("staff list", code(reg.staff_admin(c)), P);
    let access = StaffAccess::preset(Role::Owner);
    check("add staff", code(reg.add_staff(c, "Mallory", &access, "9999")), P);
    check("grant self", code(reg.set_staff_access(c, JONAS, &access)), P);
    check("reset pin", code(reg.reset_pin(c, MANAGER, "1111")), P);
    check("deactivate", code(reg.set_staff_active(c, MANAGER, false)), P);
    check("unlock", code(reg.unlock_staff(c, LEA)), P);
    check("enrol other", code(reg.begin_totp_enrolment(c, MANAGER)), P);
    let mut lax = policy_before;
    lax.overrides.refund_above = None;
    check("settings", code(reg.set_security_policy(c, &lax)), P);
    check("close day", code(reg.close_day(c, day)), P);
    check("reopen day", code(reg.reopen_day(c, day)), P);
    // A manager without back-office access cannot change settings either (not even their own).
    check("manager settings", code(reg.set_security_policy(&manager, &lax)), P);
    // Holding manage_staff is not enough without PIN + TOTP just now.
    check("manager staff list", code(reg.staff_admin(&manager)), ErrorCode::ElevationRequired);

    // Nothing changed.
    assert_eq!(fx.reg.staff_admin(&owner).unwrap(), staff_before);
    assert_eq!(fx.reg.orders(&manager, date("2026-01-01"), date("2027-01-01")).unwrap(), orders_before);
    assert_eq!(fx.reg.outbox_status().unwrap(), outbox_before);
    assert_eq!(fx.reg.order_view(&order).unwrap(), cart_before);
    assert_eq!(fx.reg.security_policy(), policy_before);
    assert!(fx.reg.current_shift().unwrap().is_some());

    // Each permission refusal is in the chain, and the chain verifies.
    let entries = audit_actions(&mut fx, &owner);
    let refusals = entries[audit_before as usize..]
        .iter()
        .filter(|e| e["action"] == "permission_denied" && e["outcome"] == "refused")
        .count();
    assert_eq!(refusals, denied, "every permission refusal is audited");
    assert!(fx.reg.verify_audit().unwrap().ok);
}

#[test]
fn pin_guessing_meets_growing_delays_then_a_lock_that_only_a_manager_lifts() {
    let mut fx = demo();
    let reg = &mut fx.reg;
    let policy = reg.security_policy().staff_lockout;
    // Free failures, then each try must wait.
    for i in 0..policy.free_failures {
        assert_eq!(code(reg.sign_in(JONAS, "0000")), ErrorCode::WrongPin, "failure {i}");
    }
    let waited = reg.sign_in(JONAS, "1234").unwrap_err();
    assert_eq!(waited.code, ErrorCode::TooManyAttempts, "even the right PIN waits: {waited:?}");
    assert!(waited.message.contains("try again in"), "{}", waited.message);
    let mut failures = policy.free_failures;
    while failures < policy.lock_after {
        let delay = i64::from(policy.delay_secs(failures));
        advance(&fx, delay - 1);
        assert_eq!(code(fx.reg.sign_in(JONAS, "0000")), ErrorCode::TooManyAttempts, "delay {delay} s holds");
        advance(&fx, 1);
        failures += 1;
        let want = if failures == policy.lock_after { ErrorCode::AccountLocked } else { ErrorCode::WrongPin };
        assert_eq!(code(fx.reg.sign_in(JONAS, "0000")), want, "failure {failures}");
    }
    advance(&fx, 3600);
    assert_eq!(code(fx.reg.sign_in(JONAS, "1234")), ErrorCode::AccountLocked, "locked: the right PIN is refused too");

    // Another cashier cannot lift it; a manager can.
    let lea = sign_in_as(&mut fx.reg, "Lea Schmidt").unwrap();
    assert_eq!(code(fx.reg.unlock_staff(&lea, JONAS)), ErrorCode::PermissionDenied);
    let manager = sign_in_as(&mut fx.reg, "Mia Keller").unwrap();
    fx.reg.unlock_staff(&manager, JONAS).unwrap();
    fx.reg.sign_in(JONAS, "1234").expect("unlocked");

    let owner = sign_in_as(&mut fx.reg, "Oskar Brandt").unwrap();
    let secret = enrol(&mut fx, &owner);
    elevate(&mut fx, &owner, "4711", &secret);
    let entries = audit_actions(&mut fx, &owner);
    let count = |a: &str| {
        entries.iter().filter(|e| e["action"] == a && e["subject"]["staff"] == JONAS).count()
            + entries.iter().filter(|e| e["action"] == a && e["actor"]["id"] == JONAS).count()
    };
    assert_eq!(count("pin_failed"), policy.lock_after as usize, "every failure audited");
    assert_eq!(count("staff_locked"), 1);
    assert_eq!(count("staff_unlocked"), 1);
    assert!(entries.iter().any(|e| e["action"] == "pin_attempt" && e["outcome"] == "refused"), "delayed try audited");
}

#[test]
fn guessing_across_staff_locks_the_register_until_someone_who_may_unlock_signs_in() {
    let mut fx = demo();
    let device = fx.reg.security_policy().device_lockout;
    let targets = [OWNER, MANAGER, LEA];
    let mut n = 0;
    'outer: loop {
        for t in targets {
            advance(&fx, 3600);
            let _ = fx.reg.sign_in(t, "0000");
            n += 1;
            if n == device.lock_after {
                break 'outer;
            }
        }
    }
    advance(&fx, 3600);
    assert_eq!(code(fx.reg.sign_in(JONAS, "1234")), ErrorCode::DeviceLocked, "a cashier cannot sign in");
    // The manager's own account is locked by now (5 failures < 6? then still free): unlock paths
    // differ, so use whoever holds unlock_staff and is not locked.
    fx.reg.sign_in(MANAGER, "2468").or_else(|_| fx.reg.sign_in(OWNER, "4711")).expect("an unlocker signs in");
    fx.reg.sign_in(JONAS, "1234").expect("the register is unlocked");
}

#[test]
fn a_stored_pin_hash_cannot_be_checked_without_the_pepper() {
    use argon2::PasswordVerifier;
    let fx = demo();
    let store_id = {
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(fx.path().join("store.json")).unwrap()).unwrap();
        meta["store_id"].as_str().unwrap().to_owned()
    };
    use pos_app::SecretStore;
    let key = fx.secrets.get(&format!("{store_id}/db-key")).unwrap().unwrap();
    let pepper = fx.secrets.get(&format!("{store_id}/pin-pepper")).unwrap().unwrap();
    let conn = rusqlite::Connection::open(fx.path().join("register.db")).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; PRAGMA cipher_hmac_algorithm = HMAC_SHA256; PRAGMA cipher_page_size = 2048;",
        hex::encode(&key[..])
    ))
    .unwrap();
    let stored: String = conn.query_row("SELECT pin_hash FROM staff WHERE id = ?1", [JONAS], |r| r.get(0)).unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    let parsed = argon2::PasswordHash::new(&stored).unwrap();
    // The hash alone: the right PIN does not verify, so a dictionary of 10^4..10^8 PINs is useless.
    assert!(argon2::Argon2::default().verify_password(b"1234", &parsed).is_err());
    // With the pepper from the credential store it does.
    use hmac::Mac;
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&pepper).unwrap();
    mac.update(b"1234");
    let peppered = mac.finalize().into_bytes();
    assert!(argon2::Argon2::default().verify_password(&peppered, &parsed).is_ok());
}

#[test]
fn override_grants_are_single_use_bound_to_action_and_amount_and_expire() {
    let mut fx = demo();
    let cashier = sign_in_as(&mut fx.reg, "Jonas Weber").unwrap();
    let manager = sign_in_as(&mut fx.reg, "Mia Keller").unwrap();
    fx.reg.open_shift(&cashier, eur(15_000)).unwrap();
    let sale = sell_cash(&mut fx.reg, &cashier, &[("HOT-00-0", 4), ("BAK-00", 4)]);
    let order = OrderRef::Receipt(sale.receipt_no);
    let one_line = RefundRequest::Lines(vec![(1, qty(1))]);

    let req = approval(fx.reg.refund(&cashier, &order, &one_line, "cold"));
    assert_eq!(req.action, "refund");
    assert!(req.reasons.contains(&"customer_return".to_owned()));
    assert!(req.approvers.iter().all(|a| a.id != JONAS), "the requester is never offered as approver");
    assert!(req.approvers.iter().any(|a| a.id == MANAGER));

    // Self-approval, an approver without the right, a wrong PIN, a reason not on offer: refused.
    assert_eq!(
        code(fx.reg.approve(&cashier, &req.request_id, JONAS, "1234", None, "customer_return")),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        code(fx.reg.approve(&cashier, &req.request_id, LEA, "5678", None, "customer_return")),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        code(fx.reg.approve(&cashier, &req.request_id, MANAGER, "0000", None, "customer_return")),
        ErrorCode::WrongPin
    );
    assert_eq!(
        code(fx.reg.approve(&cashier, &req.request_id, MANAGER, "2468", None, "because")),
        ErrorCode::InvalidInput
    );
    // Another session cannot pick up the cashier's request.
    assert_eq!(
        code(fx.reg.approve(&manager, &req.request_id, MANAGER, "2468", None, "customer_return")),
        ErrorCode::NotFound
    );
    let grant = fx.reg.approve(&cashier, &req.request_id, MANAGER, "2468", None, "customer_return").unwrap();
    assert_eq!(grant.approved_by, "Mia Keller");

    // Not for another amount, nor for another action.
    let two = RefundRequest::Lines(vec![(1, qty(2))]);
    approval(fx.reg.refund(&cashier, &order, &two, "cold"));
    approval(fx.reg.void_paid_order(&cashier, &order, "cold"));
    // For exactly that refund: once.
    let refund = fx.reg.refund(&cashier, &order, &one_line, "cold").expect("approved refund");
    assert_eq!(refund.total.minor(), sale.order.lines[0].unit_price.minor());
    approval(fx.reg.refund(&cashier, &order, &one_line, "cold"));

    // Expiry: approved, then used too late.
    let req = approval(fx.reg.refund(&cashier, &order, &one_line, "cold"));
    fx.reg.approve(&cashier, &req.request_id, MANAGER, "2468", None, "damaged").unwrap();
    advance(&fx, i64::from(fx.reg.security_policy().overrides.grant_ttl_secs) + 1);
    approval(fx.reg.refund(&cashier, &order, &one_line, "cold"));

    // A denial is the manager's, with their PIN: the requester cannot deny (and so close) it.
    let req = approval(fx.reg.refund(&cashier, &order, &one_line, "cold"));
    assert_eq!(code(fx.reg.deny(&cashier, &req.request_id, JONAS, "1234")), ErrorCode::PermissionDenied);
    fx.reg.deny(&cashier, &req.request_id, MANAGER, "2468").unwrap();
    assert_eq!(
        code(fx.reg.approve(&cashier, &req.request_id, MANAGER, "2468", None, "damaged")),
        ErrorCode::NotFound,
        "a denied request is gone"
    );

    // Closing with a variance above the threshold is a forced close: a manager approves it.
    let req = approval(fx.reg.close_shift(&cashier, &[(5_000, 1)]));
    assert_eq!(req.action, "force_close_shift");
    fx.reg.approve(&cashier, &req.request_id, MANAGER, "2468", None, "recount_confirmed").unwrap();
    let z = fx.reg.close_shift(&cashier, &[(5_000, 1)]).expect("approved close");
    assert_eq!(z.cash.counted.map(|m| m.minor()), Some(5_000));

    let owner = sign_in_as(&mut fx.reg, "Oskar Brandt").unwrap();
    let secret = enrol(&mut fx, &owner);
    elevate(&mut fx, &owner, "4711", &secret);
    let entries = audit_actions(&mut fx, &owner);
    let approved: Vec<_> =
        entries.iter().filter(|e| e["action"] == "override_approved" && e["outcome"] == "approved").collect();
    assert_eq!(approved.len(), 3);
    assert_eq!(approved[0]["actor"]["name"], "Jonas Weber");
    assert_eq!(approved[0]["approver"]["name"], "Mia Keller");
    assert_eq!(approved[0]["reason"], "customer_return");
    assert_eq!(approved[0]["amount"], refund.total.minor());
    let refund_entry = entries.iter().find(|e| e["action"] == "refund").unwrap();
    assert_eq!(refund_entry["approver"]["name"], "Mia Keller", "the action names its approver");
    assert_eq!(refund_entry["actor"]["name"], "Jonas Weber");
    let outcomes: Vec<&str> = entries
        .iter()
        .filter(|e| e["action"].as_str().is_some_and(|a| a.starts_with("override_")))
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert!(outcomes.contains(&"refused"), "the self-approval attempt is audited: {outcomes:?}");
    assert!(outcomes.contains(&"denied"), "{outcomes:?}");
    assert!(outcomes.contains(&"expired"), "an abandoned grant is audited: {outcomes:?}");
}

#[test]
fn totp_refuses_wrong_replayed_and_stale_codes_and_accepts_an_independent_implementation() {
    let mut fx = demo();
    let owner = sign_in_as(&mut fx.reg, "Oskar Brandt").unwrap();
    // Back office without elevation is refused, and elevation needs an enrolled authenticator.
    assert_eq!(code(fx.reg.staff_admin(&owner)), ErrorCode::ElevationRequired);
    assert_eq!(code(fx.reg.elevate(&owner, "4711", "123456")), ErrorCode::TotpNotEnrolled);
    let secret = enrol(&mut fx, &owner);

    advance(&fx, 30);
    let now = step_now(&fx);
    assert_eq!(code(fx.reg.elevate(&owner, "4711", "000000")), ErrorCode::WrongTotp);
    assert_eq!(code(fx.reg.elevate(&owner, "4711", &independent_totp(&secret, now - 2))), ErrorCode::WrongTotp);
    assert_eq!(code(fx.reg.elevate(&owner, "4711", "12345")), ErrorCode::WrongTotp);
    let good = independent_totp(&secret, now);
    assert_eq!(code(fx.reg.elevate(&owner, "0000", &good)), ErrorCode::WrongPin, "PIN and code, both");
    fx.reg.elevate(&owner, "4711", &good).expect("current code");
    assert_eq!(code(fx.reg.elevate(&owner, "4711", &good)), ErrorCode::WrongTotp, "replayed");
    assert_eq!(
        code(fx.reg.elevate(&owner, "4711", &independent_totp(&secret, now - 1))),
        ErrorCode::WrongTotp,
        "an older step after a newer one"
    );
    assert!(fx.reg.staff_admin(&owner).is_ok());
    // One step ahead is tolerated (a clock a little fast).
    fx.reg.elevate(&owner, "4711", &independent_totp(&secret, now + 1)).expect("next step");

    // Elevation lapses.
    for _ in 0..4 {
        advance(&fx, 90);
        let _ = fx.reg.session_view(&owner).unwrap();
    }
    assert_eq!(code(fx.reg.staff_admin(&owner)), ErrorCode::ElevationRequired);

    // The secret is stored sealed, not in clear.
    drop(fx.reg);
    let db = std::fs::read(fx.dir.path().join("register.db")).unwrap();
    assert!(!db.windows(secret.len()).any(|w| w == secret.as_slice()));
}

#[test]
fn auto_lock_after_idle_time_keeps_the_open_order() {
    let mut fx = demo();
    let cashier = sign_in_as(&mut fx.reg, "Jonas Weber").unwrap();
    fx.reg.open_shift(&cashier, eur(15_000)).unwrap();
    let order = ring_up(&mut fx.reg, &cashier, &[("HOT-00-0", 2)]);
    let before = fx.reg.order_view(&order).unwrap();
    advance(&fx, i64::from(fx.reg.security_policy().auto_lock_secs) + 1);
    assert_eq!(code(fx.reg.add_item(&cashier, &order, ItemRef::Code("BAK-00"), qty(1))), ErrorCode::SessionLocked);
    assert_eq!(code(fx.reg.unlock(&cashier, "5678")), ErrorCode::WrongPin);
    fx.reg.unlock(&cashier, "1234").unwrap();
    assert_eq!(fx.reg.order_view(&order).unwrap(), before, "the open order survived the lock");
    fx.reg.add_item(&cashier, &order, ItemRef::Code("BAK-00"), qty(1)).unwrap();
    fx.reg.lock(&cashier).unwrap();
    assert_eq!(code(fx.reg.open_order(&cashier)), ErrorCode::SessionLocked);
    fx.reg.sign_out(&cashier).unwrap();
    assert_eq!(code(fx.reg.open_order(&cashier)), ErrorCode::NotSignedIn);
    // The next cashier finds the order and can finish it.
    let lea = sign_in_as(&mut fx.reg, "Lea Schmidt").unwrap();
    assert_eq!(fx.reg.open_orders(), vec![order.clone()]);
    let due = fx.reg.order_view(&order).unwrap().total;
    fx.reg.pay(&lea, &order, &[cash(due.minor(), due.currency())]).unwrap();
}

#[test]
fn polling_whether_the_session_is_locked_does_not_keep_it_awake() {
    let mut fx = demo();
    let cashier = sign_in_as(&mut fx.reg, "Jonas Weber").unwrap();
    let idle = i64::from(fx.reg.security_policy().auto_lock_secs);
    // A status bar asks every few seconds; the session still locks after the idle time.
    for _ in 0..(idle / 10) {
        advance(&fx, 10);
        assert!(!fx.reg.session_locked(&cashier).unwrap());
    }
    advance(&fx, 11);
    assert!(fx.reg.session_locked(&cashier).unwrap(), "idle for longer than the policy allows");
    assert_eq!(code(fx.reg.open_order(&cashier)), ErrorCode::SessionLocked);
    fx.reg.unlock(&cashier, "1234").unwrap();
    assert!(!fx.reg.session_locked(&cashier).unwrap());
    fx.reg.sign_out(&cashier).unwrap();
    assert_eq!(code(fx.reg.session_locked(&cashier)), ErrorCode::NotSignedIn);
}

#[test]
fn staff_administration_never_escalates_and_keeps_someone_in_charge() {
    let mut fx = demo();
    let mut owner = sign_in_as(&mut fx.reg, "Oskar Brandt").unwrap();
    let secret = enrol(&mut fx, &owner);
    elevate(&mut fx, &owner, "4711", &secret);

    let trainee = fx.reg.add_staff(&owner, "Tim Braun", &StaffAccess::preset(Role::Trainee), "3690").unwrap();
    assert_eq!(trainee.permissions, vec!["sell", "line_void"]);
    assert_eq!(
        code(fx.reg.add_staff(&owner, "Bad Pin", &StaffAccess::preset(Role::Cashier), "12")),
        ErrorCode::InvalidInput
    );

    // The trainee sells; a discount needs a manager (their limit is 0 %).
    let t = fx.reg.sign_in(trainee.id, "3690").unwrap();
    let cashier = sign_in_as(&mut fx.reg, "Jonas Weber").unwrap();
    fx.reg.open_shift(&cashier, eur(15_000)).unwrap();
    let order = ring_up(&mut fx.reg, &t, &[("HOT-00-0", 1)]);
    approval(fx.reg.set_line_discount(&t, &order, 1, Some(Discount::Percent(500))));

    // A manager with back-office access cannot hand out what they do not hold.
    let manager = sign_in_as(&mut fx.reg, "Mia Keller").unwrap();
    let msecret = enrol(&mut fx, &manager);
    elevate(&mut fx, &manager, "2468", &msecret);
    let mut access = StaffAccess::preset(Role::Cashier);
    access.permissions = access.permissions.with(Permission::ManageSettings);
    assert_eq!(code(fx.reg.set_staff_access(&manager, JONAS, &access)), ErrorCode::PermissionDenied);
    // Nor take over someone who out-ranks them: resetting the owner's PIN would make them the owner.
    assert_eq!(code(fx.reg.reset_pin(&manager, OWNER, "1111")), ErrorCode::PermissionDenied);
    assert_eq!(code(fx.reg.set_staff_active(&manager, OWNER, false)), ErrorCode::PermissionDenied);
    assert_eq!(code(fx.reg.begin_totp_enrolment(&manager, OWNER)), ErrorCode::PermissionDenied);
    fx.reg.sign_in(OWNER, "4711").expect("the owner's PIN is unchanged");
    // …but can grant what they hold, per person.
    access.permissions = Role::Cashier.preset().with(Permission::Refund);
    let jonas = fx.reg.set_staff_access(&manager, JONAS, &access).unwrap();
    assert!(jonas.permissions.contains(&"refund".to_owned()));
    access.permissions = Role::Cashier.preset().without(Permission::Sell);
    fx.reg.set_staff_access(&manager, LEA, &access).unwrap();
    let lea = fx.reg.sign_in(LEA, "5678").unwrap();
    assert_eq!(code(fx.reg.open_order(&lea)), ErrorCode::PermissionDenied, "a removed flag holds at once");

    // The last staff manager cannot be removed.
    owner = sign_in_as(&mut fx.reg, "Oskar Brandt").unwrap();
    elevate(&mut fx, &owner, "4711", &secret);
    fx.reg.set_staff_active(&owner, MANAGER, false).unwrap();
    assert_eq!(code(fx.reg.sign_in(MANAGER, "2468")), ErrorCode::NotFound, "deactivated");
    let mut no_staff = StaffAccess::preset(Role::Owner);
    no_staff.permissions = no_staff.permissions.without(Permission::ManageStaff);
    assert_eq!(code(fx.reg.set_staff_access(&owner, OWNER, &no_staff)), ErrorCode::Conflict);
    assert_eq!(Permissions::from_bits(Role::Owner.preset().bits()), Permissions::all());
}

#[test]
fn a_closed_day_takes_nothing_until_the_back_office_reopens_it() {
    let mut fx = demo();
    let manager = sign_in_as(&mut fx.reg, "Mia Keller").unwrap();
    fx.reg.open_shift(&manager, eur(15_000)).unwrap();
    let day = fx.reg.today();
    assert_eq!(code(fx.reg.close_day(&manager, day)), ErrorCode::Conflict, "a shift is open");
    let x = fx.reg.x_report(&manager).unwrap();
    fx.reg.close_shift(&manager, &pos_app::demo::exact_count(fx.reg.currency(), x.cash.expected.minor())).unwrap();
    fx.reg.close_day(&manager, day).unwrap();
    assert_eq!(code(fx.reg.open_shift(&manager, eur(15_000))), ErrorCode::DayClosed);
    assert_eq!(code(fx.reg.reopen_day(&manager, day)), ErrorCode::ElevationRequired);
    let owner = sign_in_as(&mut fx.reg, "Oskar Brandt").unwrap();
    let secret = enrol(&mut fx, &owner);
    elevate(&mut fx, &owner, "4711", &secret);
    fx.reg.reopen_day(&owner, day).unwrap();
    fx.reg.open_shift(&manager, Money::new(15_000, fx.reg.currency())).unwrap();
}

#[test]
fn sessions_cannot_be_forged_or_outlive_their_staff_member() {
    let mut fx = demo();
    let cashier = sign_in_as(&mut fx.reg, "Jonas Weber").unwrap();
    // A session from another register is unknown here.
    let mut other = demo();
    let foreign = sign_in_as(&mut other.reg, "Oskar Brandt").unwrap();
    assert_eq!(code(fx.reg.x_report(&foreign)), ErrorCode::NotSignedIn);
    let _: &Register = &fx.reg;
    // Deactivating a staff member ends their sessions at once.
    let owner = sign_in_as(&mut fx.reg, "Oskar Brandt").unwrap();
    let secret = enrol(&mut fx, &owner);
    elevate(&mut fx, &owner, "4711", &secret);
    fx.reg.set_staff_active(&owner, JONAS, false).unwrap();
    assert_eq!(code(fx.reg.open_order(&cashier)), ErrorCode::NotSignedIn);
}
