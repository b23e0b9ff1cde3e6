//! Publishing readings to an MQTT broker: topic
//! `{prefix}/meters/{meter_id}/reading`, QoS 1, native JSON.
//!
//! Design: rumqttc moves nothing unless its event loop is polled, so a
//! [`Publisher`] polls it in a task of its own and only ever enqueues from
//! the caller's side (awaiting `publish` from the polling task would deadlock
//! once the request channel filled). The task counts the broker's PubAcks;
//! [`Publisher::flush`] waits until every reading sent has been acknowledged,
//! so "done" means "on the broker". The session is clean: readings in flight
//! when a connection drops are not re-sent after reconnecting, and `flush`
//! reports them as unacknowledged rather than pretending.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use rumqttc::{AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::format::{Format, encode};
use crate::reading::{SimReading, native_batch_json};

/// The topic prefix unless told otherwise.
pub const DEFAULT_TOPIC_PREFIX: &str = "waterwatch";
/// The broker port when the URL gives none.
const DEFAULT_PORT: u16 = 1883;
/// Largest MQTT packet either way; rumqttc's default of 10 KiB is too small for batches.
const MAX_PACKET: usize = 1 << 20;
/// Readings queued towards the event loop before `send` waits.
const REQUEST_QUEUE: usize = 1024;
/// How long `connect` waits for the broker's ConnAck.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause before reconnecting after a lost connection.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// The topic a meter's readings go to.
pub fn reading_topic(prefix: &str, meter_id: &str) -> String {
    format!("{prefix}/meters/{meter_id}/reading")
}

/// Counts of one publisher's messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublishStats {
    /// Messages handed to the MQTT client.
    pub sent: u64,
    /// Messages the broker acknowledged (PubAck).
    pub acked: u64,
}

/// What went wrong while publishing.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("broker URL {url:?}: {reason} (write mqtt://HOST:PORT, e.g. mqtt://127.0.0.1:1883)")]
    BadUrl { url: String, reason: String },
    #[error(
        "cannot connect to the MQTT broker at {broker}: {reason}; is it running and reachable?"
    )]
    Connect { broker: String, reason: String },
    #[error("the connection to the MQTT broker at {broker} has stopped: {reason}")]
    Stopped { broker: String, reason: String },
    #[error(
        "the MQTT broker at {broker} acknowledged {} of {} messages within {timeout:?}{}",
        stats.acked, stats.sent, reason.as_ref().map(|r| format!(" (last error: {r})")).unwrap_or_default()
    )]
    NotAcknowledged {
        broker: String,
        stats: PublishStats,
        timeout: Duration,
        reason: Option<String>,
    },
}

/// The event loop task's view of the connection.
#[derive(Clone, Debug, Default)]
struct Link {
    connected: bool,
    acked: u64,
    last_error: Option<String>,
    stopped: bool,
}

