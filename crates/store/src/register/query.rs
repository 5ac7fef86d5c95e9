//! Reads of the register for the API: households and residents of a region (paged by a
//! cursor, personal data masked), one household with its people and history, one resident,
//! and search within a region by name, full or masked identity number, or phone.

use crate::StoreError;
use crate::backend::Store;
use crate::db::{Conn, Row, Sql};
use shezhi_domain::people::privacy::{LookupKind, Vault};
use shezhi_domain::people::{IdNumber, Phone};
use shezhi_domain::territory::RegionCode;

/// A household as listed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HouseholdSummary {
    pub id: i64,
    /// The micro-grid it lives in.
    pub cell_code: String,
    /// `active` or `dissolved`.
    pub status: String,
    pub since_date: String,
    pub room_id: i64,
    /// Compound, building and room, e.g. `锦湖花园 3栋 1单元502`.
    pub address: String,
    /// People living there now.
    pub members: i64,
    pub head_name: Option<String>,
}

/// A resident as listed. Identity number and phone are masked.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResidentSummary {
    pub id: i64,
    pub household_id: i64,
    pub cell_code: String,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    /// e.g. `51***************4`.
    pub id_number_masked: Option<String>,
    /// e.g. `138****1234`.
    pub phone_masked: Option<String>,
    pub relation: String,
    /// `registered`, `floating` or `overseas`.
    pub residence: String,
    /// `present`, `moved_out` or `deceased`.
    pub status: String,
    pub since_date: String,
    pub until_date: Option<String>,
    /// Key-population tags in force.
    pub tags: Vec<String>,
}

/// One entry of the register's history.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterEvent {
    pub id: i64,
    pub at_ms: i64,
    pub actor: String,
    pub kind: String,
    pub cell_code: String,
    pub household_id: Option<i64>,
    pub resident_id: Option<i64>,
    /// State before and after, as recorded.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: serde_json::Value,
}

/// A key-population tag with who set and closed it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagRecord {
    pub tag: String,
    pub set_on: String,
    pub set_by: String,
    pub cleared_on: Option<String>,
    pub cleared_by: Option<String>,
    pub note: Option<String>,
}

/// A household with everyone who lives or lived there and what happened to it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HouseholdDetail {
    pub household: HouseholdSummary,
    pub compound_name: String,
    pub compound_kind: String,
    pub building_name: String,
    pub room_label: String,
    /// Location of the building.
    pub point: [f64; 2],
    pub members: Vec<ResidentSummary>,
    pub history: Vec<RegisterEvent>,
}

/// A resident with their tags (in force and closed) and history.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResidentDetail {
    pub resident: ResidentSummary,
    pub tags: Vec<TagRecord>,
    pub history: Vec<RegisterEvent>,
}

/// One page of a list and the cursor of the next.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// What a search string is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    /// A full identity number (found by keyed hash).
    IdNumber(IdNumber),
    /// A full phone (found by keyed hash).
    Phone(Phone),
    /// A masked identity number as shown in lists, `51***************4`.
    MaskedId(String),
    /// A masked phone, `138****1234`.
    MaskedPhone(String),
    /// The start of a name.
    Name(String),
}

impl Search {
    /// Read a search string; `today` bounds identity birth dates.
    pub fn parse(q: &str, today: shezhi_domain::people::Date) -> Option<Search> {
        let q = q.trim();
        if q.is_empty() || q.chars().count() > 40 {
            return None;
        }
        let b = q.as_bytes();
        let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        if b.len() == 18 && b[2..17].iter().all(|c| *c == b'*') {
            return Some(Search::MaskedId(q.to_uppercase()));
        }
        if b.len() == 11 && &b[3..7] == b"****" && digits(&b[..3]) && digits(&b[7..]) {
            return Some(Search::MaskedPhone(q.to_string()));
        }
        if let Ok(id) = IdNumber::parse(q, today) {
            return Some(Search::IdNumber(id));
        }
        if digits(b) || q.starts_with('+') {
            return Phone::parse(q).ok().map(Search::Phone);
        }
        Some(Search::Name(q.to_string()))
    }
}

const RESIDENT_COLUMNS: &str = "r.id, r.household_id, r.cell_code, r.name, r.sex, r.birth_date, r.id_masked, r.phone_masked, \
                                r.relation, r.residence, r.status, r.since_date, r.until_date";

