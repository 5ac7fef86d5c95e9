//! Users, their role bindings, handling units, sign-in failures and lockout, browser sessions
//! and API tokens. Secrets are stored only as hashes: Argon2id for passwords, SHA-256 for the
//! random session and API tokens (which carry 256 bits of randomness).

use super::audit::{self, AuditNote};
use crate::StoreError;
use crate::backend::Store;
use crate::db::{Conn, Row, Sql};
use shezhi_domain::access::throttle::{Turn, Turns};
use shezhi_domain::access::{Binding, Role};
use shezhi_domain::territory::RegionCode;

/// A user as stored (the password hash never leaves the store's callers' sign-in path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub resident_id: Option<i64>,
    pub status: String,
    pub failed_logins: i32,
    pub locked_until_ms: i64,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub resident_id: Option<i64>,
    pub bindings: Vec<Binding>,
}

/// A handling unit (department, utility, property company, street or community office).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandlingUnit {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub region_code: String,
}

/// An API token as stored (its secret is never kept, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiTokenRecord {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
}

/// A live browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user_id: i64,
    pub csrf_token: String,
    pub expires_at_ms: i64,
}

fn binding_from(
    role: &str,
    scope: Option<String>,
    unit: Option<String>,
) -> Result<Binding, StoreError> {
    let bad = |w: String| StoreError::Corrupt(format!("role binding: {w}"));
    Ok(Binding {
        role: Role::parse(role).ok_or_else(|| bad(format!("role {role}")))?,
        scope: scope
            .map(|s| RegionCode::parse(&s))
            .transpose()
            .map_err(|e| bad(e.to_string()))?,
        unit,
    })
}

/// The next id of a sequence (`users`, `role_bindings`, `api_tokens`), inside a transaction.
async fn next_id(conn: &mut Conn<'_>, sequence: &str) -> Result<i64, StoreError> {
    let q = Sql::new(
        "UPDATE id_sequences SET next_id = next_id + 1 WHERE name = $1 RETURNING next_id - 1",
    )
    .bind(sequence);
    Ok(conn.fetch_one(&q).await?.get(0)?)
}

fn user_not_found(user_id: i64) -> StoreError {
    StoreError::not_found(
        "user_not_found",
        format!("未找到用户 {user_id}"),
        format!("user {user_id} not found"),
    )
}

fn api_token_record(r: &Row, user_id: i64) -> Result<ApiTokenRecord, sqlx::Error> {
    Ok(ApiTokenRecord {
        id: r.get(0)?,
        user_id,
        name: r.get(1)?,
        created_at_ms: r.get(2)?,
        expires_at_ms: r.get(3)?,
        revoked_at_ms: r.get(4)?,
    })
}

