#!/usr/bin/env bash
# Clean release build time and binary size, in a throw-away target dir (dependencies are read
# from the local cargo registry cache; nothing else is reused). Prints both figures.
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(mktemp -d)
start=$(date +%s)
CARGO_TARGET_DIR="$target" cargo build --release --locked -q -p escucha
end=$(date +%s)
size=$(stat -c %s "$target/release/escucha")
echo "clean cargo build --release: $((end - start)) s on $(nproc) cores"
echo "binary size: $((size / 1024 / 1024)) MiB ($size bytes)"
rm -rf "$target"
