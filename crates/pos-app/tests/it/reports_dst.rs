//! Reports on known data around daylight-saving changes and the business-day cut-off, for Berlin
//! and Sydney. Each sale sells a distinct power of two of a 1.00 donation, so a day's gross says
//! exactly which sales the day holds.

use jiff::Timestamp;
use jiff::civil::Date;
use pos_app::Session;
use pos_app::pos_core::money::{Currency, Money};
use pos_app::views::SaleReceipt;

use crate::support::*;

/// Sells `units` donations (1.00 each, tax-exempt) by card at `at`.
fn sell_at(f: &mut Fixture, s: &Session, at: &str, units: i64) -> SaleReceipt {
    f.clock.set(ts(at));
    // Hours pass between sales: the cashier's session locked itself meanwhile.
    awake(&mut f.reg, s);
    let order = ring_up(&mut f.reg, s, &[("DON-FOODBANK", units)]);
    let currency = f.reg.currency();
    f.reg.pay(s, &order, &[card(units * 100, currency)]).unwrap_or_else(|e| panic!("sale at {at}: {e}"))
}

struct Expected<'a> {
    day: &'a str,
    orders: i64,
    units: i64,
    from: &'a str,
    to: &'a str,
    hours: i64,
}

/// Checks the reports as the owner sees them in the back office (signing in moves the clock on
/// by 30 s, after the last sale).
fn check_days(f: &mut Fixture, sales: &[(String, SaleReceipt)], days: &[Expected]) {
    let office = f.back_office();
    let currency = f.reg.currency();
    for e in days {
        let d = f.reg.daily_summary(&office, date(e.day)).expect("daily summary");
        assert_eq!(d.business_day, date(e.day));
        assert_eq!(
            (d.summary.order_count, d.summary.gross),
            (e.orders, Money::new(e.units * 100, currency)),
            "day {}",
            e.day
        );
        assert_eq!((d.from.as_str(), d.to.as_str()), (e.from, e.to), "bounds of {}", e.day);
        let (from, to): (Timestamp, Timestamp) = (d.from.parse().expect("from"), d.to.parse().expect("to"));
        assert_eq!(to.as_second() - from.as_second(), e.hours * 3600, "length of {}", e.day);
        // Every sale the day holds lies in [from, to), and every other sale lies outside.
        for (at, r) in sales {
            let t = ts(at);
            let inside = from <= t && t < to;
            assert_eq!(
                inside,
                r.business_day == e.day,
                "sale at {at} (business day {}) against {}",
                r.business_day,
                e.day
            );
        }
    }
    // The other reports see the same days.
    let first = date(days[0].day);
    let last = date(days[days.len() - 1].day);
    let exported = f.reg.export_sales(&office, first, last).expect("export");
    assert_eq!(exported.len(), sales.len());
    let tax = f.reg.tax_export(&office, first, last).expect("tax export");
    for e in days {
        let gross: i64 = tax.rows.iter().filter(|r| r.business_day == date(e.day)).map(|r| r.gross.minor()).sum();
        assert_eq!(gross, e.units * 100, "tax export of {}", e.day);
    }
    let mix = f.reg.item_mix(&office, first, last).expect("item mix");
    let units: i64 = days.iter().map(|e| e.units).sum();
    assert_eq!(mix.products.len(), 1);
    assert_eq!(mix.products[0].quantity, qty(units));
    assert_eq!(f.reg.x_report(&office).expect("the shift is still open").summary.order_count, sales.len() as i64);
}

fn run(f: &mut Fixture, s: &Session, plan: &[(&str, i64, &str)]) -> Vec<(String, SaleReceipt)> {
    plan.iter()
        .map(|(at, units, day)| {
            let r = sell_at(f, s, at, *units);
            assert_eq!(r.business_day, *day, "business day of a sale at {at}");
            (at.to_string(), r)
        })
        .collect()
}

/// Opens a shift at `at` (it stays open across the days of the test) and signs the cashier in once.
fn open_shift_at(f: &mut Fixture, at: &str) -> Session {
    f.clock.set(ts(at));
    let s = cashier(&mut f.reg);
    let float = Money::new(10_000, f.reg.currency());
    f.reg.open_shift(&s, float).expect("open shift");
    s
}

