//! The dashboard in a real headless Chromium: the first admin logs in, sees the
//! case a collapse opened appear live on the overview, says "I'm going", and
//! the overview and the household page are photographed on a phone and a
//! desktop screen. `WW_UPDATE_SCREENSHOTS=1` copies the pictures into
//! `docs/screenshots/` (the README shows them); otherwise they stay in a
//! temp dir, so test runs never change the tree.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{FixedOffset, Utc};
use meter_sim::Scenario;
use waterwatch_browser_tests::chromium::{self, Page, screenshot, text, wait_until};
use waterwatch_browser_tests::{Chromium, DESKTOP, PHONE, Screen, history};
use waterwatch_e2e::broker::TestBroker;
use waterwatch_e2e::daemon::{DaemonProcess, config};
use waterwatch_e2e::publish::Publisher;
use waterwatch_e2e::{eventually, free_port};

const USER: &str = "Li Wei";
const PASSWORD: &str = "correct horse battery staple";
/// The household whose resident collapses.
const FALLEN: &str = "h0001";

const HOUSEHOLDS: &str = r#"
[[household]]
id = "h0001"
name = "Wang Fang"
grid = "Riverside"
meters = ["h0001"]

[[household]]
id = "h0002"
name = "Zhao Min"
grid = "Riverside"
meters = ["h0002"]

[[household]]
id = "h0003"
name = "Chen Jie"
grid = "Hillside"
meters = ["h0003"]

[[household]]
id = "h0004"
name = "Liu Yang"
grid = "Hillside"
meters = ["h0004"]
"#;

