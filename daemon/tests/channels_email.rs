//! The email channel against a real SMTP server process (aiosmtpd).

mod support_channels;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use support_channels::{SmtpSink, aiosmtpd_missing, free_port};
use waterwatch::notify::email::{Email, EmailConfig};
use waterwatch::notify::{Message, Outcome};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T13:45:00Z")
        .unwrap()
        .to_utc()
}

fn channel(port: u16, timeout: &str) -> Email {
    let config: EmailConfig = toml::from_str(&format!(
        "name = \"mail\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n\
         from = \"水表关爱 <alerts@waterwatch.example>\"\ntimeout = \"{timeout}\"\n"
    ))
    .unwrap();
    assert!(config.problems().is_empty(), "{:?}", config.problems());
    Email::new(&config, None).unwrap()
}

fn message(to: Option<&str>) -> Message {
    Message {
        to: to.map(str::to_owned),
        subject: "需要查看：王秀英（h0317）".into(),
        text: "王秀英（h0317）自09:40起未用水（5小时10分钟）。请尽快上门查看：https://ww.example.cn/c/7Kx2Qp".into(),
        body: serde_json::json!({}),
    }
}

macro_rules! require_aiosmtpd {
    () => {
        if let Some(why) = aiosmtpd_missing() {
            eprintln!("skipping: {why}");
            return;
        }
    };
}

#[tokio::test]
async fn a_message_arrives_with_subject_recipient_and_chinese_text_intact() {
    require_aiosmtpd!();
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(free_port(), dir.path());
    let email = channel(sink.port, "10s");
    let sent = message(Some("李敏 <grid.li@example.cn>"));
    assert_eq!(
        email.send("case-7/grid.li/1", &sent, now()).await,
        Outcome::Delivered
    );
    let mail = sink.messages();
    assert_eq!(mail.len(), 1);
    let mail = &mail[0];
    assert_eq!(mail["subject"], sent.subject.as_str());
    assert_eq!(mail["to"], "李敏 <grid.li@example.cn>");
    assert_eq!(mail["from"], "水表关爱 <alerts@waterwatch.example>");
    assert_eq!(mail["body"].as_str().unwrap().trim_end(), sent.text);
    assert_eq!(mail["content_type"], "text/plain");
    assert_eq!(mail["charset"], "utf-8");
    assert_eq!(mail["key"], "case-7/grid.li/1");
    let id = mail["message_id"].as_str().unwrap();
    assert!(
        id.starts_with('<') && id.ends_with("@waterwatch.example>"),
        "{id}"
    );
}

#[tokio::test]
async fn the_same_key_gives_the_same_message_id_on_every_retry() {
    require_aiosmtpd!();
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(free_port(), dir.path());
    let email = channel(sink.port, "10s");
    let sent = message(Some("grid.li@example.cn"));
    for key in ["k-1", "k-1", "k-2"] {
        assert_eq!(email.send(key, &sent, now()).await, Outcome::Delivered);
    }
    let mail = sink.messages();
    let mut ids: Vec<_> = mail.iter().map(|m| m["message_id"].to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((mail.len(), ids.len()), (3, 2));
}

#[tokio::test]
async fn a_server_that_is_down_is_retried_later() {
    require_aiosmtpd!();
    let email = channel(free_port(), "5s");
    let outcome = email
        .send("k", &message(Some("grid.li@example.cn")), now())
        .await;
    assert!(matches!(outcome, Outcome::Retry(_)), "{outcome:?}");
}

#[tokio::test]
async fn a_server_that_comes_back_up_gets_the_next_attempt() {
    require_aiosmtpd!();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let email = channel(port, "5s");
    let sent = message(Some("grid.li@example.cn"));
    assert!(matches!(
        email.send("k", &sent, now()).await,
        Outcome::Retry(_)
    ));
    let sink = SmtpSink::start(port, dir.path());
    assert_eq!(email.send("k", &sent, now()).await, Outcome::Delivered);
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn a_restarted_server_is_reached_although_the_pooled_connection_went_stale() {
    require_aiosmtpd!();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let email = channel(port, "5s");
    let sent = message(Some("grid.li@example.cn"));
    let sink = SmtpSink::start(port, dir.path());
    assert_eq!(email.send("k-1", &sent, now()).await, Outcome::Delivered);
    sink.stop();
    let sink = SmtpSink::start(port, dir.path());
    assert_eq!(email.send("k-2", &sent, now()).await, Outcome::Delivered);
    assert_eq!(sink.messages().len(), 2);
}

#[tokio::test]
async fn a_missing_or_malformed_recipient_is_permanent() {
    require_aiosmtpd!();
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(free_port(), dir.path());
    let email = channel(sink.port, "5s");
    for to in [None, Some("not an address"), Some("")] {
        let outcome = email.send("k", &message(to), now()).await;
        assert!(
            matches!(outcome, Outcome::Permanent(_)),
            "{to:?}: {outcome:?}"
        );
    }
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_server_that_accepts_but_never_answers_times_out_as_retry() {
    // No SMTP greeting ever comes: only the whole-send timeout ends this.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            open.push(stream);
        }
    });
    let email = channel(port, "1s");
    let started = Instant::now();
    let outcome = email
        .send("k", &message(Some("grid.li@example.cn")), now())
        .await;
    assert!(matches!(outcome, Outcome::Retry(_)), "{outcome:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    held.abort();
}
