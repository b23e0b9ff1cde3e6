//! The durable outbox: notifications are written in the same transaction as
//! the case change that caused them, and delivered (and retried) from here.

use sqlx::{AnyConnection, AnyPool, Row};

use super::StoreError;

/// One notification waiting to go out.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: i64,
    pub idempotency_key: String,
    pub channel: String,
    pub payload: String,
    pub created_ms: i64,
    pub attempts: i64,
}

/// What an outbox entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A case notification: its permanent failure escalates the case.
    Case,
    /// An operations alert: its failure is logged and counted, nothing more.
    Ops,
    /// The daily "day has started" message.
    Reassurance,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Case => "case",
            Purpose::Ops => "ops",
            Purpose::Reassurance => "reassurance",
        }
    }

    fn parse(text: &str) -> Purpose {
        match text {
            "ops" => Purpose::Ops,
            "reassurance" => Purpose::Reassurance,
            _ => Purpose::Case,
        }
    }
}

/// A notification to queue.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub idempotency_key: &'a str,
    pub channel: &'a str,
    pub case_id: Option<i64>,
    /// A serialized `notify::Message`.
    pub payload: &'a str,
    pub purpose: Purpose,
    /// Not to be sent before this (quiet hours).
    pub not_before_ms: i64,
}

/// Queue a case notification (a serialized `notify::Message`), to be sent no
/// earlier than `not_before_ms`. A second entry with the same idempotency key is a
/// no-op, so re-running the same decision never sends twice.
pub async fn enqueue(
    conn: &mut AnyConnection,
    idempotency_key: &str,
    channel: &str,
    case_id: Option<i64>,
    payload: &str,
    now_ms: i64,
    not_before_ms: i64,
) -> Result<bool, StoreError> {
    insert(
        conn,
        &NewEntry {
            idempotency_key,
            channel,
            case_id,
            payload,
            purpose: Purpose::Case,
            not_before_ms,
        },
        now_ms,
    )
    .await
}

/// Queue any entry; false when its idempotency key is already taken.
pub async fn insert(
    conn: &mut AnyConnection,
    entry: &NewEntry<'_>,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO outbox (idempotency_key, channel, case_id, payload, created_ms, \
         next_attempt_ms, purpose) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(entry.idempotency_key)
    .bind(entry.channel)
    .bind(entry.case_id)
    .bind(entry.payload)
    .bind(now_ms)
    .bind(entry.not_before_ms.max(now_ms))
    .bind(entry.purpose.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A channel's pending entries whose next attempt is due, oldest first.
pub async fn due_for(
    pool: &AnyPool,
    channel: &str,
    now_ms: i64,
    limit: i64,
) -> Result<Vec<Entry>, StoreError> {
    sqlx::query(
        "SELECT id, idempotency_key, channel, payload, created_ms, attempts FROM outbox \
         WHERE status = 'pending' AND channel = $1 AND next_attempt_ms <= $2 \
         ORDER BY next_attempt_ms, id LIMIT $3",
    )
    .bind(channel)
    .bind(now_ms)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| {
        Ok(Entry {
            id: r.try_get("id")?,
            idempotency_key: r.try_get("idempotency_key")?,
            channel: r.try_get("channel")?,
            payload: r.try_get("payload")?,
            created_ms: r.try_get("created_ms")?,
            attempts: r.try_get("attempts")?,
        })
    })
    .collect()
}

pub async fn pending_count(pool: &AnyPool) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'")
        .fetch_one(pool)
        .await?;
    Ok(row.try_get("n")?)
}

pub async fn delivered(pool: &AnyPool, id: i64, now_ms: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET status = 'delivered', delivered_ms = $1, attempts = attempts + 1, \
         last_error = NULL WHERE id = $2",
    )
    .bind(now_ms)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn retry_at(
    pool: &AnyPool,
    id: i64,
    next_attempt_ms: i64,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = $1, last_error = $2 \
         WHERE id = $3",
    )
    .bind(next_attempt_ms)
    .bind(error)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Given up for good: the processor picks it up (see [`failures`]) to
/// escalate and raise an ops alert.
pub async fn failed(pool: &AnyPool, id: i64, error: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = $1, \
         failure_pending = 1 WHERE id = $2",
    )
    .bind(error)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Count of entries by status (for tests and the API).
pub async fn count_by_status(pool: &AnyPool, status: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE status = $1")
        .bind(status)
        .fetch_one(pool)
        .await?;
    Ok(row.try_get("n")?)
}

/// An entry that failed for good and has not been acted on yet.
#[derive(Debug, Clone)]
pub struct Failure {
    pub id: i64,
    pub idempotency_key: String,
    pub channel: String,
    pub case_id: Option<i64>,
    pub payload: String,
    pub purpose: Purpose,
    pub attempts: i64,
    pub error: String,
}

/// Permanent failures not yet acted on, oldest first.
pub async fn failures(conn: &mut AnyConnection, limit: i64) -> Result<Vec<Failure>, StoreError> {
    sqlx::query(
        "SELECT id, idempotency_key, channel, case_id, payload, purpose, attempts, last_error \
         FROM outbox WHERE failure_pending = 1 ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| {
        Ok(Failure {
            id: r.try_get("id")?,
            idempotency_key: r.try_get("idempotency_key")?,
            channel: r.try_get("channel")?,
            case_id: r.try_get("case_id")?,
            payload: r.try_get("payload")?,
            purpose: Purpose::parse(&r.try_get::<String, _>("purpose")?),
            attempts: r.try_get("attempts")?,
            error: r
                .try_get::<Option<String>, _>("last_error")?
                .unwrap_or_default(),
        })
    })
    .collect()
}

/// A failure has been acted on (in the same transaction as what was done).
pub async fn failure_handled(conn: &mut AnyConnection, id: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE outbox SET failure_pending = 0 WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
