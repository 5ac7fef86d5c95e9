//! Taking reports in. Many reports share one transaction (the group commit of
//! [`super::GroupIntake`]); each is checked before the transaction starts so that one bad
//! report never fails the others. A report with an Idempotency-Key seen before answers the
//! case already made and writes nothing.

use super::counters::{CaseCounts, scopes_of};
use super::plan::stage_limit;
use super::{
    CaseRef, Intake, NewCase, PHOTO_MAX_BYTES, PHOTO_TYPES, PHOTOS_MAX, Photo, level_code,
};
use crate::StoreError;
use crate::access::audit::{AuditNote, audit_append_many};
use crate::backend::{ROWS_PER_STATEMENT, Store, sized_chunks, with_pool};
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
        sqlx::query("INSERT INTO case_photos (case_id, event_seq, content_type, size, sha256, bytes, at_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind($case).bind($seq).bind(photo.content_type.as_str()).bind(photo.bytes.len() as i64)
            .bind(hash).bind(photo.bytes.as_slice()).bind($now)
            .execute(&mut *$tx).await?;
    }};
}
pub(crate) use insert_photo;

pub(crate) fn hex(b: &[u8]) -> String {
    shezhi_domain::people::privacy::hex(b)
}

/// Check photos: count, stated type, size, and that the bytes start as their type does.
pub fn check_photos(photos: &[Photo]) -> Result<(), StoreError> {
    check_photo_sizes(photos)?;
    for p in photos {
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

/// Check photos before their bytes are looked at: count, stated type, size.
pub fn check_photo_sizes(photos: &[Photo]) -> Result<(), StoreError> {
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
    }
    Ok(())
}

/// The read of idempotency keys seen before, for `n` (principal, key) pairs bound in turn:
/// each pair is looked up in the primary key. (A lookup by key alone cannot use it and reads
/// the whole table, so every batch took longer as keys piled up.)
pub(crate) fn seen_keys_sql(n: usize) -> String {
    let pairs: Vec<String> = (0..n)
        .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    format!(
        "WITH asked (principal, key) AS (VALUES {}) \
         SELECT k.principal, k.key, k.request_hash, k.case_id, c.number, c.stage FROM asked a \
         JOIN intake_keys k ON k.principal = a.principal AND k.key = a.key JOIN cases c ON c.id = k.case_id",
        pairs.join(", ")
    )
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
    // No database stores a NUL in text (PostgreSQL refuses it): refused here, one report's
    // own answer, rather than failing the transaction of the whole group it came with.
    let key = c
        .idempotency
        .as_ref()
        .map(|(_, k, _)| k.as_str())
        .unwrap_or_default();
    // (The category needs no look: it has matched one of the catalogue's above.)
    let texts = [&c.title, &c.description, &c.address, &c.reporter];
    if texts.iter().any(|t| t.contains('\0')) || key.contains('\0') {
        return Err(StoreError::invalid(
            "nul_character",
            "文字中含有空字符（NUL），无法保存",
            "the text contains a NUL character, which cannot be stored",
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
    /// fail their checks get their error and are not written; the rest commit together. If
    /// the database refuses the group before its commit, each report is written on its own.
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
            let written = match self.write_reports(&ready, vault, now, cal).await {
                Ok(Ok(written)) => written,
                // The commit itself failed: whether it took effect is unknown, so nothing is
                // written again (a retry with its Idempotency-Key finds out).
                Ok(Err(e)) => return Err(e),
                Err(e) if ready.len() == 1 => return Err(e),
                // The database refused the group before its commit (nothing of it stored):
                // each report is written on its own, so that one report the database refuses
                // does not take the others of its group down with it.
                Err(e) => {
                    tracing::warn!(error = %e, reports = ready.len(), "a group of reports failed; writing each on its own");
                    let mut each = Vec::with_capacity(ready.len());
                    for r in &ready {
                        let one = self
                            .write_reports(std::slice::from_ref(r), vault, now, cal)
                            .await;
                        each.push(match one {
                            Ok(Ok(mut one)) => one.pop().unwrap_or_else(|| {
                                Err(StoreError::Corrupt("a report without its answer".into()))
                            }),
                            Ok(Err(e)) | Err(e) => Err(e),
                        });
                    }
                    each
                }
            };
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

    /// The current categories with their versions. Each batch reads only which versions are
    /// current; the bodies of versions seen before come from the store's cache (a stored
    /// version never changes), so a batch parses none of them.
    async fn categories_with_versions(&self) -> Result<Vec<(Category, i64)>, StoreError> {
        let current: Vec<(String, i64)> = with_pool!(self, p => {
            sqlx::query("SELECT code, version FROM categories WHERE current = 1")
                .fetch_all(p).await?
                .iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        let mut out = Vec::with_capacity(current.len());
        for (code, version) in current {
            let category = match self.cached_category(&code, version) {
                Some(c) => c,
                None => {
                    let body: String = with_pool!(self, p => {
                        sqlx::query("SELECT body FROM categories WHERE code = $1 AND version = $2")
                            .bind(code.as_str()).bind(version)
                            .fetch_one(p).await?
                            .try_get(0)?
                    });
                    self.remember_category(&code, version, &body)?
                }
            };
            out.push((Category::clone(&category), version));
        }
        Ok(out)
    }

    /// Write the checked reports in one transaction. The outer error: the database refused
    /// something before the commit, and nothing was stored; the inner one: the commit itself
    /// failed, and whether it took effect is unknown.
    async fn write_reports(
        &self,
        ready: &[(usize, Ready<'_>)],
        vault: Option<&Vault>,
        now: i64,
        cal: &WorkCalendar,
    ) -> Result<Result<Vec<Result<Intake, StoreError>>, StoreError>, StoreError> {
        let today = Date::from_epoch_ms_cst(now);
        let day = today.days_since_epoch();
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            // Keys seen before, in one read.
            let keyed: Vec<&(String, String, String)> = ready.iter().filter_map(|(_, r)| r.case.idempotency.as_ref()).collect();
            let mut seen: Vec<(String, String, String, i64, String, String)> = Vec::new();
            for chunk in sized_chunks(&keyed, ROWS_PER_STATEMENT) {
                let sql = seen_keys_sql(chunk.len());
                let mut q = sqlx::query(&sql);
                for (principal, key, _) in chunk {
                    q = q.bind(principal.as_str()).bind(key.as_str());
                }
                for r in q.fetch_all(&mut *tx).await? {
                    seen.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?));
                }
            }
            // Decide each report: an earlier case for its key, or a new case.
            enum Fate { New, Earlier(Result<Intake, StoreError>), SameAs(usize) }
            let mut fates: Vec<Fate> = Vec::with_capacity(ready.len());
            let mut fresh_keys: Vec<(String, String, String, usize)> = Vec::new();
            for (n, (_, r)) in ready.iter().enumerate() {
                let Some((principal, key, hash)) = &r.case.idempotency else {
                    fates.push(Fate::New);
                    continue;
                };
                let stored = seen.iter().find(|s| &s.0 == principal && &s.1 == key).map(|s| (s.2.clone(), Some((s.3, s.4.clone(), s.5.clone())), 0));
                let in_batch = fresh_keys.iter().find(|k| &k.0 == principal && &k.1 == key).map(|k| (k.2.clone(), None, k.3));
                match stored.or(in_batch) {
                    None => {
                        fresh_keys.push((principal.clone(), key.clone(), hash.clone(), n));
                        fates.push(Fate::New);
                    }
                    Some((h, _, _)) if &h != hash => fates.push(Fate::Earlier(Err(StoreError::refused(
                        "idempotency_key_reused", "该幂等键已用于另一份不同的上报", "this Idempotency-Key was used for a different report")))),
                    Some((_, Some((id, number, stage)), _)) => fates.push(Fate::Earlier(Ok(Intake { id, number, stage, created: false, possible_duplicates: Vec::new() }))),
                    // Answered below, once the first of the batch has its id.
                    Some((_, None, first)) => fates.push(Fate::SameAs(first)),
                }
            }
            let n_new = fates.iter().filter(|f| matches!(f, Fate::New)).count() as i64;
            // The new cases, at the index of their report.
            let mut out: Vec<Option<Intake>> = Vec::with_capacity(ready.len());
            if n_new > 0 {
                // Ids and the day's numbers for the whole batch, taken once.
                let first_id: i64 = sqlx::query("UPDATE id_sequences SET next_id = next_id + $1 WHERE name = 'cases' RETURNING next_id - $1")
                    .bind(n_new).fetch_one(&mut *tx).await?.try_get(0)?;
                sqlx::query("INSERT INTO case_day_seq (day, next) VALUES ($1, 1) ON CONFLICT (day) DO NOTHING")
                    .bind(day).execute(&mut *tx).await?;
                let first_seq: i64 = sqlx::query("UPDATE case_day_seq SET next = next + $1 WHERE day = $2 RETURNING next - $1")
                    .bind(n_new).bind(day).fetch_one(&mut *tx).await?.try_get(0)?;
                let mut rows = Vec::with_capacity(n_new as usize);
                let mut counts = CaseCounts::default();
                let mut notes = Vec::with_capacity(n_new as usize);
                let mut used = 0i64;
                for ((_, r), fate) in ready.iter().zip(&fates) {
                    if !matches!(fate, Fate::New) {
                        out.push(None);
                        continue;
                    }
                    let c = r.case;
                    let id = first_id + used;
                    let number = cases::case_number(today, first_seq + used);
                    used += 1;
                    let level = c.source.first_level();
                    let lc = level_code(&c.cell, level).unwrap_or_else(|| c.cell.clone());
                    let due = stage_limit(Stage::Reported, &r.category).map(|l| l.due(cal, now));
                    let (sealed, masked) = match (&c.contact, vault) {
                        (Some(ph), Some(v)) => (Some(v.seal(Field::CaseContact, id, ph.as_str(), crate::register::fresh_nonce()?)), Some(ph.masked())),
                        _ => (None, None),
                    };
                    let title = if c.title.trim().is_empty() { c.description.trim().chars().take(30).collect::<String>() } else { c.title.trim().to_string() };
                    let scopes = scopes_of(c.cell.as_str(), None, &r.category.code, c.source.as_str());
                    counts.add(&scopes, now, "intake", 1);
                    counts.add(&scopes, now, "open", 1);
                    notes.push(AuditNote {
                        at_ms: now,
                        actor: c.reporter.clone(),
                        action: "case.report".into(),
                        target: format!("case:{id}"),
                        region_code: Some(c.cell.as_str().to_string()),
                        ip: c.ip.clone(),
                        detail: serde_json::json!({"number": number, "category": r.category.code, "source": c.source, "contact": masked}),
                    });
                    out.push(Some(Intake { id, number: number.clone(), stage: "reported".into(), created: true, possible_duplicates: Vec::new() }));
                    rows.push((id, number, r, level, lc, due, sealed, masked, title));
                }
                for chunk in sized_chunks(&rows, ROWS_PER_STATEMENT) {
                    let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO cases (id, number, source, category_code, category_version, priority, title, description, cell_code, lon, lat, address, \
                        reporter, contact_sealed, contact_masked, stage, level, level_code, lead_unit, clock_gen, due_at_ms, events, created_at_ms, updated_at_ms) ");
                    qb.push_values(chunk, |mut b, (id, number, r, level, lc, due, sealed, masked, title)| {
                        let c = r.case;
                        b.push_bind(*id).push_bind(number.as_str()).push_bind(c.source.as_str()).push_bind(r.category.code.as_str()).push_bind(r.version)
                            .push_bind(r.category.priority.as_str()).push_bind(title.as_str()).push_bind(c.description.trim()).push_bind(c.cell.as_str())
                            .push_bind(c.point.map(|p| p[0])).push_bind(c.point.map(|p| p[1])).push_bind(c.address.trim())
                            .push_bind(c.reporter.as_str()).push_bind(sealed.clone()).push_bind(masked.clone()).push_bind("reported")
                            .push_bind(level.as_str()).push_bind(lc.as_str()).push_bind(None::<String>).push_bind(1i64).push_bind(*due)
                            .push_bind(1i64).push_bind(now).push_bind(now);
                    });
                    qb.build().execute(&mut *tx).await?;
                    let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO case_events (case_id, seq, at_ms, step, actor, capacity, note, detail) ");
                    qb.push_values(chunk, |mut b, (id, _, r, level, ..)| {
                        let detail = serde_json::json!({"to": {"stage": "reported", "level": level}, "source": r.case.source, "category": r.category.code});
                        b.push_bind(*id).push_bind(1i64).push_bind(now).push_bind(Step::Report.as_str()).push_bind(r.case.reporter.as_str())
                            .push_bind("reporter").push_bind(r.case.description.trim()).push_bind(detail.to_string());
                    });
                    qb.build().execute(&mut *tx).await?;
                    let timers: Vec<(i64, &'static str, i64)> = chunk.iter()
                        .filter_map(|(id, _, _, _, _, due, ..)| due.map(|d| (*id, d)))
                        .flat_map(|(id, d)| [(id, "warn", now + (d - now) * 3 / 4), (id, "overdue", d)])
                        .collect();
                    for timers in sized_chunks(&timers, ROWS_PER_STATEMENT) {
                        let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO case_timers (case_id, gen, kind, unit_code, due_at_ms, fired_at_ms) ");
                        qb.push_values(timers, |mut b, (id, kind, at)| {
                            b.push_bind(*id).push_bind(1i64).push_bind(*kind).push_bind(None::<String>).push_bind(*at).push_bind(None::<i64>);
                        });
                        qb.build().execute(&mut *tx).await?;
                    }
                }
                let keys: Vec<(&String, &String, &String, i64)> = fresh_keys.iter()
                    .filter_map(|(p, k, h, n)| out[*n].as_ref().map(|i| (p, k, h, i.id)))
                    .collect();
                for chunk in sized_chunks(&keys, ROWS_PER_STATEMENT) {
                    let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO intake_keys (principal, key, request_hash, case_id, at_ms) ");
                    qb.push_values(chunk, |mut b, (p, k, h, id)| {
                        b.push_bind(p.as_str()).push_bind(k.as_str()).push_bind(h.as_str()).push_bind(*id).push_bind(now);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for row in &rows {
                    for ph in &row.2.case.photos {
                        insert_photo!(tx, row.0, 1i64, ph, now);
                    }
                }
                audit_append_many!(DB, tx, notes, counts, self.audit_key());
            } else {
                out.extend(fates.iter().map(|_| None));
            }
            if let Err(e) = tx.commit().await {
                return Ok(Err(e.into()));
            }
            // Reports that repeated a key: the earlier answer, or the first of this batch.
            let missing = || StoreError::Corrupt("a new report without its case".into());
            let answers = fates.into_iter().enumerate().map(|(n, fate)| match fate {
                Fate::New => out[n].clone().ok_or_else(missing),
                Fate::SameAs(first) => out[first].clone().map(|i| Intake { created: false, ..i }).ok_or_else(missing),
                Fate::Earlier(a) => a,
            }).collect();
            Ok(Ok(answers))
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
        type Near = (i64, String, String, String, f64, f64, i64, Option<String>);
        let rows: Vec<Near> = with_pool!(self, p => {
            sqlx::query_as("SELECT id, number, title, stage, lon, lat, created_at_ms, public_text FROM cases \
                            WHERE category_code = $1 AND created_at_ms >= $2 AND lon BETWEEN $3 AND $4 AND lat BETWEEN $5 AND $6 \
                            AND stage NOT IN ('closed', 'rejected', 'merged') AND id <> $7")
                .bind(category).bind(since).bind(point[0] - d).bind(point[0] + d).bind(point[1] - d).bind(point[1] + d).bind(except)
                .fetch_all(p).await?
        });
        let mut out: Vec<CaseRef> = rows
            .into_iter()
            .map(
                |(id, number, title, stage, lon, lat, at, public_text)| CaseRef {
                    id: Some(id),
                    number: Some(number),
                    title: Some(title),
                    stage,
                    distance_m: (cases::distance_m(point, [lon, lat]) * 10.0).round() / 10.0,
                    reported_at_ms: at,
                    public_text,
                },
            )
            .filter(|c| c.distance_m <= cases::DUPLICATE_RADIUS_M)
            .collect();
        out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
        Ok(out)
    }
}
