use super::*;

const H: i64 = 3_600_000;
/// 2026-01-05 00:00 in UTC+8, as epoch ms.
const MONDAY: i64 = 1_767_542_400_000;
const CST: i32 = 8 * 3600;

fn config() -> UsageDropConfig {
    UsageDropConfig {
        recent_days: 4,
        history_days: 28,
        min_history_days: 14,
        quantile: 0.5,
        fraction: 0.5,
        min_drop_l: 30.0,
    }
}

/// Hourly intervals over `days` local days from `MONDAY + day0`, `per_day`
/// litres a day spread over 07:00–21:00.
fn feed(d: &mut DailyUse, day0: i64, per_day: &[f64]) {
    for (i, &litres) in per_day.iter().enumerate() {
        let day = MONDAY + (day0 + i as i64) * 24 * H;
        for h in 0..24 {
            let l = if (7..21).contains(&h) {
                litres / 14.0
            } else {
                0.0
            };
            d.usage(day + h * H, day + (h + 1) * H, l, CST, true);
        }
    }
}

fn verdict(d: &DailyUse) -> Option<Verdict> {
    d.assess(&config()).map(|a| a.verdict(&config()))
}

#[test]
fn daily_use_falling_to_a_quarter_fires_and_recovery_resolves() {
    let mut d = DailyUse::default();
    let normal: Vec<f64> = (0..20).map(|i| 130.0 + f64::from(i % 3) * 10.0).collect();
    feed(&mut d, 0, &normal);
    assert_eq!(verdict(&d), Some(Verdict::Clear), "normal days");
    feed(&mut d, 20, &[38.0, 35.0, 40.0, 38.0]);
    // The fourth low day closes when the next day begins.
    feed(&mut d, 24, &[38.0]);
    let a = d.assess(&config()).expect("enough days");
    assert_eq!(a.verdict(&config()), Verdict::Firing, "{a:?}");
    assert_eq!(
        a.summary(Verdict::Firing, Language::En),
        "Daily use has been 38 L/day for 4 days; this household usually uses 140 L/day."
    );
    assert_eq!(
        a.summary(Verdict::Firing, Language::ZhCn),
        "近4天日用水量为38升/天；该户通常每天用水140升。"
    );
    feed(&mut d, 25, &[120.0, 130.0, 125.0, 128.0]);
    assert_eq!(verdict(&d), Some(Verdict::Clear), "use back to normal");
}

#[test]
fn a_silent_meter_makes_days_unknown_never_low() {
    let mut d = DailyUse::default();
    feed(&mut d, 0, &[140.0; 20]);
    // Ten days with no readings at all, then one reading covering them.
    let last = MONDAY + 20 * 24 * H;
    d.usage(last, last + 10 * 24 * H, 5.0, CST, true);
    feed(&mut d, 30, &[140.0; 2]);
    assert!(
        d.days().rev().skip(1).take(10).all(|v| v.is_none()),
        "{:?}",
        d.days().collect::<Vec<_>>()
    );
    assert_ne!(verdict(&d), Some(Verdict::Firing));
}

#[test]
fn a_day_with_a_few_hours_missing_is_unknown_and_days_away_do_not_count() {
    let mut d = DailyUse::default();
    feed(&mut d, 0, &[140.0; 20]);
    // A day with readings only until 12:00, then a 12-hour interval.
    let day = MONDAY + 20 * 24 * H;
    for h in 0..12 {
        d.usage(day + h * H, day + (h + 1) * H, 2.0, CST, true);
    }
    d.usage(day + 12 * H, day + 24 * H, 3.0, CST, true);
    // A week away: readings, no use.
    feed(&mut d, 21, &[0.0; 7]);
    feed(&mut d, 28, &[140.0; 5]);
    let days: Vec<Option<u32>> = d.days().collect();
    assert_eq!(days[20], None, "the day with a 12-hour gap");
    assert_eq!(days[21], Some(0), "a day away");
    assert_eq!(verdict(&d), Some(Verdict::Clear), "{days:?}");
}

#[test]
fn too_little_history_stays_silent() {
    let mut d = DailyUse::default();
    feed(&mut d, 0, &[140.0; 10]);
    feed(&mut d, 10, &[20.0; 5]);
    assert_eq!(verdict(&d), None);
}

#[test]
fn a_small_household_needs_a_drop_of_min_drop_l() {
    let mut d = DailyUse::default();
    feed(&mut d, 0, &[40.0; 20]);
    feed(&mut d, 20, &[15.0; 5]);
    let a = d.assess(&config()).expect("enough days");
    assert!(a.recent_l < 0.5 * a.level_l, "{a:?}");
    assert_eq!(a.verdict(&config()), Verdict::Clear, "a 25 L drop");
}

#[test]
fn an_interval_across_midnight_is_split_between_the_days() {
    let mut d = DailyUse::default();
    let midnight = MONDAY;
    d.usage(
        midnight - 30 * 60_000,
        midnight + 30 * 60_000,
        10.0,
        CST,
        true,
    );
    d.usage(midnight + 30 * 60_000, midnight + H, 0.0, CST, true);
    for h in 1..25 {
        d.usage(midnight + h * H, midnight + (h + 1) * H, 0.0, CST, true);
    }
    // The first (partial) day is unknown; the second has 5 L and full cover.
    let days: Vec<Option<u32>> = d.days().collect();
    assert_eq!(days, [None, Some(5)]);
}

#[test]
fn a_replacement_meter_takes_over_the_days_and_the_day_of_the_swap_is_one_day() {
    let mut old = DailyUse::default();
    feed(&mut old, 0, &[100.0; 20]);
    // Day 20: the old meter until 12:00 (50 L), the new one after (50 L).
    let swap = MONDAY + 20 * 24 * H;
    for h in 0..12 {
        let l = if h >= 7 { 10.0 } else { 0.0 };
        old.usage(swap + h * H, swap + (h + 1) * H, l, CST, true);
    }
    let mut new = DailyUse::default();
    for h in 12..24 {
        let l = if h < 17 { 10.0 } else { 0.0 };
        new.usage(swap + h * H, swap + (h + 1) * H, l, CST, true);
    }
    new.inherit(&old);
    feed(&mut new, 21, &[100.0]);
    let days: Vec<Option<u32>> = new.days().collect();
    assert_eq!(days.len(), 21);
    assert!(days[..20].iter().all(|&d| d == Some(100)), "{days:?}");
    assert_eq!(days[20], Some(100), "the day of the swap, both halves");
    assert_eq!(verdict(&new), Some(Verdict::Clear));
}
