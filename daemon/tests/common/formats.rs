//! The formats real meter software sends, as the simulator writes them,
//! and the adapters that read them.

use meter_sim::{BareUnit, Format, SimReading, encode};
use waterwatch::ingest::adapter::AdapterConfig;

/// Every format the daemon reads.
pub const FORMATS: [Format; 5] = [
    Format::Native,
    Format::NativeBatch,
    Format::Wmbusmeters,
    Format::AiOnTheEdge,
    Format::Bare {
        unit: BareUnit::CubicMetres,
    },
];

/// The adapters for the formats besides the native one.
pub fn adapters() -> Vec<AdapterConfig> {
    let text = r#"
        [[adapter]]
        format = "wmbusmeters"
        topic = "wmbusmeters/+"
        utc_offset = "+08:00"

        [[adapter]]
        format = "ai_on_the_edge"
        topic = "watermeter/+/json"
        unit = "m3"

        [[adapter]]
        format = "bare"
        topic = "homeassistant/+/total"
        unit = "m3"
        utc_offset = "+08:00"
    "#;
    #[derive(serde::Deserialize)]
    struct File {
        adapter: Vec<AdapterConfig>,
    }
    toml::from_str::<File>(text)
        .expect("adapters parse")
        .adapter
}

/// `(topic, payload)` of `reading` in `format` (AI-on-the-edge also
/// publishes …/value and …/timestamp; only …/json is subscribed).
pub fn message(reading: &SimReading, format: Format) -> (String, String) {
    encode(reading, format, "waterwatch")
        .into_iter()
        .find(|(topic, _)| format != Format::AiOnTheEdge || topic.ends_with("/json"))
        .expect("a message")
}
