//! Harness for the dashboard in a real browser: Debian's Chromium, headless,
//! driven over the DevTools protocol, on a phone-sized or a desktop-sized
//! screen. The broker, the daemon and the publisher come from the e2e crate.
//!
//! # Layout
//! - `cdp`: the DevTools protocol over Chromium's debugging pipe.
//! - `chromium`: launch Chromium with a throwaway profile; pages on a [`Screen`].
//! - `history`: weeks of simulated meter readings, published as daily batches.

pub mod cdp;
pub mod chromium;
pub mod history;

pub use chromium::{Chromium, DESKTOP, PHONE, Screen};
