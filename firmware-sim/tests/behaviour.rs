//! The households' own lives: afternoons out, whole days out, trips away,
//! quiet nights — and the ground truth of their absences.

mod common;

use std::time::Duration;

use common::start;
use meter_sim::{Fleet, HourlyStats, ScenarioKind, Summary, hourly_use_of};

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn trips_and_days_out_are_in_the_truth_with_no_use_while_the_meter_keeps_reporting() {
    let mut fleet = Fleet::new(40, 3, start(), HOUR, vec![]);
    let end = start() + chrono::Duration::days(60);
    let r = fleet.advance(end);
    let truth = fleet.truth();
    let absences: Vec<_> = truth
        .iter()
        .filter(|t| t.kind == ScenarioKind::Absence)
        .collect();
    let trips = absences
        .iter()
        .filter(|t| t.cause.as_deref() == Some("trip"))
        .count();
    let days_out = absences
        .iter()
        .filter(|t| t.cause.as_deref() == Some("day_out"))
        .count();
    assert!(trips >= 3, "only {trips} trips in 40 households × 60 days");
    assert!(days_out >= 10, "only {days_out} days out");
    let mut checked = 0;
    for a in absences {
        let until = a.end.expect("an absence has an end");
        assert!(until > a.start);
        assert!(a.expected_alerts.is_empty());
        if until > end {
            continue;
        }
        // From the first full hour after leaving to the last before coming back.
        let inside: Vec<_> = r
            .iter()
            .filter(|x| x.meter_id == a.household)
            .filter(|x| x.ts >= a.start + chrono::Duration::minutes(60) && x.ts <= until)
            .collect();
        let hours = (until - a.start).num_hours() as usize;
        assert!(
            inside.len() + 1 >= hours,
            "{} reported {} readings in {hours} h away",
            a.household,
            inside.len()
        );
        assert!(
            inside.iter().all(|x| x.total_l == inside[0].total_l),
            "{} used water while away from {} to {until}",
            a.household,
            a.start
        );
        checked += 1;
    }
    assert!(checked >= 10);
}

#[test]
fn some_households_go_out_most_afternoons_and_some_hardly_ever() {
    let mut fleet = Fleet::new(60, 5, start(), HOUR, vec![]);
    fleet.advance(start() + chrono::Duration::days(42));
    let per_week: Vec<f64> = fleet
        .tallies()
        .iter()
        .map(|(_, t)| t.outings as f64 / t.days as f64 * 7.0)
        .collect();
    let often = per_week.iter().filter(|w| **w >= 4.0).count();
    let rarely = per_week.iter().filter(|w| **w <= 1.0).count();
    assert!(
        often >= 5,
        "only {often} of 60 go out four afternoons a week: {per_week:?}"
    );
    assert!(
        rarely >= 5,
        "only {rarely} of 60 hardly ever go out: {per_week:?}"
    );
}

#[test]
fn nights_are_mostly_without_use_and_people_flush_six_to_eight_times_a_day() {
    let mut fleet = Fleet::new(50, 7, start(), HOUR, vec![]);
    let r = fleet.advance(start() + chrono::Duration::days(30));
    let stats: Vec<HourlyStats> = hourly_use_of(&r)
        .values()
        .map(|h| HourlyStats::from_hourly(h))
        .collect();
    let s = Summary::of(&stats);
    assert!(
        s.night_zero_share >= 0.75,
        "night zero-use share {}",
        s.night_zero_share
    );
    assert!(s.night_zero_share < 1.0, "nobody ever flushes at night");
    assert!(
        (80.0..=150.0).contains(&s.daily_median_l),
        "median {} L",
        s.daily_median_l
    );
    let (flushes, days) = fleet
        .tallies()
        .iter()
        .fold((0, 0), |(f, d), (_, t)| (f + t.flushes, d + t.days));
    let per_day = flushes as f64 / days as f64;
    assert!((5.5..=8.0).contains(&per_day), "{per_day} flushes a day");
}