fn resident_row(r: &Row) -> Result<ResidentSummary, sqlx::Error> {
    Ok(ResidentSummary {
        id: r.get(0)?,
        household_id: r.get(1)?,
        cell_code: r.get(2)?,
        name: r.get(3)?,
        sex: r.get(4)?,
        birth_date: r.get(5)?,
        id_number_masked: r.get(6)?,
        phone_masked: r.get(7)?,
        relation: r.get(8)?,
        residence: r.get(9)?,
        status: r.get(10)?,
        since_date: r.get(11)?,
        until_date: r.get(12)?,
        tags: Vec::new(),
    })
}

const HOUSEHOLD_SELECT: &str = "SELECT h.id, h.cell_code, h.status, h.since_date, h.room_id, c.name, b.name, rm.label, \
    (SELECT COUNT(*) FROM residents x WHERE x.household_id = h.id AND x.status = 'present'), \
    (SELECT MIN(x.name) FROM residents x WHERE x.household_id = h.id AND x.status = 'present' AND x.relation = 'head'), \
    c.kind, b.lon, b.lat \
    FROM households h JOIN rooms rm ON rm.id = h.room_id JOIN buildings b ON b.id = rm.building_id \
    JOIN compounds c ON c.id = b.compound_id";

/// The register events of one household or resident (`of`: `household_id` or
/// `resident_id`), oldest first.
async fn history(conn: &mut Conn<'_>, of: &str, id: i64) -> Result<Vec<RegisterEvent>, StoreError> {
    let q = Sql::new(format!(
        "SELECT id, at_ms, actor, kind, cell_code, household_id, resident_id, detail \
         FROM register_events WHERE {of} = $1 ORDER BY id"
    ))
    .bind(id);
    let rows = conn.fetch_all(&q).await?;
    Ok(rows.iter().map(event_row).collect::<Result<Vec<_>, _>>()?)
}

type HouseholdRow = (HouseholdSummary, String, String, String, String, [f64; 2]);

fn household_row(r: &Row) -> Result<HouseholdRow, sqlx::Error> {
    let (compound, building, room): (String, String, String) = (r.get(5)?, r.get(6)?, r.get(7)?);
    let summary = HouseholdSummary {
        id: r.get(0)?,
        cell_code: r.get(1)?,
        status: r.get(2)?,
        since_date: r.get(3)?,
        room_id: r.get(4)?,
        address: format!("{compound} {building} {room}"),
        members: r.get(8)?,
        head_name: r.get(9)?,
    };
    Ok((
        summary,
        compound,
        r.get(10)?,
        building,
        room,
        [r.get(11)?, r.get(12)?],
    ))
}

fn event_row(r: &Row) -> Result<RegisterEvent, sqlx::Error> {
    let detail: String = r.get(7)?;
    Ok(RegisterEvent {
        id: r.get(0)?,
        at_ms: r.get(1)?,
        actor: r.get(2)?,
        kind: r.get(3)?,
        cell_code: r.get(4)?,
        household_id: r.get(5)?,
        resident_id: r.get(6)?,
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
    })
}

/// Cursor of keyset pages ordered by (cell code, id).
fn cursor(c: Option<&str>) -> (String, i64) {
    c.and_then(|c| c.split_once('.'))
        .and_then(|(cell, id)| Some((cell.to_string(), id.parse().ok()?)))
        .unwrap_or_default()
}

impl Store {
    /// Households living in any of `scopes` (the caller's part of a region), `limit` at a
    /// time after `after` (a previous page's `next_cursor`). Each scope is one index range.
    pub async fn households_in(
        &self,
        scopes: &[RegionCode],
        after: Option<&str>,
        limit: i64,
    ) -> Result<Page<HouseholdSummary>, StoreError> {
        let mut items = Vec::new();
        let mut after = after.map(str::to_string);
        for scope in RegionCode::disjoint(scopes.to_vec()) {
            let want = limit - items.len() as i64;
            if want <= 0 {
                break;
            }
            let page = self
                .households_in_one(&scope, after.as_deref(), want)
                .await?;
            if let Some(last) = page.items.last() {
                after = Some(format!("{}.{}", last.cell_code, last.id));
            }
            items.extend(page.items);
        }
        let next_cursor = (items.len() as i64 == limit)
            .then(|| items.last().map(|h| format!("{}.{}", h.cell_code, h.id)))
            .flatten();
        Ok(Page { items, next_cursor })
    }