impl Store {
    /// Create a user with their bindings, audited in the same transaction.
    pub async fn create_user(&self, u: &NewUser, audit: &AuditNote) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let taken = Sql::new("SELECT id FROM users WHERE username = $1").bind(u.username.as_str());
        if conn.fetch_optional(&taken).await?.is_some() {
            return Err(StoreError::refused(
                "username_taken",
                format!("用户名“{}”已被使用", u.username),
                format!("username {:?} is already taken", u.username),
            ));
        }
        let id = next_id(&mut conn, "users").await?;
        let insert = Sql::new(
            "INSERT INTO users (id, username, display_name, password_hash, resident_id, status, \
             created_at_ms) VALUES ($1, $2, $3, $4, $5, 'active', $6)",
        )
        .bind(id)
        .bind(u.username.as_str())
        .bind(u.display_name.as_str())
        .bind(u.password_hash.as_str())
        .bind(u.resident_id)
        .bind(audit.at_ms);
        conn.execute(&insert).await?;
        for b in &u.bindings {
            let bid = next_id(&mut conn, "role_bindings").await?;
            let insert = Sql::new(
                "INSERT INTO role_bindings (id, user_id, role, scope_code, unit_code, granted_at_ms, \
                 granted_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(bid)
            .bind(id)
            .bind(b.role.as_str())
            .bind(b.scope.as_ref().map(|s| s.as_str()))
            .bind(b.unit.as_deref())
            .bind(audit.at_ms)
            .bind(audit.actor.as_str());
            conn.execute(&insert).await?;
        }
        let mut note = audit.clone();
        note.target = format!("user:{id}");
        note.detail = serde_json::json!({
            "before": null,
            "after": {
                "username": u.username, "display_name": u.display_name,
                "bindings": u.bindings.iter().map(|b| serde_json::json!({
                    "role": b.role.as_str(), "scope": b.scope.as_ref().map(|s| s.as_str()), "unit": b.unit,
                })).collect::<Vec<_>>(),
            },
        });
        audit::append(&mut conn, &note, self.audit_key()).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let q = Sql::new(
            "SELECT id, username, display_name, password_hash, resident_id, status, failed_logins, \
             locked_until_ms FROM users WHERE username = $1",
        )
        .bind(username);
        let Some(r) = self.fetch_optional(&q).await? else {
            return Ok(None);
        };
        Ok(Some(UserRecord {
            id: r.get(0)?,
            username: r.get(1)?,
            display_name: r.get(2)?,
            password_hash: r.get(3)?,
            resident_id: r.get(4)?,
            status: r.get(5)?,
            failed_logins: r.get(6)?,
            locked_until_ms: r.get(7)?,
        }))
    }

