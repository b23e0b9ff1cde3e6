use super::*;

const OFFSET: i32 = 8 * 3600;

/// Local `day` (from 0) at `h:m`, as UTC milliseconds in +08:00.
fn t(day: i64, h: i64, m: i64) -> i64 {
    day * DAY_MS + h * HOUR_MS + m * MINUTE_MS - i64::from(OFFSET) * 1000
}

/// A short use (one 15-minute interval with water) ending at `end`.
fn use_at(b: &mut Baseline, end: i64, learning: &Learning) {
    b.usage(end - 15 * MINUTE_MS, end, 3.0, OFFSET, learning);
}

/// `days` days with water at each of `hours` (whole hours).
fn days_of(days: i64, hours: &[i64], learning: &Learning) -> Baseline {
    let mut b = Baseline::default();
    for d in 0..days {
        for &h in hours {
            use_at(&mut b, t(d, h, 0), learning);
        }
    }
    b
}

#[test]
fn gap_buckets_are_log_spaced_and_contain_their_gaps() {
    let mut previous = SHORTEST_MS;
    for k in 0..BUCKETS {
        let upper = bucket_upper_ms(k);
        assert!(upper > previous, "bucket {k}");
        assert!(upper as f64 / previous as f64 <= 1.16, "bucket {k}");
        previous = upper;
    }
    for gap in [SHORTEST_MS, 45 * MINUTE_MS, 3 * HOUR_MS, 11 * HOUR_MS] {
        let k = bucket_of(gap);
        assert!(gap < bucket_upper_ms(k), "{gap} in {k}");
        assert!(k == 0 || gap >= bucket_upper_ms(k - 1), "{gap} in {k}");
    }
}

#[test]
fn stretches_are_learned_by_the_hour_they_start_in() {
    let learning = Learning::default();
    // Water at 07:00 and 10:00 only: a 3 h stretch from 07:00 every day.
    let b = days_of(20, &[7, 10], &learning);
    assert_eq!(b.days(), 19);
    let usual = b.usual_longest_gap(t(20, 7, 0), OFFSET, 0.9).unwrap();
    assert!((3 * HOUR_MS..4 * HOUR_MS).contains(&usual), "{usual}");
    // Nothing ever starts around 15:00.
    assert_eq!(b.usual_longest_gap(t(20, 15, 0), OFFSET, 0.9), None);
}

#[test]
fn a_rarer_quantile_extrapolates_beyond_the_longest_stretch_seen() {
    let learning = Learning::default();
    let b = days_of(20, &[7, 10], &learning);
    let common = b.usual_longest_gap(t(20, 7, 0), OFFSET, 0.9).unwrap();
    let rare = b.usual_longest_gap(t(20, 7, 0), OFFSET, 0.999).unwrap();
    assert!(rare > common + 30 * MINUTE_MS, "{common} {rare}");
}

#[test]
fn a_stretch_longer_than_the_longest_normal_gap_is_not_learned() {
    let learning = Learning::default();
    let mut b = Baseline::default();
    use_at(&mut b, t(0, 8, 0), &learning);
    use_at(&mut b, t(7, 8, 0), &learning);
    assert!(b.gaps.iter().all(|&c| c == 0));
    use_at(&mut b, t(7, 12, 0), &learning);
    assert_eq!(b.gaps.iter().filter(|&&c| c > 0).count(), 1);
}

#[test]
fn an_unknown_span_is_not_learned_as_quiet() {
    let learning = Learning::default();
    let mut b = Baseline::default();
    use_at(&mut b, t(0, 8, 0), &learning);
    b.unknown();
    use_at(&mut b, t(0, 14, 0), &learning);
    assert!(b.gaps.iter().all(|&c| c == 0));
}

#[test]
fn what_was_learned_fades_by_half_over_the_half_life() {
    let learning = Learning::new(14, 10.0, 20 * HOUR_MS);
    let mut b = Baseline::default();
    use_at(&mut b, t(0, 7, 0), &learning);
    use_at(&mut b, t(0, 12, 0), &learning);
    let i = b.gaps.iter().position(|&c| c > 0).unwrap();
    assert_eq!(b.gaps[i], ONE);
    for d in 1..=10 {
        use_at(&mut b, t(d, 7, 0), &learning);
        use_at(&mut b, t(d, 7, 15), &learning);
    }
    let left = f64::from(b.gaps[i]) / f64::from(UNIT);
    assert!((0.45..=0.55).contains(&left), "{left}");
}

