//! The family on the dashboard: their household's status in Chinese, water
//! use only once ops records the resident's consent, and nothing they may
//! not decide (consent, resident-ok, away mode, monitoring).

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::json;
use waterwatch_e2e::local;

use crate::Walk;
use crate::session::{client, log_in};

/// The family's whole visit, including ops recording consent midway.
pub async fn family_sees_their_household_and_usage_only_with_consent(walk: &Walk) {
    let base = walk.base.as_str();
    let ops_token = walk.ops_token.as_str();
    let (east_case, now) = (walk.east_case, walk.now);
    // Family: their household's status, in Chinese; water use only with consent.
    let family = log_in(base, "wang-jr").await;
    let (status, page) = family.get(base, "/households/h-west").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("待处理") && !page.contains("<svg"), "{page}");
    assert!(page.contains("尚无授权记录"), "{page}");
    assert_eq!(
        family.get(base, "/households/h-east").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        family.get(base, "/api/v1/households/h-west/usage").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        family
            .form(
                base,
                "/households/h-west/consent",
                &[("csrf", &family.csrf), ("family_sees_usage", "yes")]
            )
            .await,
        StatusCode::FORBIDDEN,
        "family cannot grant consent for the resident"
    );
    let recorded = client()
        .put(format!("{base}/api/v1/households/h-west/consent"))
        .bearer_auth(ops_token)
        .json(&json!({"family_sees_usage": true, "note": "signed form on file"}))
        .send()
        .await
        .unwrap();
    assert_eq!(recorded.status(), StatusCode::OK);
    assert_eq!(
        family.get(base, "/api/v1/households/h-west/usage").await.0,
        StatusCode::OK
    );
    let (_, page) = family.get(base, "/households/h-west").await;
    assert!(
        page.contains("<svg") && page.contains("signed form on file"),
        "{page}"
    );

    let (status, consent) = family.get(base, "/api/v1/households/h-west/consent").await;
    assert_eq!(status, StatusCode::OK);
    assert!(consent.contains("\"family_sees_usage\":true"), "{consent}");
    assert_eq!(
        family
            .get(base, "/api/v1/households/h-east/consent")
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        family
            .post_json(
                base,
                &format!("/api/v1/cases/{east_case}/resident-ok"),
                true,
                json!({})
            )
            .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        family
            .post_json(
                base,
                "/api/v1/households/h-west/away",
                true,
                json!({"until": local(now + chrono::Duration::days(1)), "reason": "x"})
            )
            .await,
        StatusCode::FORBIDDEN,
        "away mode is set by those who look after the household"
    );
    let withdraw = client()
        .put(format!("{base}/api/v1/households/h-west/monitoring"))
        .header(COOKIE, &family.cookie)
        .header("X-CSRF-Token", &family.csrf)
        .json(&json!({"monitoring": false, "confirm": "h-west"}))
        .send()
        .await
        .unwrap();
    assert_eq!(withdraw.status(), StatusCode::FORBIDDEN);
}
