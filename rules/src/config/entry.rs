//! [`RuleEntry`]: a `[[rule]]` table as written (its field docs are the
//! manual), and which fields each kind uses.

use serde::Deserialize;

use crate::event::{Kind, Severity};

/// One `[[rule]]` table as written. Which of the optional fields a rule needs
/// depends on its `kind`; a field its kind does not use is an error.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleEntry {
    /// Unique name; alert events carry it as `rule`.
    pub name: String,
    /// What the rule detects: `inactivity` (no water used for `after`),
    /// `continuous_flow` (use in every `window` for `after`, at `min_rate_lpm`
    /// or more), `spike` (`rate_lpm` or more over `window`), `meter_offline`
    /// (no data for `after` past the meter's usual reporting interval) or
    /// `meter_fault` (the meter reports one of `flags`).
    pub kind: String,
    /// `info`, `warning` or `critical`.
    pub severity: Severity,
    /// A disabled rule never fires. Default `true`.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// The daemon's `[[route]]` that a case opened (or made more severe) by
    /// this rule's alerts follows; without it, the first route that takes the
    /// alert's kind and severity.
    #[serde(default)]
    pub route: Option<String>,
    /// A duration such as `"12h"` or `"90m"`: how long before the alert fires.
    /// Used by `inactivity`, `continuous_flow`, `meter_offline`.
    #[serde(default)]
    pub after: Option<String>,
    /// A duration such as `"15m"`: for `continuous_flow`, a stretch this long
    /// without use ends the run; for `spike`, the rate is averaged over it.
    /// At most `after`.
    #[serde(default)]
    pub window: Option<String>,
    /// `continuous_flow`: the average rate (L/min) over the run's last
    /// `after` (or learned limit) must be at least this. Default 0 (any use).
    /// Learned `spike`: the learned limit is never lower. Default 1.0.
    #[serde(default)]
    pub min_rate_lpm: Option<f64>,
    /// Learned `spike` only: the learned limit is never higher. Default `rate_lpm`.
    #[serde(default)]
    pub max_rate_lpm: Option<f64>,
    /// `spike` only: the flow rate (L/min) that fires the alert.
    #[serde(default)]
    pub rate_lpm: Option<f64>,
    /// `meter_fault` only: the meter status flags (any case) that fire the
    /// alert, e.g. `["LEAK", "BURST", "TAMPER", "LOW_BATTERY"]`.
    #[serde(default)]
    pub flags: Option<Vec<String>>,
    /// `inactivity`, `continuous_flow`, `spike`: once the household is past
    /// its learning period (see `[baseline]`), judge by its own history:
    /// inactivity by how long it usually goes without water starting at that
    /// time of day, continuous_flow by how long its runs of use usually last,
    /// spike by its usual busiest `window`. Until then the fixed `after` /
    /// `rate_lpm` applies. Default `false` (always fixed).
    #[serde(default)]
    pub learned: Option<bool>,
    /// Learned rules: the share of days whose stretches, runs or windows
    /// count as usual, in (0.5, 1); defaults inactivity 0.999,
    /// continuous_flow 0.9, spike 0.95. `usage_drop`: the quantile of the
    /// history's daily use taken as the household's level, in (0, 1),
    /// default 0.5 (the median).
    #[serde(default)]
    pub quantile: Option<f64>,
    /// Learned rules: the usual value is multiplied by this, at least 1.
    /// Defaults inactivity 1.0 (the quantile is extrapolated already),
    /// continuous_flow and spike 1.5.
    #[serde(default)]
    pub margin: Option<f64>,
    /// Learned `inactivity` and `continuous_flow`: the limit is never
    /// shorter. Defaults "3h" and "30m".
    #[serde(default)]
    pub min: Option<String>,
    /// Learned `inactivity` and `continuous_flow`: the limit is never
    /// longer. Default `after`, so a learned rule is never later than the
    /// fixed one.
    #[serde(default)]
    pub max: Option<String>,
    /// Learned `inactivity` only: for a quiet stretch that began at night
    /// (19:00–06:00), fire this long after the household's usual rising time
    /// (its `quantile`) if no water has been used yet. Default "1h"; "off"
    /// turns the morning check off.
    #[serde(default)]
    pub morning_margin: Option<String>,
    /// Learned `inactivity` only: a morning this much later than the
    /// household's usual (median) rising is still normal, even before the
    /// household has shown one, so the morning check waits at least this
    /// long past the median rising (then `morning_margin`). Default "2h";
    /// "off": only the household's own mornings count.
    #[serde(default)]
    pub late_morning: Option<String>,
    /// Learned `inactivity` only: a quiet stretch that began in the
    /// household's morning (from half an hour before its usual rising to five
    /// hours after) may be a whole day out, so its limit runs at least until
    /// this local time, never past `max`. Default "21:00"; "off".
    #[serde(default)]
    pub day_out_until: Option<String>,
    /// Learned `inactivity`: a household that often goes longer than
    /// `max` without water (at least once every `routine_every`) is held to
    /// its own usual longest stretch from each time of day, up to this,
    /// instead of `max`. Learned `continuous_flow`: a household whose usual
    /// runs (times `margin`) are longer than `max` is held to its own, up
    /// to this. Default "off".
    #[serde(default)]
    pub routine_max: Option<String>,
    /// Learned `inactivity` only: how often quiet stretches longer than
    /// `max` must come for `routine_max` to apply. Default "30d".
    #[serde(default)]
    pub routine_every: Option<String>,
    /// `continuous_flow` only: also fire when the flow has been steady —
    /// each reading interval (or `window`) using the same litres as the one
    /// before, give or take a quarter, four or more in a row — for this long,
    /// e.g. "1h": a running toilet or a dripping tap, not a person.
    #[serde(default)]
    pub steady: Option<String>,
    /// `continuous_flow` only: also fire when the meter has reported water
    /// flowing (`flow_lpm` above zero, confirmed by the register) at every
    /// reading for this long and at least four readings in a row, e.g.
    /// "1h": people's use comes and goes, a running toilet does not. A
    /// reading without a flow value, or a data gap, ends the run; meters that
    /// report no flow are judged by the register alone.
    #[serde(default)]
    pub flow_running: Option<String>,
    /// `spike` only: also fire at a reading whose reported flow
    /// (`flow_lpm`) is at or above `rate_lpm`, when the interval before it
    /// used at least half a minute of that flow (so one odd sample, or a
    /// meter reporting flow in the wrong unit, does not fire). Catches a
    /// burst that began just before a reading at that reading. Default
    /// `false`; meters that report no flow are judged by volume alone.
    #[serde(default)]
    pub reported_flow: Option<bool>,
    /// `usage_drop` only: how many recent days (with use) must all be low.
    /// Default 4.
    #[serde(default)]
    pub recent_days: Option<u32>,
    /// `usage_drop` only: the days before the recent ones that set the
    /// household's level. Default 28; `2 × recent_days + history_days` is at most 42.
    #[serde(default)]
    pub history_days: Option<u32>,
    /// `usage_drop` only: days with known use needed in the history before
    /// the rule can fire (it has no fixed fallback). Default 14.
    #[serde(default)]
    pub min_history_days: Option<u32>,
    /// `usage_drop` only: fire when each recent day's use is below this share
    /// of the level, in (0, 1). Default 0.5.
    #[serde(default)]
    pub fraction: Option<f64>,
    /// `usage_drop` only: ... and their mean at least this many litres a day
    /// below it, so a small household's small drop stays quiet. Default 30.
    #[serde(default)]
    pub min_drop_l: Option<f64>,
}

