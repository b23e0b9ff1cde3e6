//! What the pages show, worked out from the store and the running rules:
//! each household's state, its thresholds in words, and its hourly use
//! against its usual band.

use std::collections::HashMap;

use waterwatch_rules::rule::inactivity::Limit;
use waterwatch_rules::{Detector, Language, MeterState, RuleSet};

use super::i18n::{self, Texts};
use crate::store::dashboard::{CaseRow, Household, Meter, Sample, StateSummary};
use crate::suppress::Suppression;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// A household's state at a glance, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    CaseOpen,
    Acknowledged,
    Silent,
    Away,
    Learning,
    Fine,
    /// Consent withdrawn: not monitored.
    Withdrawn,
}

impl State {
    pub const ALL: [State; 7] = [
        State::CaseOpen,
        State::Acknowledged,
        State::Silent,
        State::Away,
        State::Learning,
        State::Fine,
        State::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::CaseOpen => "case_open",
            State::Acknowledged => "acknowledged",
            State::Silent => "silent",
            State::Away => "away",
            State::Learning => "learning",
            State::Fine => "fine",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn label(self, t: &Texts) -> &'static str {
        match self {
            State::CaseOpen => t.case_open,
            State::Acknowledged => t.acknowledged,
            State::Silent => t.silent,
            State::Away => t.away,
            State::Learning => t.learning,
            State::Fine => t.fine,
            State::Withdrawn => t.withdrawn,
        }
    }
}

/// One household's line on the overview.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub household: Household,
    pub state: State,
    /// Why, in words: "I'm going: Li Wei, 12 min ago".
    pub detail: String,
    /// The open case, if any.
    pub case_id: Option<i64>,
    /// Since when the state holds (for ordering: oldest case first).
    pub since_ms: Option<i64>,
    /// The household's UTC offset, from its newest reading.
    pub utc_offset_s: i64,
}

/// Everything the statuses are worked out from.
pub struct Facts<'a> {
    pub households: &'a [Household],
    pub meters: &'a [Meter],
    /// Open cases.
    pub cases: &'a [CaseRow],
    pub suppressions: &'a [Suppression],
    pub rules: &'a RuleSet,
    pub now_ms: i64,
    pub lang: Language,
}

/// The engine state stored for a meter, if it was loaded and can be read.
pub fn meter_state(meter: &Meter) -> Option<MeterState> {
    serde_json::from_str(meter.engine_state.as_deref()?).ok()
}

/// What the overview needs of a meter's engine state: the stored summary,
/// or (for state saved before the summary columns existed) the state read.
pub fn summary(meter: &Meter) -> Option<StateSummary> {
    meter
        .summary
        .or_else(|| meter_state(meter).as_ref().map(StateSummary::of))
}

/// The status of each household, in overview order: open cases (oldest
/// first), then those being checked, silent meters, away, learning, fine.
pub fn statuses(facts: &Facts<'_>) -> Vec<Status> {
    let t = i18n::texts(facts.lang);
    let mut by_household: HashMap<&str, Vec<&Meter>> = HashMap::new();
    for meter in facts.meters {
        by_household
            .entry(&meter.household)
            .or_default()
            .push(meter);
    }
    let mut out: Vec<Status> = facts
        .households
        .iter()
        .map(|h| {
            let meters = by_household.get(h.id.as_str()).cloned().unwrap_or_default();
            status(facts, t, h, &meters)
        })
        .collect();
    out.sort_by(|a, b| {
        (a.state, a.since_ms.unwrap_or(i64::MAX), &a.household.id).cmp(&(
            b.state,
            b.since_ms.unwrap_or(i64::MAX),
            &b.household.id,
        ))
    });
    out
}

