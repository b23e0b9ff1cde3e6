//! Every configured channel behind one type, so the outbox workers treat
//! them alike: one worker per channel, whatever it is.

use chrono::{DateTime, Utc};

use super::email::Email;
use super::robot::Robot;
use super::sms::Sms;
use super::webhook::Webhook;
use super::{Message, Outcome};

#[derive(Debug, Clone)]
pub enum Channel {
    Webhook(Webhook),
    Email(Email),
    Sms(Sms),
    Robot(Robot),
}

impl Channel {
    pub fn name(&self) -> &str {
        match self {
            Channel::Webhook(c) => &c.name,
            Channel::Email(c) => &c.name,
            Channel::Sms(c) => &c.name,
            Channel::Robot(c) => &c.name,
        }
    }

    pub async fn send(
        &self,
        idempotency_key: &str,
        message: &Message,
        now: DateTime<Utc>,
    ) -> Outcome {
        match self {
            Channel::Webhook(c) => {
                c.send(idempotency_key, &message.body.to_string(), now.timestamp())
                    .await
            }
            Channel::Email(c) => c.send(idempotency_key, message, now).await,
            Channel::Sms(c) => c.send(idempotency_key, message, now).await,
            Channel::Robot(c) => c.send(idempotency_key, message, now).await,
        }
    }
}
