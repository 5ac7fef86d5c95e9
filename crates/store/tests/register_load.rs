//! Loading the synthetic register, on SQLite and on PostgreSQL: counts equal a recount,
//! the same seed gives the same digest, an interrupted load resumes without duplicates, and
//! no identity number or phone is stored in clear.

use shezhi_domain::people::privacy::{DataKey, Vault};
use shezhi_domain::synth;
use shezhi_domain::territory::RegionCode;
use shezhi_store::register::{LoadOptions, LoadSpec};
use shezhi_store::testing::{TestDb, one_district};
use shezhi_store::{Backend, Store, on_both_backends};
use std::sync::Arc;
use std::sync::atomic::Ordering;

const STREET: &str = "510104018000";
const NOW_MS: i64 = 1_795_000_000_000;

fn code(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn vault() -> Arc<Vault> {
    Arc::new(Vault::new(&DataKey::from_bytes([42; 32])))
}

async fn spec(store: &Store, scope: &str, seed: u64) -> LoadSpec {
    store
        .put_regions(one_district())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let plans = store
        .register_plans(&code(scope))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!plans.is_empty());
    LoadSpec {
        plans,
        seed,
        as_of: synth::default_as_of(),
    }
}

async fn table_rows(store: &Store) -> Vec<i64> {
    let mut out = Vec::new();
    for c in [STREET, "510104000000", "510100000000"] {
        let c = store
            .region_counts(&code(c))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        out.push(c.get("residents").copied().unwrap_or(0));
        out.push(c.get("households").copied().unwrap_or(0));
    }
    out
}

async fn counts_equal_a_recount_at_every_level(store: Store) {
    let spec = spec(&store, STREET, 1).await;
    let community = spec.plans[0].code[..12].to_string();
    let grid = spec.plans[0].code.clone();
    let cell = spec.plans[0].cells[0].code.clone();
    let report = store
        .load_register(spec.clone(), vault(), LoadOptions::new(NOW_MS), |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.grids_loaded, spec.plans.len());
    assert!(!report.cancelled);
    for c in [
        cell.as_str(),
        grid.as_str(),
        community.as_str(),
        STREET,
        "510104000000",
        "510100000000",
    ] {
        let stored = store
            .region_counts(&code(c))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let recount = store
            .recount(&code(c))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stored, recount, "counts of {c}");
        assert!(
            stored.get("residents").copied().unwrap_or(0) > 0,
            "{c} has residents"
        );
    }
    let street = store
        .region_counts(&code(STREET))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let generated: usize = spec
        .plans
        .iter()
        .map(|p| synth::generate_grid(p, 1, spec.as_of).people.len())
        .sum();
    assert_eq!(street.get("residents").copied(), Some(generated as i64));
    assert!(street.contains_key("tag.over_80") && street.contains_key("staff"));
    // Loading again writes nothing and changes nothing.
    let before = table_rows(&store).await;
    let digest = store
        .register_digest()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let again = store
        .load_register(spec.clone(), vault(), LoadOptions::new(NOW_MS), |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (again.grids_loaded, again.grids_skipped, again.rows),
        (0, spec.plans.len(), 0)
    );
    assert_eq!(table_rows(&store).await, before);
    assert_eq!(
        store
            .register_digest()
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        digest
    );
    // Another seed is refused rather than mixed in.
    let other = LoadSpec { seed: 2, ..spec };
    let refused = store
        .load_register(other, vault(), LoadOptions::new(NOW_MS), |_| {})
        .await;
    assert!(
        matches!(refused, Err(ref e) if shezhi_domain::Bilingual::code(e) == "register_seed_mismatch"),
        "{refused:?}"
    );
    // And so is another data key.
    let stranger = Arc::new(Vault::new(&DataKey::from_bytes([7; 32])));
    let spec = LoadSpec {
        plans: vec![],
        seed: 1,
        as_of: synth::default_as_of(),
    };
    let refused = store
        .load_register(spec, stranger, LoadOptions::new(NOW_MS), |_| {})
        .await;
    assert!(
        matches!(refused, Err(ref e) if shezhi_domain::Bilingual::code(e) == "data_key_mismatch"),
        "{refused:?}"
    );
}

