#!/usr/bin/env bash
# The security overhead figures of issue 3 (bench/security/RESULTS.md): contact encryption on
# customer upserts, data scoping on metric queries, and the per-request caller resolution on
# GET /api/v1/metrics. Prints the machine, then each bench's tables. Optimised build
# (`cargo bench`); every comparison inside a bench is measured interleaved.
# Sizes and repetitions can be changed with the benches' environment variables
# (ESCUCHA_BENCH_CUSTOMERS, ESCUCHA_BENCH_ROWS, ESCUCHA_BENCH_RUNS, ESCUCHA_BENCH_REQUESTS).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rustc: $(rustc --version)"
cargo bench -q -p escucha-store --bench contact
cargo bench -q -p escucha-analytics --bench scope
cargo bench -q -p escucha-server --bench scope
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
