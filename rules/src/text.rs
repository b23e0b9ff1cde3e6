//! Words for alert summaries: durations (`12 h 5 min`, `12小时5分钟`), local
//! clock times (`09:40`, `21:30 yesterday`, `昨天21:30`) and rates
//! (`6.5 L/min`), in English and Simplified Chinese ([`Language`]).

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// The language of a household's alert texts. Inactivity, continuous_flow,
/// spike and usage_drop texts exist in every language; meter_offline and
/// meter_fault speak English for now.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum Language {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl Language {
    /// `en` or `zh-CN` (also `zh`, `zh-Hans`, any case).
    pub fn parse(tag: &str) -> Option<Language> {
        match tag.trim().to_ascii_lowercase().as_str() {
            "en" | "en-gb" | "en-us" => Some(Language::En),
            "zh" | "zh-cn" | "zh-hans" | "zh-hans-cn" => Some(Language::ZhCn),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::ZhCn => "zh-CN",
        }
    }
}

/// A meter's reading interval as an alert says it: to the minute (arrivals
/// jitter by seconds: 14 min 58 s is a meter reporting every 15 min), to the
/// second under a minute.
pub fn interval_ms(ms: i64) -> i64 {
    if ms < MINUTE_MS {
        ms
    } else {
        (ms + MINUTE_MS / 2) / MINUTE_MS * MINUTE_MS
    }
}

/// [`duration_ms`] in `lang`: `2天3小时`, `12小时5分钟`, `45分钟`.
pub fn duration_ms_in(lang: Language, ms: i64) -> String {
    if lang == Language::En {
        return duration_ms(ms);
    }
    let ms = ms.max(0);
    let (d, h, m) = (ms / DAY_MS, ms % DAY_MS / HOUR_MS, ms % HOUR_MS / MINUTE_MS);
    match (d, h, m) {
        (0, 0, 0) => format!("{}秒", ms / 1000),
        (0, 0, m) => format!("{m}分钟"),
        (0, h, 0) => format!("{h}小时"),
        (0, h, m) => format!("{h}小时{m}分钟"),
        (d, 0, _) => format!("{d}天"),
        (d, h, _) => format!("{d}天{h}小时"),
    }
}

/// [`clock`] in `lang`: `09:40`, `昨天21:30`, `11月22日21:30`.
pub fn clock_in(lang: Language, at_ms: i64, reference_ms: i64, offset: FixedOffset) -> String {
    if lang == Language::En {
        return clock(at_ms, reference_ms, offset);
    }
    let (Some(at), Some(reference)) = (local(at_ms, offset), local(reference_ms, offset)) else {
        return format!("{at_ms} ms after the epoch");
    };
    match (reference.date_naive() - at.date_naive()).num_days() {
        0 => at.format("%H:%M").to_string(),
        1 => at.format("昨天%H:%M").to_string(),
        _ => at.format("%-m月%-d日%H:%M").to_string(),
    }
}

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// `2 d 3 h`, `12 h 5 min`, `12 h`, `45 min`, `30 s`; rounded down to the
/// largest two units that matter.
pub fn duration_ms(ms: i64) -> String {
    let ms = ms.max(0);
    let (d, h, m) = (ms / DAY_MS, ms % DAY_MS / HOUR_MS, ms % HOUR_MS / MINUTE_MS);
    match (d, h, m) {
        (0, 0, 0) => format!("{} s", ms / 1000),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// [`duration_ms`] for a configured duration.
pub fn duration(d: std::time::Duration) -> String {
    duration_ms(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The local time of `at_ms` as someone reading it at `reference_ms` would say
/// it: `09:40` the same day, `21:30 yesterday`, `21:30 on 22 Nov` before that.
pub fn clock(at_ms: i64, reference_ms: i64, offset: FixedOffset) -> String {
    let (Some(at), Some(reference)) = (local(at_ms, offset), local(reference_ms, offset)) else {
        return format!("{at_ms} ms after the epoch");
    };
    let days = (reference.date_naive() - at.date_naive()).num_days();
    match days {
        0 => at.format("%H:%M").to_string(),
        1 => at.format("%H:%M yesterday").to_string(),
        _ => at.format("%H:%M on %-d %b").to_string(),
    }
}

/// `6.5 L/min`; whole numbers without a decimal point.
pub fn rate(lpm: f64) -> String {
    // Float noise can leave -0.0 behind; nobody says "-0 L/min".
    let lpm = if lpm > 0.0 { lpm } else { 0.0 };
    if (lpm - lpm.round()).abs() < 0.05 {
        format!("{:.0} L/min", lpm)
    } else {
        format!("{:.1} L/min", lpm)
    }
}

/// [`rate`] in `lang`: `6.5 L/min`, `6.5升/分钟`.
pub fn rate_in(lang: Language, lpm: f64) -> String {
    match lang {
        Language::En => rate(lpm),
        Language::ZhCn => rate(lpm).replace(" L/min", "升/分钟"),
    }
}

/// A configured duration in `lang`.
pub fn duration_in(lang: Language, d: std::time::Duration) -> String {
    duration_ms_in(lang, i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn local(ms: i64, offset: FixedOffset) -> Option<DateTime<FixedOffset>> {
    DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        let cases = [
            (0, "0 s"),
            (30_000, "30 s"),
            (45 * MINUTE_MS, "45 min"),
            (12 * HOUR_MS, "12 h"),
            (12 * HOUR_MS + 5 * MINUTE_MS + 59_000, "12 h 5 min"),
            (DAY_MS + 30 * MINUTE_MS, "1 d"),
            (2 * DAY_MS + 3 * HOUR_MS, "2 d 3 h"),
            (-5, "0 s"),
        ];
        for (ms, want) in cases {
            assert_eq!(duration_ms(ms), want, "{ms}");
        }
    }

    #[test]
    fn clock_times_are_local_and_say_which_day() {
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
        let reference = at("2026-11-24T22:00:00+08:00");
        let cases = [
            ("2026-11-24T01:40:00Z", "09:40"),
            ("2026-11-23T21:30:00+08:00", "21:30 yesterday"),
            ("2026-11-22T21:30:00+08:00", "21:30 on 22 Nov"),
        ];
        for (ts, want) in cases {
            assert_eq!(clock(at(ts), reference, offset), want, "{ts}");
        }
    }

    #[test]
    fn chinese_durations_and_times_read_naturally() {
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
        let reference = at("2026-11-24T22:00:00+08:00");
        let zh = Language::ZhCn;
        assert_eq!(
            duration_ms_in(zh, 12 * HOUR_MS + 5 * MINUTE_MS),
            "12小时5分钟"
        );
        assert_eq!(duration_ms_in(zh, 2 * DAY_MS + 3 * HOUR_MS), "2天3小时");
        assert_eq!(duration_ms_in(zh, 45 * MINUTE_MS), "45分钟");
        assert_eq!(
            clock_in(zh, at("2026-11-23T21:30:00+08:00"), reference, offset),
            "昨天21:30"
        );
        assert_eq!(
            clock_in(zh, at("2026-11-22T21:30:00+08:00"), reference, offset),
            "11月22日21:30"
        );
        assert_eq!(Language::parse("zh-cn"), Some(zh));
        assert_eq!(Language::parse("fr"), None);
    }

    #[test]
    fn rates_drop_needless_decimals() {
        assert_eq!(rate(30.0), "30 L/min");
        assert_eq!(rate(6.54), "6.5 L/min");
        assert_eq!(rate(0.2), "0.2 L/min");
    }
}