#[test]
fn berlin_spring_forward_with_a_4_am_cutoff() {
    let mut f = custom(&venue("Europe/Berlin", "EUR", 4), ts("2026-03-27T11:00:00Z"));
    let s = open_shift_at(&mut f, "2026-03-27T12:00:00Z");
    // Clocks jump from 02:00 CET (01:00Z) to 03:00 CEST on 29 March; the cut-off is 04:00 local.
    let sales = run(
        &mut f,
        &s,
        &[
            ("2026-03-28T02:55:00Z", 1, "2026-03-27"),  // 03:55 CET, before the cut-off
            ("2026-03-28T03:05:00Z", 2, "2026-03-28"),  // 04:05 CET
            ("2026-03-29T00:59:59Z", 4, "2026-03-28"),  // 01:59:59 CET, the last second before the gap
            ("2026-03-29T01:00:00Z", 8, "2026-03-28"),  // 03:00:00 CEST, the first second after it
            ("2026-03-29T01:59:59Z", 16, "2026-03-28"), // 03:59:59 CEST
            ("2026-03-29T02:00:00Z", 32, "2026-03-29"), // 04:00:00 CEST, the cut-off
            ("2026-03-30T01:55:00Z", 64, "2026-03-29"), // 03:55 CEST
            ("2026-03-30T02:05:00Z", 128, "2026-03-30"),
        ],
    );
    assert_eq!(sales[2].1.paid_at, "2026-03-29T01:59:59+01:00");
    assert_eq!(sales[3].1.paid_at, "2026-03-29T03:00:00+02:00");
    check_days(
        &mut f,
        &sales,
        &[
            Expected {
                day: "2026-03-27",
                orders: 1,
                units: 1,
                from: "2026-03-27T04:00:00+01:00",
                to: "2026-03-28T04:00:00+01:00",
                hours: 24,
            },
            Expected {
                day: "2026-03-28",
                orders: 4,
                units: 30,
                from: "2026-03-28T04:00:00+01:00",
                to: "2026-03-29T04:00:00+02:00",
                hours: 23,
            },
            Expected {
                day: "2026-03-29",
                orders: 2,
                units: 96,
                from: "2026-03-29T04:00:00+02:00",
                to: "2026-03-30T04:00:00+02:00",
                hours: 24,
            },
            Expected {
                day: "2026-03-30",
                orders: 1,
                units: 128,
                from: "2026-03-30T04:00:00+02:00",
                to: "2026-03-31T04:00:00+02:00",
                hours: 24,
            },
        ],
    );
}

#[test]
fn berlin_fall_back_with_a_4_am_cutoff() {
    let mut f = custom(&venue("Europe/Berlin", "EUR", 4), ts("2026-10-23T09:00:00Z"));
    let s = open_shift_at(&mut f, "2026-10-23T10:00:00Z");
    // Clocks go back from 03:00 CEST (01:00Z) to 02:00 CET on 25 October: 02:00–02:59 happens twice.
    let sales = run(
        &mut f,
        &s,
        &[
            ("2026-10-24T01:55:00Z", 1, "2026-10-23"),  // 03:55 CEST
            ("2026-10-24T02:05:00Z", 2, "2026-10-24"),  // 04:05 CEST
            ("2026-10-25T00:30:00Z", 4, "2026-10-24"),  // 02:30 CEST, the first time
            ("2026-10-25T01:30:00Z", 8, "2026-10-24"),  // 02:30 CET, the second time
            ("2026-10-25T02:59:00Z", 16, "2026-10-24"), // 03:59 CET
            ("2026-10-25T03:00:00Z", 32, "2026-10-25"), // 04:00 CET, the cut-off
            ("2026-10-25T03:05:00Z", 64, "2026-10-25"),
        ],
    );
    assert_eq!(sales[2].1.paid_at, "2026-10-25T02:30:00+02:00");
    assert_eq!(sales[3].1.paid_at, "2026-10-25T02:30:00+01:00");
    check_days(
        &mut f,
        &sales,
        &[
            Expected {
                day: "2026-10-23",
                orders: 1,
                units: 1,
                from: "2026-10-23T04:00:00+02:00",
                to: "2026-10-24T04:00:00+02:00",
                hours: 24,
            },
            Expected {
                day: "2026-10-24",
                orders: 4,
                units: 30,
                from: "2026-10-24T04:00:00+02:00",
                to: "2026-10-25T04:00:00+01:00",
                hours: 25,
            },
            Expected {
                day: "2026-10-25",
                orders: 2,
                units: 96,
                from: "2026-10-25T04:00:00+01:00",
                to: "2026-10-26T04:00:00+01:00",
                hours: 24,
            },
        ],
    );
}

