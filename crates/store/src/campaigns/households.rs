//! Household campaigns: every targeted household becomes a task in one `INSERT … SELECT`;
//! visits sync in batches, idempotent per device visit id, with the conflict rule of
//! `shezhi_domain::campaigns::stands`; coverage counters per round and region (grid up to
//! city) change with each batch, so the coverage view reads a few rows, never the tasks.

use crate::StoreError;
use crate::access::audit::{AuditNote, By, audit_append};
use crate::backend::{Store, with_pool};
use shezhi_domain::campaigns::form::Form;
use shezhi_domain::campaigns::{
    BuildingFilter, BuildingType, Outcome, VisitFacts, revisit_due, stands,
};
use shezhi_domain::people::KeyTag;
use shezhi_domain::territory::{Level, RegionCode};
use shezhi_domain::{Bilingual, ErrorText};
use sqlx::Row;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub title: String,
    pub region: RegionCode,
    /// Only households with a resident holding this tag.
    pub tag: Option<KeyTag>,
    /// Only households living in buildings of this type.
    pub building_type: Option<BuildingType>,
    pub rounds: i64,
    pub form: Form,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Campaign {
    pub id: i64,
    pub title: String,
    pub region_code: String,
    pub tag: Option<String>,
    pub building_type: Option<String>,
    pub rounds: i64,
    pub current_round: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub form: serde_json::Value,
    pub created_by: String,
    pub created_at_ms: i64,
    pub households: i64,
}

/// A household to visit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub household_id: i64,
    pub cell_code: String,
    pub address: String,
    pub round: i64,
    /// `pending`, `revisit` (a visit found nobody home) or `done`.
    pub status: String,
    pub outcome: Option<String>,
    pub visits: i64,
    pub revisit_due_ms: Option<i64>,
}

/// A visit from a device.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitIn {
    /// The device's id for this visit: sending it again changes nothing.
    pub client_id: String,
    pub household_id: i64,
    pub round: i64,
    pub outcome: Outcome,
    pub visited_at_ms: i64,
    pub answers: BTreeMap<String, serde_json::Value>,
    /// Something found that needs follow-up (a hazard, a person needing help).
    pub finding: Option<String>,
}

/// What became of one visit of a batch.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum VisitResult {
    /// Recorded; `stands` is false when another visit to the household stands instead
    /// (the conflict rule), in which case this one is kept as history.
    Accepted { client_id: String, stands: bool },
    /// Already received earlier: nothing changed.
    Duplicate { client_id: String },
    /// Refused, with why; the rest of the batch is unaffected.
    Rejected {
        client_id: String,
        code: String,
        zh: String,
        en: String,
    },
}

const CAMPAIGN_COLUMNS: &str = "id, title, region_code, tag, rounds, current_round, form, created_by, created_at_ms, households, building_type";
const METRICS: [&str; 5] = ["total", "done", "revisit", "findings", "visits"];

fn campaign_row<R: Row>(r: &R) -> Result<Campaign, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<String>: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let form: String = r.try_get(6)?;
    Ok(Campaign {
        id: r.try_get(0)?,
        title: r.try_get(1)?,
        region_code: r.try_get(2)?,
        tag: r.try_get(3)?,
        rounds: r.try_get(4)?,
        current_round: r.try_get(5)?,
        form: serde_json::from_str(&form).unwrap_or_default(),
        created_by: r.try_get(7)?,
        created_at_ms: r.try_get(8)?,
        households: r.try_get(9)?,
        building_type: r.try_get(10)?,
    })
}

/// Every metric present (zero when nothing was counted) for every scope of a figure map.
fn with_all_metrics(out: &mut BTreeMap<String, BTreeMap<String, i64>>) {
    for e in out.values_mut() {
        for m in METRICS {
            e.entry(m.to_string()).or_insert(0);
        }
    }
}

/// The scopes a household's figures count in: its grid and every level above.
fn scopes(cell: &str) -> Vec<String> {
    let Ok(c) = RegionCode::parse(cell) else {
        return Vec::new();
    };
    c.ancestors()
        .into_iter()
        .chain(std::iter::once(c))
        .filter(|a| a.level() != Level::MicroGrid)
        .map(|a| a.as_str().to_string())
        .collect()
}