fn status(facts: &Facts<'_>, t: &Texts, h: &Household, meters: &[&Meter]) -> Status {
    let lang = facts.lang;
    let now = facts.now_ms;
    let utc_offset_s = meters
        .iter()
        .filter_map(|m| m.utc_offset_s)
        .next()
        .unwrap_or(0);
    let base = |state, detail: String, case_id, since_ms| Status {
        household: h.clone(),
        state,
        detail,
        case_id,
        since_ms,
        utc_offset_s,
    };
    if h.withdrawn {
        return base(State::Withdrawn, t.withdrawn_detail.to_owned(), None, None);
    }
    if let Some(case) = facts
        .cases
        .iter()
        .find(|c| c.household == h.id && c.resolved_ms.is_none())
    {
        let what: Vec<&str> = case.kinds.iter().map(|k| i18n::kind(lang, k)).collect();
        return match (&case.acknowledged_by, case.acknowledged_ms) {
            (Some(by), Some(at)) => base(
                State::Acknowledged,
                format!("{}: {by}, {}", t.im_going, i18n::ago(lang, now - at)),
                Some(case.id),
                Some(at),
            ),
            _ => base(
                State::CaseOpen,
                format!(
                    "{} · {}",
                    what.join(", "),
                    i18n::ago(lang, now - case.opened_ms)
                ),
                Some(case.id),
                Some(case.opened_ms),
            ),
        };
    }
    let summaries: Vec<StateSummary> = meters.iter().filter_map(|m| summary(m)).collect();
    let offline = summaries.iter().any(|s| s.offline);
    let last_seen = meters.iter().filter_map(|m| m.last_seen_ms).max();
    if offline || last_seen.is_none() {
        let detail = match last_seen {
            Some(at) => format!("{} {}", t.last_seen, i18n::ago(lang, now - at)),
            None => format!("{} {}", t.last_seen, t.never),
        };
        return base(State::Silent, detail, None, last_seen);
    }
    if let Some(away) = facts.suppressions.iter().find(|s| {
        s.away
            && s.household.as_deref() == Some(h.id.as_str())
            && s.starts.timestamp_millis() <= now
            && s.ends.timestamp_millis() > now
    }) {
        let until = local_time(away.ends.timestamp_millis(), utc_offset_s, "%m-%d %H:%M");
        return base(
            State::Away,
            format!("{} {until} · {}", t.away_until, away.reason),
            None,
            Some(away.starts.timestamp_millis()),
        );
    }
    let learning = summaries
        .iter()
        .find(|s| s.learning(&facts.rules.baseline))
        .map(|s| s.baseline_days);
    if let Some(days) = learning {
        return base(
            State::Learning,
            format!(
                "{} {days}/{}",
                t.learning_days, facts.rules.baseline.learning_days
            ),
            None,
            None,
        );
    }
    let detail = last_seen
        .map(|at| format!("{} {}", t.last_seen, i18n::ago(lang, now - at)))
        .unwrap_or_default();
    base(State::Fine, detail, None, None)
}

/// `ms` as local time at `offset_s` in `format`.
pub fn local_time(ms: i64, offset_s: i64, format: &str) -> String {
    let offset = chrono::FixedOffset::east_opt(offset_s as i32)
        .unwrap_or(chrono::FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()));
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&offset)
        .format(format)
        .to_string()
}

/// The household's thresholds in words, one line per rule (learned
/// inactivity limits grouped by the hours they apply from).
pub fn thresholds(
    rules: &RuleSet,
    household: &str,
    state: Option<&MeterState>,
    offset_s: i64,
    now_ms: i64,
    lang: Language,
) -> Vec<String> {
    let mut lines = Vec::new();
    for rule in rules.rules.iter().filter(|r| r.enabled) {
        match &rule.detector {
            Detector::Inactivity(config) => {
                let config = rules.inactivity_for(household, config);
                lines.extend(inactivity_lines(
                    &config, rules, state, offset_s, now_ms, lang,
                ));
            }
            _ => lines.extend(super::describe::rule_in_words(rule, lang)),
        }
    }
    lines
}

/// The learned inactivity limit for stretches starting at each hour of the
/// household's day, as runs of hours with the same limit.
fn inactivity_lines(
    config: &waterwatch_rules::rule::inactivity::InactivityConfig,
    rules: &RuleSet,
    state: Option<&MeterState>,
    offset_s: i64,
    now_ms: i64,
    lang: Language,
) -> Vec<String> {
    let Some(state) = state else {
        let after = Limit::for_rule(config);
        return vec![sentence(lang, after.ms(), 0, 24)];
    };
    let local_midnight = {
        let local = now_ms + offset_s * 1000;
        local - local.rem_euclid(DAY_MS) - offset_s * 1000
    };
    let limits: Vec<i64> = (0..24)
        .map(|h| {
            let limit = Limit::for_household(
                config,
                state.baseline(),
                &rules.baseline,
                local_midnight + h * HOUR_MS,
                offset_s as i32,
            );
            readable(limit.ms())
        })
        .collect();
    group_hours(&limits)
        .into_iter()
        .map(|run| match run {
            Run::Limit { from, to, limit_ms } => sentence(lang, limit_ms, from, to),
            Run::Deadline { from, to, minute } => deadline_sentence(lang, minute, from, to),
        })
        .collect()
}

/// A limit rounded as a reader needs it: 10 minutes under 2 h, else 30.
fn readable(ms: i64) -> i64 {
    let step = if ms < 2 * HOUR_MS { 600_000 } else { 1_800_000 };
    (ms + step / 2) / step * step
}

