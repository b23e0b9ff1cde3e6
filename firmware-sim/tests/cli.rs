//! The `meter-sim` binary as a user runs it.

mod common;

use std::process::Command;

use common::TempDir;

fn meter_sim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_meter-sim"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn generate_writes_readings_and_truth_and_says_how_long_it_took() {
    let dir = TempDir::new();
    let out = dir.path().join("ds");
    let output = meter_sim(&[
        "generate",
        "--households",
        "4",
        "--days",
        "2",
        "--interval",
        "1h",
        "--seed",
        "7",
        "--start",
        "2026-02-01T00:00:00+08:00",
        "--scenario",
        "tap:3@+1d,lpm=8",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("wrote 192 readings of 4 households over 2 days"),
        "{stderr}"
    );
    let lines = std::fs::read_to_string(out.join("readings.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 4 * 2 * 24);
    assert!(
        lines.starts_with(r#"{"meter_id":"h0001","ts":"2026-02-01T00:00:00+08:00","total_l":"#)
    );
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("truth.json")).unwrap()).unwrap();
    assert_eq!(truth["events"][0]["kind"], "tap_left_open");
    assert_eq!(truth["events"][0]["start"], "2026-02-02T00:00:00+08:00");
}

#[test]
fn the_same_command_twice_writes_the_same_bytes() {
    let dir = TempDir::new();
    let run = |name: &str| {
        let out = dir.path().join(name);
        let output = meter_sim(&[
            "generate",
            "--households",
            "3",
            "--days",
            "1",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(output.status.success());
        std::fs::read(out.join("readings.jsonl")).unwrap()
    };
    assert_eq!(run("a"), run("b"));
}

#[test]
fn a_bad_scenario_fails_with_a_message_saying_how_to_write_it() {
    let dir = TempDir::new();
    let output = meter_sim(&[
        "generate",
        "--scenario",
        "colapse:3@+2h",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "unknown kind \"colapse\"; expected one of collapse, tap, burst, silent, fault, absence"
        ),
        "{stderr}"
    );
}

#[test]
fn run_against_a_port_with_no_broker_fails_fast_and_says_so() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = meter_sim(&[
        "run",
        "--broker",
        &format!("mqtt://127.0.0.1:{port}"),
        "--households",
        "1",
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot connect to the MQTT broker at 127.0.0.1:{port}"
        )),
        "{stderr}"
    );
}
