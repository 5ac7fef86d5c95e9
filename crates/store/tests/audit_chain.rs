//! The keyed audit chain and its checkpoints against someone who can write the database but
//! does not hold the key, on SQLite and on PostgreSQL: each attack rewrites the stored chain
//! and its head directly, as a copy of the database allows.

use shezhi_domain::audit::{
    AuditEntry, AuditKey, BrokenLink, Checkpoint, GENESIS, chain_link, link_hash,
};
use shezhi_domain::people::privacy::DataKey;
use shezhi_store::access::{AuditCheck, AuditNote};
use shezhi_store::{Store, on_both_backends};

const NOW: i64 = 1_795_000_000_000;

type Row = (AuditEntry, String, String);

fn key() -> AuditKey {
    DataKey::from_bytes([42; 32]).audit_key()
}

fn note(action: &str, i: usize) -> AuditNote {
    AuditNote {
        at_ms: NOW + i as i64,
        actor: "user:3".into(),
        action: action.into(),
        target: format!("resident:{i}"),
        region_code: Some("510104018001001".into()),
        ip: Some("10.0.0.8".into()),
        detail: serde_json::json!({ "reason": "家访核实", "n": i }),
    }
}

async fn append(store: &Store, actions: &[&str]) {
    for (i, a) in actions.iter().enumerate() {
        store
            .audit(&note(a, i))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

async fn bind(store: &Store) -> i64 {
    store
        .bind_audit_key(key(), "system", NOW)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A checkpoint of the head as it is now, signed with `k` (unsigned without).
async fn checkpoint(store: &Store, k: Option<&AuditKey>) -> Checkpoint {
    let h = store.audit_head().await.unwrap_or_else(|e| panic!("{e}"));
    Checkpoint::new(h.seq, &h.hash, NOW, h.keyed_from, k)
}

fn lines(cps: &[Checkpoint]) -> Vec<(usize, Checkpoint)> {
    cps.iter()
        .cloned()
        .enumerate()
        .map(|(i, c)| (i + 1, c))
        .collect()
}

async fn rows(store: &Store) -> Vec<Row> {
    store
        .debug_audit_rows()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Renumber from 1 and recompute every link with `f`, as an intruder would.
fn relink(rows: &mut [Row], f: impl Fn(&str, &AuditEntry) -> String) {
    let mut prev = GENESIS.to_string();
    for (i, r) in rows.iter_mut().enumerate() {
        r.0.seq = i as i64 + 1;
        r.1 = prev.clone();
        r.2 = f(&prev, &r.0);
        prev = r.2.clone();
    }
}

async fn rewrite(store: &Store, rows: &[Row], keyed_from: Option<i64>) {
    store
        .debug_rewrite_audit(rows, keyed_from)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn verify(store: &Store, k: Option<AuditKey>, cps: &[Checkpoint]) -> AuditCheck {
    store
        .verify_audit_with(k, lines(cps))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

const ACTIONS: [&str; 6] = [
    "user.signed_in",
    "register.household_moved",
    "personal.revealed",
    "register.tag_set",
    "personal.revealed",
    "user.signed_out",
];

/// (a) Deleting a `personal.revealed` entry and recomputing the chain and its head with the
/// public formula verifies as intact on a plain chain; on a keyed chain it does not.
async fn a_deleted_entry_recomputed_with_the_public_formula_is_found(store: Store) {
    let from = bind(&store).await;
    assert_eq!(from, 1);
    append(&store, &ACTIONS).await;
    let cp = checkpoint(&store, Some(&key())).await;
    assert!(matches!(
        store.verify_audit().await.unwrap_or_else(|e| panic!("{e}")),
        AuditCheck::Intact {
            entries: 7,
            keyed_from: Some(1),
            keyed_links_checked: true,
            ..
        }
    ));
    let mut cut = rows(&store).await;
    let revealed = cut
        .iter()
        .position(|(e, _, _)| e.action == "personal.revealed")
        .unwrap_or_else(|| panic!("no reveal"));
    cut.remove(revealed);
    relink(&mut cut, link_hash);
    rewrite(&store, &cut, Some(from)).await;
    assert_eq!(
        store.verify_audit().await.unwrap_or_else(|e| panic!("{e}")),
        AuditCheck::Broken(BrokenLink::Content { seq: 1 })
    );
    // An intruder who also strips the keyed part: refused given the key, and the signed
    // checkpoint disagrees even without it.
    rewrite(&store, &cut, None).await;
    assert_eq!(
        verify(&store, Some(key()), &[]).await,
        AuditCheck::Broken(BrokenLink::NotKeyed { entries: 6 })
    );
    assert!(matches!(
        verify(&store, None, std::slice::from_ref(&cp)).await,
        AuditCheck::Broken(BrokenLink::KeyedFromChanged { line: 1, .. })
    ));
}

/// (b) Cutting the last entries and moving the head back: the chain alone cannot tell, the
/// checkpoints can, with the key or without it.
async fn cut_entries_and_a_head_moved_back_are_found_by_the_checkpoints(store: Store) {
    bind(&store).await;
    append(&store, &ACTIONS).await;
    let early = checkpoint(&store, Some(&key())).await;
    append(&store, &ACTIONS[..3]).await;
    let late = checkpoint(&store, Some(&key())).await;
    assert_eq!(late.seq, 10);
    let all = rows(&store).await;
    rewrite(&store, &all[..8], Some(1)).await;
    assert!(matches!(
        verify(&store, Some(key()), std::slice::from_ref(&early)).await,
        AuditCheck::Intact { entries: 8, .. }
    ));
    let cps = [early, late];
    for k in [Some(key()), None] {
        assert_eq!(
            verify(&store, k, &cps).await,
            AuditCheck::Broken(BrokenLink::PastEnd {
                line: 2,
                checkpoint: 10,
                last: 8
            })
        );
    }
    // Moving the last checkpoint back too leaves it without a valid signature.
    let mut moved = cps.clone();
    moved[1].seq = 8;
    moved[1].hash = all[7].2.clone();
    assert_eq!(
        verify(&store, Some(key()), &moved).await,
        AuditCheck::Broken(BrokenLink::ForgedCheckpoint { line: 2, seq: 8 })
    );
}

/// (c) An entry rewritten and the chain recomputed under a wrong key: its links fail under
/// the right key, the checkpoints fail without it, and a checkpoint signed with the wrong key
/// is forged.
async fn an_entry_rewritten_under_a_wrong_key_is_found(store: Store) {
    append(&store, &ACTIONS[..2]).await;
    let from = bind(&store).await;
    assert_eq!(from, 3);
    append(&store, &ACTIONS).await;
    let cp = checkpoint(&store, Some(&key())).await;
    let wrong = DataKey::from_bytes([43; 32]).audit_key();
    let mut bent = rows(&store).await;
    bent[5].0.actor = "user:intruder".into();
    relink(&mut bent, |p, e| {
        chain_link(Some(from), Some(&wrong), p, e).unwrap_or_default()
    });
    rewrite(&store, &bent, Some(from)).await;
    assert_eq!(
        verify(&store, Some(key()), &[]).await,
        AuditCheck::Broken(BrokenLink::Content { seq: 3 })
    );
    assert_eq!(
        verify(&store, None, std::slice::from_ref(&cp)).await,
        AuditCheck::Broken(BrokenLink::Rewritten { seq: 9, line: 1 })
    );
    assert!(matches!(
        verify(&store, None, &[]).await,
        AuditCheck::Intact {
            keyed_links_checked: false,
            ..
        }
    ));
    let forged = checkpoint(&store, Some(&wrong)).await;
    assert_eq!(
        verify(&store, Some(key()), &[cp, forged]).await,
        AuditCheck::Broken(BrokenLink::ForgedCheckpoint { line: 2, seq: 9 })
    );
}

/// (d) An intact keyed chain verifies against its checkpoints; entries appended after the
/// last checkpoint are fine.
async fn an_intact_chain_with_checkpoints_verifies(store: Store) {
    let at_start = checkpoint(&store, None).await;
    bind(&store).await;
    let mut cps = vec![at_start, checkpoint(&store, Some(&key())).await];
    append(&store, &ACTIONS).await;
    cps.push(checkpoint(&store, Some(&key())).await);
    cps.push(cps[2].clone());
    append(&store, &ACTIONS[..2]).await;
    assert_eq!(
        verify(&store, Some(key()), &cps).await,
        AuditCheck::Intact {
            entries: 9,
            last_hash: rows(&store).await[8].2.clone(),
            keyed_from: Some(1),
            keyed_links_checked: true,
            checkpoints: 4,
            signatures_checked: 3,
        }
    );
    assert!(matches!(
        verify(&store, None, &cps).await,
        AuditCheck::Intact {
            entries: 9,
            keyed_links_checked: false,
            checkpoints: 4,
            signatures_checked: 0,
            ..
        }
    ));
    // A line's signature holds after a round trip through its text.
    let reread: Vec<Checkpoint> = cps
        .iter()
        .map(|c| Checkpoint::parse(&c.line()).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert!(matches!(
        verify(&store, Some(key()), &reread).await,
        AuditCheck::Intact { .. }
    ));
}

/// (e) A chain begun before the key (plain links, an unsigned checkpoint) and keyed from a
/// marker on: verifies; binding again neither moves the start nor adds a marker.
async fn an_unkeyed_prefix_then_keyed_entries_verifies(store: Store) {
    append(&store, &ACTIONS[..4]).await;
    let before = checkpoint(&store, None).await;
    assert_eq!(
        verify(&store, None, std::slice::from_ref(&before)).await,
        AuditCheck::Intact {
            entries: 4,
            last_hash: before.hash.clone(),
            keyed_from: None,
            keyed_links_checked: false,
            checkpoints: 1,
            signatures_checked: 0,
        }
    );
    assert_eq!(bind(&store).await, 5);
    assert_eq!(bind(&store).await, 5);
    append(&store, &ACTIONS[..3]).await;
    let after = checkpoint(&store, Some(&key())).await;
    let all = rows(&store).await;
    assert_eq!(all.len(), 8);
    assert_eq!(all[4].0.action, "audit.keyed");
    assert_eq!(all[3].2, link_hash(&all[3].1, &all[3].0));
    assert_ne!(all[5].2, link_hash(&all[5].1, &all[5].0));
    assert!(matches!(
        verify(&store, Some(key()), &[before.clone(), after.clone()]).await,
        AuditCheck::Intact {
            entries: 8,
            keyed_from: Some(5),
            keyed_links_checked: true,
            checkpoints: 2,
            signatures_checked: 1,
            ..
        }
    ));
    // The unsigned checkpoint of the unkeyed part cannot vouch for the keyed part.
    let mut bogus = before;
    bogus.seq = after.seq;
    bogus.hash = after.hash.clone();
    assert!(matches!(
        verify(&store, Some(key()), &[bogus]).await,
        AuditCheck::Broken(BrokenLink::ForgedCheckpoint { .. })
    ));
}

on_both_backends!(
    a_deleted_entry_recomputed_with_the_public_formula_is_found,
    cut_entries_and_a_head_moved_back_are_found_by_the_checkpoints,
    an_entry_rewritten_under_a_wrong_key_is_found,
    an_intact_chain_with_checkpoints_verifies,
    an_unkeyed_prefix_then_keyed_entries_verifies
);
