//! Resident identity card numbers (公民身份号码, GB 11643-1999): 6-digit area code, 8-digit
//! birth date, 3-digit sequence (odd for men, even for women) and an ISO 7064 MOD 11-2
//! check character. Parsed once at the edge; masked whenever shown.

use super::Sex;
use super::date::Date;
use crate::Bilingual;
use std::fmt;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [u8; 11] = *b"10X98765432";

/// A well-formed 18-character identity card number. Never printed in full by `Debug`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

/// Why a string is not an identity card number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdCardError {
    #[error("identity card number must have 18 characters, got {0}")]
    Length(usize),
    #[error("identity card number must be 17 digits then a digit or X")]
    Characters,
    #[error("identity card area code {0} is not a valid division")]
    Area(String),
    #[error("identity card birth date {0} is not a real date in the past")]
    BirthDate(String),
    #[error("identity card check character is wrong")]
    Checksum,
}

impl Bilingual for IdCardError {
    fn code(&self) -> &'static str {
        match self {
            IdCardError::Length(_) => "id_card_length",
            IdCardError::Characters => "id_card_characters",
            IdCardError::Area(_) => "id_card_area",
            IdCardError::BirthDate(_) => "id_card_birth_date",
            IdCardError::Checksum => "id_card_checksum",
        }
    }
    fn zh(&self) -> String {
        match self {
            IdCardError::Length(n) => format!("身份证号码应为 18 位，实际为 {n} 位"),
            IdCardError::Characters => "身份证号码前 17 位应为数字，最后一位为数字或 X".into(),
            IdCardError::Area(a) => format!("身份证号码的地址码 {a} 无效"),
            IdCardError::BirthDate(d) => format!("身份证号码中的出生日期 {d} 不是有效的过去日期"),
            IdCardError::Checksum => "身份证号码校验位错误，请核对号码".into(),
        }
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

/// The check character for the first 17 digits.
pub fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

impl IdNumber {
    /// Parse and validate. `today` bounds the birth date (no one is born tomorrow).
    pub fn parse(s: &str, today: Date) -> Result<IdNumber, IdCardError> {
        let s = s.trim();
        let n = s.chars().count();
        if n != 18 {
            return Err(IdCardError::Length(n));
        }
        let mut b = s.as_bytes().to_vec();
        if b[17] == b'x' {
            b[17] = b'X';
        }
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdCardError::Characters);
        }
        let area = &s[..6];
        let province: u32 = area[..2].parse().unwrap_or(0);
        if !(11..=82).contains(&province) {
            return Err(IdCardError::Area(area.to_string()));
        }
        let birth = Date::parse_compact(&s[6..14])
            .filter(|d| d.year() >= 1880 && *d <= today)
            .ok_or_else(|| IdCardError::BirthDate(s[6..14].to_string()))?;
        let _ = birth;
        if check_char(&b[..17]) != b[17] {
            return Err(IdCardError::Checksum);
        }
        Ok(IdNumber(String::from_utf8_lossy(&b).into_owned()))
    }

    /// Assemble a number from its parts, computing the check character.
    pub fn compose(area: u32, birth: Date, sequence: u32) -> IdNumber {
        let mut s = format!(
            "{:06}{}{:03}",
            area % 1_000_000,
            birth.compact(),
            sequence % 1000
        );
        let c = check_char(s.as_bytes());
        s.push(char::from(c));
        IdNumber(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Date {
        Date::parse_compact(&self.0[6..14]).unwrap_or_else(|| Date::from_days_since_epoch(0))
    }

    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The form shown by default: the first two characters and the last one.
    pub fn masked(&self) -> String {
        mask_id(&self.0)
    }
}

/// Mask an identity card number: `51***************4`, the province and the check character.
/// Records show the birth date (digits 7-14) and sex (the parity of digit 17) beside it, and a
/// person's address usually gives digits 3-6; the sequence digits 15-17 stay hidden, so about
/// 45 numbers fit everything a viewer sees.
pub fn mask_id(s: &str) -> String {
    if s.len() < 8 || !s.is_ascii() {
        return "*".repeat(s.chars().count());
    }
    format!(
        "{}{}{}",
        &s[..2],
        "*".repeat(s.len() - 3),
        &s[s.len() - 1..]
    )
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::new(2026, 11, 23).unwrap_or_else(|| panic!())
    }

    #[test]
    fn accepts_the_standard_example_and_rejects_a_changed_digit() {
        // The worked example of GB 11643-1999.
        let id = IdNumber::parse("11010519491231002X", today()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.birth_date().to_string(), "1949-12-31");
        assert_eq!(id.masked(), "11***************X");
        assert_eq!(
            IdNumber::parse("110105194912310021", today()),
            Err(IdCardError::Checksum)
        );
        assert!(IdNumber::parse("11010519491231002x", today()).is_ok());
    }

    #[test]
    fn every_single_digit_change_is_caught() {
        let id = IdNumber::compose(
            510104,
            Date::new(1987, 6, 5).unwrap_or_else(|| panic!()),
            123,
        );
        assert!(IdNumber::parse(id.as_str(), today()).is_ok());
        assert_eq!(id.sex(), Sex::Male);
        let s = id.as_str().as_bytes().to_vec();
        for pos in 14..18 {
            for d in b"0123456789X" {
                if *d == s[pos] || (pos < 17 && *d == b'X') {
                    continue;
                }
                let mut t = s.clone();
                t[pos] = *d;
                let t = String::from_utf8_lossy(&t).into_owned();
                assert!(IdNumber::parse(&t, today()).is_err(), "{t} accepted");
            }
        }
    }

    #[test]
    fn explains_each_kind_of_mistake() {
        let code = |s: &str| IdNumber::parse(s, today()).err().map(|e| e.code());
        assert_eq!(code("51010419870605"), Some("id_card_length"));
        assert_eq!(code("51010419870605A23X"), Some("id_card_characters"));
        assert_eq!(code("99010419870605123X"), Some("id_card_area"));
        assert_eq!(code("510104198702301230"), Some("id_card_birth_date"));
        let future =
            IdNumber::compose(510104, Date::new(2030, 1, 1).unwrap_or_else(|| panic!()), 1);
        assert_eq!(code(future.as_str()), Some("id_card_birth_date"));
        let e = IdNumber::parse("510104198706051230", today()).err();
        assert!(e.is_some_and(|e| e.zh().contains("校验位")));
    }
}
