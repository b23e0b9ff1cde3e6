//! A water use: what it is ([`Use`]) and how much flows when
//! ([`WaterEvent`]).

/// What a water use is; kept for tests and for future behaviours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Use {
    Flush,
    BathroomTap,
    KitchenTap,
    Shower,
    Laundry,
    /// Extra kitchen and toilet use while visitors are in.
    Visitors,
    /// A tap nobody closes (scenario).
    TapLeftOpen,
    /// A toilet valve that never closes: a slow trickle (scenario).
    RunningToilet,
    /// A burst pipe (scenario).
    Burst,
}

impl Use {
    /// Whether a person does this (and so stops doing it when they collapse);
    /// a running tap or a burst pipe goes on regardless.
    pub(crate) fn is_personal(self) -> bool {
        !matches!(self, Use::TapLeftOpen | Use::Burst | Use::RunningToilet)
    }
}

/// One water use: flow at `lpm` litres per minute from `start` to `end`
/// (local seconds; `end` is [`i64::MAX`] for a flow that never stops).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct WaterEvent {
    pub start: i64,
    pub end: i64,
    pub lpm: f64,
    pub kind: Use,
}

impl WaterEvent {
    /// A use of `litres` at about `lpm`, lasting whole seconds (at least one);
    /// the rate is adjusted so the volume is exact.
    pub(crate) fn of_volume(start: i64, litres: f64, lpm: f64, kind: Use) -> WaterEvent {
        let secs = (litres / lpm * 60.0).round().max(1.0) as i64;
        WaterEvent {
            start,
            end: start + secs,
            lpm: litres * 60.0 / secs as f64,
            kind,
        }
    }

    /// A flow that starts at `start` and never stops.
    pub(crate) fn open_ended(start: i64, lpm: f64, kind: Use) -> WaterEvent {
        WaterEvent {
            start,
            end: i64::MAX,
            lpm,
            kind,
        }
    }

    /// Litres delivered between `start` and `t`.
    pub(crate) fn litres_until(&self, t: i64) -> f64 {
        if t <= self.start {
            return 0.0;
        }
        (t.min(self.end) - self.start) as f64 * self.lpm / 60.0
    }

    /// Total litres (infinite for an open-ended flow).
    pub(crate) fn litres(&self) -> f64 {
        if self.end == i64::MAX {
            f64::INFINITY
        } else {
            self.litres_until(self.end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_volume_use_delivers_exactly_that_volume() {
        let ev = WaterEvent::of_volume(100, 7.3, 2.5, Use::Flush);
        assert!((ev.litres() - 7.3).abs() < 1e-9);
        assert_eq!(ev.litres_until(100), 0.0);
        assert!(ev.litres_until(ev.start + 60) < 7.3);
    }

    #[test]
    fn an_open_ended_flow_grows_linearly_forever() {
        let ev = WaterEvent::open_ended(0, 6.0, Use::TapLeftOpen);
        assert_eq!(ev.litres_until(600), 60.0);
        assert!(ev.litres().is_infinite());
        assert!(!ev.kind.is_personal());
    }
}
