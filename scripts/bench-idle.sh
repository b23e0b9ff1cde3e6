#!/usr/bin/env bash
# The daemon's CPU while idle: a private Mosquitto and the daemon (release
# build, SQLite, the embedded rules: no rules file), first with no load, then
# after a burst of `meter-sim load`. Prints the share of a core it used in
# each 5-second window. Usage: scripts/bench-idle.sh [METERS] [RATE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
meters=${1:-10000}
rate=${2:-10000}
seconds=${3:-10}
source scripts/bench-common.sh

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$daemon_pid/stat"; }
window() { # share of a core over the next 5 s
  local before after
  before=$(cpu); sleep 5; after=$(cpu)
  echo $(( (after - before) * 100 / (5 * ticks) ))
}
echo "idle, before any load: $(window) % of a core"
"$bin/meter-sim" load --broker "mqtt://127.0.0.1:$mqtt" --meters "$meters" --rate "$rate" --duration "${seconds}s" >/dev/null
for i in 1 2 3 4 5 6; do
  echo "$((i * 5)) s after the burst: $(window) % of a core"
done
