use chrono::FixedOffset;

use super::*;
use crate::text::Language;

const S: i64 = 1_000;
const MIN: i64 = 60 * S;
const H: i64 = 60 * MIN;

fn tap() -> ContinuousFlowConfig {
    ContinuousFlowConfig {
        after: Duration::from_secs(2 * 3600),
        window: Duration::from_secs(15 * 60),
        min_rate_lpm: 2.0,
        learned: None,
        steady: None,
        flow_running: None,
    }
}

fn trickle() -> ContinuousFlowConfig {
    ContinuousFlowConfig {
        after: Duration::from_secs(24 * 3600),
        window: Duration::from_secs(3600),
        min_rate_lpm: 0.0,
        learned: None,
        steady: None,
        flow_running: None,
    }
}

/// Regular readings every `step` from 0 to `until`, with `lpm` flowing
/// during `[from, to)` on a register of 1-litre resolution.
fn feed(
    config: &ContinuousFlowConfig,
    step: i64,
    until: i64,
    from: i64,
    to: i64,
    lpm: f64,
) -> Vec<Verdict> {
    let mut state = ContinuousFlow::default();
    let register = |t: i64| (lpm * (t.clamp(from, to) - from) as f64 / MINUTE_MS).floor();
    let mut verdicts = Vec::new();
    let mut t = 0;
    while t + step <= until {
        state.usage(t, t + step, register(t + step) - register(t), config);
        verdicts.push(state.verdict(config, false));
        t += step;
    }
    verdicts
}

fn first_firing(verdicts: &[Verdict], step: i64) -> Option<i64> {
    verdicts
        .iter()
        .position(|v| *v == Verdict::Firing)
        .map(|i| (i as i64 + 1) * step)
}

#[test]
fn runs_fire_after_the_limit_and_only_when_fast_enough() {
    let cases = [
        // name, config, step, until, flow from, flow to, lpm, first firing (ms from 0)
        (
            "tap at 6 L/min, 15-min readings",
            tap(),
            15 * MIN,
            6 * H,
            H,
            6 * H,
            6.0,
            Some(3 * H),
        ),
        (
            "tap at 1 L/min is too slow",
            tap(),
            15 * MIN,
            6 * H,
            H,
            6 * H,
            1.0,
            None,
        ),
        (
            "tap closed after 1 h 45",
            tap(),
            15 * MIN,
            6 * H,
            H,
            2 * H + 45 * MIN,
            6.0,
            None,
        ),
        (
            "trickle, 10-second readings",
            trickle(),
            10 * S,
            26 * H,
            0,
            26 * H,
            0.2,
            Some(24 * H + 5 * MIN),
        ),
        (
            "trickle too slow to fill every hour",
            trickle(),
            10 * S,
            26 * H,
            0,
            26 * H,
            0.01,
            None,
        ),
        (
            "hourly readings with use each hour",
            trickle(),
            H,
            26 * H,
            0,
            26 * H,
            0.05,
            Some(24 * H),
        ),
    ];
    for (name, config, step, until, from, to, lpm, want) in cases {
        let verdicts = feed(&config, step, until, from, to, lpm);
        let got = first_firing(&verdicts, step);
        match (got, want) {
            (Some(g), Some(w)) => assert!(
                (g - w).abs() <= config.window.as_millis() as i64,
                "{name}: {g} vs {w}"
            ),
            _ => assert_eq!(got, want, "{name}"),
        }
    }
}

#[test]
fn a_data_gap_breaks_the_run_and_a_quiet_window_clears() {
    let config = tap();
    let mut state = ContinuousFlow::default();
    let mut t = 0;
    for _ in 0..7 {
        state.usage(t, t + 15 * MIN, 90.0, &config);
        t += 15 * MIN;
    }
    assert_eq!(
        state.verdict(&config, false),
        Verdict::Unchanged,
        "1 h 45 min of use"
    );
    state.usage(t, t + 3 * H, 500.0, &config);
    t += 3 * H;
    for _ in 0..8 {
        state.usage(t, t + 15 * MIN, 90.0, &config);
        t += 15 * MIN;
    }
    assert_eq!(
        state.verdict(&config, false),
        Verdict::Firing,
        "2 h of use after the gap"
    );
    state.usage(t, t + 10 * MIN, 0.0, &config);
    assert_eq!(
        state.verdict(&config, false),
        Verdict::Firing,
        "10 min without use"
    );
    state.usage(t + 10 * MIN, t + 15 * MIN, 0.0, &config);
    assert_eq!(
        state.verdict(&config, false),
        Verdict::Clear,
        "a whole window without use"
    );
}

#[test]
fn state_stays_small_for_any_configuration() {
    let config = ContinuousFlowConfig {
        after: Duration::from_secs(7 * 24 * 3600),
        window: Duration::from_secs(60),
        min_rate_lpm: 0.0,
        learned: None,
        steady: None,
        flow_running: None,
    };
    let mut state = ContinuousFlow::default();
    for i in 0..5_000 {
        state.usage(i * 30 * S, (i + 1) * 30 * S, 1.0, &config);
    }
    assert!(state.buckets.len() <= 10, "{}", state.buckets.len());
}

/// The run's text, fed as in [`feed`], after readings every `step` to `until`.
fn text_after(step: i64, until: i64, lang: Language) -> String {
    let config = tap();
    let mut state = ContinuousFlow::default();
    let mut t = 0;
    while t + step <= until {
        state.usage(t, t + step, 6.0 * step as f64 / MINUTE_MS, &config);
        t += step;
    }
    assert_eq!(state.verdict(&config, false), Verdict::Firing);
    let utc = FixedOffset::east_opt(0).unwrap();
    state.summary(&config, false, Verdict::Firing, Some(step), utc, lang)
}

#[test]
fn a_meter_reading_less_often_than_the_window_is_not_said_to_show_every_window() {
    assert_eq!(
        text_after(15 * MIN, 3 * H, Language::En),
        "Water used in every 15 min since 00:00 (3 h, 6 L/min on average); the limit is 2 h."
    );
    // An hourly meter shows only that some water was used in each hour.
    assert_eq!(
        text_after(H, 3 * H, Language::En),
        "Water used in every reading since 00:00 (one every 1 h; 3 h, 6 L/min on average); the limit is 2 h."
    );
    assert_eq!(
        text_after(H, 3 * H, Language::ZhCn),
        "自00:00起每次读数都有用水（约每1小时一次读数；3小时，平均6升/分钟）；报警阈值为2小时。"
    );
}
