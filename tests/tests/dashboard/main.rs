//! The dashboard and API through a real daemon with `login = "always"`:
//! every page and API route, each role's limits, sessions, CSRF tokens,
//! login rate limiting, consent and the audit log.
//!
//! One daemon, one walk, in this order; each phase is in its own module:
//! - `anonymous`: no session, then five wrong passwords for "olga".
//! - `grid_worker`: "li", grid worker of east.
//! - `family`: "wang-jr", family of h-west (ops records consent midway).
//! - `ops_and_admin`: ops' API reads, the admin's pages, then the audit log.
//! - `session`: the `user` CLI, the HTTP client and logged-in sessions.
//!
//! The phases share the daemon's state: later ones check what earlier ones
//! did (the audit log, the lock on "olga"), so they run in one test.

mod anonymous;
mod family;
mod grid_worker;
mod ops_and_admin;
mod session;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use waterwatch_e2e::broker::TestBroker;
use waterwatch_e2e::daemon::{DaemonProcess, config};
use waterwatch_e2e::publish::Publisher;
use waterwatch_e2e::{daemon_binary, free_port, quiet_batch};

use crate::session::{client, open_case_of, user};

/// What every phase of the walk needs: the daemon's address, the two open
/// cases, when the readings ended, and the ops and admin API tokens.
pub struct Walk {
    pub base: String,
    pub east_case: i64,
    pub west_case: i64,
    pub now: DateTime<Utc>,
    pub ops_token: String,
    pub admin_token: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_and_route_keeps_to_each_roles_limits() {
    let broker = TestBroker::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let http_port = free_port();
    let mut text = config(&broker.url(), http_port, &dir.path().join("ww.db"), None)
        .replace("[http]\n", "[http]\nlogin = \"always\"\n");
    text.push_str(
        "\n[[household]]\nid = \"h-east\"\nname = \"Mrs Chen\"\ngrid = \"east\"\nmeters = [\"m-east\"]\nreplaced = { \"m-east-2019\" = \"m-east\" }\n\
         \n[[household]]\nid = \"h-west\"\nname = \"Mr Wang\"\ngrid = \"west\"\nmeters = [\"m-west\"]\n",
    );
    let config_path = dir.path().join("waterwatch.toml");
    std::fs::write(&config_path, &text).expect("config");
    user(&config_path, &["add", "root", "--role", "admin"]);
    user(&config_path, &["add", "olga", "--role", "ops"]);
    user(
        &config_path,
        &["add", "li", "--role", "grid_worker", "--scope", "east"],
    );
    user(
        &config_path,
        &[
            "add",
            "wang-jr",
            "--role",
            "family",
            "--scope",
            "h-west",
            "--language",
            "zh-CN",
        ],
    );
    let admin_token = user(&config_path, &["token", "root"]);
    let ops_token = user(&config_path, &["token", "olga"]);
    assert!(user(&config_path, &["list"]).contains("li\tgrid_worker\teast\ten"));

    let mut daemon = DaemonProcess::start(daemon_binary!(), dir.path(), http_port, &text, &[]);
    daemon.wait_ready().await;
    let base = daemon.base_url();
    let mut meters = Publisher::connect(broker.port, "e2e-dashboard").await;
    let now = Utc::now();
    meters
        .reading("m-east", quiet_batch("m-east", now, 14))
        .await;
    meters
        .reading("m-west", quiet_batch("m-west", now, 14))
        .await;
    meters.flush().await;
    let east_case = open_case_of(&base, &admin_token, "h-east").await;
    let west_case = open_case_of(&base, &admin_token, "h-west").await;
    let walk = Walk {
        base: base.clone(),
        east_case,
        west_case,
        now,
        ops_token: ops_token.clone(),
        admin_token,
    };

    anonymous::without_a_session_pages_redirect_and_the_api_refuses(&walk).await;
    anonymous::five_wrong_passwords_lock_the_name(&walk).await;
    let li = grid_worker::grid_worker_sees_and_acts_on_their_grid_only(&walk).await;
    family::family_sees_their_household_and_usage_only_with_consent(&walk).await;
    ops_and_admin::ops_reads_meters_and_rules_and_the_admin_sees_every_page(&walk).await;
    ops_and_admin::the_audit_log_has_every_view_and_action(&walk).await;

    // Logging out ends the session.
    assert_eq!(
        li.form(&base, "/logout", &[("csrf", &li.csrf)]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(li.get(&base, "/").await.0, StatusCode::SEE_OTHER);
    // A disabled user's sessions and tokens stop working at once.
    user(&config_path, &["disable", "olga"]);
    let r = client()
        .get(format!("{base}/api/v1/meters"))
        .bearer_auth(&ops_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    drop(daemon);
}
