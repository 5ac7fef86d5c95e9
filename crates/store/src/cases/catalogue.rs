//! The stored catalogue: each category's versions as JSON bodies, one current. Cases keep the
//! version they were raised under, so an edit never changes the limits of cases already in.

use crate::StoreError;
use crate::access::audit::{AuditNote, audit_append};
use crate::backend::{Store, with_pool};
use shezhi_domain::cases::Category;
use sqlx::Row;

fn decode(body: &str) -> Result<Category, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("category body: {e}")))
}

impl Store {
    /// Store the built-in catalogue if the database has none yet; the number stored.
    pub async fn ensure_catalogue(&self, now_ms: i64) -> Result<usize, StoreError> {
        let built_in = shezhi_domain::cases::catalogue::built_in();
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n: i64 = sqlx::query("SELECT COUNT(*) FROM categories").fetch_one(&mut *tx).await?.try_get(0)?;
            if n > 0 {
                return Ok(0);
            }
            for c in &built_in {
                let body = serde_json::to_string(c).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sqlx::query("INSERT INTO categories (code, version, current, body, changed_at_ms, changed_by) VALUES ($1, 1, 1, $2, $3, 'system:built_in')")
                    .bind(c.code.as_str()).bind(body).bind(now_ms).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(built_in.len())
        })
    }

    /// The current catalogue, in code order.
    pub async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        let bodies: Vec<String> = with_pool!(self, p => {
            sqlx::query("SELECT body FROM categories WHERE current = 1 ORDER BY code")
                .fetch_all(p).await?
                .iter().map(|r| r.try_get(0)).collect::<Result<Vec<String>, sqlx::Error>>()?
        });
        bodies.iter().map(|b| decode(b)).collect()
    }

    /// A category's current version and its number.
    pub async fn category(&self, code: &str) -> Result<Option<(Category, i64)>, StoreError> {
        let row: Option<(String, i64)> = with_pool!(self, p => {
            match sqlx::query("SELECT body, version FROM categories WHERE code = $1 AND current = 1")
                .bind(code).fetch_optional(p).await? {
                None => None,
                Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
            }
        });
        row.map(|(b, v)| Ok((decode(&b)?, v))).transpose()
    }

    /// Store a new version of a category (or a new category) and make it current; audited.
    pub async fn put_category(&self, c: &Category, note: &AuditNote) -> Result<i64, StoreError> {
        let body = serde_json::to_string(c).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let old = sqlx::query("SELECT version, body FROM categories WHERE code = $1 AND current = 1")
                .bind(c.code.as_str()).fetch_optional(&mut *tx).await?;
            let (version, before) = match &old {
                Some(r) => (r.try_get::<i64, _>(0)? + 1, serde_json::from_str::<serde_json::Value>(&r.try_get::<String, _>(1)?).unwrap_or_default()),
                None => (1, serde_json::Value::Null),
            };
            sqlx::query("UPDATE categories SET current = 0 WHERE code = $1 AND current = 1")
                .bind(c.code.as_str()).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO categories (code, version, current, body, changed_at_ms, changed_by) VALUES ($1, $2, 1, $3, $4, $5)")
                .bind(c.code.as_str()).bind(version).bind(body.as_str()).bind(note.at_ms).bind(note.actor.as_str())
                .execute(&mut *tx).await?;
            let mut n = note.clone();
            n.target = format!("category:{}", c.code);
            n.detail = serde_json::json!({"before": before, "after": c, "version": version});
            audit_append!(tx, n, self.audit_key());
            tx.commit().await?;
            Ok(version)
        })
    }
}
