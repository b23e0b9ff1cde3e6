use chrono::{DateTime, Duration};

use super::*;

fn t(minutes: i64) -> Timestamp {
    let start = DateTime::parse_from_rfc3339("2026-11-24T00:00:00+08:00").unwrap();
    start + Duration::minutes(minutes)
}

fn reading(minutes: i64, total_l: f64) -> Reading {
    Reading {
        meter_id: "m".into(),
        ts: t(minutes),
        total_l,
        flow_lpm: None,
        battery_pct: None,
        rssi_dbm: None,
        status: vec![],
    }
}

/// What a step is expected to say: fate, litres used (if counted), notes,
/// and the unknown span in minutes (if any).
type Want = (Fate, Option<f64>, &'static [Note], Option<(i64, i64)>);

const FIRST: Want = (Fate::First, None, &[], None);
const HELD: Want = (Fate::Held, None, &[], None);

fn used(litres: f64) -> Want {
    (Fate::Counted, Some(litres), &[], None)
}

fn check(name: &str, readings: &[(i64, f64)], want: &[Want]) {
    let config = NormaliseConfig::default();
    let mut track = MeterTrack::default();
    for (i, (&(minutes, total), want)) in readings.iter().zip(want).enumerate() {
        let step = track.step(&reading(minutes, total), &config);
        let got: Want = (
            step.fate,
            step.usage.as_ref().map(|u| u.litres),
            want.2,
            step.unknown.as_ref().map(|s| {
                let m = |ts: Timestamp| (ts - t(0)).num_minutes();
                (m(s.start), m(s.end))
            }),
        );
        assert_eq!(
            (got.0, got.1, got.3),
            (want.0, want.1, want.3),
            "{name}, reading {i}"
        );
        assert_eq!(step.notes, want.2, "{name}, reading {i}: notes");
        if let Some(u) = &step.usage {
            assert_eq!(
                u.end,
                t(minutes),
                "{name}, reading {i}: usage ends at the reading"
            );
        }
    }
    assert_eq!(
        readings.len(),
        want.len(),
        "{name}: one expectation per reading"
    );
}

#[test]
fn readings_become_usage_intervals() {
    check(
        "normal",
        &[(0, 100.0), (15, 103.0), (30, 103.0)],
        &[FIRST, used(3.0), used(0.0)],
    );
    check(
        "fractional m3 registers",
        &[(0, 123_456.0), (15, 123_456.789)],
        &[
            FIRST,
            (Fate::Counted, Some(123_456.789 - 123_456.0), &[], None),
        ],
    );
    check(
        "a 6 h gap spreads its use",
        &[(0, 1000.0), (360, 1300.0)],
        &[
            FIRST,
            (Fate::Counted, Some(300.0), &[Note::GapSpread], None),
        ],
    );
    check(
        "a 6 h gap without use proves quiet",
        &[(0, 1000.0), (360, 1000.0)],
        &[FIRST, used(0.0)],
    );
}

#[test]
fn duplicates_and_out_of_order_readings_change_nothing() {
    check(
        "duplicate",
        &[(0, 100.0), (0, 100.0), (15, 101.0)],
        &[
            FIRST,
            (Fate::Ignored, None, &[Note::Duplicate], None),
            used(1.0),
        ],
    );
    check(
        "out of order",
        &[(0, 100.0), (15, 105.0), (10, 104.0), (30, 106.0)],
        &[
            FIRST,
            used(5.0),
            (Fate::Ignored, None, &[Note::OutOfOrder], None),
            used(1.0),
        ],
    );
    check(
        "not a number",
        &[(0, 100.0), (15, f64::NAN), (30, 101.0)],
        &[
            FIRST,
            (Fate::Ignored, None, &[Note::Invalid], None),
            used(1.0),
        ],
    );
}

#[test]
fn small_falls_are_no_use_and_the_rise_back_is_not_counted_twice() {
    check(
        "jitter",
        &[(0, 100.0), (60, 98.0), (120, 98.0), (180, 101.0)],
        &[
            FIRST,
            (Fate::Counted, Some(0.0), &[Note::NegativeDelta], None),
            used(0.0),
            used(1.0),
        ],
    );
}

#[test]
fn large_falls_are_resets_only_once_confirmed() {
    check(
        "meter replaced",
        &[(0, 5000.0), (15, 3.0), (30, 5.0)],
        &[
            FIRST,
            HELD,
            (
                Fate::Counted,
                Some(2.0),
                &[Note::CounterReset],
                Some((0, 15)),
            ),
        ],
    );
    check(
        "one low reading",
        &[(0, 5000.0), (15, 3.0), (30, 5002.0)],
        &[
            FIRST,
            HELD,
            (Fate::Counted, Some(2.0), &[Note::Outlier], None),
        ],
    );
}

#[test]
fn implausible_jumps_are_never_use() {
    check(
        "absurd jump after a 10 h gap, confirmed",
        &[(0, 1000.0), (600, 1_001_000.0), (615, 1_001_003.0)],
        &[
            FIRST,
            HELD,
            (
                Fate::Counted,
                Some(3.0),
                &[Note::ImplausibleJump],
                Some((0, 600)),
            ),
        ],
    );
    check(
        "one absurd reading",
        &[(0, 1000.0), (15, 90_000.0), (30, 1004.0)],
        &[
            FIRST,
            HELD,
            (Fate::Counted, Some(4.0), &[Note::Outlier], None),
        ],
    );
    check(
        "two off-track readings in a row",
        &[(0, 1000.0), (3, 500_000.0), (6, 900.0), (9, 905.0)],
        &[
            FIRST,
            HELD,
            (Fate::Held, None, &[Note::Outlier], None),
            (
                Fate::Counted,
                Some(5.0),
                &[Note::CounterReset],
                Some((0, 6)),
            ),
        ],
    );
}

#[test]
fn a_stream_interleaving_two_registers_gives_only_the_real_use() {
    // DAIAD: every hour +248243 then -248203, the two readings 3 minutes apart.
    let mut readings = Vec::new();
    let mut want = vec![FIRST];
    for hour in 0..24 {
        readings.push((hour * 60, 1000.0 + 40.0 * hour as f64));
        readings.push((hour * 60 + 3, 249_243.0 + 40.0 * hour as f64));
        if hour > 0 {
            want.push((Fate::Counted, Some(40.0), &[Note::Outlier], None));
        }
        want.push(HELD);
    }
    check("interleaved", &readings, &want);
}

#[test]
fn a_restored_track_continues_exactly() {
    let config = NormaliseConfig::default();
    let readings = [(0, 5000.0), (15, 3.0), (30, 5.0), (45, 9.0)];
    let mut straight = MeterTrack::default();
    let mut restored = MeterTrack::default();
    for (i, &(m, total)) in readings.iter().enumerate() {
        let a = straight.step(&reading(m, total), &config);
        let json = serde_json::to_string(&restored).unwrap();
        restored = serde_json::from_str(&json).unwrap();
        let b = restored.step(&reading(m, total), &config);
        assert_eq!(a, b, "reading {i}");
    }
    assert_eq!(straight, restored);
}