    pub async fn user_bindings(&self, user_id: i64) -> Result<Vec<Binding>, StoreError> {
        let q = Sql::new(
            "SELECT role, scope_code, unit_code FROM role_bindings WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id);
        let rows = self.fetch_all(&q).await?;
        rows.iter()
            .map(|r| binding_from(&r.get::<String>(0)?, r.get(1)?, r.get(2)?))
            .collect()
    }

    /// The name a user is shown by, if the user exists.
    pub async fn user_display_name(&self, user_id: i64) -> Result<Option<String>, StoreError> {
        let q = Sql::new("SELECT display_name FROM users WHERE id = $1").bind(user_id);
        Ok(self
            .fetch_optional(&q)
            .await?
            .map(|r| r.get(0))
            .transpose()?)
    }

    /// The resident record a user is (for residents' own records), if any.
    pub async fn user_resident(&self, user_id: i64) -> Result<Option<i64>, StoreError> {
        let q = Sql::new("SELECT resident_id FROM users WHERE id = $1").bind(user_id);
        let found = self.fetch_optional(&q).await?;
        Ok(found
            .map(|r| r.get::<Option<i64>>(0))
            .transpose()?
            .flatten())
    }

    /// Count a sign-in attempt for `user_id` before its password is checked, or say how long
    /// it must wait (the back-off of `shezhi_domain::access::throttle`). The count and the
    /// next turn are written with a compare-and-set on the row as read, so parallel attempts
    /// are counted one by one and none slips past the wait.
    pub async fn take_sign_in_turn(&self, user_id: i64, now_ms: i64) -> Result<Turn, StoreError> {
        loop {
            let q = Sql::new("SELECT failed_logins, locked_until_ms FROM users WHERE id = $1")
                .bind(user_id);
            let Some(row) = self.fetch_optional(&q).await? else {
                return Err(user_not_found(user_id));
            };
            let (failures, next_at_ms): (i32, i64) = (row.get(0)?, row.get(1)?);
            let turn = Turns {
                failures,
                next_at_ms,
            }
            .attempt(now_ms);
            let Turn::Go { after } = turn else {
                return Ok(turn);
            };
            let set = Sql::new(
                "UPDATE users SET failed_logins = $1, locked_until_ms = $2 \
                 WHERE id = $3 AND failed_logins = $4 AND locked_until_ms = $5",
            )
            .bind(after.failures)
            .bind(after.next_at_ms)
            .bind(user_id)
            .bind(failures)
            .bind(next_at_ms);
            if self.execute(&set).await? == 1 {
                return Ok(turn);
            }
        }
    }

    /// A sign-in succeeded: the failures in a row start again from none.
    pub async fn record_login_success(&self, user_id: i64) -> Result<(), StoreError> {
        let q = Sql::new("UPDATE users SET failed_logins = 0, locked_until_ms = 0 WHERE id = $1")
            .bind(user_id);
        self.execute(&q).await?;
        Ok(())
    }

    pub async fn create_session(
        &self,
        token_hash: &[u8],
        user_id: i64,
        csrf: &str,
        now_ms: i64,
        expires_at_ms: i64,
        ip: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut pooled = self.acquire().await?;
        let mut conn = pooled.conn();
        let expired = Sql::new("DELETE FROM sessions WHERE user_id = $1 AND expires_at_ms < $2")
            .bind(user_id)
            .bind(now_ms);
        conn.execute(&expired).await?;
        let insert = Sql::new(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at_ms, expires_at_ms, ip) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(now_ms)
        .bind(expires_at_ms)
        .bind(ip);
        conn.execute(&insert).await?;
        Ok(())
    }

    /// The session with this token hash, if it has not expired.
    pub async fn session(
        &self,
        token_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let q = Sql::new(
            "SELECT s.user_id, s.csrf_token, s.expires_at_ms FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at_ms > $2 AND u.status = 'active'",
        )
        .bind(token_hash)
        .bind(now_ms);
        let Some(r) = self.fetch_optional(&q).await? else {
            return Ok(None);
        };
        Ok(Some(SessionRecord {
            user_id: r.get(0)?,
            csrf_token: r.get(1)?,
            expires_at_ms: r.get(2)?,
        }))
    }

    pub async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        self.execute(&Sql::new("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash))
            .await?;
        Ok(())
    }

    pub async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &[u8],
        audit: &AuditNote,
        expires_at_ms: Option<i64>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let id = next_id(&mut conn, "api_tokens").await?;
        let insert = Sql::new(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(audit.at_ms)
        .bind(expires_at_ms);
        conn.execute(&insert).await?;
        let mut note = audit.clone();
        note.target = format!("api_token:{id}");
        note.detail = serde_json::json!({
            "before": null,
            "after": {"user_id": user_id, "name": name, "expires_at_ms": expires_at_ms},
        });
        audit::append(&mut conn, &note, self.audit_key()).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The token (its id) and the user an API token belongs to, if it is valid now.
    pub async fn api_token(
        &self,
        token_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let q = Sql::new(
            "SELECT t.id, t.user_id FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at_ms IS NULL \
             AND (t.expires_at_ms IS NULL OR t.expires_at_ms > $2) AND u.status = 'active'",
        )
        .bind(token_hash)
        .bind(now_ms);
        let found = self.fetch_optional(&q).await?;
        Ok(found
            .map(|r| Ok::<_, sqlx::Error>((r.get(0)?, r.get(1)?)))
            .transpose()?)
    }

    /// A user's API tokens, newest first (never the secret: only its hash is stored).
    pub async fn api_tokens_of(&self, user_id: i64) -> Result<Vec<ApiTokenRecord>, StoreError> {
        let q = Sql::new(
            "SELECT id, name, created_at_ms, expires_at_ms, revoked_at_ms FROM api_tokens \
             WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user_id);
        let rows = self.fetch_all(&q).await?;
        Ok(rows
            .iter()
            .map(|r| api_token_record(r, user_id))
            .collect::<Result<Vec<_>, _>>()?)
    }

    /// Revoke an API token at once; false when it was already revoked. Audited.
    pub async fn revoke_api_token(
        &self,
        token_id: i64,
        audit: &AuditNote,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let owner = Sql::new("SELECT user_id FROM api_tokens WHERE id = $1").bind(token_id);
        let Some(owner) = conn.fetch_optional(&owner).await? else {
            return Err(StoreError::not_found(
                "token_not_found",
                format!("未找到 API 令牌 {token_id}"),
                format!("API token {token_id} not found"),
            ));
        };
        let owner: i64 = owner.get(0)?;
        let revoke = Sql::new(
            "UPDATE api_tokens SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL",
        )
        .bind(audit.at_ms)
        .bind(token_id);
        let n = conn.execute(&revoke).await?;
        if n == 1 {
            let mut note = audit.clone();
            note.action = "api_token.revoked".into();
            note.target = format!("api_token:{token_id}");
            note.detail = serde_json::json!({"user_id": owner});
            audit::append(&mut conn, &note, self.audit_key()).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// End every browser session of a user; returns how many were ended. Audited.
    pub async fn end_sessions(&self, user_id: i64, audit: &AuditNote) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let n = conn
            .execute(&Sql::new("DELETE FROM sessions WHERE user_id = $1").bind(user_id))
            .await?;
        let mut note = audit.clone();
        note.action = "sessions.ended".into();
        note.target = format!("user:{user_id}");
        note.detail = serde_json::json!({"sessions": n});
        audit::append(&mut conn, &note, self.audit_key()).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Disable or enable a user. A disabled user can neither sign in nor use a token, and
    /// their sessions end in the same transaction. Audited.
    pub async fn set_user_active(
        &self,
        user_id: i64,
        active: bool,
        audit: &AuditNote,
    ) -> Result<(), StoreError> {
        let status = if active { "active" } else { "disabled" };
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let read = Sql::new("SELECT status FROM users WHERE id = $1").bind(user_id);
        let Some(before) = conn.fetch_optional(&read).await? else {
            return Err(user_not_found(user_id));
        };
        let before: String = before.get(0)?;
        let set = Sql::new("UPDATE users SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(user_id);
        conn.execute(&set).await?;
        let ended = if active {
            0
        } else {
            conn.execute(&Sql::new("DELETE FROM sessions WHERE user_id = $1").bind(user_id))
                .await?
        };
        let mut note = audit.clone();
        note.action = if active {
            "user.enabled"
        } else {
            "user.disabled"
        }
        .into();
        note.target = format!("user:{user_id}");
        note.detail = serde_json::json!({
            "before": {"status": before},
            "after": {"status": status},
            "sessions_ended": ended,
        });
        audit::append(&mut conn, &note, self.audit_key()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user an API token belongs to, if it is valid now.
    pub async fn api_token_user(
        &self,
        token_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self
            .api_token(token_hash, now_ms)
            .await?
            .map(|(_, user)| user))
    }

    /// Insert or rename handling units.
    pub async fn put_units(&self, units: &[HandlingUnit]) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for u in units {
            let q = Sql::new(
                "INSERT INTO handling_units (code, name, kind, region_code) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
                 region_code = excluded.region_code",
            )
            .bind(u.code.as_str())
            .bind(u.name.as_str())
            .bind(u.kind.as_str())
            .bind(u.region_code.as_str());
            tx.conn().execute(&q).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Handling units, optionally only those of a region's subtree, by code.
    pub async fn units(
        &self,
        within: Option<&RegionCode>,
    ) -> Result<Vec<HandlingUnit>, StoreError> {
        let (lo, hi) = within
            .map(RegionCode::subtree_range)
            .unwrap_or_else(|| (String::new(), "\u{10FFFF}".into()));
        let q = Sql::new(
            "SELECT code, name, kind, region_code FROM handling_units \
             WHERE region_code >= $1 AND region_code < $2 ORDER BY code",
        )
        .bind(lo)
        .bind(hi);
        let rows = self.fetch_all(&q).await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok::<_, sqlx::Error>(HandlingUnit {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    kind: r.get(2)?,
                    region_code: r.get(3)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?)
    }
}
