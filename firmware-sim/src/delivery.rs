//! Delivery faults: what the network does to messages between a meter and
//! the broker — drops, duplicates, reordering, late arrival. They change
//! what is published or written, never the readings taken nor the ground
//! truth.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// A delivery fault and how often it strikes (a share of messages, 0–1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DeliveryFault {
    /// The message never arrives.
    Drop(f64),
    /// The message arrives twice (the copy within a minute).
    Duplicate(f64),
    /// The message arrives 1–30 min late, behind later ones.
    Reorder(f64),
    /// The message (or batch) arrives 1–12 h late.
    Late(f64),
}

impl DeliveryFault {
    /// Written as on the command line: `drop`, `duplicate`, `reorder`, `late`.
    pub fn name(&self) -> &'static str {
        match self {
            DeliveryFault::Drop(_) => "drop",
            DeliveryFault::Duplicate(_) => "duplicate",
            DeliveryFault::Reorder(_) => "reorder",
            DeliveryFault::Late(_) => "late",
        }
    }

    pub fn rate(&self) -> f64 {
        match *self {
            DeliveryFault::Drop(r)
            | DeliveryFault::Duplicate(r)
            | DeliveryFault::Reorder(r)
            | DeliveryFault::Late(r) => r,
        }
    }
}

/// `KIND[:RATE]`, e.g. `drop`, `duplicate:0.05`; the default rate is 0.01
/// (0.05 for `late`).
impl FromStr for DeliveryFault {
    type Err = String;

    fn from_str(text: &str) -> Result<DeliveryFault, String> {
        let (kind, rate) = match text.split_once(':') {
            Some((k, r)) => (k.trim(), Some(r.trim())),
            None => (text.trim(), None),
        };
        let rate = match rate {
            None => None,
            Some(r) => Some(
                r.parse::<f64>()
                    .ok()
                    .filter(|v| (0.0..=1.0).contains(v))
                    .ok_or_else(|| {
                        format!("fault {text:?}: rate {r:?} is not a share from 0 to 1")
                    })?,
            ),
        };
        Ok(match kind {
            "drop" => DeliveryFault::Drop(rate.unwrap_or(0.01)),
            "duplicate" => DeliveryFault::Duplicate(rate.unwrap_or(0.01)),
            "reorder" => DeliveryFault::Reorder(rate.unwrap_or(0.01)),
            "late" => DeliveryFault::Late(rate.unwrap_or(0.05)),
            _ => {
                return Err(format!(
                    "fault {text:?}: unknown kind {kind:?}; expected drop, duplicate, reorder or late, \
                     e.g. drop:0.01 (meter faults are scenarios: reset, skew, battery)"
                ));
            }
        })
    }
}

impl fmt::Display for DeliveryFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name(), self.rate())
    }
}

/// Applies delivery faults to a stream of messages stamped with the
/// simulated time they are sent; deterministic for a seed.
pub struct Delivery<T> {
    drop: f64,
    duplicate: f64,
    reorder: f64,
    late: f64,
    rng: SmallRng,
    seq: u64,
    /// (release time in Unix seconds, sequence) → message.
    queue: BinaryHeap<Reverse<(i64, u64)>>,
    held: std::collections::HashMap<u64, T>,
}

impl<T: Clone> Delivery<T> {
    /// Later faults of the same kind replace earlier ones.
    pub fn new(faults: &[DeliveryFault], seed: u64) -> Delivery<T> {
        let mut d = Delivery {
            drop: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            late: 0.0,
            rng: SmallRng::seed_from_u64(seed ^ 0xDE11_7E57),
            seq: 0,
            queue: BinaryHeap::new(),
            held: std::collections::HashMap::new(),
        };
        for f in faults {
            match *f {
                DeliveryFault::Drop(r) => d.drop = r,
                DeliveryFault::Duplicate(r) => d.duplicate = r,
                DeliveryFault::Reorder(r) => d.reorder = r,
                DeliveryFault::Late(r) => d.late = r,
            }
        }
        d
    }

    /// Whether any fault is switched on.
    pub fn is_faulty(&self) -> bool {
        self.drop + self.duplicate + self.reorder + self.late > 0.0
    }

    /// Sends `msg` at simulated time `at`.
    pub fn send(&mut self, msg: T, at: DateTime<FixedOffset>) {
        let at = at.timestamp();
        if self.drop > 0.0 && self.rng.random_bool(self.drop) {
            return;
        }
        let delay = if self.late > 0.0 && self.rng.random_bool(self.late) {
            self.rng.random_range(3600..=12 * 3600)
        } else if self.reorder > 0.0 && self.rng.random_bool(self.reorder) {
            self.rng.random_range(60..=1800)
        } else {
            0
        };
        if self.duplicate > 0.0 && self.rng.random_bool(self.duplicate) {
            let again = at + delay + self.rng.random_range(0..=60);
            self.hold(msg.clone(), again);
        }
        self.hold(msg, at + delay);
    }

    fn hold(&mut self, msg: T, release: i64) {
        self.seq += 1;
        self.queue.push(Reverse((release, self.seq)));
        self.held.insert(self.seq, msg);
    }

    /// Messages arriving up to `now`, in arrival order.
    pub fn arrived(&mut self, now: DateTime<FixedOffset>) -> Vec<T> {
        self.release(now.timestamp())
    }

    /// Everything still on its way, in arrival order.
    pub fn drain(&mut self) -> Vec<T> {
        self.release(i64::MAX)
    }

    fn release(&mut self, now: i64) -> Vec<T> {
        let mut out = Vec::new();
        while let Some(Reverse((at, seq))) = self.queue.peek().copied() {
            if at > now {
                break;
            }
            self.queue.pop();
            if let Some(msg) = self.held.remove(&seq) {
                out.push(msg);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-01-05T00:00:00+08:00").unwrap()
            + chrono::Duration::seconds(secs)
    }

    #[test]
    fn faults_parse_with_default_and_given_rates_and_refuse_nonsense() {
        assert_eq!("drop".parse(), Ok(DeliveryFault::Drop(0.01)));
        assert_eq!("late:0.2".parse(), Ok(DeliveryFault::Late(0.2)));
        assert!(
            "drop:2"
                .parse::<DeliveryFault>()
                .unwrap_err()
                .contains("share from 0 to 1")
        );
        assert!(
            "melt"
                .parse::<DeliveryFault>()
                .unwrap_err()
                .contains("unknown kind")
        );
    }

    #[test]
    fn without_faults_messages_arrive_in_order_when_sent() {
        let mut d = Delivery::new(&[], 1);
        for i in 0..10 {
            d.send(i, t(i * 60));
        }
        assert_eq!(d.arrived(t(300)), [0, 1, 2, 3, 4, 5]);
        assert_eq!(d.drain(), [6, 7, 8, 9]);
    }

    #[test]
    fn late_messages_arrive_hours_after_later_ones() {
        let mut d = Delivery::new(&[DeliveryFault::Late(1.0)], 1);
        d.send(0, t(0));
        assert!(d.arrived(t(3599)).is_empty());
        assert_eq!(d.arrived(t(12 * 3600)), [0]);
    }
}
