//! Civil dates (proleptic Gregorian) without a calendar crate: birth dates, ages, and the
//! day arithmetic later capabilities need. Stored and exchanged as `YYYY-MM-DD`.

use std::fmt;

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

const MS_PER_DAY: i64 = 86_400_000;
/// China Standard Time is UTC+8 all year.
const CST_OFFSET_MS: i64 = 8 * 3_600_000;

impl Date {
    /// A date if the year, month and day form a real day.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date {
            year,
            month: month as u8,
            day: day as u8,
        })
    }

    pub fn year(self) -> i32 {
        self.year
    }
    pub fn month(self) -> u32 {
        u32::from(self.month)
    }
    pub fn day(self) -> u32 {
        u32::from(self.day)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// The date in China (UTC+8) at a UTC instant in epoch milliseconds.
    pub fn from_epoch_ms_cst(ms: i64) -> Date {
        Date::from_days_since_epoch((ms + CST_OFFSET_MS).div_euclid(MS_PER_DAY))
    }

    /// Midnight China time at the start of this date, as UTC epoch milliseconds.
    pub fn start_epoch_ms_cst(self) -> i64 {
        self.days_since_epoch() * MS_PER_DAY - CST_OFFSET_MS
    }

    pub fn add_days(self, days: i64) -> Date {
        Date::from_days_since_epoch(self.days_since_epoch() + days)
    }

    /// Whole years from `self` (a birth date) to `on`.
    pub fn age_on(self, on: Date) -> i32 {
        let mut age = on.year - self.year;
        if (on.month, on.day) < (self.month, self.day) {
            age -= 1;
        }
        age
    }

    /// Parse `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> { s.get(r)?.parse().ok() };
        Date::new(num(0..4)? as i32, num(5..7)?, num(8..10)?)
    }

    /// Parse the 8 digits `YYYYMMDD` of an identity card number.
    pub fn parse_compact(s: &str) -> Option<Date> {
        if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> { s.get(r)?.parse().ok() };
        Date::new(num(0..4)? as i32, num(4..6)?, num(6..8)?)
    }

    /// `YYYYMMDD`.
    pub fn compact(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s).ok_or_else(|| serde::de::Error::custom("expected a date YYYY-MM-DD"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_day_of_four_centuries() {
        let start = Date::new(1800, 1, 1).map(Date::days_since_epoch);
        let Some(start) = start else {
            panic!("valid date")
        };
        let mut prev: Option<Date> = None;
        for d in start..start + 146_097 + 366 * 3 {
            let date = Date::from_days_since_epoch(d);
            assert_eq!(date.days_since_epoch(), d);
            assert_eq!(Date::parse(&date.to_string()), Some(date));
            if let Some(p) = prev {
                assert!(p < date);
            }
            prev = Some(date);
        }
        assert_eq!(Date::from_days_since_epoch(0).to_string(), "1970-01-01");
    }

    #[test]
    fn rejects_impossible_days() {
        assert!(Date::new(2023, 2, 29).is_none());
        assert!(Date::new(2024, 2, 29).is_some());
        assert!(Date::new(1900, 2, 29).is_none());
        assert!(Date::new(2000, 2, 29).is_some());
        assert!(Date::parse("2024-13-01").is_none());
        assert!(Date::parse("2024-1-01").is_none());
        assert!(Date::parse_compact("19900230").is_none());
    }

    #[test]
    fn ages_and_china_time() {
        let b = Date::new(2000, 2, 29).unwrap_or_else(|| panic!());
        let on = |y, m, d| Date::new(y, m, d).unwrap_or_else(|| panic!());
        assert_eq!(b.age_on(on(2024, 2, 28)), 23);
        assert_eq!(b.age_on(on(2024, 2, 29)), 24);
        // 2024-01-01T16:00:00Z is already 2024-01-02 in Chengdu.
        assert_eq!(
            Date::from_epoch_ms_cst(1_704_124_800_000).to_string(),
            "2024-01-02"
        );
        assert_eq!(on(2024, 1, 2).start_epoch_ms_cst(), 1_704_124_800_000);
    }
}
