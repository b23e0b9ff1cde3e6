#!/usr/bin/env bash
# Start-up time and memory with many households (DESIGN.md: 100 k households,
# start-up ≤ 3 s, memory ≤ 500 MiB). HOUSEHOLDS households are listed in the
# config (id, name, grid, one meter each, as a programme's registry would
# be); a first start registers them, then every meter is given a learned
# engine state (one of the detection benchmark's 60-day run, see STATE
# below) and the daemon (release, SQLite) is started again
# against a private Mosquitto. Prints the time until `/readyz` answers and
# the daemon's resident memory (peak and current) then, and after LOAD_SECONDS
# of readings from every meter at RATE messages/s.
# Usage: scripts/bench-startup.sh [HOUSEHOLDS] [RATE] [LOAD_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
households=${1:-100000}
rate=${2:-20000}
load_seconds=${3:-30}
BENCH_NO_START=1 source scripts/bench-common.sh
bench_setup

# A learned state, as the rules engine writes it: of median size (STATE=median,
# a typical household) or the largest (STATE=largest: five alerts firing).
which=${STATE:-median}
state=${STATE_JSON:-}
if [ -z "$state" ]; then
  state="$dir/state.json"
  WW_BENCH_ONLY=speed WW_BENCH_DUMP_STATE=$which cargo bench -q -p waterwatch-rules --bench detection 2>&1 >/dev/null |
    sed -n "s/^$which state: //p" > "$state"
fi
[ -s "$state" ] || { echo "no learned state in $state" >&2; exit 1; }

python3 - "$households" >> "$dir/ww.toml" <<'PY'
import sys
for n in range(1, int(sys.argv[1]) + 1):
    h = f"h{n:04d}"
    print(f'[[household]]\nid = "{h}"\nname = "Resident {n}"\ngrid = "grid-{n // 100}"\nmeters = ["{h}"]\n')
PY
echo "config: $(du -h "$dir/ww.toml" | cut -f1) with $households households"

# Time from the daemon's start until /readyz answers (processor loaded, HTTP
# up, broker connected).
start_timed() {
  local t0 t1
  t0=$(date +%s.%N)
  RUST_LOG=${RUST_LOG:-warn} "$bin/waterwatch" run --config "$dir/ww.toml" 2>> "$dir/daemon.log" &
  daemon_pid=$!
  for _ in $(seq 1 2400); do curl -sf "http://127.0.0.1:$http/readyz" >/dev/null && break; sleep 0.05; done
  t1=$(date +%s.%N)
  python3 -c "import sys; print(f'{sys.argv[1]}: ready in {float(sys.argv[3]) - float(sys.argv[2]):.2f} s')" "$1" "$t0" "$t1"
}
memory() {
  awk -v what="$1" '/^VmHWM/ {peak = $2} /^VmRSS/ {rss = $2} END {printf "%s: resident %.0f MiB, peak %.0f MiB\n", what, rss / 1024, peak / 1024}' "/proc/$daemon_pid/status"
}

start_timed "first start (registers the households)"
memory "after the first start"
bench_stop_daemon

# The state is moved to the present by whole hours (its times, hour
# numbers, and local day numbers to the nearest day), its newest reading
# within the last hour, as if the daemon had stopped a few minutes before:
# otherwise every meter would be months overdue and the first tick would
# raise 100,000 meter_offline alerts.
python3 - "$dir/ww.db" "$state" <<'PY'
import datetime, json, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
state = json.loads(open(sys.argv[2]).read())
now = int(time.time() * 1000)
HOUR_MS, DAY_MS = 3_600_000, 86_400_000

def times(v):
    if isinstance(v, dict):
        for x in v.values():
            yield from times(x)
    elif isinstance(v, list):
        for x in v:
            yield from times(x)
    elif isinstance(v, int) and v > 10**12:
        yield v

shift_ms = (now - max(times(state))) // HOUR_MS * HOUR_MS
shift_hours, shift_days = shift_ms // HOUR_MS, round(shift_ms / DAY_MS)

def moved(key, v):
    if isinstance(v, dict):
        return {k: moved(k, x) for k, x in v.items()}
    if isinstance(v, list):
        return [moved(key, x) for x in v]
    if isinstance(v, int) and v > 10**12:
        return v + shift_ms
    if key == "day" and isinstance(v, int):
        return v + shift_days
    if key == "from_hour" and isinstance(v, int):
        return v + shift_hours
    if isinstance(v, str) and v[:2] == "20" and "T" in v:
        t = datetime.datetime.fromisoformat(v) + datetime.timedelta(milliseconds=shift_ms)
        return t.isoformat()
    return v

state = json.dumps(moved(None, state), separators=(",", ":"))
db.execute(
    "UPDATE meters SET engine_state = ?, baseline_days = 58, offline = 0, "
    "last_seen_ms = ?, last_reading_ms = ?",
    (state, now, now),
)
db.commit()
n, size = db.execute("SELECT COUNT(*), SUM(LENGTH(engine_state)) FROM meters").fetchone()
print(f"seeded: {n} meters, {size / n:.0f} B of state each")
PY

start_timed "start with learned states"
memory "ready"
"$bin/meter-sim" load --broker "mqtt://127.0.0.1:$mqtt" --meters "$households" --rate "$rate" --duration "${load_seconds}s" >/dev/null
sleep 5
memory "after ${load_seconds} s of readings at $rate/s"
echo "work dir: $dir"
