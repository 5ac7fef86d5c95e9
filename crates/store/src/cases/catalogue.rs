//! The stored catalogue: each category's versions as JSON bodies, one current. Cases keep the
//! version they were raised under, so an edit never changes the limits of cases already in.

use crate::StoreError;
use crate::access::audit::{self, AuditNote};
use crate::backend::Store;
use crate::db::Sql;
use shezhi_domain::cases::Category;

fn decode(body: &str) -> Result<Category, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("category body: {e}")))
}

fn encode(c: &Category) -> Result<String, StoreError> {
    serde_json::to_string(c).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Store {
    /// Store the built-in catalogue if the database has none yet; the number stored.
    pub async fn ensure_catalogue(&self, now_ms: i64) -> Result<usize, StoreError> {
        let built_in = shezhi_domain::cases::catalogue::built_in();
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let n: i64 = conn
            .fetch_one(&Sql::new("SELECT COUNT(*) FROM categories"))
            .await?
            .get(0)?;
        if n > 0 {
            return Ok(0);
        }
        for c in &built_in {
            let q = Sql::new(
                "INSERT INTO categories (code, version, current, body, changed_at_ms, changed_by) \
                 VALUES ($1, 1, 1, $2, $3, 'system:built_in')",
            )
            .bind(c.code.as_str())
            .bind(encode(c)?)
            .bind(now_ms);
            conn.execute(&q).await?;
        }
        tx.commit().await?;
        Ok(built_in.len())
    }

    /// The current catalogue, in code order.
    pub async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        let q = Sql::new("SELECT body FROM categories WHERE current = 1 ORDER BY code");
        let rows = self.fetch_all(&q).await?;
        rows.iter().map(|r| decode(&r.get::<String>(0)?)).collect()
    }

    /// A category's current version and its number.
    pub async fn category(&self, code: &str) -> Result<Option<(Category, i64)>, StoreError> {
        let q = Sql::new("SELECT body, version FROM categories WHERE code = $1 AND current = 1")
            .bind(code);
        match self.fetch_optional(&q).await? {
            None => Ok(None),
            Some(r) => Ok(Some((decode(&r.get::<String>(0)?)?, r.get(1)?))),
        }
    }

    /// Store a new version of a category (or a new category) and make it current; audited.
    pub async fn put_category(&self, c: &Category, note: &AuditNote) -> Result<i64, StoreError> {
        let body = encode(c)?;
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let old = conn
            .fetch_optional(
                &Sql::new("SELECT version, body FROM categories WHERE code = $1 AND current = 1")
                    .bind(c.code.as_str()),
            )
            .await?;
        let (version, before) = match &old {
            Some(r) => (
                r.get::<i64>(0)? + 1,
                serde_json::from_str::<serde_json::Value>(&r.get::<String>(1)?).unwrap_or_default(),
            ),
            None => (1, serde_json::Value::Null),
        };
        conn.execute(
            &Sql::new("UPDATE categories SET current = 0 WHERE code = $1 AND current = 1")
                .bind(c.code.as_str()),
        )
        .await?;
        let insert = Sql::new(
            "INSERT INTO categories (code, version, current, body, changed_at_ms, changed_by) \
             VALUES ($1, $2, 1, $3, $4, $5)",
        )
        .bind(c.code.as_str())
        .bind(version)
        .bind(body)
        .bind(note.at_ms)
        .bind(note.actor.as_str());
        conn.execute(&insert).await?;
        let mut n = note.clone();
        n.target = format!("category:{}", c.code);
        n.detail = serde_json::json!({"before": before, "after": c, "version": version});
        audit::append(&mut conn, &n, self.audit_key()).await?;
        tx.commit().await?;
        Ok(version)
    }
}
