//! Personal data at rest (PIPL): identity card numbers and phones are sealed with
//! XChaCha20-Poly1305 under a key that lives in configuration, never in the database, and
//! found again through a keyed hash (HMAC-SHA-256) that matches exact values only.
//!
//! One 32-byte data key is configured; separate keys for sealing and for lookup are derived
//! from it, and a short fingerprint of it is stored so that a server started with the wrong
//! key refuses to run instead of writing records nobody can read.

use crate::Bilingual;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

pub const NONCE_LEN: usize = 24;
pub const LOOKUP_LEN: usize = 16;

/// The configured data key. `Debug` shows only its fingerprint.
#[derive(Clone)]
pub struct DataKey([u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("data key must be 64 hexadecimal characters (32 bytes)")]
    Format,
    #[error("sealed value cannot be opened with this key (wrong key or altered data)")]
    Open,
}

impl Bilingual for KeyError {
    fn code(&self) -> &'static str {
        match self {
            KeyError::Format => "data_key_format",
            KeyError::Open => "sealed_value_unreadable",
        }
    }
    fn zh(&self) -> String {
        match self {
            KeyError::Format => "数据密钥应为 64 位十六进制字符（32 字节）".into(),
            KeyError::Open => "加密数据无法解密（密钥错误或数据被篡改）".into(),
        }
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

impl DataKey {
    pub fn from_bytes(b: [u8; 32]) -> DataKey {
        DataKey(b)
    }

    pub fn from_hex(s: &str) -> Result<DataKey, KeyError> {
        let s = s.trim();
        if s.len() != 64 {
            return Err(KeyError::Format);
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(s.get(2 * i..2 * i + 2).ok_or(KeyError::Format)?, 16)
                .map_err(|_| KeyError::Format)?;
        }
        Ok(DataKey(out))
    }

    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    fn derive(&self, label: &str) -> [u8; 32] {
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        m.update(label.as_bytes());
        m.finalize().into_bytes().into()
    }

    /// The key of the audit chain's links and checkpoints, derived with its own label so
    /// that a deployment keeps one secret.
    pub fn audit_key(&self) -> crate::audit::AuditKey {
        crate::audit::AuditKey::from_bytes(self.derive("shezhi/audit/v1"))
    }

    /// A short public identifier of the key, safe to store and log.
    pub fn fingerprint(&self) -> String {
        hex(&self.derive("shezhi/fingerprint/v1")[..8])
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey(fingerprint {})", self.fingerprint())
    }
}

pub fn hex(b: &[u8]) -> String {
    use fmt::Write;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

/// Which column a sealed value belongs to. Bound into the ciphertext, so a value copied to
/// another column or another row no longer opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    ResidentIdNumber,
    ResidentPhone,
    StaffPhone,
    /// The contact phone a reporter left on a case.
    CaseContact,
}

impl Field {
    fn label(self) -> &'static [u8] {
        match self {
            Field::ResidentIdNumber => b"resident.id_number",
            Field::ResidentPhone => b"resident.phone",
            Field::StaffPhone => b"staff.phone",
            Field::CaseContact => b"case.contact",
        }
    }
}

/// What kind of value a lookup hash is for: the same phone hashes alike for residents and
/// staff, so one search finds both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupKind {
    IdNumber,
    Phone,
}

/// Seals, opens and hashes personal data with keys derived from one [`DataKey`].
#[derive(Clone)]
pub struct Vault {
    cipher: XChaCha20Poly1305,
    lookup: HmacSha256,
    fingerprint: String,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Vault(fingerprint {})", self.fingerprint)
    }
}

