//! A real MQTT broker for a test: a Mosquitto process on a free port with
//! persistent sessions and large queues, or the embedded broker when
//! Mosquitto is not installed.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestBroker {
    pub port: u16,
    pub kind: &'static str,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

fn mosquitto_binary() -> Option<PathBuf> {
    [
        "/usr/sbin/mosquitto",
        "/usr/bin/mosquitto",
        "/usr/local/sbin/mosquitto",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

impl TestBroker {
    pub fn start() -> TestBroker {
        let dir = tempfile::tempdir().expect("a temp dir");
        let port = crate::free_port();
        let Some(binary) = mosquitto_binary() else {
            eprintln!("mosquitto is not installed: using the embedded broker");
            waterwatch::broker::start(([127, 0, 0, 1], port).into(), 1 << 20)
                .expect("the embedded broker starts");
            return TestBroker {
                port,
                kind: "embedded",
                child: None,
                _dir: dir,
            };
        };
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 max_queued_messages 0\nmax_inflight_messages 100\nuser root\n"
            ),
        )
        .expect("write the mosquitto config");
        let child = Command::new(binary)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        TestBroker {
            port,
            kind: "mosquitto",
            child: Some(child),
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
