//! Wiring: start every part of the daemon, and stop them in order.
//!
//! Start: embedded broker (if enabled) → store (migrated) → processor (engine
//! state restored) → HTTP → outbox workers → MQTT source.
//! Stop (SIGTERM/Ctrl-C): the source stops taking messages, the processor
//! stores and acknowledges what it already holds, then the source
//! disconnects, the outbox workers and HTTP stop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Notify, broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use waterwatch_rules::{AlertEvent, RuleSet};

use crate::clock::Clock;
use crate::config::{self, Config};
use crate::deliver;
use crate::http::{self, AppState};
use crate::ingest::adapter::Router;
use crate::ingest::mqtt;
use crate::ingest::native::TimeWindow;
use crate::links::Signer;
use crate::metrics::Metrics;
use crate::notify::channel::Channel;
use crate::notify::email::Email;
use crate::notify::robot::Robot;
use crate::notify::sms::Sms;
use crate::notify::template::Templates;
use crate::notify::webhook::Webhook;
use crate::process::{self, Processor};
use crate::store::{self, Store, StoreError};
use crate::{broker, reload};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Broker(#[from] broker::BrokerError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot listen for HTTP on {addr}: {source} (set http.listen to a free address)")]
    Http {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
}

/// Everything `start` needs.
pub struct Options {
    pub config: Config,
    pub rules: RuleSet,
    pub clock: Arc<dyn Clock>,
    /// How often time-only rules (meter_offline) are evaluated.
    pub tick_every: Duration,
    /// The rules file to watch for changes (none: the rules never change).
    pub rules_path: Option<PathBuf>,
}

/// A running daemon.
pub struct Daemon {
    pub http_addr: SocketAddr,
    /// Where the daemon's MQTT client connects (the embedded broker's address when enabled).
    pub mqtt_addr: (String, u16),
    pub metrics: Arc<Metrics>,
    pub store: Store,
    events: broadcast::Sender<AlertEvent>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

impl Daemon {
    /// Alert events as they are committed.
    pub fn events(&self) -> broadcast::Receiver<AlertEvent> {
        self.events.subscribe()
    }

    /// Stop and wait, giving up after `grace`.
    pub async fn stop(self, grace: Duration) {
        self.shutdown.cancel();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some tasks did not stop within {grace:?}");
        }
        self.store.close().await;
    }
}

pub async fn start(options: Options) -> Result<Daemon, StartError> {
    let Options {
        config,
        rules,
        clock,
        tick_every,
        rules_path,
    } = options;
    let metrics = Arc::new(Metrics::new());

    let mqtt_addr = if config.broker.enabled {
        let addr = broker::start(config.broker.listen, config.ingest.max_payload_bytes)?;
        tracing::info!(%addr, "embedded MQTT broker listening");
        (addr.ip().to_string(), addr.port())
    } else {
        config::parse_mqtt_url(&config.mqtt.url).map_err(StartError::Config)?
    };

    let store = Store::connect(&config.store.url).await?;
    tracing::info!(url = %store::redact(&config.store.url), "store ready");
    if !config.households.is_empty() {
        let registry: Vec<_> = config
            .households
            .iter()
            .map(|h| store::registry::HouseholdRow {
                id: h.id.clone(),
                name: h.name.clone(),
                grid: h.grid.clone(),
                meters: h.meters.clone(),
                replaced: h.replaced.clone().into_iter().collect(),
            })
            .collect();
        let mut tx = store.pool().begin().await.map_err(StoreError::from)?;
        let written =
            store::registry::sync_households(&mut tx, &registry, clock.now().timestamp_millis())
                .await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(
            households = registry.len(),
            unchanged = !written,
            "household registry loaded"
        );
    }

    let webhooks = config
        .webhooks
        .iter()
        .map(|w| w.name.clone())
        .collect::<Vec<_>>();
    let channels = build_channels(&config)?;
    let templates = Templates::from_config(&config.templates).map_err(StartError::Config)?;
    let links = match &config.links {
        Some(links) => {
            let secret =
                config::read_secret(links.secret_env.as_deref(), links.secret_file.as_deref())
                    .map_err(|e| StartError::Config(format!("links: {e}")))?
                    .ok_or_else(|| StartError::Config("links: no secret".into()))?;
            Some((Signer::new(secret, &links.base_url), links.valid_for))
        }
        None => None,
    };

    let outbox_wake = Arc::new(Notify::new());
    let router = Router::new(&config.mqtt.topic_prefix, &config.adapters);
    let filters = router.filters();
    let settings = process::Settings {
        router,
        unknown_meters: config.ingest.unknown_meters,
        window: TimeWindow {
            max_future: chrono::Duration::from_std(config.ingest.max_future)
                .unwrap_or(chrono::Duration::minutes(10)),
            max_age: chrono::Duration::from_std(config.ingest.max_age)
                .unwrap_or(chrono::Duration::days(31)),
        },
        max_payload_bytes: config.ingest.max_payload_bytes,
        dead_letters_kept: config.store.dead_letters_kept,
        channels: webhooks,
        templates,
        links: links.clone(),
        contacts: config.contacts.clone(),
        grids: config
            .households
            .iter()
            .filter_map(|h| h.grid.clone().map(|g| (h.id.clone(), g)))
            .collect(),
        display_offset: *chrono::Local::now().offset(),
        routes: config.routes.clone(),
        names: config
            .households
            .iter()
            .filter_map(|h| h.name.clone().map(|n| (h.id.clone(), n)))
            .collect(),
        ops: config.ops.clone(),
    };
    let (commands_tx, commands_rx) = mpsc::channel(64);
    let (consents_tx, consents_rx) = mpsc::channel(8);
    let (rules_tx, rules_rx) = watch::channel(rules.clone());
    let processor = Processor::load(
        store.clone(),
        rules,
        metrics.clone(),
        clock.clone(),
        settings,
        outbox_wake.clone(),
    )
    .await?;
    let events = processor.event_sender();

    let listener = TcpListener::bind(config.http.listen)
        .await
        .map_err(|source| StartError::Http {
            addr: config.http.listen,
            source,
        })?;
    let http_addr = listener.local_addr().map_err(|source| StartError::Http {
        addr: config.http.listen,
        source,
    })?;

    let shutdown = CancellationToken::new();
    let close_source = CancellationToken::new();
    let tracker = TaskTracker::new();
    let connected = Arc::new(AtomicBool::new(false));

    let credentials = match &config.mqtt.username {
        Some(user) => {
            let password = config::read_secret(
                config.mqtt.password_env.as_deref(),
                config.mqtt.password_file.as_deref(),
            )
            .map_err(|e| StartError::Config(format!("mqtt: {e}")))?
            .map(|p| String::from_utf8_lossy(&p).into_owned())
            .unwrap_or_default();
            Some((user.clone(), password))
        }
        None => None,
    };
    let delivery_queue = config.ingest.batch_size * 4;
    let source_settings = mqtt::Settings {
        host: mqtt_addr.0.clone(),
        port: mqtt_addr.1,
        client_id: config.mqtt.client_id.clone(),
        credentials,
        keep_alive: config.mqtt.keep_alive,
        max_packet_bytes: config.ingest.max_payload_bytes.max(64 * 1024) + 1024,
        max_unacked: delivery_queue + config.ingest.batch_size,
    };
    let (acker, client, eventloop) = mqtt::client(&source_settings);
    let (tx, rx) = mpsc::channel(delivery_queue);

    let rules_status = Arc::new(crate::web::RulesStatus::new(
        rules_path.clone(),
        clock.now().timestamp_millis(),
    ));
    let web = crate::web::Web::new(
        &config.http,
        config.contacts.clone(),
        rules_rx.clone(),
        rules_status.clone(),
        crate::web::live::spawn(store.clone(), shutdown.clone()),
    );
    tracker.spawn(http::serve(
        listener,
        AppState {
            store: store.clone(),
            metrics: metrics.clone(),
            mqtt_connected: connected.clone(),
            commands: commands_tx,
            consents: consents_tx,
            links: links.map(|(signer, _)| signer),
            clock: clock.clone(),
            web: Arc::new(web),
        },
        shutdown.clone(),
    ));
    let limits: std::collections::HashMap<String, u32> = config
        .channel_limits()
        .into_iter()
        .filter_map(|(_, name, limit)| limit.map(|l| (name.to_owned(), l)))
        .collect();
    tracker.spawn(store::retention::run(
        store.clone(),
        clock.clone(),
        config.store.keep_readings,
        config.store.keep_cases,
        shutdown.clone(),
    ));
    for channel in channels {
        let rate_limit = limits
            .get(channel.name())
            .map(|max| deliver::RateLimit::per_minute(*max));
        let worker = deliver::Worker {
            store: store.clone(),
            channel,
            metrics: metrics.clone(),
            clock: clock.clone(),
            max_attempts: config.outbox.max_attempts,
            concurrency: config.outbox.concurrency,
            wake: outbox_wake.clone(),
            rate_limit,
        };
        tracker.spawn(worker.run(shutdown.clone()));
    }
    tracker.spawn(
        mqtt::Source {
            client,
            eventloop,
            filters,
            tx,
            metrics: metrics.clone(),
            connected,
        }
        .run(shutdown.clone(), close_source.clone()),
    );
    if let Some(path) = rules_path {
        tracker.spawn(reload::run(
            path,
            config
                .route_names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            rules_tx,
            metrics.clone(),
            rules_status,
            shutdown.clone(),
        ));
    }
    {
        let shutdown = shutdown.clone();
        let batch_size = config.ingest.batch_size;
        tracker.spawn(async move {
            let inlets = process::Inlets {
                deliveries: rx,
                acker: Some(acker),
                rules: rules_rx,
                commands: commands_rx,
                consents: consents_rx,
            };
            process::run(processor, inlets, batch_size, tick_every, shutdown).await;
            // Only now, with everything taken stored and acknowledged, let go of the broker.
            close_source.cancel();
        });
    }
    tracker.close();
    tracing::info!(%http_addr, "waterwatch is running");
    Ok(Daemon {
        http_addr,
        mqtt_addr,
        metrics,
        store,
        events,
        shutdown,
        tracker,
    })
}

/// Every configured channel, with its secrets read.
fn build_channels(config: &Config) -> Result<Vec<Channel>, StartError> {
    let fail =
        |kind: &str, name: &str, e: String| StartError::Config(format!("{kind} `{name}`: {e}"));
    let mut channels = Vec::new();
    for hook in &config.webhooks {
        let secret = config::read_secret(hook.secret_env.as_deref(), hook.secret_file.as_deref())
            .map_err(|e| fail("webhook", &hook.name, e))?
            .ok_or_else(|| fail("webhook", &hook.name, "no secret".into()))?;
        let webhook = Webhook::new(&hook.name, &hook.url, secret, hook.timeout)
            .map_err(StartError::Config)?;
        channels.push(Channel::Webhook(webhook));
    }
    for c in &config.emails {
        let password = c.read_password().map_err(|e| fail("email", &c.name, e))?;
        channels.push(Channel::Email(
            Email::new(c, password).map_err(|e| fail("email", &c.name, e))?,
        ));
    }
    for c in &config.sms {
        let secret = c.read_secret().map_err(|e| fail("sms", &c.name, e))?;
        channels.push(Channel::Sms(
            Sms::new(c, secret).map_err(|e| fail("sms", &c.name, e))?,
        ));
    }
    for c in &config.robots {
        let (key, secret) = c.read_secrets().map_err(|e| fail("robot", &c.name, e))?;
        channels.push(Channel::Robot(
            Robot::new(c, key, secret).map_err(|e| fail("robot", &c.name, e))?,
        ));
    }
    Ok(channels)
}

/// Where the rules come from: the configured file, or the shipped default.
pub fn load_rules(
    config: &Config,
    config_path: Option<&std::path::Path>,
) -> Result<RuleSet, String> {
    match config.rules_path(config_path) {
        Some(path) => {
            reload::load(&path, Some(&config.route_names())).map_err(|problems| problems.join("\n"))
        }
        None => Ok(RuleSet::default_rules()),
    }
}
