//! Operations that change the register. Each runs in one transaction that also writes its
//! history event (state before and after) and its count deltas; nothing is overwritten or
//! deleted: people who die or move out stay on record with their status and date.

use super::counts::{self, Counts, apply_counts};
use crate::StoreError;
use crate::access::audit::{AuditNote, audit_append};
use crate::backend::{Store, with_pool};
use shezhi_domain::people::privacy::{Field, LookupKind, Vault};
use shezhi_domain::people::{
    Date, IdNumber, KeyTag, PersonStatus, Phone, RegisterEventKind, Relation, Residence, Sex,
};
use sqlx::Row;

/// A person to add to the register.
#[derive(Debug, Clone)]
pub struct NewResident {
    pub name: String,
    pub sex: Sex,
    pub birth: Date,
    pub id_number: Option<IdNumber>,
    pub phone: Option<Phone>,
    pub relation: Relation,
    pub residence: Residence,
}

/// How a person leaves a household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    Death,
    MovedOut,
}

/// Who did it, from where and when (epoch ms); the clock is the caller's.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    pub actor: &'a str,
    pub now_ms: i64,
    /// The client's address, for the audit trail.
    pub ip: Option<&'a str>,
}

fn not_found(what: &'static str, zh: &str, en: &str, id: i64) -> StoreError {
    StoreError::not_found(
        what,
        format!("未找到{zh} {id}"),
        format!("{en} {id} not found"),
    )
}

/// Next ids of a sequence, inside the caller's transaction.
macro_rules! next_id {
    ($tx:expr, $name:expr) => {{
        let row = sqlx::query(
            "UPDATE id_sequences SET next_id = next_id + 1 WHERE name = $1 RETURNING next_id - 1",
        )
        .bind($name)
        .fetch_one(&mut *$tx)
        .await?;
        row.try_get::<i64, _>(0)?
    }};
}

