//! Why a message or reading was turned away. Each reason is a metrics label
//! and a dead-letter entry; none of them stops the daemon.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Reject {
    /// Payload larger than `ingest.max_payload_bytes`.
    Oversized { bytes: usize, limit: usize },
    /// Not JSON, or not the shape of the format.
    Malformed(String),
    /// A required field is absent.
    MissingField(&'static str),
    /// A field has the wrong type or an unparseable value.
    WrongType { field: &'static str, detail: String },
    /// The meter id in the topic and the payload disagree.
    TopicMismatch { topic: String, payload: String },
    /// Register below zero or above any real meter's range.
    BadTotal(f64),
    /// Timestamp further ahead than `ingest.max_future`.
    FromTheFuture(String),
    /// Timestamp older than `ingest.max_age`.
    TooOld(String),
    /// Meter not registered and `ingest.unknown_meters = "reject"`.
    UnknownMeter(String),
    /// The device itself reports that it could not read the meter.
    DeviceError(String),
    /// No configured adapter takes this topic.
    UnknownTopic(String),
    /// The meter's household withdrew consent: nothing of it is kept.
    ConsentWithdrawn(String),
    /// The meter was replaced (`replaced` in its household's config) and
    /// is watched no more: `by` took its place.
    ReplacedMeter { meter: String, by: String },
}

impl Reject {
    /// The metrics label for this reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Reject::Oversized { .. } => "oversized",
            Reject::Malformed(_) => "malformed",
            Reject::MissingField(_) => "missing_field",
            Reject::WrongType { .. } => "wrong_type",
            Reject::TopicMismatch { .. } => "topic_mismatch",
            Reject::BadTotal(_) => "bad_total",
            Reject::FromTheFuture(_) => "future_timestamp",
            Reject::TooOld(_) => "old_timestamp",
            Reject::UnknownMeter(_) => "unknown_meter",
            Reject::DeviceError(_) => "device_error",
            Reject::UnknownTopic(_) => "unknown_topic",
            Reject::ConsentWithdrawn(_) => "consent_withdrawn",
            Reject::ReplacedMeter { .. } => "replaced_meter",
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::Oversized { bytes, limit } => {
                write!(f, "payload of {bytes} bytes exceeds the {limit}-byte limit")
            }
            Reject::Malformed(detail) => write!(f, "malformed payload: {detail}"),
            Reject::MissingField(field) => write!(f, "missing field `{field}`"),
            Reject::WrongType { field, detail } => write!(f, "field `{field}`: {detail}"),
            Reject::TopicMismatch { topic, payload } => write!(
                f,
                "topic names meter `{topic}` but the payload says `{payload}`"
            ),
            Reject::BadTotal(total) => {
                write!(
                    f,
                    "register total {total} L is negative or beyond any meter's range"
                )
            }
            Reject::FromTheFuture(ts) => write!(f, "timestamp {ts} is in the future"),
            Reject::TooOld(ts) => write!(f, "timestamp {ts} is older than the accepted age"),
            Reject::DeviceError(error) => write!(f, "the device could not read the meter: {error}"),
            Reject::UnknownTopic(topic) => {
                write!(f, "no adapter is configured for topic `{topic}`")
            }
            Reject::ConsentWithdrawn(id) => write!(
                f,
                "meter `{id}` belongs to a household that withdrew consent; its readings are not kept"
            ),
            Reject::ReplacedMeter { meter, by } => write!(
                f,
                "meter `{meter}` was replaced by `{by}` and is watched no more; \
                 if it is still in use, the household's `replaced` list is wrong"
            ),
            Reject::UnknownMeter(id) => write!(
                f,
                "meter `{id}` is not registered (ingest.unknown_meters = \"reject\")"
            ),
        }
    }
}
