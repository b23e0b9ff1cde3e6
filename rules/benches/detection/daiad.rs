//! The real DAIAD households (Spain, 2016–2017, hourly): nobody had an
//! emergency, so every inactivity alert is a false alarm, unless it falls in
//! a multi-day absence (a quiet stretch of two days or more), where a visit
//! is warranted anyway. Read from the shared data directory, never copied.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Weekday};
use waterwatch_rules::{Engine, Kind, Reading, RuleSet, Transition};

use crate::score::{DAY_MS, MONTH_MS};
use crate::{Fired, check_in, contenders};

const ABSENCE_MS: i64 = 2 * DAY_MS;

/// The last Sunday of `month` in `year`.
fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let mut d = next.pred_opt()?;
    while d.weekday() != Weekday::Sun {
        d = d.pred_opt()?;
    }
    Some(d)
}

/// Europe/Madrid: +02:00 from the last Sunday of March to the last Sunday
/// of October (switching at 02:00/03:00 local; close enough for hourly data).
fn madrid(naive: NaiveDateTime) -> Option<DateTime<FixedOffset>> {
    let year = naive.year();
    let summer_from = last_sunday(year, 3)?.and_hms_opt(2, 0, 0)?;
    let summer_until = last_sunday(year, 10)?.and_hms_opt(3, 0, 0)?;
    let hours = if naive >= summer_from && naive < summer_until {
        2
    } else {
        1
    };
    FixedOffset::east_opt(hours * 3600)?
        .from_local_datetime(&naive)
        .single()
}

/// The CSV's text: the file itself, or the CSV inside a `.zip` (the
/// trial's own archive, read in place through `unzip -p`).
fn text_of(path: &str) -> Option<String> {
    if path.ends_with(".zip") {
        let out = std::process::Command::new("unzip")
            .args(["-p", path, "*.csv", "-x", "__MACOSX/*"])
            .output()
            .ok()?;
        return out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned());
    }
    std::fs::read_to_string(path).ok()
}

fn load(path: &str) -> Option<Vec<Reading>> {
    let text = text_of(path)?;
    let mut lines = text.lines();
    // `user_key;household;datetime;meter_reading_l;diff_l` (the extract) or
    // `user.key;datetime;meter.reading;diff` (the trial's own file).
    let columns = lines.next()?.split(';').count();
    let (time, total) = if columns >= 5 { (2, 3) } else { (1, 2) };
    let mut readings = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(';').collect();
        if f.len() <= total {
            continue;
        }
        let Ok(naive) = NaiveDateTime::parse_from_str(f[time].trim(), "%d/%m/%Y %H:%M:%S") else {
            continue;
        };
        let (Some(ts), Ok(total_l)) = (madrid(naive), f[total].trim().parse::<f64>()) else {
            continue;
        };
        readings.push(Reading {
            meter_id: f[0].chars().take(8).collect(),
            ts,
            total_l,
            flow_lpm: None,
            battery_pct: None,
            rssi_dbm: None,
            status: vec![],
        });
    }
    readings.sort_by(|a, b| (a.ts, &a.meter_id).cmp(&(b.ts, &b.meter_id)));
    Some(readings)
}

/// Per meter: observed span and multi-day no-use stretches `[from, to)`.
struct Meter {
    first: i64,
    last: i64,
    absences: Vec<(i64, i64)>,
}

fn meters(readings: &[Reading]) -> BTreeMap<String, Meter> {
    let mut out: BTreeMap<String, Meter> = BTreeMap::new();
    // (previous total, end of the last interval with use)
    let mut track: BTreeMap<String, (f64, i64)> = BTreeMap::new();
    for r in readings {
        let t = r.ts.timestamp_millis();
        let m = out.entry(r.meter_id.clone()).or_insert(Meter {
            first: t,
            last: t,
            absences: Vec::new(),
        });
        m.last = t;
        let entry = track.entry(r.meter_id.clone()).or_insert((r.total_l, t));
        let used = r.total_l - entry.0 >= 1.0 && r.total_l - entry.0 < 5000.0;
        if r.total_l > entry.0 || r.total_l < entry.0 - 50.0 {
            entry.0 = r.total_l;
        }
        if used {
            if t - entry.1 >= ABSENCE_MS {
                m.absences.push((entry.1, t));
            }
            entry.1 = t;
        }
    }
    out
}

