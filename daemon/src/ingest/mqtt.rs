//! The MQTT source: a persistent QoS 1 subscription whose messages are
//! acknowledged only after the processor has committed them.
//!
//! Design: the event loop task is the only place that touches the network. It
//! forwards publishes into a bounded channel and never awaits the client
//! (rumqttc deadlocks when the polling task awaits its own request channel).
//! Acks travel back through the client from the processor task.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, Publish, QoS};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// One message taken from the broker, to be acknowledged after it is stored.
#[derive(Debug)]
pub struct Delivery {
    pub topic: String,
    pub payload: Bytes,
    publish: Publish,
}

impl Delivery {
    /// For tests and the replay path: a delivery with nothing to acknowledge.
    pub fn unacked(topic: &str, payload: impl Into<Bytes>) -> Self {
        let payload = payload.into();
        Self {
            topic: topic.to_owned(),
            payload: payload.clone(),
            publish: Publish::new(topic, QoS::AtMostOnce, payload),
        }
    }
}

/// Acknowledges deliveries once they are safely stored.
#[derive(Clone)]
pub struct Acker {
    client: AsyncClient,
}

/// Acknowledgements of stored messages, waiting for room in the client's
/// request channel.
///
/// Design: the event loop takes one request per poll and may itself be
/// waiting to hand the processor its next message; an ack that *waited* for
/// room could therefore wait forever (and did, under load). Acks are queued
/// here and offered without waiting; whatever does not fit is offered again
/// moments later, while the processor goes on draining messages.
pub struct AckQueue {
    acker: Option<Acker>,
    pending: std::collections::VecDeque<Publish>,
}

impl AckQueue {
    pub fn new(acker: Option<Acker>) -> Self {
        Self {
            acker,
            pending: std::collections::VecDeque::new(),
        }
    }

    /// Queue the acks of a stored batch and offer what fits.
    pub fn stored(&mut self, batch: &[Delivery]) {
        if self.acker.is_some() {
            self.pending.extend(
                batch
                    .iter()
                    .filter(|d| d.publish.qos != QoS::AtMostOnce)
                    .map(|d| d.publish.clone()),
            );
        }
        self.offer();
    }

