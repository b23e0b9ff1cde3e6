//! The two-stage inactivity check (`crate::check_in`) on the simulated
//! fleet: a resident who has collapsed never answers the check-in.

use std::time::Duration;

use waterwatch_rules::{Engine, Reading};

use super::plan::{Incident, Plan, uniform};
use super::{Row, index_of, score};
use crate::check_in::{self, CHECK_IN};
use crate::{Fired, replay_answering};

/// When the resident answers the check-in `f`, if they do.
fn answer(plans: &[Plan], seed: u64, p: f64, f: &Fired) -> Option<i64> {
    if f.rule != CHECK_IN {
        return None;
    }
    let i = index_of(&f.meter_id)?;
    let collapsed = plans.get(i)?.incident.is_some_and(|(kind, at)| {
        matches!(kind, Incident::DayCollapse | Incident::NightCollapse) && at <= f.at_ms
    });
    check_in::answer(f, collapsed, p, uniform(seed ^ f.at_ms as u64, i, 0xa5))
}

/// The three rows (asked, family told, grid worker sent) for residents who
/// answer with probability `p`.
#[allow(clippy::too_many_arguments)]
pub(super) fn rows(
    plans: &[Plan],
    readings: &[Reading],
    seed: u64,
    p: f64,
    start_ms: i64,
    end_ms: i64,
    rising: &[Option<i64>],
    offset_s: i64,
) -> Vec<Row> {
    let mut engine = Engine::new(check_in::rules());
    let fired = replay_answering(&mut engine, readings, Duration::from_secs(60), false, |f| {
        answer(plans, seed, p, f)
    });
    let (asked, family, sent) = check_in::stages(fired, |f| answer(plans, seed, p, f).is_some());
    let [a, b, c] = check_in::names(p);
    [(a, asked), (b, family), (c, sent)]
        .iter()
        .map(|(name, fired)| score(name, plans, fired, start_ms, end_ms, rising, offset_s))
        .collect()
}
