//! The audit trail in the database: entries appended inside the transaction of the change
//! they record (so a change and its entry commit or vanish together), chained by hash
//! through the single `audit_head` row that every append updates first (its lock orders the
//! chain), and checked end to end by [`Store::verify_audit`].
//!
//! From `audit_head.keyed_from` on (set once by [`Store::bind_audit_key`], with the marker
//! entry `audit.keyed`) each link is keyed with the audit key, which the database never sees:
//! a store without the key refuses to append to a keyed chain rather than break it.

use crate::StoreError;
use crate::backend::{Store, with_pool};
use crate::db::{Conn, Sql};
use shezhi_domain::audit::{
    AuditEntry, AuditKey, BrokenLink, Checkpoint, KEYED_MARKER, Verified, Verifier,
};
use sqlx::Row;

/// What to record. `detail` holds the state before and after, or what was viewed.
#[derive(Debug, Clone)]
pub struct AuditNote {
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub region_code: Option<String>,
    pub ip: Option<String>,
    pub detail: serde_json::Value,
}

/// Who takes a step, for its audit entry: the actor (`user:<id>`) and the address they
/// called from, when known. A bare actor (`"user:3"`) converts into one without an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct By<'a> {
    pub actor: &'a str,
    pub ip: Option<&'a str>,
}

impl<'a> From<&'a str> for By<'a> {
    fn from(actor: &'a str) -> By<'a> {
        By { actor, ip: None }
    }
}

impl AuditNote {
    /// The chain entry this note becomes at `seq`.
    pub(crate) fn entry(&self, seq: i64) -> AuditEntry {
        AuditEntry {
            seq,
            at_ms: self.at_ms,
            actor: self.actor.clone(),
            action: self.action.clone(),
            target: self.target.clone(),
            region_code: self.region_code.clone(),
            ip: self.ip.clone(),
            detail: self.detail.to_string(),
        }
    }
}

/// How the links after the head are made: keyed from `keyed_from` on (the head's), with the
/// store's audit key. Made from the locked head, so a store without the key is refused
/// before it writes anything to a keyed chain.
pub(crate) struct Linker<'a> {
    key: Option<&'a AuditKey>,
    keyed_from: Option<i64>,
}

impl<'a> Linker<'a> {
    pub(crate) fn new(
        key: Option<&'a AuditKey>,
        keyed_from: Option<i64>,
    ) -> Result<Linker<'a>, StoreError> {
        match (keyed_from, key) {
            (Some(k), None) => Err(StoreError::refused(
                "audit_key_missing",
                format!(
                    "审计链自第 {k} 条起以密钥签名：请配置数据密钥（--data-key-file 或 SHEZHI_DATA_KEY）后再写入"
                ),
                format!(
                    "the audit trail is keyed from entry {k}: configure the data key (--data-key-file or SHEZHI_DATA_KEY) to write to it"
                ),
            )),
            _ => Ok(Linker { key, keyed_from }),
        }
    }

    /// The link of `entry` after `prev`.
    pub(crate) fn hash(&self, prev: &str, entry: &AuditEntry) -> String {
        // `new` refused a keyed chain without a key, so there is always a link.
        shezhi_domain::audit::chain_link(self.keyed_from, self.key, prev, entry).unwrap_or_default()
    }
}

