//! A household lives by its wall clock, and its clock changes twice a year
//! where daylight saving applies. Readings stamped with the offset in force
//! (a native or AI-on-the-edge meter, or the daemon's `timezone` for meters
//! that stamp UTC) keep its mornings where they are; a fixed offset moves
//! them by an hour for half the year.

mod support;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use support::{NORMAL_DAY, Run, reading};
use waterwatch_rules::Reading;

/// The instant Berlin's clocks show `local` (`"2026-04-05 07:00"`).
fn berlin(local: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
    Berlin
        .from_local_datetime(&naive)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

/// Readings every 15 minutes from `first` for `days` days of usual life in
/// Berlin, with a visit to the bathroom at `last_use` (local) and no water
/// after it, if given; stamped with Berlin's offset at each instant, or
/// with `fixed` seconds east of UTC.
fn readings(first: &str, days: i64, last_use: Option<&str>, fixed: Option<i32>) -> Vec<Reading> {
    let start = NaiveDate::parse_from_str(first, "%Y-%m-%d").unwrap();
    let stop = last_use.map(berlin);
    let uses: Vec<(DateTime<Utc>, f64)> = (0..days)
        .flat_map(|d| {
            let date = start + Duration::days(d);
            NORMAL_DAY
                .iter()
                .map(move |(t, l)| (berlin(&format!("{date} {t}")), *l))
        })
        .filter(|(t, _)| stop.is_none_or(|s| *t < s))
        .chain(stop.map(|s| (s, 6.0)))
        .collect();
    let (mut t, end) = (
        berlin(&format!("{start} 00:00")),
        berlin(&format!("{} 00:00", start + Duration::days(days))),
    );
    let mut out = Vec::new();
    while t < end {
        let total = 1000.0
            + uses
                .iter()
                .filter(|(u, _)| *u <= t)
                .map(|(_, l)| l)
                .sum::<f64>();
        let offset = match fixed {
            Some(east) => FixedOffset::east_opt(east).unwrap(),
            None => Berlin.offset_from_utc_datetime(&t.naive_utc()).fix(),
        };
        out.push(reading(t.with_timezone(&offset), total));
        t += Duration::minutes(15);
    }
    out
}

/// When the inactivity alerts fired, in Berlin's local time.
fn fired_local(readings: &[Reading]) -> Vec<String> {
    let mut run = Run::new();
    run.live(readings);
    run.fired("inactivity")
        .iter()
        .map(|t| t.with_timezone(&Berlin).format("%m-%d %H:%M").to_string())
        .collect()
}

#[test]
fn a_night_collapse_after_the_clocks_go_forward_is_found_at_the_usual_local_hour() {
    // Eight weeks of winter, then a week of summer time (from 29 March);
    // water at 00:30 on 5 April, then none.
    let night = Some("2026-04-05 00:30");
    let following = fired_local(&readings("2026-02-05", 60, night, None));
    let fixed = fired_local(&readings("2026-02-05", 60, night, Some(3600)));
    // The morning check: the usual 07:00 rising plus the late-morning
    // allowance and its margin, in local time.
    assert_eq!(following, ["04-05 10:00"]);
    // With the winter offset all summer, 10:00 by the meter's clock is
    // 11:00 on the household's: an hour later.
    assert_eq!(fixed, ["04-05 11:00"]);
}

#[test]
fn the_night_the_clocks_go_back_is_an_hour_longer_and_no_alarm() {
    // Summer, the autumn change on 25 October, and two weeks of winter.
    let readings = readings("2026-08-20", 80, None, None);
    assert!(
        readings
            .iter()
            .any(|r| r.ts.offset().local_minus_utc() == 7200)
    );
    assert!(
        readings
            .iter()
            .any(|r| r.ts.offset().local_minus_utc() == 3600)
    );
    assert_eq!(fired_local(&readings), Vec::<String>::new());
}
