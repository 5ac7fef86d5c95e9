//! Taking reports in. Many reports share one transaction (the group commit of
//! [`super::GroupIntake`]); each is checked before the transaction starts so that one bad
//! report never fails the others. A report with an Idempotency-Key seen before answers the
//! case already made and writes nothing.

use super::counters::{CaseCounts, apply_case_counts, scopes_of};
use super::plan::{clock_timers, run_stmts, stage_limit};
use super::{
    CaseRef, Intake, NewCase, PHOTO_MAX_BYTES, PHOTO_TYPES, PHOTOS_MAX, Photo, level_code,
};
use crate::StoreError;
use crate::access::audit::{AuditNote, audit_append};
use crate::backend::{Store, with_pool};
use shezhi_domain::calendar::WorkCalendar;
use shezhi_domain::cases::{self, Category, Stage, Step};
use shezhi_domain::people::Date;
use shezhi_domain::people::privacy::{Field, Vault};
use sqlx::Row;

/// Insert one photo row inside a transaction.
macro_rules! insert_photo {
    ($tx:expr, $case:expr, $seq:expr, $photo:expr, $now:expr) => {{
        let photo: &$crate::cases::Photo = $photo;
        use sha2::Digest;
        let hash = $crate::cases::intake::hex(&sha2::Sha256::digest(&photo.bytes));
        sqlx::query("INSERT INTO case_photos (id, case_id, event_seq, content_type, size, sha256, bytes, at_ms) \
                     VALUES ((SELECT next_id FROM id_sequences WHERE name = 'case_photos'), $1, $2, $3, $4, $5, $6, $7)")
            .bind($case).bind($seq).bind(photo.content_type.as_str()).bind(photo.bytes.len() as i64)
            .bind(hash).bind(photo.bytes.as_slice()).bind($now)
            .execute(&mut *$tx).await?;
        sqlx::query("UPDATE id_sequences SET next_id = next_id + 1 WHERE name = 'case_photos'")
            .execute(&mut *$tx).await?;
    }};
}
pub(crate) use insert_photo;

pub(crate) fn hex(b: &[u8]) -> String {
    shezhi_domain::people::privacy::hex(b)
}

/// Check photos: count, type, size.
pub fn check_photos(photos: &[Photo]) -> Result<(), StoreError> {
    if photos.len() > PHOTOS_MAX {
        return Err(StoreError::invalid(
            "too_many_photos",
            format!("每次最多上传 {PHOTOS_MAX} 张照片"),
            format!("at most {PHOTOS_MAX} photos at a time"),
        ));
    }
    for p in photos {
        if !PHOTO_TYPES.contains(&p.content_type.as_str()) {
            return Err(StoreError::invalid(
                "photo_type",
                "照片须为 JPEG、PNG 或 WebP 格式",
                "photos must be JPEG, PNG or WebP",
            ));
        }
        if p.bytes.is_empty() || p.bytes.len() > PHOTO_MAX_BYTES {
            return Err(StoreError::invalid(
                "photo_size",
                "每张照片不超过 5 MB",
                "each photo may have at most 5 MB",
            ));
        }
        let magic_ok = match p.content_type.as_str() {
            "image/jpeg" => p.bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
            "image/png" => p.bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            _ => p.bytes.len() > 12 && &p.bytes[..4] == b"RIFF" && &p.bytes[8..12] == b"WEBP",
        };
        if !magic_ok {
            return Err(StoreError::invalid(
                "photo_content",
                "照片内容与声明的格式不符",
                "the photo's content does not match its type",
            ));
        }
    }
    Ok(())
}

/// A report checked and ready to write.
pub(crate) struct Ready<'a> {
    pub case: &'a NewCase,
    pub category: Category,
    pub version: i64,
}

/// Check one report against the catalogue (a current leaf category) and its own fields.
pub(crate) fn check(
    c: &NewCase,
    found: Option<(Category, i64)>,
) -> Result<(Category, i64), StoreError> {
    let (cat, version) = found.filter(|(c, _)| c.leaf).ok_or_else(|| {
        StoreError::invalid(
            "unknown_category",
            format!("未知的事项类别“{}”", c.category),
            format!("unknown case category {:?}", c.category),
        )
    })?;
    let n = c.description.trim().chars().count();
    if !(2..=2000).contains(&n) {
        return Err(StoreError::invalid(
            "invalid_description",
            "问题描述须为 2 到 2000 个字",
            "the description must have 2 to 2000 characters",
        ));
    }
    if c.title.chars().count() > 60 || c.address.chars().count() > 200 {
        return Err(StoreError::invalid(
            "field_too_long",
            "标题不超过 60 字，地址不超过 200 字",
            "the title may have at most 60 characters and the address 200",
        ));
    }
    check_photos(&c.photos)?;
    Ok((cat, version))
}

