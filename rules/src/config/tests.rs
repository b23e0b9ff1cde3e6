use std::time::Duration;

use super::*;
use crate::rule::continuous_flow::LearnedRun;
use crate::rule::inactivity::LearnedConfig;

#[test]
fn the_shipped_rules_parse_into_the_documented_rules() {
    let rules = RuleSet::default_rules();
    assert_eq!(rules.normalise, NormaliseConfig::default());
    let summary = rules
        .rules
        .iter()
        .map(|r| (r.name.as_str(), r.detector.kind(), r.severity, r.enabled))
        .collect::<Vec<_>>();
    assert_eq!(
        summary,
        [
            ("inactivity", Kind::Inactivity, Severity::Critical, true),
            (
                "tap_running",
                Kind::ContinuousFlow,
                Severity::Critical,
                true
            ),
            (
                "running_toilet",
                Kind::ContinuousFlow,
                Severity::Warning,
                true
            ),
            (
                "leak_trickle",
                Kind::ContinuousFlow,
                Severity::Warning,
                true
            ),
            ("burst", Kind::Spike, Severity::Critical, true),
            ("unusual_volume", Kind::Spike, Severity::Warning, true),
            ("usage_drop", Kind::UsageDrop, Severity::Info, true),
            ("meter_offline", Kind::MeterOffline, Severity::Warning, true),
            ("meter_fault", Kind::MeterFault, Severity::Warning, true),
        ]
    );
    let hours = |h: u64| Duration::from_secs(h * 3600);
    assert_eq!(
        rules.rule("tap_running").map(|r| &r.detector),
        Some(&Detector::ContinuousFlow(ContinuousFlowConfig {
            after: hours(2),
            window: Duration::from_secs(15 * 60),
            min_rate_lpm: 2.0,
            learned: Some(LearnedRun {
                quantile: 0.95,
                margin: 1.5,
                min: Duration::from_secs(45 * 60),
                max: hours(2),
                routine_max: Some(hours(4)),
            }),
            steady: None,
            flow_running: None,
        }))
    );
    assert_eq!(
        rules.rule("usage_drop").map(|r| &r.detector),
        Some(&Detector::UsageDrop(UsageDropConfig {
            recent_days: 4,
            history_days: 28,
            min_history_days: 14,
            quantile: 0.5,
            fraction: 0.6,
            min_drop_l: 30.0,
        }))
    );
    assert_eq!(
        rules.rule("inactivity").map(|r| &r.detector),
        Some(&Detector::Inactivity(InactivityConfig {
            after: hours(12),
            learned: Some(LearnedConfig {
                quantile: 0.999,
                margin: 1.0,
                min: hours(3),
                max: hours(12),
                morning_margin: Some(hours(1)),
                late_morning: Some(hours(2)),
                day_out_until: Some(21 * 60),
                routine_max: Some(hours(20)),
                routine_every: Duration::from_secs(30 * 86_400),
            })
        }))
    );
}

#[test]
fn an_empty_file_is_valid_and_uses_default_normalisation() {
    let rules = RuleSet::parse("empty.toml", "# nothing yet\n");
    assert_eq!(
        rules,
        Ok(RuleSet {
            normalise: NormaliseConfig::default(),
            baseline: Learning::default(),
            rules: vec![],
            households: HashMap::new(),
        })
    );
}

#[test]
fn optional_fields_take_their_defaults_and_flags_are_upper_cased() {
    let text = "[[rule]]\nname = \"f\"\nkind = \"meter_fault\"\nseverity = \"info\"\nflags = [\" leak \"]\nroute = \"grid\"\n\
                [[rule]]\nname = \"c\"\nkind = \"continuous_flow\"\nseverity = \"info\"\nafter = \"1h\"\nwindow = \"1h\"\nenabled = false\n";
    let rules = match RuleSet::parse("x.toml", text) {
        Ok(rules) => rules.rules,
        Err(problems) => panic!("{problems:?}"),
    };
    assert_eq!(
        rules[0].detector,
        Detector::MeterFault(MeterFaultConfig {
            flags: vec!["LEAK".into()]
        })
    );
    assert_eq!(rules[0].route.as_deref(), Some("grid"));
    assert!(rules[0].enabled);
    assert!(!rules[1].enabled);
    assert!(matches!(&rules[1].detector, Detector::ContinuousFlow(c) if c.min_rate_lpm == 0.0));
}

#[test]
fn a_rule_names_a_route_the_daemon_has() {
    let text = "[[rule]]\nname = \"f\"\nkind = \"meter_fault\"\nseverity = \"info\"\nflags = [\"LEAK\"]\nroute = \"check_in\"\n";
    let rules =
        RuleSet::parse_routed("x.toml", text, &["urgent", "check_in"]).expect("known route");
    assert_eq!(rules.rules[0].route.as_deref(), Some("check_in"));

    let problems = RuleSet::parse_routed("x.toml", text, &["urgent", "meters"]).unwrap_err();
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "x.toml:6: rule[0].route: no [[route]] named \"check_in\" in the daemon's config (its routes: urgent, meters); add that route or name one of these"
        ]
    );
    let problems = RuleSet::parse_routed("x.toml", text, &[]).unwrap_err();
    assert!(problems[0].message.contains("it has none"), "{problems:?}");
    // Without the daemon's routes (replay, test-rules) the name is not checked.
    assert!(RuleSet::parse("x.toml", text).is_ok());
}

#[test]
fn a_memory_longer_than_the_counts_can_hold_is_refused() {
    assert!(RuleSet::parse("x.toml", "[baseline]\nhalf_life_days = 180.0\n").is_ok());
    let problems = RuleSet::parse("x.toml", "[baseline]\nhalf_life_days = 200.0\n").unwrap_err();
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "x.toml:2: baseline.half_life_days: must be at most 180 days (got 200): a longer memory would overflow the learned counts; the usual value is 28"
        ]
    );
}
