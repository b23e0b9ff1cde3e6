//! The README's first command: `waterwatch --demo` on its embedded defaults
//! (its own broker, a SQLite file, the dashboard on localhost) shows a
//! newcomer the scripted alerts within a minute — the burst, the tap left
//! running, the silent meter and the collapse, found at the household's own
//! learned limit — with a dashboard that answers, and leaves no database
//! behind when stopped.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use waterwatch_e2e::{daemon_binary, free_port};

/// What the demo scripts, as `(household, rule)` of the alert it prints.
const SCRIPTED: [(&str, &str); 4] = [
    ("h0005", "burst"),
    ("h0002", "tap_running"),
    ("h0007", "meter_offline"),
    ("h0003", "inactivity"),
];

/// The collapse is at 19:00 simulated, 31 s after the demo starts, and is
/// found about 4 h later (10 s); the rest come sooner. The margin is for a
/// busy machine.
const ALL_WITHIN: Duration = Duration::from_secs(90);
/// Storing the demo's history before its banner (a few seconds in a debug
/// build), with room for a busy machine.
const STORE_HISTORY_WITHIN: Duration = Duration::from_secs(90);

#[test]
fn the_demo_prints_every_scripted_alert_within_a_minute_and_cleans_up_when_stopped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let http_port = free_port();
    let config = dir.path().join("waterwatch.toml");
    // The only change from the embedded defaults: a free port for the
    // dashboard (tests never take a fixed one).
    std::fs::write(
        &config,
        format!("[http]\nlisten = \"127.0.0.1:{http_port}\"\n"),
    )
    .expect("write the config");
    let log = std::fs::File::create(dir.path().join("demo.log")).expect("create the log");
    let mut demo = Command::new(daemon_binary!())
        .arg("--config")
        .arg(&config)
        .arg("--demo")
        // The demo's database goes to the temp dir: this test's.
        .env("TMPDIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("start waterwatch --demo");
    let stdout = demo.stdout.take().expect("the demo's stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });

    let started = Instant::now();
    let mut printed = Vec::new();
    let mut banner_at = None;
    let mut first_alert_at = None;
    let mut found: Vec<Option<String>> = vec![None; SCRIPTED.len()];
    // Time for the three weeks of history to be stored, then the minute.
    let give_up = STORE_HISTORY_WITHIN + ALL_WITHIN;
    while found.iter().any(Option::is_none) && started.elapsed() < give_up {
        let Ok((at, line)) = lines.recv_timeout(Duration::from_secs(1)) else {
            if let Ok(Some(status)) = demo.try_wait() {
                panic!(
                    "the demo exited ({status}) after printing:\n{}",
                    printed.join("\n")
                );
            }
            continue;
        };
        if line.contains(&format!("dashboard: http://127.0.0.1:{http_port}/")) {
            banner_at = Some(at);
        }
        if line.contains("] ALERT") {
            first_alert_at.get_or_insert(at);
            let words: Vec<&str> = line.split_whitespace().collect();
            for (i, (household, rule)) in SCRIPTED.iter().enumerate() {
                if words.contains(household) && words.contains(rule) && found[i].is_none() {
                    let since_banner = banner_at.map_or(Duration::MAX, |b| at - b);
                    assert!(
                        since_banner <= ALL_WITHIN,
                        "{household}'s {rule} came {since_banner:?} after the banner"
                    );
                    found[i] = Some(line.clone());
                }
            }
        }
        printed.push(line);
    }
    let screen = printed.join("\n");
    eprintln!("the demo printed:\n{screen}");
    let banner_at = banner_at.unwrap_or_else(|| panic!("no dashboard address in:\n{screen}"));
    for ((household, rule), line) in SCRIPTED.iter().zip(&found) {
        assert!(
            line.is_some(),
            "no {rule} alert for {household} in:\n{screen}"
        );
    }
    // A newcomer's first minute shows no false alarm: only the scripted
    // households alert.
    for line in printed.iter().filter(|l| l.contains("] ALERT")) {
        assert!(
            SCRIPTED
                .iter()
                .any(|(household, _)| line.split_whitespace().any(|w| w == *household)),
            "an alert for a household the demo did not script: {line}"
        );
    }
    let first = first_alert_at.expect("an alert") - banner_at;
    assert!(
        first < Duration::from_secs(60),
        "the first alert took {first:?}"
    );
    // The collapse is judged by the household's own rhythm, with why.
    let collapse = found[3].as_deref().unwrap_or_default();
    assert!(
        collapse.contains("this household") && !collapse.contains("still learning"),
        "the collapse alert does not give the household's own limit: {collapse}"
    );

    // The dashboard it printed answers.
    let health = get(http_port, "/healthz");
    assert!(
        health.starts_with("HTTP/1.1 200"),
        "/healthz answered:\n{health}"
    );

    // Ctrl-C (SIGTERM here) stops it cleanly and deletes its database.
    let stopped = Command::new("kill")
        .args(["-TERM", &demo.id().to_string()])
        .status()
        .expect("run kill");
    assert!(stopped.success(), "kill -TERM failed");
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = demo.try_wait().expect("the demo's status") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the demo did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "the demo exited with {status}");
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .expect("the temp dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("waterwatch-demo-"))
        .collect();
    assert!(
        left.is_empty(),
        "the demo left its database behind: {left:?}"
    );
}

/// A plain HTTP/1.1 GET on loopback; the whole response.
fn get(port: u16, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    response
}
