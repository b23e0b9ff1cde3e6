//! Which format a topic carries, and turning its payload into readings.
//!
//! The native topic `{prefix}/meters/+/reading` is always subscribed; each
//! `[[adapter]]` in the config adds a topic filter with its format. The `+`
//! level of a filter names the meter; a filter without one needs `meter_id`.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::native::{self, Parsed, TimeWindow};
use super::reject::Reject;
use super::units::Unit;
use super::{ai_on_the_edge, bare, topic, wmbusmeters};
use crate::zone::Zone;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// waterwatch's own JSON, single or batch.
    Native,
    /// wmbusmeters' flat JSON per telegram.
    Wmbusmeters,
    /// AI-on-the-edge-device's `…/json` payload (string values).
    AiOnTheEdge,
    /// A bare number (Home Assistant style), stamped on arrival.
    Bare,
}

/// One `[[adapter]]`: a topic filter and the format it carries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdapterConfig {
    /// `native`, `wmbusmeters`, `ai_on_the_edge` or `bare`.
    pub format: Format,
    /// MQTT topic filter, e.g. `wmbusmeters/+` or `watermeter/+/json`; the
    /// `+` level is the meter id.
    pub topic: String,
    /// The meter id, for a filter without `+` (one meter on a fixed topic).
    #[serde(default)]
    pub meter_id: Option<String>,
    /// Unit of the register for `ai_on_the_edge` and `bare`: `L`, `m3`,
    /// `gal`, `ft3` or `CCF` (default `m3`).
    #[serde(default)]
    pub unit: Unit,
    /// Local time for formats stamped in UTC or on arrival (`wmbusmeters`,
    /// `bare`): a fixed offset, e.g. `+08:00` ...
    #[serde(default)]
    pub utc_offset: Option<String>,
    /// ... or a time zone that follows daylight saving, e.g.
    /// `Europe/Berlin`. Neither: UTC.
    #[serde(default)]
    pub timezone: Option<String>,
}

impl AdapterConfig {
    /// Problems with this adapter: (field, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !topic::valid_filter(&self.topic) {
            out.push((
                "topic",
                format!("`{}` is not a valid MQTT topic filter", self.topic),
            ));
        } else if !self.topic.split('/').any(|l| l == "+") && self.meter_id.is_none() {
            out.push((
                "meter_id",
                "the topic has no `+` level naming the meter, so set meter_id".into(),
            ));
        }
        if let Err(problem) = self.zone() {
            out.push(problem);
        }
        out
    }

    /// The local time this adapter stamps readings in (UTC unless set).
    fn zone(&self) -> Result<Zone, (&'static str, String)> {
        Zone::from_fields(self.utc_offset.as_deref(), self.timezone.as_deref())
            .map(Option::unwrap_or_default)
    }
}

#[derive(Debug, Clone)]
struct Route {
    config: AdapterConfig,
    zone: Zone,
}

/// Routes a topic to its adapter and parses the payload.
#[derive(Debug, Clone)]
pub struct Router {
    native_filter: String,
    routes: Vec<Route>,
}

impl Router {
    /// Build from validated adapter configs (an invalid zone falls back to UTC).
    pub fn new(topic_prefix: &str, adapters: &[AdapterConfig]) -> Self {
        Self {
            native_filter: format!("{topic_prefix}/meters/+/reading"),
            routes: adapters
                .iter()
                .map(|config| Route {
                    zone: config.zone().unwrap_or_default(),
                    config: config.clone(),
                })
                .collect(),
        }
    }

    /// Every filter to subscribe to.
    pub fn filters(&self) -> Vec<String> {
        std::iter::once(self.native_filter.clone())
            .chain(self.routes.iter().map(|r| r.config.topic.clone()))
            .collect()
    }

    /// The readings of a message on `topic_name`, in whichever format its
    /// topic carries; their meter ids and status flags are checked (see
    /// [`MAX_METER_ID_CHARS`], [`MAX_FLAGS`]).
    pub fn parse(
        &self,
        topic_name: &str,
        payload: &[u8],
        now: DateTime<Utc>,
        window: TimeWindow,
    ) -> Result<Parsed, Reject> {
        let parsed = self.parse_format(topic_name, payload, now, window)?;
        parsed.readings.iter().try_for_each(checked)?;
        Ok(parsed)
    }

    fn parse_format(
        &self,
        topic_name: &str,
        payload: &[u8],
        now: DateTime<Utc>,
        window: TimeWindow,
    ) -> Result<Parsed, Reject> {
        if let Some(Some(meter)) = topic::capture(&self.native_filter, topic_name) {
            return native::parse(Some(meter), payload, now, window);
        }
        for route in &self.routes {
            let Some(captured) = topic::capture(&route.config.topic, topic_name) else {
                continue;
            };
            let meter = route.config.meter_id.as_deref().or(captured);
            return match route.config.format {
                Format::Native => native::parse(meter, payload, now, window),
                Format::Wmbusmeters => wmbusmeters::parse(meter, payload, now, window, route.zone),
                Format::AiOnTheEdge => {
                    let meter = meter.ok_or(Reject::MissingField("meter_id"))?;
                    ai_on_the_edge::parse(meter, payload, now, window, route.config.unit)
                }
                Format::Bare => {
                    let meter = meter.ok_or(Reject::MissingField("meter_id"))?;
                    bare::parse(meter, payload, now, route.config.unit, route.zone)
                }
            };
        }
        Err(Reject::UnknownTopic(topic_name.to_owned()))
    }
}

/// The longest meter id taken (Home Assistant's entity ids are the longest
/// seen; a 100 kB id would register a meter with it).
pub const MAX_METER_ID_CHARS: usize = 128;