#[test]
fn berlin_cutoff_inside_the_gap_and_the_fold() {
    // A 02:00 cut-off: on 29 March 02:00 does not exist (the day starts at 03:00 CEST); on
    // 25 October it happens twice (the day starts at the first).
    let mut f = custom(&venue("Europe/Berlin", "EUR", 2), ts("2026-03-28T09:00:00Z"));
    let s = open_shift_at(&mut f, "2026-03-28T10:00:00Z");
    let sales = run(
        &mut f,
        &s,
        &[
            ("2026-03-29T00:59:59Z", 1, "2026-03-28"), // 01:59:59 CET
            ("2026-03-29T01:00:00Z", 2, "2026-03-29"), // 03:00 CEST
        ],
    );
    check_days(
        &mut f,
        &sales,
        &[
            Expected {
                day: "2026-03-28",
                orders: 1,
                units: 1,
                from: "2026-03-28T02:00:00+01:00",
                to: "2026-03-29T03:00:00+02:00",
                hours: 24,
            },
            Expected {
                day: "2026-03-29",
                orders: 1,
                units: 2,
                from: "2026-03-29T03:00:00+02:00",
                to: "2026-03-30T02:00:00+02:00",
                hours: 23,
            },
        ],
    );

    let mut f = custom(&venue("Europe/Berlin", "EUR", 2), ts("2026-10-24T09:00:00Z"));
    let s = open_shift_at(&mut f, "2026-10-24T10:00:00Z");
    let sales = run(
        &mut f,
        &s,
        &[
            ("2026-10-24T23:59:00Z", 1, "2026-10-24"), // 01:59 CEST
            ("2026-10-25T00:00:00Z", 2, "2026-10-25"), // 02:00 CEST, the first 02:00
            ("2026-10-25T01:30:00Z", 4, "2026-10-25"), // 02:30 CET
        ],
    );
    check_days(
        &mut f,
        &sales,
        &[
            Expected {
                day: "2026-10-24",
                orders: 1,
                units: 1,
                from: "2026-10-24T02:00:00+02:00",
                to: "2026-10-25T02:00:00+02:00",
                hours: 24,
            },
            Expected {
                day: "2026-10-25",
                orders: 2,
                units: 6,
                from: "2026-10-25T02:00:00+02:00",
                to: "2026-10-26T02:00:00+01:00",
                hours: 25,
            },
        ],
    );
}

