//! Datasets on disk: `readings.jsonl` (native single-reading JSON lines,
//! sorted by `ts` across all meters — the daemon's replay input) and
//! `truth.json` (what the scenarios did, for scoring detections).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::clock::DAY;
use crate::delivery::{Delivery, DeliveryFault};
use crate::fleet::Fleet;
use crate::scenario::TruthEvent;

/// File name of the readings in a dataset directory.
pub const READINGS_FILE: &str = "readings.jsonl";
/// File name of the ground truth in a dataset directory.
pub const TRUTH_FILE: &str = "truth.json";

/// The contents of `truth.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TruthFile {
    pub seed: u64,
    pub households: usize,
    /// Readings cover `[start, end)`.
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    /// Sampling interval, seconds.
    pub interval_s: u64,
    /// Ground truth by start time: the scenarios, and the households' own
    /// trips and days out (`kind` `absence`, `cause` `trip` / `day_out`).
    pub events: Vec<TruthEvent>,
    /// Delivery faults applied to `readings.jsonl` (e.g. `drop:0.01`); the
    /// readings file then misses, repeats or misorders some lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delivery_faults: Vec<String>,
}

/// What [`write_dataset`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetSummary {
    pub readings: u64,
    pub readings_path: PathBuf,
    pub truth_path: PathBuf,
}

/// A dataset that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes every reading of `fleet` before `end` (from its current position)
/// to `dir/readings.jsonl`, and its ground truth to `dir/truth.json`,
/// creating `dir` if needed.
pub fn write_dataset(
    fleet: &mut Fleet,
    end: DateTime<FixedOffset>,
    dir: &Path,
) -> Result<DatasetSummary, DatasetError> {
    write_dataset_with_faults(fleet, end, dir, &[])
}

/// As [`write_dataset`], with delivery faults applied to the lines written
/// (in arrival order: a late reading is written where it would arrive). The
/// ground truth is unchanged; `readings` in the summary counts lines.
pub fn write_dataset_with_faults(
    fleet: &mut Fleet,
    end: DateTime<FixedOffset>,
    dir: &Path,
    faults: &[DeliveryFault],
) -> Result<DatasetSummary, DatasetError> {
    let mut delivery = Delivery::new(faults, fleet.seed());
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DatasetError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let readings_path = dir.join(READINGS_FILE);
    let truth_path = dir.join(TRUTH_FILE);

    let file = File::create(&readings_path).map_err(io(&readings_path))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut buf = Vec::with_capacity(1 << 16);
    let mut readings = 0u64;
    let last = end - chrono::Duration::seconds(1);
    // A day at a time keeps memory flat for any length.
    let mut until = fleet.next_reading_at();
    while until <= last {
        until = (until + chrono::Duration::seconds(DAY)).min(last);
        let taken = fleet.advance(until);
        let arrived = if delivery.is_faulty() {
            for r in taken {
                let ts = r.ts;
                delivery.send(r, ts);
            }
            delivery.arrived(until)
        } else {
            taken
        };
        for r in arrived {
            r.write_native_json(&mut buf);
            buf.push(b'\n');
            if buf.len() >= 1 << 16 {
                out.write_all(&buf).map_err(io(&readings_path))?;
                buf.clear();
            }
            readings += 1;
        }
        if until == last {
            break;
        }
    }
    for r in delivery.drain() {
        r.write_native_json(&mut buf);
        buf.push(b'\n');
        readings += 1;
    }
    out.write_all(&buf).map_err(io(&readings_path))?;
    out.flush().map_err(io(&readings_path))?;

    let truth = TruthFile {
        seed: fleet.seed(),
        households: fleet.households(),
        start: fleet.start(),
        end,
        interval_s: fleet.interval().as_secs(),
        events: fleet.truth(),
        delivery_faults: faults.iter().map(ToString::to_string).collect(),
    };
    let file = File::create(&truth_path).map_err(io(&truth_path))?;
    let mut out = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut out, &truth).map_err(|e| DatasetError::Io {
        path: truth_path.clone(),
        source: e.into(),
    })?;
    out.write_all(b"\n")
        .and_then(|()| out.flush())
        .map_err(io(&truth_path))?;

    Ok(DatasetSummary {
        readings,
        readings_path,
        truth_path,
    })
}
