//! What happens to each simulated household and when: the incident plan
//! (collapses, silent meters, taps, bursts, toilets, declines), the
//! meter-sim scenarios that play it, and the household's own absences.

use chrono::{DateTime, FixedOffset};
use meter_sim::Scenario;

use crate::score::{DAY_MS, HOUR_MS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Incident {
    DayCollapse,
    NightCollapse,
    Silent,
    Tap,
    Burst,
    Toilet,
    Decline,
}

/// What happens to one household, if anything, and when it is away from
/// home of its own accord (ground truth: trips, whole days out).
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub(super) incident: Option<(Incident, i64)>,
    pub(super) away: Vec<(i64, i64, bool)>,
}

impl Plan {
    /// Whether an alert at `t` about quiet since `since` is explained by an
    /// absence (it falls in one, or its quiet stretch began when the person
    /// left and they have not used water since coming back), and whether
    /// that is a trip (multi-day) rather than a day out.
    pub(super) fn away_at(&self, t: i64, since: Option<i64>) -> Option<bool> {
        self.away
            .iter()
            .find(|&&(a, b, _)| {
                (t >= a && t <= b) || since.is_some_and(|s| s <= a + HOUR_MS && t >= a)
            })
            .map(|&(_, _, trip)| trip)
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(super) fn uniform(seed: u64, n: usize, which: u64) -> f64 {
    (splitmix(seed ^ (n as u64) << 20 ^ which) >> 11) as f64 / (1u64 << 53) as f64
}

/// 40 % collapse by day (08:00–20:00), 25 % by night (22:00–05:00), 10 %
/// silent meters, 5 % taps, 5 % bursts, 5 % running toilets, from day 21
/// on; 5 % a decline over four weeks to 40 % of normal use, starting on
/// days 16–20; 5 % nothing.
pub(super) fn plan(
    households: usize,
    days: i64,
    seed: u64,
    start: DateTime<FixedOffset>,
) -> Vec<Plan> {
    (1..=households)
        .map(|n| {
            let kind = match n % 20 {
                0..=7 => Some(Incident::DayCollapse),
                8..=12 => Some(Incident::NightCollapse),
                13 | 14 => Some(Incident::Silent),
                15 => Some(Incident::Tap),
                16 => Some(Incident::Burst),
                17 => Some(Incident::Toilet),
                18 => Some(Incident::Decline),
                _ => None,
            };
            let last = (days - 3).max(22);
            let day = if kind == Some(Incident::Decline) {
                16 + (uniform(seed, n, 1) * 5.0) as i64
            } else {
                21 + (uniform(seed, n, 1) * (last - 21) as f64) as i64
            };
            let u = uniform(seed, n, 2);
            let offset_h = match kind {
                Some(Incident::NightCollapse) => 22.0 + 7.0 * u,
                _ => 8.0 + 12.0 * u,
            };
            let at = start.timestamp_millis() + day * DAY_MS + (offset_h * HOUR_MS as f64) as i64;
            Plan {
                incident: kind.map(|k| (k, at)),
                away: Vec::new(),
            }
        })
        .collect()
}

pub(super) fn scenarios(plans: &[Plan], offset: FixedOffset) -> Vec<Scenario> {
    plans
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let (kind, at) = p.incident?;
            let at = DateTime::from_timestamp_millis(at)?.with_timezone(&offset);
            let name = match kind {
                Incident::DayCollapse | Incident::NightCollapse => "collapse",
                Incident::Silent => "silent",
                Incident::Tap => "tap",
                Incident::Burst => "burst",
                Incident::Toilet => "toilet",
                Incident::Decline => "decline",
            };
            let extra = if kind == Incident::Decline {
                ",weeks=4,to=0.4"
            } else {
                ""
            };
            let text = format!("{name}:{}@{}{extra}", i + 1, at.to_rfc3339());
            Scenario::parse(&text, at).ok()
        })
        .collect()
}
