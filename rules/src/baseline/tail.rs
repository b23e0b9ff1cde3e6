//! How long a stretch is "usual": the length exceeded on a given share of
//! days, read from one neighbourhood's histogram where the history shows
//! it, else extrapolated from its longest few stretches.

use super::{BUCKETS, MINUTE_MS, SHORTEST_MS, UNIT, bucket_upper_ms};

/// The stretch length exceeded on `rare` of days, from one neighbourhood's
/// counts (`total` stretches over `days` days): the empirical answer where
/// the history shows it, else extrapolated from the top stretches.
pub(super) fn tail_quantile(
    tail: &[u32; BUCKETS],
    total: f64,
    days: f64,
    rare: f64,
    step_ms: i64,
) -> i64 {
    let allowed = rare * days;
    let mut above = 0.0;
    let mut empirical = SHORTEST_MS;
    for k in (0..BUCKETS).rev() {
        above += f64::from(tail[k]) / f64::from(UNIT);
        if above > allowed {
            empirical = bucket_upper_ms(k);
            break;
        }
    }
    // The top few stretches: their count, mean length and the lowest edge.
    // Design: the longest stretches three times as long as the rest or
    // more, at least one whole stretch of them, are the tail on their own. An
    // exponential fitted across the gap (a habit of 4 h outings fading
    // among hourly use) has a scale of hours and put the limit at 15 h,
    // far beyond any stretch the household ever had.
    let top = TOP_STRETCHES.min(total);
    let (mut left, mut sum, mut floor) = (top, 0.0, SHORTEST_MS as f64);
    let mut lowest = BUCKETS;
    for k in (0..BUCKETS).rev() {
        if left <= 0.0 {
            break;
        }
        let w = (f64::from(tail[k]) / f64::from(UNIT)).min(left);
        if w <= 0.0 {
            continue;
        }
        if top - left >= 1.0 && lowest - k >= GAP_BUCKETS {
            break;
        }
        lowest = k;
        let lower = if k == 0 {
            SHORTEST_MS
        } else {
            bucket_upper_ms(k - 1)
        } as f64;
        let mid = (lower * bucket_upper_ms(k) as f64).sqrt();
        sum += w * mid;
        left -= w;
        floor = lower;
    }
    // Stretches are seen in whole reading intervals: a tail cannot be
    // resolved finer than half of one.
    let taken = top - left.max(0.0);
    let scale = (sum / taken - floor).max(MIN_TAIL_SCALE_MS.max(step_ms / 2) as f64);
    let rate = taken / days.max(1.0);
    let extrapolated = if rate > rare {
        floor + scale * (rate / rare).ln()
    } else {
        floor
    };
    empirical.max(extrapolated as i64)
}

/// How many of the longest stretches the tail is fitted to.
const TOP_STRETCHES: f64 = 5.0;
/// Buckets apart (8 at five per doubling: three times as long) for a gap
/// that splits the top stretches. Narrower gaps are common in a
/// household's own spread of stretches; splitting at a doubling cost six
/// more false alarms at home on the simulated hourly meters.
const GAP_BUCKETS: usize = 8;
/// The tail's scale is at least this (a few equal stretches say little).
const MIN_TAIL_SCALE_MS: i64 = 15 * MINUTE_MS;