#[test]
fn the_longest_memory_allowed_cannot_overflow_a_bucket() {
    // The most a bucket can gain: two 30-minute stretches a day, both
    // begun in its hour, every day for years, at the longest half-life.
    let learning = Learning::new(14, MAX_HALF_LIFE_DAYS, 20 * HOUR_MS);
    let mut b = Baseline::default();
    for d in 0..3000 {
        for (h, m) in [(10, 1), (10, 32), (11, 3)] {
            let end = t(d, h, m);
            b.usage(end - MINUTE_MS, end, 1.0, OFFSET, &learning);
        }
    }
    let most = *b.gaps.iter().max().unwrap();
    assert!((50_000..u16::MAX).contains(&most), "{most}");
}

#[test]
fn the_rising_time_is_the_end_of_the_night() {
    let learning = Learning::default();
    // To bed at 22:00, up at 07:00 (the interval 06:45–07:00 shows the use).
    let b = days_of(10, &[7, 12, 18, 22], &learning);
    assert_eq!(b.usual_rising(0.99), Some(7 * 60));
    assert_eq!(Baseline::default().usual_rising(0.99), None);
}

#[test]
fn a_night_with_no_morning_by_one_oclock_is_remembered() {
    let learning = Learning::default();
    // Up at 07:00 on 30 days; on days 10 and 20 nobody is home until 14:00
    // (a night away), and on every day water at 19:30 and 22:00, a short
    // evening stretch that is not a night without a morning.
    let mut b = Baseline::default();
    for d in 0..30 {
        let first = if d == 10 || d == 20 { 14 } else { 7 };
        for h in [first, 12, 18] {
            use_at(&mut b, t(d, h, 0), &learning);
        }
        use_at(&mut b, t(d, 19, 30), &learning);
        use_at(&mut b, t(d, 22, 0), &learning);
    }
    // Two mornings in thirty did not come: there is no latest usual rising
    // on 999 days in 1000 ...
    assert_eq!(b.usual_rising(0.999), None);
    // ... but the usual (median) one is unchanged.
    assert_eq!(b.usual_rising(0.5), Some(7 * 60));
    // The two nights away are the only stretches over 12 h.
    let (longer, days) = b.longer_than(Days::All, 12 * HOUR_MS);
    assert!((1.0..2.0).contains(&longer), "{longer} in {days} days");
    assert!((15.0..30.0).contains(&days), "{days}");
    // Without them every morning came by 07:00.
    let home = days_of(30, &[7, 12, 18, 22], &learning);
    assert_eq!(home.usual_rising(0.999), Some(7 * 60));
    assert_eq!(home.longer_than(Days::All, 12 * HOUR_MS).0, 0.0);
}

/// `days` days read every `step` minutes, water in the intervals ending at
/// 07:00 and at 10:00 + `step` (a 3 h stretch from 07:00 either way) and
/// at 20:00.
fn read_every(step: i64, days: i64, learning: &Learning) -> Baseline {
    let mut b = Baseline::default();
    for d in 0..days {
        for k in 1..=(24 * 60 / step) {
            let end = t(d, 0, k * step);
            let wet = [t(d, 7, 0), t(d, 10, step), t(d, 20, 0)].contains(&end);
            let litres = if wet { 3.0 } else { 0.0 };
            b.usage(end - step * MINUTE_MS, end, litres, OFFSET, learning);
        }
    }
    b
}

#[test]
fn an_hourly_meter_is_not_held_to_a_tail_finer_than_its_readings() {
    let learning = Learning::default();
    // Ninety days of the same 3 h stretch from 07:00. An hourly meter sees
    // quiet in whole hours: a 4 h stretch is one empty reading more than
    // ever, which its limit must allow; a 15-minute meter is judged finer.
    let hourly = read_every(60, 90, &learning);
    let quarter = read_every(15, 90, &learning);
    let limit = |b: &Baseline| b.usual_longest_gap(t(90, 7, 0), OFFSET, 0.999).unwrap();
    assert!(limit(&hourly) > 4 * HOUR_MS, "{}", limit(&hourly));
    assert!(limit(&quarter) < 4 * HOUR_MS, "{}", limit(&quarter));
    assert_eq!(hourly.step_ms, Some(HOUR_MS));
    assert_eq!(quarter.step_ms, Some(15 * MINUTE_MS));
}

