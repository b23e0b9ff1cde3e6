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
    assert_eq!(b.gaps[i], UNIT);
    for d in 1..=10 {
        use_at(&mut b, t(d, 7, 0), &learning);
        use_at(&mut b, t(d, 7, 15), &learning);
    }
    let left = f64::from(b.gaps[i]) / f64::from(UNIT);
    assert!((0.45..=0.55).contains(&left), "{left}");
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
