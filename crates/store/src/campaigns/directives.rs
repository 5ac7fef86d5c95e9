//! Directives: issued for a region's subtree, fanned out in one statement to every region of
//! the target levels below, signed for and reported back on by each recipient, amended (all
//! must sign again) or withdrawn, and swept for reminders once per rule and version.

use crate::StoreError;
use crate::access::audit::{AuditNote, By, audit_append};
use crate::backend::{Store, with_pool};
use shezhi_domain::campaigns::TargetLevel;
use shezhi_domain::campaigns::remind::{Rule, Standing, due_rules};
use shezhi_domain::territory::RegionCode;
use sqlx::Row;
use std::collections::BTreeMap;

/// A file sent with a directive.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct NewDirective {
    pub issuer: String,
    pub region: RegionCode,
    pub title: String,
    pub content: String,
    pub levels: Vec<TargetLevel>,
    pub deadline_ms: i64,
    pub attachments: Vec<Attachment>,
}

/// A directive as listed and shown.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Directive {
    pub id: i64,
    pub issuer: String,
    pub region_code: String,
    pub title: String,
    pub content: String,
    pub target_levels: Vec<String>,
    pub deadline_ms: i64,
    /// Each amendment adds one; recipients must sign the current version.
    pub version: i64,
    pub issued_at_ms: i64,
    /// `active` or `withdrawn`.
    pub status: String,
    pub recipients: i64,
    /// (id, name, content type) of the attachments.
    pub attachments: Vec<(i64, String, String)>,
}

/// How far the recipients of one level are.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LevelProgress {
    pub level: String,
    pub recipients: i64,
    /// Signed for the current version.
    pub signed: i64,
    /// Reported back on the current version.
    pub reported: i64,
}

/// One recipient and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recipient {
    pub region_code: String,
    pub name: String,
    pub level: String,
    pub signed: bool,
    pub signed_at_ms: Option<i64>,
    pub reported: bool,
    pub reported_at_ms: Option<i64>,
    pub report: Option<String>,
}

const DIRECTIVE_COLUMNS: &str = "id, issuer, region_code, title, content, target_levels, deadline_ms, version, issued_at_ms, status, recipients";

fn refused(code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::refused(code, zh, en)
}

fn missing(id: i64) -> StoreError {
    StoreError::not_found(
        "directive_not_found",
        format!("未找到指令 {id}"),
        format!("directive {id} not found"),
    )
}

