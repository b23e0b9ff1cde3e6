//! What happens around delivery, as timelines with a controlled clock on
//! each store backend: a notification that fails for good escalates the
//! case and tells ops; the daily reassurance goes once a day, never during
//! a case or away.

mod common;

use common::{offset, on as at};

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::Row;
use tokio::sync::Notify;
use waterwatch::case::Route;
use waterwatch::clock::ManualClock;
use waterwatch::ingest::mqtt::Delivery;
use waterwatch::metrics::Metrics;
use waterwatch::notify::contacts::ContactConfig;
use waterwatch::process::{Processor, Settings};
use waterwatch::store::{self, Store};
use waterwatch_rules::RuleSet;

fn reading(meter: &str, t: DateTime<Utc>, total: i64, status: &[&str]) -> Delivery {
    Delivery::unacked(
        &format!("waterwatch/meters/{meter}/reading"),
        json!({
            "meter_id": meter,
            "ts": t.with_timezone(&offset()).to_rfc3339(),
            "total_l": total,
            "status": status,
        })
        .to_string(),
    )
}

fn contacts(text: &str) -> Vec<ContactConfig> {
    toml::from_str::<BTreeMap<String, Vec<ContactConfig>>>(text)
        .expect("contacts")
        .remove("contact")
        .expect("a [[contact]] list")
}

async fn processor(
    store: &Store,
    clock: Arc<ManualClock>,
    settings: Settings,
    metrics: Arc<Metrics>,
) -> Processor {
    Processor::load(
        store.clone(),
        RuleSet::default_rules(),
        metrics,
        clock,
        settings,
        Arc::new(Notify::new()),
    )
    .await
    .expect("processor loads")
}

/// (id, channel, purpose, status, payload) of every outbox entry, oldest first.
async fn outbox(store: &Store) -> Vec<(i64, String, String, String, serde_json::Value)> {
    sqlx::query("SELECT id, channel, purpose, status, payload FROM outbox ORDER BY id")
        .fetch_all(store.pool())
        .await
        .expect("outbox")
        .iter()
        .map(|r| {
            (
                r.get::<i64, _>("id"),
                r.get::<String, _>("channel"),
                r.get::<String, _>("purpose"),
                r.get::<String, _>("status"),
                serde_json::from_str(&r.get::<String, _>("payload")).expect("a message"),
            )
        })
        .collect()
}

async fn audit(store: &Store) -> Vec<(String, String)> {
    sqlx::query("SELECT kind, detail FROM case_events ORDER BY id")
        .fetch_all(store.pool())
        .await
        .expect("audit")
        .iter()
        .map(|r| (r.get::<String, _>("kind"), r.get::<String, _>("detail")))
        .collect()
}

/// 15-minute readings of a household that used water from 06:00 to 07:00
/// local and none after, up to `to`.
fn quiet_since_seven(meter: &str, to: DateTime<Utc>) -> Delivery {
    let mut readings = Vec::new();
    let mut t = at(24, 6, 0);
    let mut total = 1_000;
    while t <= to {
        if t <= at(24, 7, 0) {
            total += 6;
        }
        readings.push(json!({"ts": t.with_timezone(&offset()).to_rfc3339(), "total_l": total}));
        t += Duration::minutes(15);
    }
    Delivery::unacked(
        &format!("waterwatch/meters/{meter}/reading"),
        json!({"meter_id": meter, "readings": readings}).to_string(),
    )
}