/// Append a history event, and its audit entry, inside the caller's transaction.
macro_rules! event {
    ($tx:expr, $key:expr, $stamp:expr, $kind:expr, $cell:expr, $household:expr, $resident:expr, $detail:expr) => {{
        let household: Option<i64> = $household;
        let resident: Option<i64> = $resident;
        let target = match (resident, household) {
            (Some(r), _) => format!("resident:{r}"),
            (None, Some(h)) => format!("household:{h}"),
            (None, None) => String::new(),
        };
        let note = AuditNote {
            at_ms: $stamp.now_ms,
            actor: $stamp.actor.to_string(),
            action: format!("register.{}", $kind.as_str()),
            target,
            region_code: Some($cell.to_string()),
            ip: $stamp.ip.map(str::to_string),
            detail: $detail.clone(),
        };
        audit_append!($tx, note, $key);
        let id = next_id!($tx, "register_events");
        sqlx::query("INSERT INTO register_events (id, at_ms, actor, kind, cell_code, household_id, resident_id, detail) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(id)
            .bind($stamp.now_ms)
            .bind($stamp.actor)
            .bind($kind.as_str())
            .bind($cell)
            .bind(household)
            .bind(resident)
            .bind($detail.to_string())
            .execute(&mut *$tx)
            .await?;
    }};
}

/// Insert a resident (sealing personal data under the row's id) inside a transaction.
macro_rules! insert_resident {
    ($tx:expr, $vault:expr, $household:expr, $cell:expr, $p:expr, $since:expr) => {{
        let p: &NewResident = $p;
        if let Some(idn) = &p.id_number {
            let lookup = $vault.lookup(LookupKind::IdNumber, idn.as_str()).to_vec();
            let dup = sqlx::query("SELECT id FROM residents WHERE id_lookup = $1 AND status = 'present'")
                .bind(lookup)
                .fetch_optional(&mut *$tx)
                .await?;
            if let Some(r) = dup {
                let other: i64 = r.try_get(0)?;
                return Err(StoreError::refused(
                    "resident_already_registered",
                    format!("身份证号 {} 已登记为在住人员（编号 {other}），请先办理迁出", idn.masked()),
                    format!("identity number {} is already registered as resident {other}; record the move-out first", idn.masked()),
                ));
            }
        }
        let id = next_id!($tx, "residents");
        let nonce = super::fresh_nonce()?;
        let nonce2 = super::fresh_nonce()?;
        sqlx::query("INSERT INTO residents (id, household_id, cell_code, name, sex, birth_date, id_sealed, id_lookup, id_masked, \
                     phone_sealed, phone_lookup, phone_masked, relation, residence, status, since_date, until_date) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'present', $15, NULL)")
            .bind(id)
            .bind($household)
            .bind($cell)
            .bind(p.name.as_str())
            .bind(p.sex.as_str())
            .bind(p.birth.to_string())
            .bind(p.id_number.as_ref().map(|x| $vault.seal(Field::ResidentIdNumber, id, x.as_str(), nonce)))
            .bind(p.id_number.as_ref().map(|x| $vault.lookup(LookupKind::IdNumber, x.as_str()).to_vec()))
            .bind(p.id_number.as_ref().map(IdNumber::masked))
            .bind(p.phone.as_ref().map(|x| $vault.seal(Field::ResidentPhone, id, x.as_str(), nonce2)))
            .bind(p.phone.as_ref().map(|x| $vault.lookup(LookupKind::Phone, x.as_str()).to_vec()))
            .bind(p.phone.as_ref().map(Phone::masked))
            .bind(p.relation.as_str())
            .bind(p.residence.as_str())
            .bind($since.to_string())
            .execute(&mut *$tx)
            .await?;
        id
    }};
}

fn person_json(id: i64, p: &NewResident) -> serde_json::Value {
    serde_json::json!({
        "resident_id": id,
        "name": p.name,
        "sex": p.sex,
        "birth_date": p.birth,
        "id_number": p.id_number.as_ref().map(IdNumber::masked),
        "phone": p.phone.as_ref().map(Phone::masked),
        "relation": p.relation,
        "residence": p.residence,
    })
}

impl Store {
    /// Register a household moving into a room, with its members (exactly one head).
    pub async fn register_household(
        &self,
        room: i64,
        members: &[NewResident],
        on: Date,
        vault: &Vault,
        stamp: Stamp<'_>,
    ) -> Result<i64, StoreError> {
        let heads = members
            .iter()
            .filter(|m| m.relation == Relation::Head)
            .count();
        if heads != 1 {
            return Err(StoreError::refused(
                "household_needs_one_head",
                format!("一户须有且只有一名户主（当前 {heads} 名）"),
                format!("a household needs exactly one head (got {heads})"),
            ));
        }
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let cell: String = sqlx::query("SELECT cell_code FROM rooms WHERE id = $1")
                .bind(room).fetch_optional(&mut *tx).await?
                .ok_or_else(|| not_found("room_not_found", "房屋", "room", room))?
                .try_get(0)?;
            let household = next_id!(tx, "households");
            sqlx::query("INSERT INTO households (id, room_id, cell_code, status, since_date, updated_at_ms) VALUES ($1, $2, $3, 'active', $4, $5)")
                .bind(household).bind(room).bind(cell.as_str()).bind(on.to_string()).bind(stamp.now_ms)
                .execute(&mut *tx).await?;
            let mut c = Counts::default();
            c.add(&cell, counts::HOUSEHOLDS, 1);
            let mut people = Vec::new();
            for m in members {
                let id = insert_resident!(tx, vault, household, cell.as_str(), m, on);
                c.add(&cell, counts::RESIDENTS, 1);
                c.add(&cell, counts::residence_metric(m.residence), 1);
                people.push(person_json(id, m));
            }
            let detail = serde_json::json!({"before": null, "after": {"room_id": room, "cell_code": cell, "members": people}, "on": on});
            event!(tx, self.audit_key(), stamp, RegisterEventKind::HouseholdRegistered, cell.as_str(), Some(household), None, detail);
            apply_counts!(DB, c, tx)?;
            tx.commit().await?;
            Ok(household)
        })
    }

    /// A person joins a household: a birth, or someone moving in.
    pub async fn add_resident(
        &self,
        household: i64,
        person: &NewResident,
        birth: bool,
        on: Date,
        vault: &Vault,
        stamp: Stamp<'_>,
    ) -> Result<i64, StoreError> {
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let row = sqlx::query("SELECT cell_code, status FROM households WHERE id = $1")
                .bind(household).fetch_optional(&mut *tx).await?
                .ok_or_else(|| not_found("household_not_found", "户", "household", household))?;
            let (cell, status): (String, String) = (row.try_get(0)?, row.try_get(1)?);
            if status != "active" {
                return Err(StoreError::refused("household_dissolved", format!("户 {household} 已注销"), format!("household {household} is dissolved")));
            }
            let id = insert_resident!(tx, vault, household, cell.as_str(), person, on);
            let mut c = Counts::default();
            c.add(&cell, counts::RESIDENTS, 1);
            c.add(&cell, counts::residence_metric(person.residence), 1);
            let kind = if birth { RegisterEventKind::Birth } else { RegisterEventKind::ResidentAdded };
            let detail = serde_json::json!({"before": null, "after": person_json(id, person), "on": on});
            event!(tx, self.audit_key(), stamp, kind, cell.as_str(), Some(household), Some(id), detail);
            apply_counts!(DB, c, tx)?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// A household moves to another room (in the same or another micro-grid). Its present
    /// members and their tags move with it; the old address stays in the history.
    pub async fn move_household(
        &self,
        household: i64,
        to_room: i64,
        reason: &str,
        stamp: Stamp<'_>,
    ) -> Result<(), StoreError> {
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let row = sqlx::query("SELECT cell_code, room_id, status FROM households WHERE id = $1")
                .bind(household).fetch_optional(&mut *tx).await?
                .ok_or_else(|| not_found("household_not_found", "户", "household", household))?;
            let (from_cell, from_room, status): (String, i64, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            if status != "active" {
                return Err(StoreError::refused("household_dissolved", format!("户 {household} 已注销"), format!("household {household} is dissolved")));
            }
            if from_room == to_room {
                return Err(StoreError::refused("same_room", "该户已住在此房屋", "the household already lives in this room"));
            }
            let to_cell: String = sqlx::query("SELECT cell_code FROM rooms WHERE id = $1")
                .bind(to_room).fetch_optional(&mut *tx).await?
                .ok_or_else(|| not_found("room_not_found", "房屋", "room", to_room))?
                .try_get(0)?;
            let mut c = Counts::default();
            c.add(&from_cell, counts::HOUSEHOLDS, -1);
            c.add(&to_cell, counts::HOUSEHOLDS, 1);
            let by_residence = sqlx::query("SELECT residence, COUNT(*) FROM residents WHERE household_id = $1 AND status = 'present' GROUP BY residence")
                .bind(household).fetch_all(&mut *tx).await?;
            for r in &by_residence {
                let (res, n): (String, i64) = (r.try_get(0)?, r.try_get(1)?);
                let metric = Residence::parse(&res).map(counts::residence_metric).unwrap_or(counts::RESIDENTS);
                for (cell, d) in [(&from_cell, -n), (&to_cell, n)] {
                    c.add(cell, counts::RESIDENTS, d);
                    c.add(cell, metric, d);
                }
            }
            let by_tag = sqlx::query("SELECT t.tag, COUNT(*) FROM resident_tags t JOIN residents r ON r.id = t.resident_id \
                                      WHERE r.household_id = $1 AND r.status = 'present' AND t.cleared_on IS NULL GROUP BY t.tag")
                .bind(household).fetch_all(&mut *tx).await?;
            for r in &by_tag {
                let (tag, n): (String, i64) = (r.try_get(0)?, r.try_get(1)?);
                if let Some(t) = KeyTag::parse(&tag) {
                    c.add(&from_cell, counts::tag_metric(t), -n);
                    c.add(&to_cell, counts::tag_metric(t), n);
                }
            }
            sqlx::query("UPDATE households SET room_id = $1, cell_code = $2, updated_at_ms = $3 WHERE id = $4")
                .bind(to_room).bind(to_cell.as_str()).bind(stamp.now_ms).bind(household).execute(&mut *tx).await?;
            sqlx::query("UPDATE resident_tags SET cell_code = $1 WHERE resident_id IN \
                         (SELECT id FROM residents WHERE household_id = $2 AND status = 'present')")
                .bind(to_cell.as_str()).bind(household).execute(&mut *tx).await?;
            sqlx::query("UPDATE residents SET cell_code = $1 WHERE household_id = $2 AND status = 'present'")
                .bind(to_cell.as_str()).bind(household).execute(&mut *tx).await?;
            let detail = serde_json::json!({
                "before": {"room_id": from_room, "cell_code": from_cell},
                "after": {"room_id": to_room, "cell_code": to_cell},
                "reason": reason,
            });
            event!(tx, self.audit_key(), stamp, RegisterEventKind::HouseholdMoved, to_cell.as_str(), Some(household), None, detail);
            apply_counts!(DB, c, tx)?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// A death or a move-out: the person stays on record with the status and date, their key
    /// population tags are closed, and a household left with nobody is dissolved.
    pub async fn record_departure(
        &self,
        resident: i64,
        how: Departure,
        on: Date,
        note: &str,
        stamp: Stamp<'_>,
    ) -> Result<(), StoreError> {
        let (status, kind) = match how {
            Departure::Death => (PersonStatus::Deceased, RegisterEventKind::Death),
            Departure::MovedOut => (PersonStatus::MovedOut, RegisterEventKind::MovedOut),
        };
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let row = sqlx::query("SELECT household_id, cell_code, residence, status FROM residents WHERE id = $1")
                .bind(resident).fetch_optional(&mut *tx).await?
                .ok_or_else(|| not_found("resident_not_found", "人员", "resident", resident))?;
            let (household, cell, residence, before): (i64, String, String, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
            if before != PersonStatus::Present.as_str() {
                return Err(StoreError::refused(
                    "resident_not_present",
                    format!("人员 {resident} 已不在住（{before}）"),
                    format!("resident {resident} no longer lives here ({before})"),
                ));
            }
            let mut c = Counts::default();
            c.add(&cell, counts::RESIDENTS, -1);
            if let Some(r) = Residence::parse(&residence) {
                c.add(&cell, counts::residence_metric(r), -1);
            }
            let tags = sqlx::query("SELECT tag FROM resident_tags WHERE resident_id = $1 AND cleared_on IS NULL")
                .bind(resident).fetch_all(&mut *tx).await?;
            let mut closed = Vec::new();
            for t in &tags {
                let tag: String = t.try_get(0)?;
                if let Some(k) = KeyTag::parse(&tag) {
                    c.add(&cell, counts::tag_metric(k), -1);
                }
                closed.push(tag);
            }
            sqlx::query("UPDATE resident_tags SET cleared_on = $1, cleared_by = $2 WHERE resident_id = $3 AND cleared_on IS NULL")
                .bind(on.to_string()).bind(stamp.actor).bind(resident).execute(&mut *tx).await?;
            sqlx::query("UPDATE residents SET status = $1, until_date = $2 WHERE id = $3")
                .bind(status.as_str()).bind(on.to_string()).bind(resident).execute(&mut *tx).await?;
            let left: i64 = sqlx::query("SELECT COUNT(*) FROM residents WHERE household_id = $1 AND status = 'present'")
                .bind(household).fetch_one(&mut *tx).await?.try_get(0)?;
            let dissolved = left == 0;
            if dissolved {
                sqlx::query("UPDATE households SET status = 'dissolved', updated_at_ms = $1 WHERE id = $2")
                    .bind(stamp.now_ms).bind(household).execute(&mut *tx).await?;
                c.add(&cell, counts::HOUSEHOLDS, -1);
            }
            let detail = serde_json::json!({
                "before": {"status": before},
                "after": {"status": status, "until_date": on, "tags_closed": closed, "household_dissolved": dissolved},
                "note": note,
            });
            event!(tx, self.audit_key(), stamp, kind, cell.as_str(), Some(household), Some(resident), detail);
            if dissolved {
                let detail = serde_json::json!({"before": {"status": "active"}, "after": {"status": "dissolved"}, "reason": kind.as_str()});
                event!(tx, self.audit_key(), stamp, RegisterEventKind::HouseholdDissolved, cell.as_str(), Some(household), None, detail);
            }
            apply_counts!(DB, c, tx)?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Mark a present resident as one of a key population.
    pub async fn set_tag(
        &self,
        resident: i64,
        tag: KeyTag,
        note: &str,
        on: Date,
        stamp: Stamp<'_>,
    ) -> Result<i64, StoreError> {
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let row = sqlx::query("SELECT household_id, cell_code, status FROM residents WHERE id = $1")
                .bind(resident).fetch_optional(&mut *tx).await?
                .ok_or_else(|| not_found("resident_not_found", "人员", "resident", resident))?;
            let (household, cell, status): (i64, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            if status != PersonStatus::Present.as_str() {
                return Err(StoreError::refused("resident_not_present", format!("人员 {resident} 已不在住"), format!("resident {resident} no longer lives here")));
            }
            let open = sqlx::query("SELECT id FROM resident_tags WHERE resident_id = $1 AND tag = $2 AND cleared_on IS NULL")
                .bind(resident).bind(tag.as_str()).fetch_optional(&mut *tx).await?;
            if open.is_some() {
                return Err(StoreError::refused("tag_already_set", format!("该人员已标记为{}", tag.zh()), format!("the resident is already tagged {}", tag.as_str())));
            }
            let id = next_id!(tx, "resident_tags");
            sqlx::query("INSERT INTO resident_tags (id, resident_id, cell_code, tag, set_on, set_by, note) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(id).bind(resident).bind(cell.as_str()).bind(tag.as_str()).bind(on.to_string()).bind(stamp.actor).bind(note)
                .execute(&mut *tx).await?;
            let mut c = Counts::default();
            c.add(&cell, counts::tag_metric(tag), 1);
            let detail = serde_json::json!({"before": null, "after": {"tag": tag, "set_on": on, "note": note}});
            event!(tx, self.audit_key(), stamp, RegisterEventKind::TagSet, cell.as_str(), Some(household), Some(resident), detail);
            apply_counts!(DB, c, tx)?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Close a key-population tag; the record of it stays.
    pub async fn clear_tag(
        &self,
        resident: i64,
        tag: KeyTag,
        on: Date,
        stamp: Stamp<'_>,
    ) -> Result<(), StoreError> {
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let row = sqlx::query("SELECT t.id, t.cell_code, r.household_id, t.set_on FROM resident_tags t JOIN residents r ON r.id = t.resident_id \
                                   WHERE t.resident_id = $1 AND t.tag = $2 AND t.cleared_on IS NULL")
                .bind(resident).bind(tag.as_str()).fetch_optional(&mut *tx).await?
                .ok_or_else(|| StoreError::not_found("tag_not_set", format!("该人员未标记为{}", tag.zh()), format!("the resident is not tagged {}", tag.as_str())))?;
            let (id, cell, household, set_on): (i64, String, i64, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
            sqlx::query("UPDATE resident_tags SET cleared_on = $1, cleared_by = $2 WHERE id = $3")
                .bind(on.to_string()).bind(stamp.actor).bind(id).execute(&mut *tx).await?;
            let mut c = Counts::default();
            c.add(&cell, counts::tag_metric(tag), -1);
            let detail = serde_json::json!({"before": {"tag": tag, "set_on": set_on}, "after": {"tag": tag, "cleared_on": on}});
            event!(tx, self.audit_key(), stamp, RegisterEventKind::TagCleared, cell.as_str(), Some(household), Some(resident), detail);
            apply_counts!(DB, c, tx)?;
            tx.commit().await?;
            Ok(())
        })
    }
}