impl Store {
    /// Issues a directive and fans it out to every region of the target levels in the
    /// issuer's subtree (the issuing region itself excluded), all in one transaction.
    pub async fn issue_directive(
        &self,
        d: &NewDirective,
        now_ms: i64,
        ip: Option<&str>,
    ) -> Result<(i64, i64), StoreError> {
        if d.deadline_ms <= now_ms {
            return Err(StoreError::invalid(
                "deadline_passed",
                "截止时间须晚于现在",
                "the deadline must be in the future",
            ));
        }
        let levels: Vec<&str> = d.levels.iter().map(|l| l.as_str()).collect();
        let (lo, hi) = d.region.subtree_range();
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query("INSERT INTO directives (issuer, region_code, title, content, target_levels, deadline_ms, version, issued_at_ms, status, created_at_ms, recipients) \
                                       VALUES ($1, $2, $3, $4, $5, $6, 1, $7, 'active', $7, 0) RETURNING id")
                .bind(&d.issuer).bind(d.region.as_str()).bind(&d.title).bind(&d.content).bind(levels.join(","))
                .bind(d.deadline_ms).bind(now_ms)
                .fetch_one(&mut *tx).await?.try_get(0)?;
            let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO directive_recipients (directive_id, region_code, level) SELECT ");
            qb.push_bind(id).push(", code, level FROM regions WHERE code >= ").push_bind(lo.clone())
                .push(" AND code < ").push_bind(hi.clone()).push(" AND code <> ").push_bind(d.region.as_str().to_string())
                .push(" AND level IN (");
            let mut sep = qb.separated(", ");
            for l in &levels {
                sep.push_bind(l.to_string());
            }
            qb.push(")");
            let n = qb.build().execute(&mut *tx).await?.rows_affected() as i64;
            if n == 0 {
                return Err(StoreError::invalid("no_recipients", "该区域下没有目标层级的单位", "no region of the target levels lies below the issuer"));
            }
            sqlx::query("UPDATE directives SET recipients = $1 WHERE id = $2").bind(n).bind(id).execute(&mut *tx).await?;
            for a in &d.attachments {
                sqlx::query("INSERT INTO directive_attachments (directive_id, name, content_type, bytes) VALUES ($1, $2, $3, $4)")
                    .bind(id).bind(&a.name).bind(&a.content_type).bind(a.bytes.as_slice()).execute(&mut *tx).await?;
            }
            let note = AuditNote {
                at_ms: now_ms, actor: d.issuer.clone(), action: "directive_issued".into(),
                target: format!("directive:{id}"), region_code: Some(d.region.as_str().into()), ip: ip.map(Into::into),
                detail: serde_json::json!({"title": d.title, "levels": levels, "deadline_ms": d.deadline_ms, "recipients": n}),
            };
            audit_append!(tx, note, self.audit_key());
            tx.commit().await?;
            Ok((id, n))
        })
    }

    pub async fn directive(&self, id: i64) -> Result<Option<Directive>, StoreError> {
        with_pool!(self, p => {
            let Some(r) = sqlx::query(&format!("SELECT {DIRECTIVE_COLUMNS} FROM directives WHERE id = $1"))
                .bind(id).fetch_optional(p).await? else { return Ok(None) };
            let files = sqlx::query("SELECT id, name, content_type FROM directive_attachments WHERE directive_id = $1 ORDER BY id")
                .bind(id).fetch_all(p).await?
                .iter().map(|f| Ok((f.try_get(0)?, f.try_get(1)?, f.try_get(2)?))).collect::<Result<Vec<_>, sqlx::Error>>()?;
            Ok(Some(directive_row(&r, files)?))
        })
    }

    /// Directives issued anywhere in the subtrees of `issuing` (the issuer's territory), or
    /// sent to exactly one of `answering` (a recipient region), newest first.
    pub async fn directives_for(
        &self,
        issuing: &[RegionCode],
        answering: &[RegionCode],
        limit: i64,
    ) -> Result<Vec<Directive>, StoreError> {
        let mut out: BTreeMap<i64, Directive> = BTreeMap::new();
        for s in issuing {
            let (lo, hi) = s.subtree_range();
            let rows = with_pool!(self, p => {
                sqlx::query(&format!("SELECT {DIRECTIVE_COLUMNS} FROM directives WHERE region_code >= $1 AND region_code < $2 \
                                      ORDER BY id DESC LIMIT $3"))
                    .bind(lo).bind(hi).bind(limit).fetch_all(p).await?
                    .iter().map(|r| directive_row(r, Vec::new())).collect::<Result<Vec<_>, sqlx::Error>>()?
            });
            for d in rows {
                out.insert(d.id, d);
            }
        }
        for s in answering {
            let rows = with_pool!(self, p => {
                sqlx::query(&format!("SELECT {DIRECTIVE_COLUMNS} FROM directives WHERE id IN \
                                      (SELECT directive_id FROM directive_recipients WHERE region_code = $1) ORDER BY id DESC LIMIT $2"))
                    .bind(s.as_str()).bind(limit).fetch_all(p).await?
                    .iter().map(|r| directive_row(r, Vec::new())).collect::<Result<Vec<_>, sqlx::Error>>()?
            });
            for d in rows {
                out.insert(d.id, d);
            }
        }
        Ok(out.into_values().rev().take(limit as usize).collect())
    }

    /// Signs for (签收) the current version, as the recipient region.
    pub async fn sign_directive<'a>(
        &self,
        id: i64,
        region: &RegionCode,
        by: impl Into<By<'a>>,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        self.answer_directive(id, region, by.into(), now_ms, None)
            .await
    }

    /// Reports back (反馈) on the current version; signing first is implied.
    pub async fn report_directive<'a>(
        &self,
        id: i64,
        region: &RegionCode,
        by: impl Into<By<'a>>,
        report: &str,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        self.answer_directive(id, region, by.into(), now_ms, Some(report))
            .await
    }

    async fn answer_directive(
        &self,
        id: i64,
        region: &RegionCode,
        by: By<'_>,
        now_ms: i64,
        report: Option<&str>,
    ) -> Result<i64, StoreError> {
        let actor = by.actor;
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            if self.backend() == crate::Backend::Sqlite {
                // Take the write lock first: concurrent writers queue instead of failing to
                // upgrade a read lock.
                sqlx::query("UPDATE directives SET id = id WHERE 0 = 1").execute(&mut *tx).await?;
            }
            let d = sqlx::query("SELECT version, status FROM directives WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?
                .ok_or_else(|| missing(id))?;
            let (version, status): (i64, String) = (d.try_get(0)?, d.try_get(1)?);
            if status != "active" {
                return Err(refused("directive_withdrawn", "该指令已撤回", "the directive has been withdrawn"));
            }
            let updated = match report {
                None => sqlx::query("UPDATE directive_recipients SET signed_version = $1, signed_at_ms = $2, signed_by = $3 \
                                     WHERE directive_id = $4 AND region_code = $5 AND signed_version < $1")
                    .bind(version).bind(now_ms).bind(actor).bind(id).bind(region.as_str()).execute(&mut *tx).await?,
                Some(text) => sqlx::query("UPDATE directive_recipients SET signed_version = $1, signed_at_ms = COALESCE(CASE WHEN signed_version = $1 THEN signed_at_ms END, $2), \
                                           signed_by = COALESCE(CASE WHEN signed_version = $1 THEN signed_by END, $3), reported_version = $1, reported_at_ms = $2, reported_by = $3, report = $6 \
                                           WHERE directive_id = $4 AND region_code = $5")
                    .bind(version).bind(now_ms).bind(actor).bind(id).bind(region.as_str()).bind(text).execute(&mut *tx).await?,
            };
            if updated.rows_affected() == 0 {
                let exists = sqlx::query("SELECT 1 FROM directive_recipients WHERE directive_id = $1 AND region_code = $2")
                    .bind(id).bind(region.as_str()).fetch_optional(&mut *tx).await?;
                return Err(match exists {
                    None => refused("not_a_recipient", "该区域不是此指令的接收方", "the region is not a recipient of this directive"),
                    Some(_) => refused("already_signed", "已签收当前版本", "the current version has been signed already"),
                });
            }
            let note = AuditNote {
                at_ms: now_ms, actor: actor.into(), action: if report.is_some() { "directive_reported" } else { "directive_signed" }.into(),
                target: format!("directive:{id}"), region_code: Some(region.as_str().into()), ip: by.ip.map(Into::into),
                detail: serde_json::json!({"version": version, "report": report}),
            };
            audit_append!(tx, note, self.audit_key());
            tx.commit().await?;
            Ok(version)
        })
    }

    /// Amends the content or deadline: a new version every recipient must sign again.
    pub async fn amend_directive<'a>(
        &self,
        id: i64,
        by: impl Into<By<'a>>,
        content: &str,
        deadline_ms: i64,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        if deadline_ms <= now_ms {
            return Err(StoreError::invalid(
                "deadline_passed",
                "截止时间须晚于现在",
                "the deadline must be in the future",
            ));
        }
        let by = by.into();
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let row = sqlx::query("UPDATE directives SET content = $1, deadline_ms = $2, version = version + 1, issued_at_ms = $3 \
                                   WHERE id = $4 AND status = 'active' RETURNING version, region_code")
                .bind(content).bind(deadline_ms).bind(now_ms).bind(id).fetch_optional(&mut *tx).await?
                .ok_or_else(|| refused("directive_withdrawn", "指令不存在或已撤回", "the directive is missing or withdrawn"))?;
            let (version, region): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
            // The reminder rules start over for the new version.
            sqlx::query("UPDATE directive_recipients SET reminded = 0 WHERE directive_id = $1").bind(id).execute(&mut *tx).await?;
            let note = AuditNote {
                at_ms: now_ms, actor: by.actor.into(), action: "directive_amended".into(), target: format!("directive:{id}"),
                region_code: Some(region), ip: by.ip.map(Into::into), detail: serde_json::json!({"version": version, "deadline_ms": deadline_ms}),
            };
            audit_append!(tx, note, self.audit_key());
            tx.commit().await?;
            Ok(version)
        })
    }

    pub async fn withdraw_directive<'a>(
        &self,
        id: i64,
        by: impl Into<By<'a>>,
        reason: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let by = by.into();
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let region: String = sqlx::query("UPDATE directives SET status = 'withdrawn' WHERE id = $1 AND status = 'active' RETURNING region_code")
                .bind(id).fetch_optional(&mut *tx).await?
                .ok_or_else(|| refused("directive_withdrawn", "指令不存在或已撤回", "the directive is missing or withdrawn"))?
                .try_get(0)?;
            let note = AuditNote {
                at_ms: now_ms, actor: by.actor.into(), action: "directive_withdrawn".into(), target: format!("directive:{id}"),
                region_code: Some(region), ip: by.ip.map(Into::into), detail: serde_json::json!({"reason": reason}),
            };
            audit_append!(tx, note, self.audit_key());
            tx.commit().await?;
            Ok(())
        })
    }

    /// Where each of `regions` stands on the directives sent to it (active or not), newest
    /// directive first: (directive id, region, signed, reported) for the current versions.
    pub async fn directive_answers(
        &self,
        regions: &[RegionCode],
        limit: i64,
    ) -> Result<Vec<(i64, String, bool, bool)>, StoreError> {
        let mut out = Vec::new();
        for region in regions {
            let rows = with_pool!(self, p => {
                sqlx::query("SELECT r.directive_id, r.region_code, r.signed_version = d.version, r.reported_version = d.version \
                             FROM directive_recipients r JOIN directives d ON d.id = r.directive_id \
                             WHERE r.region_code = $1 ORDER BY r.directive_id DESC LIMIT $2")
                    .bind(region.as_str()).bind(limit).fetch_all(p).await?
                    .iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            });
            out.extend(rows);
        }
        out.sort_by_key(|a| std::cmp::Reverse(a.0));
        Ok(out)
    }

    /// Which of `regions` are recipients of the directive (in the order given).
    pub async fn directive_recipients_among(
        &self,
        id: i64,
        regions: &[RegionCode],
    ) -> Result<Vec<RegionCode>, StoreError> {
        let mut out = Vec::new();
        for r in regions {
            let found = with_pool!(self, p => {
                sqlx::query("SELECT 1 FROM directive_recipients WHERE directive_id = $1 AND region_code = $2")
                    .bind(id).bind(r.as_str()).fetch_optional(p).await?.is_some()
            });
            if found {
                out.push(r.clone());
            }
        }
        Ok(out)
    }

    /// One attachment of a directive: (name, content type, bytes).
    pub async fn directive_attachment(
        &self,
        id: i64,
        file: i64,
    ) -> Result<Option<(String, String, Vec<u8>)>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query("SELECT name, content_type, bytes FROM directive_attachments WHERE directive_id = $1 AND id = $2")
                .bind(id).bind(file).fetch_optional(p).await?;
            Ok(match row {
                Some(r) => Some((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)),
                None => None,
            })
        })
    }

    /// Signed and reported counts per level, for the current version.
    pub async fn directive_progress(&self, id: i64) -> Result<Vec<LevelProgress>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query("SELECT r.level, COUNT(*), SUM(CASE WHEN r.signed_version = d.version THEN 1 ELSE 0 END), \
                                    SUM(CASE WHEN r.reported_version = d.version THEN 1 ELSE 0 END) \
                                    FROM directive_recipients r JOIN directives d ON d.id = r.directive_id WHERE r.directive_id = $1 GROUP BY r.level")
                .bind(id).fetch_all(p).await?;
            let mut out = rows.iter().map(|r| Ok(LevelProgress {
                level: r.try_get(0)?, recipients: r.try_get(1)?,
                signed: r.try_get::<Option<i64>, _>(2)?.unwrap_or(0), reported: r.try_get::<Option<i64>, _>(3)?.unwrap_or(0),
            })).collect::<Result<Vec<_>, sqlx::Error>>()?;
            let rank = |l: &str| TargetLevel::parse(l).map_or(9, |t| t as u8);
            out.sort_by_key(|p| rank(&p.level));
            Ok(out)
        })
    }

    /// Recipients in `within` (a subtree) that have not signed (or, with `unreported`, not
    /// reported) the current version, in code order after `after`.
    pub async fn directive_recipients(
        &self,
        id: i64,
        within: &RegionCode,
        pending_only: bool,
        after: &str,
        limit: i64,
    ) -> Result<Vec<Recipient>, StoreError> {
        let (lo, hi) = within.subtree_range();
        // Past `after`, but never below the subtree: a cursor from another part of the tree
        // must not widen the range.
        let lo = if after.is_empty() {
            lo
        } else {
            std::cmp::max(lo, format!("{after}\u{1}"))
        };
        with_pool!(self, p => {
            let sql = format!("SELECT r.region_code, r.level, r.signed_version = d.version, r.signed_at_ms, r.reported_version = d.version, r.reported_at_ms, r.report, g.name \
                               FROM directive_recipients r JOIN directives d ON d.id = r.directive_id JOIN regions g ON g.code = r.region_code \
                               WHERE r.directive_id = $1 AND r.region_code >= $2 AND r.region_code < $3 {} ORDER BY r.region_code LIMIT $4",
                              if pending_only { "AND r.reported_version < d.version" } else { "" });
            Ok(sqlx::query(&sql).bind(id).bind(lo).bind(hi).bind(limit).fetch_all(p).await?
                .iter().map(|r| Ok(Recipient {
                    region_code: r.try_get(0)?, name: r.try_get(7)?, level: r.try_get(1)?, signed: r.try_get(2)?, signed_at_ms: r.try_get(3)?,
                    reported: r.try_get(4)?, reported_at_ms: r.try_get(5)?, report: r.try_get(6)?,
                })).collect::<Result<Vec<_>, sqlx::Error>>()?)
        })
    }

    /// Reminds late recipients of every active directive, once per rule and version: a
    /// notice to the recipient region, and for the overdue rule one to its parent too.
    /// Returns the notices written.
    pub async fn sweep_directive_reminders(&self, now_ms: i64) -> Result<usize, StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            if self.backend() == crate::Backend::Sqlite {
                // Take the write lock first: concurrent writers queue instead of failing to
                // upgrade a read lock.
                sqlx::query("UPDATE directives SET id = id WHERE 0 = 1").execute(&mut *tx).await?;
            }
            let rows = sqlx::query("SELECT d.id, d.title, d.version, d.issued_at_ms, d.deadline_ms, r.region_code, r.signed_version = d.version, \
                                    r.reported_version = d.version, r.reminded \
                                    FROM directives d JOIN directive_recipients r ON r.directive_id = d.id \
                                    WHERE d.status = 'active' AND r.reported_version < d.version \
                                    AND (d.issued_at_ms + (d.deadline_ms - d.issued_at_ms) / 2) <= $1 AND r.reminded < 3 ORDER BY d.id, r.region_code")
                .bind(now_ms).fetch_all(&mut *tx).await?;
            let mut written = 0;
            for r in &rows {
                let (id, title, version, issued, deadline): (i64, String, i64, i64, i64) =
                    (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?);
                let region: String = r.try_get(5)?;
                let standing = Standing { signed: r.try_get(6)?, reported: r.try_get(7)?, reminded: r.try_get(8)? };
                let fire = due_rules(standing, issued, deadline, now_ms);
                if fire.is_empty() {
                    continue;
                }
                let bits = fire.iter().fold(standing.reminded, |b, r| b | r.bit());
                // Claim the rules first: a concurrent sweep that read the same row finds the
                // mask changed and writes nothing, so each rule fires once.
                let claimed = sqlx::query("UPDATE directive_recipients SET reminded = $1 WHERE directive_id = $2 AND region_code = $3 AND reminded = $4")
                    .bind(bits).bind(id).bind(region.as_str()).bind(standing.reminded).execute(&mut *tx).await?.rows_affected();
                if claimed == 0 {
                    continue;
                }
                for rule in fire {
                    let mut to = vec![(format!("region:{region}"), format!("请及时签收并反馈指令“{title}”"), format!("please sign for and report on the directive \"{title}\""))];
                    if rule == Rule::Overdue
                        && let Some(parent) = RegionCode::parse(&region).ok().and_then(|c| c.parent())
                    {
                        to.push((format!("region:{}", parent.as_str()), format!("下级 {region} 逾期未反馈指令“{title}”"), format!("{region} has not reported on \"{title}\" by the deadline")));
                    }
                    for (recipient, zh, en) in to {
                        sqlx::query("INSERT INTO directive_notices (directive_id, recipient, region_code, rule, version, text_zh, text_en, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                            .bind(id).bind(recipient).bind(region.as_str()).bind(rule.as_str()).bind(version).bind(zh).bind(en).bind(now_ms)
                            .execute(&mut *tx).await?;
                        written += 1;
                    }
                }
            }
            tx.commit().await?;
            Ok(written)
        })
    }

    /// Reminder notices for any of `recipients` (`region:CODE`), newest first.
    pub async fn directive_notices(
        &self,
        recipients: &[String],
        limit: i64,
    ) -> Result<Vec<(i64, String, String, String, i64)>, StoreError> {
        let mut out: Vec<(i64, String, String, String, i64)> = Vec::new();
        for r in recipients {
            let rows = with_pool!(self, p => {
                sqlx::query("SELECT directive_id, rule, text_zh, text_en, at_ms FROM directive_notices WHERE recipient = $1 ORDER BY id DESC LIMIT $2")
                    .bind(r).bind(limit).fetch_all(p).await?
                    .iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?))).collect::<Result<Vec<_>, sqlx::Error>>()?
            });
            out.extend(rows);
        }
        out.sort_by_key(|x| std::cmp::Reverse(x.4));
        out.truncate(limit as usize);
        Ok(out)
    }
}

fn directive_row<R: Row>(
    r: &R,
    attachments: Vec<(i64, String, String)>,
) -> Result<Directive, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let levels: String = r.try_get(5)?;
    Ok(Directive {
        id: r.try_get(0)?,
        issuer: r.try_get(1)?,
        region_code: r.try_get(2)?,
        title: r.try_get(3)?,
        content: r.try_get(4)?,
        target_levels: levels.split(',').map(str::to_string).collect(),
        deadline_ms: r.try_get(6)?,
        version: r.try_get(7)?,
        issued_at_ms: r.try_get(8)?,
        status: r.try_get(9)?,
        recipients: r.try_get(10)?,
        attachments,
    })
}
