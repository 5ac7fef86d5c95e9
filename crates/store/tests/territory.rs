//! Store tests for the territory, each run on SQLite and on PostgreSQL.

use shezhi_domain::territory::{Level, RegionCode, RegionKind, RegionRecord, Source};
use shezhi_store::{Backend, Store, StoreError, StoreOptions, on_both_backends};

use shezhi_store::testing::one_district as jinjiang;

fn code(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

async fn loaded(store: &Store) {
    store
        .put_regions(jinjiang())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn migrations_apply_once(store: Store) {
    let again = store.migrate().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(again.is_empty(), "second migrate applied {again:?}");
}

async fn subtree_queries_use_code_prefixes(store: Store) {
    loaded(&store).await;
    let t = jinjiang();
    for root in ["510104000000", "510104017000", "510104017001"] {
        let root = code(root);
        let counts = store
            .subtree_counts(&root)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for level in [
            Level::Street,
            Level::Community,
            Level::Grid,
            Level::MicroGrid,
        ] {
            let want = t
                .iter()
                .filter(|r| r.level() == level && root.contains(&r.code) && r.code != root)
                .count() as i64;
            let got = counts
                .iter()
                .find(|(l, _)| *l == level)
                .map(|(_, n)| *n)
                .unwrap_or(0);
            assert_eq!(got, want, "{root} {level}");
        }
    }
    let street = store
        .region(&code("510104017000"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let street = street.unwrap_or_else(|| panic!("street missing"));
    assert_eq!(street.level, Level::Street);
    assert!(street.area_km2 > 0.1, "{}", street.area_km2);
    let kids = store
        .children(&code("510104017000"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !kids.is_empty()
            && kids
                .iter()
                .all(|k| k.level == Level::Community
                    && k.parent_code.as_deref() == Some("510104017000"))
    );
    assert!(
        store
            .region(&code("510199000000"))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
}

async fn leaves_round_trip_exactly(store: Store) {
    loaded(&store).await;
    let leaves = store.leaf_regions().await.unwrap_or_else(|e| panic!("{e}"));
    let want: Vec<&RegionRecord> = jinjiang()
        .iter()
        .filter(|r| r.level() == Level::MicroGrid)
        .collect();
    assert_eq!(leaves.len(), want.len());
    for (got, want) in leaves.iter().zip(want) {
        assert_eq!(got.code, want.code);
        assert_eq!(Some(&got.shape), want.shape.as_ref(), "{}", got.code);
    }
}

async fn cells_are_replaced_atomically(store: Store) {
    loaded(&store).await;
    let community = code("510104017001");
    let shape = jinjiang()
        .iter()
        .find(|r| r.code == community)
        .and_then(|r| r.shape.clone());
    let grid = RegionRecord {
        code: code("510104017001001"),
        name: "一网格".into(),
        parent: Some(community.clone()),
        kind: RegionKind::Standard,
        households_est: 0,
        population_est: 0,
        shape,
        source: Source::Imported,
    };
    store
        .replace_cells(std::slice::from_ref(&community), &[grid])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let kids = store
        .children(&community)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kids.len(), 1);
    assert_eq!(kids[0].source, Source::Imported);
    let counts = store
        .subtree_counts(&community)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(counts, vec![(Level::Grid, 1)]);
    // The imported grid, having no micro-grids, is now a leaf of the point index.
    let leaves = store.leaf_regions().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(leaves.iter().any(|l| l.code.as_str() == "510104017001001"));
    // A cell whose parent does not exist is refused, and nothing changes.
    let orphan = RegionRecord {
        code: code("510104017999001"),
        parent: Some(code("510104017999")),
        ..jinjiang()[0].clone()
    };
    assert!(
        store
            .replace_cells(std::slice::from_ref(&community), &[orphan])
            .await
            .is_err()
    );
    assert_eq!(
        store
            .children(&community)
            .await
            .map(|k| k.len())
            .unwrap_or(0),
        1
    );
}

async fn the_planner_gets_statistics(store: Store) {
    loaded(&store).await;
    let before = store
        .debug_tables_with_statistics()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!before.contains(&"regions".to_string()), "{before:?}");
    let refreshed = store
        .refresh_statistics()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let after = store
        .debug_tables_with_statistics()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    match store.backend() {
        // SQLite keeps none of its own: the regions just written get them.
        Backend::Sqlite => {
            assert!(refreshed);
            assert!(after.contains(&"regions".to_string()), "{after:?}");
        }
        // PostgreSQL's autovacuum keeps them; nothing to do.
        Backend::Postgres => assert!(!refreshed),
    }
}

on_both_backends!(
    migrations_apply_once,
    subtree_queries_use_code_prefixes,
    leaves_round_trip_exactly,
    cells_are_replaced_atomically,
    the_planner_gets_statistics
);

#[tokio::test]
async fn bad_database_urls_are_explained() {
    use shezhi_domain::Bilingual;
    for url in ["mysql://x/y", "shezhi.db", "postgres://[::1"] {
        let err = Store::connect(url, &StoreOptions::default()).await.err();
        let err = err.unwrap_or_else(|| panic!("{url} accepted"));
        assert_eq!(err.code(), "invalid_database_url", "{url}: {err}");
        assert!(err.zh().contains("数据库地址") && err.en().contains("database URL"));
    }
    let err = Store::connect(
        "postgres://nobody@127.0.0.1:1/none",
        &StoreOptions {
            connect_timeout: std::time::Duration::from_secs(2),
            ..Default::default()
        },
    )
    .await
    .err();
    assert!(matches!(err, Some(StoreError::Unavailable(_))), "{err:?}");
}

#[test]
fn both_backends_have_the_same_migrations() {
    let names = |b: &str| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(b);
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
}
