//! Dashboard access: users, sessions, API tokens, the audit log and each
//! household's consent record. Secrets are stored only as hashes.

use sqlx::{AnyPool, Row};

use super::StoreError;

/// A dashboard user as stored (without the password hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    /// Grids (grid workers) or households (family) the user may see.
    pub scope: Vec<String>,
    pub language: String,
    pub disabled: bool,
}

fn user_from(row: &sqlx::any::AnyRow) -> Result<UserRow, StoreError> {
    let scope: String = row.try_get("scope")?;
    Ok(UserRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        scope: split_scope(&scope),
        language: row.try_get("language")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
    })
}

fn split_scope(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What `add_user` stores.
pub struct NewUser<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub scope: &'a [String],
    pub language: &'a str,
    pub password_hash: &'a str,
}

pub async fn add_user(pool: &AnyPool, user: &NewUser<'_>, now_ms: i64) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO users (name, role, scope, language, password_hash, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(user.name)
    .bind(user.role)
    .bind(user.scope.join(","))
    .bind(user.language)
    .bind(user.password_hash)
    .bind(now_ms)
    .fetch_one(pool)
    .await?;
    Ok(row.try_get("id")?)
}

pub async fn users(pool: &AnyPool) -> Result<Vec<UserRow>, StoreError> {
    sqlx::query("SELECT id, name, role, scope, language, disabled FROM users ORDER BY name")
        .fetch_all(pool)
        .await?
        .iter()
        .map(user_from)
        .collect()
}

/// The user called `name` with their password hash.
pub async fn user_by_name(
    pool: &AnyPool,
    name: &str,
) -> Result<Option<(UserRow, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT id, name, role, scope, language, disabled, password_hash FROM users \
         WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(pool)
    .await?;
    row.map(|r| Ok((user_from(&r)?, r.try_get("password_hash")?)))
        .transpose()
}

pub async fn set_password(pool: &AnyPool, name: &str, hash: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE name = $2")
        .bind(hash)
        .bind(name)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Disable a user and end every session and token of theirs.
pub async fn disable_user(pool: &AnyPool, name: &str) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query("UPDATE users SET disabled = 1 WHERE name = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    for query in [
        "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE name = $1)",
        "DELETE FROM api_tokens WHERE user_id IN (SELECT id FROM users WHERE name = $1)",
    ] {
        sqlx::query(query).bind(name).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

pub async fn add_session(
    pool: &AnyPool,
    token_hash: &str,
    user_id: i64,
    csrf: &str,
    now_ms: i64,
    expires_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf, created_ms, last_seen_ms, expires_ms) \
         VALUES ($1, $2, $3, $4, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf)
    .bind(now_ms)
    .bind(expires_ms)
    .execute(pool)
    .await?;
    Ok(())
}

/// The user behind a live session, its CSRF token and when it was last used.
pub async fn session(
    pool: &AnyPool,
    token_hash: &str,
    now_ms: i64,
) -> Result<Option<(UserRow, String, i64)>, StoreError> {
    let row = sqlx::query(
        "SELECT u.id, u.name, u.role, u.scope, u.language, u.disabled, s.csrf, s.last_seen_ms \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_ms > $2 AND u.disabled = 0",
    )
    .bind(token_hash)
    .bind(now_ms)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok((
            user_from(&r)?,
            r.try_get("csrf")?,
            r.try_get("last_seen_ms")?,
        ))
    })
    .transpose()
}

pub async fn touch_session(
    pool: &AnyPool,
    token_hash: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen_ms = $1 WHERE token_hash = $2")
        .bind(now_ms)
        .bind(token_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// End a session, and every expired or idle one while at it.
pub async fn end_session(
    pool: &AnyPool,
    token_hash: &str,
    now_ms: i64,
    idle_since_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM sessions WHERE token_hash = $1 OR expires_ms <= $2 OR last_seen_ms < $3",
    )
    .bind(token_hash)
    .bind(now_ms)
    .bind(idle_since_ms)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn add_token(
    pool: &AnyPool,
    token_hash: &str,
    user_id: i64,
    label: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO api_tokens (token_hash, user_id, label, created_ms) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(label)
    .bind(now_ms)
    .execute(pool)
    .await?;
    Ok(())
}

/// The user behind an API token.
pub async fn token_user(pool: &AnyPool, token_hash: &str) -> Result<Option<UserRow>, StoreError> {
    let row = sqlx::query(
        "SELECT u.id, u.name, u.role, u.scope, u.language, u.disabled \
         FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND u.disabled = 0",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(user_from).transpose()
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub ts_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub source: String,
}

pub async fn audit(pool: &AnyPool, entry: &AuditEntry) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (ts_ms, actor, action, target, detail, source) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(entry.ts_ms)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.target)
    .bind(&entry.detail)
    .bind(&entry.source)
    .execute(pool)
    .await?;
    Ok(())
}

/// The newest audit entries, newest first.
pub async fn audit_log(pool: &AnyPool, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
    sqlx::query(
        "SELECT ts_ms, actor, action, target, detail, source FROM audit_log \
         ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(AuditEntry {
            ts_ms: r.try_get("ts_ms")?,
            actor: r.try_get("actor")?,
            action: r.try_get("action")?,
            target: r.try_get("target")?,
            detail: r.try_get("detail")?,
            source: r.try_get("source")?,
        })
    })
    .collect()
}

/// A household's consent record: whether family may see its water use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Consent {
    pub family_sees_usage: bool,
    pub recorded_by: String,
    pub recorded_ms: i64,
    pub note: String,
}

pub async fn consent(pool: &AnyPool, household: &str) -> Result<Option<Consent>, StoreError> {
    let row = sqlx::query(
        "SELECT family_sees_usage, recorded_by, recorded_ms, note FROM consents \
         WHERE household = $1",
    )
    .bind(household)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(Consent {
            family_sees_usage: r.try_get::<i64, _>("family_sees_usage")? != 0,
            recorded_by: r.try_get("recorded_by")?,
            recorded_ms: r.try_get("recorded_ms")?,
            note: r.try_get("note")?,
        })
    })
    .transpose()
}

pub async fn set_consent(pool: &AnyPool, household: &str, c: &Consent) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO consents (household, family_sees_usage, recorded_by, recorded_ms, note) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (household) DO UPDATE SET \
         family_sees_usage = excluded.family_sees_usage, recorded_by = excluded.recorded_by, \
         recorded_ms = excluded.recorded_ms, note = excluded.note",
    )
    .bind(household)
    .bind(i64::from(c.family_sees_usage))
    .bind(&c.recorded_by)
    .bind(c.recorded_ms)
    .bind(&c.note)
    .execute(pool)
    .await?;
    Ok(())
}