impl Store {
    /// Take in reports, all in one transaction; one answer per report, in order. Reports that
    /// fail their checks get their error and are not written; the rest commit together.
    pub async fn intake_batch(
        &self,
        reports: &[NewCase],
        vault: Option<&Vault>,
        now: i64,
        cal: &WorkCalendar,
    ) -> Result<Vec<Result<Intake, StoreError>>, StoreError> {
        let catalogue = self.categories_with_versions().await?;
        let mut answers: Vec<Option<Result<Intake, StoreError>>> =
            Vec::with_capacity(reports.len());
        let mut ready = Vec::new();
        for (i, c) in reports.iter().enumerate() {
            let found = catalogue
                .iter()
                .find(|(k, _)| k.code == c.category)
                .cloned();
            match check(c, found) {
                Ok((category, version)) => {
                    if c.contact.is_some() && vault.is_none() {
                        answers.push(Some(Err(StoreError::refused(
                            "data_key_missing",
                            "未配置数据密钥，无法保存联系电话",
                            "no data key is configured, so a contact phone cannot be stored",
                        ))));
                        continue;
                    }
                    answers.push(None);
                    ready.push((
                        i,
                        Ready {
                            case: c,
                            category,
                            version,
                        },
                    ));
                }
                Err(e) => answers.push(Some(Err(e))),
            }
        }
        if !ready.is_empty() {
            let written = self.write_reports(&ready, vault, now, cal).await?;
            for ((i, _), intake) in ready.iter().zip(written) {
                answers[*i] = Some(intake);
            }
        }
        Ok(answers
            .into_iter()
            .map(|a| {
                a.unwrap_or_else(|| Err(StoreError::Corrupt("report without an answer".into())))
            })
            .collect())
    }

