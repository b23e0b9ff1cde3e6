//! Publishing to a real Mosquitto broker, checked by a subscriber. Skipped,
//! saying why, when Mosquitto is not installed.

mod common;

use std::time::Duration;

use common::{Mosquitto, QUARTER_HOUR, start};
use meter_sim::{Fleet, Publisher, publish, run_live};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// A subscriber collecting (topic, payload) pairs.
struct Subscriber {
    _client: AsyncClient,
    rx: mpsc::UnboundedReceiver<(String, String)>,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    async fn start(broker: &Mosquitto, filter: &str) -> Subscriber {
        let mut options = MqttOptions::new(
            format!("test-sub-{}", std::process::id()),
            "127.0.0.1",
            broker.port,
        );
        options.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut eventloop) = AsyncClient::new(options, 16);
        client.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(ready) = ready.take() {
                            let _ = ready.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = tx.send((
                            p.topic.clone(),
                            String::from_utf8_lossy(&p.payload).into_owned(),
                        ));
                    }
                    Ok(_) => {}
                    Err(e) => panic!("subscriber lost the broker: {e}"),
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(5), ready_rx)
            .await
            .unwrap()
            .unwrap();
        Subscriber {
            _client: client,
            rx,
            task,
        }
    }

    /// The next `n` messages, failing after a few seconds of silence.
    async fn take(&mut self, n: usize) -> Vec<(String, String)> {
        let mut got = Vec::with_capacity(n);
        while got.len() < n {
            match tokio::time::timeout(Duration::from_secs(5), self.rx.recv()).await {
                Ok(Some(m)) => got.push(m),
                _ => panic!("received {} of {n} messages", got.len()),
            }
        }
        got
    }

    /// Whether anything more arrives within a short while.
    async fn is_quiet(&mut self) -> bool {
        tokio::time::timeout(Duration::from_millis(300), self.rx.recv())
            .await
            .is_err()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn published_readings_arrive_on_their_meters_topics_and_are_all_acknowledged() {
    let Some(broker) = Mosquitto::start() else {
        return;
    };
    let mut sub = Subscriber::start(&broker, "waterwatch/meters/+/reading").await;
    let readings = Fleet::new(3, 1, start(), QUARTER_HOUR, vec![])
        .advance(start() + chrono::Duration::hours(1));
    assert_eq!(readings.len(), 15);

    let stats = publish(
        &broker.url(),
        "waterwatch",
        &readings,
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    assert_eq!((stats.sent, stats.acked), (15, 15));

    let got = sub.take(15).await;
    for r in &readings {
        let topic = format!("waterwatch/meters/{}/reading", r.meter_id);
        assert!(
            got.contains(&(topic, r.to_native_json())),
            "missing {}",
            r.to_native_json()
        );
    }
    assert!(sub.is_quiet().await, "more messages than readings");
}

#[tokio::test]
async fn a_batch_larger_than_ten_kibibytes_arrives_whole_under_a_custom_prefix() {
    let Some(broker) = Mosquitto::start() else {
        return;
    };
    let mut sub = Subscriber::start(&broker, "waterwatch/north/meters/#").await;
    let readings = Fleet::new(1, 1, start(), QUARTER_HOUR, vec![])
        .advance(start() + chrono::Duration::days(2));
    assert_eq!(readings.len(), 193);

    let mut publisher = Publisher::connect(&broker.url(), "waterwatch/north")
        .await
        .unwrap();
    publisher.send_batch("h0001", &readings).await.unwrap();
    let stats = publisher.close(Duration::from_secs(10)).await.unwrap();
    assert_eq!((stats.sent, stats.acked), (1, 1));

    let (topic, payload) = sub.take(1).await.remove(0);
    assert_eq!(topic, "waterwatch/north/meters/h0001/reading");
    assert!(payload.len() > 10 * 1024, "only {} bytes", payload.len());
    let batch: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(batch["meter_id"], "h0001");
    assert_eq!(batch["readings"].as_array().unwrap().len(), 193);
}

#[tokio::test]
async fn a_live_run_publishes_each_interval_as_the_accelerated_clock_passes_it() {
    let Some(broker) = Mosquitto::start() else {
        return;
    };
    let mut sub = Subscriber::start(&broker, "waterwatch/meters/+/reading").await;
    let now = chrono::Utc::now().with_timezone(start().offset());
    let mut fleet = Fleet::new(2, 1, now, QUARTER_HOUR, vec![]);
    let first = fleet.next_reading_at();
    let mut publisher = Publisher::connect(&broker.url(), "waterwatch")
        .await
        .unwrap();

    // 9 000× real time: a quarter of an hour every 0.1 s.
    let wall = Duration::from_millis(1_000);
    let mut ticks = 0;
    let progress = run_live(
        &mut fleet,
        &mut publisher,
        9_000.0,
        tokio::time::sleep(wall),
        |_| ticks += 1,
    )
    .await
    .unwrap();
    let stats = publisher.close(Duration::from_secs(10)).await.unwrap();

    assert_eq!(stats.acked, stats.sent);
    assert_eq!(stats.sent, progress.readings);
    let intervals = progress.readings / 2;
    assert!(
        (3..=11).contains(&intervals),
        "{intervals} intervals published in {wall:?} at 9000×"
    );
    assert!(ticks >= 1);

    let got = sub.take(progress.readings as usize).await;
    let mut times: Vec<chrono::DateTime<chrono::FixedOffset>> = got
        .iter()
        .filter(|(topic, _)| topic == "waterwatch/meters/h0002/reading")
        .map(|(_, p)| {
            let v: Value = serde_json::from_str(p).unwrap();
            chrono::DateTime::parse_from_rfc3339(v["ts"].as_str().unwrap()).unwrap()
        })
        .collect();
    times.sort();
    assert_eq!(times[0], first);
    assert!(
        times
            .windows(2)
            .all(|w| w[1] - w[0] == chrono::Duration::minutes(15))
    );
    assert_eq!(*times.last().unwrap(), progress.sim_time);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_sends_at_the_asked_rate_stops_by_itself_and_every_message_is_acknowledged() {
    let Some(broker) = Mosquitto::start() else {
        return;
    };
    let mut sub = Subscriber::start(&broker, "wmbusmeters/+").await;
    let opts = meter_sim::LoadOptions {
        broker: broker.url(),
        prefix: "waterwatch".into(),
        meters: 50,
        rate: 2_000.0,
        duration: Duration::from_millis(1_500),
        format: meter_sim::Format::Wmbusmeters,
        connections: 2,
        inflight: 100,
        utc_offset: *start().offset(),
    };
    let began = std::time::Instant::now();
    let report = meter_sim::run_load(&opts).await.unwrap();
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "load did not stop"
    );
    assert_eq!(report.acked, report.sent);
    assert!(
        (2_000..=3_200).contains(&report.sent),
        "sent {} at 2000/s for 1.5 s",
        report.sent
    );
    let got = sub.take(100).await;
    let v: Value = serde_json::from_str(&got[0].1).unwrap();
    assert_eq!(v["_"], "telegram");
    assert!(got[0].0.starts_with("wmbusmeters/h00"));
}

#[tokio::test]
async fn daily_batches_arrive_once_a_day_per_meter_at_its_upload_time() {
    let Some(broker) = Mosquitto::start() else {
        return;
    };
    let mut sub = Subscriber::start(&broker, "waterwatch/meters/+/reading").await;
    let now = chrono::Utc::now().with_timezone(start().offset());
    let mut fleet = Fleet::new(2, 1, now, Duration::from_secs(3600), vec![]);
    let schedule = fleet.upload_schedule();
    let mut publisher = Publisher::connect(&broker.url(), "waterwatch")
        .await
        .unwrap();
    let options = meter_sim::LiveOptions {
        daily_batches: true,
        ..Default::default()
    };
    // 360 000× real time: two simulated days in about half a second.
    let progress = meter_sim::run_live_with(
        &mut fleet,
        &mut publisher,
        360_000.0,
        &options,
        tokio::time::sleep(Duration::from_millis(700)),
        |_| {},
    )
    .await
    .unwrap();
    let stats = publisher.close(Duration::from_secs(10)).await.unwrap();
    assert!(
        progress.readings >= 2 * 48,
        "only {} readings",
        progress.readings
    );
    assert!(
        stats.sent >= 4 && stats.sent < progress.readings / 4,
        "{} messages",
        stats.sent
    );
    for (topic, payload) in sub.take(stats.sent as usize).await {
        let v: Value = serde_json::from_str(&payload).unwrap();
        let id = v["meter_id"].as_str().unwrap();
        assert_eq!(topic, format!("waterwatch/meters/{id}/reading"));
        let last = v["readings"].as_array().unwrap().last().unwrap()["ts"]
            .as_str()
            .unwrap();
        let last = chrono::DateTime::parse_from_rfc3339(last).unwrap();
        let upload = schedule.next_upload(id, last).unwrap();
        assert_eq!(upload.time(), schedule.upload_time(id).unwrap());
        assert!(
            upload - last < chrono::Duration::hours(1),
            "batch ends {last}, upload {upload}"
        );
    }
}