impl Vault {
    pub fn new(key: &DataKey) -> Vault {
        let seal = key.derive("shezhi/seal/v1");
        let lookup = key.derive("shezhi/lookup/v1");
        Vault {
            cipher: XChaCha20Poly1305::new((&seal).into()),
            lookup: <HmacSha256 as Mac>::new_from_slice(&lookup).unwrap_or_else(|_| unreachable!()),
            fingerprint: key.fingerprint(),
        }
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn aad(field: Field, row_id: i64) -> [u8; 40] {
        let mut aad = [0u8; 40];
        let l = field.label();
        aad[..l.len()].copy_from_slice(l);
        aad[32..].copy_from_slice(&row_id.to_be_bytes());
        aad
    }

    /// Seal `plaintext` for `field` of row `row_id`. `nonce` must come from a CSPRNG.
    pub fn seal(
        &self,
        field: Field,
        row_id: i64,
        plaintext: &str,
        nonce: [u8; NONCE_LEN],
    ) -> Vec<u8> {
        let aad = Vault::aad(field, row_id);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: &aad,
        };
        let ct = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, field: Field, row_id: i64, sealed: &[u8]) -> Result<String, KeyError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(KeyError::Open);
        }
        let aad = Vault::aad(field, row_id);
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let pt = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map_err(|_| KeyError::Open)?;
        String::from_utf8(pt).map_err(|_| KeyError::Open)
    }

    /// Keyed hash for exact-match search. Equal values give equal hashes under one key.
    pub fn lookup(&self, kind: LookupKind, value: &str) -> [u8; LOOKUP_LEN] {
        let mut m = self.lookup.clone();
        m.update(match kind {
            LookupKind::IdNumber => b"id\0",
            LookupKind::Phone => b"ph\0",
        });
        m.update(value.as_bytes());
        let full: [u8; 32] = m.finalize().into_bytes().into();
        let mut out = [0u8; LOOKUP_LEN];
        out.copy_from_slice(&full[..LOOKUP_LEN]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(b: u8) -> Vault {
        Vault::new(&DataKey::from_bytes([b; 32]))
    }

    #[test]
    fn the_audit_key_is_derived_apart_from_the_others() {
        let k = DataKey::from_bytes([7; 32]);
        let e = crate::audit::AuditEntry {
            seq: 1,
            at_ms: 0,
            actor: "a".into(),
            action: "b".into(),
            target: String::new(),
            region_code: None,
            ip: None,
            detail: "{}".into(),
        };
        let link = |key: [u8; 32]| {
            crate::audit::keyed_link_hash(
                &crate::audit::AuditKey::from_bytes(key),
                crate::audit::GENESIS,
                &e,
            )
        };
        let ours = crate::audit::keyed_link_hash(&k.audit_key(), crate::audit::GENESIS, &e);
        assert_eq!(
            ours,
            crate::audit::keyed_link_hash(
                &DataKey::from_bytes([7; 32]).audit_key(),
                crate::audit::GENESIS,
                &e
            )
        );
        for label in [
            "shezhi/seal/v1",
            "shezhi/lookup/v1",
            "shezhi/fingerprint/v1",
        ] {
            assert_ne!(ours, link(k.derive(label)));
        }
        assert_ne!(ours, link([7; 32]));
        assert_ne!(
            ours,
            crate::audit::keyed_link_hash(
                &DataKey::from_bytes([8; 32]).audit_key(),
                crate::audit::GENESIS,
                &e
            )
        );
    }

    #[test]
    fn seals_opens_and_binds_to_field_and_row() {
        let v = vault(7);
        let sealed = v.seal(Field::ResidentIdNumber, 42, "11010519491231002X", [3; 24]);
        assert!(!sealed.windows(18).any(|w| w == b"11010519491231002X"));
        assert_eq!(
            v.open(Field::ResidentIdNumber, 42, &sealed).as_deref(),
            Ok("11010519491231002X")
        );
        assert_eq!(
            v.open(Field::ResidentIdNumber, 43, &sealed),
            Err(KeyError::Open)
        );
        assert_eq!(
            v.open(Field::ResidentPhone, 42, &sealed),
            Err(KeyError::Open)
        );
        assert_eq!(
            vault(8).open(Field::ResidentIdNumber, 42, &sealed),
            Err(KeyError::Open)
        );
        let mut bent = sealed.clone();
        let last = bent.len() - 1;
        bent[last] ^= 1;
        assert_eq!(
            v.open(Field::ResidentIdNumber, 42, &bent),
            Err(KeyError::Open)
        );
    }

    #[test]
    fn lookup_is_exact_and_keyed() {
        let v = vault(7);
        let a = v.lookup(LookupKind::Phone, "13800001234");
        assert_eq!(a, v.lookup(LookupKind::Phone, "13800001234"));
        assert_ne!(a, v.lookup(LookupKind::Phone, "13800001235"));
        assert_ne!(a, v.lookup(LookupKind::IdNumber, "13800001234"));
        assert_ne!(a, vault(8).lookup(LookupKind::Phone, "13800001234"));
    }

    #[test]
    fn key_parsing_and_debug_hide_the_key() {
        let k = DataKey::from_hex(&"ab".repeat(32)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(k.to_hex(), "ab".repeat(32));
        assert!(!format!("{k:?}").contains("abab"));
        assert_eq!(DataKey::from_hex("abc").err(), Some(KeyError::Format));
        assert_eq!(
            DataKey::from_hex(&"zz".repeat(32)).err(),
            Some(KeyError::Format)
        );
    }
}
