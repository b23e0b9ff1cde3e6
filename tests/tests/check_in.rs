//! The two-stage inactivity check through the real daemon process, broker
//! and SMTP server: a rules file whose check-in rule names the `check_in`
//! route. A home quiet for 4 hours asks its resident only, who answers
//! "I'm OK" with the link in the email; a batch revealing 13 hours of quiet
//! asks the resident (the check-in fired first, in event time) and sends
//! the grid worker straight away (the urgent rule moved the case to its
//! route in the same batch); the family, on the check-in route's later
//! step, is told of neither.

#[path = "../../daemon/tests/support_channels/mod.rs"]
mod support_channels;

use std::time::Duration;

use chrono::Utc;
use support_channels::{SmtpSink, aiosmtpd_missing};
use waterwatch_e2e::broker::TestBroker;
use waterwatch_e2e::daemon::{DaemonProcess, LINK_SECRET, config, links_and_mail};
use waterwatch_e2e::publish::Publisher;
use waterwatch_e2e::{eventually, free_port, quiet_batch};

/// The shipped rules and a check-in after 3 h without water (a fixed limit:
/// these households are new), routed to ask the resident first.
fn rules() -> String {
    format!(
        "{}\n[[rule]]\nname = \"inactivity_check\"\nkind = \"inactivity\"\nseverity = \"warning\"\n\
         after = \"3h\"\nroute = \"check_in\"\n",
        waterwatch_rules::config::DEFAULT_RULES_TOML
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_in_asks_the_resident_who_answers_and_a_long_quiet_sends_the_grid_worker() {
    if let Some(why) = aiosmtpd_missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let broker = TestBroker::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let smtp = SmtpSink::start(free_port(), &dir.path().join("mail"));
    let http_port = free_port();
    std::fs::write(dir.path().join("rules.toml"), rules()).expect("write the rules");
    let mut text = config(&broker.url(), http_port, &dir.path().join("ww.db"), None);
    text.push_str("\n[rules]\nfile = \"rules.toml\"\n");
    text.push_str(&links_and_mail(http_port, smtp.port));
    text.push_str(
        r#"
[[household]]
id = "mei"
grid = "grid-1"
meters = ["quiet-3"]

[[household]]
id = "hua"
grid = "grid-1"
meters = ["quiet-13"]

[[route]]
name = "urgent"
kinds = ["inactivity"]
min_severity = "critical"
steps = [{ after = "0m", notify = ["grid_worker"] }]

[[route]]
name = "check_in"
ask_resident = "30m"
steps = [{ after = "0m", notify = ["family"] }]

[[contact]]
name = "Li Wei"
role = "grid_worker"
grids = ["grid-1"]
reach = [{ channel = "mail", to = "li.wei@example.org" }]

[[contact]]
name = "Zhang Mei"
role = "resident"
households = ["mei"]
reach = [{ channel = "mail", to = "mei@example.org" }]

[[contact]]
name = "Zhang Jun"
role = "family"
households = ["mei", "hua"]
reach = [{ channel = "mail", to = "jun@example.org" }]

[[contact]]
name = "Chen Hua"
role = "resident"
households = ["hua"]
reach = [{ channel = "mail", to = "hua@example.org" }]
"#,
    );
    let mut daemon = DaemonProcess::start(
        waterwatch_e2e::daemon_binary!(),
        dir.path(),
        http_port,
        &text,
        &[LINK_SECRET],
    );
    daemon.wait_ready().await;

    let mut meters = Publisher::connect(broker.port, "check-in-meters").await;
    meters
        .reading("quiet-3", quiet_batch("quiet-3", Utc::now(), 4))
        .await;
    meters
        .reading("quiet-13", quiet_batch("quiet-13", Utc::now(), 13))
        .await;
    meters.flush().await;

    let mails = eventually(Duration::from_secs(30), "three emails", async || {
        let mails = smtp.messages();
        (mails.len() >= 3).then_some(mails)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = if smtp.messages().len() > mails.len() {
        smtp.messages()
    } else {
        mails
    };
    let mut to: Vec<&str> = mails.iter().filter_map(|m| m["to"].as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        ["hua@example.org", "li.wei@example.org", "mei@example.org"],
        "both residents and the 13 h home's grid worker, not the family: {mails:#?}"
    );
    let worker = mails
        .iter()
        .find(|m| m["to"] == "li.wei@example.org")
        .expect("the grid worker's email");
    assert!(
        worker["key"]
            .as_str()
            .is_some_and(|k| k.contains("case_opened-1r1")),
        "the urgent route's first step, after the move: {worker:#?}"
    );

    // Mei answers with the link in her email.
    let asked = mails
        .iter()
        .find(|m| m["to"] == "mei@example.org")
        .expect("Mei's email");
    let body = asked["body"].as_str().unwrap_or_default();
    let link = waterwatch_e2e::link_in(body);
    let http = waterwatch_e2e::http();
    let used = http.post(&link).send().await.expect("POST the link");
    assert_eq!(used.status(), 200);
    assert!(
        used.text()
            .await
            .expect("page")
            .contains("Nobody else will be called"),
    );
    let listed: serde_json::Value = http
        .get(format!("{}/api/v1/cases", daemon.base_url()))
        .send()
        .await
        .expect("GET cases")
        .json()
        .await
        .expect("JSON");
    let resolution = |household: &str| {
        listed["cases"]
            .as_array()
            .and_then(|cases| cases.iter().find(|c| c["household"] == household))
            .map(|c| c["resolution"].clone())
    };
    assert_eq!(
        resolution("mei"),
        Some(serde_json::json!("fine")),
        "{listed:#}"
    );
    assert_eq!(
        resolution("hua"),
        Some(serde_json::Value::Null),
        "{listed:#}"
    );
    let audit = daemon.logs();
    assert!(!audit.contains("panicked"), "{audit}");
    daemon.terminate();
}
