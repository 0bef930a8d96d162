//! The outbox: one record per state change, written with it; gapless sequence numbers, unique
//! UUIDv7 op ids, SHA-256 payload hashes; acknowledged records leave the pending list.

use std::collections::HashSet;

use jiff::SignedDuration;
use pos_app::pos_core::money::Currency;
use pos_app::pos_core::order::Discount;
use pos_app::pos_core::refund::RefundRequest;
use pos_app::pos_core::shift::CashMovementKind;
use pos_app::{ErrorCode, ItemRef, OrderRef, Register};
use pos_sync_protocol::Operation;
use sha2::{Digest, Sha256};

use crate::support::*;

fn pending(reg: &Register) -> Vec<(i64, String)> {
    reg.outbox_pending(i64::MAX).expect("pending").into_iter().map(|r| (r.seq, r.kind)).collect()
}

/// Runs `action` and asserts it appended exactly one record of `kind`, numbered one past the last.
#[track_caller]
fn one_record<T>(reg: &mut Register, kind: &str, action: impl FnOnce(&mut Register) -> T) -> T {
    let before = pending(reg);
    let out = action(reg);
    let after = pending(reg);
    assert_eq!(after.len(), before.len() + 1, "{kind}: expected exactly one new record");
    assert_eq!(&after[..before.len()], &before[..], "{kind}: earlier records changed");
    let next = before.last().map_or(1, |(seq, _)| seq + 1);
    assert_eq!(after.last(), Some(&(next, kind.to_owned())));
    out
}

/// Runs `action` and asserts the outbox did not change.
#[track_caller]
fn no_record<T>(reg: &mut Register, action: impl FnOnce(&mut Register) -> T) -> T {
    let before = reg.outbox_pending(i64::MAX).expect("pending");
    let out = action(reg);
    assert_eq!(reg.outbox_pending(i64::MAX).expect("pending"), before);
    out
}

