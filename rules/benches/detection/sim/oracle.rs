//! The hindsight oracle: the learned rule trained on 180 collapse-free days
//! of each household's own life, and each household's usual rising time.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Timelike};
use meter_sim::Fleet;
use waterwatch_rules::{Engine, RuleSet};

use super::{index_of, to_reading, weekend_share};
use crate::score::quantile;

const HISTORY_DAYS: i64 = 180;

/// The oracle's rules: learned inactivity with no learning period and no
/// forgetting, judging by the household's own history alone (no
/// `late_morning` or `day_out_until` allowance for what it has not shown).
pub(super) fn oracle_rules() -> RuleSet {
    let mut rules = RuleSet::default_rules();
    rules.baseline.learning_days = 0;
    rules.baseline.keep_per_day = 1.0;
    crate::without_allowances(&mut rules);
    rules
}

/// Learns every household's rhythm from `HISTORY_DAYS` collapse-free days
/// before `start`; also each household's usual rising time (median over days
/// of the first use followed by more use within the hour, after 04:00).
pub(super) fn history(
    households: usize,
    seed: u64,
    start: DateTime<FixedOffset>,
    interval: Duration,
) -> (Engine, Vec<Option<i64>>) {
    let from = start - chrono::Duration::days(HISTORY_DAYS);
    let mut fleet =
        Fleet::new(households, seed, from, interval, vec![]).with_weekend_share(weekend_share());
    let mut engine = Engine::new(oracle_rules());
    let mut last: HashMap<String, f64> = HashMap::new();
    // Per household: (local day, minute of day) of intervals with use, 04:00–13:00.
    let mut uses: Vec<Vec<(i64, i64)>> = vec![Vec::new(); households];
    for day in 1..=HISTORY_DAYS {
        let until = from + chrono::Duration::days(day) - chrono::Duration::seconds(1);
        for r in fleet.advance(until) {
            let r = to_reading(r);
            engine.observe(&r, r.ts);
            let prev = last.insert(r.meter_id.clone(), r.total_l);
            let minute = i64::from(r.ts.hour() * 60 + r.ts.minute());
            if prev.is_some_and(|p| r.total_l > p)
                && (4 * 60..13 * 60).contains(&minute)
                && let Some(i) = index_of(&r.meter_id)
            {
                let local_day = (r.ts.timestamp() + i64::from(r.ts.offset().local_minus_utc()))
                    .div_euclid(86_400);
                uses[i].push((local_day, minute));
            }
        }
    }
    let rising = uses
        .iter()
        .map(|u| {
            let mut per_day: Vec<i64> = Vec::new();
            let mut i = 0;
            while i < u.len() {
                let day = u[i].0;
                let same: Vec<i64> = u[i..]
                    .iter()
                    .take_while(|(d, _)| *d == day)
                    .map(|(_, m)| *m)
                    .collect();
                i += same.len();
                if let Some(&m) = same
                    .iter()
                    .find(|&&m| same.iter().any(|&n| n > m && n <= m + 60))
                {
                    per_day.push(m);
                }
            }
            quantile(&per_day, 0.5)
        })
        .collect();
    (engine, rising)
}
