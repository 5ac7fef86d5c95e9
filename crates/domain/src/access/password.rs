//! Passwords: a minimal policy, and Argon2id hashes in PHC string form (`$argon2id$v=19$…`).
//! Only the hash is ever stored; comparison is constant-time inside the argon2 crate.

use crate::Bilingual;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MIN_LENGTH: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password must have at least {MIN_LENGTH} characters")]
    TooShort,
    #[error("password must mix letters with digits or symbols")]
    TooSimple,
    #[error("password hashing failed")]
    Hash,
}

impl Bilingual for PasswordError {
    fn code(&self) -> &'static str {
        match self {
            PasswordError::TooShort => "password_too_short",
            PasswordError::TooSimple => "password_too_simple",
            PasswordError::Hash => "internal_error",
        }
    }
    fn zh(&self) -> String {
        match self {
            PasswordError::TooShort => format!("密码至少需要 {MIN_LENGTH} 个字符"),
            PasswordError::TooSimple => "密码须同时包含字母和数字或符号".into(),
            PasswordError::Hash => "服务器内部错误".into(),
        }
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

/// Check a new password against the policy.
pub fn check_policy(pw: &str) -> Result<(), PasswordError> {
    if pw.chars().count() < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    let letters = pw.chars().any(char::is_alphabetic);
    let others = pw.chars().any(|c| !c.is_alphabetic());
    if !(letters && others) {
        return Err(PasswordError::TooSimple);
    }
    Ok(())
}

/// Argon2id with the parameters recommended for interactive logins (19 MiB, 2 passes).
fn argon() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hash a password with a caller-supplied random salt (16 bytes from the OS generator).
pub fn hash(pw: &str, salt: &[u8; 16]) -> Result<String, PasswordError> {
    let salt = SaltString::encode_b64(salt).map_err(|_| PasswordError::Hash)?;
    argon()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hash)
}

/// Whether `pw` matches a stored PHC hash. A malformed hash never matches.
pub fn verify(pw: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon().verify_password(pw.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_never_contain_the_password() {
        let h = hash("锦江区网格员2026", &[7; 16]).unwrap_or_else(|e| panic!("{e}"));
        assert!(h.starts_with("$argon2id$v=19$"));
        assert!(!h.contains("2026"));
        assert!(verify("锦江区网格员2026", &h));
        assert!(!verify("锦江区网格员2027", &h));
        assert!(!verify("锦江区网格员2026", "not a hash"));
        let other_salt = hash("锦江区网格员2026", &[8; 16]).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(h, other_salt);
    }

    #[test]
    fn policy_explains_itself() {
        assert_eq!(check_policy("short1"), Err(PasswordError::TooShort));
        assert_eq!(
            check_policy("onlyletterslong"),
            Err(PasswordError::TooSimple)
        );
        assert_eq!(check_policy("1234567890123"), Err(PasswordError::TooSimple));
        assert!(check_policy("correct horse 9").is_ok());
    }
}