#[test]
fn every_state_change_writes_exactly_one_record() {
    let mut f = demo();
    let s = cashier(&mut f.reg);
    let m = manager(&mut f.reg);
    let reg = &mut f.reg;
    // A minute passes; both stay at the register (their sessions would lock after two idle minutes).
    let tick = |reg: &mut Register| {
        f.clock.advance(SignedDuration::from_mins(1));
        awake(reg, &s);
        awake(reg, &m);
    };

    tick(reg);
    let shift = one_record(reg, "shift_opened", |r| r.open_shift(&s, eur(15_000))).expect("shift");
    tick(reg);
    let r1 = one_record(reg, "sale_recorded", |r| sell_cash(r, &s, &[("HOT-03-0", 1), ("BAK-00", 2)]));
    assert_eq!(r1.outbox_seq, 2);
    tick(reg);
    let r2 = one_record(reg, "sale_recorded", |r| {
        let o = ring_up(r, &s, &[("LUN-07", 1)]);
        r.pay(&s, &o, &[card(500, Currency::EUR), cash(500, Currency::EUR)]).expect("split")
    });
    assert_eq!(r2.outbox_seq, 3);
    tick(reg);
    one_record(reg, "cash_moved", |r| r.cash_movement(&s, CashMovementKind::PaidOut, eur(1240), "milk"))
        .expect("paid out");
    tick(reg);
    one_record(reg, "cash_moved", |r| r.cash_movement(&s, CashMovementKind::PaidIn, eur(500), "coins from the bank"))
        .expect("paid in");
    tick(reg);
    let v = one_record(reg, "order_voided", |r| {
        let o = ring_up(r, &s, &[("HOT-00-0", 1)]);
        r.void_open_order(&m, &o, "customer left").expect("void unpaid")
    });
    assert_eq!(v.outbox_seq, Some(6));
    tick(reg);
    let v = one_record(reg, "order_voided", |r| r.void_paid_order(&m, &OrderRef::Receipt(2), "rung up twice"))
        .expect("void paid");
    assert_eq!(v.outbox_seq, Some(7));
    tick(reg);
    let rf = one_record(reg, "refund_recorded", |r| {
        r.refund(&m, &OrderRef::Receipt(1), &RefundRequest::Lines(vec![(2, qty(1))]), "stale")
    })
    .expect("line refund");
    assert_eq!(rf.outbox_seq, 8);
    tick(reg);
    let rw =
        one_record(reg, "refund_recorded", |r| r.refund(&m, &OrderRef::Receipt(1), &RefundRequest::Whole, "stale"))
            .expect("refund");

    // Things that change nothing on record write nothing, and refused requests write nothing.
    let o = no_record(reg, |r| {
        let o = r.open_order(&s).expect("open");
        r.add_item(&s, &o, ItemRef::Code("HOT-00-0"), qty(2)).expect("add");
        r.set_line_discount(&s, &o, 1, Some(Discount::Percent(500))).expect("discount");
        r.set_quantity(&s, &o, 1, qty(1)).expect("qty");
        r.remove_line(&s, &o, 1).expect("remove");
        r.void_open_order(&s, &o, "empty").expect("void empty");
        r.x_report(&m).expect("x");
        r.daily_summary(&m, r.today()).expect("summary");
        expect_err(r.open_shift(&s, eur(0)), ErrorCode::Conflict);
        expect_err(r.refund(&m, &OrderRef::Receipt(1), &RefundRequest::Whole, "again"), ErrorCode::Conflict);
        expect_err(r.cash_movement(&s, CashMovementKind::PaidOut, eur(100), " "), ErrorCode::InvalidInput);
        let o = ring_up(r, &s, &[("HOT-00-0", 1)]);
        expect_err(r.pay(&s, &o, &[cash(100, Currency::EUR)]), ErrorCode::InsufficientTender);
        o
    });
    tick(reg);
    one_record(reg, "order_voided", |r| r.void_open_order(&m, &o, "no money")).expect("void");

    tick(reg);
    let x = reg.x_report(&m).expect("x");
    let z = one_record(reg, "shift_closed", |r| r.close_shift(&m, &[(10_000, 1), (5000, 1)])).expect("close");
    tick(reg);
    one_record(reg, "shift_opened", |r| r.open_shift(&s, eur(15_000))).expect("next shift");

    // The whole log: 1..=12, unique UUIDv7 op ids, SHA-256 of the payload, payload of the right kind.
    let records = reg.outbox_pending(i64::MAX).expect("pending");
    let seqs: Vec<i64> = records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=12).collect::<Vec<i64>>());
    let mut ids = HashSet::new();
    for r in &records {
        let id = uuid::Uuid::parse_str(&r.op_id).unwrap_or_else(|e| panic!("op id {:?}: {e}", r.op_id));
        assert_eq!(id.get_version_num(), 7, "op id {} is not a UUIDv7", r.op_id);
        assert_eq!(id.to_string(), r.op_id, "op ids are lower-case hyphenated");
        assert!(ids.insert(r.op_id.clone()), "op id {} repeats", r.op_id);
        let hash: [u8; 32] = Sha256::digest(&r.payload).into();
        assert_eq!(r.payload_hash, hash, "record {}", r.seq);
        let op = Operation::decode(&r.payload).unwrap_or_else(|e| panic!("record {} does not decode: {e}", r.seq));
        assert_eq!(op.kind(), r.kind);
        assert_eq!(op.encode(), r.payload, "the payload is the canonical encoding");
        assert_eq!(r.acked_at, None);
    }
    assert!(records.windows(2).all(|w| w[0].created_at <= w[1].created_at));
    assert_eq!(records[0].created_at, ts(T0).as_microsecond() + 60_000_000);

    // Payloads carry what happened.
    match Operation::decode(&records[0].payload).expect("decode") {
        Operation::ShiftOpened(o) => {
            assert_eq!((o.shift_id.as_str(), o.float, o.currency.as_str()), (shift.shift_id.as_str(), 15_000, "EUR"));
            assert_eq!(o.business_day, "2026-06-15");
        }
        other => panic!("record 1 is {other:?}"),
    }
    match Operation::decode(&records[1].payload).expect("decode") {
        Operation::SaleRecorded(o) => {
            assert_eq!((o.order_id.as_str(), o.receipt_no, o.total), (r1.order_id.as_str(), 1, 840));
            assert_eq!((o.lines.len(), o.payments.len(), o.shift_id.as_str()), (2, 1, shift.shift_id.as_str()));
            assert_eq!(o.paid_at, "2026-06-15T08:02:00.000000Z");
        }
        other => panic!("record 2 is {other:?}"),
    }
    match Operation::decode(&records[2].payload).expect("decode") {
        Operation::SaleRecorded(o) => {
            let pays: Vec<(&str, i64)> = o.payments.iter().map(|p| (p.kind.as_str(), p.amount)).collect();
            assert_eq!(pays, vec![("card", 500), ("cash", 290)]);
            let card = o.payments[0].card.as_ref().expect("card details");
            assert_eq!((card.last4.as_str(), card.auth_code.as_str()), ("4242", "A1B2C3"));
        }
        other => panic!("record 3 is {other:?}"),
    }
    match Operation::decode(&records[3].payload).expect("decode") {
        Operation::CashMoved(o) => {
            assert_eq!((o.kind.as_str(), o.amount, o.reason.as_str()), ("paid_out", 1240, "milk"))
        }
        other => panic!("record 4 is {other:?}"),
    }
    match Operation::decode(&records[6].payload).expect("decode") {
        Operation::OrderVoided(o) => {
            assert_eq!((o.was_paid, o.receipt_no, o.total), (true, Some(2), 790))
        }
        other => panic!("record 7 is {other:?}"),
    }
    match Operation::decode(&records[8].payload).expect("decode") {
        Operation::RefundRecorded(o) => {
            assert_eq!(
                (o.refund_id.as_str(), o.total, o.receipt_no),
                (rw.refund_id.as_str(), rw.total.minor(), rw.receipt_no)
            );
            let back: i64 = o.payouts.iter().map(|p| p.amount).sum();
            assert_eq!(back, o.total);
        }
        other => panic!("record 9 is {other:?}"),
    }
    match Operation::decode(&records[10].payload).expect("decode") {
        Operation::ShiftClosed(o) => {
            assert_eq!(o.expected_cash, x.cash.expected.minor());
            assert_eq!((o.counted_cash, o.variance), (15_000, 15_000 - o.expected_cash));
            assert_eq!(Some(eur(o.variance)), z.cash.variance);
            assert_eq!(o.count, vec![(10_000, 1), (5000, 1)]);
        }
        other => panic!("record 11 is {other:?}"),
    }
    let doctor = reg.doctor("in-memory").expect("doctor");
    assert!(doctor.integrity.is_empty(), "{:?}", doctor.integrity);
    assert_eq!(doctor.outbox.depth, 12);
}