/// Consecutive hours of the day that share one limit, or one deadline (the
/// morning check: a stretch starting an hour later may last an hour less).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Limit {
        from: usize,
        to: usize,
        limit_ms: i64,
    },
    Deadline {
        from: usize,
        to: usize,
        minute: i64,
    },
}

fn group_hours(limits: &[i64]) -> Vec<Run> {
    let deadline = |h: usize| (h as i64 * 60 + limits[h] / 60_000).rem_euclid(24 * 60);
    let mut runs = Vec::new();
    let mut from = 0;
    while from < limits.len() {
        let same_limit = (from + 1..limits.len())
            .take_while(|&h| limits[h] == limits[from])
            .count();
        let same_deadline = (from + 1..limits.len())
            .take_while(|&h| deadline(h) == deadline(from))
            .count();
        if same_deadline > same_limit {
            let to = from + 1 + same_deadline;
            runs.push(Run::Deadline {
                from,
                to,
                minute: deadline(from),
            });
            from = to;
        } else {
            let to = from + 1 + same_limit;
            runs.push(Run::Limit {
                from,
                to,
                limit_ms: limits[from],
            });
            from = to;
        }
    }
    runs
}

fn sentence(lang: Language, limit_ms: i64, from_h: usize, to_h: usize) -> String {
    let d = i18n::duration(lang, limit_ms);
    match (lang, from_h == 0 && to_h == 24) {
        (Language::En, true) => format!("Alerts after {d} without water, at any time of day."),
        (Language::En, false) => {
            format!("{from_h:02}:00–{to_h:02}:00: alerts after {d} without water from then.")
        }
        (Language::ZhCn, true) => format!("任何时段连续{d}不用水即报警。"),
        (Language::ZhCn, false) => {
            format!("{from_h:02}:00–{to_h:02}:00开始：连续{d}不用水即报警。")
        }
    }
}

fn deadline_sentence(lang: Language, minute: i64, from_h: usize, to_h: usize) -> String {
    let at = format!("{:02}:{:02}", minute / 60, minute % 60);
    match lang {
        Language::En => format!(
            "{from_h:02}:00–{to_h:02}:00 (night): alerts if there is still no water by {at}."
        ),
        Language::ZhCn => format!("{from_h:02}:00–{to_h:02}:00（夜间）：到{at}仍未用水即报警。"),
    }
}

/// Hourly use and the usual band for each hour of the last `days` days.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageSeries {
    /// Local midnight (as UTC ms) of the first day shown.
    pub start_ms: i64,
    pub utc_offset_s: i64,
    /// Litres per hour; `None` where no reading covers the hour.
    pub hours: Vec<Option<f64>>,
    /// Per hour of day: the 10th and 90th percentile of use over the weeks
    /// before; `None` where those weeks say nothing.
    pub band: [Option<(f64, f64)>; 24],
}

/// Spans longer than this between readings are not spread over the hours:
/// when in them the water was used cannot be known.
const LONGEST_SPREAD_MS: i64 = 6 * HOUR_MS;
/// A delta above this is a counter glitch, not use.
const LARGEST_PLAUSIBLE_L_PER_HOUR: f64 = 2_000.0;

/// `samples` (all of a household's meters, each in time order) turned into
/// hourly use for the `days` days ending today, and the usual band from the
/// `band_days` before them.
pub fn usage_series(meters: &[Vec<Sample>], now_ms: i64, days: i64, band_days: i64) -> UsageSeries {
    let offset_s = meters
        .iter()
        .filter_map(|s| s.last())
        .map(|s| s.utc_offset_s)
        .next()
        .unwrap_or(0);
    let local = now_ms + offset_s * 1000;
    let today = local - local.rem_euclid(DAY_MS) - offset_s * 1000;
    let start_ms = today - (days - 1) * DAY_MS;
    let band_start = start_ms - band_days * DAY_MS;
    let total_hours = ((days + band_days) * 24) as usize;
    let mut litres = vec![0.0f64; total_hours];
    let mut covered = vec![false; total_hours];
    for samples in meters {
        for pair in samples.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let span = b.ts_ms - a.ts_ms;
            let delta = b.total_l - a.total_l;
            let hours = span as f64 / HOUR_MS as f64;
            if span <= 0
                || span > LONGEST_SPREAD_MS
                || delta < 0.0
                || delta > LARGEST_PLAUSIBLE_L_PER_HOUR * hours.max(1.0)
            {
                continue;
            }
            spread(
                &mut litres,
                &mut covered,
                band_start,
                a.ts_ms,
                b.ts_ms,
                delta,
            );
        }
    }
    let at = |i: usize| covered[i].then_some(litres[i]);
    let band_hours = (band_days * 24) as usize;
    let hours = (band_hours..total_hours).map(at).collect();
    let mut band = [None; 24];
    for (h, slot) in band.iter_mut().enumerate() {
        let mut values: Vec<f64> = (0..band_days as usize)
            .filter_map(|d| at(d * 24 + h))
            .collect();
        if values.len() >= 3 {
            values.sort_by(f64::total_cmp);
            *slot = Some((quantile(&values, 0.1), quantile(&values, 0.9)));
        }
    }
    UsageSeries {
        start_ms,
        utc_offset_s: offset_s,
        hours,
        band,
    }
}

