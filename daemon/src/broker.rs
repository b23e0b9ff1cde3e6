//! The embedded MQTT broker (rumqttd) for demos, tests and small installs.
//!
//! It keeps sessions in memory only and has no shutdown: it lives as long as
//! the process. Real deployments point the daemon at Mosquitto or EMQX.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error(
        "cannot start the embedded MQTT broker: {0} is already in use (another MQTT broker?). \
         Set broker.listen to a free port, or set broker.enabled = false and point mqtt.url at that broker"
    )]
    PortTaken(SocketAddr),
    #[error("cannot start the embedded MQTT broker on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the embedded MQTT broker did not start listening on {0} within 5 s")]
    NotListening(SocketAddr),
}

/// A free loopback port, for the demo and tests.
pub fn free_loopback_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// Start the broker on `listen` and wait until it accepts connections.
pub fn start(listen: SocketAddr, max_payload_bytes: usize) -> Result<SocketAddr, BrokerError> {
    // rumqttd binds inside its own thread and only logs a failure there;
    // probe the address first so a taken port is one clear error here.
    match TcpListener::bind(listen) {
        Ok(probe) => drop(probe),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            return Err(BrokerError::PortTaken(listen));
        }
        Err(source) => {
            return Err(BrokerError::Bind {
                addr: listen,
                source,
            });
        }
    }

    let server = rumqttd::ServerSettings {
        name: "waterwatch-embedded".into(),
        listen,
        tls: None,
        next_connection_delay_ms: 1,
        connections: rumqttd::ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: max_payload_bytes,
            max_inflight_count: 500,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    let config = rumqttd::Config {
        id: 0,
        router: rumqttd::RouterConfig {
            max_connections: 10_010,
            max_outgoing_packet_count: 200,
            max_segment_size: 100 * 1024 * 1024,
            max_segment_count: 10,
            ..Default::default()
        },
        v4: Some(HashMap::from([("1".to_string(), server)])),
        ..Default::default()
    };
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            let mut broker = rumqttd::Broker::new(config);
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "the embedded MQTT broker stopped");
            }
        })
        .map_err(|source| BrokerError::Bind {
            addr: listen,
            source,
        })?;

    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&listen, Duration::from_millis(200)).is_ok() {
            return Ok(listen);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(BrokerError::NotListening(listen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_is_one_clear_error() {
        let holder = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = holder.local_addr().unwrap();
        let err = start(addr, 1024).unwrap_err();
        assert!(matches!(err, BrokerError::PortTaken(a) if a == addr));
        assert!(err.to_string().contains("already in use"));
    }
}
