//! What one elderly person living alone does with water: habits drawn once per
//! household from the seed, and each day's water uses drawn from those habits.
//!
//! A water use is a [`WaterEvent`]: a start, an end and a constant rate. The
//! numbers follow published end-use studies, scaled to one older person:
//!
//! - SIMDEUM (Blokker, Vreeburg & van Dijk, "Simulating residential water
//!   demand with a stochastic end-use model", J. Water Resour. Plann. Manage.
//!   136(1), 2010) and its Python port pysimdeum (KWR Water Research,
//!   `pysimdeum/data/NL/end_uses/*.toml`): a *senior* flushes the toilet
//!   7.2 times a day (Poisson), showers on 69 % of days for a mean of 6.5 min,
//!   and a cistern (6 or 9 L) refills slowly at ~0.04 L/s, over 2.4–3.6 min;
//!   kitchen taps are ~10 short uses a day (≈15 s, up to 10 L/min) peaking
//!   around meals, bathroom taps ~4 a day; a one-person household runs the
//!   washing machine 0.32 times a day at ~50 L.
//! - Residential End Uses of Water, Version 2 (DeOreo et al., Water Research
//!   Foundation, 2016): per-capita indoor use of ~140 L/day split mainly into
//!   toilets, showers, faucets and clothes washers, with faucet uses of a few
//!   litres and shower flow rates of 6–10 L/min.
//!
//! The result: households average 90–155 L a day (≈118 L overall); single
//! days range ~65–180 L (5th–95th percentile), with shower and laundry days on
//! top. Each day has one or two night flushes, a morning and an evening
//! routine that shift ±30 min day to day, meals, and sometimes an afternoon
//! out with no water use at all.
//!
//! Life around the routine — what makes fixed-threshold inactivity alarms
//! fire falsely in the real programmes (Sakaki, Japan: 68 % of its
//! 2.3 false alarms per person-month were no-use cases: late rising, hospital,
//! nights away) — is drawn per household too: how often the person goes out
//! in the afternoon (a habit: some most days, some hardly ever), whole days
//! out, trips away of several days, days with visitors, and late mornings.
//! These frequencies are *our assumptions*, not taken from the end-use
//! studies above (which model a day at home); `docs/simulator.md` compares
//! the result with real single-person homes (DAIAD, Spain).
//!
//! The uses themselves are in `water`, the habits in `habits`, and a day's
//! plan drawn from them in `day`.

mod day;
mod habits;
mod water;

pub(crate) use day::{Vigour, plan_day, remove_between};
pub(crate) use habits::Habits;
pub(crate) use water::{Use, WaterEvent};