/// Append `note` to the chain inside the transaction `conn` belongs to, linking it with
/// `key` (the store's audit key); the entry's number.
pub(crate) async fn append(
    conn: &mut Conn<'_>,
    note: &AuditNote,
    key: Option<&AuditKey>,
) -> Result<i64, StoreError> {
    // Taking the head first locks it (row lock on PostgreSQL, the write lock on SQLite).
    let head = conn
        .fetch_one(&Sql::new(
            "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash, keyed_from",
        ))
        .await?;
    let seq: i64 = head.get(0)?;
    let prev: String = head.get(1)?;
    let link = Linker::new(key, head.get(2)?)?;
    let entry = note.entry(seq);
    let hash = link.hash(&prev, &entry);
    conn.execute(&Sql::new("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(hash.as_str()))
        .await?;
    let insert = Sql::new(
        "INSERT INTO audit_log (seq, at_ms, actor, action, target, region_code, ip, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(seq)
    .bind(entry.at_ms)
    .bind(entry.actor.as_str())
    .bind(entry.action.as_str())
    .bind(entry.target.as_str())
    .bind(entry.region_code.as_deref())
    .bind(entry.ip.as_deref())
    .bind(entry.detail.as_str())
    .bind(prev.as_str())
    .bind(hash.as_str());
    conn.execute(&insert).await?;
    Ok(seq)
}

/// [`append`] inside a sqlx transaction of either backend (for callers not yet on
/// [`crate::db`]); it does no database work of its own.
macro_rules! audit_append {
    ($tx:expr, $note:expr, $key:expr) => {
        $crate::access::audit::append(&mut $crate::db::Conn::from(&mut *$tx), &$note, $key).await?
    };
}
pub(crate) use audit_append;

/// Append many notes to the chain inside `$tx` with a few statements: the head is taken once
/// for all of them, the hashes chained in memory, and the entries inserted in multi-row
/// statements (for batches such as group-committed intake). With `$counts` (case counter
/// deltas), the counters are added in the same transaction, and on PostgreSQL in the same
/// statement as the entries. `$key` is the store's audit key (`Option<&AuditKey>`).
macro_rules! audit_append_many {
    ($db:ty, $tx:expr, $notes:expr, $counts:expr, $key:expr) => {{
        let notes: &[$crate::access::audit::AuditNote] = &$notes;
        let counts: &$crate::cases::counters::CaseCounts = &$counts;
        // On PostgreSQL the head's new hash, the counters and the entries go in one
        // statement: one round trip after the head is taken.
        let items = counts.sorted();
        if notes.is_empty() {
            if let Some(pg) = $crate::backend::as_postgres(&mut *$tx) {
                $crate::access::audit::pg_append(pg, None, &[], &items).await?;
            } else {
                $crate::cases::counters::apply_case_counts!($db, counts, $tx);
            }
        } else {
            // Taking the head first locks it; locks are taken in one order everywhere: the
            // audit head, then the counter rows.
            let n = notes.len() as i64;
            let head = sqlx::query("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash, keyed_from")
                .bind(n)
                .fetch_one(&mut *$tx)
                .await?;
            let last_seq: i64 = sqlx::Row::try_get(&head, 0)?;
            let link = $crate::access::audit::Linker::new($key, sqlx::Row::try_get(&head, 2)?)?;
            let rows = $crate::access::audit::chain(notes, last_seq - n, sqlx::Row::try_get(&head, 1)?, &link);
            let prev = rows.last().map(|(_, _, h)| h.clone()).unwrap_or_default();
            if let Some(pg) = $crate::backend::as_postgres(&mut *$tx) {
                // The head's new hash, the counters and the entries in one round trip.
                $crate::access::audit::pg_append(pg, Some((last_seq, &prev)), &rows, &items).await?;
            } else {
                $crate::cases::counters::apply_case_counts!($db, counts, $tx);
                sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                    .bind(prev.as_str())
                    .execute(&mut *$tx)
                    .await?;
                for chunk in $crate::backend::sized_chunks(&rows, $crate::backend::ROWS_PER_STATEMENT) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO audit_log (seq, at_ms, actor, action, target, region_code, ip, detail, prev_hash, hash) ",
                    );
                    qb.push_values(chunk, |mut b, (e, p, h)| {
                        b.push_bind(e.seq).push_bind(e.at_ms).push_bind(e.actor.as_str()).push_bind(e.action.as_str())
                            .push_bind(e.target.as_str()).push_bind(e.region_code.as_deref()).push_bind(e.ip.as_deref())
                            .push_bind(e.detail.as_str()).push_bind(p.as_str()).push_bind(h.as_str());
                    });
                    qb.build().execute(&mut *$tx).await?;
                }
            }
        }
    }};
}
pub(crate) use audit_append_many;

/// An audit entry ready to insert, with the hash before it and its own.
pub(crate) type ChainedEntry = (AuditEntry, String, String);

/// `notes` as the entries that follow the entry `seq` whose hash is `prev`.
pub(crate) fn chain(
    notes: &[AuditNote],
    seq: i64,
    mut prev: String,
    link: &Linker<'_>,
) -> Vec<ChainedEntry> {
    let mut rows = Vec::with_capacity(notes.len());
    for (i, note) in notes.iter().enumerate() {
        let entry = note.entry(seq + 1 + i as i64);
        let hash = link.hash(&prev, &entry);
        rows.push((entry, std::mem::replace(&mut prev, hash.clone()), hash));
    }
    rows
}

/// Where a PostgreSQL transaction puts its counter deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counters {
    /// One row of the counter log, folded later: for the step writer, whose groups are
    /// small, frequent and waited for.
    Log,
    /// Straight into the counters: for batch writers (intake, the sweeper), whose deltas are
    /// large and would make every read of the log add them up until the fold.
    Upsert,
}