fn rejected(client_id: &str, e: ErrorText) -> VisitResult {
    VisitResult::Rejected {
        client_id: client_id.into(),
        code: e.code.into(),
        zh: e.zh,
        en: e.en,
    }
}

fn text(code: &'static str, zh: &str, en: &str) -> ErrorText {
    ErrorText {
        code,
        zh: zh.into(),
        en: en.into(),
    }
}

type Deltas = BTreeMap<(String, &'static str), i64>;
/// (cell, status, households) and (cell, visits, findings) rows of a recount.
type Recounted = (Vec<(String, String, i64)>, Vec<(String, i64, i64)>);

fn add(d: &mut Deltas, cell: &str, metric: &'static str, v: i64) {
    if v != 0 {
        for s in scopes(cell) {
            *d.entry((s, metric)).or_insert(0) += v;
        }
    }
}

macro_rules! apply_coverage {
    ($DB:ty, $tx:expr, $campaign:expr, $round:expr, $deltas:expr) => {{
        let rows: Vec<_> = $deltas.iter().filter(|(_, v)| **v != 0).collect();
        for chunk in rows.chunks(500) {
            let mut qb = sqlx::QueryBuilder::<$DB>::new("INSERT INTO campaign_coverage (campaign_id, round, scope, metric, value) ");
            qb.push_values(chunk, |mut b, ((scope, metric), v)| {
                b.push_bind($campaign).push_bind($round).push_bind(scope.as_str()).push_bind(*metric).push_bind(**v);
            });
            qb.push(" ON CONFLICT (campaign_id, round, scope, metric) DO UPDATE SET value = campaign_coverage.value + excluded.value");
            qb.build().execute(&mut *$tx).await?;
        }
    }};
}

impl Store {
    /// Makes a campaign and a task for every targeted household, with its coverage totals,
    /// in one transaction.
    pub async fn create_campaign(
        &self,
        c: &NewCampaign,
        now_ms: i64,
        ip: Option<&str>,
    ) -> Result<(i64, i64), StoreError> {
        if !(1..=10).contains(&c.rounds) {
            return Err(StoreError::invalid(
                "invalid_rounds",
                "轮次应在 1 到 10 之间",
                "rounds must be between 1 and 10",
            ));
        }
        let (lo, hi) = c.region.subtree_range();
        let form = serde_json::to_string(&c.form).unwrap_or_default();
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query("INSERT INTO campaigns (title, region_code, tag, rounds, current_round, form, created_by, created_at_ms, households, building_type) \
                                       VALUES ($1, $2, $3, $4, 1, $5, $6, $7, 0, $8) RETURNING id")
                .bind(&c.title).bind(c.region.as_str()).bind(c.tag.map(|t| t.as_str())).bind(c.rounds).bind(&form)
                .bind(&c.created_by).bind(now_ms).bind(c.building_type.map(|b| b.as_str())).fetch_one(&mut *tx).await?.try_get(0)?;
            let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO campaign_tasks (campaign_id, household_id, cell_code, round, status) SELECT ");
            qb.push_bind(id).push(", h.id, h.cell_code, 1, 'pending' FROM households h WHERE h.cell_code >= ").push_bind(lo.clone())
                .push(" AND h.cell_code < ").push_bind(hi.clone()).push(" AND h.status = 'active'");
            if let Some(tag) = c.tag {
                qb.push(" AND h.id IN (SELECT r.household_id FROM resident_tags t JOIN residents r ON r.id = t.resident_id WHERE t.tag = ")
                    .push_bind(tag.as_str()).push(" AND t.cleared_on IS NULL AND r.status = 'present' AND t.cell_code >= ").push_bind(lo.clone())
                    .push(" AND t.cell_code < ").push_bind(hi.clone()).push(")");
            }
            if let Some(kind) = c.building_type {
                qb.push(" AND EXISTS (SELECT 1 FROM rooms r JOIN buildings b ON b.id = r.building_id");
                match kind.filter() {
                    BuildingFilter::Floors(min, max) => {
                        qb.push(" WHERE b.floors >= ").push_bind(min).push(" AND b.floors <= ").push_bind(max);
                    }
                    BuildingFilter::CompoundKind(k) => {
                        qb.push(" JOIN compounds c ON c.id = b.compound_id WHERE c.kind = ").push_bind(k.as_str());
                    }
                }
                qb.push(" AND r.id = h.room_id)");
            }
            let n = qb.build().execute(&mut *tx).await?.rows_affected() as i64;
            if n == 0 {
                return Err(StoreError::invalid("no_households", "该范围内没有符合条件的住户", "no household in the region matches"));
            }
            let grids = sqlx::query("SELECT substr(cell_code, 1, 15), COUNT(*) FROM campaign_tasks WHERE campaign_id = $1 GROUP BY 1")
                .bind(id).fetch_all(&mut *tx).await?
                .iter().map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?))).collect::<Result<Vec<_>, sqlx::Error>>()?;
            let mut totals = Deltas::new();
            for (grid, count) in &grids {
                add(&mut totals, grid, "total", *count);
            }
            apply_coverage!(DB, tx, id, 1_i64, totals);
            sqlx::query("UPDATE campaigns SET households = $1 WHERE id = $2").bind(n).bind(id).execute(&mut *tx).await?;
            let note = AuditNote {
                at_ms: now_ms, actor: c.created_by.clone(), action: "campaign_created".into(), target: format!("campaign:{id}"),
                region_code: Some(c.region.as_str().into()), ip: ip.map(Into::into),
                detail: serde_json::json!({"title": c.title, "tag": c.tag, "building_type": c.building_type, "rounds": c.rounds, "households": n}),
            };
            audit_append!(tx, note, self.audit_key());
            tx.commit().await?;
            if self.backend() == crate::Backend::Postgres {
                // Fresh statistics for the new rows, so that the coverage reads use the key.
                sqlx::query("ANALYZE campaign_coverage").execute(p).await?;
                sqlx::query("ANALYZE campaign_tasks").execute(p).await?;
            }
            Ok((id, n))
        })
    }

    pub async fn campaign(&self, id: i64) -> Result<Option<Campaign>, StoreError> {
        with_pool!(self, p => {
            Ok(sqlx::query(&format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1")).bind(id).fetch_optional(p).await?
                .as_ref().map(campaign_row).transpose()?)
        })
    }

    /// Campaigns whose region overlaps any of `scopes` (made for it, above it or below it).
    pub async fn campaigns_for(&self, scopes: &[RegionCode]) -> Result<Vec<Campaign>, StoreError> {
        let all = with_pool!(self, p => {
            sqlx::query(&format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns ORDER BY id DESC LIMIT 500")).fetch_all(p).await?
                .iter().map(campaign_row).collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(all
            .into_iter()
            .filter(|c| {
                RegionCode::parse(&c.region_code)
                    .is_ok_and(|r| scopes.iter().any(|s| s.contains(&r) || r.contains(s)))
            })
            .collect())
    }

    /// Tasks of a campaign in a region (a grid worker's list), in (cell, household) order
    /// after `after` (`cell.household` of the last row of the previous page).
    pub async fn campaign_tasks(
        &self,
        id: i64,
        within: &RegionCode,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Task>, StoreError> {
        let (lo, hi) = within.subtree_range();
        let (cell, hh) = after
            .and_then(|a| a.split_once('.'))
            .and_then(|(c, h)| Some((c.to_string(), h.parse::<i64>().ok()?)))
            .unwrap_or((String::new(), 0));
        with_pool!(self, p => {
            Ok(sqlx::query("SELECT t.household_id, t.cell_code, t.round, t.status, t.outcome, t.visits, t.revisit_due_ms, c.name, b.name, rm.label \
                            FROM campaign_tasks t JOIN households h ON h.id = t.household_id JOIN rooms rm ON rm.id = h.room_id \
                            JOIN buildings b ON b.id = rm.building_id JOIN compounds c ON c.id = b.compound_id \
                            WHERE t.campaign_id = $1 AND t.cell_code >= $2 AND t.cell_code < $3 AND (t.cell_code > $4 OR (t.cell_code = $4 AND t.household_id > $5)) \
                            ORDER BY t.cell_code, t.household_id LIMIT $6")
                .bind(id).bind(lo).bind(hi).bind(cell).bind(hh).bind(limit).fetch_all(p).await?
                .iter().map(|r| {
                    let (c, b, room): (String, String, String) = (r.try_get(7)?, r.try_get(8)?, r.try_get(9)?);
                    Ok(Task {
                        household_id: r.try_get(0)?, cell_code: r.try_get(1)?, round: r.try_get(2)?, status: r.try_get(3)?,
                        outcome: r.try_get(4)?, visits: r.try_get(5)?, revisit_due_ms: r.try_get(6)?, address: format!("{c} {b} {room}"),
                    })
                }).collect::<Result<Vec<_>, sqlx::Error>>()?)
        })
    }

    /// Takes a batch of visits from a device in one transaction. Each visit is answered on
    /// its own: accepted (standing or superseded), a duplicate of one received before, or
    /// rejected with why. `within` limits the households the worker may record.
    /// The batch is audited (`campaign_visits_synced`: who, from where, the device, how many
    /// were accepted, duplicates or rejected) in the same transaction.
    pub async fn sync_visits<'a>(
        &self,
        campaign: i64,
        worker: impl Into<By<'a>>,
        device: Option<&str>,
        within: &[RegionCode],
        visits: &[VisitIn],
        now_ms: i64,
    ) -> Result<Vec<VisitResult>, StoreError> {
        let by = worker.into();
        let worker = by.actor;
        let c = self.campaign(campaign).await?.ok_or_else(|| {
            StoreError::not_found(
                "campaign_not_found",
                format!("未找到排查任务 {campaign}"),
                format!("campaign {campaign} not found"),
            )
        })?;
        let form = Form::parse(&c.form).unwrap_or_default();
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            if self.backend() == crate::Backend::Sqlite {
                // Take the write lock first: concurrent syncs queue instead of failing to
                // upgrade a read lock.
                sqlx::query("UPDATE campaigns SET id = id WHERE 0 = 1").execute(&mut *tx).await?;
            }
            let mut out: Vec<Option<VisitResult>> = vec![None; visits.len()];
            let mut deltas = Deltas::new();
            // Households in id order: concurrent batches lock task rows alike (no deadlock).
            let mut order: Vec<usize> = (0..visits.len()).collect();
            order.sort_by_key(|&i| (visits[i].household_id, i));
            let lock = match self.backend() {
                crate::Backend::Postgres => " FOR UPDATE",
                crate::Backend::Sqlite => "",
            };
            for i in order {
                let v = &visits[i];
                let out = &mut out[i];
                // The checklist is answered inside a household; other outcomes carry no answers.
                if v.outcome == Outcome::Visited {
                    if let Err(e) = form.check(&v.answers) {
                        *out = Some(rejected(&v.client_id, e.text()));
                        continue;
                    }
                } else if !v.answers.is_empty() {
                    *out = Some(rejected(&v.client_id, text("answers_without_visit", "未入户的走访不应填写检查表", "a visit that did not get in carries no answers")));
                    continue;
                }
                if v.round != c.current_round {
                    *out = Some(rejected(&v.client_id, text("round_closed", "该轮次已结束或尚未开始", "that round is closed or has not begun")));
                    continue;
                }
                let Some(task) = sqlx::query(&format!("SELECT cell_code, status, outcome, visited_at_ms, client_id FROM campaign_tasks WHERE campaign_id = $1 AND household_id = $2{lock}"))
                    .bind(campaign).bind(v.household_id).fetch_optional(&mut *tx).await? else {
                    *out = Some(rejected(&v.client_id, text("not_a_task", "该住户不在本次排查范围内", "the household is not a task of this campaign")));
                    continue;
                };
                let (cell, status, outcome, at, cid): (String, String, Option<String>, Option<i64>, Option<String>) =
                    (task.try_get(0)?, task.try_get(1)?, task.try_get(2)?, task.try_get(3)?, task.try_get(4)?);
                let Ok(code) = RegionCode::parse(&cell) else {
                    *out = Some(rejected(&v.client_id, text("not_in_scope", "该住户不在您负责的网格内", "the household is outside your grids")));
                    continue;
                };
                if !within.iter().any(|s| s.contains(&code)) {
                    *out = Some(rejected(&v.client_id, text("not_in_scope", "该住户不在您负责的网格内", "the household is outside your grids")));
                    continue;
                }
                let inserted = sqlx::query("INSERT INTO campaign_visits (campaign_id, round, household_id, client_id, worker, visited_at_ms, received_at_ms, outcome, answers, finding) \
                                            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (campaign_id, client_id) DO NOTHING")
                    .bind(campaign).bind(v.round).bind(v.household_id).bind(&v.client_id).bind(worker).bind(v.visited_at_ms).bind(now_ms)
                    .bind(v.outcome.as_str()).bind(serde_json::to_string(&v.answers).unwrap_or_default()).bind(v.finding.as_deref())
                    .execute(&mut *tx).await?.rows_affected();
                if inserted == 0 {
                    *out = Some(VisitResult::Duplicate { client_id: v.client_id.clone() });
                    continue;
                }
                let incoming = VisitFacts { outcome: v.outcome, visited_at_ms: v.visited_at_ms, client_id: v.client_id.clone() };
                let current = match (outcome.as_deref().and_then(Outcome::parse), at, cid) {
                    (Some(o), Some(t), Some(id)) => Some(VisitFacts { outcome: o, visited_at_ms: t, client_id: id }),
                    _ => None,
                };
                let wins = current.as_ref().is_none_or(|cur| stands(cur, &incoming));
                if wins {
                    let new_status = if v.outcome.conclusive() { "done" } else { "revisit" };
                    let due = (!v.outcome.conclusive()).then(|| revisit_due(v.visited_at_ms));
                    sqlx::query("UPDATE campaign_tasks SET status = $1, outcome = $2, visited_at_ms = $3, client_id = $4, revisit_due_ms = $5, visits = visits + 1 \
                                 WHERE campaign_id = $6 AND household_id = $7")
                        .bind(new_status).bind(v.outcome.as_str()).bind(v.visited_at_ms).bind(&v.client_id).bind(due)
                        .bind(campaign).bind(v.household_id).execute(&mut *tx).await?;
                    let was = |s: &str| i64::from(status == s);
                    let is = |s: &str| i64::from(new_status == s);
                    add(&mut deltas, &cell, "done", is("done") - was("done"));
                    add(&mut deltas, &cell, "revisit", is("revisit") - was("revisit"));
                } else {
                    sqlx::query("UPDATE campaign_tasks SET visits = visits + 1 WHERE campaign_id = $1 AND household_id = $2")
                        .bind(campaign).bind(v.household_id).execute(&mut *tx).await?;
                }
                add(&mut deltas, &cell, "visits", 1);
                add(&mut deltas, &cell, "findings", i64::from(v.finding.is_some()));
                *out = Some(VisitResult::Accepted { client_id: v.client_id.clone(), stands: wins });
            }
            apply_coverage!(DB, tx, campaign, c.current_round, deltas);
            let out: Vec<VisitResult> = out.into_iter().flatten().collect();
            let count = |f: fn(&VisitResult) -> bool| out.iter().filter(|r| f(r)).count();
            let note = AuditNote {
                at_ms: now_ms, actor: worker.into(), action: "campaign_visits_synced".into(), target: format!("campaign:{campaign}"),
                region_code: Some(c.region_code.clone()), ip: by.ip.map(Into::into),
                detail: serde_json::json!({
                    "round": c.current_round, "device": device,
                    "accepted": count(|r| matches!(r, VisitResult::Accepted { .. })),
                    "duplicate": count(|r| matches!(r, VisitResult::Duplicate { .. })),
                    "rejected": count(|r| matches!(r, VisitResult::Rejected { .. })),
                }),
            };
            audit_append!(tx, note, self.audit_key());
            tx.commit().await?;
            Ok(out)
        })
    }

    /// The micro-grid a household lives in.
    pub async fn household_cell(&self, household: i64) -> Result<Option<String>, StoreError> {
        with_pool!(self, p => {
            Ok(sqlx::query("SELECT cell_code FROM households WHERE id = $1").bind(household).fetch_optional(p).await?
                .map(|r| r.try_get::<String, _>(0)).transpose()?)
        })
    }

    /// Links a visit to the case its finding raised.
    pub async fn link_visit_case(
        &self,
        campaign: i64,
        client_id: &str,
        case_id: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, p => {
            sqlx::query("UPDATE campaign_visits SET case_id = $1 WHERE campaign_id = $2 AND client_id = $3")
                .bind(case_id).bind(campaign).bind(client_id).execute(p).await?;
            Ok(())
        })
    }

    /// Starts the next round: every household is to visit again; the round's coverage
    /// starts from the same totals. Refused after the last planned round.
    pub async fn next_round<'a>(
        &self,
        campaign: i64,
        by: impl Into<By<'a>>,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let by = by.into();
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let row = sqlx::query("UPDATE campaigns SET current_round = current_round + 1 WHERE id = $1 AND current_round < rounds RETURNING current_round, region_code")
                .bind(campaign).fetch_optional(&mut *tx).await?
                .ok_or_else(|| StoreError::refused("no_more_rounds", "排查任务不存在或已完成全部轮次", "the campaign is missing or has run all its rounds"))?;
            let (round, region): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
            sqlx::query("UPDATE campaign_tasks SET round = $1, status = 'pending', outcome = NULL, visited_at_ms = NULL, client_id = NULL, revisit_due_ms = NULL \
                         WHERE campaign_id = $2")
                .bind(round).bind(campaign).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO campaign_coverage (campaign_id, round, scope, metric, value) \
                         SELECT campaign_id, $1, scope, metric, value FROM campaign_coverage WHERE campaign_id = $2 AND round = $3 AND metric = 'total'")
                .bind(round).bind(campaign).bind(round - 1).execute(&mut *tx).await?;
            let note = AuditNote {
                at_ms: now_ms, actor: by.actor.into(), action: "campaign_round_started".into(), target: format!("campaign:{campaign}"),
                region_code: Some(region), ip: by.ip.map(Into::into), detail: serde_json::json!({"round": round}),
            };
            audit_append!(tx, note, self.audit_key());
            tx.commit().await?;
            Ok(round)
        })
    }

    /// Coverage of a round for some scopes (region codes): metric → value per scope.
    pub async fn coverage(
        &self,
        campaign: i64,
        round: i64,
        scopes: &[String],
    ) -> Result<BTreeMap<String, BTreeMap<String, i64>>, StoreError> {
        let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for chunk in scopes.chunks(500) {
            let rows: Vec<(String, String, i64)> = with_pool!(self, p, DB => {
                let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT scope, metric, value FROM campaign_coverage WHERE campaign_id = ");
                qb.push_bind(campaign).push(" AND round = ").push_bind(round).push(" AND scope IN (");
                let mut sep = qb.separated(", ");
                for s in chunk {
                    sep.push_bind(s.as_str());
                }
                qb.push(")");
                qb.build().fetch_all(p).await?.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect::<Result<Vec<_>, sqlx::Error>>()?
            });
            for (s, m, v) in rows {
                out.entry(s).or_default().insert(m, v);
            }
        }
        for s in scopes {
            out.entry(s.clone()).or_default();
        }
        with_all_metrics(&mut out);
        Ok(out)
    }

    /// Coverage recomputed from the tasks and visits (for checks and repairs): the same shape
    /// as [`Store::coverage`] for every scope with tasks.
    pub async fn recount_coverage(
        &self,
        campaign: i64,
        round: i64,
    ) -> Result<BTreeMap<String, BTreeMap<String, i64>>, StoreError> {
        let (tasks, visits): Recounted = with_pool!(self, p => {
            let t = sqlx::query("SELECT cell_code, CASE WHEN round = $2 THEN status ELSE 'earlier' END, COUNT(*) FROM campaign_tasks WHERE campaign_id = $1 GROUP BY 1, 2")
                .bind(campaign).bind(round).fetch_all(p).await?
                .iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect::<Result<Vec<_>, sqlx::Error>>()?;
            let v = sqlx::query("SELECT t.cell_code, COUNT(*), SUM(CASE WHEN v.finding IS NULL THEN 0 ELSE 1 END) FROM campaign_visits v \
                                 JOIN campaign_tasks t ON t.campaign_id = v.campaign_id AND t.household_id = v.household_id \
                                 WHERE v.campaign_id = $1 AND v.round = $2 GROUP BY t.cell_code")
                .bind(campaign).bind(round).fetch_all(p).await?
                .iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get::<Option<i64>, _>(2)?.unwrap_or(0)))).collect::<Result<Vec<_>, sqlx::Error>>()?;
            (t, v)
        });
        let mut d = Deltas::new();
        for (cell, status, n) in &tasks {
            add(&mut d, cell, "total", *n);
            if status == "done" {
                add(&mut d, cell, "done", *n);
            }
            if status == "revisit" {
                add(&mut d, cell, "revisit", *n);
            }
        }
        for (cell, n, findings) in &visits {
            add(&mut d, cell, "visits", *n);
            add(&mut d, cell, "findings", *findings);
        }
        let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for ((scope, metric), v) in d {
            out.entry(scope).or_default().insert(metric.to_string(), v);
        }
        with_all_metrics(&mut out);
        Ok(out)
    }
}