/// A connection to a broker that publishes readings and tracks their PubAcks.
pub struct Publisher {
    client: AsyncClient,
    broker: String,
    prefix: String,
    sent: u64,
    link: watch::Receiver<Link>,
    closing: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Publisher {
    /// Connects to `broker_url` (`mqtt://host:port` or `tcp://host:port`) and
    /// waits for the broker to accept the connection.
    pub async fn connect(broker_url: &str, topic_prefix: &str) -> Result<Publisher, PublishError> {
        Publisher::connect_with_window(broker_url, topic_prefix, 100).await
    }

    /// As [`Publisher::connect`], with at most `inflight` messages sent and
    /// not yet acknowledged at any time (1 to 65 535).
    pub async fn connect_with_window(
        broker_url: &str,
        topic_prefix: &str,
        inflight: u16,
    ) -> Result<Publisher, PublishError> {
        let (host, port) = parse_broker_url(broker_url)?;
        let broker = format!("{host}:{port}");
        let mut options = MqttOptions::new(client_id(), host, port);
        options
            .set_keep_alive(Duration::from_secs(30))
            .set_clean_session(true)
            .set_max_packet_size(MAX_PACKET, MAX_PACKET)
            .set_inflight(inflight.max(1));
        let (client, eventloop) = AsyncClient::new(options, REQUEST_QUEUE);
        let (tx, mut link) = watch::channel(Link::default());
        let closing = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(drive(eventloop, tx, closing.clone()));

        // Clone out of the watch guard: holding it would block the task's writes.
        let ready = tokio::time::timeout(CONNECT_TIMEOUT, async {
            link.wait_for(|l| l.connected || l.stopped)
                .await
                .map(|l| l.clone())
        })
        .await;
        let failure = match ready {
            Ok(Ok(l)) if l.connected => None,
            Ok(Ok(l)) => Some(
                l.last_error
                    .clone()
                    .unwrap_or_else(|| "connection closed".into()),
            ),
            Ok(Err(_)) => Some("connection task ended".into()),
            Err(_) => Some(format!("no answer within {CONNECT_TIMEOUT:?}")),
        };
        if let Some(reason) = failure {
            task.abort();
            return Err(PublishError::Connect { broker, reason });
        }
        Ok(Publisher {
            client,
            broker,
            prefix: topic_prefix.to_string(),
            sent: 0,
            link,
            closing,
            task,
        })
    }

    /// Queues each reading as its own message on its meter's topic. Waits
    /// only when the queue towards the broker is full.
    pub async fn send(&mut self, readings: &[SimReading]) -> Result<(), PublishError> {
        for r in readings {
            let topic = reading_topic(&self.prefix, &r.meter_id);
            self.enqueue(topic, r.to_native_json()).await?;
        }
        Ok(())
    }

    /// Queues `readings` of one meter as a single batch message on its topic.
    pub async fn send_batch(
        &mut self,
        meter_id: &str,
        readings: &[SimReading],
    ) -> Result<(), PublishError> {
        let topic = reading_topic(&self.prefix, meter_id);
        self.enqueue(topic, native_batch_json(meter_id, readings))
            .await
    }

    /// Queues each reading in `format`: one message each, three for
    /// AI-on-the-edge (see [`crate::encode`]).
    pub async fn send_as(
        &mut self,
        readings: &[SimReading],
        format: Format,
    ) -> Result<(), PublishError> {
        for r in readings {
            for (topic, payload) in encode(r, format, &self.prefix) {
                self.enqueue(topic, payload).await?;
            }
        }
        Ok(())
    }

    /// Queues one message as it is, QoS 1.
    pub async fn send_message(
        &mut self,
        topic: String,
        payload: String,
    ) -> Result<(), PublishError> {
        self.enqueue(topic, payload).await
    }

    /// The native topic prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    async fn enqueue(&mut self, topic: String, payload: String) -> Result<(), PublishError> {
        if let Err(e) = self
            .client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
        {
            let reason = self
                .link
                .borrow()
                .last_error
                .clone()
                .unwrap_or_else(|| e.to_string());
            return Err(PublishError::Stopped {
                broker: self.broker.clone(),
                reason,
            });
        }
        self.sent += 1;
        Ok(())
    }

    /// Messages sent and acknowledged so far.
    pub fn stats(&self) -> PublishStats {
        PublishStats {
            sent: self.sent,
            acked: self.link.borrow().acked,
        }
    }

    /// Waits until the broker has acknowledged every message sent so far.
    pub async fn flush(&mut self, timeout: Duration) -> Result<PublishStats, PublishError> {
        let sent = self.sent;
        let _ = tokio::time::timeout(
            timeout,
            self.link.wait_for(|l| l.acked >= sent || l.stopped),
        )
        .await;
        let stats = self.stats();
        if stats.acked >= stats.sent {
            return Ok(stats);
        }
        let reason = self.link.borrow().last_error.clone();
        Err(PublishError::NotAcknowledged {
            broker: self.broker.clone(),
            stats,
            timeout,
            reason,
        })
    }

    /// Flushes (see [`Publisher::flush`]), then disconnects cleanly.
    pub async fn close(mut self, timeout: Duration) -> Result<PublishStats, PublishError> {
        let flushed = self.flush(timeout).await;
        self.closing.store(true, Ordering::SeqCst);
        if self.client.disconnect().await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(2), self.link.wait_for(|l| l.stopped))
                .await;
        }
        flushed
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        // The event loop holds a request sender of its own, so it would never
        // notice the client going away.
        self.task.abort();
    }
}

