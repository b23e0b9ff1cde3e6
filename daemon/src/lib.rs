//! waterwatch: the edge daemon. Meters publish readings over MQTT; the daemon
//! stores them, runs the pure rules engine (`waterwatch-rules`) over them,
//! groups alerts into cases and notifies people through a durable outbox.
//!
//! # Layout
//! - `cli`: the command line (`run`, `--demo`, `check-config`, `generate-config`, `replay`, `test-rules`, `backtest`, and the operator's commands).
//! - `client`: the operator's commands (`cases`, `ack`, `resolve`, `away`, `silence`) over the HTTP API.
//! - `config`: the daemon's TOML config, layered with `WATERWATCH_*` environment variables.
//! - `daemon`: starting and stopping every part in order.
//! - `broker`: the embedded MQTT broker (rumqttd) for demos and small installs.
//! - `ingest`: payload adapters (pure parsing) and the MQTT source with manual acks.
//! - `process`: the single writer — one transaction per batch, then acknowledgements.
//! - `case`: the pure case lifecycle (`step`) and escalation routes; one open case per household.
//! - `store`: SQLite/PostgreSQL through sqlx `Any`: readings, meters, cases, outbox, dead letters.
//! - `suppress`: away mode and silences (pure): which alerts they hold back.
//! - `deliver`: outbox workers, one per channel, with backoff and jitter.
//! - `notify`: channels (webhook) and the notification payload.
//! - `http`: health, readiness, metrics, the JSON API and the pages behind signed links.
//! - `web`: the dashboard (pages, live updates, SVG charts), access (users, sessions, CSRF, roles), the rest of `/api/v1` and its OpenAPI document.
//! - `links`: signed, expiring, single-case links ("I'm going", "I'm OK").
//! - `metrics`: the Prometheus registry.
//! - `clock`: wall clock or accelerated clock.
//! - `reload`: hot reload of the rules file (SIGHUP or a change); a broken file keeps the old rules.
//! - `replay`: the rules over recorded readings, in event time.
//! - `backtest`: stored readings through the running rules and a candidate; the alerts that differ.
//! - `ruletest`: `test-rules`, rule tests as files (timelines and expected alerts).
//! - `demo`: everything at once with simulated households.

pub mod backtest;
pub mod broker;
pub mod case;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod deliver;
pub mod demo;
pub mod http;
pub mod ingest;
pub mod links;
pub mod metrics;
pub mod notify;
pub mod process;
pub mod reload;
pub mod replay;
pub mod ruletest;
pub mod store;
pub mod suppress;
pub mod users;
pub mod web;
pub mod zone;
