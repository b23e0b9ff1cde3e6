//! Getting readings in: payload adapters (pure parsing) and the MQTT source.
//!
//! # Layout
//! - `adapter`: which format a topic carries; routes a message to its parser.
//! - `native`: the native JSON payload, single or batch.
//! - `wmbusmeters`, `ai_on_the_edge`, `bare`: the formats real meter software sends.
//! - `topic`: MQTT filter matching; the `+` level names the meter.
//! - `units`: litres from m³, gallons, cubic feet.
//! - `reject`: why a message was turned away (metrics label + message).
//! - `mqtt`: the MQTT subscription with manual acknowledgements.

pub mod adapter;
pub mod ai_on_the_edge;
pub mod bare;
pub mod mqtt;
pub mod native;
pub mod reject;
pub mod topic;
pub mod units;
pub mod wmbusmeters;

pub use reject::Reject;