#[test]
fn sydney_leaves_daylight_saving_in_april() {
    let mut f = custom(&venue("Australia/Sydney", "AUD", 5), ts("2026-04-02T23:00:00Z"));
    assert_eq!(f.reg.currency(), Currency::AUD);
    let s = open_shift_at(&mut f, "2026-04-03T00:00:00Z");
    // 5 April 2026: 03:00 AEDT (16:00Z) becomes 02:00 AEST; the cut-off is 05:00 local.
    let sales = run(
        &mut f,
        &s,
        &[
            ("2026-04-03T17:55:00Z", 1, "2026-04-03"),  // 04:55 AEDT on the 4th
            ("2026-04-03T18:05:00Z", 2, "2026-04-04"),  // 05:05 AEDT
            ("2026-04-04T15:30:00Z", 4, "2026-04-04"),  // 02:30 AEDT on the 5th, the first time
            ("2026-04-04T16:30:00Z", 8, "2026-04-04"),  // 02:30 AEST, the second time
            ("2026-04-04T18:55:00Z", 16, "2026-04-04"), // 04:55 AEST
            ("2026-04-04T19:05:00Z", 32, "2026-04-05"), // 05:05 AEST
        ],
    );
    assert_eq!(sales[2].1.paid_at, "2026-04-05T02:30:00+11:00");
    assert_eq!(sales[3].1.paid_at, "2026-04-05T02:30:00+10:00");
    check_days(
        &mut f,
        &sales,
        &[
            Expected {
                day: "2026-04-03",
                orders: 1,
                units: 1,
                from: "2026-04-03T05:00:00+11:00",
                to: "2026-04-04T05:00:00+11:00",
                hours: 24,
            },
            Expected {
                day: "2026-04-04",
                orders: 4,
                units: 30,
                from: "2026-04-04T05:00:00+11:00",
                to: "2026-04-05T05:00:00+10:00",
                hours: 25,
            },
            Expected {
                day: "2026-04-05",
                orders: 1,
                units: 32,
                from: "2026-04-05T05:00:00+10:00",
                to: "2026-04-06T05:00:00+10:00",
                hours: 24,
            },
        ],
    );
}

#[test]
fn sydney_enters_daylight_saving_in_october() {
    let mut f = custom(&venue("Australia/Sydney", "AUD", 5), ts("2026-10-01T23:00:00Z"));
    let s = open_shift_at(&mut f, "2026-10-02T00:00:00Z");
    // 4 October 2026: 02:00 AEST (16:00Z on the 3rd) becomes 03:00 AEDT.
    let sales = run(
        &mut f,
        &s,
        &[
            ("2026-10-02T18:55:00Z", 1, "2026-10-02"),  // 04:55 AEST on the 3rd
            ("2026-10-02T19:05:00Z", 2, "2026-10-03"),  // 05:05 AEST
            ("2026-10-03T15:59:59Z", 4, "2026-10-03"),  // 01:59:59 AEST on the 4th
            ("2026-10-03T16:00:00Z", 8, "2026-10-03"),  // 03:00:00 AEDT
            ("2026-10-03T17:55:00Z", 16, "2026-10-03"), // 04:55 AEDT
            ("2026-10-03T18:05:00Z", 32, "2026-10-04"), // 05:05 AEDT
        ],
    );
    assert_eq!(sales[3].1.paid_at, "2026-10-04T03:00:00+11:00");
    check_days(
        &mut f,
        &sales,
        &[
            Expected {
                day: "2026-10-02",
                orders: 1,
                units: 1,
                from: "2026-10-02T05:00:00+10:00",
                to: "2026-10-03T05:00:00+10:00",
                hours: 24,
            },
            Expected {
                day: "2026-10-03",
                orders: 4,
                units: 30,
                from: "2026-10-03T05:00:00+10:00",
                to: "2026-10-04T05:00:00+11:00",
                hours: 23,
            },
            Expected {
                day: "2026-10-04",
                orders: 1,
                units: 32,
                from: "2026-10-04T05:00:00+11:00",
                to: "2026-10-05T05:00:00+11:00",
                hours: 24,
            },
        ],
    );
}

#[test]
fn a_day_without_sales_is_empty_and_ranges_must_run_forwards() {
    let mut f = custom(&venue("Europe/Berlin", "EUR", 4), ts("2026-03-29T10:00:00Z"));
    let office = f.back_office();
    let d: Date = date("2026-03-28");
    let s = f.reg.daily_summary(&office, d).expect("summary");
    assert_eq!((s.summary.order_count, s.summary.gross, s.summary.average_ticket), (0, eur(0), eur(0)));
    expect_err(f.reg.export_sales(&office, date("2026-03-29"), d), pos_app::ErrorCode::InvalidInput);
    expect_err(f.reg.item_mix(&office, date("2026-03-29"), d), pos_app::ErrorCode::InvalidInput);
    expect_err(f.reg.tax_export(&office, date("2026-03-29"), d), pos_app::ErrorCode::InvalidInput);
}
