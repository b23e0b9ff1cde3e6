#!/usr/bin/env bash
# Dashboard and API response times with many households: the daemon (release,
# SQLite) first takes `meter-sim load` from METERS meters (each its own
# household, so each gets engine state), then every page is fetched REQUESTS
# times; prints the median and 95th percentile time and the size of each.
# Usage: scripts/bench-dashboard.sh [METERS] [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
meters=${1:-1000}
requests=${2:-30}
source scripts/bench-common.sh

"$bin/meter-sim" load --broker "mqtt://127.0.0.1:$mqtt" --meters "$meters" --rate "$meters" --duration 20s >/dev/null
sleep 3
household=$(curl -s "http://127.0.0.1:$http/api/v1/households" | python3 -c 'import json,sys; print(json.load(sys.stdin)["households"][0]["household"]["id"])')
echo "households: $(curl -s "http://127.0.0.1:$http/api/v1/households" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["households"]))')"
for path in / /cases /meters /rules "/households/$household" /api/v1/households /api/v1/meters "/api/v1/households/$household/usage"; do
  for _ in $(seq 1 "$requests"); do
    curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "http://127.0.0.1:$http$path"
  done | python3 -c '
import sys, statistics
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
times = sorted(t for t, _ in rows)
p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
print(f"{sys.argv[1]:<40} median {statistics.median(times)*1000:7.1f} ms  p95 {p95*1000:7.1f} ms  {rows[-1][1]/1024:6.1f} KiB")
' "$path"
done
