use super::*;

const MIN: i64 = 60_000;
const H: i64 = 60 * MIN;

#[test]
fn silence_past_the_usual_gap_plus_after_fires() {
    let config = MeterOfflineConfig {
        after: Duration::from_secs(3 * 3600),
    };
    // name, arrivals, now, verdict
    let cases: &[(&str, &[i64], i64, Verdict)] = &[
        ("never heard", &[], 10 * H, Verdict::Unchanged),
        ("one arrival, 3 h later", &[0], 3 * H, Verdict::Clear),
        (
            "one arrival, 3 h 1 min later",
            &[0],
            3 * H + MIN,
            Verdict::Firing,
        ),
        (
            "15-min meter, 3 h 14 min silent",
            &[0, 15 * MIN, 30 * MIN],
            30 * MIN + 3 * H + 14 * MIN,
            Verdict::Clear,
        ),
        (
            "15-min meter, 3 h 16 min silent",
            &[0, 15 * MIN, 30 * MIN],
            30 * MIN + 3 * H + 16 * MIN,
            Verdict::Firing,
        ),
        (
            "daily batches, 20 h silent",
            &[0, 0, 0, 24 * H, 24 * H, 48 * H],
            68 * H,
            Verdict::Clear,
        ),
        (
            "daily batches, 28 h silent",
            &[0, 0, 0, 24 * H, 24 * H, 48 * H],
            76 * H,
            Verdict::Firing,
        ),
        (
            "a first upload of 23 h of readings, 25 h later",
            &[0],
            25 * H,
            Verdict::Clear,
        ),
        (
            "a first upload of 23 h of readings, 27 h later",
            &[0],
            27 * H,
            Verdict::Firing,
        ),
        (
            "one odd long gap does not move the median",
            &[0, H, 2 * H, 30 * H, 31 * H],
            31 * H + 4 * H + MIN,
            Verdict::Firing,
        ),
    ];
    for (name, arrivals, now, want) in cases {
        let mut state = MeterOffline::default();
        for &at in *arrivals {
            state.arrival(at, at);
        }
        if name.starts_with("a first upload") {
            // The upload at 0 carried readings from -23 h on.
            state.arrival(0, -23 * H);
        }
        assert_eq!(state.verdict(*now, &config), *want, "{name}");
    }
}

#[test]
fn the_text_says_since_when_in_english_and_chinese() {
    let config = MeterOfflineConfig {
        after: Duration::from_secs(3 * 3600),
    };
    let mut state = MeterOffline::default();
    for at in [0, 15 * MIN, 30 * MIN] {
        state.arrival(at, at);
    }
    let offset = FixedOffset::east_opt(0).expect("UTC");
    let now = 30 * MIN + 4 * H;
    let en = state.summary(now, &config, Verdict::Firing, offset, text::Language::En);
    assert!(
        en.starts_with("No data from the meter since 00:30 (4 h)"),
        "{en}"
    );
    let zh = state.summary(now, &config, Verdict::Firing, offset, text::Language::ZhCn);
    assert!(
        zh.contains("无数据（4小时）") && zh.contains("每15分钟"),
        "{zh}"
    );
    let back = state.summary(now, &config, Verdict::Clear, offset, text::Language::ZhCn);
    assert!(back.starts_with("水表已恢复上报"), "{back}");
    // A meter beside others in its household.
    let (lang_en, lang_zh) = (text::Language::En, text::Language::ZhCn);
    let en = state.summary_for(now, &config, Verdict::Firing, offset, lang_en, true);
    assert!(
        en.ends_with("beyond that. The household's other meters are still watched."),
        "{en}"
    );
    let zh = state.summary_for(now, &config, Verdict::Firing, offset, lang_zh, true);
    assert!(zh.ends_with("即报警。该户其他水表仍在监测。"), "{zh}");
}

#[test]
fn a_meter_whose_every_reading_moved_the_register_may_publish_only_changes() {
    let config = MeterOfflineConfig {
        after: Duration::from_secs(3 * 3600),
    };
    let offset = FixedOffset::east_opt(0).expect("UTC");
    let say =
        |state: &MeterOffline, lang| state.summary(30 * H, &config, Verdict::Firing, offset, lang);
    let mut state = MeterOffline::default();
    for i in 0..i64::from(ON_CHANGE_READINGS) {
        state.arrival(i * H / 2, i * H / 2);
        state.register(true);
    }
    let en = say(&state, text::Language::En);
    assert!(
        en.contains("beyond that. Every reading it sent moved the register: it may publish only when the value changes, so its silence cannot tell no use from no data; make it publish on a clock. The resident is unmonitored."),
        "{en}"
    );
    let zh = say(&state, text::Language::ZhCn);
    assert!(zh.contains("即报警。其上报的每个读数都有变化"), "{zh}");
    // One reading that did not move it, ever: a meter on a clock.
    state.register(false);
    state.register(true);
    assert!(!say(&state, text::Language::En).contains("register"));
    let stored = serde_json::to_string(&state).unwrap();
    assert!(
        stored.contains("\"still_seen\":true") && !stored.contains("moved"),
        "{stored}"
    );
}

