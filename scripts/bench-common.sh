# Shared by the benchmark scripts: a private Mosquitto and the daemon
# (release build, SQLite) on free loopback ports, stopped on exit. Sets
# $dir, $mqtt, $http, $bin. Extra daemon config may be given in $EXTRA_CONFIG.
bin=${BIN:-target/release}
[ -x "$bin/waterwatch" ] && [ -x "$bin/meter-sim" ] || cargo build --release -p waterwatch -p meter-sim

dir=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
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
RUST_LOG=warn "$bin/waterwatch" run --config "$dir/ww.toml" 2> "$dir/daemon.log" &
daemon_pid=$!
trap 'kill $daemon_pid $broker_pid 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$http/readyz" >/dev/null && break; sleep 0.1; done

