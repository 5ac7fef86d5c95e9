//! Mainland mobile numbers: 11 digits starting 13–19. Masked as `138****1234` when shown.

use crate::Bilingual;
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("phone number must be 11 digits starting with 13 to 19")]
pub struct PhoneError;

impl Bilingual for PhoneError {
    fn code(&self) -> &'static str {
        "invalid_phone"
    }
    fn zh(&self) -> String {
        "手机号码应为 13 至 19 开头的 11 位数字".into()
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

impl Phone {
    /// Accepts spaces, dashes and a leading +86.
    pub fn parse(s: &str) -> Result<Phone, PhoneError> {
        let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits.strip_prefix("+86").unwrap_or(&digits);
        let b = digits.as_bytes();
        if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) || b[0] != b'1' || b[1] < b'3' {
            return Err(PhoneError);
        }
        Ok(Phone(digits.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_masks() {
        let p = Phone::parse("+86 138-0000-1234").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.as_str(), "13800001234");
        assert_eq!(p.masked(), "138****1234");
        assert_eq!(format!("{p:?}"), "Phone(138****1234)");
        for bad in ["1380000123", "12800001234", "2380000123a", "138000012345"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }
}
