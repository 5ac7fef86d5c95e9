//! Changing the register keeps history and keeps the counts equal to a recount, on SQLite
//! and on PostgreSQL.

use shezhi_domain::Bilingual;
use shezhi_domain::people::privacy::{DataKey, Vault};
use shezhi_domain::people::{Date, IdNumber, KeyTag, Phone, Relation, Residence, Sex};
use shezhi_domain::synth;
use shezhi_domain::territory::RegionCode;
use shezhi_store::register::{Departure, LoadOptions, LoadSpec, NewResident, Search, Stamp};
use shezhi_store::testing::one_district;
use shezhi_store::{Store, on_both_backends};
use std::sync::Arc;

const COMMUNITY: &str = "510104018001";
const STAMP: Stamp<'static> = Stamp {
    actor: "user:test",
    now_ms: 1_795_000_000_000,
    ip: Some("192.0.2.7"),
};

fn code(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn day(s: &str) -> Date {
    Date::parse(s).unwrap_or_else(|| panic!("{s}"))
}

fn vault() -> Vault {
    Vault::new(&DataKey::from_bytes([42; 32]))
}

async fn loaded(store: &Store) {
    store
        .put_regions(one_district())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let plans = store
        .register_plans(&code(COMMUNITY))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let spec = LoadSpec {
        plans,
        seed: 11,
        as_of: synth::default_as_of(),
    };
    store
        .load_register(
            spec,
            Arc::new(vault()),
            LoadOptions::new(STAMP.now_ms),
            |_| {},
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Stored counts equal a recount for the region and every ancestor.
async fn assert_counts(store: &Store, cell: &str) {
    let mut chain = code(cell).ancestors();
    chain.push(code(cell));
    for c in chain {
        let stored = store
            .region_counts(&c)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let recount = store.recount(&c).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stored, recount, "counts of {}", c.as_str());
    }
}

fn newborn() -> NewResident {
    let birth = day("2026-10-02");
    NewResident {
        name: "张小雨".into(),
        sex: Sex::Female,
        birth,
        id_number: Some(IdNumber::compose(510104, birth, 2)),
        phone: None,
        relation: Relation::Child,
        residence: Residence::Registered,
    }
}

async fn a_move_keeps_the_old_address_in_history(store: Store) {
    loaded(&store).await;
    let region = code(COMMUNITY);
    let page = store
        .households_in(std::slice::from_ref(&region), None, 500)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let first = page
        .items
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no households"));
    let last = page
        .items
        .iter()
        .rev()
        .find(|h| h.cell_code != first.cell_code)
        .cloned()
        .unwrap_or_else(|| panic!("one cell only"));
    let before = store
        .household(first.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("gone"));
    assert!(before.history.is_empty());
    store
        .move_household(first.id, last.room_id, "换房", STAMP)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let after = store
        .household(first.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("gone"));
    assert_eq!(after.household.room_id, last.room_id);
    assert_eq!(after.household.cell_code, last.cell_code);
    assert!(after.members.iter().all(|m| m.cell_code == last.cell_code));
    let event = &after.history[0];
    assert_eq!(event.kind, "household_moved");
    assert_eq!(event.detail["before"]["room_id"], first.room_id);
    assert_eq!(
        event.detail["before"]["cell_code"],
        first.cell_code.as_str()
    );
    assert_eq!(event.detail["after"]["room_id"], last.room_id);
    assert_eq!(event.actor, "user:test");
    assert_counts(&store, &first.cell_code).await;
    assert_counts(&store, &last.cell_code).await;
    // Moving into the room it already has is refused.
    let again = store
        .move_household(first.id, last.room_id, "", STAMP)
        .await;
    assert!(again.is_err_and(|e| e.code() == "same_room"));
    let missing = store.move_household(first.id, 1, "", STAMP).await;
    assert!(missing.is_err_and(|e| e.code() == "room_not_found"));
}

async fn deaths_and_births_keep_history(store: Store) {
    loaded(&store).await;
    let v = vault();
    let region = code(COMMUNITY);
    let over80 = store
        .residents_in(std::slice::from_ref(&region), Some("over_80"), None, 50)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let elder = over80
        .items
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no over-80s"));
    assert!(elder.tags.contains(&"over_80".to_string()));
    store
        .record_departure(elder.id, Departure::Death, day("2026-11-20"), "病故", STAMP)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let gone = store
        .resident(elder.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("deleted"));
    assert_eq!(gone.resident.status, "deceased");
    assert_eq!(gone.resident.until_date.as_deref(), Some("2026-11-20"));
    assert!(gone.resident.tags.is_empty(), "tags closed");
    assert!(
        gone.tags
            .iter()
            .any(|t| t.tag == "over_80" && t.cleared_on.as_deref() == Some("2026-11-20"))
    );
    assert_eq!(gone.history.last().map(|e| e.kind.as_str()), Some("death"));
    let household = store
        .household(elder.household_id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("gone"));
    assert!(
        household
            .members
            .iter()
            .any(|m| m.id == elder.id && m.status == "deceased"),
        "the dead stay on record"
    );
    assert_counts(&store, &elder.cell_code).await;
    let twice = store
        .record_departure(elder.id, Departure::MovedOut, day("2026-11-21"), "", STAMP)
        .await;
    assert!(twice.is_err_and(|e| e.code() == "resident_not_present"));

    // A birth in a household still living there.
    let family = store
        .households_in(std::slice::from_ref(&region), None, 50)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let home = family
        .items
        .iter()
        .find(|h| h.members >= 2)
        .cloned()
        .unwrap_or_else(|| panic!("no family"));
    let baby = store
        .add_resident(home.id, &newborn(), true, day("2026-10-02"), &v, STAMP)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let detail = store
        .resident(baby)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("missing"));
    assert_eq!(detail.history[0].kind, "birth");
    assert!(
        detail
            .resident
            .id_number_masked
            .as_deref()
            .is_some_and(|m| m.starts_with("51***************"))
    );
    // The same identity number cannot be registered twice while present.
    let dup = store
        .add_resident(home.id, &newborn(), true, day("2026-10-02"), &v, STAMP)
        .await;
    assert!(dup.is_err_and(|e| e.code() == "resident_already_registered"));
    // Found by full number (keyed hash), by masked number and by name, within the region only.
    let id = newborn().id_number.unwrap_or_else(|| panic!());
    for q in [id.as_str().to_string(), id.masked(), "张小".to_string()] {
        let s = Search::parse(&q, day("2026-11-23")).unwrap_or_else(|| panic!("{q}"));
        let found = store
            // A masked form is shared by about one person in ten of a region.
            .search_residents(std::slice::from_ref(&region), &s, Some(&v), 500)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(found.iter().any(|r| r.id == baby), "{q:?} finds the baby");
        let elsewhere = store
            .search_residents(&[code("510104018002")], &s, Some(&v), 20)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            elsewhere.iter().all(|r| r.id != baby),
            "{q:?} stays inside the region"
        );
    }
    assert_counts(&store, &home.cell_code).await;

    // Everyone leaving dissolves the household; it stays on record.
    let members = store
        .household(home.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!())
        .members;
    for m in members.iter().filter(|m| m.status == "present") {
        store
            .record_departure(
                m.id,
                Departure::MovedOut,
                day("2026-11-22"),
                "迁往外地",
                STAMP,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let empty = store
        .household(home.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!());
    assert_eq!(empty.household.status, "dissolved");
    assert_eq!(
        empty.history.last().map(|e| e.kind.as_str()),
        Some("household_dissolved")
    );
    assert_counts(&store, &home.cell_code).await;
}

async fn tags_and_new_households(store: Store) {
    loaded(&store).await;
    let v = vault();
    let region = code(COMMUNITY);
    let people = store
        .residents_in(std::slice::from_ref(&region), None, None, 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let r = people.items[3].clone();
    store
        .set_tag(
            r.id,
            KeyTag::LowIncome,
            "2026 年复核",
            day("2026-11-01"),
            STAMP,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let again = store
        .set_tag(r.id, KeyTag::LowIncome, "", day("2026-11-01"), STAMP)
        .await;
    assert!(again.is_err_and(|e| e.code() == "tag_already_set"));
    assert_counts(&store, &r.cell_code).await;
    store
        .clear_tag(r.id, KeyTag::LowIncome, day("2026-11-15"), STAMP)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let cleared = store
        .clear_tag(r.id, KeyTag::LowIncome, day("2026-11-15"), STAMP)
        .await;
    assert!(cleared.is_err_and(|e| e.code() == "tag_not_set"));
    assert_counts(&store, &r.cell_code).await;

    let households = store
        .households_in(std::slice::from_ref(&region), None, 1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let room = households.items[0].room_id;
    let head = NewResident {
        name: "刘建国".into(),
        sex: Sex::Male,
        birth: day("1980-05-06"),
        id_number: Some(IdNumber::compose(510104, day("1980-05-06"), 13)),
        phone: Phone::parse("13912345678").ok(),
        relation: Relation::Head,
        residence: Residence::Floating,
    };
    let mut spouse = head.clone();
    spouse.relation = Relation::Spouse;
    spouse.id_number = None;
    spouse.phone = None;
    let no_head = store
        .register_household(
            room,
            std::slice::from_ref(&spouse),
            day("2026-11-01"),
            &v,
            STAMP,
        )
        .await;
    assert!(no_head.is_err_and(|e| e.code() == "household_needs_one_head"));
    let id = store
        .register_household(room, &[head, spouse], day("2026-11-01"), &v, STAMP)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(id >= synth::LIVE_ID_START);
    let h = store
        .household(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!());
    assert_eq!(h.members.len(), 2);
    assert_eq!(h.household.head_name.as_deref(), Some("刘建国"));
    assert_eq!(h.members[0].phone_masked.as_deref(), Some("139****5678"));
    assert_counts(&store, &h.household.cell_code).await;
    // Paging walks every household exactly once.
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .households_in(std::slice::from_ref(&region), cursor.as_deref(), 97)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for x in &page.items {
            assert!(seen.insert(x.id), "household {} twice", x.id);
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let counts = store
        .region_counts(&region)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(Some(seen.len() as i64), counts.get("households").copied());
}

on_both_backends!(
    a_move_keeps_the_old_address_in_history,
    deaths_and_births_keep_history,
    tags_and_new_households
);