#[test]
fn counts_are_stored_as_runs_and_come_back_identical() {
    let learning = Learning::default();
    let b = days_of(20, &[2, 7, 9, 12, 15, 18, 22], &learning);
    let json = serde_json::to_string(&b).unwrap();
    assert!(json.len() < 1200, "{} bytes: {json}", json.len());
    let back: Baseline = serde_json::from_str(&json).unwrap();
    let mut back = back;
    back.normalise_shape();
    assert_eq!(back, b);
}

#[test]
fn a_hand_written_short_state_is_padded_not_trusted() {
    let mut b: Baseline =
        serde_json::from_str(r#"{"days":30,"day_weight":3000,"gaps":[5]}"#).unwrap();
    b.normalise_shape();
    assert_eq!(b.gaps.len(), BINS * BUCKETS);
    assert_eq!(b.rises.len(), RISE_BUCKETS);
    assert!(serde_json::from_str::<Baseline>(r#"{"gaps":[-99999999999]}"#).is_err());
}

/// Local day `day` from Sunday 2026-11-01, at `h:m`, in +08:00.
fn sunday(day: i64, h: i64, m: i64) -> i64 {
    // 2026-11-01 is day 20_758 since the epoch.
    t(20_758 + day, h, m)
}

/// `days` days from Sunday 2026-11-01: up at `weekday_rise` on weekdays and
/// `weekend_rise` on weekends, water every hour 10:00–22:00.
fn weeks_of(days: i64, weekday_rise: i64, weekend_rise: i64, learning: &Learning) -> Baseline {
    let mut b = Baseline::default();
    for d in 0..days {
        let weekend = d % 7 == 0 || d % 7 == 6;
        use_at(
            &mut b,
            sunday(d, if weekend { weekend_rise } else { weekday_rise }, 0),
            learning,
        );
        for h in 10..=22 {
            use_at(&mut b, sunday(d, h, 0), learning);
        }
    }
    b
}

#[test]
fn weekend_days_are_saturdays_and_sundays_and_a_night_belongs_to_its_morning() {
    assert!(week::is_weekend_day(20_758)); // Sunday 2026-11-01
    assert!(!week::is_weekend_day(20_759));
    assert!(week::is_weekend_day(20_764)); // Saturday 2026-11-07
    // Friday 22:00 leads into Saturday; Sunday 22:00 into Monday; Saturday 15:00 is Saturday.
    assert_eq!(week::stretch_day(sunday(5, 22, 0), OFFSET), 20_764);
    assert_eq!(week::stretch_day(sunday(7, 22, 0), OFFSET), 20_766);
    assert_eq!(week::stretch_day(sunday(6, 15, 0), OFFSET), 20_764);
}

#[test]
fn weekends_and_weekdays_each_learn_their_own_mornings() {
    let learning = Learning::default().with_weekend(Some(8));
    let b = weeks_of(35, 7, 10, &learning);
    assert_eq!(b.usual_rising_in(Days::Weekdays, 0.999), Some(7 * 60));
    assert_eq!(b.usual_rising_in(Days::Weekends, 0.999), Some(10 * 60));
    assert_eq!(b.usual_rising(0.999), Some(10 * 60));
    // Friday night is a weekend stretch, Sunday night a weekday one.
    assert_eq!(
        b.days_for(sunday(33, 22, 30), OFFSET, &learning),
        Days::Weekends
    );
    assert_eq!(
        b.days_for(sunday(35, 22, 30), OFFSET, &learning),
        Days::Weekdays
    );
    assert_eq!(
        b.days_for(sunday(36, 9, 0), OFFSET, &learning),
        Days::Weekdays
    );
    let off = learning.with_weekend(None);
    assert_eq!(b.days_for(sunday(33, 22, 30), OFFSET, &off), Days::All);
    let weekday_night = b.usual_longest_gap_in(Days::Weekdays, sunday(35, 22, 0), OFFSET, 0.9);
    let weekend_night = b.usual_longest_gap_in(Days::Weekends, sunday(33, 22, 0), OFFSET, 0.9);
    assert!(weekday_night.unwrap() < 10 * HOUR_MS, "{weekday_night:?}");
    assert!(weekend_night.unwrap() > 11 * HOUR_MS, "{weekend_night:?}");
}

#[test]
fn a_part_of_the_week_waits_for_days_of_its_own() {
    let learning = Learning::default().with_weekend(Some(8));
    // 30 days from a Sunday: 9 weekend days closed (of the 10 needed here), 20 weekdays.
    let learning = learning.with_weekend(Some(10));
    let b = weeks_of(30, 7, 10, &learning);
    assert_eq!(b.days_for(sunday(26, 22, 0), OFFSET, &learning), Days::All);
    assert_eq!(
        b.days_for(sunday(29, 9, 0), OFFSET, &learning),
        Days::Weekdays
    );
    // A state learned before the split knows no weekdays of its own either.
    let mut old = b.clone();
    old.weekend = Weekend::default();
    assert_eq!(old.days_for(sunday(29, 9, 0), OFFSET, &learning), Days::All);
    // A household whose weekends start like its weekdays stays whole.
    let same = weeks_of(60, 7, 7, &learning);
    // (day 62 is a Saturday, 64 a Monday)
    assert_eq!(
        same.days_for(sunday(64, 9, 0), OFFSET, &learning),
        Days::All
    );
    assert_eq!(
        same.days_for(sunday(62, 15, 0), OFFSET, &learning),
        Days::All
    );
    let late = weeks_of(60, 7, 9, &learning);
    assert_eq!(
        late.days_for(sunday(64, 9, 0), OFFSET, &learning),
        Days::Weekdays
    );
    assert_eq!(
        late.days_for(sunday(62, 15, 0), OFFSET, &learning),
        Days::Weekends
    );
}

#[test]
fn the_whole_decays_exactly_as_before_and_the_weekend_never_exceeds_it() {
    let learning = Learning::new(14, 10.0, 20 * HOUR_MS);
    let b = weeks_of(120, 7, 10, &learning.with_weekend(Some(8)));
    // Learning the split changes nothing in what all days say, and
    // without it nothing of the weekend is kept.
    let plain = weeks_of(120, 7, 10, &learning);
    assert!(plain.weekend.is_empty());
    let mut whole = b.clone();
    whole.weekend = Weekend::default();
    assert_eq!(plain, whole);
    for bin in 0..BINS {
        let mut weekday = [0u32; BUCKETS];
        b.add_gap_row(Days::Weekdays, bin, &mut weekday);
        let mut weekend = [0u32; BUCKETS];
        b.add_gap_row(Days::Weekends, bin, &mut weekend);
        for k in 0..BUCKETS {
            assert_eq!(
                weekday[k] + weekend[k],
                u32::from(b.gaps[bin * BUCKETS + k]),
                "{bin} {k}"
            );
        }
    }
    let (all_days, all_rises) = b.weights(Days::All);
    let (wd, wr) = b.weights(Days::Weekdays);
    let (ed, er) = b.weights(Days::Weekends);
    assert_eq!((wd + ed, wr + er), (all_days, all_rises));
    assert!(ed > 0 && ed < wd);
}

#[test]
fn the_split_is_stored_compactly_and_comes_back_identical() {
    let learning = Learning::default().with_weekend(Some(8));
    let b = weeks_of(60, 7, 10, &learning);
    let json = serde_json::to_string(&b).unwrap();
    assert!(json.contains("\"weekend\""), "{json}");
    assert!(json.len() < 700, "{} bytes: {json}", json.len());
    let mut back: Baseline = serde_json::from_str(&json).unwrap();
    back.normalise_shape();
    assert_eq!(back, b);
}

#[test]
fn a_baseline_holds_no_room_it_does_not_use() {
    // Without the weekend split (as shipped) nothing of the weekend is
    // allocated, learned or restored; with it, from its first stretch.
    let learning = Learning::default();
    let b = weeks_of(30, 7, 10, &learning);
    assert_eq!(b.weekend.allocated(), 0);
    let json = serde_json::to_string(&b).unwrap();
    let mut back: Baseline = serde_json::from_str(&json).unwrap();
    back.normalise_shape();
    assert_eq!(back.weekend.allocated(), 0);
    // Restored counts that end in zeros (not stored) are padded to size
    // without room to spare.
    assert!(json.len() < 700, "{json}");
    assert_eq!(back.gaps.capacity(), BINS * BUCKETS);
    assert_eq!(back.rises.capacity(), RISE_BUCKETS);
    assert_eq!(back, b);
    let split = weeks_of(30, 7, 10, &learning.with_weekend(Some(8)));
    assert_eq!(split.weekend.allocated(), BINS * BUCKETS + RISE_BUCKETS);
}
