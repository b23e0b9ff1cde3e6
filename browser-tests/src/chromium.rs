//! Debian's Chromium, headless, with a fresh profile and no traffic beyond
//! what the pages ask for, driven over its debugging pipe (`cdp`); pages
//! emulate a phone or a desktop screen, and clicks and typing are real
//! input events, so a covered or hidden button cannot be clicked.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::cdp::Connection;

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

/// How long Chromium may take to start and answer its first command.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(60);

/// A quiet headless Chromium: no traffic beyond what the pages ask for.
const FLAGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--log-level=3",
    "--remote-debugging-pipe",
];

/// Gives Chromium our pipes as its fds 3 (commands) and 4 (answers): the
/// shell starts with them as stdin and stdout, copies them to 3 and 4, points
/// stdin and stdout elsewhere and becomes Chromium. (std cannot hand a child
/// other descriptors than 0–2 without `unsafe`.)
const ON_FDS_3_AND_4: &str = r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>&2"#;

pub struct Chromium {
    process: tokio::process::Child,
    cdp: Arc<Connection>,
    log: PathBuf,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Start a headless Chromium with a fresh profile; its log goes to a
    /// file in the profile, shown when it fails to start.
    pub async fn launch() -> Chromium {
        let executable = executable();
        let profile = tempfile::tempdir().expect("a temp dir for the Chromium profile");
        let log = profile.path().join("chromium.log");
        let log_file = std::fs::File::create(&log).expect("create Chromium's log file");
        let mut process = tokio::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(ON_FDS_3_AND_4)
            .arg(&executable)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", executable.display()));
        let commands = process.stdin.take().expect("the command pipe");
        let answers = process.stdout.take().expect("the answer pipe");
        let cdp = Arc::new(Connection::new(commands, answers));
        // A cold start can outlast one command's timeout: ask again until
        // the launch deadline (a late answer to an earlier ask is dropped).
        let deadline = Instant::now() + LAUNCH_TIMEOUT;
        let version = loop {
            let asked = cdp.call(None, "Browser.getVersion", json!({})).await;
            if asked.is_ok() || Instant::now() > deadline {
                break asked;
            }
            if let Ok(Some(status)) = process.try_wait() {
                break Err(anyhow::anyhow!("it exited ({status})"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        if let Err(e) = version {
            panic!(
                "Chromium ({}) did not start: {e:#}; its log:\n{}",
                executable.display(),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        Chromium {
            process,
            cdp,
            log,
            _profile: profile,
        }
    }

    /// A new tab showing `url` on `screen`. Tabs share the cookie jar, so a
    /// login on one holds for all.
    pub async fn page(&self, screen: Screen, url: &str) -> Page {
        let target = self
            .cdp
            .call(None, "Target.createTarget", json!({ "url": "about:blank" }))
            .await
            .expect("a new tab");
        let attached = self
            .cdp
            .call(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target["targetId"], "flatten": true }),
            )
            .await
            .expect("attach to the new tab");
        let session = attached["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session for the new tab: {attached}"))
            .to_owned();
        let page = Page {
            cdp: Arc::clone(&self.cdp),
            session,
        };
        page.call(
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": screen.width,
                "height": screen.height,
                "deviceScaleFactor": screen.scale,
                "mobile": screen.mobile,
            }),
        )
        .await
        .expect("emulate the screen");
        page.goto(url).await.expect("open the page");
        page
    }

    /// Ask Chromium to quit and wait for it; killed if it does not.
    pub async fn close(mut self) {
        let _ = self.cdp.call(None, "Browser.close", json!({})).await;
        match tokio::time::timeout(Duration::from_secs(10), self.process.wait()).await {
            Ok(_) => {}
            Err(_) => {
                eprintln!(
                    "Chromium did not quit when asked; killing it. Its log ({}):\n{}",
                    self.log.display(),
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
                let _ = self.process.kill().await;
            }
        }
    }
}

/// One tab, attached over the browser's pipe.
pub struct Page {
    cdp: Arc<Connection>,
    session: String,
}

impl Page {
    async fn call(&self, method: &str, params: Value) -> anyhow::Result<Value> {
        self.cdp.call(Some(&self.session), method, params).await
    }

    /// The value of a JavaScript expression (JSON-serialisable values only);
    /// an exception thrown by it is an error.
    pub async fn evaluate(&self, expression: &str) -> anyhow::Result<Value> {
        let answer = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true }),
            )
            .await?;
        if let Some(exception) = answer.get("exceptionDetails") {
            bail!("`{expression}` threw: {exception}");
        }
        Ok(answer["result"]
            .get("value")
            .cloned()
            .unwrap_or(Value::Null))
    }

    /// Open `url` and wait until its document has loaded (the old one is
    /// marked first, so its own `readyState` cannot be taken for the new);
    /// a page that never loads fails the test as [`wait_until`] does.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        // about:blank and a closed document may refuse; that is fine.
        let _ = self.evaluate("window.__wwLeaving = true").await;
        let navigated = self.call("Page.navigate", json!({ "url": url })).await?;
        if let Some(error) = navigated.get("errorText").and_then(Value::as_str) {
            bail!("cannot open {url}: {error}");
        }
        wait_until(
            self,
            Duration::from_secs(30),
            &format!("{url} to load"),
            "!window.__wwLeaving && document.readyState === 'complete'",
        )
        .await;
        Ok(())
    }

    /// The address the tab shows.
    pub async fn url(&self) -> String {
        match self.evaluate("location.href").await {
            Ok(Value::String(url)) => url,
            _ => String::new(),
        }
    }

    /// Click the middle of the element `selector` finds, as a mouse would
    /// (after bringing the tab to the front: only it gets input).
    pub async fn click(&self, selector: &str) -> anyhow::Result<()> {
        self.call("Page.bringToFront", json!({})).await?;
        let selector_js = serde_json::to_string(selector)?;
        let centre = self
            .evaluate(&format!(
                "(() => {{ const e = document.querySelector({selector_js}); if (!e) return null; \
                 e.scrollIntoView({{ block: 'center', inline: 'center' }}); \
                 const r = e.getBoundingClientRect(); \
                 return [r.left + r.width / 2, r.top + r.height / 2]; }})()"
            ))
            .await?;
        let (Some(x), Some(y)) = (centre[0].as_f64(), centre[1].as_f64()) else {
            bail!("no {selector} on {}", self.url().await);
        };
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            )
            .await
            .with_context(|| format!("{kind} on {selector}"))?;
        }
        Ok(())
    }

    /// Click into the field `selector` finds and type `text`.
    pub async fn type_into(&self, selector: &str, text: &str) -> anyhow::Result<()> {
        self.click(selector).await?;
        self.call("Input.insertText", json!({ "text": text }))
            .await?;
        Ok(())
    }
}

/// Run `script` (an expression) in the page until it is truthy: pages
/// navigate and update live, so every check waits rather than looks once.
pub async fn wait_until(page: &Page, timeout: Duration, what: &str, script: &str) {
    let deadline = Instant::now() + timeout;
    loop {
        // During a navigation the old document is gone: that is "not yet".
        if let Ok(Value::Bool(true)) = page.evaluate(&format!("!!({script})")).await {
            return;
        }
        if Instant::now() > deadline {
            let url = page.url().await;
            let text = page
                .evaluate("document.body ? document.body.innerText : ''")
                .await
                .ok()
                .and_then(|r| r.as_str().map(str::to_owned))
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
    match page.evaluate(script).await {
        Ok(Value::String(text)) => text,
        Ok(other) => panic!("`{script}` gave no string: {other}"),
        Err(e) => panic!("`{script}` failed: {e:#}"),
    }
}

/// What the screen shows now, as a PNG.
pub async fn screenshot(page: &Page) -> Vec<u8> {
    let shot = page
        .call("Page.captureScreenshot", json!({ "format": "png" }))
        .await
        .expect("a screenshot");
    let data = shot["data"].as_str().expect("the screenshot's data");
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("the screenshot in base64")
}
