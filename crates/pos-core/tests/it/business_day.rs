//! The business day around DST changes and the cut-off hour, in Berlin and Sydney.
//!
//! 2026 transitions: Berlin springs forward on 29 March at 02:00 CET (01:00Z) and falls back on
//! 25 October at 03:00 CEST (01:00Z). Sydney falls back on 5 April at 03:00 AEDT (4 April 16:00Z)
//! and springs forward on 4 October at 02:00 AEST (3 October 16:00Z).

use jiff::Timestamp;
use jiff::civil::Date;
use pos_core::business_day::{BusinessDayError, BusinessDayRule};
use proptest::prelude::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

/// `day_of(instant)` in `zone` with `cutoff`.
fn check_day(input: (&str, i64, &str), expected: &str) {
    let (zone, cutoff, at) = input;
    let rule = BusinessDayRule::new(zone, cutoff).unwrap();
    assert_eq!(rule.day_of(ts(at)), date(expected), "{zone}, cut-off {cutoff}: {at}");
}

/// `bounds(day)` in `zone` with `cutoff`: (start, end, hours).
fn check_bounds(input: (&str, i64, &str), expected: (&str, &str, i64)) {
    check_bounds_seconds(input, (expected.0, expected.1, expected.2 * 3600));
}

/// `bounds(day)` in `zone` with `cutoff`: (start, end, seconds).
fn check_bounds_seconds(input: (&str, i64, &str), expected: (&str, &str, i64)) {
    let (zone, cutoff, day) = input;
    let rule = BusinessDayRule::new(zone, cutoff).unwrap();
    let (start, end) = rule.bounds(date(day)).unwrap();
    assert_eq!((start, end), (ts(expected.0), ts(expected.1)), "{zone}, cut-off {cutoff}: {day}");
    assert_eq!(end.as_second() - start.as_second(), expected.2, "{zone}, cut-off {cutoff}: {day}");
    // The instants at both edges belong to the day, the one before and the end do not.
    assert_eq!(rule.day_of(start), date(day));
    assert_eq!(rule.day_of(Timestamp::from_second(end.as_second() - 1).unwrap()), date(day));
    assert_ne!(rule.day_of(Timestamp::from_second(start.as_second() - 1).unwrap()), date(day));
    assert_ne!(rule.day_of(end), date(day));
}