/// PostgreSQL: the writes that close a transaction's audit and counters, as plain statements
/// for one combined statement (see `plan::combined`): set the head (its last sequence number
/// and hash) when `head` is given, add the counter deltas (see [`Counters`]), insert the
/// entries. Every row travels in array parameters, so the texts are fixed.
pub(crate) fn pg_tail(
    head: Option<(i64, &str)>,
    entries: &[ChainedEntry],
    counts: &[(&(String, String, i64), &i64)],
    counters: Counters,
) -> Vec<crate::cases::plan::Stmt> {
    use crate::cases::plan::{Arg, Stmt};
    let mut out = Vec::new();
    if let Some((seq, hash)) = head {
        out.push(Stmt {
            sql: "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1".into(),
            args: vec![Arg::I(seq), Arg::S(hash.into())],
        });
    }
    if !counts.is_empty() {
        out.push(Stmt {
            sql: match counters {
                Counters::Log => "INSERT INTO case_counter_log (scopes, metrics, days, deltas) \
                    VALUES ($1::text[], $2::text[], $3::int8[], $4::int8[])",
                // In the order given (sorted), so that counter rows are locked in one order.
                Counters::Upsert => "INSERT INTO case_counters (scope, metric, day, value) \
                    SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[]) \
                    ON CONFLICT (scope, metric, day) DO UPDATE SET value = case_counters.value + excluded.value",
            }
            .into(),
            args: vec![
                Arg::Texts(counts.iter().map(|((s, _, _), _)| s.clone()).collect()),
                Arg::Texts(counts.iter().map(|((_, m, _), _)| m.clone()).collect()),
                Arg::Ints(counts.iter().map(|((_, _, d), _)| *d).collect()),
                Arg::Ints(counts.iter().map(|(_, v)| **v).collect()),
            ],
        });
    }
    if !entries.is_empty() {
        let text =
            |f: fn(&ChainedEntry) -> Option<String>| Arg::OptTexts(entries.iter().map(f).collect());
        out.push(Stmt {
            sql: "INSERT INTO audit_log (seq, at_ms, actor, action, target, region_code, ip, detail, prev_hash, hash) \
                  SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], \
                  $7::text[], $8::text[], $9::text[], $10::text[])"
                .into(),
            args: vec![
                Arg::Ints(entries.iter().map(|(e, _, _)| e.seq).collect()),
                Arg::Ints(entries.iter().map(|(e, _, _)| e.at_ms).collect()),
                text(|(e, _, _)| Some(e.actor.clone())),
                text(|(e, _, _)| Some(e.action.clone())),
                text(|(e, _, _)| Some(e.target.clone())),
                text(|(e, _, _)| e.region_code.clone()),
                text(|(e, _, _)| e.ip.clone()),
                text(|(e, _, _)| Some(e.detail.clone())),
                text(|(_, p, _)| Some(p.clone())),
                text(|(_, _, h)| Some(h.clone())),
            ],
        });
    }
    out
}

/// PostgreSQL: [`pg_tail`] in one round trip, the counters upserted.
pub(crate) async fn pg_append(
    conn: &mut sqlx::PgConnection,
    head: Option<(i64, &str)>,
    entries: &[ChainedEntry],
    counts: &[(&(String, String, i64), &i64)],
) -> Result<(), sqlx::Error> {
    let tail = pg_tail(head, entries, counts, Counters::Upsert);
    if tail.is_empty() {
        return Ok(());
    }
    crate::cases::plan::run_pg(conn, &crate::cases::plan::combined(&tail)).await
}

/// The outcome of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditCheck {
    /// Every entry links and agrees with every checkpoint; what was checked (see
    /// [`Verified`]).
    Intact {
        entries: u64,
        last_hash: String,
        keyed_from: Option<i64>,
        keyed_links_checked: bool,
        checkpoints: u64,
        signatures_checked: u64,
    },
    /// The first entry (or checkpoint) that does not fit.
    Broken(BrokenLink),
}

/// The head of the chain: its last sequence number and hash, and where it is keyed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
    pub keyed_from: Option<i64>,
}

const VERIFY_PAGE: i64 = 10_000;

impl Store {
    /// The audit key this store links with, once bound.
    pub(crate) fn audit_key(&self) -> Option<&AuditKey> {
        self.audit_key.get()
    }

