use super::*;

const S: i64 = 1_000;
const MIN: i64 = 60 * S;
const H: i64 = 60 * MIN;

fn burst() -> SpikeConfig {
    SpikeConfig {
        rate_lpm: 30.0,
        window: Duration::from_secs(600),
        learned: None,
        reported_flow: false,
    }
}

fn burst_with_flow() -> SpikeConfig {
    SpikeConfig {
        reported_flow: true,
        ..burst()
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

#[test]
fn a_reported_flow_fires_at_the_reading_only_when_the_register_confirms_it() {
    // name, (litres in the 15 min before the reading, reported flow), verdict
    let cases: &[(&str, f64, Option<f64>, Verdict)] = &[
        (
            "a burst 1 min before the reading",
            40.0,
            Some(40.0),
            Verdict::Firing,
        ),
        (
            "a burst 40 s before the reading",
            26.0,
            Some(40.0),
            Verdict::Firing,
        ),
        ("exactly at the rate", 30.0, Some(30.0), Verdict::Firing),
        (
            "the same litres with no flow value: a bath",
            40.0,
            None,
            Verdict::Clear,
        ),
        (
            "the same litres, flow stopped",
            40.0,
            Some(0.0),
            Verdict::Clear,
        ),
        (
            "a bath filling at 20 L/min",
            120.0,
            Some(20.0),
            Verdict::Clear,
        ),
        (
            "one odd sample with a flush behind it",
            6.0,
            Some(45.0),
            Verdict::Clear,
        ),
        (
            "one odd sample with no use at all",
            0.0,
            Some(45.0),
            Verdict::Clear,
        ),
        // A meter sending L/h as L/min: a 1 L/min tap for 15 min shows 60.
        ("a flow 60 times too high", 15.0, Some(60.0), Verdict::Clear),
        ("a flow no pipe carries", 90.0, Some(360.0), Verdict::Clear),
        ("not a number", 90.0, Some(f64::NAN), Verdict::Clear),
    ];
    for &(name, litres, flow, want) in cases {
        let (config, mut state) = (burst_with_flow(), Spike::default());
        state.usage(0, 15 * MIN, 0.0, &config);
        state.usage(15 * MIN, 30 * MIN, litres, &config);
        state.reported_flow(15 * MIN, 30 * MIN, litres, flow, &config);
        assert_eq!(state.verdict(&config, false), want, "{name}");
    }
}

#[test]
fn ten_second_readings_believe_a_reported_flow_after_half_a_minute() {
    let config = burst_with_flow();
    // A burst at 40 L/min from 0: 6.7 L every 10 s, the meter reporting 40.
    let mut state = Spike::default();
    let mut fired_at = None;
    for i in 0..12 {
        let (from, until) = (i * 10 * S, (i + 1) * 10 * S);
        state.usage(from, until, 40.0 / 6.0, &config);
        state.reported_flow(from, until, 40.0 / 6.0, Some(40.0), &config);
        if fired_at.is_none() && state.verdict(&config, false) == Verdict::Firing {
            fired_at = Some(until);
        }
    }
    assert_eq!(
        fired_at,
        Some(30 * S),
        "the third reading, half a minute in"
    );
    let text = state.summary(
        &config,
        false,
        Verdict::Firing,
        FixedOffset::east_opt(0).unwrap(),
        Language::En,
    );
    assert_eq!(
        text,
        "The meter reports 40 L/min flowing at 00:02 (20 L in the last 30 s); the limit is 30 L/min, like a burst pipe."
    );
    let zh = state.summary(
        &config,
        false,
        Verdict::Firing,
        FixedOffset::east_opt(0).unwrap(),
        Language::ZhCn,
    );
    assert!(zh.contains("（最近30秒用水20升）"), "{zh}");

    // name, litres per 10 s for six readings, the flow reported at the last
    let cases: &[(&str, [f64; 6], f64, Verdict)] = &[
        (
            "one odd sample after a quiet minute",
            [0.0, 0.0, 0.0, 0.0, 0.0, 6.7],
            45.0,
            Verdict::Clear,
        ),
        (
            "one odd sample during a 10 L/min shower",
            [1.7, 1.7, 1.7, 1.7, 1.7, 1.7],
            45.0,
            Verdict::Clear,
        ),
        (
            "a flow 60 times too high",
            [0.2, 0.1, 0.2, 0.1, 0.2, 0.1],
            40.0,
            Verdict::Clear,
        ),
        (
            "a burst 20 s before the reading: not yet",
            [0.0, 0.0, 0.0, 0.0, 6.7, 6.7],
            40.0,
            Verdict::Clear,
        ),
        (
            "a burst 30 s before the reading",
            [0.0, 0.0, 0.0, 6.7, 6.7, 6.7],
            40.0,
            Verdict::Firing,
        ),
    ];
    for &(name, litres, flow, want) in cases {
        let mut state = Spike::default();
        for (i, &l) in (0i64..).zip(&litres) {
            let (from, until) = (i * 10 * S, (i + 1) * 10 * S);
            state.usage(from, until, l, &config);
            state.reported_flow(from, until, l, Some(flow), &config);
        }
        assert_eq!(state.verdict(&config, false), want, "{name}");
    }
}

#[test]
fn a_rule_without_reported_flow_ignores_the_flow() {
    let (config, mut state) = (burst(), Spike::default());
    state.usage(0, 15 * MIN, 40.0, &config);
    state.reported_flow(0, 15 * MIN, 40.0, Some(40.0), &config);
    assert_eq!(state.verdict(&config, false), Verdict::Clear);
    assert_eq!(state, {
        let mut s = Spike::default();
        s.usage(0, 15 * MIN, 40.0, &config);
        s
    });
}

#[test]
fn a_flow_surge_resolves_when_flow_and_volume_are_back_to_normal() {
    let config = burst_with_flow();
    let mut state = Spike::default();
    let step = |s: &mut Spike, from: i64, litres: f64, flow: f64| {
        s.usage(from, from + 15 * MIN, litres, &config);
        s.reported_flow(from, from + 15 * MIN, litres, Some(flow), &config);
        s.verdict(&config, false)
    };
    assert_eq!(step(&mut state, 0, 40.0, 40.0), Verdict::Firing);
    // The burst runs on: the volume fires too.
    assert_eq!(step(&mut state, 15 * MIN, 600.0, 40.0), Verdict::Firing);
    // Shut off at the main tap just before the reading: flow 0, but the
    // last 10 min still averaged 30 L/min or more.
    assert_eq!(step(&mut state, 30 * MIN, 450.0, 0.0), Verdict::Firing);
    assert_eq!(step(&mut state, 45 * MIN, 0.0, 0.0), Verdict::Clear);
    let text = state.summary(
        &config,
        false,
        Verdict::Clear,
        FixedOffset::east_opt(8 * 3600).unwrap(),
        Language::En,
    );
    assert!(text.starts_with("Flow down to 0 L/min"), "{text}");
}

#[test]
fn a_flow_surge_says_what_the_meter_reported_in_both_languages() {
    let config = burst_with_flow();
    let mut state = Spike::default();
    // 2026-01-05 10:00 +08:00 to 10:15.
    let from = 1_767_578_400_000;
    state.usage(from, from + 15 * MIN, 42.0, &config);
    state.reported_flow(from, from + 15 * MIN, 42.0, Some(42.0), &config);
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    let en = state.summary(&config, false, Verdict::Firing, offset, Language::En);
    assert_eq!(
        en,
        "The meter reports 42 L/min flowing at 10:15 (42 L since 10:00); the limit is 30 L/min, like a burst pipe."
    );
    let zh = state.summary(&config, false, Verdict::Firing, offset, Language::ZhCn);
    assert_eq!(
        zh,
        "水表报告10:15水流为42升/分钟（自10:00起已用水42升）；报警阈值为30升/分钟，像是水管爆裂。"
    );
}