#[test]
fn a_first_upload_says_how_much_it_carried_and_is_forgotten_at_the_next() {
    let config = MeterOfflineConfig {
        after: Duration::from_secs(3 * 3600),
    };
    let offset = FixedOffset::east_opt(0).expect("UTC");
    let mut state = MeterOffline::default();
    // A day's hourly readings arriving as messages 3 ms apart at 02:00.
    let upload = 26 * H;
    for i in 0..24 {
        state.arrival(upload + 3 * i, upload - (23 - i) * H);
    }
    assert_eq!(state.expected_gap_ms(), 23 * H);
    let say = |lang| state.summary(upload + 27 * H, &config, Verdict::Firing, offset, lang);
    let en = say(text::Language::En);
    assert!(
        en.contains("its first upload carried 23 h of readings"),
        "{en}"
    );
    let zh = say(text::Language::ZhCn);
    assert!(zh.contains("首次上报包含23小时的读数"), "{zh}");
    // A week of backlog says no more than a day.
    let mut backlog = MeterOffline::default();
    backlog.arrival(upload, upload - 7 * 24 * H);
    assert_eq!(backlog.expected_gap_ms(), 24 * H);
    // The next upload gives a real gap; the first upload is dropped.
    state.arrival(upload + 24 * H, upload + 23 * H);
    assert_eq!(state.expected_gap_ms(), 24 * H - 69);
    assert_eq!(state.first_upload_ms, None);
}

#[test]
fn only_the_last_eight_gaps_are_kept() {
    let mut state = MeterOffline::default();
    for i in 0..100 {
        state.arrival(i * H, i * H);
    }
    assert_eq!(state.gaps.len(), GAPS_KEPT);
    assert_eq!(state.expected_gap_ms(), H);
}

#[test]
fn the_usual_interval_is_said_to_the_minute_despite_seconds_of_jitter() {
    let config = MeterOfflineConfig {
        after: Duration::from_secs(3 * 3600),
    };
    let offset = FixedOffset::east_opt(0).expect("UTC");
    let said = |arrivals: &[i64]| {
        let mut state = MeterOffline::default();
        for &at in arrivals {
            state.arrival(at, at);
        }
        let now = arrivals[arrivals.len() - 1] + 4 * H;
        state.summary(now, &config, Verdict::Firing, offset, text::Language::En)
    };
    // Arrivals 14 min 58 s to 15 min 1 s apart (median 14 min 59 s):
    // a 15-minute meter.
    let en = said(&[0, 15 * MIN - 2_000, 30 * MIN - 3_000, 45 * MIN - 2_000]);
    assert!(en.contains("it usually reports every 15 min,"), "{en}");
    // Under a minute, seconds are kept.
    let en = said(&[0, 10_000, 20_000, 30_000]);
    assert!(en.contains("it usually reports every 10 s,"), "{en}");
}

#[test]
fn a_replacement_is_expected_as_often_as_the_meter_it_replaced() {
    let config = MeterOfflineConfig {
        after: Duration::from_secs(3 * 3600),
    };
    // The old meter uploaded once a day.
    let mut old = MeterOffline::default();
    for day in 0..4 {
        old.arrival(day * 24 * H, day * 24 * H - H);
    }
    let mut new = MeterOffline::default();
    new.await_first(100 * H, Awaited::Replacement, Some(&old));
    assert_eq!(new.verdict(100 * H + 26 * H, &config), Verdict::Clear);
    assert_eq!(new.verdict(100 * H + 28 * H, &config), Verdict::Firing);
    let utc = FixedOffset::east_opt(0).unwrap();
    let zh = new.summary(128 * H, &config, Verdict::Firing, utc, text::Language::ZhCn);
    assert!(zh.starts_with("该水表自"), "{zh}");
    assert!(zh.contains("旧水表平时每1天上报一次"), "{zh}");
    // Its first upload ends the wait; it is not awaited again.
    new.arrival(110 * H, 109 * H);
    let en = new.summary(
        110 * H + 40 * H,
        &config,
        Verdict::Firing,
        utc,
        text::Language::En,
    );
    assert!(en.starts_with("No data from the meter since"), "{en}");
    // A meter already heard from is not reset by a late replacement record.
    let mut heard = MeterOffline::default();
    heard.arrival(5 * H, 5 * H);
    heard.await_first(100 * H, Awaited::Replacement, Some(&old));
    assert_eq!(heard.verdict(5 * H + 3 * H + MIN, &config), Verdict::Firing);
}