/// An HTTP endpoint that refuses every request as a provider refuses an
/// invalid number: 400 with its error code.
async fn refusing_provider() -> String {
    let app = axum::Router::new().route(
        "/send",
        axum::routing::post(|| async {
            (
                axum::http::StatusCode::BAD_REQUEST,
                r#"{"Code":"isv.MOBILE_NUMBER_ILLEGAL","Message":"invalid number"}"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/send", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

#[tokio::test]
async fn a_message_that_fails_for_good_escalates_at_once_tells_ops_and_is_in_the_audit_trail() {
    let people = contacts(
        r#"
        [[contact]]
        name = "Li Wei"
        role = "grid_worker"
        grids = ["grid-7"]
        reach = [{ channel = "sms", to = "+8613800001234" }]

        [[contact]]
        name = "Zhang Jun"
        role = "family"
        households = ["h1"]
        reach = [{ channel = "mail", to = "jun@example.org" }]
        "#,
    );
    let routes: Vec<Route> = toml::from_str::<BTreeMap<String, Vec<Route>>>(
        r#"
        [[route]]
        name = "urgent"
        steps = [
          { after = "0m", notify = ["grid_worker"] },
          { after = "30m", notify = ["family"] },
        ]
        "#,
    )
    .expect("routes")
    .remove("route")
    .expect("list");
    for (backend, store, _dir) in common::stores().await {
        let now = at(24, 22, 0);
        let clock = Arc::new(ManualClock::new(now));
        let mut settings = common::settings();
        settings.contacts = people.clone();
        settings.routes = routes.clone();
        settings.ops = toml::from_str("reach = [{ channel = \"ops-hook\" }]").expect("ops");
        let metrics = Arc::new(Metrics::new());
        let mut p = processor(&store, clock.clone(), settings, metrics.clone()).await;
        p.handle(&[quiet_since_seven("h1", now)])
            .await
            .expect("stored");
        let entries = outbox(&store).await;
        assert_eq!(
            entries.len(),
            1,
            "{backend}: the grid worker first: {entries:#?}"
        );
        let (sms_id, channel, purpose, ..) = entries[0].clone();
        assert_eq!((channel.as_str(), purpose.as_str()), ("sms", "case"));

        // Two minutes later the provider refuses the number for good.
        clock.advance(Duration::minutes(2));
        let provider = refusing_provider().await;
        let worker = waterwatch::deliver::Worker {
            store: store.clone(),
            channel: waterwatch::notify::channel::Channel::Sms(
                waterwatch::notify::sms::Sms::new(
                    &toml::from_str(&format!(
                        "name = \"sms\"\nprovider = \"generic\"\nurl = \"{provider}\"\n\
                         body = '{{\"to\":\"{{to}}\",\"text\":\"{{text}}\"}}'\n"
                    ))
                    .expect("an sms channel"),
                    None,
                )
                .expect("client"),
            ),
            metrics: metrics.clone(),
            clock: clock.clone(),
            max_attempts: 5,
            concurrency: 4,
            wake: Arc::new(Notify::new()),
            rate_limit: None,
        };
        assert_eq!(worker.deliver_due().await.expect("attempt"), 1);
        let status: String = sqlx::query("SELECT status FROM outbox WHERE id = $1")
            .bind(sms_id)
            .fetch_one(store.pool())
            .await
            .expect("row")
            .get("status");
        assert_eq!(
            status, "failed",
            "{backend}: a 400 from the provider is permanent"
        );
        p.escalate().await.expect("escalate");
        let entries = outbox(&store).await;
        assert_eq!(entries.len(), 3, "{backend}: {entries:#?}");
        let family = &entries[1];
        assert_eq!(family.1, "mail", "{backend}: family now, not at 30 min");
        assert_eq!(family.4["to"], "jun@example.org");
        assert_eq!(family.4["body"]["type"], "escalated");
        let ops = &entries[2];
        assert_eq!((ops.1.as_str(), ops.2.as_str()), ("ops-hook", "ops"));
        assert_eq!(ops.4["body"]["type"], "ops_alert");
        assert_eq!(ops.4["body"]["escalated"], true);
        assert_eq!(ops.4["body"]["to"], "+86******1234");
        let text = ops.4["text"].as_str().unwrap_or_default();
        assert!(
            text.contains("MOBILE_NUMBER_ILLEGAL") && !text.contains("13800001234"),
            "{text}"
        );
        let trail = audit(&store).await;
        assert!(
            trail.iter().any(|(k, d)| k == "delivery_failed"
                && d.contains("via sms +86******1234: HTTP 400")
                && d.contains("isv.MOBILE_NUMBER_ILLEGAL")),
            "{backend}: {trail:#?}"
        );
        assert!(
            trail
                .iter()
                .any(|(k, d)| k == "escalation" && d.contains("family (early: a delivery failed)")),
            "{trail:#?}"
        );

        // Acted on once; the step's own time later sends nothing more.
        p.escalate().await.expect("escalate again");
        clock.advance(Duration::minutes(30));
        p.escalate().await.expect("escalate at 30 min");
        assert_eq!(outbox(&store).await.len(), 3, "{backend}");

        // An ops alert that fails is logged and counted, and raises nothing.
        store::outbox::failed(store.pool(), ops.0, "HTTP 404")
            .await
            .expect("marked failed");
        p.escalate().await.expect("escalate");
        assert_eq!(outbox(&store).await.len(), 3, "{backend}");
        let text = metrics.render();
        assert!(
            text.contains("waterwatch_ops_alerts_total{reason=\"delivery_failed\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("waterwatch_ops_alerts_total{reason=\"ops_delivery_failed\"} 1"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn the_family_hears_once_a_day_when_the_mornings_first_water_runs_and_not_during_a_case_or_away()
 {
    let people = contacts(
        r#"
        [[contact]]
        name = "Zhang Jun"
        role = "family"
        households = ["h1"]
        utc_offset = "+08:00"
        reassurance = "06:30"
        calls_resident = "Mum"
        reach = [{ channel = "mail", to = "jun@example.org" }]

        [[contact]]
        name = "Li Wei"
        role = "grid_worker"
        grids = ["grid-7"]
        utc_offset = "+08:00"
        reach = [{ channel = "sms", to = "+8613800001234" }]
        "#,
    );
    for (backend, store, _dir) in common::stores().await {
        let clock = Arc::new(ManualClock::new(at(24, 6, 0)));
        let mut settings = common::settings();
        settings.contacts = people.clone();
        let metrics = Arc::new(Metrics::new());
        let mut p = processor(&store, clock.clone(), settings.clone(), metrics.clone()).await;
        // Each reading arrives a minute after it was taken.
        let mut total = 1_000;
        let mut feed = async |p: &mut Processor, t: DateTime<Utc>, used: i64, status: &[&str]| {
            total += used;
            clock.set(t + Duration::minutes(1));
            p.handle(&[reading("h1", t, total, status)])
                .await
                .expect("stored");
        };
        let reassurances = async || {
            outbox(&store)
                .await
                .into_iter()
                .filter(|e| e.2 == "reassurance")
                .collect::<Vec<_>>()
        };

        // Day 1: water at 06:10 (before Jun's 06:30), none until 07:15.
        feed(&mut p, at(24, 6, 0), 0, &[]).await;
        feed(&mut p, at(24, 6, 15), 4, &[]).await;
        feed(&mut p, at(24, 6, 45), 0, &[]).await;
        feed(&mut p, at(24, 7, 0), 0, &[]).await;
        assert!(reassurances().await.is_empty(), "{backend}: not yet");
        feed(&mut p, at(24, 7, 15), 6, &[]).await;
        let sent = reassurances().await;
        assert_eq!(sent.len(), 1, "{backend}: {sent:#?}");
        assert_eq!(sent[0].1, "mail");
        assert_eq!(sent[0].4["to"], "jun@example.org");
        assert_eq!(
            sent[0].4["text"],
            "Mum's day has started: first water at 07:15."
        );
        feed(&mut p, at(24, 7, 30), 8, &[]).await;
        // A restart forgets what it knew in memory; the outbox does not.
        let mut p = processor(&store, clock.clone(), settings.clone(), metrics.clone()).await;
        feed(&mut p, at(24, 7, 45), 5, &[]).await;
        assert_eq!(reassurances().await.len(), 1, "{backend}: once a day");
        // An ordinary rest of the day and night.
        for (day, hh, used) in [
            (24, 12, 5),
            (24, 19, 8),
            (24, 21, 4),
            (24, 23, 0),
            (25, 2, 0),
            (25, 5, 0),
        ] {
            feed(&mut p, at(day, hh, 0), used, &[]).await;
        }
        assert_eq!(reassurances().await.len(), 1, "{backend}: once a day");

        // Day 2: the first water at 06:40.
        feed(&mut p, at(25, 6, 25), 0, &[]).await;
        feed(&mut p, at(25, 6, 40), 3, &[]).await;
        let sent = reassurances().await;
        assert_eq!(sent.len(), 2, "{backend}");
        assert_eq!(
            sent[1].4["text"],
            "Mum's day has started: first water at 06:40."
        );

        for (day, hh, used) in [
            (25, 12, 5),
            (25, 19, 8),
            (25, 21, 4),
            (25, 23, 0),
            (26, 2, 0),
            (26, 5, 0),
        ] {
            feed(&mut p, at(day, hh, 0), used, &[]).await;
        }

        // Day 3: away (visiting her son): nothing.
        let away = waterwatch::suppress::Suppression {
            id: None,
            away: true,
            household: Some("h1".into()),
            grid: None,
            kind: None,
            starts: at(25, 20, 0),
            ends: at(26, 20, 0),
            reason: "visiting her son".into(),
            created_by: "Zhang Jun".into(),
        };
        let mut conn = store.pool().acquire().await.expect("connection");
        store::suppressions::insert(&mut conn, &away, at(25, 20, 0))
            .await
            .expect("away stored");
        drop(conn);
        feed(&mut p, at(26, 7, 0), 0, &[]).await;
        feed(&mut p, at(26, 7, 15), 5, &[]).await;
        assert_eq!(reassurances().await.len(), 2, "{backend}: away");
        for (day, hh, used) in [
            (26, 12, 5),
            (26, 19, 8),
            (26, 21, 4),
            (26, 23, 0),
            (27, 2, 0),
            (27, 5, 0),
        ] {
            feed(&mut p, at(day, hh, 0), used, &[]).await;
        }
        assert!(
            store::cases::list(store.pool(), 10)
                .await
                .expect("cases")
                .is_empty(),
            "{backend}: no case so far"
        );

        // Day 4: the meter reports a leak with the first water: a case opens
        // and the family hears of that, not that all is well.
        feed(&mut p, at(27, 7, 0), 0, &[]).await;
        feed(&mut p, at(27, 7, 15), 5, &["LEAK"]).await;
        let open = store::cases::list_where(store.pool(), 10, true)
            .await
            .expect("open cases");
        assert_eq!(open.len(), 1, "{backend}: a case is open: {open:#?}");
        assert!(open[0].resolved_ms.is_none());
        feed(&mut p, at(27, 7, 30), 5, &["LEAK"]).await;
        assert_eq!(reassurances().await.len(), 2, "{backend}: a case is open");
    }
}

#[tokio::test]
async fn a_dripping_tap_is_not_taken_for_mum_up_in_the_morning() {
    let people = contacts(
        r#"
        [[contact]]
        name = "Zhang Jun"
        role = "family"
        households = ["h1"]
        utc_offset = "+08:00"
        reassurance = true
        calls_resident = "Mum"
        reach = [{ channel = "mail", to = "jun@example.org" }]
        "#,
    );
    for (backend, store, _dir) in common::stores().await {
        let clock = Arc::new(ManualClock::new(at(26, 5, 0)));
        let mut settings = common::settings();
        settings.contacts = people.clone();
        let mut p = processor(&store, clock.clone(), settings, Arc::new(Metrics::new())).await;
        // Two days of a tap dripping 0.6 L an hour (a litre every 100
        // minutes: too slow for leak_trickle, whose case would hold the
        // reassurance anyway) and Mum's water at 07:00 and 19:00, as one
        // late batch.
        let uses = [
            at(24, 7, 0),
            at(24, 19, 0),
            at(25, 7, 0),
            at(25, 19, 0),
            at(26, 7, 0),
        ];
        let register = |t: DateTime<Utc>| {
            let hours = (t - at(24, 0, 0)).num_minutes() as f64 / 60.0;
            let used = uses.iter().filter(|u| **u <= t).count() as i64;
            1_000 + (0.6 * hours) as i64 + 20 * used
        };
        let mut readings = Vec::new();
        let mut t = at(24, 0, 0);
        while t <= at(26, 5, 0) {
            readings.push(
                json!({"ts": t.with_timezone(&offset()).to_rfc3339(), "total_l": register(t)}),
            );
            t += Duration::minutes(15);
        }
        let batch = json!({"meter_id": "h1", "readings": readings}).to_string();
        p.handle(&[Delivery::unacked("waterwatch/meters/h1/reading", batch)])
            .await
            .expect("stored");
        // Then live: the drip moves the register by 05:30, before Mum is up.
        while t <= at(26, 7, 15) {
            clock.set(t + Duration::minutes(1));
            p.handle(&[reading("h1", t, register(t), &[])])
                .await
                .expect("stored");
            let sent = outbox(&store).await;
            let reassured = sent.iter().filter(|e| e.2 == "reassurance").count();
            assert_eq!(
                reassured,
                usize::from(t >= at(26, 7, 0)),
                "{backend} at {t}"
            );
            t += Duration::minutes(15);
        }
    }
}
