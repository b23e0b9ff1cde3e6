//! The command line as an operator uses it: `replay`, `check-config`,
//! `generate-config`, run against the real binary.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use meter_sim::{Fleet, Scenario, write_dataset};

fn waterwatch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_waterwatch"))
}

/// `waterwatch COMMAND FILES…` run to the end: whether it succeeded, and
/// what it printed.
fn on_files(command: &str, files: &[&Path]) -> (bool, String) {
    let out = waterwatch()
        .arg(command)
        .args(files)
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `waterwatch run --config CONFIG`, which must refuse to start: what it
/// said on stderr.
fn refused_start(config: &Path) -> String {
    let out = waterwatch()
        .arg("run")
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "off")
        .output()
        .expect("runs");
    assert!(!out.status.success(), "it started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn rules_file() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/default.toml")
}

fn at(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).expect("a time")
}

#[test]
fn replay_prints_one_contract_line_per_alert_event_and_a_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let start = at("2026-01-05T00:00:00+08:00");
    let scenarios = vec![
        Scenario::Collapse {
            household: 1,
            at: at("2026-01-06T09:30:00+08:00"),
        },
        Scenario::Burst {
            household: 2,
            at: at("2026-01-06T14:00:00+08:00"),
            lpm: 40.0,
        },
        Scenario::MeterSilent {
            household: 3,
            at: at("2026-01-06T10:00:00+08:00"),
        },
    ];
    let mut fleet = Fleet::new(5, 11, start, Duration::from_secs(15 * 60), scenarios);
    write_dataset(&mut fleet, at("2026-01-08T00:00:00+08:00"), dir.path()).expect("dataset");

    let out = waterwatch()
        .arg("replay")
        .arg("--rules")
        .arg(rules_file())
        .arg("--input")
        .arg(dir.path().join("readings.jsonl"))
        .output()
        .expect("replay runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("replayed "), "{stderr}");

    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    let keys = [
        "ts",
        "household",
        "meter_id",
        "rule",
        "kind",
        "event",
        "severity",
        "summary",
    ];
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // Field order is part of the contract.
        let positions: Vec<usize> = keys
            .iter()
            .map(|k| line.find(&format!("\"{k}\":")).expect("every key present"))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{line}");
    }
    let fired = |household: &str, kind: &str| {
        events
            .iter()
            .filter(|e| e["household"] == household && e["kind"] == kind && e["event"] == "fired")
            .count()
    };
    assert_eq!(fired("h0001", "inactivity"), 1, "{events:#?}");
    // The burst fires the physical rate rule once; the same hour's volume may
    // also be unusual for the household (`unusual_volume`, also a spike).
    let burst = events
        .iter()
        .filter(|e| e["household"] == "h0002" && e["rule"] == "burst" && e["event"] == "fired")
        .count();
    assert_eq!(burst, 1, "{events:#?}");
    assert!(fired("h0002", "spike") <= 2, "{events:#?}");
    assert_eq!(fired("h0003", "meter_offline"), 1, "{events:#?}");
    assert_eq!(
        fired("h0003", "inactivity"),
        0,
        "a silent meter is never inactivity"
    );
    assert_eq!(
        fired("h0004", "inactivity") + fired("h0005", "inactivity"),
        0
    );
    // The collapse was at 09:30 on the 6th; the 12 h rule fires 12 h after
    // the last use before it, within one reporting interval.
    let inactivity = events
        .iter()
        .find(|e| e["household"] == "h0001" && e["kind"] == "inactivity")
        .expect("an inactivity event");
    let ts = at(inactivity["ts"].as_str().expect("ts"));
    assert!(
        ts > at("2026-01-06T18:30:00+08:00") && ts <= at("2026-01-06T21:45:00+08:00"),
        "{ts}"
    );
}

#[test]
fn replay_stops_at_until() {
    let dir = tempfile::tempdir().expect("temp dir");
    let start = at("2026-01-05T00:00:00+08:00");
    let scenarios = vec![Scenario::Burst {
        household: 1,
        at: at("2026-01-05T12:00:00+08:00"),
        lpm: 40.0,
    }];
    let mut fleet = Fleet::new(1, 3, start, Duration::from_secs(15 * 60), scenarios);
    write_dataset(&mut fleet, at("2026-01-06T00:00:00+08:00"), dir.path()).expect("dataset");
    let out = waterwatch()
        .args(["replay", "--until", "2026-01-05T11:00:00+08:00", "--rules"])
        .arg(rules_file())
        .arg("--input")
        .arg(dir.path().join("readings.jsonl"))
        .output()
        .expect("replay runs");
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn replay_counts_bad_lines_and_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        "{\"meter_id\":\"m1\",\"ts\":\"2026-01-05T00:00:00+08:00\",\"total_l\":1}\nnot json\n\
         {\"meter_id\":\"m1\",\"ts\":\"2026-01-05T00:15:00+08:00\",\"total_l\":2}\n",
    )
    .expect("write");
    let out = waterwatch()
        .arg("replay")
        .arg("--rules")
        .arg(rules_file())
        .arg("--input")
        .arg(&input)
        .output()
        .expect("replay runs");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("replayed 2 readings of 1 meters"),
        "{stderr}"
    );
    assert!(stderr.contains("1 lines rejected"), "{stderr}");
    assert!(stderr.contains("line 2: malformed payload"), "{stderr}");
}

