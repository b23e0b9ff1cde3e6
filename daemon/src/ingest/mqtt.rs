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

impl Acker {
    pub async fn ack(&self, delivery: &Delivery) {
        if delivery.publish.qos == QoS::AtMostOnce {
            return;
        }
        if let Err(e) = self.client.ack(&delivery.publish).await {
            // The broker will redeliver; the reading is stored idempotently.
            tracing::warn!(error = %e, "could not acknowledge a stored message");
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
    let (client, eventloop) = AsyncClient::new(options, 1024);
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
