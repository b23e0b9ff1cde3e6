//! Delivery from the durable outbox: one worker per channel, so a failing or
//! slow endpoint only ever delays its own messages. Each entry is attempted,
//! then marked delivered, rescheduled with backoff and jitter, or failed.
//! A crash between sending and marking sends that one message once more; the
//! idempotency key lets the receiver drop the repeat.
//!
//! A channel may have a rate limit (`max_per_minute`): entries beyond it stay
//! pending in the outbox, oldest first, until the window has room. Since each
//! channel has its own worker, a limited channel only ever waits for itself.
//! The window is kept in memory: after a restart a channel may send up to its
//! limit at once again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use rand::Rng;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::notify::channel::Channel;
use crate::notify::{Message, Outcome, backoff};
use crate::store::{Store, outbox};

pub struct Worker {
    pub store: Store,
    pub channel: Channel,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
    pub max_attempts: i64,
    pub concurrency: usize,
    pub wake: Arc<Notify>,
    /// At most this many attempts per minute (none: no limit).
    pub rate_limit: Option<RateLimit>,
}

/// A sliding window: at most `max` attempts in any `per`.
#[derive(Debug)]
pub struct RateLimit {
    max: usize,
    per: chrono::Duration,
    sent: Mutex<VecDeque<DateTime<Utc>>>,
}

impl RateLimit {
    pub fn per_minute(max: u32) -> Self {
        Self {
            max: max.max(1) as usize,
            per: chrono::Duration::minutes(1),
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// How many attempts may start at `now`.
    pub fn room(&self, now: DateTime<Utc>) -> usize {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        while sent.front().is_some_and(|t| *t + self.per <= now) {
            sent.pop_front();
        }
        self.max.saturating_sub(sent.len())
    }

    fn record(&self, now: DateTime<Utc>, count: usize) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.extend(std::iter::repeat_n(now, count));
    }
}

impl Worker {
    pub async fn run(self, shutdown: CancellationToken) {
        let channel = self.channel.name().to_owned();
        loop {
            match self.deliver_due().await {
                Ok(0) => {}
                Ok(_) => continue,
                Err(e) => tracing::error!(channel, error = %e, "cannot read the outbox"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }

    /// Attempt the due entries of this channel once (as many as the
    /// concurrency and the rate limit allow); returns how many.
    pub async fn deliver_due(&self) -> Result<usize, crate::store::StoreError> {
        let now = self.clock.now();
        let mut take = self.concurrency;
        if let Some(rate) = &self.rate_limit {
            take = take.min(rate.room(now));
            if take == 0 {
                let waiting = outbox::due_for(
                    self.store.pool(),
                    self.channel.name(),
                    now.timestamp_millis(),
                    1,
                )
                .await?;
                if !waiting.is_empty() {
                    self.metrics.delivery(self.channel.name(), "rate_limited");
                    tracing::debug!(
                        channel = self.channel.name(),
                        "rate limit reached; due messages wait"
                    );
                }
                return Ok(0);
            }
        }
        let due = outbox::due_for(
            self.store.pool(),
            self.channel.name(),
            now.timestamp_millis(),
            take as i64,
        )
        .await?;
        let count = due.len();
        if let Some(rate) = &self.rate_limit {
            rate.record(now, count);
        }
        let mut attempts = tokio::task::JoinSet::new();
        for entry in due {
            let channel = self.channel.clone();
            attempts.spawn(async move {
                let outcome = match serde_json::from_str::<Message>(&entry.payload) {
                    Ok(message) => channel.send(&entry.idempotency_key, &message, now).await,
                    Err(e) => Outcome::Permanent(format!("unreadable outbox entry: {e}")),
                };
                (entry, outcome)
            });
        }
        while let Some(joined) = attempts.join_next().await {
            match joined {
                Ok((entry, outcome)) => self.record(entry, outcome).await?,
                Err(e) => tracing::error!(error = %e, "a delivery task failed; it will be retried"),
            }
        }
        if let Ok(pending) = outbox::pending_count(self.store.pool()).await {
            self.metrics.outbox_pending.set(pending);
        }
        Ok(count)
    }

    async fn record(
        &self,
        entry: outbox::Entry,
        outcome: Outcome,
    ) -> Result<(), crate::store::StoreError> {
        let now = self.clock.now();
        let channel = self.channel.name();
        match outcome {
            Outcome::Delivered => {
                outbox::delivered(self.store.pool(), entry.id, now.timestamp_millis()).await?;
                self.metrics.delivery(channel, "delivered");
                let latency = (now.timestamp_millis() - entry.created_ms).max(0) as f64 / 1000.0;
                self.metrics.delivery_latency_seconds.observe(latency);
                tracing::info!(channel, key = %entry.idempotency_key, "notification delivered");
            }
            Outcome::Retry(why) if entry.attempts + 1 < self.max_attempts => {
                let jitter = rand::rng().random_range(-1.0..=1.0);
                let wait = backoff(entry.attempts, jitter);
                let next = now + chrono::Duration::from_std(wait).unwrap_or_default();
                outbox::retry_at(self.store.pool(), entry.id, next.timestamp_millis(), &why)
                    .await?;
                self.metrics.delivery(channel, "retry");
                tracing::warn!(channel, key = %entry.idempotency_key, attempt = entry.attempts + 1, retry_in = ?wait, "delivery failed: {why}");
            }
            Outcome::Retry(why) | Outcome::Permanent(why) => {
                outbox::failed(self.store.pool(), entry.id, &why).await?;
                self.metrics.delivery(channel, "failed");
                tracing::error!(channel, key = %entry.idempotency_key, attempts = entry.attempts + 1, "delivery given up: {why}");
            }
        }
        Ok(())
    }
}
