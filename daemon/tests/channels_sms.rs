//! The SMS presets against a real local HTTP server that checks each
//! provider's request format and recomputes the Aliyun signature itself.

mod support_channels;

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use support_channels::{Recorder, field, form_pairs};
use waterwatch::notify::sms::{Sms, SmsConfig};
use waterwatch::notify::{Message, Outcome};

const TO: &str = "+8613812341234";
const TEXT: &str =
    "王秀英（h0317）自09:40起未用水 & \"5小时\"。请查看：https://ww.example.cn/c/7Kx2Qp";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T13:45:07Z")
        .unwrap()
        .to_utc()
}

fn message(to: Option<&str>) -> Message {
    Message {
        to: to.map(str::to_owned),
        subject: "需要查看".into(),
        text: TEXT.into(),
        body: serde_json::json!({}),
    }
}

fn channel(toml_text: &str, secret: &str) -> Sms {
    let config: SmsConfig = toml::from_str(toml_text).unwrap();
    assert!(config.problems().is_empty(), "{:?}", config.problems());
    Sms::new(&config, Some(secret.as_bytes().to_vec())).unwrap()
}

/// RFC 3986 percent-encoding written out byte by byte, independent of the
/// crate's `percent_encode`.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn aliyun_signature_as_the_server_computes_it(
    method: &str,
    pairs: &[(String, String)],
    secret: &str,
) -> String {
    let mut params: Vec<_> = pairs.iter().filter(|(k, _)| k != "Signature").collect();
    params.sort();
    let canonical = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("{method}&{}&{}", encode("/"), encode(&canonical));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn twilio_gets_its_path_form_fields_and_basic_auth() {
    let server = Recorder::start(&[(201, r#"{"sid":"SM1","status":"queued"}"#)]).await;
    let sms = channel(
        &format!(
            "name = \"tw\"\nprovider = \"twilio\"\naccount_sid = \"AC0123\"\n\
             from = \"+15005550006\"\nsecret_env = \"TW\"\nbase_url = \"{}\"\n",
            server.url
        ),
        "tok3n",
    );
    assert_eq!(
        sms.send("k-1", &message(Some(TO)), now()).await,
        Outcome::Delivered
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/2010-04-01/Accounts/AC0123/Messages.json");
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("AC0123:tok3n")
    );
    assert_eq!(request.header("authorization"), Some(expected.as_str()));
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = form_pairs(&request.body);
    assert_eq!(field(&form, "To"), Some(TO));
    assert_eq!(field(&form, "From"), Some("+15005550006"));
    assert_eq!(field(&form, "Body"), Some(TEXT));
}

#[tokio::test]
async fn twilio_throttling_is_retried_and_an_invalid_number_is_permanent() {
    let server = Recorder::start(&[
        (429, r#"{"code":20429,"message":"Too Many Requests","status":429}"#),
        (500, "oops"),
        (
            400,
            r#"{"code":21211,"message":"The 'To' number +8613812341234 is not a valid phone number.","status":400}"#,
        ),
    ])
    .await;
    let sms = channel(
        &format!(
            "name = \"tw\"\nprovider = \"twilio\"\naccount_sid = \"AC0123\"\n\
             messaging_service_sid = \"MG1\"\nsecret_env = \"TW\"\nbase_url = \"{}\"\n",
            server.url
        ),
        "tok3n",
    );
    let m = message(Some(TO));
    assert!(matches!(sms.send("k", &m, now()).await, Outcome::Retry(_)));
    assert!(matches!(sms.send("k", &m, now()).await, Outcome::Retry(_)));
    match sms.send("k", &m, now()).await {
        Outcome::Permanent(why) => {
            assert!(why.contains("21211"), "{why}");
            assert!(!why.contains("13812341234"), "number in clear: {why}");
        }
        other => panic!("{other:?}"),
    }
    let form = form_pairs(&server.requests()[0].body);
    assert_eq!(field(&form, "MessagingServiceSid"), Some("MG1"));
    assert_eq!(field(&form, "From"), None);
}

#[tokio::test]
async fn aliyun_gets_its_parameters_and_a_signature_the_server_can_recompute() {
    let server = Recorder::start(&[(
        200,
        r#"{"Code":"OK","Message":"OK","BizId":"9006197469364984400","RequestId":"F655A8D5"}"#,
    )])
    .await;
    let sms = channel(
        &format!(
            "name = \"ali\"\nprovider = \"aliyun\"\naccess_key_id = \"LTAI-test\"\n\
             secret_file = \"/run/secrets/ali\"\nsign_name = \"水表关爱\"\n\
             template_code = \"SMS_123456\"\ntemplate_param = \"content\"\nendpoint = \"{}/\"\n",
            server.url
        ),
        "s3cr3t*key",
    );
    assert_eq!(
        sms.send("case-7/1", &message(Some(TO)), now()).await,
        Outcome::Delivered
    );
    let request = &server.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/")
    );
    let form = form_pairs(&request.body);
    for (name, value) in [
        ("AccessKeyId", "LTAI-test"),
        ("Action", "SendSms"),
        ("Format", "JSON"),
        ("RegionId", "cn-hangzhou"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2026-11-24T13:45:07Z"),
        ("Version", "2017-05-25"),
        ("PhoneNumbers", "8613812341234"),
        ("SignName", "水表关爱"),
        ("TemplateCode", "SMS_123456"),
        ("OutId", "case-7/1"),
    ] {
        assert_eq!(field(&form, name), Some(value), "{name}");
    }
    let param: serde_json::Value =
        serde_json::from_str(field(&form, "TemplateParam").unwrap()).unwrap();
    assert_eq!(param, serde_json::json!({ "content": TEXT }));
    assert!(field(&form, "SignatureNonce").is_some_and(|n| n.len() >= 16));
    assert_eq!(
        field(&form, "Signature"),
        Some(aliyun_signature_as_the_server_computes_it("POST", &form, "s3cr3t*key").as_str())
    );

    // A second send uses a fresh nonce (Aliyun refuses a reused one).
    sms.send("case-7/1", &message(Some(TO)), now()).await;
    let again = form_pairs(&server.requests()[1].body);
    assert_ne!(
        field(&again, "SignatureNonce"),
        field(&form, "SignatureNonce")
    );
}

#[tokio::test]
async fn aliyun_flow_control_is_retried_and_other_codes_are_permanent() {
    let server = Recorder::start(&[
        (200, r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发分钟级流控Permits:1"}"#),
        (400, r#"{"Code":"Throttling.User","Message":"Request was denied due to user flow control."}"#),
        (200, r#"{"Code":"isv.MOBILE_NUMBER_ILLEGAL","Message":"非法手机号"}"#),
    ])
    .await;
    let sms = channel(
        &format!(
            "name = \"ali\"\nprovider = \"aliyun\"\naccess_key_id = \"id\"\nsecret_env = \"A\"\n\
             sign_name = \"s\"\ntemplate_code = \"SMS_1\"\nendpoint = \"{}/\"\n",
            server.url
        ),
        "x",
    );
    let m = message(Some(TO));
    assert!(
        matches!(sms.send("k", &m, now()).await, Outcome::Retry(w) if w.contains("BUSINESS_LIMIT"))
    );
    assert!(matches!(sms.send("k", &m, now()).await, Outcome::Retry(_)));
    assert!(
        matches!(sms.send("k", &m, now()).await, Outcome::Permanent(w) if w.contains("MOBILE_NUMBER_ILLEGAL"))
    );
}

#[tokio::test]
async fn the_generic_template_substitutes_escaped_values_and_the_secret() {
    let server = Recorder::start(&[(202, "accepted"), (503, "busy"), (400, "bad")]).await;
    let body = r#"{"to":"{to}","message":"{text}","ref":"{key}"}"#;
    let config = format!(
        "name = \"gen\"\nprovider = \"generic\"\nurl = \"{}/v1/send?to={{to}}\"\n\
         secret_env = \"G\"\nbody = '{body}'\n[headers]\nAuthorization = \"Bearer {{secret}}\"\n",
        server.url
    );
    let sms = channel(&config, "api-key-1");
    let m = message(Some(TO));
    assert_eq!(sms.send("key\"1", &m, now()).await, Outcome::Delivered);
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v1/send");
    assert_eq!(request.query, "to=%2B8613812341234");
    assert_eq!(request.header("authorization"), Some("Bearer api-key-1"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"to": TO, "message": TEXT, "ref": "key\"1"})
    );
    assert!(matches!(sms.send("k", &m, now()).await, Outcome::Retry(_)));
    assert!(matches!(
        sms.send("k", &m, now()).await,
        Outcome::Permanent(_)
    ));
}

#[tokio::test]
async fn a_generic_form_body_is_percent_encoded() {
    let server = Recorder::start(&[(200, "ok")]).await;
    let config = format!(
        "name = \"gen\"\nprovider = \"generic\"\nurl = \"{}/send\"\nbody_format = \"form\"\n\
         body = \"mobile={{to}}&content={{text}}\"\n",
        server.url
    );
    let sms = channel(&config, "");
    assert_eq!(
        sms.send("k", &message(Some(TO)), now()).await,
        Outcome::Delivered
    );
    let request = &server.requests()[0];
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = form_pairs(&request.body);
    assert_eq!(
        form,
        [
            ("mobile".to_owned(), TO.to_owned()),
            ("content".to_owned(), TEXT.to_owned())
        ]
    );
}

#[tokio::test]
async fn a_missing_or_invalid_number_is_permanent_and_never_sent() {
    let server = Recorder::start(&[(200, "ok")]).await;
    let config = format!(
        "name = \"gen\"\nprovider = \"generic\"\nurl = \"{}/send\"\nbody = \"{{text}}\"\n",
        server.url
    );
    let sms = channel(&config, "");
    for to in [None, Some("call me"), Some("+86 138 1234 1234")] {
        let outcome = sms.send("k", &message(to), now()).await;
        assert!(
            matches!(outcome, Outcome::Permanent(_)),
            "{to:?}: {outcome:?}"
        );
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_provider_that_is_down_is_retried() {
    let port = support_channels::free_port();
    let config = format!(
        "name = \"gen\"\nprovider = \"generic\"\nurl = \"http://127.0.0.1:{port}/send\"\n\
         body = \"{{text}}\"\ntimeout = \"2s\"\n"
    );
    let sms = channel(&config, "");
    let outcome = sms.send("k", &message(Some(TO)), now()).await;
    assert!(matches!(outcome, Outcome::Retry(_)), "{outcome:?}");
}
