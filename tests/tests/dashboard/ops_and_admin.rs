//! Ops and the admin on the dashboard: ops reads meters and rules but not the
//! audit log; every admin page is small and asks for nothing external;
//! silences, households, `me` and the assets; and the audit log, which has
//! every view of personal data and every action the walk took.

use reqwest::StatusCode;
use serde_json::{Value, json};
use waterwatch_e2e::local;

use crate::Walk;
use crate::session::{client, log_in};

/// Ops' API reads, then the admin's pages and API.
pub async fn ops_reads_meters_and_rules_and_the_admin_sees_every_page(walk: &Walk) {
    let base = walk.base.as_str();
    let ops_token = walk.ops_token.as_str();
    let (west_case, now) = (walk.west_case, walk.now);
    // Ops: meters and rules; no audit log (admins only).
    let ops = client();
    for (path, expected) in [
        ("/api/v1/meters", StatusCode::OK),
        ("/api/v1/rules", StatusCode::OK),
        ("/api/v1/audit", StatusCode::FORBIDDEN),
        ("/api/v1/households/h-west", StatusCode::OK),
        (
            &format!("/api/v1/cases/{west_case}") as &str,
            StatusCode::OK,
        ),
    ] {
        let r = ops
            .get(format!("{base}{path}"))
            .bearer_auth(ops_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected, "{path}");
    }
    let admin = log_in(base, "root").await;
    for page in [
        "/",
        "/cases",
        "/meters",
        "/rules",
        "/households/h-west",
        &format!("/cases/{west_case}"),
    ] {
        let (status, body) = admin.get(base, page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(body.len() < 100 * 1024, "{page} is {} bytes", body.len());
        assert!(
            !body.contains("http://") && !body.contains("https://")
                || body.contains("xmlns=\"http://www.w3.org/2000/svg\""),
            "{page} asks for something external"
        );
    }
    let (_, rules) = admin.get(base, "/rules").await;
    assert!(
        rules.contains("inactivity") && rules.contains("fine 1"),
        "{rules}"
    );
    let (_, meters_page) = admin.get(base, "/meters").await;
    assert!(
        meters_page.contains("m-east")
            && meters_page.contains("80 %")
            && meters_page.contains("-71 dBm"),
        "{meters_page}"
    );
    assert_eq!(
        admin.post_json(base, "/api/v1/silences", true, json!({"grid": "east", "until": local(now + chrono::Duration::hours(2)), "reason": "maintenance"})).await,
        StatusCode::CREATED
    );
    let (status, silences) = admin.get(base, "/api/v1/silences").await;
    assert_eq!(status, StatusCode::OK);
    assert!(silences.contains("maintenance"), "{silences}");
    let (status, households) = admin.get(base, "/api/v1/households").await;
    assert_eq!(status, StatusCode::OK);
    assert!(households.contains("h-east") && households.contains("h-west"));
    let (status, me) = admin.get(base, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert!(me.contains("\"role\":\"admin\""), "{me}");
    for asset in [
        "/assets/style.css",
        "/assets/live.js",
        "/api/v1/openapi.json",
    ] {
        assert_eq!(admin.get(base, asset).await.0, StatusCode::OK, "{asset}");
    }
}

/// The audit log has every view of personal data and every action.
pub async fn the_audit_log_has_every_view_and_action(walk: &Walk) {
    let base = walk.base.as_str();
    let admin_token = walk.admin_token.as_str();
    let east_case = walk.east_case;
    let audit: Value = client()
        .get(format!("{base}/api/v1/audit"))
        .bearer_auth(admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = audit["entries"].as_array().unwrap();
    let has = |actor: &str, action: &str, target: &str| {
        entries
            .iter()
            .any(|e| e["actor"] == actor && e["action"] == action && e["target"] == target)
    };
    assert!(has("li", "view", "household/h-east"));
    assert!(has("li", "acknowledge", &format!("case/{east_case}")));
    assert!(has("li", "close", &format!("case/{east_case}")));
    assert!(has("li", "away", "household/h-east"));
    assert!(has("olga", "consent", "household/h-west"));
    assert!(has("olga", "login_blocked", "olga"));
    assert!(has("wang-jr", "view", "household/h-west"));
}
