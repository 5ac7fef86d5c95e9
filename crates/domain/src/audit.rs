//! The audit trail as a hash chain: each entry's hash covers its own fields and the hash of
//! the entry before it, so changing, removing or reordering any entry breaks every later
//! link. [`verify`] walks a chain and names the first entry that does not fit.

use sha2::{Digest, Sha256};

/// The hash the first entry links to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audited event: who did what to which record, where and from where, and the record's
/// state before and after (JSON text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub region_code: Option<String>,
    pub ip: Option<String>,
    pub detail: String,
}

/// The hash of `entry` following an entry whose hash is `prev`.
pub fn link_hash(prev: &str, e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    // Length-prefixed fields: no two different entries serialise alike.
    let mut field = |b: &[u8]| {
        h.update((b.len() as u64).to_be_bytes());
        h.update(b);
    };
    field(prev.as_bytes());
    field(&e.seq.to_be_bytes());
    field(&e.at_ms.to_be_bytes());
    field(e.actor.as_bytes());
    field(e.action.as_bytes());
    field(e.target.as_bytes());
    field(e.region_code.as_deref().unwrap_or("\u{0}none").as_bytes());
    field(e.ip.as_deref().unwrap_or("\u{0}none").as_bytes());
    field(e.detail.as_bytes());
    crate::people::privacy::hex(&h.finalize())
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrokenLink {
    #[error("audit entry {seq}: expected sequence number {expected}")]
    Gap { seq: i64, expected: i64 },
    #[error("audit entry {seq}: previous hash does not match entry {}", seq - 1)]
    Prev { seq: i64 },
    #[error("audit entry {seq}: content does not match its hash (altered)")]
    Content { seq: i64 },
    #[error(
        "the audit trail ends at entry {last} but its head records {head}: entries were removed"
    )]
    Truncated { last: i64, head: i64 },
}

impl BrokenLink {
    pub fn seq(&self) -> i64 {
        match self {
            BrokenLink::Gap { seq, .. }
            | BrokenLink::Prev { seq }
            | BrokenLink::Content { seq } => *seq,
            BrokenLink::Truncated { last, .. } => last + 1,
        }
    }
}

/// Checks a chain entry by entry, so that a long trail is verified in pages.
#[derive(Debug, Clone)]
pub struct Verifier {
    prev: String,
    expected: i64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            prev: GENESIS.to_string(),
            expected: 1,
        }
    }
}

impl Verifier {
    /// The next entry, with its stored previous hash and hash.
    pub fn push(
        &mut self,
        e: &AuditEntry,
        stored_prev: &str,
        stored_hash: &str,
    ) -> Result<(), BrokenLink> {
        if e.seq != self.expected {
            return Err(BrokenLink::Gap {
                seq: e.seq,
                expected: self.expected,
            });
        }
        if stored_prev != self.prev {
            return Err(BrokenLink::Prev { seq: e.seq });
        }
        if link_hash(&self.prev, e) != stored_hash {
            return Err(BrokenLink::Content { seq: e.seq });
        }
        self.prev = stored_hash.to_string();
        self.expected += 1;
        Ok(())
    }

    /// Entries checked so far and the last hash.
    pub fn done(&self) -> (u64, &str) {
        ((self.expected - 1) as u64, &self.prev)
    }
}

/// Check entries given in sequence order with their stored `(prev_hash, hash)`. Returns the
/// number of entries checked and the last hash.
pub fn verify<I>(entries: I) -> Result<(u64, String), BrokenLink>
where
    I: IntoIterator<Item = (AuditEntry, String, String)>,
{
    let mut v = Verifier::default();
    for (e, prev, hash) in entries {
        v.push(&e, &prev, &hash)?;
    }
    let (n, last) = v.done();
    Ok((n, last.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<(AuditEntry, String, String)> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let e = AuditEntry {
                    seq,
                    at_ms: 1_000 * seq,
                    actor: format!("user:{}", seq % 3),
                    action: "household_moved".into(),
                    target: format!("household:{seq}"),
                    region_code: Some("510104018001001".into()),
                    ip: None,
                    detail: format!("{{\"n\":{seq}}}"),
                };
                let h = link_hash(&prev, &e);
                let row = (e, prev.clone(), h.clone());
                prev = h;
                row
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(50);
        let last = c[49].2.clone();
        assert_eq!(verify(c), Ok((50, last)));
        assert_eq!(verify(Vec::new()), Ok((0, GENESIS.to_string())));
    }

    #[test]
    fn any_change_removal_or_swap_is_found_at_its_place() {
        let mut c = chain(20);
        c[7].0.detail = "{\"n\":999}".into();
        assert_eq!(verify(c), Err(BrokenLink::Content { seq: 8 }));
        let mut c = chain(20);
        c.remove(11);
        assert_eq!(
            verify(c),
            Err(BrokenLink::Gap {
                seq: 13,
                expected: 12
            })
        );
        let mut c = chain(20);
        c.swap(4, 5);
        assert!(matches!(
            verify(c),
            Err(BrokenLink::Gap {
                seq: 6,
                expected: 5
            })
        ));
        // Rewriting an entry and its own hash still breaks the next link.
        let mut c = chain(20);
        c[9].0.actor = "user:intruder".into();
        c[9].2 = link_hash(&c[9].1, &c[9].0);
        assert_eq!(verify(c), Err(BrokenLink::Prev { seq: 11 }));
    }
}