    async fn categories_with_versions(&self) -> Result<Vec<(Category, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = with_pool!(self, p => {
            sqlx::query("SELECT body, version FROM categories WHERE current = 1")
                .fetch_all(p).await?
                .iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        rows.into_iter()
            .map(|(b, v)| {
                serde_json::from_str(&b)
                    .map(|c| (c, v))
                    .map_err(|e| StoreError::Corrupt(format!("category body: {e}")))
            })
            .collect()
    }

    async fn write_reports(
        &self,
        ready: &[(usize, Ready<'_>)],
        vault: Option<&Vault>,
        now: i64,
        cal: &WorkCalendar,
    ) -> Result<Vec<Result<Intake, StoreError>>, StoreError> {
        let today = Date::from_epoch_ms_cst(now);
        let day = today.days_since_epoch();
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let mut out: Vec<Result<Intake, StoreError>> = Vec::with_capacity(ready.len());
            let mut counts = CaseCounts::default();
            // Ids and the day's numbers for the whole batch, taken once.
            let n = ready.len() as i64;
            let first_id: i64 = sqlx::query("UPDATE id_sequences SET next_id = next_id + $1 WHERE name = 'cases' RETURNING next_id - $1")
                .bind(n).fetch_one(&mut *tx).await?.try_get(0)?;
            sqlx::query("INSERT INTO case_day_seq (day, next) VALUES ($1, 1) ON CONFLICT (day) DO NOTHING")
                .bind(day).execute(&mut *tx).await?;
            let first_seq: i64 = sqlx::query("UPDATE case_day_seq SET next = next + $1 WHERE day = $2 RETURNING next - $1")
                .bind(n).bind(day).fetch_one(&mut *tx).await?.try_get(0)?;
            let mut used = 0i64;
            for (_, r) in ready {
                let c = r.case;
                if let Some((principal, key, hash)) = &c.idempotency {
                    let seen = sqlx::query("SELECT k.case_id, k.request_hash, c.number, c.stage FROM intake_keys k JOIN cases c ON c.id = k.case_id WHERE k.principal = $1 AND k.key = $2")
                        .bind(principal.as_str()).bind(key.as_str()).fetch_optional(&mut *tx).await?;
                    let earlier = match seen {
                        Some(row) => Some((row.try_get::<i64, _>(0)?, row.try_get::<String, _>(1)?, row.try_get::<String, _>(2)?, row.try_get::<String, _>(3)?)),
                        // A retry inside the same batch.
                        None => out.iter().zip(ready.iter())
                            .filter_map(|(i, (_, o))| Some((i.as_ref().ok()?, o)))
                            .find(|(i, o)| i.created && o.case.idempotency.as_ref().is_some_and(|(p2, k2, _)| p2 == principal && k2 == key))
                            .map(|(i, o)| (i.id, o.case.idempotency.as_ref().map(|x| x.2.clone()).unwrap_or_default(), i.number.clone(), i.stage.clone())),
                    };
                    if let Some((id, h, number, stage)) = earlier {
                        out.push(if &h != hash {
                            Err(StoreError::refused("idempotency_key_reused", "该幂等键已用于另一份不同的上报", "this Idempotency-Key was used for a different report"))
                        } else {
                            Ok(Intake { id, number, stage, created: false, possible_duplicates: Vec::new() })
                        });
                        continue;
                    }
                }
                let id = first_id + used;
                let number = cases::case_number(today, first_seq + used);
                used += 1;
                let level = c.source.first_level();
                let lc = level_code(&c.cell, level).unwrap_or_else(|| c.cell.clone());
                let limit = stage_limit(Stage::Reported, &r.category).map(|l| l.due(cal, now));
                let (sealed, masked) = match (&c.contact, vault) {
                    (Some(ph), Some(v)) => {
                        let nonce = crate::register::fresh_nonce()?;
                        (Some(v.seal(Field::CaseContact, id, ph.as_str(), nonce)), Some(ph.masked()))
                    }
                    _ => (None, None),
                };
                let title = if c.title.trim().is_empty() {
                    c.description.trim().chars().take(30).collect::<String>()
                } else {
                    c.title.trim().to_string()
                };
                sqlx::query("INSERT INTO cases (id, number, source, category_code, category_version, priority, title, description, cell_code, lon, lat, address, \
                             reporter, contact_sealed, contact_masked, stage, level, level_code, lead_unit, clock_gen, due_at_ms, events, created_at_ms, updated_at_ms) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'reported', $16, $17, NULL, 1, $18, 1, $19, $19)")
                    .bind(id).bind(number.as_str()).bind(c.source.as_str()).bind(r.category.code.as_str()).bind(r.version)
                    .bind(r.category.priority.as_str()).bind(title.as_str()).bind(c.description.trim()).bind(c.cell.as_str())
                    .bind(c.point.map(|p| p[0])).bind(c.point.map(|p| p[1])).bind(c.address.trim())
                    .bind(c.reporter.as_str()).bind(sealed).bind(masked).bind(level.as_str()).bind(lc.as_str())
                    .bind(limit).bind(now)
                    .execute(&mut *tx).await?;
                let detail = serde_json::json!({"to": {"stage": "reported", "level": level}, "source": c.source, "category": r.category.code});
                sqlx::query("INSERT INTO case_events (case_id, seq, at_ms, step, actor, capacity, note, detail) VALUES ($1, 1, $2, $3, $4, 'reporter', $5, $6)")
                    .bind(id).bind(now).bind(Step::Report.as_str()).bind(c.reporter.as_str()).bind(c.description.trim()).bind(detail.to_string())
                    .execute(&mut *tx).await?;
                if let Some(due) = limit {
                    run_stmts!(tx, clock_timers(id, 1, now, due));
                }
                for ph in &c.photos {
                    insert_photo!(tx, id, 1i64, ph, now);
                }
                if let Some((principal, key, hash)) = &c.idempotency {
                    sqlx::query("INSERT INTO intake_keys (principal, key, request_hash, case_id, at_ms) VALUES ($1, $2, $3, $4, $5)")
                        .bind(principal.as_str()).bind(key.as_str()).bind(hash.as_str()).bind(id).bind(now)
                        .execute(&mut *tx).await?;
                }
                let scopes = scopes_of(c.cell.as_str(), None, &r.category.code, c.source.as_str());
                counts.add(&scopes, now, "intake", 1);
                counts.add(&scopes, now, "open", 1);
                let note = AuditNote {
                    at_ms: now,
                    actor: c.reporter.clone(),
                    action: "case.report".into(),
                    target: format!("case:{id}"),
                    region_code: Some(c.cell.as_str().to_string()),
                    ip: c.ip.clone(),
                    detail: serde_json::json!({"number": number, "category": r.category.code, "source": c.source, "contact": c.contact.as_ref().map(|p| p.masked())}),
                };
                audit_append!(tx, note);
                out.push(Ok(Intake { id, number, stage: "reported".into(), created: true, possible_duplicates: Vec::new() }));
            }
            apply_case_counts!(DB, counts, tx);
            tx.commit().await?;
            Ok(out)
        })
    }

    /// Open cases of `category` within the duplicate radius of `point` reported within the
    /// duplicate window before `now`, nearest first, except `except`.
    pub async fn nearby_duplicates(
        &self,
        category: &str,
        point: [f64; 2],
        now: i64,
        except: i64,
    ) -> Result<Vec<CaseRef>, StoreError> {
        let since = now - cases::DUPLICATE_WINDOW_MS;
        // About 0.001° of latitude is 111 m: a box a little wider than the radius.
        let d = 0.001;
        let rows: Vec<(i64, String, String, String, f64, f64)> = with_pool!(self, p => {
            sqlx::query("SELECT id, number, title, stage, lon, lat FROM cases WHERE category_code = $1 AND created_at_ms >= $2 \
                         AND lon BETWEEN $3 AND $4 AND lat BETWEEN $5 AND $6 AND stage NOT IN ('closed', 'rejected', 'merged') AND id <> $7")
                .bind(category).bind(since).bind(point[0] - d).bind(point[0] + d).bind(point[1] - d).bind(point[1] + d).bind(except)
                .fetch_all(p).await?
                .iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        let mut out: Vec<CaseRef> = rows
            .into_iter()
            .map(|(id, number, title, stage, lon, lat)| CaseRef {
                id,
                number,
                title,
                stage,
                distance_m: (cases::distance_m(point, [lon, lat]) * 10.0).round() / 10.0,
            })
            .filter(|c| c.distance_m <= cases::DUPLICATE_RADIUS_M)
            .collect();
        out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
        Ok(out)
    }
}
