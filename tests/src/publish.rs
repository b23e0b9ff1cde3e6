//! An MQTT publisher for tests: QoS 1, and `flush` waits until the broker has
//! acknowledged everything published.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};

pub struct Publisher {
    client: AsyncClient,
    sent: usize,
    acked: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Publisher {
    pub async fn connect(port: u16, client_id: &str) -> Publisher {
        let mut options = MqttOptions::new(client_id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut eventloop) = AsyncClient::new(options, 256);
        let acked = Arc::new(AtomicUsize::new(0));
        let counter = acked.clone();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        Publisher {
            client,
            sent: 0,
            acked,
            task,
        }
    }

    pub async fn publish(&mut self, topic: &str, payload: impl Into<Vec<u8>>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.into())
            .await
            .expect("publish");
        self.sent += 1;
    }

    /// A native reading on `waterwatch/meters/{meter}/reading`.
    pub async fn reading(&mut self, meter: &str, payload: String) {
        self.publish(&format!("waterwatch/meters/{meter}/reading"), payload)
            .await;
    }

    /// Wait until the broker acknowledged everything published so far.
    pub async fn flush(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while self.acked.load(Ordering::SeqCst) < self.sent {
            assert!(
                std::time::Instant::now() < deadline,
                "the broker did not acknowledge everything"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}
