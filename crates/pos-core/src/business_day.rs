//! The business day: the venue-local date a sale counts for. A bar open until 3 a.m. with a cut-off
//! at 5 counts its 2 a.m. sales for the previous evening. Computed in the venue's IANA zone, DST-safe.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusinessDayError {
    #[error("unknown time zone {0:?}")]
    UnknownZone(String),
    #[error("cut-off hour must be 0 to 23, got {0}")]
    BadCutoff(i64),
    #[error("date out of range")]
    OutOfRange,
}

#[derive(Debug, Clone)]
pub struct BusinessDayRule {
    zone: TimeZone,
    zone_name: String,
    cutoff_hour: i8,
}

impl BusinessDayRule {
    pub fn new(zone_name: &str, cutoff_hour: i64) -> Result<BusinessDayRule, BusinessDayError> {
        if !(0..=23).contains(&cutoff_hour) {
            return Err(BusinessDayError::BadCutoff(cutoff_hour));
        }
        let zone = TimeZone::get(zone_name).map_err(|_| BusinessDayError::UnknownZone(zone_name.to_owned()))?;
        Ok(BusinessDayRule { zone, zone_name: zone_name.to_owned(), cutoff_hour: cutoff_hour as i8 })
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    pub fn cutoff_hour(&self) -> i64 {
        self.cutoff_hour as i64
    }

    pub fn local(&self, at: Timestamp) -> Zoned {
        at.to_zoned(self.zone.clone())
    }

    /// The business day `at` belongs to.
    pub fn day_of(&self, at: Timestamp) -> Date {
        let local = self.local(at);
        let date = local.date();
        let day = if local.hour() < self.cutoff_hour { date.yesterday().unwrap_or(date) } else { date };
        // When the clocks go back across the cut-off hour (a fold that does not start on the hour),
        // the wall clock passes the cut-off twice: the next day has already started at the first.
        match day.tomorrow() {
            Ok(next) if self.start_of(next).is_ok_and(|start| at >= start) => next,
            _ => day,
        }
    }

    /// When a business day starts: the cut-off hour on that date, in the venue's zone. If that wall
    /// time does not exist (a DST gap), the day starts at the first instant after the gap.
    pub fn start_of(&self, day: Date) -> Result<Timestamp, BusinessDayError> {
        let wall = day.to_datetime(Time::constant(self.cutoff_hour, 0, 0, 0));
        // In a fold the day starts at the first occurrence; in a gap, at the instant the gap ends.
        let amb = self.zone.to_ambiguous_zoned(wall);
        let in_gap = matches!(amb.offset(), jiff::tz::AmbiguousOffset::Gap { .. });
        let first = amb.earlier().map(|z| z.timestamp()).map_err(|_| BusinessDayError::OutOfRange)?;
        if in_gap {
            // `first` read the wall time with the offset after the gap: an instant just before it. The
            // gap ends at the next transition (not at `later()`, which is past the gap's end when the
            // cut-off lies inside the gap rather than at its start).
            return self.zone.following(first).next().map(|t| t.timestamp()).ok_or(BusinessDayError::OutOfRange);
        }
        Ok(first)
    }

    /// The half-open interval of instants `[start, end)` of a business day.
    pub fn bounds(&self, day: Date) -> Result<(Timestamp, Timestamp), BusinessDayError> {
        let next = day.tomorrow().map_err(|_| BusinessDayError::OutOfRange)?;
        Ok((self.start_of(day)?, self.start_of(next)?))
    }

    /// The venue's UTC offset at `at`, in seconds (for receipts and audit entries).
    pub fn offset_seconds(&self, at: Timestamp) -> i32 {
        self.zone.to_offset(at).seconds()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn cutoff_moves_early_hours_to_the_previous_day() {
        let r = BusinessDayRule::new("Europe/Berlin", 4).unwrap();
        // 02:30 local (CET, UTC+1) on 15 Jan belongs to 14 Jan.
        assert_eq!(r.day_of(ts("2026-01-15T01:30:00Z")), date("2026-01-14"));
        assert_eq!(r.day_of(ts("2026-01-15T03:00:00Z")), date("2026-01-15"));
    }

    #[test]
    fn days_around_dst_have_23_and_25_hours() {
        let r = BusinessDayRule::new("Europe/Berlin", 0).unwrap();
        let (s, e) = r.bounds(date("2026-03-29")).unwrap();
        assert_eq!(e.as_second() - s.as_second(), 23 * 3600);
        let (s, e) = r.bounds(date("2026-10-25")).unwrap();
        assert_eq!(e.as_second() - s.as_second(), 25 * 3600);
        // A cut-off inside the spring gap (02:00 does not exist on 29 March) starts at 03:00 CEST.
        let r2 = BusinessDayRule::new("Europe/Berlin", 2).unwrap();
        assert_eq!(r2.start_of(date("2026-03-29")).unwrap(), ts("2026-03-29T01:00:00Z"));
        // In the autumn fold, 02:00 happens twice; the day starts at the first.
        assert_eq!(r2.start_of(date("2026-10-25")).unwrap(), ts("2026-10-25T00:00:00Z"));
    }

    #[test]
    fn sydney_in_april() {
        // Sydney leaves DST on 5 April 2026 at 03:00 AEDT → 02:00 AEST.
        let r = BusinessDayRule::new("Australia/Sydney", 3).unwrap();
        let (s, e) = r.bounds(date("2026-04-04")).unwrap();
        assert_eq!(e.as_second() - s.as_second(), 25 * 3600);
        assert!(BusinessDayRule::new("Mars/Olympus", 3).is_err());
        assert!(BusinessDayRule::new("UTC", 24).is_err());
    }
}
