//! The working-day calendar case SLA clocks run on: Chinese public holidays and make-up
//! workdays (调休) per year, loaded from a small text format, and stage time limits.

use crate::Bilingual;
use crate::people::Date;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// State Council notice on the 2025 holidays.
const CHINA_2025: &str = "\
year 2025
holiday 2025-01-01 元旦
holiday 2025-01-28..2025-02-04 春节
workday 2025-01-26 春节调休
workday 2025-02-08 春节调休
holiday 2025-04-04..2025-04-06 清明节
holiday 2025-05-01..2025-05-05 劳动节
workday 2025-04-27 劳动节调休
holiday 2025-05-31..2025-06-02 端午节
holiday 2025-10-01..2025-10-08 国庆节·中秋节
workday 2025-09-28 国庆节调休
workday 2025-10-11 国庆节调休
";

/// State Council notice on the 2026 holidays.
const CHINA_2026: &str = "\
year 2026
holiday 2026-01-01..2026-01-03 元旦
workday 2026-01-04 元旦调休
holiday 2026-02-15..2026-02-23 春节
workday 2026-02-14 春节调休
workday 2026-02-28 春节调休
holiday 2026-04-04..2026-04-06 清明节
holiday 2026-05-01..2026-05-05 劳动节
workday 2026-05-09 劳动节调休
holiday 2026-06-19..2026-06-21 端午节
holiday 2026-09-25..2026-09-27 中秋节
holiday 2026-10-01..2026-10-07 国庆节
workday 2026-09-20 国庆节调休
workday 2026-10-10 国庆节调休
";

const MS_PER_HOUR: i64 = 3_600_000;

/// ISO weekday of a date: 1 = Monday … 7 = Sunday.
pub fn iso_weekday(d: Date) -> u32 {
    // 1970-01-01 was a Thursday (4).
    (d.days_since_epoch() + 3).rem_euclid(7) as u32 + 1
}

/// One year's rules: days off that would be working days, and weekend days that are working days (调休).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct YearRules {
    pub year: i32,
    pub holidays: BTreeSet<Date>,
    pub workdays: BTreeSet<Date>,
    /// Name per day, for display: the holiday, or what a make-up workday makes up for.
    pub names: BTreeMap<Date, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar line {line}: `year YYYY` must come first, and only once")]
    Year { line: usize },
    #[error(
        "calendar line {line}: cannot read {text:?}; expected `holiday|workday DATE[..DATE] NAME`"
    )]
    Syntax { line: usize, text: String },
    #[error("calendar line {line}: {date} is outside the declared year {year}")]
    OutsideYear { line: usize, date: Date, year: i32 },
    #[error("calendar line {line}: the range ends on {end}, before it starts on {start}")]
    ReversedRange { line: usize, start: Date, end: Date },
    #[error("calendar line {line}: {date} is both a holiday and a working day")]
    Conflict { line: usize, date: Date },
}

impl CalendarError {
    pub fn line(&self) -> usize {
        match self {
            CalendarError::Year { line }
            | CalendarError::Syntax { line, .. }
            | CalendarError::OutsideYear { line, .. }
            | CalendarError::ReversedRange { line, .. }
            | CalendarError::Conflict { line, .. } => *line,
        }
    }
}

impl Bilingual for CalendarError {
    fn code(&self) -> &'static str {
        "invalid_calendar"
    }
    fn zh(&self) -> String {
        let line = self.line();
        let why = match self {
            CalendarError::Year { .. } => "第一项应为“year 年份”，且只能有一项".to_string(),
            CalendarError::Syntax { text, .. } => format!(
                "无法识别“{text}”，应为“holiday|workday 日期[..日期] 名称”，日期如 2026-01-01"
            ),
            CalendarError::OutsideYear { date, year, .. } => format!("{date} 不在 {year} 年内"),
            CalendarError::ReversedRange { start, end, .. } => {
                format!("结束日 {end} 早于开始日 {start}")
            }
            CalendarError::Conflict { date, .. } => format!("{date} 不能既是假日又是调休工作日"),
        };
        format!("节假日安排第 {line} 行：{why}")
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

/// Splits off the first whitespace-separated word.
fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim();
    match s.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (s, ""),
    }
}

fn parse_span(s: &str) -> Option<(Date, Date)> {
    match s.split_once("..") {
        Some((a, b)) => Some((Date::parse(a)?, Date::parse(b)?)),
        None => Date::parse(s).map(|d| (d, d)),
    }
}