/// Spread `litres` used between `from` and `to` evenly over the hours they
/// overlap (hours counted from `origin`).
fn spread(out: &mut [f64], covered: &mut [bool], origin: i64, from: i64, to: i64, litres: f64) {
    let span = (to - from) as f64;
    let mut t = from;
    while t < to {
        let index = (t - origin).div_euclid(HOUR_MS);
        let hour_end = origin + (index + 1) * HOUR_MS;
        let end = hour_end.min(to);
        if index >= 0
            && let Some(slot) = out.get_mut(index as usize)
        {
            *slot += litres * (end - t) as f64 / span;
            covered[index as usize] = true;
        }
        t = end;
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    let w = position - low as f64;
    sorted[low] * (1.0 - w) + sorted[high] * w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ts_ms: i64, total_l: f64) -> Sample {
        Sample {
            ts_ms,
            total_l,
            utc_offset_s: 0,
        }
    }

    #[test]
    fn use_is_spread_over_the_hours_between_readings_and_glitches_are_skipped() {
        let day = 40 * DAY_MS;
        let now = day + 12 * HOUR_MS;
        let samples = vec![
            sample(day + 6 * HOUR_MS, 100.0),
            // 30 L over 07:00-08:00 and 08:00-09:00 (two hours, a 2 h span).
            sample(day + 8 * HOUR_MS, 130.0),
            // A counter reset: no use shown for 08:00-09:00.
            sample(day + 9 * HOUR_MS, 5.0),
            // A 10 h gap: unknown, not zero.
            sample(day + 19 * HOUR_MS, 50.0),
        ];
        let series = usage_series(&[samples], now, 1, 0);
        assert_eq!(series.start_ms, day);
        assert_eq!(series.hours.len(), 24);
        assert_eq!(series.hours[6], Some(15.0));
        assert_eq!(series.hours[7], Some(15.0));
        assert_eq!(series.hours[8], None);
        assert_eq!(series.hours[12], None);
    }

    #[test]
    fn hours_are_grouped_by_limit_or_by_morning_deadline() {
        let hour = HOUR_MS;
        // 00-06: the morning check (no water by 08:00); 06-22: 3 h; 22-24: 10 h.
        let mut limits: Vec<i64> = (0..6).map(|h| (8 - h) * hour).collect();
        limits.extend(std::iter::repeat_n(3 * hour, 16));
        limits.extend([10 * hour, 10 * hour]);
        let runs = group_hours(&limits);
        assert_eq!(
            runs,
            [
                Run::Deadline {
                    from: 0,
                    to: 6,
                    minute: 8 * 60
                },
                Run::Limit {
                    from: 6,
                    to: 22,
                    limit_ms: 3 * hour
                },
                Run::Limit {
                    from: 22,
                    to: 24,
                    limit_ms: 10 * hour
                },
            ]
        );
        assert_eq!(readable(3 * hour + 14 * 60_000), 3 * hour);
        assert_eq!(readable(3 * hour + 16 * 60_000), 3 * hour + 30 * 60_000);
        assert_eq!(readable(47 * 60_000), 50 * 60_000);
        assert_eq!(
            deadline_sentence(Language::En, 8 * 60 + 20, 0, 6),
            "00:00–06:00 (night): alerts if there is still no water by 08:20."
        );
    }

    #[test]
    fn the_band_needs_three_days_of_an_hour() {
        let mut samples = Vec::new();
        for d in 0..5 {
            let day = (30 + d) * DAY_MS;
            samples.push(sample(day + 7 * HOUR_MS, d as f64 * 100.0));
            samples.push(sample(
                day + 8 * HOUR_MS,
                d as f64 * 100.0 + 10.0 + d as f64,
            ));
        }
        let series = usage_series(&[samples], 35 * DAY_MS + HOUR_MS, 1, 5);
        let (low, high) = series.band[7].unwrap();
        assert!(low >= 10.0 && high <= 14.0 && low < high, "{low} {high}");
        assert_eq!(series.band[9], None);
    }
}