    /// Hand over as many queued acks as the client takes now.
    pub fn offer(&mut self) {
        let Some(acker) = &self.acker else { return };
        while let Some(publish) = self.pending.front() {
            match acker.client.try_ack(publish) {
                Ok(()) => {
                    self.pending.pop_front();
                }
                Err(rumqttc::ClientError::TryRequest(_)) => return,
                Err(e) => {
                    // The broker will redeliver; the reading is stored idempotently.
                    tracing::warn!(error = %e, "could not acknowledge a stored message");
                    self.pending.pop_front();
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// At shutdown: wait (a bounded time) until every ack is handed over.
    pub async fn finish(&mut self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while !self.is_empty() && tokio::time::Instant::now() < deadline {
            self.offer();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

pub struct Settings {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    pub credentials: Option<(String, String)>,
    pub keep_alive: Duration,
    pub max_packet_bytes: usize,
    /// Messages that can be taken from the broker and not yet acknowledged
    /// (the delivery channel plus one batch being stored).
    pub max_unacked: usize,
}

/// Connect (lazily: the first poll connects) and return the acker and the
/// event loop to drive with [`run`].
pub fn client(settings: &Settings) -> (Acker, AsyncClient, EventLoop) {
    let mut options = MqttOptions::new(&settings.client_id, &settings.host, settings.port);
    options
        .set_clean_session(false)
        .set_manual_acks(true)
        .set_keep_alive(settings.keep_alive)
        .set_max_packet_size(settings.max_packet_bytes, settings.max_packet_bytes)
        .set_inflight(100);
    if let Some((user, password)) = &settings.credentials {
        options.set_credentials(user, password);
    }
    // Design: the processor acknowledges through this request channel while
    // the event loop may be blocked handing it the next message; if the
    // channel could fill with acks, each would wait for the other. Room for
    // every message that can be unacknowledged at once rules that out.
    let (client, eventloop) = AsyncClient::new(options, settings.max_unacked + 1024);
    (
        Acker {
            client: client.clone(),
        },
        client,
        eventloop,
    )
}

/// The event loop task's parts.
pub struct Source {
    pub client: AsyncClient,
    pub eventloop: EventLoop,
    pub filters: Vec<String>,
    pub tx: mpsc::Sender<Delivery>,
    pub metrics: Arc<Metrics>,
    pub connected: Arc<std::sync::atomic::AtomicBool>,
}

impl Source {
    /// Drive the event loop: forward publishes until `stop_taking` is
    /// cancelled, then keep polling (so pending acks go out) until `close` is
    /// cancelled, then disconnect.
    pub async fn run(self, stop_taking: CancellationToken, close: CancellationToken) {
        let Source {
            client,
            mut eventloop,
            filters,
            tx,
            metrics,
            connected,
        } = self;
        let mut backoff = Duration::from_millis(200);
        loop {
            let event = tokio::select! {
                _ = close.cancelled() => break,
                event = eventloop.poll() => event,
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    backoff = Duration::from_millis(200);
                    metrics.mqtt_connected.set(1);
                    connected.store(true, std::sync::atomic::Ordering::Relaxed);
                    tracing::info!(
                        session_present = ack.session_present,
                        "connected to the MQTT broker"
                    );
                    // Subscribing again is harmless when the session kept the
                    // subscriptions, and picks up adapters added since.
                    for filter in &filters {
                        if let Err(e) = client.try_subscribe(filter.clone(), QoS::AtLeastOnce) {
                            tracing::error!(error = %e, "cannot subscribe to {filter}");
                        }
                    }
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    if stop_taking.is_cancelled() {
                        // Not acknowledged: the broker redelivers it next time.
                        continue;
                    }
                    metrics.messages_received.inc();
                    let delivery = Delivery {
                        topic: publish.topic.clone(),
                        payload: publish.payload.clone(),
                        publish,
                    };
                    tokio::select! {
                        _ = stop_taking.cancelled() => {}
                        sent = tx.send(delivery) => {
                            if sent.is_err() {
                                stop_taking.cancel();
                            }
                        }
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    metrics.mqtt_connected.set(0);
                    connected.store(false, std::sync::atomic::Ordering::Relaxed);
                    tracing::warn!(error = %e, retry_in = ?backoff, "MQTT connection lost");
                    tokio::select! {
                        _ = close.cancelled() => break,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
        let _ = client.try_disconnect();
        // Give the disconnect a moment to reach the broker.
        let _ = tokio::time::timeout(Duration::from_millis(200), async {
            while let Ok(event) = eventloop.poll().await {
                if matches!(event, Event::Outgoing(rumqttc::Outgoing::Disconnect)) {
                    break;
                }
            }
        })
        .await;
        metrics.mqtt_connected.set(0);
        connected.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored_qos1(n: u16) -> Vec<Delivery> {
        (1..=n)
            .map(|pkid| {
                let mut publish =
                    Publish::new("waterwatch/meters/m/reading", QoS::AtLeastOnce, "{}");
                publish.pkid = pkid;
                Delivery {
                    topic: publish.topic.clone(),
                    payload: publish.payload.clone(),
                    publish,
                }
            })
            .collect()
    }

    #[tokio::test]
    async fn acks_that_do_not_fit_wait_in_the_queue_instead_of_blocking_the_processor() {
        // A client whose event loop is never polled: its request channel holds 3.
        let options = MqttOptions::new("t", "127.0.0.1", 9);
        let (client, _eventloop) = AsyncClient::new(options, 3);
        let mut acks = AckQueue::new(Some(Acker { client }));
        acks.stored(&stored_qos1(5));
        assert!(!acks.is_empty(), "two acks wait for room");
        assert_eq!(acks.pending.len(), 2);
        acks.offer();
        assert_eq!(acks.pending.len(), 2, "still no room, still no blocking");
    }

    #[tokio::test]
    async fn qos0_messages_need_no_ack() {
        let options = MqttOptions::new("t", "127.0.0.1", 9);
        let (client, _eventloop) = AsyncClient::new(options, 3);
        let mut acks = AckQueue::new(Some(Acker { client }));
        acks.stored(&[Delivery::unacked("t", "x")]);
        assert!(acks.is_empty());
    }
}
