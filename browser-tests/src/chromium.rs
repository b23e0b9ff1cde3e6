//! Debian's Chromium, headless, with a fresh profile and no traffic beyond
//! what the pages ask for; pages emulate a phone or a desktop screen.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures_util::StreamExt;

/// Where Debian puts Chromium; `WW_CHROMIUM` names another binary.
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// A screen size the dashboard must work on.
#[derive(Debug, Clone, Copy)]
pub struct Screen {
    /// Used in screenshot file names.
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
    pub scale: f64,
    /// Emulate a phone (honours the page's viewport meta tag).
    pub mobile: bool,
}

/// A common phone, at its real pixel density.
pub const PHONE: Screen = Screen {
    name: "phone",
    width: 390,
    height: 844,
    scale: 2.0,
    mobile: true,
};

/// An ops desk's laptop screen.
pub const DESKTOP: Screen = Screen {
    name: "desktop",
    width: 1366,
    height: 900,
    scale: 1.0,
    mobile: false,
};

/// The Chromium binary, or a panic saying how to install it: a browser test
/// that cannot find its browser fails, it never passes silently.
pub fn executable() -> PathBuf {
    let path = std::env::var_os("WW_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CHROMIUM));
    assert!(
        path.exists(),
        "Chromium is not installed at {}: the dashboard's browser test needs it. \
         Install Debian's with `apt-get install -y --no-install-recommends chromium` \
         (.ci/run does this when it is missing), or set WW_CHROMIUM to a Chromium binary.",
        path.display()
    );
    path
}

pub struct Chromium {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Start a headless Chromium with a fresh profile.
    pub async fn launch() -> Chromium {
        let executable = executable();
        let profile = tempfile::tempdir().expect("a temp dir for the Chromium profile");
        let config = BrowserConfig::builder()
            .chrome_executable(&executable)
            .new_headless_mode()
            .no_sandbox()
            .user_data_dir(profile.path())
            // Each page sets its own screen (see `page`).
            .viewport(None)
            // Keys without their leading `--` (chromiumoxide adds them).
            .args([
                "disable-gpu",
                "disable-background-networking",
                "disable-component-update",
                "disable-sync",
                "no-first-run",
                "disable-quic",
            ])
            // Design: chromiumoxide reads Chromium's stderr only until it has
            // the DevTools address; quiet logs never fill the pipe.
            .arg(("log-level", "3"))
            .launch_timeout(Duration::from_secs(60))
            .request_timeout(Duration::from_secs(30))
            .build()
            .expect("a Chromium configuration");
        let (browser, mut handler) = Browser::launch(config)
            .await
            .unwrap_or_else(|e| panic!("Chromium ({}) did not start: {e}", executable.display()));
        // The handler carries every message to and from Chromium; a message
        // it cannot read is no reason to stop.
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Chromium {
            browser,
            handler,
            _profile: profile,
        }
    }

    /// A new tab showing `url` on `screen`. Tabs share the cookie jar, so a
    /// login on one holds for all.
    pub async fn page(&self, screen: Screen, url: &str) -> Page {
        let page = self
            .browser
            .new_page("about:blank")
            .await
            .expect("a new tab");
        let metrics = SetDeviceMetricsOverrideParams::builder()
            .width(i64::from(screen.width))
            .height(i64::from(screen.height))
            .device_scale_factor(screen.scale)
            .mobile(screen.mobile)
            .build()
            .expect("device metrics");
        page.execute(metrics).await.expect("emulate the screen");
        page.goto(url).await.expect("open the page");
        page
    }

    pub async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.handler.abort();
    }
}

/// Run `script` (an expression) in the page until it is truthy: pages
/// navigate and update live, so every check waits rather than looks once.
pub async fn wait_until(page: &Page, timeout: Duration, what: &str, script: &str) {
    let deadline = Instant::now() + timeout;
    loop {
        // During a navigation the old document is gone: that is "not yet".
        let truthy = match page.evaluate(format!("!!({script})")).await {
            Ok(result) => result.into_value::<bool>().unwrap_or(false),
            Err(_) => false,
        };
        if truthy {
            return;
        }
        if Instant::now() > deadline {
            let url = page.url().await.ok().flatten().unwrap_or_default();
            let text = page
                .evaluate("document.body ? document.body.innerText : ''")
                .await
                .ok()
                .and_then(|r| r.into_value::<String>().ok())
                .unwrap_or_default();
            panic!(
                "timed out after {timeout:?} waiting for {what} on {url}; the page says:\n{text}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of `script` (an expression) as a string.
pub async fn text(page: &Page, script: &str) -> String {
    page.evaluate(script)
        .await
        .unwrap_or_else(|e| panic!("`{script}` failed: {e}"))
        .into_value::<String>()
        .unwrap_or_else(|e| panic!("`{script}` gave no string: {e}"))
}

/// What the screen shows now, as a PNG.
pub async fn screenshot(page: &Page) -> Vec<u8> {
    page.screenshot(
        ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .build(),
    )
    .await
    .expect("a screenshot")
}
