//! Real servers for the channel tests: an SMTP sink (aiosmtpd, a separate
//! process) and a recording HTTP server (axum on 127.0.0.1:0).

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};

pub const PYTHON: &str = "/usr/bin/python3";

/// Why the SMTP tests cannot run here, if they cannot.
pub fn aiosmtpd_missing() -> Option<String> {
    match Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .output()
    {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "{PYTHON} cannot import aiosmtpd (apt-get install -y python3-aiosmtpd): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!("cannot run {PYTHON}: {e}")),
    }
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// aiosmtpd writing every message into a Maildir; killed on drop.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl SmtpSink {
    pub fn start(port: u16, dir: &Path) -> SmtpSink {
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.join(sub)).expect("create the Maildir");
        }
        let child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let sink = SmtpSink {
            child,
            port,
            dir: dir.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        sink
    }

    /// The delivered messages, parsed by Python's `email` package:
    /// `{"from","to","subject","key","message_id","body"}` each.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        files.iter().map(|f| parse_mail(f)).collect()
    }

    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.kill();
    }
}

const PARSE: &str = "import email, email.policy, json, sys\n\
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n\
print(json.dumps({'from': m['From'], 'to': m['To'], 'subject': m['Subject'],\n\
  'key': m['X-Waterwatch-Idempotency-Key'], 'message_id': m['Message-ID'],\n\
  'content_type': m.get_content_type(), 'charset': m.get_content_charset(),\n\
  'body': m.get_content()}))\n";

fn parse_mail(path: &Path) -> serde_json::Value {
    let out = Command::new(PYTHON)
        .args(["-c", PARSE])
        .arg(path)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

/// One request as the recording server saw it.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

struct Shared {
    requests: Mutex<Vec<Captured>>,
    replies: Mutex<Vec<(u16, String)>>,
}

/// An HTTP server that records every request and answers with the queued
/// replies in order (the last one repeats).
pub struct Recorder {
    pub url: String,
    shared: Arc<Shared>,
}

impl Recorder {
    pub async fn start(replies: &[(u16, &str)]) -> Recorder {
        let shared = Arc::new(Shared {
            requests: Mutex::new(Vec::new()),
            replies: Mutex::new(replies.iter().map(|(s, b)| (*s, (*b).to_owned())).collect()),
        });
        let app = Router::new().fallback(record).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Recorder {
            url: format!("http://{addr}"),
            shared,
        }
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.shared.requests.lock().expect("lock").clone()
    }
}

async fn record(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    shared.requests.lock().expect("lock").push(Captured {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        headers,
        body,
    });
    let mut replies = shared.replies.lock().expect("lock");
    let (status, body) = if replies.len() > 1 {
        replies.remove(0)
    } else {
        replies.first().cloned().unwrap_or((200, String::new()))
    };
    (StatusCode::from_u16(status).expect("status"), body)
}

/// `a=1&b=x%20y` → pairs, decoded (also `+` as space), in order.
pub fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                urlencoding::decode(&s.replace('+', " "))
                    .expect("valid percent-encoding")
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

pub fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
