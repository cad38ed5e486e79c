#!/usr/bin/env bash
# Benchmarks with their goals. Each figure is measured against a baseline in
# the same run (raw `sh -c true`, reading the same files), because absolute
# times on a shared machine mean little.
set -euo pipefail
export CGO_ENABLED=0
go=${GO:-go}

section() { printf '\n== %s\n' "$*"; }

section "executor: launch overhead vs raw sh -c true (goal <= 1.2x), RSS while a script writes 1 GB (goal < 4 MB), kill of a 3-level tree (goal < 100 ms)"
$go test -run '^$' -bench 'LaunchOverhead|FloodRSS|KillTree' -benchtime 1x ./executor/ | grep -E '^Benchmark|^ok|FAIL'

section "inventory: 5,000 receipts + 1,000 apps vs reading the same files (goal < 200 ms and <= 2x)"
$go test -run '^$' -bench 'Collect5000x1000' -benchtime 5x ./inventory/ | grep -E '^Benchmark|^ok|FAIL'

section "inventory: unchanged collection of a warm Collector vs a full one on 5,000 receipts + 1,000 apps (goal: x-full, B-x-full well below 1)"
$go test -run '^$' -bench 'CollectorUnchanged5000x1000' -benchtime 10x ./inventory/ | grep -E '^Benchmark|^ok|FAIL'

section "protocol: verify+decrypt one assignment, sign one check-in; schedule: one Due decision"
$go test -run '^$' -bench . -benchtime 200x ./protocol/ ./protocol/schedule/ | grep -E '^Benchmark|^ok|FAIL'

section "server store: one durable result insert"
$go test -run '^$' -bench '^BenchmarkPutResult$' -benchtime 500x ./server/store/sqlite/ | grep -E '^Benchmark|^ok|FAIL'

section "server store: concurrent check-in writes, group-commit writer vs a transaction per write on a pool (goal: writer >= 3x faster, 0 errors/op, 1 write connection)"
$go test -run '^$' -bench ParallelWrites -benchtime 2000x ./server/store/sqlite/ | grep -E '^Benchmark|^ok|FAIL'

section "server: one check-in of a device with 1,000 other devices' configurations in the tenant vs none (goal: ~1x, the work follows the device)"
$go test -run '^$' -bench CheckinTenantSize -benchtime 200x ./server/ | grep -E '^Benchmark|^ok|FAIL'

section "server: check-in + result upload from 16 agents per processor through the device handler (compare two commits; goal: 0 500s/op)"
$go test -run '^$' -bench ParallelCheckins -benchtime 1000x ./server/ | grep -E '^Benchmark|^ok|FAIL'

section "server: unchanged vs full check-in with 0, 1, 10, 100 assignments, as ratios to a full one with none (goal: unchanged ~1x time and bytes whatever the count)"
$go test -run '^$' -bench CheckinUnchanged -benchtime 50x ./server/ | grep -E '^Benchmark|^ok|FAIL'

section "server at fleet scale: 2,000 agents, one script to all, mostly quiet check-ins, maximum rate (docs/scaling.md)"
./scripts/bench-server.sh