    /// Present residents of any of `scopes`, optionally only those with a key-population tag.
    pub async fn residents_in(
        &self,
        scopes: &[RegionCode],
        tag: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Page<ResidentSummary>, StoreError> {
        let mut items = Vec::new();
        let mut after = after.map(str::to_string);
        for scope in RegionCode::disjoint(scopes.to_vec()) {
            let want = limit - items.len() as i64;
            if want <= 0 {
                break;
            }
            let page = self
                .residents_in_one(&scope, tag, after.as_deref(), want)
                .await?;
            if let Some(last) = page.items.last() {
                after = Some(format!("{}.{}", last.cell_code, last.id));
            }
            items.extend(page.items);
        }
        let next_cursor = (items.len() as i64 == limit)
            .then(|| items.last().map(|r| format!("{}.{}", r.cell_code, r.id)))
            .flatten();
        Ok(Page { items, next_cursor })
    }

    async fn households_in_one(
        &self,
        region: &RegionCode,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Page<HouseholdSummary>, StoreError> {
        let (lo, hi) = region.subtree_range();
        let (cell, id) = cursor(after);
        let sql = format!(
            "{HOUSEHOLD_SELECT} WHERE h.cell_code >= $1 AND h.cell_code < $2 AND h.status = 'active' \
             AND (h.cell_code > $3 OR (h.cell_code = $3 AND h.id > $4)) ORDER BY h.cell_code, h.id LIMIT $5"
        );
        let q = Sql::new(sql)
            .bind(lo.as_str())
            .bind(hi.as_str())
            .bind(cell.as_str())
            .bind(id)
            .bind(limit);
        let items: Vec<HouseholdSummary> = self
            .fetch_all(&q)
            .await?
            .iter()
            .map(|r| household_row(r).map(|h| h.0))
            .collect::<Result<_, _>>()?;
        let next_cursor = (items.len() as i64 == limit)
            .then(|| items.last().map(|h| format!("{}.{}", h.cell_code, h.id)))
            .flatten();
        Ok(Page { items, next_cursor })
    }

    async fn residents_in_one(
        &self,
        region: &RegionCode,
        tag: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Page<ResidentSummary>, StoreError> {
        let (lo, hi) = region.subtree_range();
        let (cell, id) = cursor(after);
        // With a tag, walk the tag's index (tag, cell, resident) so that a rare key population
        // of a large region is found without reading everyone else.
        let sql = if tag.is_some() {
            format!(
                "SELECT {RESIDENT_COLUMNS} FROM resident_tags t JOIN residents r ON r.id = t.resident_id \
                 WHERE t.tag = $6 AND t.cell_code >= $1 AND t.cell_code < $2 AND t.cleared_on IS NULL AND r.status = 'present' \
                 AND (t.cell_code > $3 OR (t.cell_code = $3 AND t.resident_id > $4)) ORDER BY t.cell_code, t.resident_id LIMIT $5"
            )
        } else {
            format!(
                "SELECT {RESIDENT_COLUMNS} FROM residents r WHERE r.cell_code >= $1 AND r.cell_code < $2 AND r.status = 'present' \
                 AND (r.cell_code > $3 OR (r.cell_code = $3 AND r.id > $4)) AND $6 = $6 ORDER BY r.cell_code, r.id LIMIT $5"
            )
        };
        let q = Sql::new(sql)
            .bind(lo.as_str())
            .bind(hi.as_str())
            .bind(cell.as_str())
            .bind(id)
            .bind(limit)
            .bind(tag.unwrap_or(""));
        let mut items: Vec<ResidentSummary> = self
            .fetch_all(&q)
            .await?
            .iter()
            .map(resident_row)
            .collect::<Result<_, _>>()?;
        self.attach_tags(&mut items).await?;
        let next_cursor = (items.len() as i64 == limit)
            .then(|| items.last().map(|r| format!("{}.{}", r.cell_code, r.id)))
            .flatten();
        Ok(Page { items, next_cursor })
    }

    async fn attach_tags(&self, items: &mut [ResidentSummary]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = items.iter().map(|r| r.id).collect();
        let mut q = Sql::new(
            "SELECT resident_id, tag FROM resident_tags WHERE cleared_on IS NULL AND resident_id IN (",
        );
        q.push_list(ids).push(") ORDER BY resident_id, tag");
        for r in self.fetch_all(&q).await? {
            let (rid, tag): (i64, String) = (r.get(0)?, r.get(1)?);
            if let Some(r) = items.iter_mut().find(|r| r.id == rid) {
                r.tags.push(tag);
            }
        }
        Ok(())
    }

    /// A household with its members (present first) and history (oldest first).
    pub async fn household(&self, id: i64) -> Result<Option<HouseholdDetail>, StoreError> {
        let sql = format!("{HOUSEHOLD_SELECT} WHERE h.id = $1");
        let member_sql = format!(
            "SELECT {RESIDENT_COLUMNS} FROM residents r WHERE r.household_id = $1 \
                                  ORDER BY CASE WHEN r.status = 'present' THEN 0 ELSE 1 END, r.id"
        );
        let mut pooled = self.acquire().await?;
        let mut conn = pooled.conn();
        let found = match conn.fetch_optional(&Sql::new(sql).bind(id)).await? {
            None => None,
            Some(r) => {
                let h = household_row(&r)?;
                let members = conn
                    .fetch_all(&Sql::new(member_sql).bind(id))
                    .await?
                    .iter()
                    .map(resident_row)
                    .collect::<Result<Vec<_>, _>>()?;
                let history = history(&mut conn, "household_id", id).await?;
                Some((h, members, history))
            }
        };
        let Some((
            (household, compound_name, compound_kind, building_name, room_label, point),
            mut members,
            history,
        )) = found
        else {
            return Ok(None);
        };
        self.attach_tags(&mut members).await?;
        Ok(Some(HouseholdDetail {
            household,
            compound_name,
            compound_kind,
            building_name,
            room_label,
            point,
            members,
            history,
        }))
    }

    /// A resident with all their tags and their history.
    pub async fn resident(&self, id: i64) -> Result<Option<ResidentDetail>, StoreError> {
        let sql = format!("SELECT {RESIDENT_COLUMNS} FROM residents r WHERE r.id = $1");
        let mut pooled = self.acquire().await?;
        let mut conn = pooled.conn();
        let found = match conn.fetch_optional(&Sql::new(sql).bind(id)).await? {
            None => None,
            Some(r) => {
                let resident = resident_row(&r)?;
                let tags = Sql::new(
                    "SELECT tag, set_on, set_by, cleared_on, cleared_by, note FROM resident_tags \
                     WHERE resident_id = $1 ORDER BY set_on, id",
                )
                .bind(id);
                let tags = conn
                    .fetch_all(&tags)
                    .await?
                    .iter()
                    .map(|t| {
                        Ok(TagRecord {
                            tag: t.get(0)?,
                            set_on: t.get(1)?,
                            set_by: t.get(2)?,
                            cleared_on: t.get(3)?,
                            cleared_by: t.get(4)?,
                            note: t.get(5)?,
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?;
                let history = history(&mut conn, "resident_id", id).await?;
                Some((resident, tags, history))
            }
        };
        let Some((mut resident, tags, history)) = found else {
            return Ok(None);
        };
        resident.tags = tags
            .iter()
            .filter(|t| t.cleared_on.is_none())
            .map(|t| t.tag.clone())
            .collect();
        Ok(Some(ResidentDetail {
            resident,
            tags,
            history,
        }))
    }

    /// Residents of any of `scopes` matching a search, at most `limit`, by name. Full
    /// numbers need the vault.
    pub async fn search_residents(
        &self,
        scopes: &[RegionCode],
        search: &Search,
        vault: Option<&Vault>,
        limit: i64,
    ) -> Result<Vec<ResidentSummary>, StoreError> {
        let mut items = Vec::new();
        for scope in RegionCode::disjoint(scopes.to_vec()) {
            items.extend(self.search_one(&scope, search, vault, limit).await?);
        }
        items.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        items.truncate(limit.max(0) as usize);
        Ok(items)
    }

    async fn search_one(
        &self,
        region: &RegionCode,
        search: &Search,
        vault: Option<&Vault>,
        limit: i64,
    ) -> Result<Vec<ResidentSummary>, StoreError> {
        let (lo, hi) = region.subtree_range();
        let need_vault = || {
            StoreError::refused(
                "data_key_missing",
                "未配置数据密钥，无法按完整证件号或手机号查找；可按姓名或脱敏号码查找",
                "no data key is configured, so full numbers cannot be searched; search by name or masked number",
            )
        };
        let (condition, a, b): (&str, Vec<u8>, String) = match search {
            Search::IdNumber(id) => (
                "r.id_lookup = $3 AND $4 = $4",
                vault
                    .ok_or_else(need_vault)?
                    .lookup(LookupKind::IdNumber, id.as_str())
                    .to_vec(),
                String::new(),
            ),
            Search::Phone(ph) => (
                "r.phone_lookup = $3 AND $4 = $4",
                vault
                    .ok_or_else(need_vault)?
                    .lookup(LookupKind::Phone, ph.as_str())
                    .to_vec(),
                String::new(),
            ),
            Search::MaskedId(m) => ("r.id_masked = $4 AND $3 = $3", Vec::new(), m.clone()),
            Search::MaskedPhone(m) => ("r.phone_masked = $4 AND $3 = $3", Vec::new(), m.clone()),
            Search::Name(n) => (
                "r.name >= $4 AND r.name < $6 AND $3 = $3",
                Vec::new(),
                n.clone(),
            ),
        };
        let upper = format!("{b}{}", char::MAX);
        let sql = format!(
            "SELECT {RESIDENT_COLUMNS} FROM residents r WHERE r.cell_code >= $1 AND r.cell_code < $2 AND {condition} \
             AND $6 = $6 ORDER BY r.name, r.id LIMIT $5"
        );
        let q = Sql::new(sql)
            .bind(lo.as_str())
            .bind(hi.as_str())
            .bind(a)
            .bind(b.as_str())
            .bind(limit)
            .bind(upper.as_str());
        let mut items: Vec<ResidentSummary> = self
            .fetch_all(&q)
            .await?
            .iter()
            .map(resident_row)
            .collect::<Result<_, _>>()?;
        self.attach_tags(&mut items).await?;
        Ok(items)
    }
}

/// A resident's sealed identity number and phone, with where they live.
#[derive(Debug, Clone)]
pub struct SealedPersonal {
    pub cell_code: String,
    pub household_id: i64,
    pub id_sealed: Option<Vec<u8>>,
    pub phone_sealed: Option<Vec<u8>>,
}

impl Store {
    /// The sealed personal data of a resident, to be opened by the caller after the view is
    /// audited.
    pub async fn sealed_personal(&self, id: i64) -> Result<Option<SealedPersonal>, StoreError> {
        let q = Sql::new(
            "SELECT cell_code, household_id, id_sealed, phone_sealed FROM residents WHERE id = $1",
        )
        .bind(id);
        let Some(r) = self.fetch_optional(&q).await? else {
            return Ok(None);
        };
        Ok(Some(SealedPersonal {
            cell_code: r.get(0)?,
            household_id: r.get(1)?,
            id_sealed: r.get(2)?,
            phone_sealed: r.get(3)?,
        }))
    }
}

/// A named place of the register: a compound (小区/院落), where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPlace {
    pub grid_code: String,
    pub name: String,
    pub point: [f64; 2],
}

impl Store {
    /// The compounds of these grids: the named places a public address may point to.
    pub async fn compounds_of_grids(
        &self,
        grids: &[String],
    ) -> Result<Vec<NamedPlace>, StoreError> {
        let mut out = Vec::new();
        for chunk in grids.chunks(200) {
            let mut q =
                Sql::new("SELECT grid_code, name, lon, lat FROM compounds WHERE grid_code IN (");
            q.push_list(chunk).push(") ORDER BY grid_code, id");
            for r in self.fetch_all(&q).await? {
                out.push(NamedPlace {
                    grid_code: r.get(0)?,
                    name: r.get(1)?,
                    point: [r.get(2)?, r.get(3)?],
                });
            }
        }
        Ok(out)
    }
}
