//! WeCom and DingTalk group robots against a real local HTTP server that
//! checks the body shape and recomputes the DingTalk signature.

mod support_channels;

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use support_channels::{Recorder, field, form_pairs};
use waterwatch::notify::robot::{Robot, RobotConfig};
use waterwatch::notify::{Message, Outcome};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T13:45:07.250Z")
        .unwrap()
        .to_utc()
}

fn message() -> Message {
    Message {
        to: None,
        subject: "需要查看：王秀英（h0317）".into(),
        text: "王秀英（h0317）自09:40起未用水。请尽快上门查看：https://ww.example.cn/c/7Kx2Qp"
            .into(),
        body: serde_json::json!({}),
    }
}

fn robot(platform: &str, url: &str, key: &str, secret: Option<&str>) -> Robot {
    let config: RobotConfig = toml::from_str(&format!(
        "name = \"group\"\nplatform = \"{platform}\"\nurl = \"{url}\"\nkey_env = \"K\"\n{}",
        if secret.is_some() {
            "secret_env = \"S\"\n"
        } else {
            ""
        }
    ))
    .unwrap();
    assert!(config.problems().is_empty(), "{:?}", config.problems());
    Robot::new(
        &config,
        key.as_bytes().to_vec(),
        secret.map(|s| s.as_bytes().to_vec()),
    )
    .unwrap()
}

fn expected_content(m: &Message) -> String {
    format!("{}\n{}", m.subject, m.text)
}

#[tokio::test]
async fn wecom_gets_a_text_message_with_its_key() {
    let server = Recorder::start(&[(200, r#"{"errcode":0,"errmsg":"ok"}"#)]).await;
    let url = format!("{}/cgi-bin/webhook/send", server.url);
    let wecom = robot("wecom", &url, "693a91f6-7xxx", None);
    let m = message();
    assert_eq!(wecom.send("k-1", &m, now()).await, Outcome::Delivered);
    let request = &server.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/cgi-bin/webhook/send");
    assert_eq!(request.query, "key=693a91f6-7xxx");
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"msgtype": "text", "text": {"content": expected_content(&m)}})
    );
}

#[tokio::test]
async fn wecom_rate_limits_are_retried_and_a_bad_key_is_permanent() {
    let server = Recorder::start(&[
        (200, r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#),
        (502, "bad gateway"),
        (200, r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#),
    ])
    .await;
    let wecom = robot("wecom", &format!("{}/send", server.url), "k", None);
    let m = message();
    assert!(matches!(
        wecom.send("k", &m, now()).await,
        Outcome::Retry(_)
    ));
    assert!(matches!(
        wecom.send("k", &m, now()).await,
        Outcome::Retry(_)
    ));
    assert!(
        matches!(wecom.send("k", &m, now()).await, Outcome::Permanent(w) if w.contains("93000"))
    );
}

#[tokio::test]
async fn dingtalk_gets_a_signature_the_server_can_recompute() {
    let server = Recorder::start(&[(200, r#"{"errcode":0,"errmsg":"ok"}"#)]).await;
    let secret = "SECa1b2c3+/=";
    let ding = robot(
        "dingtalk",
        &format!("{}/robot/send", server.url),
        "tok+en",
        Some(secret),
    );
    let m = message();
    assert_eq!(ding.send("k-1", &m, now()).await, Outcome::Delivered);
    let request = &server.requests()[0];
    assert_eq!(request.path, "/robot/send");
    let query = form_pairs(&request.query);
    assert_eq!(field(&query, "access_token"), Some("tok+en"));
    assert_eq!(field(&query, "timestamp"), Some("1795527907250"));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("1795527907250\n{secret}").as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(field(&query, "sign"), Some(expected.as_str()));
    // The raw query carries the signature URL-encoded (base64 has + / =).
    assert!(!request.query.contains(&expected), "{}", request.query);
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"msgtype": "text", "text": {"content": expected_content(&m)}})
    );
}

#[tokio::test]
async fn dingtalk_without_a_secret_sends_no_signature() {
    let server = Recorder::start(&[(200, r#"{"errcode":0,"errmsg":"ok"}"#)]).await;
    let ding = robot(
        "dingtalk",
        &format!("{}/robot/send", server.url),
        "tok",
        None,
    );
    assert_eq!(ding.send("k", &message(), now()).await, Outcome::Delivered);
    assert_eq!(server.requests()[0].query, "access_token=tok");
}

#[tokio::test]
async fn dingtalk_sending_too_fast_is_retried_and_a_bad_signature_is_permanent() {
    let server = Recorder::start(&[
        (
            200,
            r#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#,
        ),
        (200, r#"{"errcode":310000,"errmsg":"sign not match"}"#),
        (200, "<html>not a robot</html>"),
    ])
    .await;
    let ding = robot(
        "dingtalk",
        &format!("{}/robot/send", server.url),
        "t",
        Some("SECx"),
    );
    let m = message();
    assert!(matches!(ding.send("k", &m, now()).await, Outcome::Retry(_)));
    assert!(
        matches!(ding.send("k", &m, now()).await, Outcome::Permanent(w) if w.contains("310000"))
    );
    assert!(matches!(
        ding.send("k", &m, now()).await,
        Outcome::Permanent(_)
    ));
}

#[tokio::test]
async fn an_unreachable_robot_is_retried_without_leaking_the_key() {
    let port = support_channels::free_port();
    let wecom = robot(
        "wecom",
        &format!("http://127.0.0.1:{port}/send"),
        "SECRETKEY",
        None,
    );
    match wecom.send("k", &message(), now()).await {
        Outcome::Retry(why) => assert!(!why.contains("SECRETKEY"), "{why}"),
        other => panic!("{other:?}"),
    }
}
