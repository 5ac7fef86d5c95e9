//! The audit trail as a hash chain: each entry's hash covers its own fields and the hash of
//! the entry before it, so changing, removing or reordering any entry breaks every later
//! link. [`verify`] walks a chain and names the first entry that does not fit.
//!
//! A plain SHA-256 chain can be recomputed by anyone who can write the database. From the
//! entry where a chain becomes keyed (its `keyed_from`, a marker entry [`KEYED_MARKER`]),
//! each link is an HMAC-SHA-256 under an [`AuditKey`] kept outside the database (derived
//! from the data key), and signed [`Checkpoint`]s of the head, kept outside the database
//! too, let a [`Verifier`] find entries cut from the end or a chain recomputed from scratch.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// The action of the entry at which a chain becomes keyed: the first keyed link.
pub const KEYED_MARKER: &str = "audit.keyed";

/// The key of the audit chain's links and checkpoints. `Debug` hides it.
#[derive(Clone)]
pub struct AuditKey([u8; 32]);

impl AuditKey {
    pub fn from_bytes(b: [u8; 32]) -> AuditKey {
        AuditKey(b)
    }

    fn mac(&self, context: &str) -> HmacSha256 {
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        // Links and checkpoints are signed under one key: a context keeps them apart.
        m.update(&(context.len() as u64).to_be_bytes());
        m.update(context.as_bytes());
        m
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey(<hidden>)")
    }
}

/// Whether the entry `seq` of a chain keyed from `keyed_from` has a keyed link.
pub fn is_keyed(keyed_from: Option<i64>, seq: i64) -> bool {
    keyed_from.is_some_and(|k| seq >= k)
}

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

/// The hash of `entry` following an entry whose hash is `prev` (the plain, public formula).
pub fn link_hash(prev: &str, e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    link_fields(prev, e, |b| h.update(b));
    crate::people::privacy::hex(&h.finalize())
}

/// The keyed link of `entry` following an entry whose hash is `prev`: HMAC-SHA-256 under
/// `key` over the same fields as [`link_hash`].
pub fn keyed_link_hash(key: &AuditKey, prev: &str, e: &AuditEntry) -> String {
    let mut m = key.mac("shezhi/audit/link/v1");
    link_fields(prev, e, |b| m.update(b));
    crate::people::privacy::hex(&m.finalize().into_bytes())
}

/// The link of `entry` in a chain keyed from `keyed_from`: keyed from there on (and then
/// `None` without the key), plain before.
pub fn chain_link(
    keyed_from: Option<i64>,
    key: Option<&AuditKey>,
    prev: &str,
    e: &AuditEntry,
) -> Option<String> {
    if is_keyed(keyed_from, e.seq) {
        key.map(|k| keyed_link_hash(k, prev, e))
    } else {
        Some(link_hash(prev, e))
    }
}

/// Feed an entry's fields, length-prefixed so that no two different entries serialise alike.
fn link_fields(prev: &str, e: &AuditEntry, mut update: impl FnMut(&[u8])) {
    let mut field = |b: &[u8]| {
        update(&(b.len() as u64).to_be_bytes());
        update(b);
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
}

/// Where a chain breaks, or where it disagrees with a checkpoint kept outside the database.
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
    #[error(
        "the audit trail records that it is keyed from entry {seq}, but that entry is not the marker {KEYED_MARKER:?} (rewritten)"
    )]
    Marker { seq: i64 },
    #[error(
        "the checkpoint on line {line} records entry {checkpoint} but the audit trail ends at entry {last}: entries were cut from the end (truncated)"
    )]
    PastEnd {
        line: usize,
        checkpoint: i64,
        last: i64,
    },
    #[error(
        "audit entry {seq} differs from the checkpoint on line {line}: the chain was rewritten"
    )]
    Rewritten { seq: i64, line: usize },
    #[error(
        "the checkpoint on line {line} says the chain is keyed from {}, the database says {}: the chain was rewritten",
        show(.checkpoint), show(.chain)
    )]
    KeyedFromChanged {
        line: usize,
        checkpoint: Option<i64>,
        chain: Option<i64>,
    },
    #[error(
        "the checkpoint on line {line} (entry {seq}) fails its signature under the audit key: a forged checkpoint"
    )]
    ForgedCheckpoint { line: usize, seq: i64 },
    #[error(
        "a data key was given but the audit trail's {entries} entries are not keyed: either no server has run with this key yet (one keys the chain from its next entry) or the keyed part was stripped and the chain recomputed"
    )]
    NotKeyed { entries: u64 },
}

