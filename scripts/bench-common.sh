# Shared by the benchmark scripts: a private Mosquitto and the daemon
# (release build, SQLite) on free loopback ports, stopped on exit. Sets
# $dir, $mqtt, $http, $bin. Extra daemon config may be given in $EXTRA_CONFIG.
# Sourced with BENCH_NO_START=1 it only defines the steps: `bench_setup`
# (directory, ports, config, broker), `bench_start_daemon` (until /readyz
# answers or ten seconds pass) and `bench_stop_daemon`.
bin=${BIN:-target/release}
[ -x "$bin/waterwatch" ] && [ -x "$bin/meter-sim" ] || cargo build --release -p waterwatch -p meter-sim

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

bench_setup() {
  dir=$(mktemp -d)
  mqtt=$(free_port)
  http=$(free_port)
  cat > "$dir/mosquitto.conf" <<CONF
listener $mqtt 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_inflight_messages 1000
CONF
  cat > "$dir/ww.toml" <<CONF
[broker]
enabled = false
[mqtt]
url = "mqtt://127.0.0.1:$mqtt"
client_id = "waterwatch-bench"
[store]
url = "sqlite://$dir/ww.db"
[http]
listen = "127.0.0.1:$http"
[ingest]
batch_size = 2000
${EXTRA_CONFIG:-}
CONF
  mosquitto -c "$dir/mosquitto.conf" >/dev/null 2>&1 &
  broker_pid=$!
  daemon_pid=""
  trap 'kill $daemon_pid $broker_pid 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
}

bench_start_daemon() {
  RUST_LOG=warn "$bin/waterwatch" run --config "$dir/ww.toml" 2>> "$dir/daemon.log" &
  daemon_pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$http/readyz" >/dev/null && break; sleep 0.1; done
}

bench_stop_daemon() {
  kill "$daemon_pid" 2>/dev/null || true
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=""
}

if [ -z "${BENCH_NO_START:-}" ]; then
  bench_setup
  bench_start_daemon
fi