/// Run the daemon binary's CLI against the test's config; its stdout.
fn cli(binary: &Path, config: &Path, args: &[&str]) -> String {
    let out = Command::new(binary)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("the daemon binary runs");
    assert!(
        out.status.success(),
        "`waterwatch {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

struct Shots {
    dir: tempfile::TempDir,
    taken: Vec<PathBuf>,
}

impl Shots {
    async fn take(&mut self, page: &Page, what: &str, screen: Screen) {
        let png = screenshot(page).await;
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 5_000,
            "the {what} screenshot on a {} is not a picture ({} bytes)",
            screen.name,
            png.len()
        );
        let path = self.dir.path().join(format!("{what}-{}.png", screen.name));
        std::fs::write(&path, png).expect("write the screenshot");
        self.taken.push(path);
    }

    /// Into `docs/screenshots/` when asked to.
    fn publish(&self) {
        if std::env::var("WW_UPDATE_SCREENSHOTS").as_deref() != Ok("1") {
            return;
        }
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&docs).expect("create docs/screenshots");
        for shot in &self.taken {
            let name = shot.file_name().expect("a file name");
            std::fs::copy(shot, docs.join(name)).expect("copy a screenshot into docs");
        }
        eprintln!("screenshots updated in {}", docs.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_sees_a_collapse_live_says_im_going_and_the_pages_fit_phone_and_desktop() {
    let started = Instant::now();
    // Before anything else: without Chromium this test fails, saying why.
    chromium::executable();
    let broker = TestBroker::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let http_port = free_port();
    let mut text_config = config(&broker.url(), http_port, &dir.path().join("ww.db"), None);
    text_config.push_str("login = \"always\"\n");
    text_config.push_str(HOUSEHOLDS);
    let binary = Path::new(env!("CARGO_BIN_EXE_waterwatch-under-browser"));
    let mut daemon = DaemonProcess::start(binary, dir.path(), http_port, &text_config, &[]);
    daemon.wait_ready().await;
    let base = daemon.base_url();

    // The first admin comes from the CLI, with a password from a file.
    let config_path = dir.path().join("waterwatch.toml");
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).expect("write the password file");
    cli(
        binary,
        &config_path,
        &[
            "user",
            "add",
            USER,
            "--role",
            "admin",
            "--password-file",
            password_file.to_str().expect("a UTF-8 path"),
        ],
    );
    let token = cli(binary, &config_path, &["user", "token", USER]);
    let api = waterwatch_e2e::http();
    let cases = async || -> serde_json::Value {
        api.get(format!("{base}/api/v1/cases"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET /api/v1/cases")
            .json()
            .await
            .expect("cases as JSON")
    };

    // Log in on the phone: the login form comes first.
    let browser = Chromium::launch().await;
    let phone = browser.page(PHONE, &format!("{base}/")).await;
    wait_until(
        &phone,
        Duration::from_secs(10),
        "the login form",
        "location.pathname === '/login' && document.querySelector('#password')",
    )
    .await;
    type_into(&phone, "#name", USER).await;
    type_into(&phone, "#password", PASSWORD).await;
    click(&phone, "form.stack button[type=submit]").await;
    wait_until(
        &phone,
        Duration::from_secs(10),
        "the overview after logging in",
        "location.pathname === '/' && document.querySelector('ul.counts')",
    )
    .await;

    // Sixteen days of four homes, sent as daily batches; Wang Fang's last
    // batch shows no water for 15 hours: she has collapsed.
    let offset = FixedOffset::east_opt(8 * 3600).expect("+08:00");
    let now = Utc::now().with_timezone(&offset);
    let batches = history::daily_batches(
        4,
        now - chrono::Duration::days(16),
        now,
        vec![Scenario::Collapse {
            household: 1,
            at: now - chrono::Duration::hours(15),
        }],
    );
    let mut meters = Publisher::connect(broker.port, "browser-meters").await;
    for (topic, payload) in batches {
        meters.publish(&topic, payload).await;
    }
    meters.flush().await;

    let case_id = eventually(
        Duration::from_secs(60),
        "an open case for the fallen household",
        async || {
            cases().await["cases"]
                .as_array()?
                .iter()
                .find(|c| c["household"] == FALLEN && c["resolved_ms"].is_null())?["id"]
                .as_i64()
        },
    )
    .await;

    // The open overview shows it without a reload (server-sent events).
    let case_link = format!("a.case-link[href='/cases/{case_id}']");
    wait_until(
        &phone,
        Duration::from_secs(20),
        "the case to appear live on the overview",
        &format!("document.querySelector(\"{case_link}\")"),
    )
    .await;
    let badge = text(
        &phone,
        "document.querySelector(\"a[href='/households/h0001'] .badge\").innerText",
    )
    .await;
    assert_eq!(badge, "Case open", "the fallen household's badge");
    let mut shots = Shots {
        dir: tempfile::tempdir().expect("temp dir"),
        taken: Vec::new(),
    };
    shots.take(&phone, "overview", PHONE).await;
    let desktop = browser.page(DESKTOP, &format!("{base}/")).await;
    wait_until(
        &desktop,
        Duration::from_secs(10),
        "the overview on the desktop",
        &format!("document.querySelector(\"{case_link}\")"),
    )
    .await;
    shots.take(&desktop, "overview", DESKTOP).await;

    // "I'm going", from the case page on the phone.
    click(&phone, &case_link).await;
    wait_until(
        &phone,
        Duration::from_secs(10),
        "the case page",
        &format!(
            "location.pathname === '/cases/{case_id}' && document.querySelector('button.primary')"
        ),
    )
    .await;
    click(&phone, "button.primary").await;
    wait_until(
        &phone,
        Duration::from_secs(10),
        "the case to show as acknowledged",
        "document.querySelector('.badge.state-acknowledged') && !document.querySelector('button.primary')",
    )
    .await;
    let main = text(&phone, "document.getElementById('main').innerText").await;
    assert!(
        main.contains(&format!("I'm going: {USER}")),
        "the case page does not say who is going:\n{main}"
    );
    let listed = cases().await;
    let case = listed["cases"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["id"] == case_id))
        .unwrap_or_else(|| panic!("case {case_id} is not listed: {listed}"));
    assert_eq!(case["acknowledged_by"], USER, "the API's view of the case");
    assert!(case["resolved_ms"].is_null(), "acknowledged is not closed");

    // The household page, on both screens.
    for (page, screen) in [(&phone, PHONE), (&desktop, DESKTOP)] {
        page.goto(&format!("{base}/households/{FALLEN}"))
            .await
            .expect("open the household page");
        wait_until(
            page,
            Duration::from_secs(10),
            "the household page with its chart",
            "document.querySelector('svg.chart') && document.querySelector('.badge.state-acknowledged')",
        )
        .await;
        shots.take(page, "household", screen).await;
    }
    shots.publish();

    browser.close().await;
    let took = daemon.terminate();
    assert!(
        took < Duration::from_secs(10),
        "graceful stop took {took:?}"
    );
    eprintln!("the browser test took {:?}", started.elapsed());
}

async fn type_into(page: &Page, selector: &str, value: &str) {
    page.type_into(selector, value)
        .await
        .unwrap_or_else(|e| panic!("cannot type into {selector}: {e:#}"));
}

async fn click(page: &Page, selector: &str) {
    page.click(selector)
        .await
        .unwrap_or_else(|e| panic!("cannot click {selector}: {e:#}"));
}
