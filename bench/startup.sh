#!/usr/bin/env bash
# Time from `escucha serve --demo` start to a healthy server with the demo loaded, on a fresh
# data folder (release build). Prints the figure.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/escucha-target}"
cargo build --release -q
bin="$CARGO_TARGET_DIR/release/escucha"
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start=$(date +%s.%N)
"$bin" serve --demo --addr "127.0.0.1:$port" --data "$data" >/dev/null 2>"$data/log" &
pid=$!
until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
  kill -0 "$pid" 2>/dev/null || { cat "$data/log"; exit 1; }
  sleep 0.05
done
end=$(date +%s.%N)
echo "serve --demo: healthy with the demo loaded after $(echo "$end - $start" | bc) s"
grep -i "demo" "$data/log" | head -3
kill "$pid"; wait "$pid" 2>/dev/null || true
du -sh "$data" | sed 's/^/data folder size: /'
rm -rf "$data"
