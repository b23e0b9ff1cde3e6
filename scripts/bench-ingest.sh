#!/usr/bin/env bash
# Daemon ingest throughput: a private Mosquitto, the daemon (release build,
# SQLite) and `meter-sim load` on this machine, all on loopback. Prints how
# many readings the daemon stored per second while the load ran and until it
# had caught up. Usage: scripts/bench-ingest.sh [METERS] [RATE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
meters=${1:-10000}
rate=${2:-20000}
seconds=${3:-20}
source scripts/bench-common.sh

# Readings handled: stored for the first time, or recognised as already stored
# (load readings are stamped to the second, so a meter sending faster than
# once a second repeats its (meter, ts)).
stored() { curl -s "http://127.0.0.1:$http/metrics" | awk '/^waterwatch_readings_(ingested|duplicate)_total/ {n += $2} END {print n}'; }
t0=$(date +%s.%N); s0=$(stored)
"$bin/meter-sim" load --broker "mqtt://127.0.0.1:$mqtt" --meters "$meters" --rate "$rate" --duration "${seconds}s"
t1=$(date +%s.%N); s1=$(stored)
# Let the daemon catch up with what the broker queued.
prev=$(stored); t2=$(date +%s.%N); s2=$prev; quiet=0
while [ $quiet -lt 5 ]; do
  sleep 1; now=$(stored)
  if [ "$now" != "$prev" ]; then prev=$now; t2=$(date +%s.%N); s2=$now; quiet=0; else quiet=$((quiet + 1)); fi
done
echo "work dir: $dir"
python3 - "$t0" "$t1" "$t2" "$s0" "$s1" "$s2" <<'PY'
import sys
t0, t1, t2, s0, s1, s2 = map(float, sys.argv[1:])
print(f"during the load: {(s1 - s0) / (t1 - t0):,.0f} readings/s handled")
print(f"until caught up: {(s2 - s0) / (t2 - t0):,.0f} readings/s handled ({s2 - s0:,.0f} readings in {t2 - t0:.1f} s)")
PY
