//! A case reaches a grid worker by email, in their language, through the
//! daemon's outbox: real broker, daemon process and SMTP server process.

#[path = "../../daemon/tests/support_channels/mod.rs"]
mod support_channels;

use std::time::Duration;

use chrono::Utc;
use support_channels::{SmtpSink, aiosmtpd_missing};
use waterwatch_e2e::broker::TestBroker;
use waterwatch_e2e::daemon::{DaemonProcess, LINK_SECRET, config, links_and_mail};
use waterwatch_e2e::publish::Publisher;
use waterwatch_e2e::{eventually, free_port, quiet_batch};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_home_reaches_its_grid_worker_by_email_in_chinese() {
    if let Some(why) = aiosmtpd_missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let broker = TestBroker::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let smtp = SmtpSink::start(free_port(), &dir.path().join("mail"));
    let http_port = free_port();
    let mut text = config(&broker.url(), http_port, &dir.path().join("ww.db"), None);
    text.push_str(&links_and_mail(http_port, smtp.port));
    text.push_str(
        r#"
[[household]]
id = "zhang"
name = "Zhang Mei"
grid = "grid-1"
meters = ["quiet-9"]

[[contact]]
name = "Li Wei"
role = "grid_worker"
grids = ["grid-1"]
language = "zh-CN"
utc_offset = "+08:00"
reach = [{ channel = "mail", to = "li.wei@example.org" }]

[[contact]]
name = "Wang Fang"
role = "grid_worker"
grids = ["grid-2"]
reach = [{ channel = "mail", to = "wang@example.org" }]
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

    let mut meters = Publisher::connect(broker.port, "contacts-meters").await;
    meters
        .reading("quiet-9", quiet_batch("quiet-9", Utc::now(), 14))
        .await;
    meters.flush().await;

    let mail = eventually(
        Duration::from_secs(30),
        "the email to the grid worker",
        async || smtp.messages().into_iter().next(),
    )
    .await;
    assert_eq!(mail["to"], "li.wei@example.org", "{mail:#?}");
    let subject = mail["subject"].as_str().unwrap_or_default();
    assert!(
        subject.contains("需要查看") && subject.contains("zhang"),
        "{mail:#?}"
    );
    let body = mail["body"].as_str().unwrap_or_default();
    assert!(body.contains("zhang"), "{mail:#?}");
    assert!(
        mail["key"].as_str().is_some_and(|k| k.contains("Li Wei")),
        "{mail:#?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        smtp.messages().len(),
        1,
        "only the grid's own worker is told: {:#?}",
        smtp.messages()
    );

    // The link in the message: opening it only asks; the button acknowledges.
    let link = waterwatch_e2e::link_in(body);
    let http = waterwatch_e2e::http();
    let page = http.get(&link).send().await.expect("GET the link");
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .expect("page")
            .contains("I'm going (Li Wei)")
    );
    let cases = || async {
        let listed: serde_json::Value = http
            .get(format!("{}/api/v1/cases", daemon.base_url()))
            .send()
            .await
            .expect("GET cases")
            .json()
            .await
            .expect("JSON");
        listed["cases"][0].clone()
    };
    assert!(
        cases().await["acknowledged_by"].is_null(),
        "opening the link changes nothing"
    );
    let used = http.post(&link).send().await.expect("POST the link");
    assert_eq!(used.status(), 200);
    assert!(
        used.text()
            .await
            .expect("page")
            .contains("Thank you, Li Wei")
    );
    assert_eq!(cases().await["acknowledged_by"], "Li Wei");
    let again = http.post(&link).send().await.expect("POST the link again");
    assert!(
        again
            .text()
            .await
            .expect("page")
            .contains("nothing changed")
    );
    let forged = format!("{}x", link);
    assert_eq!(http.post(&forged).send().await.expect("POST").status(), 403);
    daemon.terminate();
}
