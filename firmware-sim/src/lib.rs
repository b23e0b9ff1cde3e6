//! Simulated households and smart water meters for waterwatch: datasets for
//! replay and benchmarks, live publishing to a broker for demos and
//! end-to-end tests.
//!
//! Each household is one elderly person living alone with habits of their own
//! (wake and bed times, toilet, shower, meals, laundry, afternoons out); their
//! meter reports a cumulative register with 1 L resolution at aligned
//! intervals. [`Scenario`]s make something go wrong — a collapse, a tap left
//! running, a burst pipe, a silent or faulty meter — and [`Fleet::truth`]
//! records what and when, so detections can be scored.
//!
//! ```
//! use std::time::Duration;
//! use meter_sim::{Fleet, Scenario};
//!
//! let start = chrono::DateTime::parse_from_rfc3339("2026-01-05T00:00:00+08:00").unwrap();
//! let collapse = Scenario::parse("collapse:2@+1day 10h", start).unwrap();
//! let mut fleet = Fleet::new(3, 42, start, Duration::from_secs(900), vec![collapse]);
//! let readings = fleet.advance(start + chrono::Duration::days(2));
//! assert_eq!(readings.len(), 3 * (2 * 96 + 1));
//! println!("{}", readings[0].to_native_json());
//! ```
//!
//! # Layout
//!
//! - `behaviour` — one person's habits and each day's water uses;
//!   `behaviour/habits`, `behaviour/day` (a day's plan), `behaviour/water`
//!   (a water use).
//! - `household` — a household's planned uses over time; collapse, extra flows.
//! - `meter` — a meter integrating flows into a register; silence and flags.
//! - `fleet` — households and meters advanced together: [`Fleet`].
//! - `scenario` — what goes wrong and when, and its ground truth: [`Scenario`];
//!   `scenario/parse` reads them from command-line strings: [`ScenarioSpec`].
//! - `reading` — [`SimReading`] and its native JSON forms.
//! - `format` — the other payloads (wmbusmeters, AI-on-the-edge, bare
//!   number) and their topics: [`Format`], [`encode`].
//! - `upload` — daily batch uploads: [`UploadSchedule`], [`Batcher`].
//! - `delivery` — drops, duplicates, reordering, late arrival: [`Delivery`].
//! - `stats` — household statistics from hourly use: [`HourlyStats`].
//! - `load` — load generation against a broker: [`run_load`].
//! - `json` — fast JSON formatting for the hot path.
//! - `clock` — local-seconds time arithmetic.
//! - `dataset` — `readings.jsonl` and `truth.json` on disk: [`write_dataset`].
//! - `publish` — MQTT publishing with PubAck tracking: [`Publisher`].
//! - `live` — publishing on an accelerated clock: [`run_live`].

mod behaviour;
mod clock;
mod dataset;
mod delivery;
mod fleet;
mod format;
mod household;
mod json;
mod live;
mod load;
mod meter;
mod publish;
mod reading;
mod scenario;
mod stats;
mod upload;

pub use dataset::{
    DatasetError, DatasetSummary, READINGS_FILE, TRUTH_FILE, TruthFile, write_dataset,
    write_dataset_with_faults,
};
pub use delivery::{Delivery, DeliveryFault};
pub use fleet::{Fleet, HouseholdTally};
pub use format::{BareUnit, Format, encode, encode_batch, wmbusmeters_json};
pub use live::{LiveOptions, LiveProgress, run_live, run_live_with};
pub use load::{LoadOptions, LoadReport, run_load};
pub use publish::{
    DEFAULT_TOPIC_PREFIX, PublishError, PublishStats, Publisher, publish, reading_topic,
};
pub use reading::{SimReading, native_batch_json};
pub use scenario::{
    DEFAULT_ABSENCE_DAYS, DEFAULT_BATTERY_DAYS, DEFAULT_BURST_LPM, DEFAULT_DECLINE_TO,
    DEFAULT_DECLINE_WEEKS, DEFAULT_FAULT_FLAG, DEFAULT_SKEW_MINUTES, DEFAULT_TAP_LPM,
    DEFAULT_TOILET_LPM, Scenario, ScenarioError, ScenarioKind, ScenarioSpec, TruthEvent, When,
    household_id,
};
pub use stats::{HourlyStats, Summary, hourly_use_of, quantile, stats_table};
pub use upload::{Batch, Batcher, UploadSchedule};
