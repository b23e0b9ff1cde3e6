use super::*;

const MIN: i64 = 60_000;
const H: i64 = 60 * MIN;

enum Feed {
    First(i64),
    Use(i64, i64, f64),
    Unknown(i64, i64),
}
use Feed::*;

fn run(feed: &[Feed]) -> (Inactivity, Verdict) {
    let limit = Limit::Fixed(Duration::from_secs(12 * 3600));
    let mut state = Inactivity::default();
    for step in feed {
        match *step {
            First(at) => state.first_reading(at),
            Use(s, e, l) => state.usage(s, e, l),
            Unknown(s, e) => state.unknown(s, e),
        }
    }
    let verdict = state.verdict(&limit);
    (state, verdict)
}

#[test]
fn quiet_is_measured_between_readings_only() {
    let cases: &[(&str, &[Feed], Verdict)] = &[
        ("no readings", &[], Verdict::Unchanged),
        ("one reading", &[First(0)], Verdict::Clear),
        (
            "first reading then 12 h of zero intervals",
            &[First(0), Use(0, 6 * H, 0.0), Use(6 * H, 12 * H, 0.0)],
            Verdict::Firing,
        ),
        (
            "use at 10:00 then readings to 21:59",
            &[
                First(0),
                Use(9 * H, 10 * H, 3.0),
                Use(10 * H, 22 * H - MIN, 0.0),
            ],
            Verdict::Clear,
        ),
        (
            "use at 10:00 then readings to 22:00",
            &[First(0), Use(9 * H, 10 * H, 3.0), Use(10 * H, 22 * H, 0.0)],
            Verdict::Firing,
        ),
        (
            "a 14 h gap with use counts as use at its end",
            &[First(0), Use(0, 14 * H, 2.0)],
            Verdict::Clear,
        ),
        (
            "a 14 h gap without use proves 14 h of quiet",
            &[First(0), Use(0, 14 * H, 0.0)],
            Verdict::Firing,
        ),
        (
            "an unknown span counts as possible use",
            &[
                First(0),
                Use(0, 11 * H, 0.0),
                Unknown(11 * H, 12 * H),
                Use(12 * H, 13 * H, 0.0),
            ],
            Verdict::Clear,
        ),
        (
            "use resolves a firing stretch",
            &[
                First(0),
                Use(0, 13 * H, 0.0),
                Use(13 * H, 13 * H + 15 * MIN, 1.0),
            ],
            Verdict::Clear,
        ),
    ];
    for (name, feed, want) in cases {
        assert_eq!(run(feed).1, *want, "{name}");
    }
}

#[test]
fn summaries_say_since_when_and_the_limit() {
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-24T09:40:00+08:00")
        .unwrap()
        .timestamp_millis();
    let limit = Limit::Fixed(Duration::from_secs(12 * 3600));
    let (state, v) = run(&[
        First(t0 - H),
        Use(t0 - 15 * MIN, t0, 4.0),
        Use(t0, t0 + 12 * H + 5 * MIN, 0.0),
    ]);
    assert_eq!(
        state.summary(&limit, v, offset),
        "No water used since 09:40 (12 h 5 min); the fixed limit is 12 h."
    );
    let (state, v) = run(&[First(t0), Use(t0, t0 + 13 * H, 0.0)]);
    assert_eq!(
        state.summary(&limit, v, offset),
        "No water used since the first reading at 09:40 (13 h); the fixed limit is 12 h."
    );
    let (state, v) = run(&[
        First(t0),
        Use(t0, t0 + 13 * H, 0.0),
        Use(t0 + 13 * H, t0 + 14 * H, 5.0),
    ]);
    assert_eq!(
        state.summary(&limit, v, offset),
        "Water used again between 22:40 and 23:40."
    );
    let (state, v) = run(&[
        First(t0),
        Use(t0, t0 + 13 * H, 0.0),
        Use(t0 + 13 * H, t0 + 13 * H + 10_000, 1.0),
    ]);
    assert_eq!(
        state.summary(&limit, v, offset),
        "Water used again at 22:40."
    );
}

/// The evidence of a limit past `max`: capped at `routine_max`, or the
/// household's own usual longest below it.
#[test]
fn a_routine_limit_says_whether_it_is_capped() {
    use crate::baseline::Days;
    use crate::text::Language;
    let learned = |usual_ms: i64, limit_ms: i64| {
        Limit::Learned(limit::Learned {
            limit_ms,
            from_hour: 20,
            usual_ms: Some(usual_ms),
            usual_days: Days::All,
            rising_min: None,
            rising_days: Days::All,
            late_from: None,
            day_out_until: None,
            routine_rate: Some(1.0 / 9.6),
            bound: limit::Bound::Routine,
            min: Duration::from_secs(3 * 3600),
            max: Duration::from_secs(12 * 3600),
        })
    };
    let offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let at = 1_764_000_000_000;
    assert_eq!(
        learned(28 * H, 20 * H).evidence(Language::En, at, offset),
        ". This household often goes longer than 12 h without water (about once every 10 days); on a usual day it goes at most 1 d 4 h without water from around 20:00; the limit is capped at 20 h."
    );
    assert_eq!(
        learned(14 * H + 30 * MIN, 14 * H + 30 * MIN).evidence(Language::En, at, offset),
        ". This household often goes longer than 12 h without water (about once every 10 days); on a usual day it goes at most 14 h 30 min without water from around 20:00, so the limit is 14 h 30 min."
    );
    assert_eq!(
        learned(14 * H + 30 * MIN, 14 * H + 30 * MIN).evidence(Language::ZhCn, at, offset),
        "。该住户常超过12小时不用水（约每10天一次），平时在20:00前后最长约14小时30分钟不用水，报警阈值为14小时30分钟。"
    );
}