#[test]
fn berlin_spring_forward() {
    for (input, expected) in [
        // Cut-off at midnight: 29 March has 23 hours.
        (("Europe/Berlin", 0, "2026-03-28"), ("2026-03-27T23:00:00Z", "2026-03-28T23:00:00Z", 24)),
        (("Europe/Berlin", 0, "2026-03-29"), ("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 23)),
        (("Europe/Berlin", 0, "2026-03-30"), ("2026-03-29T22:00:00Z", "2026-03-30T22:00:00Z", 24)),
        // Cut-off at 02:00, which does not exist on 29 March: the day starts at 03:00 CEST.
        (("Europe/Berlin", 2, "2026-03-28"), ("2026-03-28T01:00:00Z", "2026-03-29T01:00:00Z", 24)),
        (("Europe/Berlin", 2, "2026-03-29"), ("2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z", 23)),
        // Cut-off at 04:00 (after the change): the short night belongs to 28 March.
        (("Europe/Berlin", 4, "2026-03-28"), ("2026-03-28T03:00:00Z", "2026-03-29T02:00:00Z", 23)),
        (("Europe/Berlin", 4, "2026-03-29"), ("2026-03-29T02:00:00Z", "2026-03-30T02:00:00Z", 24)),
    ] {
        check_bounds(input, expected);
    }
    for (input, expected) in [
        // 01:59:59 CET, then 03:00:00 CEST one second later.
        (("Europe/Berlin", 0, "2026-03-29T00:59:59Z"), "2026-03-29"),
        (("Europe/Berlin", 2, "2026-03-29T00:59:59Z"), "2026-03-28"),
        (("Europe/Berlin", 2, "2026-03-29T01:00:00Z"), "2026-03-29"),
        (("Europe/Berlin", 3, "2026-03-29T00:59:59Z"), "2026-03-28"),
        (("Europe/Berlin", 3, "2026-03-29T01:00:00Z"), "2026-03-29"),
        (("Europe/Berlin", 4, "2026-03-29T01:30:00Z"), "2026-03-28"),
        (("Europe/Berlin", 4, "2026-03-29T02:00:00Z"), "2026-03-29"),
        (("Europe/Berlin", 4, "2026-03-28T23:30:00Z"), "2026-03-28"),
    ] {
        check_day(input, expected);
    }
}

#[test]
fn berlin_fall_back() {
    for (input, expected) in [
        (("Europe/Berlin", 0, "2026-10-25"), ("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 25)),
        (("Europe/Berlin", 0, "2026-10-26"), ("2026-10-25T23:00:00Z", "2026-10-26T23:00:00Z", 24)),
        // 02:00 happens twice on 25 October; the day starts at the first.
        (("Europe/Berlin", 2, "2026-10-24"), ("2026-10-24T00:00:00Z", "2026-10-25T00:00:00Z", 24)),
        (("Europe/Berlin", 2, "2026-10-25"), ("2026-10-25T00:00:00Z", "2026-10-26T01:00:00Z", 25)),
        // Cut-off at 03:00: the long night belongs to 24 October.
        (("Europe/Berlin", 3, "2026-10-24"), ("2026-10-24T01:00:00Z", "2026-10-25T02:00:00Z", 25)),
        (("Europe/Berlin", 3, "2026-10-25"), ("2026-10-25T02:00:00Z", "2026-10-26T02:00:00Z", 24)),
        (("Europe/Berlin", 5, "2026-10-24"), ("2026-10-24T03:00:00Z", "2026-10-25T04:00:00Z", 25)),
    ] {
        check_bounds(input, expected);
    }
    for (input, expected) in [
        // 02:30 CEST (first pass) and 02:30 CET (second pass).
        (("Europe/Berlin", 2, "2026-10-25T00:30:00Z"), "2026-10-25"),
        (("Europe/Berlin", 2, "2026-10-25T01:30:00Z"), "2026-10-25"),
        (("Europe/Berlin", 2, "2026-10-24T23:59:59Z"), "2026-10-24"),
        (("Europe/Berlin", 3, "2026-10-25T00:30:00Z"), "2026-10-24"),
        (("Europe/Berlin", 3, "2026-10-25T01:30:00Z"), "2026-10-24"),
        (("Europe/Berlin", 3, "2026-10-25T01:59:59Z"), "2026-10-24"),
        (("Europe/Berlin", 3, "2026-10-25T02:00:00Z"), "2026-10-25"),
    ] {
        check_day(input, expected);
    }
}

#[test]
fn sydney_fall_back_in_april() {
    for (input, expected) in [
        (("Australia/Sydney", 3, "2026-04-04"), ("2026-04-03T16:00:00Z", "2026-04-04T17:00:00Z", 25)),
        (("Australia/Sydney", 3, "2026-04-05"), ("2026-04-04T17:00:00Z", "2026-04-05T17:00:00Z", 24)),
        (("Australia/Sydney", 0, "2026-04-05"), ("2026-04-04T13:00:00Z", "2026-04-05T14:00:00Z", 25)),
        (("Australia/Sydney", 2, "2026-04-05"), ("2026-04-04T15:00:00Z", "2026-04-05T16:00:00Z", 25)),
        (("Australia/Sydney", 5, "2026-04-04"), ("2026-04-03T18:00:00Z", "2026-04-04T19:00:00Z", 25)),
    ] {
        check_bounds(input, expected);
    }
    for (input, expected) in [
        // 02:30 AEDT, then 02:30 AEST an hour later: both before a 03:00 cut-off.
        (("Australia/Sydney", 3, "2026-04-04T15:30:00Z"), "2026-04-04"),
        (("Australia/Sydney", 3, "2026-04-04T16:30:00Z"), "2026-04-04"),
        (("Australia/Sydney", 3, "2026-04-04T16:59:59Z"), "2026-04-04"),
        (("Australia/Sydney", 3, "2026-04-04T17:00:00Z"), "2026-04-05"),
        (("Australia/Sydney", 2, "2026-04-04T15:00:00Z"), "2026-04-05"),
        (("Australia/Sydney", 2, "2026-04-04T16:30:00Z"), "2026-04-05"),
        (("Australia/Sydney", 2, "2026-04-04T14:59:59Z"), "2026-04-04"),
    ] {
        check_day(input, expected);
    }
}

#[test]
fn sydney_spring_forward_in_october() {
    for (input, expected) in [
        (("Australia/Sydney", 0, "2026-10-04"), ("2026-10-03T14:00:00Z", "2026-10-04T13:00:00Z", 23)),
        // 02:00 does not exist on 4 October: that day starts at 03:00 AEDT.
        (("Australia/Sydney", 2, "2026-10-03"), ("2026-10-02T16:00:00Z", "2026-10-03T16:00:00Z", 24)),
        (("Australia/Sydney", 2, "2026-10-04"), ("2026-10-03T16:00:00Z", "2026-10-04T15:00:00Z", 23)),
        (("Australia/Sydney", 3, "2026-10-03"), ("2026-10-02T17:00:00Z", "2026-10-03T16:00:00Z", 23)),
        (("Australia/Sydney", 3, "2026-10-04"), ("2026-10-03T16:00:00Z", "2026-10-04T16:00:00Z", 24)),
        (("Australia/Sydney", 5, "2026-10-03"), ("2026-10-02T19:00:00Z", "2026-10-03T18:00:00Z", 23)),
    ] {
        check_bounds(input, expected);
    }
    for (input, expected) in [
        // 01:59:59 AEST, then 03:00:00 AEDT.
        (("Australia/Sydney", 2, "2026-10-03T15:59:59Z"), "2026-10-03"),
        (("Australia/Sydney", 2, "2026-10-03T16:00:00Z"), "2026-10-04"),
        (("Australia/Sydney", 3, "2026-10-03T15:59:59Z"), "2026-10-03"),
        (("Australia/Sydney", 3, "2026-10-03T16:00:00Z"), "2026-10-04"),
        (("Australia/Sydney", 0, "2026-10-03T13:59:59Z"), "2026-10-03"),
        (("Australia/Sydney", 0, "2026-10-03T14:00:00Z"), "2026-10-04"),
    ] {
        check_day(input, expected);
    }
}

#[test]
fn cutoff_inside_a_gap_that_does_not_start_on_the_hour() {
    // The Chatham Islands spring forward on 27 September 2026 at 02:45 (+12:45) to 03:45 (+13:45),
    // i.e. at 2026-09-26T14:00:00Z. 03:00 does not exist that night, so with a 03:00 cut-off the
    // day starts when the gap ends: 14:00Z, and 03:50 local (14:05Z) already belongs to it. The two
    // days have 23 h 45 min and 23 h 15 min.
    check_bounds_seconds(
        ("Pacific/Chatham", 3, "2026-09-26"),
        ("2026-09-25T14:15:00Z", "2026-09-26T14:00:00Z", 23 * 3600 + 45 * 60),
    );
    check_bounds_seconds(
        ("Pacific/Chatham", 3, "2026-09-27"),
        ("2026-09-26T14:00:00Z", "2026-09-27T13:15:00Z", 23 * 3600 + 15 * 60),
    );
    check_day(("Pacific/Chatham", 3, "2026-09-26T13:59:59Z"), "2026-09-26");
    check_day(("Pacific/Chatham", 3, "2026-09-26T14:05:00Z"), "2026-09-27");
}

#[test]
fn cutoff_inside_a_fold_that_does_not_start_on_the_hour() {
    // The Chatham Islands fall back on 5 April 2026 at 03:45 (+13:45) to 02:45 (+12:45), i.e. at
    // 2026-04-04T14:00:00Z. With a 03:00 cut-off, 5 April starts at the first 03:00 (13:15Z); the
    // second pass through 02:45..03:00 (14:00Z..14:15Z) comes after that and belongs to 5 April.
    check_bounds(("Pacific/Chatham", 3, "2026-04-04"), ("2026-04-03T13:15:00Z", "2026-04-04T13:15:00Z", 24));
    check_bounds(("Pacific/Chatham", 3, "2026-04-05"), ("2026-04-04T13:15:00Z", "2026-04-05T14:15:00Z", 25));
    for (input, expected) in [
        (("Pacific/Chatham", 3, "2026-04-04T13:14:59Z"), "2026-04-04"),
        (("Pacific/Chatham", 3, "2026-04-04T13:15:00Z"), "2026-04-05"),
        (("Pacific/Chatham", 3, "2026-04-04T13:59:59Z"), "2026-04-05"),
        (("Pacific/Chatham", 3, "2026-04-04T14:05:00Z"), "2026-04-05"),
        (("Pacific/Chatham", 3, "2026-04-04T14:15:00Z"), "2026-04-05"),
    ] {
        check_day(input, expected);
    }
}

#[test]
fn around_the_cutoff_on_an_ordinary_day() {
    for (input, expected) in [
        // 04:59:59 and 05:00:00 CET with a 05:00 cut-off.
        (("Europe/Berlin", 5, "2026-01-15T03:59:59Z"), "2026-01-14"),
        (("Europe/Berlin", 5, "2026-01-15T04:00:00Z"), "2026-01-15"),
        (("Europe/Berlin", 5, "2026-01-15T22:59:59Z"), "2026-01-15"),
        (("Europe/Berlin", 5, "2026-01-15T23:00:00Z"), "2026-01-15"),
        (("Europe/Berlin", 0, "2026-01-15T22:59:59Z"), "2026-01-15"),
        (("Europe/Berlin", 0, "2026-01-15T23:00:00Z"), "2026-01-16"),
        (("Europe/Berlin", 23, "2026-01-15T21:59:59Z"), "2026-01-14"),
        (("Europe/Berlin", 23, "2026-01-15T22:00:00Z"), "2026-01-15"),
        // Sydney in January is AEDT (UTC+11).
        (("Australia/Sydney", 4, "2026-01-14T16:59:59Z"), "2026-01-14"),
        (("Australia/Sydney", 4, "2026-01-14T17:00:00Z"), "2026-01-15"),
        // 1 January: the early hours belong to New Year's Eve.
        (("Europe/Berlin", 5, "2026-01-01T02:00:00Z"), "2025-12-31"),
    ] {
        check_day(input, expected);
    }
    check_bounds(("Europe/Berlin", 5, "2026-01-15"), ("2026-01-15T04:00:00Z", "2026-01-16T04:00:00Z", 24));
    let rule = BusinessDayRule::new("Europe/Berlin", 5).unwrap();
    assert_eq!(rule.offset_seconds(ts("2026-01-15T12:00:00Z")), 3600);
    assert_eq!(rule.offset_seconds(ts("2026-07-15T12:00:00Z")), 7200);
    assert_eq!((rule.zone_name(), rule.cutoff_hour()), ("Europe/Berlin", 5));
}

#[test]
fn rule_refusals() {
    fn check(input: (&str, i64), expected: Option<BusinessDayError>) {
        assert_eq!(BusinessDayRule::new(input.0, input.1).err(), expected, "{input:?}");
    }
    check(("Europe/Berlin", 0), None);
    check(("Europe/Berlin", 23), None);
    check(("Europe/Berlin", 24), Some(BusinessDayError::BadCutoff(24)));
    check(("Europe/Berlin", -1), Some(BusinessDayError::BadCutoff(-1)));
    check(("Mars/Olympus", 3), Some(BusinessDayError::UnknownZone("Mars/Olympus".into())));
    check(("", 3), Some(BusinessDayError::UnknownZone(String::new())));
}

proptest! {
    /// Every instant falls inside the bounds of its own business day, and consecutive days meet.
    #[test]
    fn day_of_and_bounds_agree(
        zone in prop::sample::select(vec![
            "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe", "America/New_York",
            "America/Santiago", "Pacific/Chatham", "Asia/Kolkata", "UTC",
        ]),
        cutoff in 0i64..24,
        // 2025-06-01 to 2027-06-01.
        second in 1_748_736_000i64..1_811_808_000,
    ) {
        let rule = BusinessDayRule::new(zone, cutoff).unwrap();
        let at = Timestamp::from_second(second).unwrap();
        let day = rule.day_of(at);
        let (start, end) = rule.bounds(day).unwrap();
        prop_assert!(start <= at && at < end, "{} cut-off {}: {} not in {} .. {} of {}", zone, cutoff, at, start, end, day);
        let hours = end.as_second() - start.as_second();
        prop_assert!((22 * 3600..=26 * 3600).contains(&hours), "{} has {} s", day, hours);
        prop_assert_eq!(rule.start_of(day.tomorrow().unwrap()).unwrap(), end);
    }
}

/// Every cut-off hour, every five minutes from 30 hours before to 30 hours after each 2026 DST
/// transition of zones with whole-hour, half-hour and 45-minute offsets: every instant lies inside
/// the bounds of its own business day.
#[test]
fn day_of_and_bounds_agree_around_every_2026_transition() {
    let zones = [
        "Europe/Berlin",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "America/New_York",
        "America/Santiago",
        "Pacific/Chatham",
    ];
    let from = ts("2026-01-01T00:00:00Z");
    let to = ts("2027-01-01T00:00:00Z");
    for zone in zones {
        let tz = jiff::tz::TimeZone::get(zone).unwrap();
        let transitions: Vec<Timestamp> = tz.following(from).map(|t| t.timestamp()).take_while(|t| *t < to).collect();
        assert_eq!(transitions.len(), 2, "{zone} changes its clocks twice in 2026");
        for cutoff in 0..24 {
            let rule = BusinessDayRule::new(zone, cutoff).unwrap();
            for t in &transitions {
                for step in -360..=360 {
                    let at = Timestamp::from_second(t.as_second() + step * 300).unwrap();
                    let day = rule.day_of(at);
                    let (start, end) = rule.bounds(day).unwrap();
                    assert!(
                        start <= at && at < end,
                        "{zone}, cut-off {cutoff}: {at} is not in {start} .. {end} of {day}"
                    );
                }
            }
        }
    }
}