/// Scores every contender on the households in `path`, under the heading
/// `title` (e.g. "DAIAD, Spain, hourly").
pub fn run(path: &str, title: &str) {
    let Some(readings) = load(path) else {
        println!("## Real households ({title})\n\nSkipped: {path} is not there.\n");
        return;
    };
    let meters = meters(&readings);
    let months: f64 = meters
        .values()
        .map(|m| {
            let away: i64 = m.absences.iter().map(|(a, b)| b - a).sum();
            (m.last - m.first - away).max(0) as f64 / MONTH_MS
        })
        .sum();
    let absences: usize = meters.values().map(|m| m.absences.len()).sum();
    println!(
        "## Real households ({title})\n\n{} readings, {} meters, {months:.1} household-months outside {absences} multi-day absences (≥ 2 days without use).\n",
        readings.len(),
        meters.len()
    );
    println!(
        "| detector | false inactivity alerts | per household-month | worst household | alerts inside absences (not counted) | continuous_flow / hh-month | spike / hh-month | usage_drop / hh-month | max stored state |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for contender in contenders() {
        let mut engine = Engine::new(contender.rules.clone());
        let fired = crate::replay(
            &mut engine,
            &readings,
            Duration::from_secs(60),
            contender.no_flow,
        );
        let size = max_state(&engine);
        print_row(&contender.name, &fired, &meters, months, size);
    }
    // Two stages: nobody here collapsed, so a check-in is answered with
    // probability p (the same draw for the same question in every run).
    for p in check_in::answer_shares() {
        let draw = |f: &Fired| {
            let mut h = DefaultHasher::new();
            (f.meter_id.as_str(), f.at_ms).hash(&mut h);
            (h.finish() >> 11) as f64 / (1u64 << 53) as f64
        };
        let answer = |f: &Fired| check_in::answer(f, false, p, draw(f));
        let mut engine = Engine::new(check_in::rules());
        let fired = crate::replay_answering(
            &mut engine,
            &readings,
            Duration::from_secs(60),
            false,
            answer,
        );
        let size = max_state(&engine);
        let (asked, family, sent) = check_in::stages(fired, |f| answer(f).is_some());
        for (name, fired) in check_in::names(p).iter().zip([asked, family, sent]) {
            print_row(name, &fired, &meters, months, size);
        }
    }
    println!();
    daily_uploads(&readings, &meters, months);
}

