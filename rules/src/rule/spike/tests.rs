use super::*;

const S: i64 = 1_000;
const MIN: i64 = 60 * S;
const H: i64 = 60 * MIN;

fn burst() -> SpikeConfig {
    SpikeConfig {
        rate_lpm: 30.0,
        window: Duration::from_secs(600),
        learned: None,
    }
}

#[test]
fn rate_is_measured_over_the_window_or_one_long_interval() {
    // name, intervals (start, end, litres), verdict after the last
    let cases: &[(&str, &[Piece], Verdict)] = &[
        ("nothing yet", &[], Verdict::Unchanged),
        (
            "15-min interval at 40 L/min",
            &[(0, 15 * MIN, 600.0)],
            Verdict::Firing,
        ),
        (
            "15-min interval at 20 L/min",
            &[(0, 15 * MIN, 300.0)],
            Verdict::Clear,
        ),
        ("5 h gap with 2000 L", &[(0, 5 * H, 2000.0)], Verdict::Clear),
        (
            "two 5-min intervals averaging 35 L/min",
            &[(0, 5 * MIN, 150.0), (5 * MIN, 10 * MIN, 200.0)],
            Verdict::Firing,
        ),
        (
            "a short fill of a bucket at 12 L/min",
            &[
                (0, 5 * MIN, 0.0),
                (5 * MIN, 6 * MIN, 12.0),
                (6 * MIN, 10 * MIN, 0.0),
            ],
            Verdict::Clear,
        ),
        (
            "burst over: the next interval is quiet",
            &[(0, 15 * MIN, 600.0), (15 * MIN, 30 * MIN, 0.0)],
            Verdict::Clear,
        ),
    ];
    for (name, intervals, want) in cases {
        let mut state = Spike::default();
        for &(s, e, l) in *intervals {
            state.usage(s, e, l, &burst());
        }
        assert_eq!(state.verdict(&burst(), false), *want, "{name}");
    }
}

#[test]
fn ten_second_readings_reach_the_rate_once_the_window_fills() {
    let config = burst();
    let mut state = Spike::default();
    let mut fired_at = None;
    for i in 0..120 {
        state.usage(i * 10 * S, (i + 1) * 10 * S, 40.0 / 6.0, &config);
        if fired_at.is_none() && state.verdict(&config, false) == Verdict::Firing {
            fired_at = Some((i + 1) * 10 * S);
        }
    }
    assert!(state.pieces.len() <= MAX_PIECES);
    let fired_at = fired_at.unwrap_or(i64::MAX);
    assert!((7 * MIN..=8 * MIN).contains(&fired_at), "{fired_at}");
}