#[test]
fn generate_config_prints_a_config_that_check_config_accepts() {
    let out = waterwatch().arg("generate-config").output().expect("runs");
    assert!(out.status.success());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ww.toml");
    std::fs::write(&path, &out.stdout).expect("write");
    let (ok, stdout) = on_files("check-config", &[&path]);
    assert!(ok, "{stdout}");
    assert!(stdout.contains(": OK"));
}

#[test]
fn check_config_reports_every_problem_per_file_and_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "").expect("write");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[store]\nurl = \"mysql://db\"\n\n[http]\nsession_idle = \"5s\"\n",
    )
    .expect("write");
    let bad_rules = dir.path().join("rules.toml");
    std::fs::write(
        &bad_rules,
        "[[rule]]\nname = \"x\"\nkind = \"telepathy\"\nseverity = \"warning\"\n",
    )
    .expect("write");

    let (ok, stdout) = on_files("check-config", &[&good, &bad, &bad_rules, &rules_file()]);
    assert!(!ok);
    assert!(
        stdout.contains(&format!("{}: OK", good.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}: FAILED", bad.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}:2: store.url:", bad.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}:5: http.session_idle:", bad.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}: FAILED", bad_rules.display())),
        "{stdout}"
    );
    assert!(stdout.contains("telepathy"), "{stdout}");
    assert!(stdout.contains("default.toml: OK"), "{stdout}");
}

#[test]
fn a_taken_broker_port_is_refused_in_one_clear_line() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("ww.toml");
    std::fs::write(
        &config,
        format!(
            "[broker]\nlisten = \"127.0.0.1:{port}\"\n[store]\nurl = \"sqlite://{}\"\n[http]\nlisten = \"127.0.0.1:0\"\n",
            dir.path().join("ww.db").display()
        ),
    )
    .expect("write");
    let stderr = refused_start(&config);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("already in use"), "{stderr}");
}

#[test]
fn a_rule_naming_a_route_the_config_lacks_is_refused_at_check_and_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"inactivity_check\"\nkind = \"inactivity\"\nseverity = \"warning\"\n\
         after = \"3h\"\nroute = \"check-in\"\n",
    )
    .expect("write");
    let config = dir.path().join("ww.toml");
    std::fs::write(
        &config,
        format!(
            "[broker]\nlisten = \"127.0.0.1:0\"\n[store]\nurl = \"sqlite://{}\"\n[http]\nlisten = \"127.0.0.1:0\"\n\
             [rules]\nfile = \"rules.toml\"\n\
             [[route]]\nname = \"check_in\"\nask_resident = \"30m\"\nsteps = [{{ after = \"0m\", notify = [\"family\"] }}]\n",
            dir.path().join("ww.db").display()
        ),
    )
    .expect("write");
    let expected = format!(
        "{}:6: rule[0].route: no [[route]] named \"check-in\" in the daemon's config (its routes: check_in)",
        rules.display()
    );
    let (ok, stdout) = on_files("check-config", &[&config]);
    assert!(!ok);
    assert!(stdout.contains(&expected), "{stdout}");
    // Alone, the rules file cannot know the daemon's routes: it is fine.
    let (ok, stdout) = on_files("check-config", &[&rules]);
    assert!(ok, "{stdout}");

    let stderr = refused_start(&config);
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn the_shipped_rule_tests_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/tests");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .expect("rules/tests")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".rules-test.toml"))
        .collect();
    assert!(!files.is_empty(), "no rule test files in {}", dir.display());
    let files: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
    let (ok, stdout) = on_files("test-rules", &files);
    assert!(ok, "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}

#[test]
fn a_rule_test_that_expects_the_wrong_thing_fails_and_says_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("wrong.rules-test.toml");
    std::fs::write(
        &file,
        format!(
            "rules = \"{}\"\n\n[[test]]\nname = \"quiet for an hour\"\nstart = \"2026-01-05T06:00:00+08:00\"\n\
             interval = \"15m\"\nphases = [{{ for = \"1h\", litres = 0.0 }}]\n\n  [[test.expect]]\n  \
             rule = \"inactivity\"\n  event = \"fired\"\n",
            rules_file().display()
        ),
    )
    .expect("write");
    let (ok, stdout) = on_files("test-rules", &[&file]);
    assert!(!ok);
    assert!(stdout.contains("FAILED: quiet for an hour"), "{stdout}");
    assert!(stdout.contains("expected inactivity fired"), "{stdout}");
    assert!(
        stdout.contains("test-rules: 0 passed, 1 failed"),
        "{stdout}"
    );
}

#[test]
fn a_rule_test_file_with_mistakes_names_each_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bad.rules-test.toml");
    std::fs::write(
        &file,
        "[[test]]\nname = \"a\"\nstart = \"yesterday\"\ninterval = \"15m\"\nphases = []\n\n\
         [[test]]\nname = \"b\"\nstart = \"2026-01-05T06:00:00+08:00\"\ninterval = \"soon\"\nphases = []\n\n\
         [[test]]\nname = \"c\"\nstart = \"2026-01-05T06:00:00+08:00\"\ninterval = \"15m\"\nphases = []\n\
         confirmed_fine = [\"later\"]\n",
    )
    .expect("write");
    let (ok, stdout) = on_files("test-rules", &[&file]);
    assert!(!ok);
    assert!(
        stdout.contains(":1: test[0]: start `yesterday`"),
        "{stdout}"
    );
    assert!(stdout.contains(":10: test[1].interval"), "{stdout}");
    assert!(
        stdout.contains(":13: test[2]: confirmed_fine: `later` is neither +DURATION nor RFC 3339"),
        "{stdout}"
    );
}