/// Connects, publishes `readings` one message each, waits up to `timeout`
/// for all their PubAcks, and disconnects.
pub async fn publish(
    broker_url: &str,
    topic_prefix: &str,
    readings: &[SimReading],
    timeout: Duration,
) -> Result<PublishStats, PublishError> {
    let mut publisher = Publisher::connect(broker_url, topic_prefix).await?;
    publisher.send(readings).await?;
    publisher.close(timeout).await
}

/// Polls the event loop until told to close, counting PubAcks and
/// reconnecting after errors once a first connection has succeeded.
async fn drive(mut eventloop: EventLoop, link: watch::Sender<Link>, closing: Arc<AtomicBool>) {
    let mut ever_connected = false;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                ever_connected = true;
                link.send_modify(|l| l.connected = true);
            }
            Ok(Event::Incoming(Packet::PubAck(_))) => link.send_modify(|l| l.acked += 1),
            Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
            Ok(_) => {}
            Err(ConnectionError::RequestsDone) => break,
            Err(e) => {
                link.send_modify(|l| {
                    l.connected = false;
                    l.last_error = Some(e.to_string());
                });
                if !ever_connected || closing.load(Ordering::SeqCst) {
                    break;
                }
                tokio::time::sleep(RECONNECT_DELAY).await;
            }
        }
    }
    link.send_modify(|l| {
        l.connected = false;
        l.stopped = true;
    });
}

/// Host and port of `mqtt://host[:port]` or `tcp://host[:port]`.
fn parse_broker_url(url: &str) -> Result<(String, u16), PublishError> {
    let bad = |reason: &str| PublishError::BadUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
    match scheme {
        "mqtt" | "tcp" => {}
        "mqtts" | "ssl" | "ws" | "wss" => return Err(bad("only plain TCP (mqtt://) is supported")),
        _ => return Err(bad("unknown scheme")),
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#', '@']) {
        return Err(bad("expected only a host and a port"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?,
    };
    Ok((host.to_string(), port))
}

/// A client id unique to this process and call.
fn client_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "meter-sim-{}-{nanos:x}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls_give_host_and_port() {
        assert_eq!(
            parse_broker_url("mqtt://127.0.0.1:1883").unwrap(),
            ("127.0.0.1".into(), 1883)
        );
        assert_eq!(
            parse_broker_url("tcp://broker.local").unwrap(),
            ("broker.local".into(), 1883)
        );
        assert_eq!(
            parse_broker_url("mqtt://[::1]:2883/").unwrap(),
            ("::1".into(), 2883)
        );
    }

    #[test]
    fn unusable_broker_urls_are_refused_with_the_reason() {
        for (url, why) in [
            ("127.0.0.1:1883", "no scheme"),
            ("mqtts://h:8883", "only plain TCP"),
            ("http://h:80", "unknown scheme"),
            ("mqtt://h:99999", "port is not a number"),
            ("mqtt://:1883", "no host"),
            ("mqtt://u:p@h:1883", "only a host and a port"),
        ] {
            let e = parse_broker_url(url).unwrap_err().to_string();
            assert!(
                e.contains(why) && e.contains("mqtt://HOST:PORT"),
                "{url}: {e}"
            );
        }
    }

    #[test]
    fn topics_follow_the_native_contract() {
        assert_eq!(
            reading_topic("waterwatch", "h0001"),
            "waterwatch/meters/h0001/reading"
        );
        assert_eq!(
            reading_topic("waterwatch/north", "h0002"),
            "waterwatch/north/meters/h0002/reading"
        );
    }

    #[tokio::test]
    async fn connecting_to_a_closed_port_fails_with_a_clear_message() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = Publisher::connect(&format!("mqtt://127.0.0.1:{port}"), "waterwatch")
            .await
            .err()
            .unwrap();
        let text = e.to_string();
        assert!(
            text.starts_with(&format!(
                "cannot connect to the MQTT broker at 127.0.0.1:{port}: "
            )),
            "{text}"
        );
    }
}
