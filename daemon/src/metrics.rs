//! The daemon's Prometheus metrics, in one explicit registry.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    pub kind: String,
    pub event: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    pub channel: String,
    pub outcome: String,
}

/// Every metric the daemon exports. Cloning shares the underlying counters.
pub struct Metrics {
    registry: Registry,
    pub readings_ingested: Counter,
    pub readings_duplicate: Counter,
    pub messages_received: Counter,
    pub messages_rejected: Family<ReasonLabel, Counter>,
    pub normalise_notes: Family<ReasonLabel, Counter>,
    pub alerts: Family<AlertLabels, Counter>,
    pub deliveries: Family<DeliveryLabels, Counter>,
    pub delivery_latency_seconds: Histogram,
    pub ingest_lag_seconds: Histogram,
    pub mqtt_connected: Gauge,
    pub outbox_pending: Gauge,
    pub rules_reloads: Family<OutcomeLabel, Counter>,
    pub alerts_suppressed: Family<ReasonLabel, Counter>,
    pub ops_alerts: Family<ReasonLabel, Counter>,
    /// Cases by state, counted from the store at each scrape.
    pub cases: Family<StateLabel, Gauge>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("waterwatch");
        let readings_ingested = Counter::default();
        let readings_duplicate = Counter::default();
        let messages_received = Counter::default();
        let messages_rejected = Family::<ReasonLabel, Counter>::default();
        let normalise_notes = Family::<ReasonLabel, Counter>::default();
        let alerts = Family::<AlertLabels, Counter>::default();
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        let delivery_latency_seconds = Histogram::new([
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ]);
        let ingest_lag_seconds = Histogram::new([
            0.1,
            1.0,
            10.0,
            60.0,
            300.0,
            900.0,
            3600.0,
            6.0 * 3600.0,
            86400.0,
        ]);
        let mqtt_connected = Gauge::default();
        let outbox_pending = Gauge::default();
        let rules_reloads = Family::<OutcomeLabel, Counter>::default();
        let alerts_suppressed = Family::<ReasonLabel, Counter>::default();
        let ops_alerts = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "ops_alerts",
            "Operational problems raised to ops, by reason (delivery_failed: a \
             notification failed for good; ops_delivery_failed: an ops alert did)",
            ops_alerts.clone(),
        );
        let cases = Family::<StateLabel, Gauge>::default();
        registry.register(
            "cases",
            "Cases by state: open (nobody going yet), acknowledged, closed in the last 7 days",
            cases.clone(),
        );
        registry.register(
            "alerts_suppressed",
            "Alerts held back by away mode or a silence, or over before their readings arrived (seen_late)",
            alerts_suppressed.clone(),
        );
        registry.register(
            "rules_reloads",
            "Rules file reloads by outcome (failed: the running rules stay)",
            rules_reloads.clone(),
        );
        registry.register(
            "readings_ingested",
            "Readings stored for the first time",
            readings_ingested.clone(),
        );
        registry.register(
            "readings_duplicate",
            "Readings already stored (redelivered or sent twice)",
            readings_duplicate.clone(),
        );
        registry.register(
            "messages_received",
            "MQTT messages taken from the broker",
            messages_received.clone(),
        );
        registry.register(
            "messages_rejected",
            "Messages or readings rejected, by reason",
            messages_rejected.clone(),
        );
        registry.register(
            "normalise_notes",
            "Register glitches seen while normalising (resets, negative deltas, jumps)",
            normalise_notes.clone(),
        );
        registry.register("alerts", "Alert events by kind and event", alerts.clone());
        registry.register(
            "deliveries",
            "Notification delivery attempts by channel and outcome (rate_limited: a pass \
             that left due messages waiting for the channel's max_per_minute)",
            deliveries.clone(),
        );
        registry.register(
            "delivery_latency_seconds",
            "From an outbox entry's creation to its successful delivery",
            delivery_latency_seconds.clone(),
        );
        registry.register(
            "ingest_lag_seconds",
            "From a reading's timestamp to its storage",
            ingest_lag_seconds.clone(),
        );
        registry.register(
            "mqtt_connected",
            "1 while connected to the MQTT broker",
            mqtt_connected.clone(),
        );
        registry.register(
            "outbox_pending",
            "Notifications waiting for delivery",
            outbox_pending.clone(),
        );
        Self {
            registry,
            readings_ingested,
            readings_duplicate,
            messages_received,
            messages_rejected,
            normalise_notes,
            alerts,
            deliveries,
            delivery_latency_seconds,
            ingest_lag_seconds,
            mqtt_connected,
            outbox_pending,
            rules_reloads,
            alerts_suppressed,
            ops_alerts,
            cases,
        }
    }

    /// Set the cases gauge: (state, count).
    pub fn set_cases(&self, counts: &[(&str, i64)]) {
        for (state, n) in counts {
            self.cases
                .get_or_create(&StateLabel {
                    state: (*state).to_owned(),
                })
                .set(*n);
        }
    }

    pub fn rejected(&self, reason: &str) {
        self.messages_rejected
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    pub fn note(&self, note: &str) {
        self.normalise_notes
            .get_or_create(&ReasonLabel {
                reason: note.to_owned(),
            })
            .inc();
    }

    pub fn alert(&self, kind: &str, event: &str) {
        self.alerts
            .get_or_create(&AlertLabels {
                kind: kind.to_owned(),
                event: event.to_owned(),
            })
            .inc();
    }

    pub fn delivery(&self, channel: &str, outcome: &str) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                channel: channel.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn suppressed(&self, reason: &str) {
        self.alerts_suppressed
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    pub fn ops_alert(&self, reason: &str) {
        self.ops_alerts
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    pub fn rules_reload(&self, outcome: &str) {
        self.rules_reloads
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_messages_are_counted_by_reason_in_the_exposition() {
        let metrics = Metrics::new();
        metrics.rejected("malformed_json");
        metrics.rejected("malformed_json");
        let text = metrics.render();
        assert!(
            text.contains("waterwatch_messages_rejected_total{reason=\"malformed_json\"} 2"),
            "{text}"
        );
    }

    #[test]
    fn every_metric_the_grafana_dashboard_asks_for_is_exported() {
        let dashboard: serde_json::Value =
            serde_json::from_str(include_str!("../../dashboards/grafana/waterwatch.json"))
                .expect("the Grafana dashboard is JSON");
        // Families appear in the exposition once they have a child.
        let metrics = Metrics::new();
        metrics.set_cases(&[("open", 0)]);
        metrics.rejected("x");
        metrics.rules_reload("ok");
        let reason = ReasonLabel { reason: "x".into() };
        metrics.normalise_notes.get_or_create(&reason).inc();
        metrics.alerts_suppressed.get_or_create(&reason).inc();
        metrics.ops_alerts.get_or_create(&reason).inc();
        metrics
            .alerts
            .get_or_create(&AlertLabels {
                kind: "x".into(),
                event: "fired".into(),
            })
            .inc();
        metrics
            .deliveries
            .get_or_create(&DeliveryLabels {
                channel: "x".into(),
                outcome: "ok".into(),
            })
            .inc();
        let text = metrics.render();
        let exported: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let mut asked = 0;
        for panel in dashboard["panels"].as_array().expect("panels") {
            for target in panel["targets"].as_array().expect("targets") {
                let expr = target["expr"].as_str().expect("expr");
                for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                    let Some(name) = word.strip_prefix("waterwatch_") else {
                        continue;
                    };
                    let base = ["_total", "_bucket", "_sum", "_count"]
                        .iter()
                        .find_map(|suffix| name.strip_suffix(suffix))
                        .unwrap_or(name);
                    asked += 1;
                    assert!(
                        exported.contains(&format!("waterwatch_{base}").as_str()),
                        "panel `{}` asks for {word}, which /metrics does not export",
                        panel["title"]
                    );
                }
            }
        }
        assert!(asked >= 15, "{asked}");
    }
}
