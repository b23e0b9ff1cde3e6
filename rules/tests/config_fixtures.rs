//! One fixture per way a rules file can be wrong, asserting the exact message
//! an operator sees (file, line, key, what to do).

use waterwatch_rules::RuleSet;

/// The problems `RuleSet::parse` reports for a fixture, one per line.
fn problems(name: &str, text: &str) -> Vec<String> {
    match RuleSet::parse(name, text) {
        Ok(_) => vec!["OK".to_owned()],
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

macro_rules! fixture {
    ($test:ident, $file:literal, [$($want:literal),+ $(,)?]) => {
        #[test]
        fn $test() {
            let got = problems($file, include_str!(concat!("fixtures/", $file)));
            assert_eq!(got, [$($want),+]);
        }
    };
}

fixture!(
    a_syntax_error_names_its_line,
    "bad-syntax.toml",
    [
        "bad-syntax.toml:2: TOML syntax error: invalid basic string, expected `\"`; fix the syntax on this line"
    ]
);

fixture!(
    an_unknown_kind_lists_the_allowed_kinds,
    "bad-unknown-kind.toml",
    [
        "bad-unknown-kind.toml:3: rule[0].kind: unknown kind \"flood\"; use one of: inactivity, continuous_flow, spike, usage_drop, meter_offline, meter_fault"
    ]
);

fixture!(
    usage_drop_and_learned_flow_and_spike_parameters_are_checked,
    "bad-usage-drop.toml",
    [
        "bad-usage-drop.toml:5: rule[0].recent_days: must be at least 1 (got 0); the usual value is 4",
        "bad-usage-drop.toml:7: rule[0].min_history_days: must be between 1 and history_days (40) (got 50); the usual value is 14",
        "bad-usage-drop.toml:8: rule[0].fraction: must be between 0 and 1, exclusive (got 1.5); the usual value is 0.5",
        "bad-usage-drop.toml:9: rule[0].min_drop_l: must not be negative (got -3); the usual value is 30",
        "bad-usage-drop.toml:10: rule[0].after: not used by kind \"usage_drop\"; remove it",
        "bad-usage-drop.toml:19: rule[1].quantile: must be between 0.5 and 1, exclusive (got 0.2); the usual value is 0.9",
        "bad-usage-drop.toml:20: rule[1].min: the minimum (3 h) is longer than the maximum (2 h); make min at most max",
        "bad-usage-drop.toml:29: rule[2].margin: must be at least 1 (got 0.5); the usual value is 1.5",
        "bad-usage-drop.toml:30: rule[2].min_rate_lpm: the minimum (12 L/min) is above the maximum (10 L/min); make it lower",
        "bad-usage-drop.toml:38: rule[3].max_rate_lpm: only used by a learned rule; add learned = true or remove it"
    ]
);

fixture!(
    a_duplicate_rule_name_points_at_the_first_use,
    "bad-duplicate-name.toml",
    [
        "bad-duplicate-name.toml:9: rule[1].name: duplicate rule name \"burst\", already used by rule[0] (line 2); give every rule a unique name"
    ]
);

fixture!(
    a_zero_duration_is_rejected,
    "bad-zero-duration.toml",
    [
        "bad-zero-duration.toml:5: rule[0].after: must be a positive duration (got \"0s\"); write e.g. \"12h\" or \"90m\""
    ]
);

fixture!(
    a_negative_duration_is_rejected,
    "bad-negative-duration.toml",
    [
        "bad-negative-duration.toml:5: rule[0].after: must be a positive duration (got \"-3h\"); write e.g. \"12h\" or \"90m\""
    ]
);

fixture!(
    a_duration_in_words_is_rejected,
    "bad-duration-text.toml",
    [
        "bad-duration-text.toml:5: rule[0].after: \"twelve hours\" is not a duration (expected number at 0); write e.g. \"12h\" or \"90m\""
    ]
);

fixture!(
    a_window_longer_than_after_is_rejected,
    "bad-window-longer-than-after.toml",
    [
        "bad-window-longer-than-after.toml:6: rule[0].window: the window (3 h) is longer than after (2 h); make window at most as long as after"
    ]
);

fixture!(
    the_reported_flow_keys_are_checked_and_kept_to_their_kinds,
    "bad-reported-flow.toml",
    [
        "bad-reported-flow.toml:7: rule[0].flow_running: flow_running (3 h) is longer than after (2 h), so it could never fire first; make it shorter, e.g. flow_running = \"1h\"",
        "bad-reported-flow.toml:15: rule[1].flow_running: \"an hour\" is not a duration (expected number at 0); write e.g. \"12h\" or \"90m\"",
        "bad-reported-flow.toml:16: rule[1].reported_flow: not used by kind \"continuous_flow\"; remove it",
        "bad-reported-flow.toml:24: rule[2].reported_flow: invalid type: string \"yes\", expected a boolean",
        "bad-reported-flow.toml:32: rule[3].flow_running: not used by kind \"spike\"; remove it"
    ]
);

fixture!(
    a_negative_min_rate_is_rejected,
    "bad-negative-min-rate.toml",
    [
        "bad-negative-min-rate.toml:7: rule[0].min_rate_lpm: must not be negative (got -1); use 0 to count any use"
    ]
);

fixture!(
    a_zero_spike_rate_is_rejected,
    "bad-zero-rate.toml",
    [
        "bad-zero-rate.toml:5: rule[0].rate_lpm: must be greater than zero (got 0); a burst pipe runs at 30 L/min or more"
    ]
);

fixture!(
    an_unknown_field_lists_the_known_ones,
    "bad-unknown-field.toml",
    [
        "bad-unknown-field.toml:6: rule[0].threshold: unknown field `threshold`, expected one of `name`, `kind`, `severity`, `enabled`, `route`, `after`, `window`, `min_rate_lpm`, `max_rate_lpm`, `rate_lpm`, `flags`, `learned`, `quantile`, `margin`, `min`, `max`, `morning_margin`, `late_morning`, `day_out_until`, `routine_max`, `routine_every`, `steady`, `flow_running`, `reported_flow`, `recent_days`, `history_days`, `min_history_days`, `fraction`, `min_drop_l`"
    ]
);

fixture!(
    a_missing_parameter_says_what_the_kind_needs,
    "bad-missing-field.toml",
    [
        "bad-missing-field.toml:1: rule[0].window: missing; kind \"continuous_flow\" needs it, e.g. window = \"15m\""
    ]
);

fixture!(
    a_parameter_the_kind_does_not_use_is_rejected,
    "bad-unused-field.toml",
    ["bad-unused-field.toml:6: rule[0].flags: not used by kind \"inactivity\"; remove it"]
);

fixture!(
    a_rule_without_a_name_is_rejected,
    "bad-missing-name.toml",
    ["bad-missing-name.toml:1: rule[0]: missing field `name`"]
);

fixture!(
    an_unknown_severity_lists_the_allowed_ones,
    "bad-severity.toml",
    [
        "bad-severity.toml:4: rule[0].severity: unknown variant `urgent`, expected one of `info`, `warning`, `critical`"
    ]
);

fixture!(
    a_value_of_the_wrong_type_is_rejected,
    "bad-type.toml",
    ["bad-type.toml:5: rule[0].after: invalid type: integer `12`, expected a string"]
);

fixture!(
    an_empty_flag_list_is_rejected,
    "bad-empty-flags.toml",
    [
        "bad-empty-flags.toml:5: rule[0].flags: empty; list at least one flag, e.g. flags = [\"LEAK\"]"
    ]
);

fixture!(
    a_non_positive_normalise_limit_is_rejected,
    "bad-normalise.toml",
    [
        "bad-normalise.toml:2: normalise.max_rate_lpm: must be greater than zero (got 0); the usual value is 200"
    ]
);

fixture!(
    an_unknown_normalise_field_is_rejected,
    "bad-normalise-field.toml",
    [
        "bad-normalise-field.toml:3: normalise.reset_drop: unknown field `reset_drop`, expected `max_rate_lpm` or `reset_drop_l`"
    ]
);

fixture!(
    an_unknown_section_is_rejected,
    "bad-unknown-section.toml",
    [
        "bad-unknown-section.toml:1: rules: unknown section; expected one of `normalise`, `baseline`, `rule`, `household`"
    ]
);

fixture!(
    errors_in_different_rules_are_all_reported,
    "bad-many.toml",
    [
        "bad-many.toml:3: normalise.max_rate_lpm: must be greater than zero (got -5); the usual value is 200",
        "bad-many.toml:9: rule[0].after: \"12 hours please\" is not a duration (expected number at 9); write e.g. \"12h\" or \"90m\"",
        "bad-many.toml:16: rule[1].window: the window (3 h) is longer than after (2 h); make window at most as long as after",
        "bad-many.toml:17: rule[1].min_rate_lpm: must not be negative (got -2); use 0 to count any use",
        "bad-many.toml:24: rule[2].windw: unknown field `windw`, expected one of `name`, `kind`, `severity`, `enabled`, `route`, `after`, `window`, `min_rate_lpm`, `max_rate_lpm`, `rate_lpm`, `flags`, `learned`, `quantile`, `margin`, `min`, `max`, `morning_margin`, `late_morning`, `day_out_until`, `routine_max`, `routine_every`, `steady`, `flow_running`, `reported_flow`, `recent_days`, `history_days`, `min_history_days`, `fraction`, `min_drop_l`",
        "bad-many.toml:27: rule[3].name: duplicate rule name \"inactivity\", already used by rule[0] (line 6); give every rule a unique name",
        "bad-many.toml:34: rule[4].kind: unknown kind \"fault\"; use one of: inactivity, continuous_flow, spike, usage_drop, meter_offline, meter_fault",
    ]
);

fixture!(
    learned_inactivity_parameters_are_checked_together,
    "bad-learned.toml",
    [
        "bad-learned.toml:2: baseline.half_life_days: must be greater than zero (got 0); the usual value is 28",
        "bad-learned.toml:3: baseline.longest_normal_gap: \"forever\" is not a duration (expected number at 0); write e.g. \"12h\" or \"90m\"",
        "bad-learned.toml:5: baseline.weekend_min_days: must be at least 1 (got 0); the usual value is 8",
        "bad-learned.toml:13: rule[0].quantile: must be between 0.5 and 1, exclusive (got 1.5); the usual value is 0.999",
        "bad-learned.toml:14: rule[0].margin: must be at least 1 (got 0.8); the usual value is 1.0",
        "bad-learned.toml:15: rule[0].min: the minimum (14 h) is longer than the maximum (12 h); make min at most max",
        "bad-learned.toml:22: rule[1].margin: only used by a learned rule; add learned = true or remove it",
    ]
);

fixture!(
    day_out_and_late_morning_are_checked,
    "bad-day-out.toml",
    [
        "bad-day-out.toml:7: rule[0].late_morning: 7h is more than 6 h; the morning check would wait into the afternoon (the usual value is \"2h\", \"off\" turns it off)",
        "bad-day-out.toml:8: rule[0].day_out_until: \"9pm\" is not a time of day; write it as \"HH:MM\" in the household's local time, e.g. \"21:00\", or \"off\"",
        "bad-day-out.toml:16: rule[1].late_morning: \"soon\" is not a duration (expected number at 0); write e.g. \"12h\" or \"90m\"",
        "bad-day-out.toml:17: rule[1].day_out_until: \"24:30\" is not a time of day; write it as \"HH:MM\" in the household's local time, e.g. \"21:00\", or \"off\"",
        "bad-day-out.toml:24: rule[2].day_out_until: only used by a learned rule; add learned = true or remove it",
    ]
);

fixture!(
    routine_max_and_routine_every_are_checked,
    "bad-routine.toml",
    [
        "bad-routine.toml:7: rule[0].routine_max: 10 h is not longer than max (12 h), so it could never apply; make it longer, e.g. \"20h\", or \"off\"",
        "bad-routine.toml:8: rule[0].routine_every: 6 h is less than a day; say how many days may pass between long stretches, e.g. \"30d\"",
        "bad-routine.toml:16: rule[1].routine_max: 2 d is more than a day; a whole day without water warrants a visit whatever the household's routine",
        "bad-routine.toml:23: rule[2].routine_max: only used by a learned rule; add learned = true or remove it",
        "bad-routine.toml:32: rule[3].routine_max: 1 h is not longer than max (2 h), so it could never apply; make it longer, e.g. \"4h\", or \"off\"",
        "bad-routine.toml:33: rule[3].routine_every: not used by kind \"continuous_flow\"; remove it",
        "bad-routine.toml:41: rule[4].routine_max: only used by a learned rule; add learned = true or remove it",
    ]
);

fixture!(
    the_weekend_threshold_needs_the_weekend_model,
    "bad-weekend.toml",
    [
        "bad-weekend.toml:4: baseline.weekend_min_days: only used with weekend = true; remove it or set weekend = true",
    ]
);

fixture!(
    household_overrides_are_checked,
    "bad-household.toml",
    [
        "bad-household.toml:6: household[1].id: household \"h0042\" is listed twice; merge its limits into one [[household]]",
        "bad-household.toml:12: household[2].inactivity_min: the minimum (5 h) is longer than the maximum (4 h); make it shorter",
        "bad-household.toml:16: household[3].id: no limits given; add inactivity_after, inactivity_min, inactivity_max, inactivity_late_morning, inactivity_day_out_until or usage_drop_fraction",
        "bad-household.toml:20: household[4].inactivity_maximum: unknown field `inactivity_maximum`, expected one of `id`, `note`, `inactivity_after`, `inactivity_min`, `inactivity_max`, `inactivity_late_morning`, `inactivity_day_out_until`, `usage_drop_fraction`",
        "bad-household.toml:25: household[5].inactivity_day_out_until: \"evening\" is not a time of day; write it as \"HH:MM\" in the household's local time, e.g. \"21:00\", or \"off\"",
        "bad-household.toml:26: household[5].inactivity_late_morning: 8h is more than 6 h; the morning check would wait into the afternoon (the usual value is \"2h\", \"off\" turns it off)",
    ]
);

#[test]
fn the_shipped_default_rules_parse() {
    let text = include_str!("../default.toml");
    assert_eq!(problems("default.toml", text), ["OK"]);
    assert_eq!(
        RuleSet::parse("default.toml", text),
        Ok(RuleSet::default_rules())
    );
}

#[test]
fn the_shipped_check_in_rule_is_valid_once_uncommented_and_needs_its_route() {
    let text = include_str!("../default.toml");
    let start = text
        .find("# [[rule]]\n# name = \"inactivity_check\"")
        .expect("the commented check-in rule");
    let end = start + text[start..].find("\n\n").expect("a blank line after it");
    let block: String = text[start..end]
        .lines()
        .map(|l| l.strip_prefix("# ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let uncommented = format!("{}{block}{}", &text[..start], &text[end..]);
    let rules = RuleSet::parse_routed("default.toml", &uncommented, &["urgent", "check_in"])
        .expect("valid with a check_in route");
    let check = rules.rule("inactivity_check").expect("the check-in rule");
    assert_eq!(check.route.as_deref(), Some("check_in"));
    let problems = RuleSet::parse_routed("default.toml", &uncommented, &["urgent"]).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].key, "rule[1].route");
}

#[test]
fn every_fixture_is_covered_by_a_test() {
    let source = include_str!("config_fixtures.rs");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).unwrap()
    {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !source.contains(&format!("\"{name}\",")) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "fixtures without a test: {missing:?}");
}
