//! One household: its person's habits, the water uses planned so far, the
//! days they were away (trips, whole days out: ground truth), and what
//! scenarios did to it (a collapse, an absence, a slow decline, a tap left
//! running, a burst pipe, a running toilet).
//!
//! Days are planned lazily, one at a time and in order, from the household's
//! own random stream, so the uses do not depend on how far or in what steps
//! the simulation is advanced.

use std::collections::VecDeque;

use rand::SeedableRng;
use rand::rngs::SmallRng;

use rand::Rng;

use crate::behaviour::{Habits, Use, Vigour, WaterEvent, plan_day, remove_between};
use crate::clock::{DAY, HOUR, MINUTE};

/// Why nobody was home.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AbsenceCause {
    /// A trip of several days (the person's own life).
    Trip,
    /// A whole day out (the person's own life).
    DayOut,
    /// An unannounced absence (scenario).
    Unannounced,
}

/// Nobody home from `start` to `end` (local seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Absence {
    pub start: i64,
    pub end: i64,
    pub cause: AbsenceCause,
}

/// A slow decline in health: from `start`, the share of uses still made
/// falls linearly to `floor` over `span` seconds, and the waking day
/// shortens by up to three hours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Decline {
    pub start: i64,
    pub span: i64,
    pub floor: f64,
}

impl Decline {
    fn vigour(&self, day: i64) -> Vigour {
        // Days are planned whole: the decline starts with the first day
        // beginning after its start, so nothing before it changes.
        if day < self.start {
            return Vigour::FULL;
        }
        let into = (day + DAY - self.start) as f64 / self.span.max(1) as f64;
        let progress = into.min(1.0);
        Vigour {
            uses: 1.0 - (1.0 - self.floor) * progress,
            shorter_day: (progress * 3.0 * HOUR as f64) as i64,
        }
    }
}

/// What the household did, counted over the days planned so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub days: u64,
    pub flushes: u64,
    pub outings: u64,
    pub visitor_days: u64,
}

pub(crate) struct Household {
    habits: Habits,
    rng: SmallRng,
    /// Local midnight of the next day to plan.
    next_day: i64,
    /// Planned uses not yet handed on, by start.
    pending: VecDeque<WaterEvent>,
    /// Reused buffer for planning a day.
    scratch: Vec<WaterEvent>,
    /// The person stops all use from here on.
    collapsed_at: Option<i64>,
    /// Times nobody was (or will be) home, by start.
    absences: Vec<Absence>,
    /// A trip or day out under way lasts until here.
    away_until: i64,
    decline: Option<Decline>,
    tally: Tally,
}

impl Household {
    /// A household whose first planned day starts at local midnight `first_day`.
    pub(crate) fn new(seed: u64, first_day: i64) -> Household {
        let mut rng = SmallRng::seed_from_u64(seed);
        let habits = Habits::draw(&mut rng);
        Household {
            habits,
            rng,
            next_day: first_day,
            pending: VecDeque::new(),
            scratch: Vec::new(),
            collapsed_at: None,
            absences: Vec::new(),
            away_until: i64::MIN,
            decline: None,
            tally: Tally::default(),
        }
    }

    /// Nobody is home from `start` to `end` (an unannounced absence): no
    /// personal use then.
    pub(crate) fn go_away(&mut self, start: i64, end: i64) {
        self.insert_absence(Absence {
            start,
            end,
            cause: AbsenceCause::Unannounced,
        });
        // Uses already planned in that time do not happen either.
        self.pending
            .retain(|e| !(e.kind.is_personal() && (start..end).contains(&e.start)));
    }

    /// The person gets up `secs` later on Saturdays and Sundays.
    pub(crate) fn lie_in_at_weekends(&mut self, secs: i64) {
        self.habits.weekend_lie_in = secs;
    }

    /// The person's health declines from `start` (see [`Decline`]).
    pub(crate) fn decline(&mut self, decline: Decline) {
        self.decline = Some(decline);
    }

    /// The absences planned so far (trips, days out, scenarios), by start.
    pub(crate) fn absences(&self) -> &[Absence] {
        &self.absences
    }

    /// What the household did over the days planned so far.
    pub(crate) fn tally(&self) -> Tally {
        self.tally
    }

    fn insert_absence(&mut self, a: Absence) {
        let i = self.absences.partition_point(|b| b.start <= a.start);
        self.absences.insert(i, a);
    }

    /// The person collapses at `at`: their own water use stops there, even
    /// mid-use; flows that are not theirs (a burst pipe) go on.
    pub(crate) fn collapse(&mut self, at: i64) {
        self.collapsed_at = Some(self.collapsed_at.map_or(at, |c| c.min(at)));
    }