#[test]
fn acknowledged_records_leave_the_pending_list_and_numbering_goes_on() {
    let mut f = demo();
    let s = cashier(&mut f.reg);
    f.reg.open_shift(&s, eur(0)).expect("shift");
    for _ in 0..4 {
        f.clock.advance(SignedDuration::from_mins(10));
        awake(&mut f.reg, &s);
        sell_card(&mut f.reg, &s, &[("HOT-00-0", 1)]);
    }
    let status = f.reg.outbox_status().expect("status");
    assert_eq!(status.depth, 5);
    assert_eq!(status.oldest_created_at.as_deref(), Some("2026-06-15T10:00:00+02:00"));
    assert_eq!(status.oldest_age_seconds, Some(40 * 60));

    // The sync client takes the oldest first, a few at a time.
    let batch = f.reg.outbox_pending(2).expect("batch");
    assert_eq!(batch.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2]);
    let ids: Vec<(i64, &str)> = batch.iter().map(|r| (r.seq, r.op_id.as_str())).collect();
    f.clock.advance(SignedDuration::from_mins(1));
    let n = f
        .reg
        .outbox_acknowledge(&[ids[0], ids[1], (3, "01890000-0000-7000-8000-000000000000"), (99, ids[0].1)])
        .expect("ack");
    assert_eq!(n, 2, "pairs that match no record are ignored");
    assert_eq!(f.reg.outbox_acknowledge(&ids).expect("ack again"), 0, "a record is acknowledged once");
    let left: Vec<i64> = f.reg.outbox_pending(i64::MAX).expect("pending").iter().map(|r| r.seq).collect();
    assert_eq!(left, vec![3, 4, 5]);
    let status = f.reg.outbox_status().expect("status");
    assert_eq!(status.depth, 3);
    assert_eq!(status.oldest_created_at.as_deref(), Some("2026-06-15T10:20:00+02:00"));

    // Acknowledgements may arrive out of order.
    let fourth = f.reg.outbox_pending(i64::MAX).expect("pending")[1].clone();
    assert_eq!(f.reg.outbox_acknowledge(&[(fourth.seq, &fourth.op_id)]).expect("ack"), 1);
    let left: Vec<i64> = f.reg.outbox_pending(i64::MAX).expect("pending").iter().map(|r| r.seq).collect();
    assert_eq!(left, vec![3, 5]);

    // New records continue the sequence, and acknowledgements survive a restart.
    let r = sell_card(&mut f.reg, &s, &[("HOT-00-0", 1)]);
    assert_eq!(r.outbox_seq, 6);
    let f = f.reopen();
    let left: Vec<i64> = f.reg.outbox_pending(i64::MAX).expect("pending").iter().map(|r| r.seq).collect();
    assert_eq!(left, vec![3, 5, 6]);
    assert_eq!(f.reg.outbox_status().expect("status").depth, 3);
    assert!(f.reg.doctor("in-memory").expect("doctor").integrity.is_empty());
}
