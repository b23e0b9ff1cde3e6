//! Helpers shared by the integration tests: fleets, daily volumes, temporary
//! directories and a throwaway Mosquitto broker.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use meter_sim::{Fleet, Scenario, SimReading};

pub const QUARTER_HOUR: Duration = Duration::from_secs(900);

pub fn start() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-01-05T00:00:00+08:00").unwrap()
}

pub fn ts(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

/// Every reading of `households` households over `days` days (the final
/// midnight included), with the given scenarios.
pub fn readings(households: usize, seed: u64, days: i64, scenarios: &[&str]) -> Vec<SimReading> {
    let scenarios = scenarios
        .iter()
        .map(|s| Scenario::parse(s, start()).unwrap())
        .collect();
    let mut fleet = Fleet::new(households, seed, start(), QUARTER_HOUR, scenarios);
    fleet.advance(start() + chrono::Duration::days(days))
}

/// The readings of one meter, in time order.
pub fn of_meter<'a>(readings: &'a [SimReading], meter_id: &str) -> Vec<&'a SimReading> {
    readings.iter().filter(|r| r.meter_id == meter_id).collect()
}

/// Litres used per meter per local day, from the registers at midnight.
pub fn daily_volumes(readings: &[SimReading]) -> BTreeMap<String, Vec<f64>> {
    let mut midnights: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in readings
        .iter()
        .filter(|r| r.ts.format("%H:%M:%S").to_string() == "00:00:00")
    {
        midnights
            .entry(r.meter_id.clone())
            .or_default()
            .push(r.total_l);
    }
    midnights
        .into_iter()
        .map(|(id, totals)| (id, totals.windows(2).map(|w| w[1] - w[0]).collect()))
        .collect()
}

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "meter-sim-test-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A Mosquitto broker on a free loopback port, stopped when dropped.
pub struct Mosquitto {
    child: Child,
    pub port: u16,
    _dir: TempDir,
}

impl Mosquitto {
    /// Starts a broker, or explains why not and returns `None` when Mosquitto
    /// is not installed.
    pub fn start() -> Option<Mosquitto> {
        let Some(binary) = find_mosquitto() else {
            eprintln!("skipping: mosquitto is not installed (apt-get install mosquitto)");
            return None;
        };
        // Tests start brokers concurrently: one at a time, so no two pick
        // the same free port before either has bound it. Another process
        // can still take it in between; then try again.
        static STARTING: Mutex<()> = Mutex::new(());
        let _one_at_a_time = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        let mut last_log = String::new();
        for _ in 0..5 {
            let dir = TempDir::new();
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let config = dir.path().join("mosquitto.conf");
            std::fs::write(
                &config,
                format!("listener {port} 127.0.0.1\nallow_anonymous true\n"),
            )
            .unwrap();
            let log = dir.path().join("mosquitto.log");
            let mut child = Command::new(&binary)
                .arg("-c")
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    // Make sure it is our broker listening, not one that
                    // got there first while ours gives up on the port.
                    std::thread::sleep(Duration::from_millis(50));
                    if child.try_wait().unwrap().is_none() {
                        return Some(Mosquitto {
                            child,
                            port,
                            _dir: dir,
                        });
                    }
                    break;
                }
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("mosquitto did not start listening; its log:\n{last_log}");
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_mosquitto() -> Option<PathBuf> {
    let fixed = PathBuf::from("/usr/sbin/mosquitto");
    if fixed.exists() {
        return Some(fixed);
    }
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join("mosquitto"))
        .find(|p| p.exists())
}
