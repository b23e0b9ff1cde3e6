//! The simulated households as a whole: determinism, realistic volumes,
//! well-formed registers.

mod common;

use common::{QUARTER_HOUR, daily_volumes, of_meter, readings, start};
use meter_sim::Fleet;

#[test]
fn the_same_seed_gives_identical_readings_however_the_simulation_is_stepped() {
    let all_at_once = readings(5, 42, 3, &[]);
    let mut fleet = Fleet::new(5, 42, start(), QUARTER_HOUR, vec![]);
    let mut stepped = Vec::new();
    for hours in [1, 7, 8, 30, 72] {
        stepped.extend(fleet.advance(start() + chrono::Duration::hours(hours)));
    }
    assert_eq!(all_at_once, stepped);
    assert_eq!(all_at_once.len(), 5 * (3 * 96 + 1));
}

#[test]
fn different_seeds_give_different_households() {
    let a = readings(3, 1, 2, &[]);
    let b = readings(3, 2, 2, &[]);
    assert_eq!(a.len(), b.len());
    assert_ne!(daily_volumes(&a), daily_volumes(&b));
}

#[test]
fn meter_ids_are_the_household_numbers_zero_padded() {
    let fleet = Fleet::new(3, 1, start(), QUARTER_HOUR, vec![]);
    assert_eq!(fleet.meter_ids(), ["h0001", "h0002", "h0003"]);
}

#[test]
fn readings_are_sorted_by_time_then_meter_with_every_meter_at_every_aligned_instant() {
    let r = readings(4, 7, 2, &[]);
    assert!(
        r.windows(2)
            .all(|w| (w[0].ts, &w[0].meter_id) < (w[1].ts, &w[1].meter_id))
    );
    for chunk in r.chunks(4) {
        let ids: Vec<_> = chunk.iter().map(|r| r.meter_id.as_str()).collect();
        assert_eq!(ids, ["h0001", "h0002", "h0003", "h0004"]);
        assert!(chunk.iter().all(|x| x.ts == chunk[0].ts));
        assert_eq!(
            chunk[0].ts.timestamp() % 900,
            0,
            "{} is not on a quarter hour",
            chunk[0].ts
        );
        assert_eq!(chunk[0].ts.offset(), start().offset());
    }
}

#[test]
fn daily_volume_lands_between_60_and_180_litres_on_nine_normal_days_in_ten() {
    let mut fleet = Fleet::new(20, 1, start(), QUARTER_HOUR, vec![]);
    let r = fleet.advance(start() + chrono::Duration::days(14));
    let volumes = daily_volumes(&r);
    // Normal days: nobody away (no trip or day out) at any time of the day.
    let away = fleet.truth();
    let mut days = Vec::new();
    for (id, vols) in &volumes {
        for (d, v) in vols.iter().enumerate() {
            let from = start() + chrono::Duration::days(d as i64);
            let to = from + chrono::Duration::days(1);
            let absent = away
                .iter()
                .any(|t| &t.household == id && t.start < to && t.end.is_some_and(|e| e > from));
            if !absent {
                days.push(*v);
            }
        }
    }
    assert!(
        days.len() >= 20 * 14 * 8 / 10,
        "only {} normal days",
        days.len()
    );
    let within = days.iter().filter(|v| (60.0..=180.0).contains(*v)).count();
    assert!(
        within * 10 >= days.len() * 9,
        "only {within} of {} normal days within 60–180 L: {volumes:?}",
        days.len()
    );
    let mean = days.iter().sum::<f64>() / days.len() as f64;
    assert!(
        (80.0..=150.0).contains(&mean),
        "mean daily volume {mean:.1} L"
    );
}

#[test]
fn registers_never_decrease_hold_whole_litres_and_start_between_10_and_900_cubic_metres() {
    let r = readings(10, 3, 7, &[]);
    for id in Fleet::new(10, 3, start(), QUARTER_HOUR, vec![]).meter_ids() {
        let mine = of_meter(&r, &id);
        assert!(
            (10_000.0..=900_000.0).contains(&mine[0].total_l),
            "{id} starts at {}",
            mine[0].total_l
        );
        for w in mine.windows(2) {
            assert!(
                w[1].total_l >= w[0].total_l,
                "{id} went back at {}",
                w[1].ts
            );
        }
        assert!(mine.iter().all(|x| x.total_l.fract() == 0.0));
        assert!(mine.iter().all(|x| x.flow_lpm.is_some_and(|f| f >= 0.0)));
        assert!(
            mine.iter()
                .all(|x| x.battery_pct.is_some_and(|b| (0.0..=100.0).contains(&b)))
        );
        assert!(mine.iter().all(|x| x.status.is_empty()));
    }
}

#[test]
fn nights_are_mostly_quiet_and_mornings_busy() {
    let r = readings(20, 5, 7, &[]);
    let mut by_hour = [0.0f64; 24];
    for id in Fleet::new(20, 5, start(), QUARTER_HOUR, vec![]).meter_ids() {
        for w in of_meter(&r, &id).windows(2) {
            let hour = w[0].ts.format("%H").to_string().parse::<usize>().unwrap();
            by_hour[hour] += w[1].total_l - w[0].total_l;
        }
    }
    let night: f64 = by_hour[1..5].iter().sum();
    let morning: f64 = by_hour[7..11].iter().sum();
    assert!(
        night * 5.0 < morning,
        "night {night} L vs morning {morning} L"
    );
    assert!(night > 0.0, "nobody ever flushes at night");
}

#[test]
fn a_fleet_starting_off_the_interval_reports_from_the_next_aligned_instant() {
    let start = common::ts("2026-03-01T10:07:30+05:45");
    let mut fleet = Fleet::new(1, 1, start, QUARTER_HOUR, vec![]);
    let r = fleet.advance(start + chrono::Duration::hours(1));
    let times: Vec<String> = r.iter().map(|r| r.ts.to_rfc3339()).collect();
    assert_eq!(
        times,
        [
            "2026-03-01T10:15:00+05:45",
            "2026-03-01T10:30:00+05:45",
            "2026-03-01T10:45:00+05:45",
            "2026-03-01T11:00:00+05:45"
        ]
    );
}
