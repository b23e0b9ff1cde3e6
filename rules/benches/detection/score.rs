//! Small statistics and table formatting for the benchmark.

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;
pub const MONTH_MS: f64 = 30.44 * DAY_MS as f64;

/// The `q` quantile (nearest rank) of `values`, `None` when empty. Missing
/// detections are `i64::MAX` and sort last.
pub fn quantile(values: &[i64], q: f64) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}

/// `5 h 10 min`, `-40 min`, `30 s` under a minute, `not reached` for a
/// missing value.
pub fn hm(ms: Option<i64>) -> String {
    match ms {
        None => "—".into(),
        Some(i64::MAX) => "not reached".into(),
        Some(ms) if ms != 0 && ms.abs() < MINUTE_MS => format!("{} s", ms / 1000),
        Some(ms) => {
            let sign = if ms < 0 { "-" } else { "" };
            let m = ms.abs() / MINUTE_MS;
            match (m / 60, m % 60) {
                (0, m) => format!("{sign}{m} min"),
                (h, 0) => format!("{sign}{h} h"),
                (h, m) => format!("{sign}{h} h {m} min"),
            }
        }
    }
}

/// `93 % (42/45)`.
pub fn pct(hit: usize, of: usize) -> String {
    if of == 0 {
        return "—".into();
    }
    format!("{:.0} % ({hit}/{of})", 100.0 * hit as f64 / of as f64)
}