impl YearRules {
    /// Reads one year in the text format (`year`, then `holiday`/`workday` lines; `#` comments).
    pub fn parse(text: &str) -> Result<YearRules, CalendarError> {
        let mut rules: Option<YearRules> = None;
        let mut lines = 0;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            lines = line;
            let body = raw.trim();
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            let syntax = || CalendarError::Syntax {
                line,
                text: body.to_string(),
            };
            let (kind, rest) = split_word(body);
            let Some(r) = rules.as_mut() else {
                if kind != "year" {
                    return Err(CalendarError::Year { line });
                }
                // Read through Date so the year line accepts exactly the years dates can have.
                let year = Date::parse(&format!("{rest}-01-01"))
                    .ok_or_else(syntax)?
                    .year();
                rules = Some(YearRules {
                    year,
                    ..YearRules::default()
                });
                continue;
            };
            let working = match kind {
                "holiday" => false,
                "workday" => true,
                "year" => return Err(CalendarError::Year { line }),
                _ => return Err(syntax()),
            };
            let (span, name) = split_word(rest);
            let (start, end) = parse_span(span).ok_or_else(syntax)?;
            if let Some(date) = [start, end].into_iter().find(|d| d.year() != r.year) {
                let year = r.year;
                return Err(CalendarError::OutsideYear { line, date, year });
            }
            if end < start {
                return Err(CalendarError::ReversedRange { line, start, end });
            }
            let mut date = start;
            while date <= end {
                let (mine, other) = if working {
                    (&mut r.workdays, &r.holidays)
                } else {
                    (&mut r.holidays, &r.workdays)
                };
                if other.contains(&date) {
                    return Err(CalendarError::Conflict { line, date });
                }
                mine.insert(date);
                if !name.is_empty() {
                    r.names.entry(date).or_insert_with(|| name.to_string());
                }
                date = date.add_days(1);
            }
        }
        // With no entry at all, point at where the year line is missing: the end of the text.
        rules.ok_or(CalendarError::Year { line: lines + 1 })
    }
}

/// Working days by year; a year without rules has only weekends off.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    years: BTreeMap<i32, YearRules>,
}

impl WorkCalendar {
    /// The State Council schedule for 2025 and 2026, built in.
    pub fn china() -> WorkCalendar {
        let mut cal = WorkCalendar::default();
        for text in [CHINA_2025, CHINA_2026] {
            // The built-in texts are constants checked by the tests below.
            if let Err(e) = cal.load_year(text) {
                panic!("built-in holiday calendar is invalid: {e}");
            }
        }
        cal
    }

    /// Add or replace a year from text. Errors name the line.
    pub fn load_year(&mut self, text: &str) -> Result<i32, CalendarError> {
        let rules = YearRules::parse(text)?;
        let year = rules.year;
        self.years.insert(year, rules);
        Ok(year)
    }

    pub fn years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    pub fn rules(&self, year: i32) -> Option<&YearRules> {
        self.years.get(&year)
    }

