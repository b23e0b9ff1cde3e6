//! What an engine holds per meter, and how long restoring one takes: a
//! stored state (JSON, as the daemon keeps it) restored into 10,000 meters,
//! the heap counted by a counting allocator.
//!
//! ```sh
//! cargo run --release -p waterwatch-rules --example engine_memory -- STATE.json
//! ```
//!
//! `WW_BENCH_DUMP_STATE=median` on the detection benchmark prints a state
//! to use (see docs/benchmarks.md).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use waterwatch_rules::{Engine, MeterState, RuleSet};

/// The system allocator, counting the bytes live.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        LIVE.fetch_add(size as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const METERS: usize = 10_000;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: engine_memory STATE.json");
        std::process::exit(2);
    };
    let json = match std::fs::read_to_string(&path) {
        Ok(json) => json,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(1);
        }
    };
    let mut engine = Engine::new(RuleSet::default_rules());
    let before = LIVE.load(Ordering::Relaxed);
    let started = Instant::now();
    for i in 0..METERS {
        let state: MeterState = match serde_json::from_str(&json) {
            Ok(state) => state,
            Err(e) => {
                eprintln!("{path} is not a stored engine state: {e}");
                std::process::exit(1);
            }
        };
        engine.restore_meter(format!("m{i:06}"), state);
    }
    let elapsed = started.elapsed();
    engine.shrink_to_fit();
    let held = LIVE.load(Ordering::Relaxed) - before;
    println!(
        "{} B per meter in the engine; {:.1} µs to parse and restore each ({} B of JSON)",
        held / METERS as isize,
        elapsed.as_secs_f64() * 1e6 / METERS as f64,
        json.trim().len()
    );
}