fn show(v: &Option<i64>) -> String {
    v.map_or_else(|| "nowhere (unkeyed)".to_string(), |k| format!("entry {k}"))
}

impl BrokenLink {
    pub fn seq(&self) -> i64 {
        match self {
            BrokenLink::Gap { seq, .. }
            | BrokenLink::Prev { seq }
            | BrokenLink::Content { seq }
            | BrokenLink::Marker { seq }
            | BrokenLink::Rewritten { seq, .. }
            | BrokenLink::ForgedCheckpoint { seq, .. } => *seq,
            BrokenLink::NotKeyed { .. } => 1,
            BrokenLink::Truncated { last, .. } | BrokenLink::PastEnd { last, .. } => last + 1,
            BrokenLink::KeyedFromChanged {
                checkpoint, chain, ..
            } => match (checkpoint, chain) {
                (Some(a), Some(b)) => *a.min(b),
                (Some(k), None) | (None, Some(k)) => *k,
                (None, None) => 0,
            },
        }
    }
}

/// A signed record of the chain's head, kept outside the database (a file and the logs):
/// one line of JSON. `mac` is an HMAC-SHA-256 under the audit key over the other fields;
/// a server without a key writes checkpoints without one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub at_ms: i64,
    pub keyed_from: Option<i64>,
    pub mac: Option<String>,
}

impl Checkpoint {
    /// A checkpoint of the head `(seq, hash)` at `at_ms`, signed when a key is given.
    pub fn new(
        seq: i64,
        hash: &str,
        at_ms: i64,
        keyed_from: Option<i64>,
        key: Option<&AuditKey>,
    ) -> Checkpoint {
        let mut c = Checkpoint {
            seq,
            hash: hash.to_string(),
            at_ms,
            keyed_from,
            mac: None,
        };
        c.mac = key.map(|k| c.signature(k));
        c
    }

    fn signature(&self, key: &AuditKey) -> String {
        let mut m = key.mac("shezhi/audit/checkpoint/v1");
        let mut field = |b: &[u8]| {
            m.update(&(b.len() as u64).to_be_bytes());
            m.update(b);
        };
        field(&self.seq.to_be_bytes());
        field(self.hash.as_bytes());
        field(&self.at_ms.to_be_bytes());
        match self.keyed_from {
            Some(k) => field(&k.to_be_bytes()),
            None => field(b"\0none"),
        }
        crate::people::privacy::hex(&m.finalize().into_bytes())
    }

    /// Whether the signature is the key's (false for an unsigned checkpoint).
    pub fn signed_by(&self, key: &AuditKey) -> bool {
        // Compared in constant time, as the verifier may be asked by someone probing it.
        let Some(mac) = &self.mac else { return false };
        let want = self.signature(key);
        mac.len() == want.len()
            && mac
                .bytes()
                .zip(want.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// The checkpoint as one line (no newline).
    pub fn line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn parse(line: &str) -> Result<Checkpoint, String> {
        serde_json::from_str(line.trim()).map_err(|e| e.to_string())
    }
}

/// What a verification checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub entries: u64,
    pub last_hash: String,
    /// Where the keyed part of the chain starts, if it has one.
    pub keyed_from: Option<i64>,
    /// Whether the keyed links were recomputed (a key was given); without it only their
    /// order and linkage were checked.
    pub keyed_links_checked: bool,
    pub checkpoints: u64,
    /// How many of the checkpoints had their signature checked.
    pub signatures_checked: u64,
}

/// Checks a chain entry by entry, so that a long trail is verified in pages, and against
/// checkpoints kept outside the database.
#[derive(Debug, Clone)]
pub struct Verifier {
    prev: String,
    expected: i64,
    keyed_from: Option<i64>,
    key: Option<AuditKey>,
    /// Checkpoints with their line numbers, by sequence number; `next` is the first not yet
    /// reached by the walk.
    checkpoints: Vec<(usize, Checkpoint)>,
    next: usize,
    signatures_checked: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::new(None, None)
    }
}