fn enabled_by_default() -> bool {
    true
}

/// The kinds this version can run, in the order messages list them.
pub(super) const KINDS: [Kind; 6] = [
    Kind::Inactivity,
    Kind::ContinuousFlow,
    Kind::Spike,
    Kind::UsageDrop,
    Kind::MeterOffline,
    Kind::MeterFault,
];

/// The kind-specific fields of a `[[rule]]`, and whether `entry` has each.
pub(super) fn fields(entry: &RuleEntry) -> [(&'static str, bool); 24] {
    [
        ("after", entry.after.is_some()),
        ("window", entry.window.is_some()),
        ("min_rate_lpm", entry.min_rate_lpm.is_some()),
        ("max_rate_lpm", entry.max_rate_lpm.is_some()),
        ("rate_lpm", entry.rate_lpm.is_some()),
        ("flags", entry.flags.is_some()),
        ("learned", entry.learned.is_some()),
        ("quantile", entry.quantile.is_some()),
        ("margin", entry.margin.is_some()),
        ("min", entry.min.is_some()),
        ("max", entry.max.is_some()),
        ("morning_margin", entry.morning_margin.is_some()),
        ("late_morning", entry.late_morning.is_some()),
        ("day_out_until", entry.day_out_until.is_some()),
        ("routine_max", entry.routine_max.is_some()),
        ("routine_every", entry.routine_every.is_some()),
        ("steady", entry.steady.is_some()),
        ("flow_running", entry.flow_running.is_some()),
        ("reported_flow", entry.reported_flow.is_some()),
        ("recent_days", entry.recent_days.is_some()),
        ("history_days", entry.history_days.is_some()),
        ("min_history_days", entry.min_history_days.is_some()),
        ("fraction", entry.fraction.is_some()),
        ("min_drop_l", entry.min_drop_l.is_some()),
    ]
}

/// The fields only a learned rule of `kind` uses.
pub(super) fn learned_only(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Inactivity => &[
            "quantile",
            "margin",
            "min",
            "max",
            "morning_margin",
            "late_morning",
            "day_out_until",
            "routine_max",
            "routine_every",
        ],
        Kind::ContinuousFlow => &["quantile", "margin", "min", "max", "routine_max"],
        Kind::Spike => &["quantile", "margin", "min_rate_lpm", "max_rate_lpm"],
        _ => &[],
    }
}

/// Whether `kind` uses `field`: `None` if not, `Some(None)` if optional,
/// `Some(Some(example))` if required.
pub(super) fn usage_of(kind: Kind, field: &str) -> Option<Option<&'static str>> {
    const USAGE_DROP: [&str; 6] = [
        "recent_days",
        "history_days",
        "min_history_days",
        "quantile",
        "fraction",
        "min_drop_l",
    ];
    match (kind, field) {
        (Kind::Inactivity, "after") => Some(Some("after = \"12h\"")),
        (Kind::ContinuousFlow, "after") => Some(Some("after = \"2h\"")),
        (Kind::ContinuousFlow, "window") => Some(Some("window = \"15m\"")),
        (Kind::ContinuousFlow, "min_rate_lpm" | "steady" | "flow_running") => Some(None),
        (Kind::Spike, "reported_flow") => Some(None),
        (Kind::Spike, "rate_lpm") => Some(Some("rate_lpm = 30.0")),
        (Kind::Spike, "window") => Some(Some("window = \"10m\"")),
        (Kind::Inactivity | Kind::ContinuousFlow | Kind::Spike, "learned") => Some(None),
        (k, f) if learned_only(k).contains(&f) => Some(None),
        (Kind::UsageDrop, f) if USAGE_DROP.contains(&f) => Some(None),
        (Kind::MeterOffline, "after") => Some(Some("after = \"3h\"")),
        (Kind::MeterFault, "flags") => Some(Some("flags = [\"LEAK\", \"BURST\"]")),
        _ => None,
    }
}
