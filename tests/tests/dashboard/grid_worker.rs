//! The grid worker of "east" on the dashboard: sees east only, cannot act on
//! another grid's case, needs CSRF tokens to write, and walks a case from
//! acknowledgement through notes to closing, then away mode and back.

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use waterwatch_e2e::local;

use crate::Walk;
use crate::session::{Session, client, log_in};

/// The grid worker's whole visit; returns the session, still logged in.
pub async fn grid_worker_sees_and_acts_on_their_grid_only(walk: &Walk) -> Session {
    let base = walk.base.as_str();
    let (east_case, west_case, now) = (walk.east_case, walk.west_case, walk.now);
    // The grid worker of "east" sees east only.
    let li = log_in(base, "li").await;
    let (status, overview) = li.get(base, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        overview.contains("Mrs Chen") && !overview.contains("Mr Wang"),
        "{overview}"
    );
    assert!(overview.contains("Case open"), "{overview}");
    assert!(overview.len() < 100 * 1024);
    let (status, page) = li.get(base, "/households/h-east").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<svg") && page.contains("Alerts after"),
        "{page}"
    );
    // The meter the household had before, retired when the daemon started.
    assert!(
        page.contains("Meter m-east-2019 was replaced by m-east on 20"),
        "{page}"
    );
    assert!(page.len() < 100 * 1024);
    assert_eq!(
        li.get(base, "/households/h-west").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        li.get(base, "/households/nobody").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, cases) = li.get(base, "/cases").await;
    assert_eq!(status, StatusCode::OK);
    assert!(cases.contains(&format!("#{east_case}")) && !cases.contains(&format!("#{west_case}")));
    assert_eq!(
        li.get(base, &format!("/cases/{east_case}")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        li.get(base, &format!("/cases/{west_case}")).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, listed) = li.get(base, "/api/v1/cases").await;
    assert_eq!(status, StatusCode::OK);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert!(
        listed["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["household"] == "h-east")
    );
    let (_, households) = li.get(base, "/api/v1/households").await;
    assert!(households.contains("h-east") && !households.contains("h-west"));
    assert_eq!(
        li.get(base, "/api/v1/households/h-west").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        li.get(base, "/api/v1/households/h-east/usage").await.0,
        StatusCode::OK
    );
    for ops_only in [
        "/meters",
        "/rules",
        "/api/v1/meters",
        "/api/v1/rules",
        "/api/v1/audit",
    ] {
        assert_eq!(
            li.get(base, ops_only).await.0,
            StatusCode::FORBIDDEN,
            "{ops_only}"
        );
    }
    // Acting on another grid's case is refused, with or without a token.
    let csrf = li.csrf.clone();
    assert_eq!(
        li.form(base, &format!("/cases/{west_case}/ack"), &[("csrf", &csrf)])
            .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        li.post_json(
            base,
            &format!("/api/v1/cases/{west_case}/ack"),
            true,
            json!({})
        )
        .await,
        StatusCode::FORBIDDEN
    );
    // JSON writes with a session need the CSRF header; forms need the field.
    assert_eq!(
        li.post_json(
            base,
            &format!("/api/v1/cases/{east_case}/ack"),
            false,
            json!({})
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        li.form(
            base,
            &format!("/cases/{east_case}/ack"),
            &[("csrf", "forged")]
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        li.form(base, &format!("/cases/{east_case}/ack"), &[("csrf", &csrf)])
            .await,
        StatusCode::SEE_OTHER
    );
    let (_, case_page) = li.get(base, &format!("/cases/{east_case}")).await;
    assert!(case_page.contains("going: li"), "{case_page}");
    assert_eq!(
        li.post_json(
            base,
            &format!("/api/v1/cases/{east_case}/notes"),
            true,
            json!({"text": "on my way"})
        )
        .await,
        StatusCode::CREATED
    );
    assert_eq!(
        li.form(
            base,
            &format!("/cases/{east_case}/note"),
            &[("csrf", &csrf), ("text", "door locked, neighbour has key")]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    // A note longer than 2000 characters is refused, and the case stays open.
    let essay = "x".repeat(2001);
    assert_eq!(
        li.form(
            base,
            &format!("/cases/{east_case}/close"),
            &[("csrf", &csrf), ("reason", "fine"), ("note", &essay)]
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        li.form(
            base,
            &format!("/cases/{east_case}/close"),
            &[
                ("csrf", &csrf),
                ("reason", "fine"),
                ("note", "she was gardening")
            ]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    let (_, case_page) = li.get(base, &format!("/cases/{east_case}")).await;
    assert!(
        case_page.contains("on my way") && case_page.contains("neighbour has key"),
        "{case_page}"
    );
    assert!(case_page.contains("Closed: Fine (li)"), "{case_page}");
    // Away mode from the household page, then back home.
    let tomorrow = (now + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        li.form(
            base,
            "/households/h-east/away",
            &[
                ("csrf", &csrf),
                ("until", &tomorrow),
                ("reason", "visiting her son")
            ]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    let (_, page) = li.get(base, "/households/h-east").await;
    assert!(page.contains("visiting her son"), "{page}");
    assert_eq!(
        li.form(base, "/households/h-east/back", &[("csrf", &csrf)])
            .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        li.post_json(
            base,
            "/api/v1/silences",
            true,
            json!({"grid": "east", "until": local(now + chrono::Duration::hours(2)), "reason": "x"})
        )
        .await,
        StatusCode::FORBIDDEN,
        "silences are for ops"
    );
    let (status, events) = {
        let r = client()
            .get(format!("{base}/events"))
            .header(COOKIE, &li.cookie)
            .send()
            .await
            .unwrap();
        (
            r.status(),
            r.headers()["content-type"].to_str().unwrap().to_owned(),
        )
    };
    assert_eq!(status, StatusCode::OK);
    assert!(events.starts_with("text/event-stream"));
    // A form posted from another site is refused even with a session.
    let cross = client()
        .post(format!("{base}/cases/{west_case}/ack"))
        .header(COOKIE, &li.cookie)
        .header("Origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    li
}