async fn an_interrupted_load_resumes_to_the_same_register(store: Store) {
    let spec = spec(&store, STREET, 5).await;
    let mut opts = LoadOptions::new(NOW_MS);
    opts.batch_rows = 5_000;
    let cancel = opts.cancel.clone();
    let first = store
        .load_register(spec.clone(), vault(), opts, |p| {
            if p.grids_done >= 3 {
                cancel.store(true, Ordering::Relaxed);
            }
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(first.cancelled);
    assert!(
        first.grids_loaded >= 3 && first.grids_loaded < spec.plans.len(),
        "{first:?}"
    );
    let second = store
        .load_register(spec.clone(), vault(), LoadOptions::new(NOW_MS), |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(second.grids_skipped, first.grids_loaded);
    assert_eq!(first.grids_loaded + second.grids_loaded, spec.plans.len());
    let resumed = store
        .register_digest()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let counts = store
        .region_counts(&code(STREET))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        counts,
        store
            .recount(&code(STREET))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    );

    // The same load in one go, into another database, gives the same register.
    let other = TestDb::fresh(store.backend()).await;
    let spec2 = self::spec(&other.store, STREET, 5).await;
    other
        .store
        .load_register(spec2, vault(), LoadOptions::new(NOW_MS), |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        other
            .store
            .register_digest()
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        resumed
    );
    assert_eq!(
        other
            .store
            .region_counts(&code(STREET))
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        counts
    );
    other.cleanup().await;
}

on_both_backends!(
    counts_equal_a_recount_at_every_level,
    an_interrupted_load_resumes_to_the_same_register
);

/// Every identity number and phone of the loaded community, in clear.
fn plaintexts(spec: &LoadSpec) -> Vec<String> {
    let mut out = Vec::new();
    for p in &spec.plans {
        let reg = synth::generate_grid(p, spec.seed, spec.as_of);
        for person in &reg.people {
            out.extend(person.id_number.as_ref().map(|x| x.as_str().to_string()));
            out.extend(person.phone.as_ref().map(|x| x.as_str().to_string()));
        }
        out.extend(reg.staff.iter().map(|s| s.phone.as_str().to_string()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_identity_number_or_phone_in_the_sqlite_file() {
    let db = TestDb::fresh(Backend::Sqlite).await;
    let spec = spec(&db.store, "510104018001", 9).await;
    db.store
        .load_register(spec.clone(), vault(), LoadOptions::new(NOW_MS), |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let secrets = plaintexts(&spec);
    assert!(secrets.len() > 1000);
    let url = db.url.clone();
    db.store.close().await;
    let path = url.trim_start_matches("sqlite://");
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(format!("{path}{suffix}")) {
            bytes.extend(b);
        }
    }
    assert!(bytes.len() > 1_000_000);
    let text = String::from_utf8_lossy(&bytes);
    for s in &secrets {
        assert!(
            !text.contains(s.as_str()),
            "{} found in the database file",
            &s[..4]
        );
    }
    // The masked forms are there: the check above would see clear text if it were.
    let masked = spec
        .plans
        .iter()
        .flat_map(|p| synth::generate_grid(p, 9, spec.as_of).people)
        .find_map(|p| p.id_number.map(|i| i.masked()));
    assert!(masked.is_some_and(|m| text.contains(m.as_str())));
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_identity_number_or_phone_in_postgres_rows() {
    let db = TestDb::fresh(Backend::Postgres).await;
    let spec = spec(&db.store, "510104018001", 9).await;
    db.store
        .load_register(spec.clone(), vault(), LoadOptions::new(NOW_MS), |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut dump = String::new();
    for table in [
        "residents",
        "staff",
        "households",
        "resident_tags",
        "register_loads",
    ] {
        dump.push_str(
            &db.store
                .debug_dump_table(table)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    assert!(dump.len() > 100_000);
    for s in plaintexts(&spec) {
        assert!(!dump.contains(s.as_str()), "{} found in a row", &s[..4]);
    }
    db.cleanup().await;
}
