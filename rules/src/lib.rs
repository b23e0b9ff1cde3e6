//! The pure detection core of waterwatch: smart-water-meter readings and a
//! `now` in, alert events out. No I/O, no network, no clock: time is always an
//! argument, so replay, rule tests and benchmarks run the exact code the
//! daemon runs.
//!
//! ```
//! use waterwatch_rules::{Engine, Reading, RuleSet};
//!
//! let mut engine = Engine::new(RuleSet::default_rules());
//! let ts = chrono::DateTime::parse_from_rfc3339("2026-11-24T08:15:00+08:00").unwrap();
//! let reading = Reading {
//!     meter_id: "m-0001".into(), ts, total_l: 123_456.0,
//!     flow_lpm: None, battery_pct: None, rssi_dbm: None, status: vec![],
//! };
//! let outcome = engine.observe(&reading, ts);
//! assert!(outcome.events.is_empty());
//! ```
//!
//! # Layout
//!
//! - [`reading`]: [`Reading`], one validated register reading, and [`Timestamp`].
//! - [`event`]: [`AlertEvent`] (the replay contract) with [`Kind`], [`Severity`], [`Transition`].
//! - [`tomlcheck`]: parse TOML keeping lines, deserialize section by section,
//!   report every [`Problem`] as `FILE:LINE: key.path: message` (also used by the daemon).
//! - [`baseline`]: [`Baseline`], a household's learned rhythm (quiet stretches by
//!   starting hour, rising time), learned online, compact, serde.
//! - [`config`]: the rules file, [`RuleSet`] (`[normalise]`, `[baseline]`, `[[rule]]`
//!   as [`RuleEntry`], `[[household]]` overrides); `rules/default.toml` is shipped and
//!   parsed by a test.
//! - [`normalise`]: [`MeterTrack`], register readings to [`Usage`] intervals, with [`Note`]s
//!   for duplicates, resets, glitches and gaps.
//! - [`rule`]: the detectors, one file each (`inactivity`, `continuous_flow`,
//!   `spike`, `usage_drop`, `meter_offline`, `meter_fault`), state plus pure
//!   functions; `inactivity`'s [`Limit`](rule::inactivity::Limit) is fixed, the
//!   learning fallback, or learned from the [`Baseline`]; learned
//!   `continuous_flow` and `spike` rules keep a small decayed
//!   [`Histogram`](rule::histogram::Histogram) of the household's runs and busiest
//!   hours; `usage_drop` keeps daily totals ([`DailyUse`](rule::usage_drop::DailyUse)).
//! - [`engine`]: [`Engine`], per-meter [`MeterState`] (`engine/state.rs`),
//!   fired/resolved transitions (`engine/evaluate.rs`).
//! - [`text`]: words for alert summaries (durations, local times, rates), in each [`Language`].

pub mod baseline;
pub mod config;
pub mod engine;
pub mod event;
pub mod normalise;
pub mod reading;
pub mod rule;
pub mod text;
pub mod tomlcheck;

pub use baseline::{Baseline, BaselineConfig, Learning};
pub use config::{Detector, HouseholdLimits, Rule, RuleEntry, RuleSet};
pub use engine::{ActiveAlert, BaselineStatus, Engine, MeterState, Outcome};
pub use event::{AlertEvent, Kind, Severity, Transition};
pub use normalise::{MeterTrack, NormaliseConfig, Note, Usage};
pub use reading::{Reading, Timestamp};
pub use rule::Verdict;
pub use text::Language;
pub use tomlcheck::{Doc, Problem};
