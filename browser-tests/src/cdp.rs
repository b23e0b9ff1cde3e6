//! The Chrome DevTools Protocol over Chromium's debugging pipe.
//!
//! Started with `--remote-debugging-pipe`, Chromium reads commands on its
//! file descriptor 3 and writes answers and events on 4, each message one
//! JSON object followed by a NUL byte. That needs no port, no WebSocket and
//! no client library: a command is `{"id", "method", "params"}` (plus the
//! `sessionId` of a tab), its answer carries the same `id`. Events are read
//! and dropped; the test polls the page instead of listening.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a command may wait for its answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Commands waiting for their answers, by id; `None` once the pipe closed.
type Waiting = Arc<Mutex<Option<HashMap<u64, oneshot::Sender<Value>>>>>;

/// One debugging pipe: commands go in, answers come back to whoever asked.
pub struct Connection {
    input: tokio::sync::Mutex<Box<dyn AsyncWrite + Send + Unpin>>,
    waiting: Waiting,
    next_id: AtomicU64,
    reader: JoinHandle<()>,
}

impl Connection {
    /// Talk to the browser over `input` (its fd 3) and `output` (its fd 4).
    pub fn new(
        input: impl AsyncWrite + Send + Unpin + 'static,
        output: impl AsyncRead + Send + Unpin + 'static,
    ) -> Connection {
        let waiting = Arc::new(Mutex::new(Some(HashMap::new())));
        let reader = tokio::spawn(deliver_answers(output, Arc::clone(&waiting)));
        Connection {
            input: tokio::sync::Mutex::new(Box::new(input)),
            waiting,
            next_id: AtomicU64::new(1),
            reader,
        }
    }

    /// Send `method` (to a tab's `session`, or to the browser) and wait for
    /// its result; a protocol error comes back as an error naming the method.
    pub async fn call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> anyhow::Result<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = Value::from(session);
        }
        let mut bytes = serde_json::to_vec(&message)?;
        bytes.push(0);
        let (tx, rx) = oneshot::channel();
        match lock(&self.waiting).as_mut() {
            Some(waiting) => waiting.insert(id, tx),
            None => bail!("Chromium's pipe is closed: cannot send {method}"),
        };
        let sent = async {
            let mut input = self.input.lock().await;
            input.write_all(&bytes).await?;
            input.flush().await
        };
        if let Err(e) = sent.await {
            self.forget(id);
            return Err(e).with_context(|| format!("sending {method} to Chromium"));
        }
        let answer = match tokio::time::timeout(ANSWER_TIMEOUT, rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => bail!("Chromium closed its pipe before answering {method}"),
            Err(_) => {
                self.forget(id);
                bail!("Chromium did not answer {method} within {ANSWER_TIMEOUT:?}");
            }
        };
        if let Some(error) = answer.get("error") {
            return Err(anyhow!("{method} failed: {error}"));
        }
        Ok(answer.get("result").cloned().unwrap_or(Value::Null))
    }

    fn forget(&self, id: u64) {
        if let Some(waiting) = lock(&self.waiting).as_mut() {
            waiting.remove(&id);
        }
    }
}

fn lock(
    waiting: &Waiting,
) -> std::sync::MutexGuard<'_, Option<HashMap<u64, oneshot::Sender<Value>>>> {
    waiting.lock().unwrap_or_else(|e| e.into_inner())
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Read NUL-ended messages until the pipe closes, handing each answer to
/// the command waiting for it. At the end the waiting commands' senders
/// are dropped, so they fail at once instead of timing out, and so does
/// every later command.
async fn deliver_answers(output: impl AsyncRead + Unpin, waiting: Waiting) {
    let mut output = BufReader::new(output);
    let mut message = Vec::new();
    loop {
        message.clear();
        match output.read_until(0, &mut message).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if message.last() == Some(&0) {
            message.pop();
        }
        // Events have no id; a message that is not JSON is not an answer.
        let Ok(parsed) = serde_json::from_slice::<Value>(&message) else {
            continue;
        };
        let Some(id) = parsed.get("id").and_then(Value::as_u64) else {
            continue;
        };
        let asked = lock(&waiting).as_mut().and_then(|w| w.remove(&id));
        if let Some(asked) = asked {
            let _ = asked.send(parsed);
        }
    }
    lock(&waiting).take();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake browser on the other end of two in-memory pipes: it answers
    /// each command with its method echoed, out of order when asked.
    async fn answer(
        mut commands: impl AsyncRead + Unpin,
        mut answers: impl AsyncWrite + Unpin,
        how_many: usize,
    ) {
        let mut commands = BufReader::new(&mut commands);
        let mut received = Vec::new();
        for _ in 0..how_many {
            let mut message = Vec::new();
            commands.read_until(0, &mut message).await.unwrap();
            message.pop();
            received.push(serde_json::from_slice::<Value>(&message).unwrap());
        }
        // An event first, then the answers last to first.
        answers
            .write_all(b"{\"method\":\"Page.loadEventFired\",\"params\":{}}\0")
            .await
            .unwrap();
        for command in received.iter().rev() {
            let reply = if command["method"] == "Bad.method" {
                json!({ "id": command["id"], "error": { "code": -32601, "message": "not found" } })
            } else {
                json!({ "id": command["id"], "result": {
                    "method": command["method"], "session": command["sessionId"] } })
            };
            let mut bytes = serde_json::to_vec(&reply).unwrap();
            bytes.push(0);
            answers.write_all(&bytes).await.unwrap();
        }
    }

    #[tokio::test]
    async fn answers_reach_the_command_that_asked_whatever_their_order() {
        let (ours, browsers_in) = tokio::io::duplex(4096);
        let (browsers_out, theirs) = tokio::io::duplex(4096);
        let browser = tokio::spawn(answer(browsers_in, browsers_out, 3));
        let cdp = Connection::new(ours, theirs);
        let (a, b, c) = tokio::join!(
            cdp.call(None, "Browser.getVersion", json!({})),
            cdp.call(Some("S1"), "Runtime.evaluate", json!({ "expression": "1" })),
            cdp.call(Some("S2"), "Bad.method", json!({})),
        );
        assert_eq!(
            a.unwrap(),
            json!({ "method": "Browser.getVersion", "session": null })
        );
        assert_eq!(
            b.unwrap(),
            json!({ "method": "Runtime.evaluate", "session": "S1" })
        );
        let error = c.unwrap_err().to_string();
        assert!(
            error.contains("Bad.method failed") && error.contains("not found"),
            "{error}"
        );
        browser.await.unwrap();
    }

    #[tokio::test]
    async fn a_closed_pipe_fails_the_waiting_command_at_once() {
        let (ours, browsers_in) = tokio::io::duplex(4096);
        let (browsers_out, theirs) = tokio::io::duplex(4096);
        let cdp = Connection::new(ours, theirs);
        // The browser reads the command, then exits without answering.
        let browser = tokio::spawn(async move {
            let mut commands = BufReader::new(browsers_in);
            let mut message = Vec::new();
            commands.read_until(0, &mut message).await.unwrap();
            drop(browsers_out);
        });
        let started = std::time::Instant::now();
        let error = cdp
            .call(None, "Browser.close", json!({}))
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("closed its pipe"), "{error}");
        assert!(
            started.elapsed() < ANSWER_TIMEOUT,
            "it waited for the timeout"
        );
        let later = cdp.call(None, "Browser.getVersion", json!({})).await;
        assert!(later.unwrap_err().to_string().contains("pipe is closed"));
        browser.await.unwrap();
    }
}
