//! Operations alerts: what ops staff are told when a notification could not
//! be delivered for good. Pure: the processor records the failure in the
//! case's audit trail, escalates, and queues these.

use chrono::{DateTime, Utc};
use serde_json::json;
use waterwatch_rules::text::Language;

use super::Message;
use super::contacts::Reach;

/// A notification given up for good, as ops are told of it.
#[derive(Debug, Clone)]
pub struct DeliveryFailure<'a> {
    /// The outbox entry.
    pub outbox_id: i64,
    pub channel: &'a str,
    /// The recipient, masked (empty for webhooks and robots).
    pub to: &'a str,
    pub error: &'a str,
    /// `case` or `reassurance`.
    pub purpose: &'a str,
    pub case_id: Option<i64>,
    pub household: Option<&'a str>,
    /// Whether the case moved on to its next escalation step.
    pub escalated: bool,
}

/// One ops message per way of reaching ops: (idempotency key, channel, message).
pub fn delivery_failed(
    reach: &[Reach],
    language: Language,
    failure: &DeliveryFailure<'_>,
    now: DateTime<Utc>,
) -> Vec<(String, String, Message)> {
    let error: String = failure.error.chars().take(160).collect();
    let case = match (failure.case_id, failure.household) {
        (Some(id), Some(h)) => format!("#{id} ({h})"),
        (Some(id), None) => format!("#{id}"),
        (None, Some(h)) => h.to_owned(),
        (None, None) => String::new(),
    };
    let (subject, text) = match language {
        Language::ZhCn => (
            format!("waterwatch 运维：{} 发送失败", failure.channel),
            format!(
                "经{}发给{}的消息（{}{}）最终发送失败：{}。{}",
                failure.channel,
                if failure.to.is_empty() {
                    "接收方"
                } else {
                    failure.to
                },
                failure.purpose,
                if case.is_empty() {
                    String::new()
                } else {
                    format!(" {case}")
                },
                error,
                if failure.escalated {
                    "已升级至下一步。"
                } else {
                    "无后续步骤可升级。"
                }
            ),
        ),
        Language::En => (
            format!("waterwatch ops: delivery failed on {}", failure.channel),
            format!(
                "A {} message{} via {} to {} failed for good: {}. {}",
                failure.purpose,
                if case.is_empty() {
                    String::new()
                } else {
                    format!(" for {case}")
                },
                failure.channel,
                if failure.to.is_empty() {
                    "its endpoint"
                } else {
                    failure.to
                },
                error,
                if failure.escalated {
                    "The case moved on to its next step."
                } else {
                    "No further step to escalate to."
                }
            ),
        ),
    };
    let body = json!({
        "type": "ops_alert",
        "reason": "delivery_failed",
        "ts": now.to_rfc3339(),
        "outbox_id": failure.outbox_id,
        "channel": failure.channel,
        "to": failure.to,
        "purpose": failure.purpose,
        "case": failure.case_id,
        "household": failure.household,
        "error": error,
        "escalated": failure.escalated,
    });
    reach
        .iter()
        .map(|r| {
            (
                format!(
                    "ops-delivery-failed-{}-{}-{}",
                    failure.outbox_id,
                    r.channel,
                    r.to.as_deref().unwrap_or("")
                ),
                r.channel.clone(),
                Message {
                    to: r.to.clone(),
                    subject: subject.clone(),
                    text: text.clone(),
                    body: body.clone(),
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_hear_which_message_failed_why_and_what_was_done() {
        let reach = vec![
            Reach {
                channel: "ops-hook".into(),
                to: None,
            },
            Reach {
                channel: "mail".into(),
                to: Some("ops@example.org".into()),
            },
        ];
        let failure = DeliveryFailure {
            outbox_id: 41,
            channel: "sms",
            to: "+86******1234",
            error: "Aliyun isv.MOBILE_NUMBER_ILLEGAL: invalid number",
            purpose: "case",
            case_id: Some(7),
            household: Some("h1"),
            escalated: true,
        };
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let out = delivery_failed(&reach, Language::En, &failure, now);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, "ops-delivery-failed-41-ops-hook-");
        assert_eq!(
            out[1].2.text,
            "A case message for #7 (h1) via sms to +86******1234 failed for good: \
             Aliyun isv.MOBILE_NUMBER_ILLEGAL: invalid number. The case moved on to its next step."
        );
        assert_eq!(out[0].2.body["escalated"], true);
        assert_eq!(out[0].2.body["case"], 7);
        let zh = delivery_failed(&reach, Language::ZhCn, &failure, now);
        assert!(zh[0].2.text.contains("已升级至下一步"), "{}", zh[0].2.text);
    }
}