/// The most status flags one reading may carry, and the longest flag
/// (meters send a handful of short words; the engine keeps the newest
/// reading's flags in the meter's state, which must stay small).
pub const MAX_FLAGS: usize = 16;
pub const MAX_FLAG_CHARS: usize = 32;

/// Whether `text` is at most `max` characters, none of them control characters.
fn sane(text: &str, max: usize) -> bool {
    text.chars().count() <= max && !text.chars().any(char::is_control)
}

/// A reading's meter id and status flags within bounds, whatever the format.
fn checked(reading: &waterwatch_rules::Reading) -> Result<(), Reject> {
    if !sane(&reading.meter_id, MAX_METER_ID_CHARS) {
        let shown: String = reading.meter_id.chars().take(40).collect();
        return Err(Reject::WrongType {
            field: "meter_id",
            detail: format!(
                "`{}` must be at most {MAX_METER_ID_CHARS} characters, none of them control characters",
                shown.escape_debug()
            ),
        });
    }
    if reading.status.len() > MAX_FLAGS || !reading.status.iter().all(|f| sane(f, MAX_FLAG_CHARS)) {
        return Err(Reject::WrongType {
            field: "status",
            detail: format!(
                "at most {MAX_FLAGS} flags of at most {MAX_FLAG_CHARS} characters each"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A native reading of meter `id` at 08:15 with `extra` fields, parsed
    /// at 08:30 by the default router.
    fn native_reading(id: &str, extra: serde_json::Value) -> Result<Parsed, Reject> {
        let now = DateTime::parse_from_rfc3339("2026-11-24T08:30:00+08:00")
            .unwrap()
            .to_utc();
        let mut payload =
            serde_json::json!({"meter_id": id, "ts": "2026-11-24T08:15:00+08:00", "total_l": 5});
        if let (Some(fields), serde_json::Value::Object(extra)) = (payload.as_object_mut(), extra) {
            fields.extend(extra);
        }
        Router::new("waterwatch", &[]).parse(
            &format!("waterwatch/meters/{id}/reading"),
            payload.to_string().as_bytes(),
            now,
            TimeWindow::default(),
        )
    }

    #[test]
    fn a_meter_id_too_long_or_with_control_characters_is_refused() {
        let message = |id: &str| native_reading(id, serde_json::json!({}));
        assert!(message(&"m".repeat(128)).is_ok());
        for bad in ["m".repeat(129), "m\u{0}1".to_owned(), "m\n1".to_owned()] {
            let why = message(&bad).unwrap_err();
            assert_eq!(why.reason(), "wrong_type", "{bad:?}");
            assert!(why.to_string().contains("at most 128 characters"), "{why}");
        }
    }

    #[test]
    fn too_many_or_too_long_status_flags_are_refused() {
        let message =
            |status: Vec<String>| native_reading("m1", serde_json::json!({ "status": status }));
        let flags =
            |n: usize, len: usize| (0..n).map(|i| format!("{i:0>len$}")).collect::<Vec<_>>();
        assert!(message(flags(16, 32)).is_ok());
        for bad in [flags(17, 4), flags(1, 33)] {
            let why = message(bad).unwrap_err();
            assert_eq!(why.reason(), "wrong_type");
            assert!(why.to_string().contains("at most 16 flags"), "{why}");
        }
    }

    fn adapter(format: Format, topic: &str) -> AdapterConfig {
        AdapterConfig {
            format,
            topic: topic.into(),
            meter_id: None,
            unit: Unit::CubicMetre,
            utc_offset: Some("+08:00".into()),
            timezone: None,
        }
    }

    #[test]
    fn each_topic_goes_to_its_format() {
        let router = Router::new(
            "waterwatch",
            &[
                adapter(Format::Wmbusmeters, "wmbusmeters/+"),
                adapter(Format::AiOnTheEdge, "watermeter/+/json"),
                adapter(Format::Bare, "homeassistant/+/total"),
            ],
        );
        assert_eq!(router.filters().len(), 4);
        let now = DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z")
            .unwrap()
            .to_utc();
        let w = TimeWindow::default();
        let native = router
            .parse(
                "waterwatch/meters/m1/reading",
                br#"{"ts":"2026-11-24T08:00:00Z","total_l":5}"#,
                now,
                w,
            )
            .unwrap();
        assert_eq!(native.readings[0].meter_id, "m1");
        let wmbus = router
            .parse(
                "wmbusmeters/kitchen",
                br#"{"id":"777","total_m3":1.5,"timestamp":"2026-11-24T08:00:00Z"}"#,
                now,
                w,
            )
            .unwrap();
        assert_eq!(wmbus.readings[0].meter_id, "777");
        assert_eq!(wmbus.readings[0].ts.offset().local_minus_utc(), 8 * 3600);
        let ai = router
            .parse(
                "watermeter/m9/json",
                br#"{"value":"2.5","timestamp":"2026-11-24T16:00:00+0800"}"#,
                now,
                w,
            )
            .unwrap();
        assert_eq!(ai.readings[0].meter_id, "m9");
        let bare = router
            .parse("homeassistant/m3/total", b"4.25", now, w)
            .unwrap();
        assert_eq!(bare.readings[0].total_l, 4250.0);
        let unknown = router.parse("elsewhere/x", b"1", now, w).unwrap_err();
        assert_eq!(unknown.reason(), "unknown_topic");
    }

    #[test]
    fn an_adapter_without_a_meter_level_needs_a_meter_id() {
        let mut config = adapter(Format::Bare, "house/water");
        assert_eq!(config.problems()[0].0, "meter_id");
        config.meter_id = Some("m1".into());
        assert!(config.problems().is_empty());
        config.utc_offset = Some("CET".into());
        assert_eq!(config.problems()[0].0, "utc_offset");
    }
}