    /// Link new audit entries with `key` (derived from the data key; bind the data key first,
    /// so that a wrong key is refused by its fingerprint). The first time a chain is bound,
    /// its keyed part starts: the head records where, and the marker entry `audit.keyed`
    /// (signed by `actor`, at `at_ms`) is its first keyed link. Returns where the keyed part
    /// starts.
    pub async fn bind_audit_key(
        &self,
        key: AuditKey,
        actor: &str,
        at_ms: i64,
    ) -> Result<i64, StoreError> {
        let key = self.audit_key.get_or_init(|| key);
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            // Lock the head (as every append does) before reading where the keyed part starts.
            let head = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, keyed_from")
                .fetch_one(&mut *tx)
                .await?;
            let seq: i64 = head.try_get(0)?;
            if let Some(k) = head.try_get::<Option<i64>, _>(1)? {
                return Ok(k);
            }
            let from = seq + 1;
            sqlx::query("UPDATE audit_head SET keyed_from = $1 WHERE id = 1")
                .bind(from)
                .execute(&mut *tx)
                .await?;
            let note = AuditNote {
                at_ms,
                actor: actor.to_string(),
                action: KEYED_MARKER.to_string(),
                target: String::new(),
                region_code: None,
                ip: None,
                detail: serde_json::json!({ "keyed_from": from, "link": "hmac-sha256" }),
            };
            let appended = audit_append!(tx, note, Some(key));
            tx.commit().await?;
            tracing::info!(keyed_from = appended, "the audit trail is keyed from here on");
            Ok(appended)
        })
    }

    /// The head of the chain.
    pub async fn audit_head(&self) -> Result<AuditHead, StoreError> {
        with_pool!(self, p => {
            let r = sqlx::query("SELECT seq, hash, keyed_from FROM audit_head WHERE id = 1").fetch_one(p).await?;
            Ok(AuditHead { seq: r.try_get(0)?, hash: r.try_get(1)?, keyed_from: r.try_get(2)? })
        })
    }

    /// Record an event that changes nothing else (a sign-in, an unmasked view).
    pub async fn audit(&self, note: &AuditNote) -> Result<i64, StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let seq = audit_append!(tx, *note, self.audit_key());
            tx.commit().await?;
            Ok(seq)
        })
    }

    /// Recompute the whole chain with the store's own audit key (if bound), without
    /// checkpoints: see [`Store::verify_audit_with`].
    pub async fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        self.verify_audit_with(self.audit_key().cloned(), Vec::new())
            .await
    }

    /// Recompute the whole chain, a page at a time, and report the first broken link: keyed
    /// links are recomputed under `key` (without it only their order and linkage can be
    /// checked), and the chain must agree with every checkpoint (given with its line number):
    /// signed by the key, no checkpoint past the end, the same hash at each checkpoint's
    /// entry, the same start of the keyed part.
    pub async fn verify_audit_with(
        &self,
        key: Option<AuditKey>,
        checkpoints: Vec<(usize, Checkpoint)>,
    ) -> Result<AuditCheck, StoreError> {
        // The head is read first: entries appended meanwhile lie past it and are left for the
        // next run, and a checkpoint written meanwhile can only be of an entry read here.
        let head = self.audit_head().await?;
        let mut v = match Verifier::new(head.keyed_from, key).with_checkpoints(checkpoints) {
            Ok(v) => v,
            Err(b) => return Ok(AuditCheck::Broken(b)),
        };
        let mut after = 0i64;
        loop {
            let page: Vec<(AuditEntry, String, String)> = with_pool!(self, p => {
                sqlx::query("SELECT seq, at_ms, actor, action, target, region_code, ip, detail, prev_hash, hash \
                             FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3")
                    .bind(after).bind(head.seq).bind(VERIFY_PAGE).fetch_all(p).await?
                    .iter()
                    .map(|r| Ok((AuditEntry {
                        seq: r.try_get(0)?, at_ms: r.try_get(1)?, actor: r.try_get(2)?, action: r.try_get(3)?,
                        target: r.try_get(4)?, region_code: r.try_get(5)?, ip: r.try_get(6)?, detail: r.try_get(7)?,
                    }, r.try_get(8)?, r.try_get(9)?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            });
            let Some(last) = page.last() else { break };
            after = last.0.seq;
            for (e, prev, hash) in &page {
                if let Err(b) = v.push(e, prev, hash) {
                    return Ok(AuditCheck::Broken(b));
                }
            }
        }
        // The head must agree with the last entry: removing the newest entries is tampering
        // too; and no checkpoint may lie past it.
        Ok(match v.finish(head.seq, &head.hash) {
            Ok(Verified {
                entries,
                last_hash,
                keyed_from,
                keyed_links_checked,
                checkpoints,
                signatures_checked,
            }) => AuditCheck::Intact {
                entries,
                last_hash,
                keyed_from,
                keyed_links_checked,
                checkpoints,
                signatures_checked,
            },
            Err(b) => AuditCheck::Broken(b),
        })
    }
}