impl Verifier {
    /// A verifier for a chain keyed from `keyed_from` (as the database records it), with the
    /// audit key if one is given.
    pub fn new(keyed_from: Option<i64>, key: Option<AuditKey>) -> Verifier {
        Verifier {
            prev: GENESIS.to_string(),
            expected: 1,
            keyed_from,
            key,
            checkpoints: Vec::new(),
            next: 0,
            signatures_checked: 0,
        }
    }

    /// Add checkpoints (with their line numbers) before the walk: their signatures are
    /// checked when the key is given, and where each says the chain became keyed.
    pub fn with_checkpoints(
        mut self,
        mut checkpoints: Vec<(usize, Checkpoint)>,
    ) -> Result<Verifier, BrokenLink> {
        for (line, c) in &checkpoints {
            if let Some(key) = &self.key {
                // Without a mac only a checkpoint of the unkeyed part is genuine: a server
                // that holds no key cannot append to a keyed chain.
                let unsigned_ok =
                    c.mac.is_none() && c.keyed_from.is_none() && !is_keyed(self.keyed_from, c.seq);
                if !(unsigned_ok || c.signed_by(key)) {
                    return Err(BrokenLink::ForgedCheckpoint {
                        line: *line,
                        seq: c.seq,
                    });
                }
                if c.mac.is_some() {
                    self.signatures_checked += 1;
                }
            }
            let agrees = match c.keyed_from {
                Some(k) => self.keyed_from == Some(k),
                None => !is_keyed(self.keyed_from, c.seq),
            };
            if !agrees {
                return Err(BrokenLink::KeyedFromChanged {
                    line: *line,
                    checkpoint: c.keyed_from,
                    chain: self.keyed_from,
                });
            }
        }
        checkpoints.sort_by_key(|(line, c)| (c.seq, *line));
        for (line, c) in &checkpoints {
            if c.seq <= 0 && c.hash != GENESIS {
                return Err(BrokenLink::Rewritten {
                    seq: 0,
                    line: *line,
                });
            }
        }
        self.next = checkpoints.iter().take_while(|(_, c)| c.seq <= 0).count();
        self.checkpoints = checkpoints;
        Ok(self)
    }

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
        if self.keyed_from == Some(e.seq) && e.action != KEYED_MARKER {
            return Err(BrokenLink::Marker { seq: e.seq });
        }
        // Without the key a keyed link can only be taken as stored.
        let want = chain_link(self.keyed_from, self.key.as_ref(), &self.prev, e);
        if want.is_some_and(|h| h != stored_hash) {
            return Err(BrokenLink::Content { seq: e.seq });
        }
        while let Some((line, c)) = self.checkpoints.get(self.next) {
            if c.seq != e.seq {
                break;
            }
            if c.hash != stored_hash {
                return Err(BrokenLink::Rewritten {
                    seq: e.seq,
                    line: *line,
                });
            }
            self.next += 1;
        }
        self.prev = stored_hash.to_string();
        self.expected += 1;
        Ok(())
    }

    /// Entries checked so far and the last hash.
    pub fn done(&self) -> (u64, &str) {
        ((self.expected - 1) as u64, &self.prev)
    }

    /// After the last entry: the head the database records must be the last entry, the
    /// keyed part must start inside the chain, and no checkpoint may lie past the end.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<Verified, BrokenLink> {
        let (n, last) = self.done();
        let last_seq = n as i64;
        if last_seq != head_seq || last != head_hash {
            return Err(BrokenLink::Truncated {
                last: last_seq,
                head: head_seq,
            });
        }
        if let Some(k) = self.keyed_from.filter(|k| *k > last_seq || *k < 1) {
            return Err(BrokenLink::Marker { seq: k });
        }
        // Given the key, a chain without a keyed part is not taken on trust: stripping the
        // keyed part and recomputing the rest is exactly what the key is there to stop.
        if self.key.is_some() && self.keyed_from.is_none() && n > 0 {
            return Err(BrokenLink::NotKeyed { entries: n });
        }
        if let Some((line, c)) = self.checkpoints.get(self.next) {
            return Err(BrokenLink::PastEnd {
                line: *line,
                checkpoint: c.seq,
                last: last_seq,
            });
        }
        Ok(Verified {
            entries: n,
            last_hash: last.to_string(),
            keyed_from: self.keyed_from,
            keyed_links_checked: self.key.is_some() && self.keyed_from.is_some(),
            checkpoints: self.checkpoints.len() as u64,
            signatures_checked: self.signatures_checked,
        })
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
    fn key(b: u8) -> AuditKey {
        AuditKey::from_bytes([b; 32])
    }

    /// `n` entries, keyed from `keyed_from` under `k` (the entry there is the marker).
    fn mixed(n: i64, keyed_from: Option<i64>, k: &AuditKey) -> Vec<(AuditEntry, String, String)> {
        let mut rows = chain(n);
        if let Some(r) = keyed_from.and_then(|at| rows.get_mut((at - 1) as usize)) {
            r.0.action = KEYED_MARKER.into();
        }
        relink(&mut rows, |prev, e| {
            chain_link(keyed_from, Some(k), prev, e).unwrap_or_default()
        });
        rows
    }

    /// Renumber from 1 and recompute every link with `f`, as someone who can write the
    /// database would after removing or changing entries.
    fn relink(rows: &mut [(AuditEntry, String, String)], f: impl Fn(&str, &AuditEntry) -> String) {
        let mut prev = GENESIS.to_string();
        for (i, r) in rows.iter_mut().enumerate() {
            r.0.seq = i as i64 + 1;
            r.1 = prev.clone();
            r.2 = f(&prev, &r.0);
            prev = r.2.clone();
        }
    }

    fn check(
        rows: &[(AuditEntry, String, String)],
        keyed_from: Option<i64>,
        k: Option<&AuditKey>,
        cps: &[Checkpoint],
    ) -> Result<Verified, BrokenLink> {
        let lines = cps
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, c)| (i + 1, c))
            .collect();
        let mut v = Verifier::new(keyed_from, k.cloned()).with_checkpoints(lines)?;
        for (e, p, h) in rows {
            v.push(e, p, h)?;
        }
        let (seq, hash) = rows
            .last()
            .map_or((0, GENESIS.to_string()), |r| (r.0.seq, r.2.clone()));
        v.finish(seq, &hash)
    }

    fn checkpoint_at(
        rows: &[(AuditEntry, String, String)],
        i: usize,
        kf: Option<i64>,
        k: Option<&AuditKey>,
    ) -> Checkpoint {
        let (seq, hash) = if i == 0 {
            (0, GENESIS.to_string())
        } else {
            (rows[i - 1].0.seq, rows[i - 1].2.clone())
        };
        Checkpoint::new(seq, &hash, 1_000 * seq, kf.filter(|f| *f <= seq), k)
    }

    #[test]
    fn a_keyed_link_depends_on_the_key_and_differs_from_the_plain_one() {
        let e = &chain(1)[0].0;
        let a = keyed_link_hash(&key(1), GENESIS, e);
        assert_eq!(a, keyed_link_hash(&key(1), GENESIS, e));
        assert_ne!(a, keyed_link_hash(&key(2), GENESIS, e));
        assert_ne!(a, link_hash(GENESIS, e));
        assert_eq!(a.len(), 64);
        assert_eq!(
            chain_link(Some(2), None, GENESIS, e),
            Some(link_hash(GENESIS, e))
        );
        assert_eq!(chain_link(Some(1), None, GENESIS, e), None);
        assert_eq!(format!("{:?}", key(9)), "AuditKey(<hidden>)");
    }

    #[test]
    fn a_checkpoint_is_signed_over_every_field() {
        let k = key(3);
        let c = Checkpoint::new(41, &"ab".repeat(32), 1_795_000_000_000, Some(7), Some(&k));
        assert!(c.signed_by(&k));
        assert!(!c.signed_by(&key(4)));
        assert_eq!(Checkpoint::parse(&c.line()), Ok(c.clone()));
        assert!(!c.line().contains('\n'));
        let bent: [fn(&mut Checkpoint); 4] = [
            |c| c.seq += 1,
            |c| c.hash = "cd".repeat(32),
            |c| c.at_ms -= 1,
            |c| c.keyed_from = None,
        ];
        for f in bent {
            let mut b = c.clone();
            f(&mut b);
            assert!(!b.signed_by(&k), "{b:?}");
        }
        let unsigned = Checkpoint::new(41, &"ab".repeat(32), 0, None, None);
        assert!(unsigned.mac.is_none() && !unsigned.signed_by(&k));
        assert!(Checkpoint::parse("{\"seq\":1}").is_err());
        assert!(Checkpoint::parse("not json").is_err());
    }

    #[test]
    fn an_unkeyed_prefix_then_a_keyed_part_verifies_with_and_without_the_key() {
        let k = key(5);
        let rows = mixed(30, Some(12), &k);
        let cps = [
            checkpoint_at(&rows, 0, None, None),
            checkpoint_at(&rows, 5, None, None),
            checkpoint_at(&rows, 12, Some(12), Some(&k)),
            checkpoint_at(&rows, 30, Some(12), Some(&k)),
        ];
        let ok = check(&rows, Some(12), Some(&k), &cps).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (ok.entries, ok.checkpoints, ok.signatures_checked),
            (30, 4, 2)
        );
        assert!(ok.keyed_links_checked);
        let blind = check(&rows, Some(12), None, &cps).unwrap_or_else(|e| panic!("{e}"));
        assert!(!blind.keyed_links_checked && blind.signatures_checked == 0);
        // The wrong key fails at the first keyed link.
        assert_eq!(
            check(&rows, Some(12), Some(&key(6)), &[]),
            Err(BrokenLink::Content { seq: 12 })
        );
        // The keyed part must start at the marker.
        assert_eq!(
            check(&rows, Some(13), Some(&k), &[]),
            Err(BrokenLink::Content { seq: 12 })
        );
        assert_eq!(
            check(&rows, Some(11), None, &[]),
            Err(BrokenLink::Marker { seq: 11 })
        );
        assert_eq!(
            check(&chain(10), Some(11), None, &[]),
            Err(BrokenLink::Marker { seq: 11 })
        );
    }

    #[test]
    fn attacks_on_a_keyed_chain_are_found() {
        let k = key(7);
        let kf = Some(3);
        let rows = mixed(20, kf, &k);
        let cps = vec![
            checkpoint_at(&rows, 10, kf, Some(&k)),
            checkpoint_at(&rows, 20, kf, Some(&k)),
        ];
        // Delete entry 15 and recompute with the public formula: its links are not keyed.
        let mut cut = rows.clone();
        cut.remove(14);
        relink(&mut cut, link_hash);
        assert_eq!(
            check(&cut, kf, Some(&k), &[]),
            Err(BrokenLink::Content { seq: 3 })
        );
        // ... and with the keyed part moved away, the checkpoints disagree.
        assert!(matches!(
            check(&cut, None, Some(&k), &cps),
            Err(BrokenLink::KeyedFromChanged { line: 1, .. })
        ));
        assert!(matches!(
            check(&cut, None, None, &cps),
            Err(BrokenLink::KeyedFromChanged { .. })
        ));
        // Given the key, a chain stripped of its keyed part fails even without checkpoints.
        assert_eq!(
            check(&cut, None, Some(&k), &[]),
            Err(BrokenLink::NotKeyed { entries: 19 })
        );
        assert!(check(&cut, None, None, &[]).is_ok());
        // Cut the last five and move the head back: the last checkpoint lies past the end.
        let short = &rows[..15];
        assert_eq!(
            check(short, kf, Some(&k), &cps),
            Err(BrokenLink::PastEnd {
                line: 2,
                checkpoint: 20,
                last: 15
            })
        );
        assert!(check(short, kf, Some(&k), &cps[..1]).is_ok());
        // Rewrite entry 5 under a wrong key: content fails with the key, the checkpoint
        // without it.
        let mut bent = rows.clone();
        bent[4].0.actor = "user:intruder".into();
        relink(&mut bent, |p, e| {
            chain_link(kf, Some(&key(8)), p, e).unwrap_or_default()
        });
        assert_eq!(
            check(&bent, kf, Some(&k), &cps),
            Err(BrokenLink::Content { seq: 3 })
        );
        assert_eq!(
            check(&bent, kf, None, &cps),
            Err(BrokenLink::Rewritten { seq: 10, line: 1 })
        );
        // A checkpoint moved back to match a shortened chain no longer carries a valid mac.
        let mut forged = cps.clone();
        forged[1].seq = 15;
        forged[1].hash = rows[14].2.clone();
        assert_eq!(
            check(short, kf, Some(&k), &forged),
            Err(BrokenLink::ForgedCheckpoint { line: 2, seq: 15 })
        );
        // An unsigned checkpoint of the keyed part is forged too.
        let unsigned = vec![Checkpoint::new(15, &rows[14].2, 0, kf, None)];
        assert!(matches!(
            check(short, kf, Some(&k), &unsigned),
            Err(BrokenLink::ForgedCheckpoint { .. })
        ));
    }

    /// A small deterministic generator, so that the property test needs no crate.
    struct Lcg(u64);
    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n.max(1)
        }
    }

    #[test]
    fn property_no_edit_without_the_key_survives_the_keyed_verifier_and_checkpoints() {
        let k = key(11);
        for seed in 0..300u64 {
            let mut r = Lcg(seed);
            let n = 2 + r.below(40) as i64;
            let kf = if r.below(3) == 0 {
                Some(1)
            } else {
                Some(1 + r.below(n as u64) as i64)
            };
            let rows = mixed(n, kf, &k);
            let at = 1 + r.below(n as u64) as usize;
            let cps = vec![
                checkpoint_at(&rows, at, kf, Some(&k)),
                checkpoint_at(&rows, n as usize, kf, Some(&k)),
            ];
            assert!(check(&rows, kf, Some(&k), &cps).is_ok(), "seed {seed}");
            let victim = r.below(n as u64) as usize;
            let mut edited = rows.clone();
            let attacker_kf = match r.below(4) {
                0 => {
                    edited.remove(victim);
                    kf
                }
                1 => {
                    edited.truncate(victim.max(1));
                    kf
                }
                2 => {
                    edited[victim].0.detail = "{}".into();
                    kf
                }
                _ => {
                    edited.remove(victim);
                    None
                }
            };
            if edited.len() == rows.len() && edited == rows {
                continue;
            }
            let wrong = key(12);
            // Recomputed with the public formula, or with a wrong key where keyed.
            let plain = r.below(2) == 0;
            relink(&mut edited, |p, e| {
                if plain {
                    link_hash(p, e)
                } else {
                    chain_link(attacker_kf, Some(&wrong), p, e).unwrap_or_default()
                }
            });
            let keyed_part_exists = kf.is_some_and(|f| f <= edited.len() as i64);
            let with_key = check(
                &edited,
                attacker_kf.filter(|_| keyed_part_exists),
                Some(&k),
                &cps,
            );
            assert!(with_key.is_err(), "seed {seed}: {with_key:?}");
            let blind = check(
                &edited,
                attacker_kf.filter(|_| keyed_part_exists),
                None,
                &cps,
            );
            assert!(blind.is_err(), "seed {seed}: {blind:?}");
        }
    }
}