/// The shipped rules with every meter's hourly readings uploaded once a
/// day, at 02:00 local after the day they cover (the NB-IoT meters of
/// DESIGN.md's programmes): how many inactivity alerts were over before
/// their upload arrived. The daemon keeps those as cases closed on arrival
/// and pages nobody ("seen late", README).
fn daily_uploads(readings: &[Reading], meters: &BTreeMap<String, Meter>, months: f64) {
    let upload_of = |r: &Reading| {
        let next =
            r.ts.date_naive()
                .succ_opt()
                .and_then(|d| d.and_hms_opt(2, 0, 0));
        next.and_then(|n| r.ts.offset().from_local_datetime(&n).single())
    };
    let mut order: Vec<(DateTime<FixedOffset>, &Reading)> = readings
        .iter()
        .filter_map(|r| Some((upload_of(r)?, r)))
        .collect();
    order.sort_by(|a, b| (a.0, &a.1.meter_id, a.1.ts).cmp(&(b.0, &b.1.meter_id, b.1.ts)));
    let mut engine = Engine::new(RuleSet::default_rules());
    let (mut alerts, mut late) = (0, 0);
    let absent = |meter: &str, t: i64| {
        meters
            .get(meter)
            .is_some_and(|m| m.absences.iter().any(|&(a, b)| t >= a && t <= b))
    };
    for upload in order.chunk_by(|a, b| a.0 == b.0 && a.1.meter_id == b.1.meter_id) {
        // (rule, event time) of the inactivity alerts this upload fired.
        let mut fired: Vec<(String, i64)> = Vec::new();
        for &(now, r) in upload {
            for e in engine.observe(r, now).events {
                if e.kind != Kind::Inactivity {
                    continue;
                }
                let at = r.ts.timestamp_millis();
                match e.event {
                    Transition::Fired if !absent(&e.meter_id, at) => {
                        alerts += 1;
                        fired.push((e.rule, at));
                    }
                    Transition::Resolved => {
                        if let Some(i) = fired.iter().position(|(rule, _)| *rule == e.rule) {
                            fired.remove(i);
                            late += 1;
                        }
                    }
                    Transition::Fired => {}
                }
            }
        }
    }
    let per_month = |n: usize| n as f64 / months.max(1e-9);
    println!(
        "Uploaded once a day at 02:00 (shipped rules): {alerts} inactivity alerts outside the absences ({:.2} per household-month); {late} of them were over before their upload arrived (water had run since), kept and paged to nobody: **{:.2} paged per household-month**.\n",
        per_month(alerts),
        per_month(alerts - late)
    );
}

/// The largest stored state of any meter, in bytes.
fn max_state(engine: &Engine) -> usize {
    engine
        .meters()
        .filter_map(|m| engine.meter_state(m))
        .map(|s| serde_json::to_vec(&s).map_or(0, |v| v.len()))
        .max()
        .unwrap_or(0)
}

/// One detector's row: its false alarms outside the multi-day absences.
fn print_row(
    name: &str,
    fired: &[Fired],
    meters: &BTreeMap<String, Meter>,
    months: f64,
    size: usize,
) {
    let absent = |meter: &str, t: i64| {
        meters
            .get(meter)
            .is_some_and(|m| m.absences.iter().any(|&(a, b)| t >= a && t <= b))
    };
    let mut false_alarms: BTreeMap<&str, usize> = BTreeMap::new();
    let mut in_absence = 0;
    let debug = std::env::var("WW_BENCH_DEBUG").is_ok_and(|d| d == name);
    for f in fired.iter().filter(|f| f.kind == Kind::Inactivity) {
        if absent(&f.meter_id, f.at_ms) {
            in_absence += 1;
        } else {
            *false_alarms.entry(f.meter_id.as_str()).or_default() += 1;
            if debug {
                eprintln!(
                    "DAIAD false alarm: {} {}: {}",
                    f.meter_id, f.at_ms, f.summary
                );
            }
        }
    }
    let total: usize = false_alarms.values().sum();
    // Nobody checked these homes for leaks: every such alert is counted.
    let other = |kind: Kind| {
        let n = fired.iter().filter(|f| f.kind == kind).count();
        format!("{:.3} ({n})", n as f64 / months.max(1e-9))
    };
    if std::env::var("WW_BENCH_DEBUG_OTHER").is_ok_and(|d| d == name) {
        for f in fired
            .iter()
            .filter(|f| matches!(f.kind, Kind::ContinuousFlow | Kind::Spike | Kind::UsageDrop))
        {
            eprintln!("DAIAD {} {}: {}", f.meter_id, f.at_ms, f.summary);
        }
    }
    let worst = false_alarms
        .iter()
        .max_by_key(|(_, n)| **n)
        .map_or("—".to_owned(), |(m, n)| {
            let span = meters
                .get(*m)
                .map_or(1.0, |x| (x.last - x.first) as f64 / MONTH_MS);
            format!("{n} in {span:.1} months")
        });
    println!(
        "| {name} | {total} | {:.2} | {worst} | {in_absence} | {} | {} | {} | {size} B |",
        total as f64 / months.max(1e-9),
        other(Kind::ContinuousFlow),
        other(Kind::Spike),
        other(Kind::UsageDrop),
    );
}