    /// Whether a year has rules (outside them, only weekends are days off).
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        match self.years.get(&d.year()) {
            Some(r) if r.workdays.contains(&d) => true,
            Some(r) if r.holidays.contains(&d) => false,
            _ => iso_weekday(d) <= 5,
        }
    }

    pub fn holiday_name(&self, d: Date) -> Option<&str> {
        let r = self
            .years
            .get(&d.year())
            .filter(|r| r.holidays.contains(&d))?;
        r.names.get(&d).map(String::as_str)
    }

    /// The n-th working day strictly after d (n >= 1); n = 0 gives d itself if it is a working day, else the next one.
    pub fn working_day_after(&self, d: Date, n: u32) -> Date {
        // n = 0 is the first working day strictly after the day before.
        let (mut day, mut left) = if n == 0 { (d.add_days(-1), 1) } else { (d, n) };
        while left > 0 {
            day = day.add_days(1);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// Working days in (from, to] — 0 if to <= from.
    pub fn working_days_between(&self, from: Date, to: Date) -> i64 {
        let span = to.days_since_epoch() - from.days_since_epoch();
        (1..=span)
            .filter(|&k| self.is_working_day(from.add_days(k)))
            .count() as i64
    }
}

/// How long a stage may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "unit", content = "n", rename_all = "snake_case")]
pub enum TimeLimit {
    /// Wall-clock hours, holidays included.
    Hours(u32),
    WorkingDays(u32),
    /// 诉求服务不过夜: before midnight CST of the day it starts.
    SameDay,
}

impl TimeLimit {
    /// The deadline (epoch ms) for something starting at `start_ms`.
    pub fn due(self, cal: &WorkCalendar, start_ms: i64) -> i64 {
        let start_day = Date::from_epoch_ms_cst(start_ms);
        let end_of = |d: Date| d.add_days(1).start_epoch_ms_cst();
        match self {
            TimeLimit::Hours(h) => start_ms.saturating_add(i64::from(h) * MS_PER_HOUR),
            // A start on a day off needs no special case: the first working day after it
            // is already the next working day, so Saturday + 1 is Monday.
            TimeLimit::WorkingDays(n) => end_of(cal.working_day_after(start_day, n)),
            TimeLimit::SameDay => end_of(start_day),
        }
    }

    /// Parse "4h", "3wd", "same_day"; the inverse of Display.
    pub fn parse(s: &str) -> Option<TimeLimit> {
        if s == "same_day" {
            return Some(TimeLimit::SameDay);
        }
        let (digits, make): (&str, fn(u32) -> TimeLimit) = match s.strip_suffix("wd") {
            Some(d) => (d, TimeLimit::WorkingDays),
            None => (s.strip_suffix('h')?, TimeLimit::Hours),
        };
        // u32's parser takes a leading '+', which would break the round trip.
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(make)
    }
}

impl fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeLimit::Hours(h) => write!(f, "{h}h"),
            TimeLimit::WorkingDays(n) => write!(f, "{n}wd"),
            TimeLimit::SameDay => f.write_str("same_day"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap_or_else(|| panic!("bad date {s}"))
    }
    /// Epoch ms of a CST wall-clock time.
    fn at(s: &str, hour: i64, minute: i64) -> i64 {
        day(s).start_epoch_ms_cst() + hour * MS_PER_HOUR + minute * 60_000
    }
    /// The day a limit started at `start` (CST) runs to, checking it ends at 24:00 CST.
    fn due_day(cal: &WorkCalendar, limit: &str, start: i64) -> String {
        let t = TimeLimit::parse(limit).unwrap_or_else(|| panic!("{limit}"));
        let due = t.due(cal, start);
        let last = Date::from_epoch_ms_cst(due - 1);
        assert_eq!(due, last.add_days(1).start_epoch_ms_cst());
        last.to_string()
    }

    #[test]
    fn built_in_years_load_and_make_up_days_fall_on_weekends() {
        let cal = WorkCalendar::china();
        assert_eq!(cal.years(), vec![2025, 2026]);
        let counts = |y| cal.rules(y).map(|r| (r.holidays.len(), r.workdays.len()));
        assert_eq!(counts(2025), Some((28, 5)));
        assert_eq!(counts(2026), Some((33, 6)));
        for r in cal.years.values() {
            for d in &r.workdays {
                assert!(iso_weekday(*d) >= 6, "make-up workday {d} is not a weekend");
                assert!(cal.is_working_day(*d));
            }
            for d in &r.holidays {
                assert!(!cal.is_working_day(*d));
                assert!(cal.holiday_name(*d).is_some(), "{d} has no name");
            }
        }
        assert_eq!(iso_weekday(day("1970-01-01")), 4);
        assert_eq!(cal.holiday_name(day("2026-02-17")), Some("春节"));
        assert_eq!(cal.holiday_name(day("2026-02-14")), None);
        assert_eq!(cal.holiday_name(day("2025-10-06")), Some("国庆节·中秋节"));
    }

    #[test]
    fn working_day_deadlines_across_holidays_and_weekends() {
        let cal = WorkCalendar::china();
        // (limit, start day, CST hour, last day): due at 24:00 CST at the end of the last day.
        let cases = [
            ("1wd", "2026-02-13", 10, "2026-02-14"), // Friday before 春节: Saturday make-up day
            ("2wd", "2026-02-13", 10, "2026-02-24"),
            ("1wd", "2026-09-30", 17, "2026-10-08"), // across 国庆
            ("1wd", "2026-09-19", 9, "2026-09-20"),  // Sunday make-up day
            ("0wd", "2026-10-03", 9, "2026-10-08"),
            ("1wd", "2026-03-07", 9, "2026-03-09"), // Saturday start: end of Monday
            ("0wd", "2026-03-07", 9, "2026-03-09"),
            ("1wd", "2026-04-04", 9, "2026-04-07"), // Saturday opening 清明: Monday is off too
            ("1wd", "2026-03-06", 23, "2026-03-09"), // late Friday is still Friday in China
            ("1wd", "2030-01-04", 9, "2030-01-07"), // uncovered year: weekends only
            ("same_day", "2026-03-10", 0, "2026-03-10"), // 00:30 CST is the day before in UTC
            ("same_day", "2026-02-16", 8, "2026-02-16"), // a holiday does not stretch it
        ];
        for (limit, start, hour, last) in cases {
            let got = due_day(&cal, limit, at(start, hour, 30));
            assert_eq!(got, last, "{limit} from {start} {hour}:30");
        }
        let between = |a, b| cal.working_days_between(day(a), day(b));
        assert_eq!(between("2026-02-13", "2026-02-24"), 2);
        assert_eq!(between("2026-09-30", "2026-10-08"), 1);
    }

    #[test]
    fn same_day_ends_at_midnight_china_time() {
        let start = at("2026-03-10", 23, 0);
        let due = TimeLimit::SameDay.due(&WorkCalendar::china(), start);
        assert_eq!(due, start + MS_PER_HOUR);
    }

    #[test]
    fn hours_run_on_the_wall_clock_across_midnight_and_holidays() {
        let cal = WorkCalendar::china();
        let due = |h, start| TimeLimit::Hours(h).due(&cal, start);
        assert_eq!(due(4, at("2026-03-10", 22, 0)), at("2026-03-11", 2, 0));
        assert_eq!(due(48, at("2026-02-15", 12, 0)), at("2026-02-17", 12, 0));
    }

    #[test]
    fn between_and_after_agree() {
        let cal = WorkCalendar::china();
        let between = |a, b| cal.working_days_between(a, b);
        let base = day("2024-11-01");
        for i in 0..3000_i64 {
            let d = base.add_days((i * 7919) % 900);
            let n = ((i * 31) % 40) as u32;
            let after = cal.working_day_after(d, n);
            assert!(cal.is_working_day(after), "{d} + {n}");
            assert_eq!(between(after, d), 0);
            if n == 0 {
                assert!(after >= d && between(d, after) <= 1);
                continue;
            }
            assert_eq!(between(d, after), i64::from(n), "{d} + {n}");
            assert_eq!(between(d, after.add_days(-1)), i64::from(n) - 1);
            let mid = d.add_days((i * 13) % 60);
            if mid <= after {
                assert_eq!(between(d, mid) + between(mid, after), i64::from(n));
            }
        }
    }

    #[test]
    fn load_year_errors_name_the_line() {
        let mut cal = WorkCalendar::china();
        let cases = [
            ("", 1, "must come first"),
            ("# c\nholiday 2026-01-01", 2, "must come first"),
            ("year 26", 1, "cannot read \"year 26\""),
            ("year 2026\n\nyear 2027", 3, "only once"),
            ("year 2026\nholliday 2026-01-01", 2, "cannot read"),
            ("year 2026\nholiday 2026-02-30", 2, "cannot read"),
            ("year 2026\nworkday 2027-01-02", 2, "2027-01-02 is outside"),
            ("year 2026\nholiday 2026-03-05..2026-03-01", 2, "ends on"),
            ("year 2026\nworkday 2026-02-14\nholiday 02-14", 3, "cannot"),
            (
                "year 2026\nworkday 2026-02-14\n#\nholiday 2026-02-14",
                4,
                "both",
            ),
        ];
        for (text, line, fragment) in cases {
            let err = match cal.load_year(text) {
                Ok(y) => panic!("{text:?} loaded as {y}"),
                Err(e) => e,
            };
            assert_eq!(err.line(), line, "{text:?}");
            assert!(err.en().contains(fragment), "{}", err.en());
            assert!(err.en().contains(&format!("line {line}:")));
            assert!(err.zh().contains(&format!("第 {line} 行")));
            assert_eq!(err.code(), "invalid_calendar");
        }
        // Failed loads leave the built-in year untouched; a good one replaces it.
        assert!(!cal.is_working_day(day("2026-02-16")));
        assert_eq!(
            cal.load_year("year 2026\n holiday 2026-03-10 试点 "),
            Ok(2026)
        );
        assert!(cal.is_working_day(day("2026-02-16")));
        assert_eq!(cal.holiday_name(day("2026-03-10")), Some("试点"));
    }

    #[test]
    fn uncovered_year_falls_back_to_weekends() {
        let cal = WorkCalendar::china();
        assert!(!cal.covers(2030) && cal.covers(2026));
        assert!(cal.is_working_day(day("2030-01-01"))); // Tuesday: 元旦 unknown without rules
        assert!(!cal.is_working_day(day("2030-01-05")));
        let january = cal.working_days_between(day("2029-12-31"), day("2030-01-31"));
        assert_eq!(january, 23);
    }

    #[test]
    fn time_limit_text_and_json_round_trip() {
        for s in ["4h", "0h", "3wd", "15wd", "same_day"] {
            let t = TimeLimit::parse(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(t.to_string(), s);
        }
        let bad = "h wd 4 +4h -1h 4hh 3w same-day 99999999999h";
        for s in bad.split(' ').chain(["", "4 h"]) {
            assert_eq!(TimeLimit::parse(s), None, "{s:?}");
        }
        let json = |t: TimeLimit| serde_json::to_string(&t).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(json(TimeLimit::Hours(4)), r#"{"unit":"hours","n":4}"#);
        assert_eq!(json(TimeLimit::SameDay), r#"{"unit":"same_day"}"#);
        let back: Result<TimeLimit, _> = serde_json::from_str(r#"{"unit":"working_days","n":3}"#);
        assert_eq!(back.ok(), Some(TimeLimit::WorkingDays(3)));
    }
}