    /// Adds a flow that is not part of the daily routine (a scenario).
    pub(crate) fn add_flow(&mut self, ev: WaterEvent) {
        let i = self.pending.partition_point(|p| p.start <= ev.start);
        self.pending.insert(i, ev);
    }

    /// Hands every use starting at or before `t` to `sink`, in start order,
    /// planning days as needed.
    pub(crate) fn uses_until(&mut self, t: i64, mut sink: impl FnMut(WaterEvent)) {
        // A day's uses all start after its midnight, so once the day holding
        // `t` is planned every use starting by `t` is known.
        while self.next_day <= t {
            self.plan_next_day();
        }
        while let Some(ev) = self.pending.front().copied() {
            if ev.start > t {
                break;
            }
            self.pending.pop_front();
            if let Some(ev) = self.after_collapse(ev) {
                sink(ev);
            }
        }
    }

    fn plan_next_day(&mut self) {
        let day = self.next_day;
        self.scratch.clear();
        let vigour = self.decline.map_or(Vigour::FULL, |d| d.vigour(day));
        let outline = plan_day(&self.habits, &mut self.rng, day, vigour, &mut self.scratch);
        self.next_day += DAY;

        // Trips and whole days out start from home: not while away already.
        let rng = &mut self.rng;
        let leave = outline.wake + rng.random_range(HOUR..3 * HOUR);
        if self.away_until < leave {
            if rng.random_bool(self.habits.trip_chance) {
                let nights = rng.random_range(2..=9);
                let back = day + nights * DAY + rng.random_range(11 * HOUR..19 * HOUR);
                self.leave_home(leave, back, AbsenceCause::Trip);
            } else if rng.random_bool(self.habits.day_out_chance) {
                let back = day + rng.random_range(17 * HOUR + 30 * MINUTE..21 * HOUR);
                self.leave_home(leave, back.max(leave + 6 * HOUR), AbsenceCause::DayOut);
            }
        }
        // Today's part of any absence (a trip may have started days ago).
        for a in &self.absences {
            if a.end > day && a.start < day + 2 * DAY {
                remove_between(&mut self.scratch, 0, a.start, a.end);
            }
        }

        let home_all_day = self.away_until <= outline.wake;
        self.tally.days += 1;
        self.tally.flushes += self.scratch.iter().filter(|e| e.kind == Use::Flush).count() as u64;
        self.tally.outings += u64::from(outline.outing.is_some() && home_all_day);
        self.tally.visitor_days += u64::from(outline.visitors && home_all_day);

        self.pending.extend(self.scratch.drain(..));
        self.pending.make_contiguous().sort_by_key(|e| e.start);
    }

    fn leave_home(&mut self, start: i64, end: i64, cause: AbsenceCause) {
        self.away_until = end;
        self.insert_absence(Absence { start, end, cause });
    }

    /// What is left of a use once a collapse is taken into account.
    fn after_collapse(&self, mut ev: WaterEvent) -> Option<WaterEvent> {
        if ev.kind.is_personal()
            && self.absences.iter().any(|a| {
                a.cause == AbsenceCause::Unannounced && (a.start..a.end).contains(&ev.start)
            })
        {
            return None;
        }
        match self.collapsed_at {
            Some(at) if ev.kind.is_personal() => {
                if ev.start >= at {
                    return None;
                }
                ev.end = ev.end.min(at);
                Some(ev)
            }
            _ => Some(ev),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::Use;

    fn uses(h: &mut Household, until: i64) -> Vec<WaterEvent> {
        let mut out = Vec::new();
        h.uses_until(until, |e| out.push(e));
        out
    }

    #[test]
    fn uses_come_out_in_start_order_whatever_the_step() {
        let mut a = Household::new(3, 0);
        let mut b = Household::new(3, 0);
        let all = uses(&mut a, 5 * DAY);
        let mut stepped = Vec::new();
        for t in (0..=5 * DAY).step_by(900) {
            stepped.extend(uses(&mut b, t));
        }
        assert_eq!(all, stepped);
        assert!(all.windows(2).all(|w| w[0].start <= w[1].start));
    }

    #[test]
    fn a_collapse_cuts_personal_uses_but_not_a_burst_pipe() {
        let mut h = Household::new(3, 0);
        h.collapse(DAY + 9 * 3600);
        h.add_flow(WaterEvent::open_ended(DAY + 10 * 3600, 40.0, Use::Burst));
        let all = uses(&mut h, 3 * DAY);
        assert!(
            all.iter()
                .filter(|e| e.kind.is_personal())
                .all(|e| e.end <= DAY + 9 * 3600)
        );
        assert!(all.iter().any(|e| e.kind == Use::Burst));
    }
}
