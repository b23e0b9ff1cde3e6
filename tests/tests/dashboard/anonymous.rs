//! Before anyone logs in: pages send the browser to the login page, the API
//! says 401, and five wrong passwords in a row lock the name.

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::json;

use crate::Walk;
use crate::session::{PASSWORD, client};

/// Without a session: pages send the browser to log in, the API says 401.
pub async fn without_a_session_pages_redirect_and_the_api_refuses(walk: &Walk) {
    let Walk {
        base, east_case, ..
    } = walk;
    let http = client();
    let anonymous = http
        .get(format!("{base}/households/h-east"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        anonymous.headers()[LOCATION],
        "/login?next=%2Fhouseholds%2Fh-east"
    );
    for path in ["/api/v1/cases", "/api/v1/households", "/api/v1/me"] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let r = http
        .get(format!("{base}/api/v1/cases"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http
        .post(format!("{base}/api/v1/cases/{east_case}/ack"))
        .json(&json!({"by": "someone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let login_page = http.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(login_page.status(), StatusCode::OK);
    assert!(
        login_page
            .text()
            .await
            .unwrap()
            .contains("name=\"password\"")
    );
}

/// A wrong password is refused; five in a row lock the name for a while.
pub async fn five_wrong_passwords_lock_the_name(walk: &Walk) {
    let base = &walk.base;
    let http = client();
    for _ in 0..5 {
        let r = http
            .post(format!("{base}/login"))
            .form(&[("name", "olga"), ("password", "wrong password!")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = http
        .post(format!("{base}/login"))
        .form(&[("name", "olga"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the sixth attempt is refused"
    );
}
