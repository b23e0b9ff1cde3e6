//! The daemon under test, as a child process with its own config file,
//! SQLite database and log file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The daemon binary built by this package; expands in the integration test
/// where Cargo defines its path.
#[macro_export]
macro_rules! daemon_binary {
    () => {
        std::path::Path::new(env!("CARGO_BIN_EXE_waterwatch-under-test"))
    };
}

pub struct DaemonProcess {
    pub http_port: u16,
    binary: PathBuf,
    pub dir: PathBuf,
    config: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
    runs: u32,
}

impl DaemonProcess {
    /// Write `config` (TOML) into `dir` and start the daemon with it. The
    /// config must set `http.listen` to `127.0.0.1:{http_port}`.
    pub fn start(
        binary: &Path,
        dir: &Path,
        http_port: u16,
        config: &str,
        env: &[(&str, &str)],
    ) -> DaemonProcess {
        let path = dir.join("waterwatch.toml");
        std::fs::write(&path, config).expect("write the daemon config");
        let mut daemon = DaemonProcess {
            http_port,
            binary: binary.to_owned(),
            dir: dir.to_owned(),
            config: path,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            child: None,
            runs: 0,
        };
        daemon.spawn();
        daemon
    }

    /// The daemon `binary` on the default test configuration (`config`)
    /// against `broker`, in a fresh directory, started and ready.
    pub async fn running(
        binary: &Path,
        broker: &crate::broker::TestBroker,
    ) -> (DaemonProcess, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let http_port = crate::free_port();
        let text = config(&broker.url(), http_port, &dir.path().join("ww.db"), None);
        let mut daemon = DaemonProcess::start(binary, dir.path(), http_port, &text, &[]);
        daemon.wait_ready().await;
        (daemon, dir)
    }

    fn spawn(&mut self) {
        self.runs += 1;
        let log = std::fs::File::create(self.dir.join(format!("daemon-{}.log", self.runs)))
            .expect("create the daemon log");
        let child = Command::new(&self.binary)
            .arg("run")
            .arg("--config")
            .arg(&self.config)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RUST_LOG", "info,rumqttd=warn,sqlx=warn")
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the daemon starts");
        self.child = Some(child);
    }

    /// Everything the daemon logged, across restarts.
    pub fn logs(&self) -> String {
        (1..=self.runs)
            .map(|run| {
                std::fs::read_to_string(self.dir.join(format!("daemon-{run}.log")))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n----- restart -----\n")
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Wait until `/readyz` says the database and the broker are both up.
    pub async fn wait_ready(&mut self) {
        let client = crate::http();
        let url = format!("{}/readyz", self.base_url());
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("the daemon exited with {status}:\n{}", self.logs());
            }
            if let Ok(r) = client.get(&url).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the daemon did not become ready:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn metrics(&self) -> String {
        crate::http()
            .get(format!("{}/metrics", self.base_url()))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics body")
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait for a graceful exit; returns how long it took.
    pub fn terminate(&mut self) -> Duration {
        let started = std::time::Instant::now();
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = started + Duration::from_secs(15);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if std::time::Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "the daemon did not stop within 15 s of SIGTERM:\n{}",
                        self.logs()
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        started.elapsed()
    }

    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A daemon config for tests: external broker, SQLite in `dir`, one webhook.
pub fn config(broker_url: &str, http_port: u16, db: &Path, webhook_url: Option<&str>) -> String {
    let mut text = format!(
        "[broker]\nenabled = false\n\n[mqtt]\nurl = \"{broker_url}\"\nclient_id = \"waterwatch-test\"\n\n\
         [store]\nurl = \"sqlite://{}\"\n\n[http]\nlisten = \"127.0.0.1:{http_port}\"\n",
        db.display()
    );
    if let Some(url) = webhook_url {
        text.push_str(&format!(
            "\n[[webhook]]\nname = \"grid\"\nurl = \"{url}\"\nsecret_env = \"WW_TEST_WEBHOOK_SECRET\"\ntimeout = \"5s\"\n"
        ));
    }
    text
}

/// The environment variable the link secret of [`links_and_mail`] is read
/// from, and its value: pass it to [`DaemonProcess::start`].
pub const LINK_SECRET: (&str, &str) = ("WW_TEST_LINK_SECRET", "link-secret");

/// Config sections for signed links to the daemon on `http_port` (secret
/// from [`LINK_SECRET`]) and one email channel, `mail`, through the SMTP
/// server on `smtp_port`.
pub fn links_and_mail(http_port: u16, smtp_port: u16) -> String {
    format!(
        "\n[links]\nbase_url = \"http://127.0.0.1:{http_port}\"\nsecret_env = \"{}\"\nvalid_for = \"2h\"\n\n\
         [[email]]\nname = \"mail\"\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"none\"\nfrom = \"waterwatch@example.org\"\n",
        LINK_SECRET.0
    )
}
