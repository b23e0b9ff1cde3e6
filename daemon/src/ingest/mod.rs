//! Getting readings in: payload adapters (pure parsing) and the MQTT source.
//!
//! # Layout
//! - `native`: the native JSON payload, single or batch.
//! - `reject`: why a message was turned away (metrics label + message).
//! - `mqtt`: the MQTT subscription with manual acknowledgements.

pub mod mqtt;
pub mod native;
pub mod reject;

pub use reject::Reject;

/// Extract the meter id from a native topic `{prefix}/meters/{meter_id}/reading`.
pub fn meter_from_topic<'a>(prefix: &str, topic: &'a str) -> Option<&'a str> {
    let rest = topic.strip_prefix(prefix)?.strip_prefix("/meters/")?;
    let id = rest.strip_suffix("/reading")?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_id_comes_from_the_native_topic() {
        assert_eq!(
            meter_from_topic("waterwatch", "waterwatch/meters/m-1/reading"),
            Some("m-1")
        );
        assert_eq!(
            meter_from_topic("waterwatch/d1", "waterwatch/d1/meters/m-1/reading"),
            Some("m-1")
        );
        assert_eq!(
            meter_from_topic("waterwatch", "waterwatch/meters//reading"),
            None
        );
        assert_eq!(
            meter_from_topic("waterwatch", "other/meters/m/reading"),
            None
        );
    }
}
